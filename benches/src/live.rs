//! Live-bar latency: from the fake gateway sending the update that closes a bar to a
//! `ktrdrctl data follow` process printing that bar, with 1 follower (the baseline) and with
//! 100 followers of the same subscription, measured in the same run.
//!
//! The fake gateway (in-process, the real TWS wire) plays 1m bars against a replay clock at
//! `--bars-per-sec`; a release `ktrdrd` (real ibapi client) keeps the subscription and stores
//! each closed bar; every follower is a real `ktrdrctl --json data follow` process whose stdout
//! lines are timestamped as they are read. Latency per (follower, bar) = time read - time the
//! fake sent the closing update (both wall clock, same machine).
//!
//! Usage: bench_live --bin target/release [--bars 200] [--bars-per-sec 10] [--followers 100]

use hdrhistogram::Histogram;
use ktrdr_fakegw::FakeGateway;
use ktrdr_fakegw::bars::{Bar, Library, Series};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const T0: i64 = 1_704_067_200;

struct Args {
    bin: PathBuf,
    bars: usize,
    bars_per_sec: f64,
    followers: usize,
}

fn args() -> Args {
    let mut a = Args {
        bin: PathBuf::from("target/release"),
        bars: 200,
        bars_per_sec: 10.0,
        followers: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| usage(&k));
        match k.as_str() {
            "--bin" => a.bin = PathBuf::from(v),
            "--bars" => a.bars = v.parse().unwrap_or_else(|_| usage(&k)),
            "--bars-per-sec" => a.bars_per_sec = v.parse().unwrap_or_else(|_| usage(&k)),
            "--followers" => a.followers = v.parse().unwrap_or_else(|_| usage(&k)),
            _ => usage(&k),
        }
    }
    a
}

fn usage(k: &str) -> ! {
    eprintln!(
        "bench_live: bad argument {k}\nusage: bench_live --bin DIR [--bars N] [--bars-per-sec X] [--followers N]"
    );
    std::process::exit(2)
}

fn wall_us(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

fn ctl(bin: &Path, sock: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin.join("ktrdrctl"))
        .arg("--socket")
        .arg(sock)
        .args(args)
        .output()
        .expect("run ktrdrctl")
}

/// A follower process; its reader thread records (bar open time s, wall µs when read).
struct Follower {
    child: Child,
    seen: Arc<Mutex<Vec<(i64, i64)>>>,
}

fn follower(bin: &Path, sock: &Path) -> Follower {
    let mut child = Command::new(bin.join("ktrdrctl"))
        .arg("--socket")
        .arg(sock)
        .args(["--json", "data", "follow", "BENCH", "1m"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ktrdrctl");
    let out = child.stdout.take().expect("stdout");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let at = wall_us(SystemTime::now());
            // `"ts_ms":N,` in the JSON line.
            if let Some(ts) = line
                .split("\"ts_ms\":")
                .nth(1)
                .and_then(|r| r.split(',').next())
                .and_then(|n| n.parse::<i64>().ok())
            {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((ts / 1000, at));
            }
        }
    });
    Follower { child, seen }
}

struct Outcome {
    hist: Histogram<u64>,
    missing: usize,
}

fn run(a: &Args, followers: usize) -> Outcome {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let days = 2;
    let series = Series::new(
        (0..days * 1440)
            .map(|i| {
                let p = 100.0 + (i % 997) as f64 / 100.0;
                Bar {
                    ts: T0 + i * 60,
                    open: p,
                    high: p + 0.5,
                    low: p - 0.25,
                    close: p + 0.25,
                    volume: 1.0,
                }
            })
            .collect(),
    );
    let mut lib = Library::default();
    lib.insert("BENCH", "1m", series);
    let gw = rt.block_on(FakeGateway::start(lib)).expect("fake gateway");
    // Updates every 5 ms: the fake's own share of the latency stays small.
    gw.set_stream_tick(Duration::from_millis(5));
    gw.replay(T0 + 86_400, 0.0);
    let dir = tempfile::tempdir().expect("tempdir");
    let sock = dir.path().join("ktrdrd.sock");
    let mut daemon = Command::new(a.bin.join("ktrdrd"))
        .arg("--socket")
        .arg(&sock)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .env("IB_PORT", gw.port().to_string())
        .env("IB_CLIENT_ID", "41")
        .env("KTRDR_IB_PACING_SCALE", "0")
        .env("KTRDR_LOG", "warn")
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ktrdrd");
    let t = Instant::now();
    while !ctl(&a.bin, &sock, &["ping"]).status.success() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "ktrdrd did not start"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let o = ctl(&a.bin, &sock, &["data", "subscribe", "BENCH", "1m"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut fs: Vec<Follower> = (0..followers).map(|_| follower(&a.bin, &sock)).collect();
    // Every follower connected before the clock starts.
    let t = Instant::now();
    loop {
        let o = ctl(&a.bin, &sock, &["--json", "data", "subscriptions"]);
        let text = String::from_utf8_lossy(&o.stdout);
        if text.contains(&format!("\"followers\":{followers}"))
            || text.contains(&format!("\"followers\": {followers}"))
        {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "followers did not connect: {text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = gw.closed().len();
    gw.set_speed(a.bars_per_sec * 60.0);
    let t = Instant::now();
    while gw.closed().len() < before + a.bars {
        assert!(
            t.elapsed() < Duration::from_secs(600),
            "the fake stopped closing bars"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    gw.set_speed(0.0);
    // Let the last bars reach every follower.
    std::thread::sleep(Duration::from_secs(2));
    let sent: HashMap<i64, i64> = gw.closed()[before..before + a.bars]
        .iter()
        .map(|c| (c.ts, wall_us(c.sent)))
        .collect();
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    let mut missing = 0;
    for f in &fs {
        let seen = f.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let got: HashMap<i64, i64> = seen.into_iter().collect();
        for (ts, at) in &sent {
            match got.get(ts) {
                Some(r) => {
                    hist.record((r - at).max(0) as u64).ok();
                }
                None => missing += 1,
            }
        }
    }
    for f in &mut fs {
        let _ = f.child.kill();
        let _ = f.child.wait();
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    Outcome { hist, missing }
}

fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn main() {
    let a = args();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "live bars: {} closed 1m bars at {} bars/s; load average before: {}",
        a.bars,
        a.bars_per_sec,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let one = run(&a, 1);
    let many = run(&a, a.followers);
    println!("| followers | bars printed | missing | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    for (n, o) in [(1, &one), (a.followers, &many)] {
        println!(
            "| {n} | {} | {} | {:.2} | {:.2} | {:.2} |",
            o.hist.len(),
            o.missing,
            ms(&o.hist, 0.5),
            ms(&o.hist, 0.99),
            ms(&o.hist, 1.0)
        );
    }
    println!(
        "{} followers vs 1: p50 x{:.2}, p99 x{:.2}",
        a.followers,
        ms(&many.hist, 0.5) / ms(&one.hist, 0.5).max(1e-9),
        ms(&many.hist, 0.99) / ms(&one.hist, 0.99).max(1e-9)
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average after: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
