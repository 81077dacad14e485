//! End-to-end IB tests: a real `ktrdrd` (with the real `ibapi` client) against the fake gateway,
//! started in-process, driven by the real `ktrdrctl`.

use ktrdr_fakegw::bars::{Bar, Library, Series, parse_csv};
use ktrdr_fakegw::{FakeGateway, Logged};
use ktrdr_tests::{Daemon, stderr};
use std::time::{Duration, Instant};

const DAY: i64 = 86_400;
/// 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Continuous bars every `step` seconds over `days` days from T0, prices with two decimals so they
/// survive a CSV round trip exactly.
fn series(days: i64, step: i64, seed: f64) -> Series {
    Series::new(
        (0..days * DAY / step)
            .map(|i| {
                let p = ((seed * 100.0) as i64 + i % 997) as f64 / 100.0 + 100.0;
                Bar {
                    ts: T0 + i * step,
                    open: p,
                    high: p + 0.5,
                    low: p - 0.25,
                    close: p + 0.25,
                    volume: (i % 1000 + 1) as f64,
                }
            })
            .collect(),
    )
}

fn iso(secs: i64) -> String {
    let (y, m, d) = ktrdr_market::time::civil_from_days(secs.div_euclid(DAY));
    let r = secs.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        r / 3600,
        r % 3600 / 60,
        r % 60
    )
}

fn daemon_for(gw_port: u16, extra: &[(&str, &str)]) -> Daemon {
    let port = gw_port.to_string();
    let mut env: Vec<(&str, &str)> = vec![
        ("IB_HOST", "127.0.0.1"),
        ("IB_PORT", port.as_str()),
        ("IB_CLIENT_ID", "11"),
        ("KTRDR_IB_CONNECT_TIMEOUT_SECS", "2"),
        ("KTRDR_IB_REQUEST_TIMEOUT_SECS", "20"),
    ];
    env.extend_from_slice(extra);
    Daemon::start_with(&env)
}

/// Loads and follows; asserts success; returns the final operation's result document.
fn load(d: &Daemon, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--timeout", "120", "data", "load"];
    all.extend_from_slice(args);
    let out = d.ctl(&all);
    assert!(
        out.status.success(),
        "load {args:?} failed: {}\nlog tail: {}",
        stderr(&out),
        tail(&d.log_text())
    );
    let rec = d.ctl_json(&["ops", "list", "--kind", "ib_load", "--limit", "1"]);
    // ktrdrctl prints the result document already parsed.
    rec["items"][0]["result"].clone()
}

