//! Loading as a whole: layering, sources, errors, host-service modes.

use super::*;
use std::collections::HashMap;

fn load(env: &[(&str, &str)], flags: Flags) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::load_with(flags, move |k| map.get(k).cloned())
}

fn source(c: &Config, key: &str) -> String {
    c.settings
        .iter()
        .find(|s| s.key == key)
        .map(|s| s.source.clone())
        .unwrap_or_default()
}

#[test]
fn layers_in_priority_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, "data_dir = \"/from/file\"\nstate_dir = \"/s/file\"\n[operations]\nlimits = { training = 1 }\n").unwrap();
    let flags = Flags {
        config: Some(file),
        state_dir: Some("/s/flag".into()),
        ..Flags::default()
    };
    let c = load(&[("HOME", "/h"), ("KTRDR_DATA_DIR", "/from/env")], flags).unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/from/env"));
    assert_eq!(source(&c, "data_dir"), "env");
    assert_eq!(c.state_dir, PathBuf::from("/s/flag"));
    assert_eq!(source(&c, "state_dir"), "flag");
    assert_eq!(c.ops.limit_for("training"), 1);
    assert_eq!(source(&c, "operations.limits"), "file");
    assert_eq!(source(&c, "max_connections"), "default");
}

#[test]
fn defaults_follow_xdg() {
    let c = load(
        &[("HOME", "/h"), ("XDG_RUNTIME_DIR", "/run/user/7")],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(c.data_dir, PathBuf::from("/h/.local/share/ktrdr"));
    assert_eq!(c.socket, PathBuf::from("/run/user/7/ktrdr/ktrdrd.sock"));
}

#[test]
fn bad_env_value_names_the_variable() {
    let err = load(&[("KTRDR_MAX_CONNECTIONS", "lots")], Flags::default()).unwrap_err();
    assert!(err.to_string().contains("KTRDR_MAX_CONNECTIONS"), "{err}");
    let err = load(&[("KTRDR_OPS_LIMITS", "training")], Flags::default()).unwrap_err();
    assert!(err.to_string().contains("kind=N"), "{err}");
}

#[test]
fn cache_budget_from_env_file_or_default() {
    let c = load(&[], Flags::default()).unwrap();
    assert_eq!(c.data_cache_bytes, 512 * 1024 * 1024);
    assert_eq!(source(&c, "data.cache_bytes"), "default");
    let c = load(&[("KTRDR_DATA_CACHE_BYTES", "64MiB")], Flags::default()).unwrap();
    assert_eq!(c.data_cache_bytes, 64 << 20);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, "[data]\ncache_bytes = 1000\n").unwrap();
    let c = load(
        &[],
        Flags {
            config: Some(file),
            ..Flags::default()
        },
    )
    .unwrap();
    assert_eq!(
        (c.data_cache_bytes, source(&c, "data.cache_bytes").as_str()),
        (1000, "file")
    );
    let err = load(&[("KTRDR_DATA_CACHE_BYTES", "lots")], Flags::default()).unwrap_err();
    assert!(err.to_string().contains("KTRDR_DATA_CACHE_BYTES"), "{err}");
}

#[test]
fn ib_settings_and_host_service_mode() {
    let c = load(&[], Flags::default()).unwrap();
    assert_eq!(c.ib.address(), "127.0.0.1:4002");
    assert_eq!(c.ib.mode, ServiceMode::Local);
    let c = load(
        &[
            ("IB_HOST", "gw"),
            ("IB_PORT", "7497"),
            ("IB_CLIENT_ID", "42"),
            ("USE_IB_HOST_SERVICE", "true"),
            ("IB_HOST_SERVICE_URL", "/run/ib-host/ktrdrd.sock"),
        ],
        Flags::default(),
    )
    .unwrap();
    assert_eq!((c.ib.address(), c.ib.client_id), ("gw:7497".into(), 42));
    assert_eq!(
        c.ib.mode,
        ServiceMode::HostService {
            url: "unix:///run/ib-host/ktrdrd.sock".into()
        }
    );
    // The predecessor's HTTP host services are refused with what to do instead.
    let err = load(
        &[
            ("USE_IB_HOST_SERVICE", "true"),
            ("IB_HOST_SERVICE_URL", "http://host:5001"),
        ],
        Flags::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("ssh -NL"), "{err}");
    assert_eq!(source(&c, "ib.use_host_service"), "env");
    let err = load(&[("USE_IB_HOST_SERVICE", "1")], Flags::default()).unwrap_err();
    assert!(err.to_string().contains("IB_HOST_SERVICE_URL"), "{err}");
    let err = load(&[("KTRDR_IB_PACING_SCALE", "-1")], Flags::default()).unwrap_err();
    assert!(err.to_string().contains("pacing_scale"), "{err}");
    let c = load(&[], Flags::default()).unwrap();
    assert_eq!(
        (c.ib.flush_bars, c.ib.flush_after),
        (50_000, Duration::from_secs(1))
    );
    let err = load(&[("KTRDR_IB_FLUSH_BARS", "0")], Flags::default()).unwrap_err();
    assert!(err.to_string().contains("flush_bars"), "{err}");
}

