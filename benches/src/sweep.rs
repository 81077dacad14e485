//! A sweep's cells three ways, in the same run, on the same bars:
//!
//! 1. `ktrdrctl sweep run FILE` (local executor: cells in parallel up to `sweeps.max_parallel`,
//!    each on its own OS thread), while a connection asks `health` every 20 ms: its p50 and p99
//!    show what a running sweep costs other clients;
//! 2. the same cells one after another, the way one would script them without sweeps:
//!    `ktrdrctl train CELL.yaml --start --end` then `ktrdrctl backtest MODEL --start --end`;
//! 3. the same cells as a Python loop, pandas + PyTorch (`scripts/bench_sweep_python.py`).
//!
//! Each sequential cell's out-of-sample return is compared with the sweep's for the same cell:
//! they are the same computation, so they must be equal.
//!
//! Usage: bench-sweep --ktrdrd target/release/ktrdrd --ctl target/release/ktrdrctl
//!        --sweep benches/sweep.yaml --bars ../shared/data/public/EURUSD.csv [--python PY]
//! (`benches/sweep.sh` builds the release binaries and runs this.)

use hdrhistogram::Histogram;
use ktrdr_protocol::{Connection, Reply, Request, Response};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

struct Daemon {
    child: Child,
    socket: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Args {
    ktrdrd: PathBuf,
    ctl: PathBuf,
    sweep: PathBuf,
    bars: PathBuf,
    python: Option<PathBuf>,
}

fn args() -> Args {
    let mut a = std::env::args().skip(1);
    let (mut ktrdrd, mut ctl, mut sweep, mut bars, mut python) = (None, None, None, None, None);
    while let Some(k) = a.next() {
        let v = a.next().map(PathBuf::from);
        match k.as_str() {
            "--ktrdrd" => ktrdrd = v,
            "--ctl" => ctl = v,
            "--sweep" => sweep = v,
            "--bars" => bars = v,
            "--python" => python = v,
            other => panic!("unknown argument {other}"),
        }
    }
    Args {
        ktrdrd: ktrdrd.expect("--ktrdrd"),
        ctl: ctl.expect("--ctl"),
        sweep: sweep.expect("--sweep"),
        bars: bars.expect("--bars"),
        python,
    }
}

fn start(a: &Args) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("ktrdrd.sock");
    let child = Command::new(&a.ktrdrd)
        .arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("KTRDR_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ktrdrd");
    let d = Daemon { child, socket, dir };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ctl(a, &d, &["ping"]).status.success() {
        assert!(Instant::now() < deadline, "ktrdrd did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

fn ctl(a: &Args, d: &Daemon, args: &[&str]) -> std::process::Output {
    Command::new(&a.ctl)
        .arg("--socket")
        .arg(&d.socket)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ktrdrctl")
}

fn ok(a: &Args, d: &Daemon, args: &[&str]) -> String {
    let o = ctl(a, d, args);
    assert!(
        o.status.success(),
        "ktrdrctl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn last_json(text: &str) -> Value {
    serde_json::from_str(text.lines().last().unwrap_or_default()).expect("a JSON line")
}

/// Asks `health` every 20 ms until stopped; the round trips in microseconds.
async fn health_loop(socket: PathBuf, stop: Arc<AtomicBool>) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    let stream = tokio::net::UnixStream::connect(&socket)
        .await
        .expect("connect");
    let mut conn = Connection::new(stream);
    conn.client_handshake().await.expect("handshake");
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        conn.write(&Request::Health).await.expect("write");
        match conn.read::<Response>().await {
            Ok(Some(Response::Reply(Reply::Health(_)))) => {}
            other => panic!("unexpected answer to health: {other:?}"),
        }
        let _ = h.record(t.elapsed().as_micros() as u64);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    h
}

fn main() {
    let a = args();
    let sweep_yaml = std::fs::read_to_string(&a.sweep).expect("sweep file");
    let named = ktrdr_sweep::strategy_path(&sweep_yaml).expect("strategy:");
    let strategy_path = a.sweep.parent().unwrap_or(Path::new(".")).join(named);
    let strategy_yaml = std::fs::read_to_string(&strategy_path).expect("strategy file");
    let plan = ktrdr_sweep::plan(&sweep_yaml, &strategy_yaml).expect("the sweep plans");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "sweep {}: {} cells ({} sets x {} symbols x {} timeframes x {} windows), {cores} cores",
        plan.name,
        plan.cells.len(),
        plan.sets.len(),
        plan.symbols.len(),
        plan.timeframes.len(),
        plan.windows.len()
    );
    let d = start(&a);
    let bars = a.bars.display().to_string();
    ok(
        &a,
        &d,
        &[
            "data",
            "import",
            &bars,
            "--symbol",
            "EURUSD",
            "--timeframe",
            "1h",
            "--timezone",
            "America/New_York",
        ],
    );
    for tf in &plan.timeframes {
        if tf != "1h" {
            ok(&a, &d, &["data", "resample", "EURUSD", "1h", tf, "--save"]);
        }
    }
    // Warm the bar cache and torch once, as a long-running daemon would be.
    let _ = ctl(&a, &d, &["data", "show", "EURUSD", "1h", "--tail", "1"]);

    // 1. The sweep, with a client asking health meanwhile.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let probe = rt.spawn(health_loop(d.socket.clone(), Arc::clone(&stop)));
    let sweep_file = a.sweep.display().to_string();
    let t = Instant::now();
    let out = ok(&a, &d, &["--json", "sweep", "run", &sweep_file]);
    let sweep_secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let health = rt.block_on(probe).expect("health probe");
    let last = last_json(&out);
    assert_eq!(last["operation"]["state"], "completed", "{last}");
    let outcomes = last["operation"]["result"]["outcomes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sweep_return = |cell: u32| -> f64 {
        outcomes
            .iter()
            .find(|o| o["cell"] == cell)
            .and_then(|o| o["result"]["metrics"]["total_return"].as_f64())
            .unwrap_or(f64::NAN)
    };

    // 2. The same cells one after another through train + backtest.
    let work = d.dir.path().join("cells");
    std::fs::create_dir_all(&work).expect("cells dir");
    let iso = ktrdr_market::time::format_iso;
    let mut same = 0;
    let t = Instant::now();
    for c in &plan.cells {
        let set = plan.sets.iter().find(|s| s.index == c.set).expect("set");
        let text = ktrdr_sweep::cell_strategy(&strategy_yaml, set, &format!("seq-c{}", c.index))
            .expect("cell strategy");
        let file = work.join(format!("cell-{}.yaml", c.index));
        std::fs::write(&file, text).expect("write cell strategy");
        let f = file.display().to_string();
        let (ts, te) = (iso(c.train.start_ms), iso(c.train.end_ms));
        let trained = last_json(&ok(
            &a,
            &d,
            &[
                "--json",
                "train",
                &f,
                "--symbols",
                &c.symbol,
                "--timeframes",
                &c.timeframe,
                "--start",
                &ts,
                "--end",
                &te,
            ],
        ));
        let model = trained["operation"]["result"]["model"]
            .as_str()
            .expect("model")
            .to_string();
        let (bs, be) = (iso(c.test.start_ms), iso(c.test.end_ms));
        let bt = last_json(&ok(
            &a,
            &d,
            &[
                "--json",
                "backtest",
                &model,
                "--symbol",
                &c.symbol,
                "--timeframe",
                &c.timeframe,
                "--start",
                &bs,
                "--end",
                &be,
            ],
        ));
        let r = bt["operation"]["result"]["metrics"]["total_return"]
            .as_f64()
            .unwrap_or(f64::NAN);
        if r == sweep_return(c.index) {
            same += 1;
        }
    }
    let seq_secs = t.elapsed().as_secs_f64();

    // 3. The Python loop.
    let python = a.python.as_ref().map(|py| {
        let mut cells = Vec::new();
        for tf in &plan.timeframes {
            let csv = work.join(format!("EURUSD_{tf}.csv"));
            let p = csv.display().to_string();
            ok(&a, &d, &["data", "export", "EURUSD", tf, "--format", "csv", "--output", &p]);
        }
        for c in &plan.cells {
            let set = plan.sets.iter().find(|s| s.index == c.set).expect("set");
            let text = ktrdr_sweep::cell_strategy(&strategy_yaml, set, &format!("py-c{}", c.index))
                .expect("cell strategy");
            let strategy: Value = serde_json::from_str(&text).expect("cell strategy is JSON");
            cells.push(serde_json::json!({
                "index": c.index, "symbol": c.symbol, "timeframe": c.timeframe,
                "bars_csv": work.join(format!("EURUSD_{}.csv", c.timeframe)),
                "train": [c.train.start_ms, c.train.end_ms], "test": [c.test.start_ms, c.test.end_ms],
                "strategy": strategy,
            }));
        }
        let spec = work.join("cells.json");
        std::fs::write(&spec, serde_json::json!({"cells": cells}).to_string()).expect("cells.json");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench_sweep_python.py");
        let o = Command::new(py).arg(script).arg(&spec).output().expect("run python");
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(o.status.success(), "python loop failed: {text}{}", String::from_utf8_lossy(&o.stderr));
        let line = text.lines().last().unwrap_or_default().to_string();
        let secs: f64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("total_secs="))
            .and_then(|v| v.parse().ok())
            .expect("total_secs in the python summary");
        (secs, line)
    });

    let q = |p: f64| health.value_at_quantile(p) as f64 / 1000.0;
    println!(
        "1. sweep run (local, {} cells):      {sweep_secs:8.2} s  ({:.2} s per cell)",
        plan.cells.len(),
        sweep_secs / plan.cells.len() as f64
    );
    println!(
        "   health during it: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        health.len(),
        q(0.5),
        q(0.99),
        health.max() as f64 / 1000.0
    );
    println!(
        "2. train + backtest, one after another: {seq_secs:8.2} s  ({:.2} s per cell)",
        seq_secs / plan.cells.len() as f64
    );
    println!(
        "   cells whose return equals the sweep's: {same}/{}",
        plan.cells.len()
    );
    println!("   ratio sequential / sweep: {:.2}x", seq_secs / sweep_secs);
    if let Some((secs, line)) = python {
        println!("3. Python loop (pandas + PyTorch):      {secs:8.2} s  ({line})");
        println!("   ratio python / sweep: {:.2}x", secs / sweep_secs);
    } else {
        println!("3. Python loop: skipped (no --python)");
    }
}
