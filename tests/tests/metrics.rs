//! Observability end to end: a real ktrdrd with its `/metrics` listener on a loopback port, a real
//! Prometheus server (Debian's, from `scripts/system-deps.sh`) scraping it every second, and the
//! values read back through Prometheus' HTTP query API after real ktrdrctl commands; the text of
//! `ktrdrctl stats --format prometheus` checked by `promtool check metrics`; the JSON and journald
//! log formats.

use ktrdr_tests::{Daemon, eventually, free_port, require_tool, stderr};
use serde_json::Value;
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn get(url: &str) -> Result<(u16, String, String), String> {
    let mut r = ureq::get(url).call().map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
    Ok((status, ctype, body))
}

/// A Prometheus server in a temporary directory, killed on drop.
struct Prometheus {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Prometheus {
        let bin = require_tool("prometheus");
        let dir = tempfile::Builder::new()
            .prefix("ktrdr-prom")
            .tempdir()
            .expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: ktrdr\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("config");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        Prometheus { child, port, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// The value of an instant query that returns one series, if it does.
    fn query(&self, q: &str) -> Option<f64> {
        let url = format!(
            "http://127.0.0.1:{}/api/v1/query?query={}",
            self.port,
            encode(q)
        );
        let (_, _, body) = get(&url).ok()?;
        let v: Value = serde_json::from_str(&body).ok()?;
        let result = v["data"]["result"].as_array()?;
        if result.len() != 1 {
            return None;
        }
        result[0]["value"][1].as_str()?.parse().ok()
    }

    fn targets(&self) -> String {
        get(&format!("http://127.0.0.1:{}/api/v1/targets", self.port))
            .map(|r| r.2)
            .unwrap_or_else(|e| e)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encodes a query for the URL (everything but unreserved characters).
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn ok(d: &Daemon, args: &[&str]) {
    let o = d.ctl(args);
    assert!(o.status.success(), "ktrdrctl {args:?}: {}", stderr(&o));
}

#[test]
fn prometheus_scrapes_the_listener_and_reads_back_exact_counts() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let d = Daemon::start_with(&[("KTRDR_METRICS_LISTEN", &listen)]);

    // The listener serves /metrics as Prometheus text, and nothing else.
    let (status, ctype, body) = get(&format!("http://{listen}/metrics")).expect("GET /metrics");
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
    assert!(
        body.contains("# TYPE ktrdr_requests_total counter"),
        "{body}"
    );
    let other = get(&format!("http://{listen}/")).unwrap_err();
    assert!(other.contains("404"), "{other}");
    let other = get(&format!("http://{listen}/metrics/x")).unwrap_err();
    assert!(other.contains("404"), "{other}");

    // The harness pinged once to see the daemon up; then these.
    ok(&d, &["health"]);
    ok(&d, &["health"]);
    ok(&d, &["status"]);
    ok(&d, &["ops", "demo", "--seconds", "0.2", "--steps", "2"]);
    ok(&d, &["ops", "demo", "--seconds", "0.2", "--steps", "2"]);
    let failed = d.ctl(&[
        "ops",
        "demo",
        "--seconds",
        "0.2",
        "--steps",
        "2",
        "--fail-at",
        "1",
    ]);
    assert!(!failed.status.success());
    let missing = d.ctl(&["ops", "show", "999999"]);
    assert_eq!(missing.status.code(), Some(5), "{}", stderr(&missing));

    let prom = Prometheus::start(&listen);
    let expected: &[(&str, f64)] = &[
        (r#"ktrdr_requests_total{request="ping"}"#, 1.0),
        (r#"ktrdr_requests_total{request="health"}"#, 2.0),
        (r#"ktrdr_requests_total{request="status"}"#, 1.0),
        (
            r#"ktrdr_requests_total{service="operations",request="ops_demo"}"#,
            3.0,
        ),
        (r#"ktrdr_requests_total{request="ops_show"}"#, 1.0),
        (
            r#"ktrdr_request_errors_total{service="operations",request="ops_show",kind="not_found"}"#,
            1.0,
        ),
        (
            r#"ktrdr_request_duration_seconds_count{service="system"}"#,
            4.0,
        ),
        (r#"ktrdr_operations_started_total{kind="demo"}"#, 3.0),
        (
            r#"ktrdr_operations_finished_total{kind="demo",state="completed"}"#,
            2.0,
        ),
        (
            r#"ktrdr_operations_finished_total{kind="demo",state="failed"}"#,
            1.0,
        ),
        (
            r#"ktrdr_operation_duration_seconds_count{kind="demo",state="completed"}"#,
            2.0,
        ),
        (r#"ktrdr_operations_running{kind="demo"}"#, 0.0),
        (r#"ktrdr_operations_queued{kind="demo"}"#, 0.0),
        (r#"up{job="ktrdr"}"#, 1.0),
    ];
    let mut last = Vec::new();
    let all_there = eventually(Duration::from_secs(60), || {
        last = expected
            .iter()
            .map(|(q, want)| (*q, *want, prom.query(q)))
            .collect();
        last.iter().all(|(_, want, got)| *got == Some(*want))
    });
    assert!(
        all_there,
        "Prometheus did not report the expected values:\n{}\ntargets: {}\nprometheus log:\n{}",
        last.iter()
            .map(|(q, want, got)| format!("  {q}: want {want}, got {got:?}"))
            .collect::<Vec<_>>()
            .join("\n"),
        prom.targets(),
        prom.log()
    );
    // Every completed demo ran at least its 0.2 s.
    let sum = prom
        .query(r#"ktrdr_operation_duration_seconds_sum{kind="demo",state="completed"}"#)
        .expect("duration sum");
    assert!(sum >= 0.4, "{sum}");
}

#[test]
fn a_taken_metrics_address_stops_the_daemon_with_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let d = Daemon::unstarted(&[("KTRDR_METRICS_LISTEN", &addr)]);
    let o = d.command().output().expect("run ktrdrd");
    assert_eq!(o.status.code(), Some(9), "configuration error");
    let err = stderr(&o);
    assert!(
        err.contains(&format!("cannot listen for metrics on {addr}")),
        "{err}"
    );
    assert!(err.contains("metrics.listen"), "{err}");
    let bad = Daemon::unstarted(&[("KTRDR_METRICS_LISTEN", "localhost")]);
    let o = bad.command().output().expect("run ktrdrd");
    assert_eq!(o.status.code(), Some(9));
    assert!(
        stderr(&o).contains("KTRDR_METRICS_LISTEN"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_format_prometheus_passes_promtool() {
    let promtool = require_tool("promtool");
    let d = Daemon::start();
    ok(&d, &["health"]);
    ok(&d, &["ops", "demo", "--seconds", "0.1", "--steps", "1"]);
    let _ = d.ctl(&["ops", "show", "424242"]);
    let o = d.ctl(&["stats", "--format", "prometheus"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).expect("UTF-8");
    for family in [
        "ktrdr_requests_total",
        "ktrdr_request_errors_total",
        "ktrdr_request_duration_seconds",
        "ktrdr_connections_open",
        "ktrdr_operations_finished_total",
        "ktrdr_operation_duration_seconds",
        "ktrdr_bar_cache_bytes",
        "ktrdr_bar_cache_hits_total",
        "ktrdr_ib_connected",
        "ktrdr_ib_pacing_wait_seconds_total",
        "ktrdr_ib_violation_backoff_seconds_total",
        "ktrdr_ib_bars_fetched_total",
        "ktrdr_trainings_running",
        "ktrdr_training_epochs_total",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{text}"
        );
    }
    let mut check = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = check.wait_with_output().expect("promtool");
    assert!(
        out.status.success(),
        "promtool check metrics failed ({}):\n{}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn json_logs_carry_the_operation_id_request_kind_and_service() {
    let d = Daemon::start_with(&[("KTRDR_LOG_FORMAT", "json")]);
    let rec = d.ctl_json(&[
        "ops",
        "demo",
        "--seconds",
        "0.1",
        "--steps",
        "1",
        "--detach",
    ]);
    let id = rec["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("operation id in {rec}"));
    ok(&d, &["ping"]);
    let mut lines = Vec::new();
    let found = eventually(Duration::from_secs(5), || {
        lines = d
            .log_text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "operation finished")
    });
    assert!(found, "{}", d.log_text());
    let finished = lines
        .iter()
        .find(|l| l["fields"]["message"] == "operation finished")
        .expect("finished line");
    assert_eq!(finished["span"]["op_id"], id, "{finished}");
    assert_eq!(finished["span"]["kind"], "demo");
    assert_eq!(finished["span"]["service"], "operations");
    assert_eq!(finished["fields"]["state"], "completed");
    let ping = lines
        .iter()
        .find(|l| l["fields"]["message"] == "answered" && l["span"]["request"] == "ping")
        .unwrap_or_else(|| panic!("no answered ping in\n{}", d.log_text()));
    assert_eq!(ping["span"]["service"], "system");
    assert!(ping["timestamp"].is_string() && ping["level"] == "DEBUG");
}

#[test]
fn under_journald_lines_carry_priorities_and_no_timestamp() {
    let d = Daemon::start_with(&[("JOURNAL_STREAM", "8:12345")]);
    ok(&d, &["ops", "demo", "--seconds", "0.1", "--steps", "1"]);
    let text = d.log_text();
    let listening = text
        .lines()
        .find(|l| l.contains("listening"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(listening.starts_with("<6>"), "{listening}");
    // The level comes first: no timestamp (journald stamps entries itself).
    assert!(
        listening[3..].trim_start().starts_with("INFO"),
        "no timestamp: {listening}"
    );
    for line in text.lines() {
        let p = line.get(..3).unwrap_or("");
        assert!(
            ["<3>", "<4>", "<6>", "<7>"].contains(&p),
            "every line starts with a priority: {line}"
        );
    }
    assert!(
        text.lines().any(|l| l.starts_with("<7>")),
        "debug lines map to <7>"
    );
}
