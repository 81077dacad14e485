//! Benchmark (not a test): `engine::run` over a deterministic random-walk series with random class
//! probabilities, against the same rules as a plain Python bar loop
//! (scripts/bench_backtest_python.py) timed in the same run. Prints both speeds, the ratio, and both
//! end equities and trade counts, which must agree ("MISMATCH" and exit 1 otherwise).
//!
//!     cargo run --release -p ktrdr-benches --bin bench_backtest -- [--bars N] [--runs N] [--short] [--no-python]
//!
//! This binary writes a temporary CSV and runs Python; the library it measures does neither.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ktrdr_backtest::metrics::periods_per_year;
use ktrdr_backtest::{Config, Outcome, Prices, run};

const HOUR_MS: i64 = 3_600_000;
/// Rows before this are NaN, as while a strategy's features warm up.
const WARM_UP: usize = 50;

struct Args {
    bars: usize,
    runs: usize,
    short: bool,
    python: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        bars: 1_000_000,
        runs: 5,
        short: false,
        python: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--bars" => a.bars = num("--bars")?.max(2),
            "--runs" => a.runs = num("--runs")?.max(1),
            "--short" => a.short = true,
            "--no-python" => a.python = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

/// xorshift64*: deterministic and dependency-free; quality is irrelevant here.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Series {
    ts: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    probs: Vec<[f32; 3]>,
}

fn generate(n: usize) -> Series {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = Series {
        ts: Vec::with_capacity(n),
        open: Vec::with_capacity(n),
        high: Vec::with_capacity(n),
        low: Vec::with_capacity(n),
        close: Vec::with_capacity(n),
        probs: Vec::with_capacity(n),
    };
    let mut last = 1.1;
    for i in 0..n {
        let open = last * (1.0 + 0.0002 * (rng.unit() - 0.5));
        let close = open * (1.0 + 0.004 * (rng.unit() - 0.5));
        s.ts.push(1_500_000_000_000 + i as i64 * HOUR_MS);
        s.open.push(open);
        s.high.push(open.max(close));
        s.low.push(open.min(close));
        s.close.push(close);
        last = close;
        let row = if i < WARM_UP {
            [f32::NAN; 3]
        } else {
            row(&mut rng)
        };
        s.probs.push(row);
    }
    s
}

/// A model that is mostly unsure: about 0.8% of bars carry a BUY or SELL above the default
/// threshold, 1.2% a weaker one below it; the rest are HOLD. (Uniformly random rows would trade on
/// one bar in sixteen and the costs would drain the account to nothing over a million bars.)
fn row(rng: &mut Rng) -> [f32; 3] {
    let u = rng.unit();
    let top = if u < 0.008 {
        0.6 + 0.3 * rng.unit()
    } else if u < 0.02 {
        0.45 + 0.14 * rng.unit()
    } else {
        let (a, b, c) = (rng.unit(), 2.0 + rng.unit(), rng.unit());
        let sum = a + b + c;
        return [(a / sum) as f32, (b / sum) as f32, (c / sum) as f32];
    };
    let rest = 1.0 - top;
    let split = rng.unit();
    let (side, hold) = (rest * split * 0.5, rest * (1.0 - split * 0.5));
    if rng.unit() < 0.5 {
        [top as f32, hold as f32, side as f32]
    } else {
        [side as f32, hold as f32, top as f32]
    }
}

/// Every number is written so that Python parses back the exact same double (shortest round-trip
/// form; probabilities widened to f64 first, so the f32 value itself is what Python reads).
fn write_csv(s: &Series, path: &Path) -> std::io::Result<()> {
    let mut out = String::with_capacity(s.ts.len() * 96);
    out.push_str("ts,open,close,p_buy,p_hold,p_sell\n");
    for i in 0..s.ts.len() {
        let [a, b, c] = s.probs[i].map(f64::from);
        let _ = writeln!(out, "{},{},{},{a},{b},{c}", s.ts[i], s.open[i], s.close[i]);
    }
    std::fs::write(path, out)
}

fn main() {
    match bench() {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("bench_backtest: {e}");
            std::process::exit(1);
        }
    }
}

