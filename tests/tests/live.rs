//! Live bars end to end: a real `ktrdrd` (with the real `ibapi` client) keeps subscriptions
//! current from the fake gateway, which plays its library's bars against a replay clock; real
//! `ktrdrctl data follow` processes print them.

use ktrdr_fakegw::FakeGateway;
use ktrdr_fakegw::bars::{Bar, Library, Series, parse_csv};
use ktrdr_tests::{Daemon, eventually, stderr};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// 1m bars every minute over `days` days from T0, two-decimal prices (exact through CSV and JSON).
fn minutes(days: i64, seed: i64) -> Series {
    Series::new(
        (0..days * 1440)
            .map(|i| {
                let p = (10_000 + seed * 100 + (i * 37) % 997) as f64 / 100.0;
                Bar {
                    ts: T0 + i * 60,
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
    Daemon::start_with(&env_for(gw_port, extra))
}

fn env_for<'a>(gw_port: u16, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let port: &'static str = Box::leak(gw_port.to_string().into_boxed_str());
    let mut env: Vec<(&str, &str)> = vec![
        ("IB_HOST", "127.0.0.1"),
        ("IB_PORT", port),
        ("IB_CLIENT_ID", "31"),
        ("KTRDR_IB_CONNECT_TIMEOUT_SECS", "2"),
        ("KTRDR_IB_REQUEST_TIMEOUT_SECS", "20"),
        ("KTRDR_IB_PACING_SCALE", "0"),
    ];
    env.extend_from_slice(extra);
    env
}

/// A `ktrdrctl` process whose stdout lines are collected as they come.
struct Proc {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Proc {
    fn spawn(d: &Daemon, args: &[&str]) -> Proc {
        let mut child = Command::new(ktrdr_tests::ktrdrctl_bin())
            .arg("--socket")
            .arg(&d.socket)
            .args(args)
            .env_remove("KTRDR_SOCKET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                l.lock().unwrap().push(line);
            }
        });
        Proc {
            child,
            lines,
            reader: Some(reader),
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn json(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Waits for the process to end; its exit code and stderr.
    fn wait(mut self, within: Duration) -> (Option<i32>, String) {
        let ok = eventually(within, || matches!(self.child.try_wait(), Ok(Some(_))));
        if !ok {
            let _ = self.child.kill();
        }
        let status = self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        (status.code(), err)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Bar open times (s) of JSON-lines bars.
fn times(bars: &[Value]) -> Vec<i64> {
    bars.iter()
        .map(|b| b["ts_ms"].as_i64().unwrap_or_else(|| panic!("{b}")) / 1000)
        .collect()
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

fn last_stored(d: &Daemon, symbol: &str, tf: &str) -> Option<i64> {
    let o = d.ctl(&["--json", "data", "range", symbol, tf]);
    if !o.status.success() {
        return None;
    }
    let v: Value = serde_json::from_slice(&o.stdout).ok()?;
    v["last_ms"].as_i64().map(|t| t / 1000)
}

fn subscription(d: &Daemon, symbol: &str) -> Value {
    let l = d.ctl_json(&["data", "subscriptions"]);
    l["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["symbol"] == symbol)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Every stored bar is the library's bar (no forming bar was stored), contiguous from the first.
fn assert_exact(got: &Series, lib: &Series) {
    let first = got.bars()[0].ts;
    let want: Vec<Bar> = lib
        .bars()
        .iter()
        .filter(|b| b.ts >= first && b.ts <= got.bars().last().unwrap().ts)
        .copied()
        .collect();
    assert_eq!(got.bars().len(), want.len(), "row count");
    for (g, w) in got.bars().iter().zip(&want) {
        assert_eq!(
            g, w,
            "stored bar differs from the closed bar (a forming bar stored?)"
        );
    }
}

fn the_log(d: &Daemon) -> String {
    d.log_text()
        .lines()
        .rev()
        .take(40)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn subscribe_follow_survive_a_gateway_restart_and_a_daemon_restart() {
    let rt = runtime();
    let lib_series = minutes(3, 1);
    let mut lib = Library::default();
    lib.insert("LIVE", "1m", lib_series.clone());
    let gw = rt.block_on(FakeGateway::start(lib.clone())).unwrap();
    let port = gw.port();
    // 10 one-minute bars a second: an hour of bars in six seconds.
    let speed = 600.0;
    gw.replay(T0 + DAY, speed);
    let mut d = daemon_for(port, &[]);
    // Some history, half a day older than the clock: subscribing fills the gap with a tail load.
    let o = d.ctl(&[
        "--timeout",
        "120",
        "data",
        "load",
        "LIVE",
        "1m",
        "--mode",
        "backfill",
        "--start",
        &iso(T0),
        "--end",
        &iso(T0 + DAY / 2),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(last_stored(&d, "LIVE", "1m"), Some(T0 + DAY / 2 - 60));

    let s = d.ctl_json(&["data", "subscribe", "LIVE", "1m"]);
    assert_eq!(s["symbol"], "LIVE", "{s}");
    // Two followers from the same point, one as JSON lines, one as CSV.
    let since = iso(T0 + DAY / 2 - 600);
    let a = Proc::spawn(
        &d,
        &["--json", "data", "follow", "LIVE", "1m", "--since", &since],
    );
    let b = Proc::spawn(
        &d,
        &[
            "data", "follow", "LIVE", "1m", "--since", &since, "--format", "csv",
        ],
    );
    let reached = |d: &Daemon, t: i64| last_stored(d, "LIVE", "1m").is_some_and(|l| l >= t);
    assert!(
        eventually(Duration::from_secs(60), || reached(&d, T0 + DAY + 300)),
        "no live bars stored: {}\n{}",
        subscription(&d, "LIVE"),
        the_log(&d)
    );
    let sub = subscription(&d, "LIVE");
    assert_eq!(sub["state"], "streaming", "{sub}");
    assert_eq!(sub["followers"], 2, "{sub}");
    assert!(sub["gap_bars"].as_u64().unwrap() >= 600, "{sub}");
    let ops = d.ctl_json(&["ops", "list", "--kind", "ib_load"]);
    assert_eq!(
        ops["items"].as_array().unwrap().len(),
        2,
        "backfill + gap fill: {ops}"
    );
    let h = d.ctl_json(&["health"]);
    let live = h["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "live")
        .cloned()
        .unwrap();
    assert_eq!(live["status"], "ok", "{live}");
    assert!(
        live["detail"]
            .as_str()
            .unwrap()
            .contains("LIVE 1m streaming"),
        "{live}"
    );

    // The gateway goes away; when it comes back its clock has moved on two hours: far more than
    // the stream's own initial answer covers, so the daemon fills the gap with a tail load.
    let before = gw.now();
    rt.block_on(gw.stop());
    assert!(eventually(Duration::from_secs(20), || {
        subscription(&d, "LIVE")["state"] == "reconnecting"
    }));
    let gw = rt
        .block_on(FakeGateway::start_on(port, lib.clone()))
        .unwrap();
    let back = before + 2 * 3600;
    gw.replay(back, speed);
    assert!(
        eventually(Duration::from_secs(60), || reached(&d, back + 600)),
        "did not catch up after the gateway came back: {}\n{}",
        subscription(&d, "LIVE"),
        the_log(&d)
    );
    let ops = d.ctl_json(&["ops", "list", "--kind", "ib_load"]);
    assert_eq!(
        ops["items"].as_array().unwrap().len(),
        3,
        "another gap fill: {ops}"
    );
    let end = last_stored(&d, "LIVE", "1m").unwrap();
    let want: Vec<i64> = (T0 + DAY / 2 - 600..=end).step_by(60).collect();
    assert!(
        eventually(Duration::from_secs(20), || {
            times(&a.json()).last() >= want.last() && b.lines().len() > want.len()
        }),
        "followers did not keep up"
    );
    // Every closed bar exactly once, in order, stored exactly as the library has it.
    let got = a.json();
    let got_t = times(&got);
    assert_eq!(&got_t[..want.len()], &want[..]);
    assert!(
        got_t.windows(2).all(|w| w[1] == w[0] + 60),
        "gaps or duplicates"
    );
    let csv: Vec<String> = b.lines();
    assert!(csv[0].starts_with("timestamp,open"), "{}", csv[0]);
    let from_csv = parse_csv(&csv.join("\n")).unwrap();
    let csv_t: Vec<i64> = from_csv.bars().iter().map(|b| b.ts).collect();
    assert_eq!(csv_t.len(), csv.len() - 1, "no duplicate rows");
    assert_eq!(&csv_t[..want.len()], &want[..]);
    let all = stored(&d, "LIVE", "1m");
    assert_exact(&all, &lib_series);
    for (i, bar) in got.iter().enumerate().take(want.len()) {
        let lb = lib_series.bars().iter().find(|x| x.ts == got_t[i]).unwrap();
        assert_eq!(bar["close"].as_f64(), Some(lb.close), "{bar}");
    }
    let st = d.ctl_json(&["ib", "status"]);
    assert!(st["reconnects"].as_u64().unwrap() >= 1, "{st}");

    // The daemon restarts: the subscription comes back and catches up with the gateway.
    d.signal(libc::SIGTERM);
    d.wait_exit(Duration::from_secs(20));
    let (code, err) = a.wait(Duration::from_secs(10));
    assert_ne!(code, Some(0), "a follower of a stopped daemon fails: {err}");
    drop(b);
    let stopped_at = last_stored(&d, "LIVE", "1m");
    assert!(stopped_at.is_none(), "the daemon is down");
    std::thread::sleep(Duration::from_secs(2));
    d.spawn();
    let sub = subscription(&d, "LIVE");
    assert_eq!(sub["symbol"], "LIVE", "the subscription persisted: {sub}");
    let now = gw.now();
    assert!(
        eventually(Duration::from_secs(60), || reached(&d, now)),
        "no catch-up after the restart: {}\n{}",
        subscription(&d, "LIVE"),
        the_log(&d)
    );
    assert_exact(&stored(&d, "LIVE", "1m"), &lib_series);

    // Unsubscribed: the stream is cancelled at the gateway and the list is empty, also after a restart.
    let u = d.ctl_json(&["data", "unsubscribe", "LIVE", "1m"]);
    assert_eq!(u["symbol"], "LIVE");
    assert!(eventually(Duration::from_secs(10), || gw.streaming() == 0));
    d.signal(libc::SIGTERM);
    d.wait_exit(Duration::from_secs(20));
    d.spawn();
    let l = d.ctl_json(&["data", "subscriptions"]);
    assert_eq!(l["subscriptions"].as_array().unwrap().len(), 0, "{l}");
}

#[test]
fn a_slow_follower_falls_behind_alone_and_can_resume() {
    let rt = runtime();
    let lib_series = minutes(30, 2);
    let mut lib = Library::default();
    lib.insert("FAST", "1m", lib_series.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    gw.replay(T0 + DAY, 60.0);
    let d = daemon_for(gw.port(), &[("KTRDR_LIVE_FOLLOW_BUFFER", "32")]);
    d.ctl_json(&["data", "subscribe", "FAST", "1m"]);
    assert!(eventually(Duration::from_secs(30), || {
        subscription(&d, "FAST")["state"] == "streaming"
    }));
    // A follower whose output nobody reads (its pipe and socket fill up) and one that keeps up.
    let mut slow = Command::new(ktrdr_tests::ktrdrctl_bin())
        .arg("--socket")
        .arg(&d.socket)
        .args(["data", "follow", "FAST", "1m", "--format", "csv"])
        .env_remove("KTRDR_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let fast = Proc::spawn(&d, &["--json", "data", "follow", "FAST", "1m"]);
    assert!(eventually(Duration::from_secs(10), || {
        subscription(&d, "FAST")["followers"] == 2
    }));
    let start = last_stored(&d, "FAST", "1m").unwrap();
    // Twenty days of bars in a few seconds.
    gw.set_speed(120_000.0);
    let target = T0 + 21 * DAY;
    assert!(
        eventually(Duration::from_secs(120), || last_stored(&d, "FAST", "1m")
            .is_some_and(|l| l >= target)),
        "{}\n{}",
        subscription(&d, "FAST"),
        the_log(&d)
    );
    gw.set_speed(0.0);
    // The clock stopped: every bar before the one it is in closes, and no other.
    let end = gw.now().div_euclid(60) * 60 - 60;
    assert!(eventually(Duration::from_secs(60), || {
        last_stored(&d, "FAST", "1m") == Some(end)
    }));
    // The fast follower got every bar, in order, while the slow one was stuck.
    if !eventually(Duration::from_secs(30), || {
        times(&fast.json()).last().copied() == Some(end)
    }) {
        let last = times(&fast.json()).last().copied();
        let (code, e) = fast.wait(Duration::from_secs(1));
        panic!("fast follower at {last:?}, end {end}: {code:?} {e}");
    }
    let t = times(&fast.json());
    assert_eq!(t.first().copied(), Some(start + 60));
    let bad: Vec<_> = t.windows(2).filter(|w| w[1] != w[0] + 60).take(5).collect();
    assert!(bad.is_empty(), "gaps or duplicates: {bad:?} of {}", t.len());
    // Now the slow one reads: what it was sent, then the typed error, exit code 13.
    let mut out = String::new();
    std::io::Read::read_to_string(slow.stdout.as_mut().unwrap(), &mut out).unwrap();
    let status = slow.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(slow.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(13), "{err}");
    assert!(err.contains("fell behind"), "{err}");
    assert!(err.contains("--since"), "{err}");
    let got = parse_csv(&out).unwrap();
    assert!(
        got.bars().len() < t.len(),
        "the slow follower did not get everything"
    );
    // It resumes where it stopped, with --since from the hint.
    let resume = err
        .split("--since ")
        .nth(1)
        .and_then(|r| r.split('`').next())
        .unwrap()
        .to_string();
    let again = Proc::spawn(
        &d,
        &["--json", "data", "follow", "FAST", "1m", "--since", &resume],
    );
    let caught_up = eventually(Duration::from_secs(20), || {
        times(&again.json()).last().copied() == Some(end)
    });
    if !caught_up {
        let n = again.lines().len();
        let (code, e) = again.wait(Duration::from_secs(1));
        panic!("resume {resume:?}: {n} lines, {code:?} {e}; end {end}");
    }
    let first = times(&again.json())[0];
    assert_eq!(
        first,
        got.bars().last().unwrap().ts + 60,
        "resumes right after"
    );
    let st = d.ctl_json(&["stats"]);
    let live = st["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "live")
        .cloned()
        .unwrap();
    assert_eq!(live["counters"]["fell_behind"], 1, "{live}");
    assert_exact(&stored(&d, "FAST", "1m"), &lib_series);
}

#[test]
fn bad_input_gets_clear_errors() {
    let rt = runtime();
    let mut lib = Library::default();
    lib.insert("LIVE", "1m", minutes(1, 3));
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    gw.replay(T0 + 3600, 1.0);
    let d = daemon_for(gw.port(), &[]);
    let o = d.ctl(&["data", "subscribe", "NOPE", "1m"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("NOPE"), "{}", stderr(&o));
    let o = d.ctl(&["data", "subscribe", "LIVE", "7m"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("timeframe"), "{}", stderr(&o));
    let o = d.ctl(&["data", "subscribe", "../x", "1m"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = d.ctl(&["data", "unsubscribe", "LIVE", "1m"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains("not subscribed"), "{}", stderr(&o));
    assert!(stderr(&o).contains("hint"), "{}", stderr(&o));
    let o = d.ctl(&["data", "follow", "LIVE", "1m"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("data subscribe LIVE 1m"),
        "{}",
        stderr(&o)
    );
    d.ctl_json(&["data", "subscribe", "LIVE", "1m"]);
    let o = d.ctl(&["data", "follow", "LIVE", "1m", "--since", "yesterday"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--since"), "{}", stderr(&o));
    let o = d.ctl(&["predict", "nomodel", "LIVE", "1m", "--follow"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    // Nothing was saved by the failed requests.
    let l = d.ctl_json(&["data", "subscriptions"]);
    assert_eq!(l["subscriptions"].as_array().unwrap().len(), 1, "{l}");
}

/// The backtest tests' strategy (single timeframe, a threshold low enough that the model acts).
const STRATEGY: &str = r#"
name: rsi_mean_reversion
version: "2.0"
training_data: {symbols: {mode: single_symbol, list: [EURUSD]}, timeframes: {mode: single_timeframe, list: [1h]}, history_required: 200}
indicators: [{name: rsi, period: 14, source: close}, {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}]
fuzzy_sets: {rsi: {oversold: {type: triangular, parameters: [0, 20, 35]}, neutral: {type: triangular, parameters: [30, 50, 70]}, overbought: {type: triangular, parameters: [65, 80, 100]}}}
model: {type: mlp, architecture: {hidden_layers: [50, 25], activation: relu, dropout: 0.2}, features: {lookback_periods: 2}, training: {learning_rate: 0.001, batch_size: 32, epochs: 5, optimizer: adam, early_stopping: {patience: 10, min_delta: 0.0001}, seed: 7}}
decisions: {confidence_threshold: 0.34, position_awareness: true, filters: {min_signal_separation: 4}}
training: {labels: {source: zigzag, zigzag_threshold: 0.01}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

const MODEL: &str = "rsi_mean_reversion/EURUSD_1h_v1";

/// 2025-05-02 00:00 UTC (a Friday); the replayed days are Monday 5 and Tuesday 6 May.
const MAY_2: i64 = 1_746_144_000;
const MAY_5: i64 = MAY_2 + 3 * DAY;
const MAY_7: i64 = MAY_2 + 5 * DAY;

#[test]
fn predict_follow_signals_equal_the_backtest_decisions() {
    let rt = runtime();
    let text =
        std::fs::read_to_string(ktrdr_tests::shared("ktrdr-ib-samples/EURUSD_1h.csv")).unwrap();
    let sample = parse_csv(&text).unwrap();
    let mut lib = Library::default();
    lib.insert("EURUSD", "1h", sample.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    // Ten hourly bars a second.
    gw.replay(MAY_2, 36_000.0);
    gw.set_speed(0.0);
    let d = daemon_for(gw.port(), &[]);
    // The daemon has the bars up to 1 May; the model is trained on those before April.
    let head: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("2025-05-01"))
        .collect();
    let file = d.dir.path().join("EURUSD_1h_head.csv");
    std::fs::write(&file, head.join("\n") + "\n").unwrap();
    let o = d.ctl(&[
        "data",
        "import",
        file.to_str().unwrap(),
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let yaml = d.dir.path().join("strategy.yaml");
    std::fs::write(&yaml, STRATEGY).unwrap();
    let o = d.ctl(&["train", yaml.to_str().unwrap(), "--end", "2025-03-31"]);
    assert!(o.status.success(), "{}\n{}", stderr(&o), d.log_text());

    d.ctl_json(&["data", "subscribe", "EURUSD", "1h"]);
    let signals = Proc::spawn(
        &d,
        &[
            "--json",
            "predict",
            MODEL,
            "EURUSD",
            "1h",
            "--follow",
            "--since",
            "2025-05-05",
        ],
    );
    gw.set_speed(36_000.0);
    let done = |s: &Proc| {
        s.json()
            .iter()
            .any(|l| l["bar_ms"].as_i64().unwrap_or(0) >= (MAY_7 - 3600) * 1000)
    };
    assert!(
        eventually(Duration::from_secs(120), || done(&signals)),
        "signals: {:?}\n{}\n{}",
        signals.lines().last(),
        subscription(&d, "EURUSD"),
        the_log(&d)
    );
    gw.set_speed(0.0);
    let lines: Vec<Value> = signals
        .json()
        .into_iter()
        .filter(|l| l["bar_ms"].as_i64().unwrap() < MAY_7 * 1000)
        .collect();
    // One line per stored bar of the two days, in order.
    let bars: Vec<i64> = sample
        .bars()
        .iter()
        .filter(|b| b.ts >= MAY_5 && b.ts < MAY_7)
        .map(|b| b.ts * 1000)
        .collect();
    let got: Vec<i64> = lines
        .iter()
        .map(|l| l["bar_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(got, bars);
    for l in &lines {
        assert_eq!(l["model"], MODEL);
        assert_eq!(l["probabilities"].as_array().unwrap().len(), 3, "{l}");
        assert!(l["time"].as_str().unwrap().starts_with("2025-05-0"), "{l}");
    }

    // The backtest of the same bars decides the same.
    let o = d.ctl(&[
        "--json",
        "backtest",
        MODEL,
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
        "--start",
        "2025-05-05",
        "--end",
        "2025-05-07T00:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let last = ktrdr_tests::stdout(&o)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let v: Value = serde_json::from_str(&last).unwrap();
    let summary = v["operation"]["result"].clone();
    assert_eq!(
        summary["bars"].as_u64(),
        Some(bars.len() as u64),
        "{summary}"
    );
    let mut counts = [0u64; 3];
    for l in &lines {
        let i = ["BUY", "HOLD", "SELL"]
            .iter()
            .position(|a| l["action"] == *a)
            .unwrap();
        counts[i] += 1;
    }
    let want: Vec<u64> = summary["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(
        counts.to_vec(),
        want,
        "live actions vs the backtest's: {summary}"
    );
    assert!(
        want[0] + want[2] > 0,
        "the model acted in the replayed days: {want:?}"
    );
    let acted: Vec<usize> = lines[..lines.len() - 1]
        .iter()
        .enumerate()
        .filter(|(_, l)| l["acted"] == true)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        acted.len() as u64,
        summary["acted"].as_u64().unwrap(),
        "{summary}"
    );
    let id = summary["id"].as_u64().unwrap().to_string();
    let show = d.ctl_json(&["backtest", "show", &id, "--trades"]);
    for t in show["trades"].as_array().unwrap() {
        // Filled at the open after the bar that decided it.
        let decided = t["entry_index"].as_u64().unwrap() as usize - 1;
        assert!(acted.contains(&decided), "{t}");
        let side = if t["side"] == "Long" { "BUY" } else { "SELL" };
        assert_eq!(lines[decided]["action"], side, "{t}");
    }
}

#[test]
fn a_stalled_stream_is_reported_and_requested_again() {
    let rt = runtime();
    let lib_series = minutes(2, 4);
    let mut lib = Library::default();
    // A crypto symbol: its calendar never closes, so the stall check applies whenever this runs.
    lib.insert("BTCUSD", "1m", lib_series.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    gw.replay(T0 + DAY / 2, 120.0);
    // Quiet for 1.5 s counts as stalled (instead of two 1m bars of wall time).
    let d = daemon_for(gw.port(), &[("KTRDR_TEST_LIVE_STALL_MS", "1500")]);
    d.ctl_json(&["data", "subscribe", "BTCUSD", "1m"]);
    assert!(eventually(Duration::from_secs(30), || {
        subscription(&d, "BTCUSD")["bars_stored"].as_u64() >= Some(3)
    }));
    assert_eq!(subscription(&d, "BTCUSD")["stalls"], 0);
    let requests = subscription(&d, "BTCUSD")["requests"].as_u64().unwrap();
    // The feed goes silent (the connection stays up).
    gw.pause_streams(true);
    let live_health = |d: &Daemon| {
        d.ctl_json(&["health"])["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "live")
            .cloned()
            .unwrap()
    };
    assert!(
        eventually(Duration::from_secs(20), || {
            let s = subscription(&d, "BTCUSD");
            s["stalls"].as_u64() >= Some(1) && s["requests"].as_u64() > Some(requests)
        }),
        "{}",
        subscription(&d, "BTCUSD")
    );
    // Still silent after the request: reported, in health too.
    assert!(eventually(Duration::from_secs(20), || {
        let h = live_health(&d);
        h["status"] == "degraded" && h["detail"].as_str().unwrap().contains("BTCUSD 1m stalled")
    }));
    let s = subscription(&d, "BTCUSD");
    assert!(s["last_error"].as_str().unwrap().contains("no bar"), "{s}");
    // The feed comes back: streaming again, and nothing was lost meanwhile.
    gw.pause_streams(false);
    let now = gw.now();
    assert!(eventually(Duration::from_secs(30), || {
        last_stored(&d, "BTCUSD", "1m").is_some_and(|l| l >= now)
    }));
    assert!(eventually(Duration::from_secs(10), || {
        subscription(&d, "BTCUSD")["state"] == "streaming"
    }));
    assert_exact(&stored(&d, "BTCUSD", "1m"), &lib_series);
}
