//! End-to-end tests of the strategy commands: a real ktrdrd over a data directory holding a copy of
//! the shared EURUSD 1h sample, driven by the real ktrdrctl: strategy files (list, validate, show),
//! the indicator catalogue, indicators and fuzzy columns computed over the stored series.

use ktrdr_tests::*;
use std::path::{Path, PathBuf};

const EXAMPLE: &str = r#"
name: rsi_mean_reversion
version: "2.0"
training_data: {symbols: {mode: single_symbol, list: [EURUSD]}, timeframes: {mode: single_timeframe, list: [1h]}, history_required: 200}
indicators: [{name: rsi, period: 14, source: close}, {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}]
fuzzy_sets: {rsi: {oversold: {type: triangular, parameters: [0, 20, 35]}, neutral: {type: triangular, parameters: [30, 50, 70]}, overbought: {type: triangular, parameters: [65, 80, 100]}}}
model: {type: mlp, architecture: {hidden_layers: [50, 25], activation: relu, dropout: 0.2}, features: {lookback_periods: 2}}
training: {labels: {source: zigzag, zigzag_threshold: 0.03}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

const BROKEN: &str = r#"
name: broken
indicators: [{name: rsi, period: 0}, {name: macd, fast_period: 30, slow_period: 26}, {name: hologram}]
fuzzy_sets: {rsi: {low: {type: triangular, parameters: [30, 20, 10]}}, volume_ratio: {high: [1, 2, 3]}}
training: {data_split: {train: 0.7, validation: 0.2, test: 0.2}}
"#;

/// A daemon with the EURUSD 1h sample, and a directory of strategy files.
fn setup() -> (Daemon, PathBuf) {
    let mut d = Daemon::unstarted(&[]);
    std::fs::create_dir_all(d.data_dir()).unwrap();
    std::fs::copy(
        shared("ktrdr-ib-samples/EURUSD_1h.csv"),
        d.data_dir().join("EURUSD_1h.csv"),
    )
    .unwrap();
    let strategies = d.dir.path().join("strategies");
    std::fs::create_dir_all(&strategies).unwrap();
    std::fs::write(strategies.join("example.yaml"), EXAMPLE).unwrap();
    std::fs::write(strategies.join("broken.yml"), BROKEN).unwrap();
    std::fs::write(strategies.join("notes.txt"), "not a strategy").unwrap();
    d.spawn();
    (d, strategies)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn validate_show_and_list_strategy_files() {
    let (d, dir) = setup();
    let example = dir.join("example.yaml");
    let ok = d.ctl(&["strategies", "validate", path(&example)]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).contains("rsi_mean_reversion: valid (9 features, 1 warning(s))"));
    assert!(
        stdout(&ok).contains("indicators[1]"),
        "the unused MACD is a warning"
    );

    let bad = d.ctl(&["strategies", "validate", path(&dir.join("broken.yml"))]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let out = stdout(&bad);
    for p in [
        "indicators[0].period",
        "indicators[1].fast_period",
        "indicators[2].name",
        "fuzzy_sets.rsi.low.parameters",
        "fuzzy_sets.volume_ratio",
        "training.data_split",
    ] {
        assert!(
            out.contains(&format!("error: {p}: ")),
            "missing {p} in:\n{out}"
        );
    }
    let bad_json = d.ctl(&[
        "--json",
        "strategies",
        "validate",
        path(&dir.join("broken.yml")),
    ]);
    assert_eq!(bad_json.status.code(), Some(2));
    assert!(stdout(&bad_json).contains("indicators[1].fast_period"));

    let show = d.ctl_json(&["strategies", "show", path(&example)]);
    assert_eq!(show["valid"], true);
    assert_eq!(show["timeframes"], serde_json::json!(["1h"]));
    let features: Vec<&str> = show["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        &features[..3],
        ["rsi_oversold", "rsi_oversold_lag_1", "rsi_oversold_lag_2"]
    );
    assert_eq!(show["fuzzy_sets"][0]["input"], "rsi_14");

    let list = d.ctl_json(&["strategies", "list", path(&dir)]);
    let names: Vec<(&str, bool)> = list["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["valid"].as_bool().unwrap()))
        .collect();
    assert_eq!(names, [("broken", false), ("rsi_mean_reversion", true)]);

    let missing = d.ctl(&["strategies", "show", "/nonexistent/x.yaml"]);
    assert_eq!(missing.status.code(), Some(5), "{}", stderr(&missing));

    // These requests belong to the strategy service, which counts them.
    let stats = d.ctl_json(&["stats"]);
    let svc = stats["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "strategy")
        .unwrap()
        .clone();
    assert!(svc["requests"].as_u64().unwrap() >= 5, "{svc}");
    assert!(
        svc["counters"]["files_checked"].as_u64().unwrap() >= 4,
        "{svc}"
    );
}

#[test]
fn indicator_catalogue_lists_every_indicator_with_defaults() {
    let (d, _) = setup();
    let cat = d.ctl_json(&["indicators", "list"]);
    let list = cat["indicators"].as_array().unwrap();
    assert_eq!(list.len(), 22);
    let macd = list.iter().find(|i| i["name"] == "macd").unwrap();
    assert_eq!(
        macd["outputs"],
        serde_json::json!(["macd_12_26_9", "macd_12_26_9.signal", "macd_12_26_9.hist"])
    );
    assert_eq!(macd["params"][0]["name"], "fast_period");
    assert_eq!(macd["params"][0]["default"], "12");
    let table = d.ctl(&["indicators", "list"]);
    assert!(stdout(&table).contains("supertrend"));
}

/// The daemon's values are the library's, which the reference test compares with pandas: check the
/// last rows against the committed pandas fixture.
#[test]
fn indicators_compute_matches_the_reference() {
    let (d, _) = setup();
    let out = d.ctl(&[
        "indicators",
        "compute",
        "EURUSD",
        "1h",
        "--indicator",
        "rsi:period=14",
        "--indicator",
        "macd",
        "--tail",
        "5",
        "--format",
        "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "timestamp,rsi_14,macd_12_26_9,macd_12_26_9.signal,macd_12_26_9.hist"
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').skip(1).map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 5);

    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../strategy/fixtures/EURUSD_1h_reference.csv"),
    )
    .unwrap();
    let header: Vec<&str> = fixture.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let last: Vec<Vec<&str>> = fixture
        .lines()
        .rev()
        .take(5)
        .map(|l| l.split(',').collect())
        .collect();
    for (k, name) in ["rsi_14", "macd_12_26_9", "macd_12_26_9.signal"]
        .iter()
        .enumerate()
    {
        for (i, row) in rows.iter().enumerate() {
            let want: f64 = last[4 - i][col(name)].parse().unwrap();
            assert!(
                (row[k] - want).abs() <= 1e-6 * want.abs().max(1e-6),
                "{name} row {i}"
            );
        }
    }

    let head = d.ctl(&[
        "--json",
        "indicators",
        "compute",
        "EURUSD",
        "1h",
        "--indicator",
        "rsi",
        "--rows",
        "15",
    ]);
    let rows: Vec<serde_json::Value> = stdout(&head)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 15);
    assert!(rows[13]["rsi_14"].is_null(), "warm-up is null, not 0");
    assert!(rows[14]["rsi_14"].as_f64().is_some());

    let vol = d.ctl(&[
        "--json",
        "indicators",
        "compute",
        "EURUSD",
        "1h",
        "--indicator",
        "mfi",
        "--tail",
        "3",
    ]);
    assert!(vol.status.success());
    assert!(
        stdout(&vol).lines().all(|l| l.contains("\"mfi_14\":null")),
        "forex volume: undefined"
    );
}

#[test]
fn bad_indicator_specs_are_validation_errors() {
    let (d, _) = setup();
    let unknown = d.ctl(&[
        "indicators",
        "compute",
        "EURUSD",
        "1h",
        "--indicator",
        "hologram",
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown indicator"));
    let bad = d.ctl(&[
        "indicators",
        "compute",
        "EURUSD",
        "1h",
        "--indicator",
        "macd:fast_period=30,slow_period=26",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("fast_period"), "{}", stderr(&bad));
    let missing = d.ctl(&[
        "indicators",
        "compute",
        "GBPUSD",
        "1h",
        "--indicator",
        "rsi",
    ]);
    assert_eq!(missing.status.code(), Some(5), "{}", stderr(&missing));
}

#[test]
fn fuzzy_compute_gives_memberships_of_the_strategy() {
    let (d, dir) = setup();
    let out = d.ctl(&[
        "--json",
        "fuzzy",
        "compute",
        "EURUSD",
        "1h",
        "--strategy",
        path(&dir.join("example.yaml")),
        "--start",
        "2025-02-03",
        // A plain-date end includes that whole day: one day of hourly rows.
        "--end",
        "2025-02-03",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 24);
    for r in &rows {
        for set in ["rsi_oversold", "rsi_neutral", "rsi_overbought"] {
            let v = r[set].as_f64().expect("past warm-up inside the window");
            assert!((0.0..=1.0).contains(&v), "{set} = {v}");
        }
    }
    let broken = d.ctl(&[
        "fuzzy",
        "compute",
        "EURUSD",
        "1h",
        "--strategy",
        path(&dir.join("broken.yml")),
    ]);
    assert_eq!(broken.status.code(), Some(2));
}
