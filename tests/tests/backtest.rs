//! Backtests end to end: a model trained by the real ktrdrd (libtorch on CPU) on the first months
//! of the shared EURUSD 1h sample, replayed by the daemon over the later months, driven by the
//! real ktrdrctl.

use ktrdr_tests::{Daemon, stderr, stdout};
use serde_json::Value;

/// The predecessor's example (single timeframe), with a threshold low enough that a briefly trained
/// model acts, so the replay has trades to check.
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

/// A daemon with the EURUSD 1h sample imported and a model trained on bars before April 2025.
fn trained() -> Daemon {
    trained_with(&[])
}

fn trained_with(env: &[(&str, &str)]) -> Daemon {
    let d = Daemon::start_with(env);
    d.import_sample("ktrdr-ib-samples/EURUSD_1h.csv", "EURUSD", "1h");
    let file = d.dir.path().join("strategy.yaml");
    std::fs::write(&file, STRATEGY).unwrap();
    let o = d.ctl(&["train", file.to_str().unwrap(), "--end", "2025-03-31"]);
    assert!(o.status.success(), "{}\n{}", stderr(&o), d.log_text());
    d
}

fn backtest(d: &Daemon, extra: &[&str]) -> Value {
    let mut args = vec![
        "--json",
        "backtest",
        MODEL,
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
        "--start",
        "2025-04-01",
        "--end",
        "2025-06-06",
    ];
    args.extend_from_slice(extra);
    let o = d.ctl(&args);
    assert!(o.status.success(), "{}\n{}", stderr(&o), d.log_text());
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    let v: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["event"], "final", "{last}");
    assert_eq!(v["operation"]["state"], "completed", "{last}");
    v["operation"]["result"].clone()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn check_consistent(summary: &Value, trades: &[Value]) {
    let m = &summary["metrics"];
    let capital = f(&summary["config"]["capital"]);
    let pnl: f64 = trades.iter().map(|t| f(&t["pnl"])).sum();
    let end = f(&m["end_equity"]);
    assert!(
        ((capital + pnl) - end).abs() <= 1e-6 * capital,
        "end equity {end} != capital {capital} + net pnl {pnl}"
    );
    let dd = f(&m["max_drawdown"]);
    assert!((0.0..=1.0).contains(&dd), "drawdown {dd}");
    assert_eq!(m["trades"].as_u64().unwrap() as usize, trades.len());
    for t in trades {
        assert!(t["exit_index"].as_u64() > t["entry_index"].as_u64(), "{t}");
        assert!(f(&t["commission"]) > 0.0, "{t}");
    }
}