#[test]
fn unknown_file_key_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(&file, "data_dri = \"/x\"\n").unwrap();
    let err = load(
        &[],
        Flags {
            config: Some(file),
            ..Flags::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("data_dri"), "{err}");
}

#[test]
fn training_and_backtest_modes_follow_the_same_rules() {
    let c = load(&[], Flags::default()).unwrap();
    assert_eq!(
        (&c.training.mode, &c.backtest.mode),
        (&ServiceMode::Local, &ServiceMode::Local)
    );
    let c = load(
        &[
            ("USE_BACKTEST_HOST_SERVICE", "yes"),
            ("BACKTEST_HOST_SERVICE_URL", "unix:/run/bt/ktrdrd.sock"),
            ("USE_TRAINING_HOST_SERVICE", "on"),
            ("TRAINING_HOST_SERVICE_URL", "/run/gpu/ktrdrd.sock"),
        ],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(
        c.backtest.mode.host_url(),
        Some("unix:///run/bt/ktrdrd.sock")
    );
    assert_eq!(
        c.training.mode.host_url(),
        Some("unix:///run/gpu/ktrdrd.sock")
    );
    assert_eq!(source(&c, "backtest.host_service_url"), "env");
    let err = load(&[("USE_BACKTEST_HOST_SERVICE", "true")], Flags::default()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("BACKTEST_HOST_SERVICE_URL") && msg.contains("USE_BACKTEST_HOST_SERVICE"),
        "{msg}"
    );
    // A URL left behind with the switch off is not checked: the service runs here.
    let c = load(
        &[("TRAINING_HOST_SERVICE_URL", "http://gpu:5002")],
        Flags::default(),
    )
    .unwrap();
    assert_eq!(c.training.mode, ServiceMode::Local);
    // From the file, the error names the key and the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    std::fs::write(
        &file,
        "[backtest]\nuse_host_service = true\nhost_service_url = \"relative.sock\"\n",
    )
    .unwrap();
    let err = load(&[], with_file(file)).unwrap_err().to_string();
    assert!(
        err.contains("backtest.host_service_url in") && err.contains("k.toml"),
        "{err}"
    );
}

fn with_file(path: PathBuf) -> Flags {
    Flags {
        config: Some(path),
        ..Flags::default()
    }
}

/// Loading, `ktrdrctl config` and the variables `status` shows all come from the declarations:
/// every declared setting is loaded once, in declaration order, and nothing else is.
#[test]
fn every_declared_setting_is_loaded_and_reported_in_order() {
    let c = load(&[], Flags::default()).unwrap();
    let declared: Vec<&str> = settings::ALL.iter().map(|d| d.meta().key).collect();
    let reported: Vec<&str> = c.settings.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(reported, declared);
    let vars: Vec<&str> = settings::ALL.iter().map(|d| d.meta().env).collect();
    let read: Vec<&str> = c.env_read.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(read, vars);
    let by_section: Vec<String> = Section::EVERY
        .iter()
        .flat_map(|s| s.env())
        .map(|v| v.name)
        .collect();
    let mut sorted = vars.clone();
    sorted.sort();
    let mut shown: Vec<&str> = by_section.iter().map(String::as_str).collect();
    shown.sort();
    assert_eq!(shown, sorted);
}