fn tail(s: &str) -> String {
    s.lines()
        .rev()
        .take(30)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The stored series, read back through `data export` as CSV.
fn stored(d: &Daemon, symbol: &str, tf: &str) -> Series {
    let out = d.dir.path().join(format!("{symbol}_{tf}.export.csv"));
    let o = d.ctl(&[
        "data",
        "export",
        symbol,
        tf,
        "--format",
        "csv",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    parse_csv(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

fn assert_same(got: &Series, want: &[Bar]) {
    assert_eq!(got.bars().len(), want.len(), "row count");
    for (g, w) in got.bars().iter().zip(want) {
        assert_eq!(g, w);
    }
}

/// IB's rules, scaled by `scale`, hold over the logged historical requests.
fn assert_paced(log: &[Logged], scale: f64) {
    let slack = Duration::from_millis(2);
    let window = Duration::from_secs_f64(600.0 * scale);
    for w in log.windows(61) {
        let span = w[60].at.duration_since(w[0].at);
        assert!(
            span + slack >= window,
            "61 requests within {span:?} (window {window:?})"
        );
    }
    let gap = Duration::from_secs_f64(15.0 * scale);
    for (i, a) in log.iter().enumerate() {
        for b in &log[i + 1..] {
            if a.identity() == b.identity() {
                assert!(
                    b.at.duration_since(a.at) + slack >= gap,
                    "identical requests too close"
                );
            }
        }
    }
    let cw = Duration::from_secs_f64(2.0 * scale);
    let mut by_contract = std::collections::BTreeMap::<String, Vec<Instant>>::new();
    for l in log {
        by_contract
            .entry(format!("{}|{}", l.symbol, l.what_to_show))
            .or_default()
            .push(l.at);
    }
    for times in by_contract.values() {
        for w in times.windows(7) {
            assert!(
                w[6].duration_since(w[0]) + slack >= cw,
                "7 requests for one contract too fast"
            );
        }
    }
}

#[test]
fn multi_segment_backfill_lands_the_exact_bars() {
    let rt = runtime();
    let s = series(100, 3600, 1.0);
    let mut lib = Library::default();
    lib.insert("AAPL", "1h", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    let d = daemon_for(gw.port(), &[("KTRDR_IB_PACING_SCALE", "0")]);
    let end = T0 + 100 * DAY;
    let r = load(
        &d,
        &["AAPL", "1h", "--mode", "backfill", "--end", &iso(end)],
    );
    // No --start: the load asks IB's head timestamp and goes back exactly that far.
    assert_eq!(r["segments"], 4, "{r}");
    assert_eq!(r["bars_received"], 2400, "{r}");
    assert_same(&stored(&d, "AAPL", "1h"), s.bars());
    assert_eq!(gw.historical().len(), 4);
    // Head and contract were cached: a second (tail) load asks for neither again.
    let before = gw.log().len();
    let r = load(&d, &["AAPL", "1h", "--mode", "tail", "--end", &iso(end)]);
    assert_eq!(r["segments"], 0, "{r}");
    assert_eq!(gw.log().len(), before);
    assert_eq!(gw.connections(), 1, "one connection for everything");
    let c = d.ctl_json(&["ib", "contract", "AAPL"]);
    assert_eq!(c["sec_type"], "STK");
    let fx = {
        gw.library(|l| l.insert("EURUSD", "1h", series(2, 3600, 2.0)));
        d.ctl_json(&["ib", "contract", "EURUSD"])
    };
    assert_eq!(
        (fx["exchange"].as_str(), fx["what_to_show"].as_str()),
        (Some("IDEALPRO"), Some("MIDPOINT"))
    );
    let h = d.ctl_json(&["ib", "head", "AAPL", "1h"]);
    assert_eq!(h["head_ms"], T0 * 1000);
}

#[test]
fn drop_mid_load_then_restart_resumes_without_loss_or_duplicates() {
    let rt = runtime();
    let s = series(180, 3600, 3.0);
    let mut lib = Library::default();
    lib.insert("MSFT", "1h", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib.clone())).unwrap();
    let port = gw.port();
    gw.faults(|f| f.drop_after_requests = Some(2));
    let d = daemon_for(port, &[("KTRDR_IB_PACING_SCALE", "0")]);
    // The drop happens on the third segment; the fake is then stopped and restarted on the same port
    // a moment later, as a gateway restart would be.
    let restarter = std::thread::spawn({
        let handle = rt.handle().clone();
        move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !gw.log().iter().any(|l| l.outcome == "dropped") {
                assert!(Instant::now() < deadline, "no drop happened");
                std::thread::sleep(Duration::from_millis(10));
            }
            handle.block_on(gw.stop());
            std::thread::sleep(Duration::from_millis(700));
            handle.block_on(FakeGateway::start_on(port, lib)).unwrap()
        }
    });
    let end = T0 + 180 * DAY;
    let out = d.ctl(&[
        "--timeout",
        "120",
        "data",
        "load",
        "MSFT",
        "1h",
        "--mode",
        "backfill",
        "--start",
        &iso(T0),
        "--end",
        &iso(end),
    ]);
    let gw2 = restarter.join().unwrap();
    if !out.status.success() {
        // A reconnect budget that ran out still keeps every finished segment: a rerun resumes.
        load(
            &d,
            &[
                "MSFT",
                "1h",
                "--mode",
                "backfill",
                "--start",
                &iso(T0),
                "--end",
                &iso(end),
            ],
        );
    }
    assert_same(&stored(&d, "MSFT", "1h"), s.bars());
    let st = d.ctl_json(&["ib", "status"]);
    assert_eq!(st["connected"], true, "{st}");
    assert!(st["reconnects"].as_u64().unwrap() >= 1, "{st}");
    // The restarted fake only served what was missing.
    assert!(gw2.historical().len() <= 5, "{:?}", gw2.historical().len());
}

/// How a test stops a load halfway.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Cancel,
    /// The symbol becomes unknown to the gateway: the next segment fails with error 200.
    Failure,
}

/// A 1m backfill with batching holding every fetched bar in memory (neither threshold can be
/// reached), stopped after at least 10 answered segments. Whatever the load received must be stored,
/// as the newest bars of the range (a backfill grows the stored series backwards), and a rerun must
/// fetch exactly the missing segments and complete the series.
fn stop_mid_backfill_then_rerun(stop: Stop) {
    let rt = runtime();
    let days = 60;
    let s = series(days, 60, 8.0);
    let mut lib = Library::default();
    lib.insert("STOP", "1m", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    // Each answer takes 200 ms, so the load lasts at least 12 s and is still running when stopped.
    gw.faults(|f| f.delay = Duration::from_millis(200));
    let d = daemon_for(
        gw.port(),
        &[
            ("KTRDR_IB_PACING_SCALE", "0"),
            ("KTRDR_IB_FLUSH_BARS", "100000000"),
            ("KTRDR_IB_FLUSH_SECS", "3600"),
        ],
    );
    let range = [
        "--mode",
        "backfill",
        "--start",
        &iso(T0),
        "--end",
        &iso(T0 + days * DAY),
    ];
    let mut args = vec!["data", "load", "STOP", "1m", "--detach"];
    args.extend_from_slice(&range);
    let id = d.ctl_json(&args)["id"].as_u64().expect("operation id");
    let answered = || {
        gw.historical()
            .iter()
            .filter(|l| l.outcome.starts_with("bars"))
            .count()
    };
    assert!(
        ktrdr_tests::eventually(Duration::from_secs(60), || answered() >= 10),
        "the load did not get going: {}\n{:?}",
        d.ctl_json(&["ops", "show", &id.to_string()]),
        gw.historical()
            .iter()
            .map(|l| &l.outcome)
            .collect::<Vec<_>>()
    );
    let rec = match stop {
        Stop::Cancel => d.ctl_json(&["ops", "cancel", &id.to_string()]),
        Stop::Failure => {
            gw.faults(|f| {
                f.unknown.insert("STOP".into());
            });
            assert!(ktrdr_tests::eventually(Duration::from_secs(60), || {
                d.ctl_json(&["ops", "show", &id.to_string()])["state"] == "failed"
            }));
            d.ctl_json(&["ops", "show", &id.to_string()])
        }
    };
    let want_state = match stop {
        Stop::Cancel => "cancelled",
        Stop::Failure => "failed",
    };
    assert_eq!(rec["state"], want_state, "{rec}");
    let received = rec["progress"]["items"].as_u64().unwrap() as usize;
    let done = rec["progress"]["step"].as_u64().unwrap() as usize;
    assert!(done >= 9, "{rec}");
    assert_eq!(received, done * 1440, "{rec}");
    let kept = stored(&d, "STOP", "1m");
    assert_same(&kept, &s.bars()[s.bars().len() - received..]);

    gw.faults(|f| {
        f.delay = Duration::ZERO;
        f.unknown.clear();
    });
    let before = gw.historical().len();
    let mut again = vec!["STOP", "1m"];
    again.extend_from_slice(&range);
    let r = load(&d, &again);
    assert_eq!(
        r["segments"].as_u64(),
        Some(days as u64 - done as u64),
        "{r}"
    );
    assert_eq!(gw.historical().len() - before, days as usize - done);
    assert_same(&stored(&d, "STOP", "1m"), s.bars());
}

#[test]
fn cancel_mid_backfill_keeps_every_fetched_segment_and_a_rerun_resumes() {
    stop_mid_backfill_then_rerun(Stop::Cancel);
}

#[test]
fn failure_mid_backfill_keeps_every_fetched_segment_and_a_rerun_resumes() {
    stop_mid_backfill_then_rerun(Stop::Failure);
}

#[test]
fn pacing_violations_are_retried_and_a_burst_of_100_stays_within_the_rules() {
    let rt = runtime();
    // Daily bars, a year per segment: small segments, so requests come faster than the rules allow
    // and the limiter, not the merge, sets the pace.
    let s = series(100 * 365, DAY, 4.0);
    let mut lib = Library::default();
    lib.insert("SPY", "1d", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    gw.faults(|f| f.pacing_violations = 2);
    // Windows scaled by 0.01: 60 requests per 6 s, identical requests 0.15 s apart.
    let d = daemon_for(gw.port(), &[("KTRDR_IB_PACING_SCALE", "0.01")]);
    let started = Instant::now();
    let r = load(
        &d,
        &[
            "SPY",
            "1d",
            "--mode",
            "backfill",
            "--start",
            &iso(T0),
            "--end",
            &iso(T0 + 100 * 365 * DAY),
        ],
    );
    assert_eq!(r["segments"], 100, "{r}");
    assert_eq!(r["retries"], 2, "{r}");
    // Every second waited is in the summary: the back-off after the two violations (a scaled
    // identical-request gap of about 0.15 s, then twice that) apart from the pacing waits.
    assert_eq!(r["pacing_violations"], 2, "{r}");
    let backoff = r["violation_backoff_secs"].as_f64().unwrap_or(-1.0);
    assert!((0.45..0.6).contains(&backoff), "{r}");
    assert!(r["pacing_wait_secs"].as_f64().unwrap_or(0.0) > 0.0, "{r}");
    assert_eq!(r["reconnect_wait_secs"], 0.0, "{r}");
    assert_same(&stored(&d, "SPY", "1d"), s.bars());
    let log = gw.historical();
    assert_eq!(log.len(), 102, "100 segments + 2 retried");
    assert_eq!(log.iter().filter(|l| l.outcome == "error 162").count(), 2);
    assert_paced(&log, 0.01);
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "the 61st request had to wait"
    );
    let st = d.ctl_json(&["ib", "status"]);
    assert_eq!(st["pacing_violations"], 2, "{st}");
    assert!(st["pacing_waits"].as_u64().unwrap() >= 1, "{st}");
    let metrics = d.ctl(&["stats", "--format", "prometheus"]);
    let text = String::from_utf8_lossy(&metrics.stdout);
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    assert_eq!(value("ktrdr_ib_pacing_violations_total"), 2.0);
    assert!((value("ktrdr_ib_violation_backoff_seconds_total") - backoff).abs() < 1e-6);
    assert!(value("ktrdr_ib_pacing_wait_seconds_total") > 0.0);
    assert_eq!(value("ktrdr_ib_bars_fetched_total"), (100 * 365) as f64);
}

#[test]
fn two_clients_loading_at_once_share_the_connection_and_the_pacing_budget() {
    let rt = runtime();
    let (a, b) = (series(40, 60, 5.0), series(40, 60, 6.0));
    let mut lib = Library::default();
    lib.insert("AAA", "1m", a.clone());
    lib.insert("BBB", "1m", b.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    let d = daemon_for(
        gw.port(),
        &[
            ("KTRDR_IB_PACING_SCALE", "0.01"),
            ("KTRDR_OPS_LIMITS", "ib_load=2"),
        ],
    );
    let range = [
        "--mode",
        "backfill",
        "--start",
        &iso(T0),
        "--end",
        &iso(T0 + 40 * DAY),
    ];
    let loads: Vec<_> = ["AAA", "BBB"]
        .into_iter()
        .map(|sym| {
            let socket = d.socket.clone();
            let args: Vec<String> = range.iter().map(|s| s.to_string()).collect();
            std::thread::spawn(move || {
                let mut all = vec!["--timeout", "120", "data", "load", sym, "1m"];
                all.extend(args.iter().map(String::as_str));
                ktrdr_tests::ctl_at(&socket, &all)
            })
        })
        .collect();
    for l in loads {
        let out = l.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_same(&stored(&d, "AAA", "1m"), a.bars());
    assert_same(&stored(&d, "BBB", "1m"), b.bars());
    let log = gw.historical();
    assert_eq!(log.len(), 80);
    assert_eq!(
        gw.connections(),
        1,
        "both loads used the daemon's one connection"
    );
    let conns: std::collections::BTreeSet<u64> = log.iter().map(|l| l.conn).collect();
    assert_eq!(conns.len(), 1);
    // 80 requests from two loads under one budget: the 61st waited for the window.
    assert_paced(&log, 0.01);
    let interleaved = log.windows(2).any(|w| w[0].symbol != w[1].symbol);
    assert!(interleaved, "the loads ran concurrently");
}

#[test]
fn ib_down_local_data_is_still_served_and_status_says_why() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = daemon_for(port, &[]);
    d.import_sample("ktrdr-ib-samples/AAPL_1h.csv", "AAPL", "1h");
    let started = Instant::now();
    let o = d.ctl(&["ib", "test"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("connection refused"), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Served while IB is down.
    let r = d.ctl_json(&["data", "range", "AAPL", "1h"]);
    assert!(r["rows"].as_u64().unwrap() > 0);
    let r = load(&d, &["AAPL", "1h", "--mode", "local"]);
    assert_eq!(r["mode"], "local");
    let st = d.ctl_json(&["ib", "status"]);
    assert_eq!(st["connected"], false);
    assert!(
        st["last_error"].as_str().unwrap().contains("refused"),
        "{st}"
    );
    let h = d.ctl_json(&["health"]);
    assert_ne!(
        h["status"], "down",
        "IB being down never takes the daemon down: {h}"
    );
    // A load needing IB fails with the reason instead of hanging.
    let o = d.ctl(&[
        "--timeout",
        "60",
        "data",
        "load",
        "AAPL",
        "1h",
        "--mode",
        "tail",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not connected") || stderr(&o).contains("refused"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn client_id_clash_and_a_silent_gateway_give_clear_errors() {
    let rt = runtime();
    let gw = rt.block_on(FakeGateway::start(Library::default())).unwrap();
    gw.faults(|f| {
        f.clients_in_use.insert(11);
    });
    let d = daemon_for(gw.port(), &[]);
    let o = d.ctl(&["ib", "test"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("already in use"), "{}", stderr(&o));
    assert!(stderr(&o).contains("IB_CLIENT_ID"), "{}", stderr(&o));

    let silent = rt.block_on(FakeGateway::start(Library::default())).unwrap();
    silent.faults(|f| f.silent_handshake = true);
    let d = daemon_for(silent.port(), &[("KTRDR_IB_CONNECT_TIMEOUT_SECS", "1")]);
    let started = Instant::now();
    let o = d.ctl(&["ib", "test"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did not complete the connection"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn continuous_futures_resolve_on_their_exchange_and_load() {
    let rt = runtime();
    let s = series(40, 3600, 5.0);
    let mut lib = Library::default();
    lib.insert("CL_CONT", "1h", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    let d = daemon_for(gw.port(), &[("KTRDR_IB_PACING_SCALE", "0")]);
    let c = d.ctl_json(&["ib", "contract", "CL_CONT"]);
    assert_eq!(
        (c["sec_type"].as_str(), c["exchange"].as_str()),
        (Some("CONTFUT"), Some("NYMEX")),
        "{c}"
    );
    assert_eq!(c["what_to_show"], "TRADES");
    let end = T0 + 40 * DAY;
    let r = load(
        &d,
        &[
            "CL_CONT",
            "1h",
            "--mode",
            "full",
            "--start",
            &iso(T0),
            "--end",
            &iso(end),
        ],
    );
    assert_eq!(r["bars_received"], 960, "{r}");
    assert_same(&stored(&d, "CL_CONT", "1h"), s.bars());
    assert!(
        gw.historical()
            .iter()
            .all(|l| l.sec_type == "CONTFUT" && l.exchange == "NYMEX"),
        "every request asked for the continuous future"
    );
}

#[test]
fn a_daemon_in_host_service_mode_loads_through_the_ib_host() {
    let rt = runtime();
    let s = series(100, 3600, 0.0);
    let mut lib = Library::default();
    lib.insert("AAPL", "1h", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    let port = gw.port().to_string();
    let host = Daemon::start_with(&[
        ("IB_HOST", "127.0.0.1"),
        ("IB_PORT", &port),
        ("IB_CLIENT_ID", "21"),
        ("KTRDR_IB_PACING_SCALE", "0"),
    ]);
    let url = format!("unix://{}", host.socket.display());
    let client = Daemon::start_with(&[
        ("USE_IB_HOST_SERVICE", "true"),
        ("IB_HOST_SERVICE_URL", &url),
    ]);

    // Configuration and status say where IB is.
    let st = client.ctl_json(&["status"]);
    let ib = st["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ib")
        .unwrap()
        .clone();
    assert_eq!(ib["mode"], "host-service", "{ib}");
    assert_eq!(ib["endpoint"], url.as_str());
    let c = client.ctl_json(&["ib", "contract", "AAPL"]);
    assert_eq!(c["sec_type"], "STK");

    // A backfill without --start asks the host for the head, then loads everything through it.
    let end = T0 + 100 * DAY;
    let r = load(
        &client,
        &["AAPL", "1h", "--mode", "backfill", "--end", &iso(end)],
    );
    assert_eq!(r["host_service"], url.as_str(), "{r}");
    assert_eq!(r["bars_received"], 2400, "{r}");
    assert_same(&stored(&client, "AAPL", "1h"), s.bars());
    // The host keeps its copy.
    assert_same(&stored(&host, "AAPL", "1h"), s.bars());
    let fetched = gw.historical().len();
    assert_eq!(fetched, 4, "4 segments of 30 days");

    // A second daemon's tail load of a range the host already has costs IB nothing.
    let r = load(
        &client,
        &["AAPL", "1h", "--mode", "tail", "--end", &iso(end)],
    );
    assert_eq!(gw.historical().len(), fetched, "{r}");
    assert_eq!(
        gw.connections(),
        1,
        "one gateway connection, held by the host"
    );

    // ib status on the client reports the host's connection.
    let st = client.ctl_json(&["ib", "status"]);
    assert_eq!(st["mode"], "host_service");
    assert_eq!(st["connected"], true, "{st}");

    // The host goes away: local data is still served, and status says why IB is not.
    drop(host);
    let st = client.ctl_json(&["ib", "status"]);
    assert_eq!(st["connected"], false);
    assert!(
        st["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("unreachable"),
        "{st}"
    );
    let o = client.ctl(&["data", "load", "AAPL", "1h", "--mode", "tail"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("unreachable"), "{}", stderr(&o));
    let o = client.ctl(&["data", "show", "AAPL", "1h", "--tail", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_http_host_service_url_is_a_configuration_error() {
    let d = Daemon::unstarted(&[
        ("USE_IB_HOST_SERVICE", "true"),
        ("IB_HOST_SERVICE_URL", "http://localhost:8001"),
    ]);
    let out = d.command().output().unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert!(stderr(&out).contains("ssh -NL"), "{}", stderr(&out));
}
