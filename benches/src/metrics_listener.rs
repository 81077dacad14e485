//! What the `/metrics` listener costs the socket path: real `ktrdrd` processes, identical but for
//! `metrics.listen` (off in two, on in the third, scraped like Prometheus would), measured in the
//! same run and interleaved, so all see the same machine load. The second daemon without metrics
//! is the noise floor: an on/off ratio within the off/off ratio is no measurable difference.
//!
//! 1. ping round trip over an established connection: p50 and p99 of each, and on/off ratios;
//! 2. whole-process `ktrdrctl health`: median and p90 of each, and on/off ratios;
//! 3. what one scrape costs: the time to answer `GET /metrics` and its size.
//!
//! Usage: bench-metrics --ktrdrd target/release/ktrdrd --ctl target/release/ktrdrctl
//!        [--rounds 10] [--pings 2000] [--health 200] [--scrape-ms 1000]
//! (`benches/metrics.sh` builds the release binaries and runs this.)

use hdrhistogram::Histogram;
use ktrdr_protocol::request::Ping;
use ktrdr_protocol::{Connection, Reply, Request, Response};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::UnixStream;

type Conn = Connection<UnixStream>;

struct Daemon {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(ktrdrd: &Path, ctl: &Path, listen: Option<&str>) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("ktrdrd.sock");
    let mut cmd = Command::new(ktrdrd);
    cmd.arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("KTRDR_LOG", "warn")
        .env_remove("KTRDR_METRICS_LISTEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(addr) = listen {
        cmd.env("KTRDR_METRICS_LISTEN", addr);
    }
    let child = cmd.spawn().expect("start ktrdrd");
    let d = Daemon {
        child,
        socket,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !health_ok(ctl, &d.socket) {
        assert!(Instant::now() < deadline, "ktrdrd did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

fn health_ok(ctl: &Path, socket: &Path) -> bool {
    Command::new(ctl)
        .arg("--socket")
        .arg(socket)
        .arg("health")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

async fn connect(path: &Path) -> Conn {
    let stream = UnixStream::connect(path).await.expect("connect");
    let mut conn = Connection::new(stream);
    conn.client_handshake().await.expect("handshake");
    conn
}

async fn ping(conn: &mut Conn, i: u64) {
    conn.write(&Request::Ping(Ping { payload: i }))
        .await
        .expect("write");
    match conn.read::<Response>().await.expect("read").expect("frame") {
        Response::Reply(Reply::Pong { .. }) => {}
        other => panic!("unexpected answer: {other:?}"),
    }
}

async fn pings(conn: &mut Conn, n: usize, h: &mut Histogram<u64>) {
    for i in 0..n {
        let t = Instant::now();
        ping(conn, i as u64).await;
        h.record(t.elapsed().as_nanos() as u64).ok();
    }
}

fn us(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num =
        |name: &str, default: usize| arg(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let ktrdrd = PathBuf::from(arg("--ktrdrd").unwrap_or_else(|| "target/release/ktrdrd".into()));
    let ctl = PathBuf::from(arg("--ctl").unwrap_or_else(|| "target/release/ktrdrctl".into()));
    let (rounds, n_pings, n_health) = (
        num("--rounds", 10),
        num("--pings", 2000),
        num("--health", 200),
    );
    let scrape_every = Duration::from_millis(num("--scrape-ms", 1000) as u64);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let listen = format!("127.0.0.1:{port}");
    let off = start(&ktrdrd, &ctl, None);
    let off2 = start(&ktrdrd, &ctl, None);
    let on = start(&ktrdrd, &ctl, Some(&listen));

    // A scraper like Prometheus: GET /metrics every `scrape_every`, timing each answer.
    let stop = Arc::new(AtomicBool::new(false));
    let scrapes = Arc::new(AtomicU64::new(0));
    let scraper = {
        let (stop, scrapes, url) = (
            Arc::clone(&stop),
            Arc::clone(&scrapes),
            format!("http://{listen}/metrics"),
        );
        std::thread::spawn(move || {
            let mut times = Vec::new();
            let mut bytes = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let body = ureq::get(&url)
                    .call()
                    .and_then(|mut r| r.body_mut().read_to_string());
                match body {
                    Ok(text) => {
                        times.push(t.elapsed().as_secs_f64() * 1e6);
                        bytes = text.len();
                        scrapes.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => panic!("scrape failed: {e}"),
                }
                std::thread::sleep(scrape_every.saturating_sub(t.elapsed()));
            }
            (times, bytes)
        })
    };

    println!(
        "== metrics listener cost ({} cores): ktrdrd with metrics.listen off (twice) vs on ({listen}, scraped every {} ms) ==",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        scrape_every.as_millis()
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let daemons = [&off, &off2, &on];
    let hists = rt.block_on(async {
        let mut conns = Vec::new();
        for d in daemons {
            conns.push(connect(&d.socket).await);
        }
        let mut warm = Histogram::<u64>::new(3).expect("histogram");
        for c in &mut conns {
            pings(c, 2000, &mut warm).await;
        }
        let mut hists: Vec<Histogram<u64>> = (0..3)
            .map(|_| Histogram::<u64>::new(3).expect("histogram"))
            .collect();
        for r in 0..rounds {
            // Rotating which goes first, so none always follows another.
            for k in 0..3 {
                let i = (r + k) % 3;
                pings(&mut conns[i], n_pings, &mut hists[i]).await;
            }
        }
        hists
    });
    let total = rounds * n_pings;
    let names = ["metrics off  ", "off (2nd)    ", "metrics on   "];
    println!("ping round trip, {total} each, interleaved in {rounds} rounds:");
    for (name, h) in names.iter().zip(&hists) {
        println!(
            "  {name} p50 {:.1} µs  p99 {:.1} µs",
            us(h, 0.5),
            us(h, 0.99)
        );
    }
    let ratio = |a: &Histogram<u64>, b: &Histogram<u64>, q: f64| us(a, q) / us(b, q);
    println!(
        "  ratio on/off:  p50 {:.3}x  p99 {:.3}x\n  noise floor, off(2nd)/off: p50 {:.3}x  p99 {:.3}x",
        ratio(&hists[2], &hists[0], 0.5),
        ratio(&hists[2], &hists[0], 0.99),
        ratio(&hists[1], &hists[0], 0.5),
        ratio(&hists[1], &hists[0], 0.99)
    );

    let mut times: Vec<Vec<f64>> = (0..3).map(|_| Vec::with_capacity(n_health)).collect();
    for i in 0..n_health * 3 {
        // Each triple starts with the next daemon, so none always follows another.
        let k = (i % 3 + i / 3) % 3;
        let t = Instant::now();
        assert!(
            health_ok(&ctl, &daemons[k].socket),
            "ktrdrctl health failed"
        );
        times[k].push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    println!("whole process `ktrdrctl health`, {n_health} each, in rotating turns:");
    for (name, t) in names.iter().zip(&times) {
        println!(
            "  {name} median {:.3} ms  p90 {:.3} ms",
            quantile(t, 0.5),
            quantile(t, 0.9)
        );
    }
    let r = |a: &[f64], b: &[f64], q: f64| quantile(a, q) / quantile(b, q);
    println!(
        "  ratio on/off:  median {:.3}x  p90 {:.3}x\n  noise floor, off(2nd)/off: median {:.3}x  p90 {:.3}x",
        r(&times[2], &times[0], 0.5),
        r(&times[2], &times[0], 0.9),
        r(&times[1], &times[0], 0.5),
        r(&times[1], &times[0], 0.9)
    );

    stop.store(true, Ordering::Relaxed);
    let (mut times, bytes) = scraper.join().expect("scraper");
    times.sort_by(f64::total_cmp);
    if !times.is_empty() {
        println!(
            "scrapes during the run: {} (GET /metrics answered in median {:.0} µs, max {:.0} µs; {bytes} bytes)",
            scrapes.load(Ordering::Relaxed),
            quantile(&times, 0.5),
            quantile(&times, 1.0)
        );
    }
}