/// Every setting can be set from the environment and from the file, and the source says so.
#[test]
fn every_setting_is_settable_from_env_and_file() {
    let d = settings::Defaults {
        runtime_dir: None,
        data_home: "/d".into(),
        state_home: "/s".into(),
        cache_home: "/c".into(),
        cores: 3,
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    let mut top = String::new();
    let mut tables: BTreeMap<&str, String> = BTreeMap::new();
    let mut env = Vec::new();
    for decl in settings::ALL {
        let m = decl.meta();
        let value = decl.default_checked(&d).unwrap();
        env.push((m.env, value.clone()));
        // Every kind reads its own printed form from a TOML string except numbers, flags and
        // limits, which the file writes natively.
        let toml_value = match decl.kind() {
            "whole number" | "number" | "seconds" | "true/false" => value.clone(),
            k if k.starts_with("kind=N") => format!("{{ {} }}", value.replace(',', ", ")),
            k if k.starts_with("bytes") => value.clone(),
            _ => format!("{value:?}"),
        };
        match m.file_path() {
            (None, name) => top.push_str(&format!("{name} = {toml_value}\n")),
            (Some(t), name) => tables
                .entry(t)
                .or_default()
                .push_str(&format!("{name} = {toml_value}\n")),
        }
    }
    for (t, body) in &tables {
        top.push_str(&format!("[{t}]\n{body}"));
    }
    std::fs::write(&file, &top).unwrap();
    let c = load(&[], with_file(file)).unwrap_or_else(|e| panic!("{e}\n{top}"));
    assert!(c.settings.iter().all(|s| s.source == "file"), "{top}");
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = load(&env, Flags::default()).unwrap();
    assert!(c.settings.iter().all(|s| s.source == "env"));
}

#[test]
fn unknown_keys_in_tables_and_misplaced_tables_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k.toml");
    for (text, expect) in [
        ("[ib]\nflush_bar = 3\n", "ib.flush_bar"),
        ("[ibb]\nhost = \"x\"\n", "ibb"),
        ("ib = 3\n", "[ib]"),
        ("[ib]\nport = \"4002\"\n", "ib.port"),
        ("[ib]\nport = 70000\n", "ib.port"),
    ] {
        std::fs::write(&file, text).unwrap();
        let err = load(&[], with_file(file.clone())).unwrap_err().to_string();
        assert!(err.contains(expect), "{text}: {err}");
    }
}

#[test]
fn flags_beat_everything_and_are_named_in_errors() {
    let flags = Flags {
        socket: Some("/f/s.sock".into()),
        data_dir: Some("/f/data".into()),
        state_dir: Some("/f/state".into()),
        log: Some("debug".into()),
        log_format: Some("json".into()),
        config: None,
    };
    let c = load(&[("KTRDR_LOG", "warn")], flags).unwrap();
    let from_flags: Vec<&str> = c
        .settings
        .iter()
        .filter(|s| s.source == "flag")
        .map(|s| s.key.as_str())
        .collect();
    let declared: Vec<&str> = settings::ALL
        .iter()
        .filter(|d| d.meta().flag.is_some())
        .map(|d| d.meta().key)
        .collect();
    assert_eq!(from_flags, declared);
    assert_eq!(c.log, "debug");
}

#[test]
fn test_knobs_are_read_by_debug_builds_only() {
    let c = load(
        &[("KTRDR_TEST_MODEL_SAVE_PAUSE_MS", "250")],
        Flags::default(),
    )
    .unwrap();
    let expected = cfg!(debug_assertions).then(|| Duration::from_millis(250));
    assert_eq!(c.test_knobs.model_save_pause, expected);
    assert!(
        c.env_read
            .iter()
            .all(|(n, _)| !testing::KNOBS.contains(&n.as_str())),
        "not a setting"
    );
}

/// The configuration is the only reader of settings and test knobs: any other environment
/// variable read in the daemon's source is one of the declared non-settings.
#[test]
fn no_variable_is_read_outside_the_declarations() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root];
    let mut found = Vec::new();
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for pat in ["var(\"", "var_os(\""] {
            for (i, _) in text.match_indices(pat) {
                let rest = &text[i + pat.len()..];
                let name = &rest[..rest.find('"').unwrap_or(0)];
                found.push((p.display().to_string(), name.to_string()));
            }
        }
    }
    assert!(
        !found.is_empty(),
        "the scan finds nothing: update the patterns"
    );
    for (file, name) in found {
        assert!(
            settings::OTHER_ENV.iter().any(|(n, _)| *n == name),
            "{file} reads {name}: declare it in config/settings.rs (a setting, or OTHER_ENV), or make it a test knob in config/testing.rs"
        );
    }
}
