//! End-to-end tests of the foundation: the real ktrdrd on a temporary socket, the real ktrdrctl.

use ktrdr_protocol::handshake::{ClientHello, HelloStatus, ServerHello};
use ktrdr_tests::*;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

fn read_frame(s: &mut UnixStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).ok()?;
    let mut buf = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// Connects and completes the handshake at the byte level.
fn handshaken(d: &Daemon) -> UnixStream {
    let mut s = d.raw();
    s.write_all(&frame(&ClientHello::current().to_bytes()))
        .unwrap();
    let hello = ServerHello::parse(&read_frame(&mut s).expect("server hello")).unwrap();
    assert_eq!(hello.status, HelloStatus::Ok);
    s
}

/// Like [`handshaken`], but `None` when the daemon says it is busy.
fn handshaken_or_busy(d: &Daemon) -> Option<UnixStream> {
    let mut s = d.raw();
    s.write_all(&frame(&ClientHello::current().to_bytes()))
        .unwrap();
    let hello = ServerHello::parse(&read_frame(&mut s).expect("server hello")).unwrap();
    match hello.status {
        HelloStatus::Ok => Some(s),
        HelloStatus::Busy => None,
        other => panic!("unexpected hello {other:?}"),
    }
}

fn assert_serves(d: &Daemon) {
    let v = d.ctl_json(&["ping"]);
    assert_eq!(v["pong"], true, "{v}");
}

