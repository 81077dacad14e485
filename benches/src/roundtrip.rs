//! Benchmarks of the socket path, each printed next to a baseline measured in the same run:
//!
//! 1. request round trip (ping through handshake-established connection) vs a bare Unix-socket echo
//!    of the same size: what framing, encoding and dispatch cost on top of the kernel;
//! 2. requests per second with 1 and 64 concurrent clients;
//! 3. whole-process `ktrdrctl health` vs spawning `/bin/true` (the process floor) and `python3 -c pass`
//!    (the floor of a Python CLI like the predecessor's, before any import);
//! 4. daemon memory after 1,000 and 10,000 finished operations (retention bounds it).
//!
//! Usage: bench-roundtrip --ctl target/release/ktrdrctl [--seconds 3]

use hdrhistogram::Histogram;
use ktrdr_daemon::app;
use ktrdr_daemon::config::{Config, Flags};
use ktrdr_protocol::request::{OpsDemo, Ping};
use ktrdr_protocol::{Connection, Reply, Request, Response};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

type Conn = Connection<UnixStream>;

async fn connect(path: &Path) -> Conn {
    let stream = UnixStream::connect(path).await.expect("connect");
    let mut conn = Connection::new(stream);
    conn.client_handshake().await.expect("handshake");
    conn
}

async fn call(conn: &mut Conn, req: &Request) -> Reply {
    conn.write(req).await.expect("write");
    loop {
        match conn.read::<Response>().await.expect("read").expect("frame") {
            Response::Reply(r) => return r,
            Response::Error(e) => panic!("error reply: {e:?}"),
            Response::Update(_)
            | Response::Bars(_)
            | Response::Equity(_)
            | Response::Signal(_)
            | Response::File(_) => {}
        }
    }
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

async fn round_trips(path: &Path, n: usize) -> Histogram<u64> {
    let mut conn = connect(path).await;
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for i in 0..n {
        let t = Instant::now();
        let _ = call(&mut conn, &Request::Ping(Ping { payload: i as u64 })).await;
        h.record(t.elapsed().as_nanos() as u64).ok();
    }
    h
}

/// The same number of bytes each way over a plain Unix socket, echoed by a plain task.
async fn echo_baseline(dir: &Path, n: usize, size: usize) -> Histogram<u64> {
    let path = dir.join("echo.sock");
    let listener = UnixListener::bind(&path).expect("bind echo");
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; size];
        while s.read_exact(&mut buf).await.is_ok() {
            if s.write_all(&buf).await.is_err() {
                break;
            }
        }
    });
    let mut s = UnixStream::connect(&path).await.expect("connect echo");
    let msg = vec![7u8; size];
    let mut back = vec![0u8; size];
    let mut h = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..n {
        let t = Instant::now();
        s.write_all(&msg).await.expect("write");
        s.read_exact(&mut back).await.expect("read");
        h.record(t.elapsed().as_nanos() as u64).ok();
    }
    h
}

async fn throughput(path: &Path, clients: usize, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (stop, count, path) = (stop.clone(), count.clone(), path.to_path_buf());
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(&path).await;
            while !stop.load(Ordering::Relaxed) {
                let _ = call(&mut conn, &Request::Ping(Ping { payload: 1 })).await;
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let n = count.load(Ordering::Relaxed);
    let elapsed = t.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    n as f64 / elapsed
}

/// Median wall time of `runs` runs of a command, in milliseconds.
fn process_time(cmd: &[&str], runs: usize) -> Option<f64> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdout(std::process::Stdio::null())
            .status()
            .ok()?;
        if !status.success() {
            return None;
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Some(times[times.len() / 2])
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .map(str::to_string)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

async fn run_ops(path: &Path, n: usize) {
    let mut conn = connect(path).await;
    for _ in 0..n {
        let req = Request::OpsDemo(OpsDemo {
            seconds: 0.0,
            steps: 1,
            fail_at: None,
            follow: true,
        });
        let _ = call(&mut conn, &req).await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let ctl = PathBuf::from(arg("--ctl").unwrap_or_else(|| "target/release/ktrdrctl".into()));
    let secs: f64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(3.0);

    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("run").join("ktrdrd.sock");
    let flags = Flags {
        socket: Some(socket.clone()),
        data_dir: Some(dir.path().join("data")),
        state_dir: Some(dir.path().join("state")),
        log: Some("warn".into()),
        log_format: None,
        config: None,
    };
    let mut config = Config::load_with(flags, |_| None).expect("config");
    config.ops.keep_finished = 1000;
    config.ops.limits.insert("demo".into(), 64);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let prepared = app::prepare(config, None).unwrap_or_else(|e| panic!("{}", e.message));
        let trigger = prepared.daemon.shutdown.clone();
        let server = tokio::spawn(app::serve(prepared));

        println!("== ktrdr socket benchmarks ({} cores) ==", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0));
        let n = 20_000;
        let _ = round_trips(&socket, 2_000).await; // warm-up
        let h = round_trips(&socket, n).await;
        let ping_len = ktrdr_protocol::codec::encode(&Request::Ping(Ping { payload: 1 })).map(|v| v.len() + 4).unwrap_or(8);
        let b = echo_baseline(dir.path(), n, ping_len).await;
        println!("round trip (ping, {n} sequential): p50 {:.1} µs  p99 {:.1} µs", pct(&h, 0.5), pct(&h, 0.99));
        println!("baseline bare socket echo ({ping_len} B): p50 {:.1} µs  p99 {:.1} µs", pct(&b, 0.5), pct(&b, 0.99));
        println!("ratio ping/echo p50: {:.2}x", pct(&h, 0.5) / pct(&b, 0.5));

        let r1 = throughput(&socket, 1, secs).await;
        let r64 = throughput(&socket, 64, secs).await;
        println!("throughput: 1 client {r1:.0} req/s, 64 clients {r64:.0} req/s (ratio {:.2}x)", r64 / r1);

        let rss0 = rss_kib();
        run_ops(&socket, 1_000).await;
        let rss1 = rss_kib();
        run_ops(&socket, 9_000).await;
        let rss10 = rss_kib();
        println!(
            "operations: RSS {} KiB at start, {} KiB after 1,000, {} KiB after 10,000 (keep_finished=1000)",
            rss0, rss1, rss10
        );

        let sock = socket.to_string_lossy().to_string();
        let ctl_s = ctl.to_string_lossy().to_string();
        let runs = 200;
        let health = process_time(&[&ctl_s, "--socket", &sock, "health"], runs);
        let truth = process_time(&["/bin/true"], runs);
        let python = process_time(&["python3", "-c", "pass"], 30);
        match health {
            Some(h) => {
                println!("whole process `ktrdrctl health` (median of {runs}): {h:.2} ms");
                if let Some(t) = truth {
                    println!("baseline /bin/true: {t:.2} ms (ktrdrctl health = {:.2}x)", h / t);
                }
                if let Some(p) = python {
                    println!("baseline python3 -c pass: {p:.2} ms ({:.1}x slower than ktrdrctl health)", p / h);
                }
                println!("predecessor `ktrdr` CLI command (recorded, not measured here): ~280 ms = {:.0}x ktrdrctl health", 280.0 / h);
            }
            None => println!("whole process: could not run {ctl_s} (build it with cargo build --release)"),
        }

        trigger.fire();
        let _ = server.await;
    });
}