#[test]
fn a_model_trained_on_early_bars_is_backtested_on_later_ones_consistently() {
    let d = trained();
    let summary = backtest(&d, &[]);
    let id = summary["id"].as_u64().unwrap().to_string();
    assert_eq!(summary["symbol"], "EURUSD");
    assert_eq!(summary["model"], MODEL);
    // Bars from 2025-04-01 on: the first replayed bar is at or after the start.
    assert!(summary["first_ms"].as_i64().unwrap() >= 1_743_465_600_000);
    assert!(
        summary["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().contains("in-sample")),
        "the test range does not overlap training: {summary}"
    );
    // Forex 1h: about 24 x 5 x 52 bars a year, not 252.
    let ppy = f(&summary["metrics"]["periods_per_year"]);
    assert!((5000.0..7000.0).contains(&ppy), "periods per year {ppy}");

    // The training and backtest records read as lines, not JSON blobs (`params {...}` before).
    let training = d.ctl_json(&["ops", "list", "--kind", "training"])["items"][0]["id"].to_string();
    for op in [training.as_str(), id.as_str()] {
        let human = stdout(&d.ctl(&["ops", "show", op]));
        assert!(!human.contains("{\""), "no JSON blob in the table: {human}");
    }
    let trained = stdout(&d.ctl(&["ops", "show", &training]));
    assert!(
        trained.contains("accuracy") && trained.contains("epochs") && trained.contains(MODEL),
        "{trained}"
    );
    let replayed = stdout(&d.ctl(&["ops", "show", &id]));
    assert!(
        replayed.contains("buy & hold") && replayed.contains("win rate"),
        "{replayed}"
    );

    let show = d.ctl_json(&["backtest", "show", &id, "--trades"]);
    let trades = show["trades"].as_array().unwrap().clone();
    assert!(!trades.is_empty(), "the model acted: {show}");
    check_consistent(&show["summary"], &trades);
    assert_eq!(
        show["summary"], summary,
        "show repeats the operation's summary"
    );

    // The equity curve: one row per replayed bar, ending at the end equity.
    let o = d.ctl(&["backtest", "show", &id, "--equity", "--format", "csv"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,close,equity,buy_hold");
    assert_eq!(lines.len() - 1, summary["bars"].as_u64().unwrap() as usize);
    let last_equity: f64 = lines[lines.len() - 1]
        .split(',')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    assert!((last_equity - f(&summary["metrics"]["end_equity"])).abs() < 0.01);

    // The human summary names both sides of the comparison.
    let o = d.ctl(&["backtest", "show", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("BUY & HOLD") && text.contains("max drawdown"),
        "{text}"
    );

    // Charts: PNG and SVG bytes written by the client.
    let png = d.dir.path().join("equity.png");
    let o = d.ctl(&["backtest", "show", &id, "--plot", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let svg = d.dir.path().join("equity.svg");
    let o = d.ctl(&["backtest", "show", &id, "--plot", svg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(
        text.contains("<svg") && text.contains("EURUSD"),
        "{}",
        &text[..200.min(text.len())]
    );
}

#[test]
fn long_short_costs_and_in_sample_ranges() {
    let d = trained();
    let summary = backtest(
        &d,
        &[
            "--allow-short",
            "--commission",
            "0.0002",
            "--capital",
            "50000",
        ],
    );
    let id = summary["id"].as_u64().unwrap().to_string();
    assert_eq!(summary["config"]["allow_short"], true);
    assert_eq!(f(&summary["config"]["commission"]), 0.0002);
    let show = d.ctl_json(&["backtest", "show", &id, "--trades"]);
    let trades = show["trades"].as_array().unwrap().clone();
    check_consistent(&show["summary"], &trades);

    // A range the model was trained on is flagged as in-sample.
    let o = d.ctl(&[
        "--json",
        "backtest",
        MODEL,
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
        "--start",
        "2025-02-01",
        "--end",
        "2025-03-01",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("in-sample"), "{text}");
}

#[test]
fn bad_requests_fail_clearly_before_any_operation() {
    let d = trained();
    let before = d.ctl_json(&["ops", "list"]);
    let cases: [(&[&str], i32, &str); 5] = [
        (&["--timeframe", "4h"], 2, "trained on 1h"),
        (
            &["--timeframe", "1h", "--start", "2025-13-01"],
            2,
            "--start",
        ),
        (
            &["--timeframe", "1h", "--commission", "0.5"],
            2,
            "--commission",
        ),
        (&["--timeframe", "1h", "--fraction", "0"], 2, "--fraction"),
        (&["--timeframe", "1h", "--capital=-5"], 2, "--capital"),
    ];
    for (extra, code, needle) in cases {
        let mut args = vec!["backtest", MODEL, "--symbol", "EURUSD"];
        args.extend_from_slice(extra);
        let o = d.ctl(&args);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    let o = d.ctl(&[
        "backtest",
        "nosuch",
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let after = d.ctl_json(&["ops", "list"]);
    assert_eq!(before["items"], after["items"], "no operation was started");

    // `backtest show` of something that is not a finished backtest.
    let training_id = before["items"][0]["id"].as_u64().unwrap().to_string();
    let o = d.ctl(&["backtest", "show", &training_id]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a backtest"), "{}", stderr(&o));
    let o = d.ctl(&["backtest", "show", "999999"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let o = d.ctl(&["backtest", "show", &training_id, "--plot", "chart.gif"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn results_go_with_their_pruned_operation_records() {
    let d = trained_with(&[("KTRDR_OPS_KEEP_FINISHED", "1")]);
    let ids: Vec<u64> = (0..3)
        .map(|_| backtest(&d, &[])["id"].as_u64().unwrap())
        .collect();
    let file = |id: u64| d.state_dir().join("backtests").join(format!("{id}.json"));
    // The first record was pruned when the second finished; the third backtest's save removed
    // its file. The newest result is still there and shown.
    assert!(!file(ids[0]).exists(), "{:?}", file(ids[0]));
    assert!(file(ids[2]).exists());
    let o = d.ctl(&["backtest", "show", &ids[0].to_string()]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let o = d.ctl(&["backtest", "show", &ids[2].to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The third delegable service, through the same host-service adapter as IB and training: a
/// daemon with `USE_BACKTEST_HOST_SERVICE` replays on the backtest host (which has the model and
/// the bars), relays its progress, and keeps a copy of the results that `backtest show` serves
/// here, identical to the host's.
#[test]
fn a_backtest_host_replays_and_the_results_are_copied_back() {
    let host = trained();
    let url = format!("unix://{}", host.socket.display());
    // No model and no bars here: everything runs on the host.
    let d = Daemon::start_with(&[
        ("USE_BACKTEST_HOST_SERVICE", "true"),
        ("BACKTEST_HOST_SERVICE_URL", &url),
    ]);
    let cfg = stdout(&d.ctl(&["config"]));
    assert!(
        cfg.contains("backtest.use_host_service") && cfg.contains(&url),
        "{cfg}"
    );
    let status = d.ctl_json(&["status"]);
    let svc = status["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "backtest")
        .unwrap()
        .clone();
    assert_eq!(svc["mode"], "host-service", "{svc}");
    assert_eq!(svc["endpoint"], url.as_str(), "{svc}");
    let health = d.ctl_json(&["health"]);
    let bt = health["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "backtest")
        .unwrap()
        .clone();
    assert_eq!(bt["status"], "ok", "{bt}");

    let o = d.ctl(&[
        "--json",
        "backtest",
        MODEL,
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
        "--start",
        "2025-04-01",
        "--end",
        "2025-06-06",
    ]);
    assert!(o.status.success(), "{}\n{}", stderr(&o), d.log_text());
    let out = stdout(&o);
    assert!(
        out.contains("backtest host op"),
        "the host's progress was relayed: {out}"
    );
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let rec = &last["operation"];
    assert_eq!(rec["state"], "completed", "{rec}");
    assert_eq!(rec["params"]["host_service"], url.as_str(), "{rec}");
    let summary = &rec["result"];
    let local_id = rec["id"].as_u64().unwrap();
    let remote_id = summary["host_operation"].as_u64().unwrap();
    assert_eq!(summary["id"].as_u64(), Some(local_id), "{summary}");
    assert_eq!(summary["host_service"], url.as_str());

    // The copy here is the host's result: same metrics, same trades, same equity curve.
    let here = d.ctl_json(&["backtest", "show", &local_id.to_string(), "--trades"]);
    let there = host.ctl_json(&["backtest", "show", &remote_id.to_string(), "--trades"]);
    assert_eq!(here["summary"]["metrics"], there["summary"]["metrics"]);
    assert_eq!(here["trades"], there["trades"]);
    assert!(!here["trades"].as_array().unwrap().is_empty());
    let eq = |d: &Daemon, id: u64| {
        stdout(&d.ctl(&[
            "backtest",
            "show",
            &id.to_string(),
            "--equity",
            "--format",
            "csv",
        ]))
    };
    assert_eq!(eq(&d, local_id), eq(&host, remote_id));
    check_consistent(
        &here["summary"],
        here["trades"].as_array().unwrap().as_slice(),
    );

    // A model the host does not have: its error, naming the host, before anything is copied.
    let o = d.ctl(&[
        "backtest",
        "nosuch",
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stderr(&o).contains(&url), "{}", stderr(&o));

    // Host gone: one connection error; the copied results are still shown here.
    drop(host);
    let o = d.ctl(&["backtest", MODEL, "--symbol", "EURUSD", "--timeframe", "1h"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("unreachable"), "{}", stderr(&o));
    assert!(
        d.ctl(&["backtest", "show", &local_id.to_string()])
            .status
            .success()
    );
}