#[test]
fn health_status_config_stats_ping_answer_with_json() {
    let d = Daemon::start();
    let h = d.ctl_json(&["health"]);
    assert_eq!(h["pid"].as_u64(), Some(u64::from(d.pid())));
    assert_eq!(
        h["protocol"].as_u64(),
        Some(u64::from(ktrdr_protocol::PROTOCOL_VERSION))
    );
    assert_eq!(h["status"], "ok", "{h}");
    let names: Vec<&str> = h["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..2], ["system", "operations"]);
    assert!(h["uptime_secs"].as_f64().unwrap() >= 0.0);

    let s = d.ctl_json(&["status"]);
    let system = &s["services"][0];
    assert_eq!(system["mode"], "local");
    assert_eq!(system["endpoint"], format!("unix:{}", d.socket.display()));
    assert!(
        system["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "KTRDR_DATA_DIR")
    );

    let c = d.ctl_json(&["config"]);
    let setting = |k: &str| {
        c["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == k)
            .cloned()
            .unwrap()
    };
    assert_eq!(setting("data_dir")["source"], "flag");
    assert_eq!(
        setting("data_dir")["value"],
        d.data_dir().display().to_string()
    );
    assert_eq!(setting("max_connections")["source"], "default");
    assert_eq!(setting("log")["source"], "env");

    let st = d.ctl_json(&["stats"]);
    let sys = st["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "system")
        .unwrap()
        .clone();
    // ping (readiness), health, status, config so far; stats itself is counted after it answers.
    assert!(sys["requests"].as_u64().unwrap() >= 4, "{st}");
    assert!(sys["latency"]["p50_us"].as_u64().unwrap() > 0);
    assert!(st["connections_total"].as_u64().unwrap() >= 5);

    let human = d.ctl(&["health"]);
    assert!(human.status.success());
    let text = stdout(&human);
    assert!(
        text.contains("ktrdrd") && text.contains("SERVICE") && text.contains("operations"),
        "{text}"
    );
}

#[test]
fn two_hundred_clients_in_parallel_are_all_answered() {
    let d = Daemon::start();
    let children: Vec<_> = (0..200)
        .map(|_| {
            Command::new(ktrdrctl_bin())
                .arg("--socket")
                .arg(&d.socket)
                .args(["--json", "ping"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn ktrdrctl")
        })
        .collect();
    let mut ok = 0;
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "a client failed: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["daemon_pid"].as_u64(), Some(u64::from(d.pid())));
        ok += 1;
    }
    assert_eq!(ok, 200);
    let st = d.ctl_json(&["stats"]);
    assert!(st["connections_total"].as_u64().unwrap() >= 200);
    assert_eq!(st["connections_refused"].as_u64(), Some(0));
}

#[test]
fn malformed_input_never_crashes_or_stalls_the_daemon() {
    let d = Daemon::start_with(&[("KTRDR_HANDSHAKE_TIMEOUT_SECS", "1")]);

    // A client that connects and sends nothing: others are served meanwhile, and it is closed.
    let mut silent = d.raw();
    assert_serves(&d);

    // Random bytes instead of a handshake.
    let mut s = d.raw();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = s.write_all(&noise);
    let _ = read_all(&mut s);
    assert_serves(&d);

    // A 4 GiB length prefix, as the first frame and after a good handshake.
    let mut s = d.raw();
    s.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let _ = read_all(&mut s);
    let mut s = handshaken(&d);
    s.write_all(&u32::MAX.to_be_bytes()).unwrap();
    let _ = read_all(&mut s);
    assert_serves(&d);

    // A truncated frame, then the client goes away.
    let mut s = handshaken(&d);
    s.write_all(&100u32.to_be_bytes()).unwrap();
    s.write_all(b"only a part").unwrap();
    drop(s);
    assert_serves(&d);

    // A well-framed request that is not a valid message gets a typed error, then the close.
    let mut s = handshaken(&d);
    s.write_all(&frame(&[0xEE, 0xFF, 0x01])).unwrap();
    let reply = read_frame(&mut s).expect("error frame");
    match ktrdr_protocol::codec::decode::<ktrdr_protocol::Response>(&reply).unwrap() {
        ktrdr_protocol::Response::Error(e) => {
            assert_eq!(e.kind, ktrdr_protocol::ErrorKind::Validation)
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert_serves(&d);

    // A wrong protocol version is told so, with the daemon's version.
    let mut s = d.raw();
    let hello = ClientHello {
        protocol: 999,
        software: "9.9.9".into(),
    };
    s.write_all(&frame(&hello.to_bytes())).unwrap();
    let back = ServerHello::parse(&read_frame(&mut s).expect("hello")).unwrap();
    assert_eq!(back.status, HelloStatus::Incompatible);
    assert!(
        back.text
            .contains(&format!("protocol {}", ktrdr_protocol::PROTOCOL_VERSION))
            && back.text.contains("999"),
        "{}",
        back.text
    );

    // A client that disconnects mid-stream: the operation goes on and completes.
    let mut s = handshaken(&d);
    let req = ktrdr_protocol::Request::OpsDemo(ktrdr_protocol::request::OpsDemo {
        seconds: 0.6,
        steps: 6,
        fail_at: None,
        follow: true,
    });
    s.write_all(&frame(&ktrdr_protocol::codec::encode(&req).unwrap()))
        .unwrap();
    let first = read_frame(&mut s).expect("first update");
    let id = match ktrdr_protocol::codec::decode::<ktrdr_protocol::Response>(&first).unwrap() {
        ktrdr_protocol::Response::Update(rec) => rec.id,
        other => panic!("expected an update, got {other:?}"),
    };
    drop(s);
    assert!(eventually(Duration::from_secs(10), || {
        d.ctl_json(&["ops", "show", &id.to_string()])["state"] == "completed"
    }));

    // The silent client was closed by the handshake timeout.
    let started = Instant::now();
    let mut buf = [0u8; 1];
    assert_eq!(
        silent.read(&mut buf).unwrap_or(0),
        0,
        "silent client should see EOF"
    );
    assert!(started.elapsed() < Duration::from_secs(9));

    assert_serves(&d);
    let st = d.ctl_json(&["stats"]);
    assert!(st["protocol_errors"].as_u64().unwrap() >= 5, "{st}");
    assert!(d.log_text().contains("listening"));
}

#[test]
fn connections_over_the_limit_are_told_busy_not_left_hanging() {
    let d = Daemon::start_with(&[("KTRDR_MAX_CONNECTIONS", "2")]);
    // The harness's readiness ping holds a permit until its handler sees the client leave; on a
    // loaded machine that can be after the next connect, so wait for both permits to be ours.
    let held = || -> Option<(UnixStream, UnixStream)> {
        let a = handshaken_or_busy(&d)?;
        let b = handshaken_or_busy(&d)?;
        Some((a, b))
    };
    let mut pair = None;
    assert!(eventually(Duration::from_secs(5), || {
        pair = held();
        pair.is_some()
    }));
    let (_a, _b) = pair.expect("two connections");
    let out = d.ctl(&["ping"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("busy"), "{}", stderr(&out));
    drop((_a, _b));
    assert!(eventually(Duration::from_secs(5), || d
        .ctl(&["ping"])
        .status
        .success()));
    let st = d.ctl_json(&["stats"]);
    assert!(st["connections_refused"].as_u64().unwrap() >= 1);
}

#[test]
fn client_reports_a_missing_daemon_quickly_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nobody-home.sock");
    let started = Instant::now();
    let out = ctl_at(&socket, &["health"]);
    // A hang guard, not a performance claim: the benchmark measures the real figure.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("not running") && err.contains("hint:"),
        "{err}"
    );
    assert!(stdout(&out).is_empty());

    let out = ctl_at(&socket, &["--json", "health"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "connection");
}

#[test]
fn second_daemon_on_a_live_socket_fails_clearly() {
    let d = Daemon::start();
    let out = d.command().output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("already serving") && err.contains(&d.pid().to_string()),
        "{err}"
    );
    assert_serves(&d);
}

#[test]
fn stale_socket_from_a_crash_is_replaced() {
    let mut d = Daemon::start();
    d.signal(libc::SIGKILL);
    d.wait_exit(Duration::from_secs(5));
    assert!(
        d.socket.exists(),
        "a killed daemon leaves its socket file behind"
    );
    d.spawn();
    assert_serves(&d);
    assert!(d.log_text().contains("stale socket"), "{}", d.log_text());

    // A stale socket with no lock file at all (e.g. from another tool) is replaced as well.
    let mut d = Daemon::unstarted(&[]);
    std::fs::create_dir_all(d.socket.parent().unwrap()).unwrap();
    drop(UnixListener::bind(&d.socket).unwrap());
    assert!(d.socket.exists());
    d.spawn();
    assert_serves(&d);
}

#[test]
fn one_daemon_per_state_directory() {
    let d = Daemon::start();
    let other = d.dir.path().join("other.sock");
    let out = d.command_at(&other).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("state directory"), "{}", stderr(&out));
    assert_serves(&d);
}

#[test]
fn a_regular_file_at_the_socket_path_is_never_removed() {
    let d = Daemon::unstarted(&[]);
    let path = d.socket.clone();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "keep me").unwrap();
    let out = d.command().output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a socket"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

#[test]
fn sigterm_removes_the_socket_and_exits_zero() {
    let mut d = Daemon::start();
    d.signal(libc::SIGTERM);
    let status = d.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "log:\n{}", d.log_text());
    assert!(!d.socket.exists());
    assert_eq!(d.ctl(&["ping"]).status.code(), Some(3));
}

#[test]
fn daemon_stop_request_shuts_down_gracefully() {
    let mut d = Daemon::start();
    let v = d.ctl_json(&["daemon", "stop"]);
    assert_eq!(v["stopping"], true);
    assert_eq!(d.wait_exit(Duration::from_secs(15)).code(), Some(0));
    assert!(!d.socket.exists());
}

#[test]
fn socket_is_0600_in_a_0700_directory() {
    let d = Daemon::start();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&d.socket), 0o600);
    assert_eq!(mode(d.socket.parent().unwrap()), 0o700);
}

#[test]
fn peers_of_another_uid_are_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!(
            "peers_of_another_uid_are_refused: needs root to run a client as another user; not run"
        );
        return;
    }
    let d = Daemon::start();
    // Open the file permissions so only the SO_PEERCRED check stands between "nobody" and the daemon.
    for p in [d.dir.path(), d.socket.parent().unwrap()] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = Command::new(ktrdrctl_bin())
        .arg("--socket")
        .arg(&d.socket)
        .arg("ping")
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    let st = d.ctl_json(&["stats"]);
    assert!(st["connections_refused"].as_u64().unwrap() >= 1);
    // And the file mode alone keeps others out when it is the default.
    std::fs::set_permissions(&d.socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(std::fs::metadata(&d.socket).unwrap().uid(), 0);
}

#[test]
fn client_and_daemon_of_different_versions_say_so() {
    // A fake daemon speaking protocol 999: the real client must explain, with exit code 11.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let _ = read_frame(&mut s);
        let hello = ServerHello {
            protocol: 999,
            status: HelloStatus::Incompatible,
            pid: 4242,
            text: "ktrdrd 9.0.0 speaks protocol 999".into(),
        };
        s.write_all(&frame(&hello.to_bytes())).unwrap();
    });
    let out = ctl_at(&path, &["health"]);
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(11), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("protocol {}", ktrdr_protocol::PROTOCOL_VERSION))
            && err.contains("999")
            && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let d = Daemon::start();
    let out = d.ctl(&["--timeout", "-1", "ping"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = d.ctl(&["ops", "demo", "--steps", "0", "--detach"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--steps"), "{}", stderr(&out));
    let out = d.ctl(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_configuration_is_reported_with_exit_code_9() {
    let d = Daemon::start();
    let cfg = d.dir.path().join("bad.toml");
    std::fs::write(&cfg, "max_conections = 5\n").unwrap();
    let out = d.command().arg("--config").arg(&cfg).output().unwrap();
    assert_eq!(out.status.code(), Some(9));
    assert!(stderr(&out).contains("max_conections"), "{}", stderr(&out));
    let out = d
        .command()
        .env("KTRDR_MAX_CONNECTIONS", "many")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));
    assert!(stderr(&out).contains("KTRDR_MAX_CONNECTIONS"));
}

/// `ktrdrctl config` lists exactly the declared settings and `ktrdrctl status` exactly their
/// variables, each under its service (the system service lists all of them). The
/// declarations come from the real binary (`ktrdrd --print-config-docs`), which must also be what
/// docs/configuration.md says.
#[test]
fn config_and_status_list_exactly_the_declared_settings_and_variables() {
    let out = Command::new(ktrdrd_bin())
        .arg("--print-config-docs")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let docs = stdout(&out);
    let file = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md"),
    )
    .unwrap();
    assert!(
        docs == file,
        "docs/configuration.md is stale: ktrdrd --print-config-docs > docs/configuration.md"
    );
    // (service, key, variable) from the rows under each "### `service`" heading.
    let mut declared: Vec<(String, String, String)> = Vec::new();
    let mut service: Option<String> = None;
    for line in docs.lines() {
        if let Some(name) = line.strip_prefix("### `") {
            service = Some(name.trim_end_matches('`').to_string());
        } else if line.starts_with("## ") {
            service = None;
        } else if let (Some(s), true) = (&service, line.starts_with("| `")) {
            let cells: Vec<String> = line
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect();
            declared.push((s.clone(), cells[1].clone(), cells[2].clone()));
        }
    }
    assert!(declared.len() > 20, "{docs}");

    let d = Daemon::start_with(&[("KTRDR_IB_FLUSH_BARS", "7")]);
    let c = d.ctl_json(&["config"]);
    // The docs group settings by service; `config` lists them in declaration order.
    let mut keys: Vec<&str> = c["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    let mut declared_keys: Vec<&str> = declared.iter().map(|(_, k, _)| k.as_str()).collect();
    keys.sort();
    declared_keys.sort();
    assert_eq!(keys, declared_keys);

    let s = d.ctl_json(&["status"]);
    let services = s["services"].as_array().unwrap();
    let env_of = |name: &str| -> Vec<(String, Option<String>)> {
        services
            .iter()
            .find(|svc| svc["name"] == name)
            .unwrap_or_else(|| panic!("no service {name} in {s}"))["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["value"].as_str().map(str::to_string),
                )
            })
            .collect()
    };
    let names = |env: Vec<(String, Option<String>)>| -> Vec<String> {
        env.into_iter().map(|(n, _)| n).collect()
    };
    let mut all_vars: Vec<String> = declared.iter().map(|(_, _, v)| v.clone()).collect();
    all_vars.sort();
    let mut system_vars = names(env_of("system"));
    system_vars.sort();
    assert_eq!(system_vars, all_vars);
    for svc in services {
        let name = svc["name"].as_str().unwrap();
        if name == "system" {
            continue;
        }
        let own: Vec<String> = declared
            .iter()
            .filter(|(s, _, _)| s == name)
            .map(|(_, _, v)| v.clone())
            .collect();
        assert_eq!(names(env_of(name)), own, "service {name}");
    }
    for (service, _, var) in &declared {
        assert!(
            service == "system" || names(env_of(service)).contains(var),
            "{var} is not shown under {service}"
        );
    }
    assert!(
        env_of("ib").contains(&("KTRDR_IB_FLUSH_BARS".into(), Some("7".into()))),
        "{s}"
    );
}