/// Ok(false) when the two implementations disagree.
fn bench() -> Result<bool, String> {
    let a = args()?;
    let s = generate(a.bars);
    let cfg = Config {
        allow_short: a.short,
        periods_per_year: periods_per_year(&s.ts, HOUR_MS),
        ..Config::default()
    };
    let prices = Prices {
        ts: &s.ts,
        open: &s.open,
        high: &s.high,
        low: &s.low,
        close: &s.close,
    };
    let mut best = f64::INFINITY;
    let mut outcome: Option<Outcome> = None;
    for _ in 0..a.runs {
        let t = Instant::now();
        let out = run(prices, &s.probs, &cfg).map_err(|e| e.to_string())?;
        best = best.min(t.elapsed().as_secs_f64());
        outcome = Some(out);
    }
    let out = outcome.ok_or("no run")?;
    let rust_rate = a.bars as f64 / best;
    let rust_end = out.metrics.end_equity;
    println!(
        "config: {} bars, {}, commission {}, slippage {}, fraction {}, threshold {}, separation {}",
        a.bars,
        if cfg.allow_short {
            "long/short"
        } else {
            "long-only"
        },
        cfg.commission,
        cfg.slippage,
        cfg.position_fraction,
        cfg.confidence_threshold,
        cfg.min_signal_separation
    );
    println!(
        "rust:   best of {}: {:.4} s, {:.1} M bars/s  (end equity {rust_end:.6}, {} trades, acted {}, actions {:?})",
        a.runs,
        best,
        rust_rate / 1e6,
        out.trades.len(),
        out.acted,
        out.actions
    );
    if !a.python {
        return Ok(true);
    }

    let dir = std::env::temp_dir().join(format!("ktrdr-bench-backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let csv = dir.join("bars.csv");
    let result = write_csv(&s, &csv)
        .map_err(|e| e.to_string())
        .and_then(|()| python(&csv, &cfg));
    let _ = std::fs::remove_dir_all(&dir);
    let (secs, py_end, py_trades) = result?;
    let py_rate = a.bars as f64 / secs;
    println!(
        "python: best of 3: {secs:.4} s, {:.3} M bars/s  (end equity {py_end:.6}, {py_trades} trades)",
        py_rate / 1e6
    );
    println!(
        "ratio:  rust is {:.1}x python (bars/s)",
        rust_rate / py_rate
    );
    let relative = ((rust_end - py_end) / rust_end).abs();
    if relative > 1e-6 || py_trades != out.trades.len() {
        println!(
            "MISMATCH: end equity {rust_end} vs {py_end} ({relative:.1e} relative), trades {} vs {py_trades}",
            out.trades.len()
        );
        return Ok(false);
    }
    println!("agree:  end equities differ by {relative:.1e} relative, same trade count");
    Ok(true)
}

/// Runs the Python side; returns (best seconds, end equity, trades).
fn python(csv: &Path, cfg: &Config) -> Result<(f64, f64, usize), String> {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench_backtest_python.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(csv)
        .args(["--runs", "3"])
        .args(["--capital", &cfg.capital.to_string()])
        .args(["--commission", &cfg.commission.to_string()])
        .args(["--slippage", &cfg.slippage.to_string()])
        .args(["--fraction", &cfg.position_fraction.to_string()])
        .args(["--threshold", &cfg.confidence_threshold.to_string()])
        .args(["--separation", &cfg.min_signal_separation.to_string()])
        .args(["--short", if cfg.allow_short { "1" } else { "0" }])
        .args(["--aware", if cfg.position_awareness { "1" } else { "0" }])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "python side failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    let field = |name: &str| -> Option<f64> {
        let rest = line.split(&format!("\"{name}\": ")).nth(1)?;
        rest.split([',', '}']).next()?.trim().parse().ok()
    };
    match (field("seconds"), field("end_equity"), field("trades")) {
        (Some(s), Some(e), Some(t)) if t >= 0.0 => Ok((s, e, t as usize)),
        _ => Err(format!("unexpected python output: {line}")),
    }
}
