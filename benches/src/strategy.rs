//! Benchmark (not a test): the full feature pipeline (10 indicators, their fuzzy sets, lags 2) on a
//! synthetic series, against the same pipeline in pandas (scripts/bench_strategy_pandas.py), timed
//! in the same run. Prints both times, the ratio, and both checksums (sum of every defined feature
//! value) so that a mismatch in what was computed shows.
//!
//!     cargo run --release -p ktrdr-benches --bin bench_strategy -- [--bars N] [--runs N] [--no-pandas]
//!
//! This binary writes a temporary CSV and runs Python; the library it measures does neither.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use ktrdr_market::synth::{Spec, generate};
use ktrdr_market::{Bars, Timeframe};
use ktrdr_strategy::features::{FeatureMatrix, build};
use ktrdr_strategy::fuzzy::apply_f32_lagged;
use ktrdr_strategy::load;

/// Mirrors PIPELINE in scripts/bench_strategy_pandas.py.
const STRATEGY: &str = r#"
name: bench_ten_indicators
training_data: {timeframes: {list: [1m]}}
model: {features: {lookback_periods: 2}}
indicators:
  - {name: rsi, period: 14}
  - {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}
  - {name: sma, period: 50}
  - {name: ema, period: 20}
  - {name: bbands, period: 20, multiplier: 2}
  - {name: atr, period: 14}
  - {name: stochastic, k_period: 14, d_period: 3, smooth_k: 3}
  - {name: williams_r, period: 14}
  - {name: roc, period: 10}
  - {name: adx, period: 14}
fuzzy_sets:
  rsi: {oversold: [0, 20, 35], neutral: [30, 50, 70], overbought: [65, 80, 100]}
  macd: {negative: {type: gaussian, parameters: [-0.05, 0.05]}, positive: {type: gaussian, parameters: [0.05, 0.05]}}
  sma: {below: {type: trapezoidal, parameters: [0, 0, 90, 100]}, above: {type: trapezoidal, parameters: [100, 110, 1000, 1000]}}
  ema: {low: [80, 90, 100], high: [100, 110, 120]}
  bbands.percent_b: {low: [-1, 0, 0.3], high: [0.7, 1, 2]}
  atr: {calm: {type: gaussian, parameters: [0.02, 0.02]}, wild: {type: gaussian, parameters: [0.1, 0.05]}}
  stochastic: {low: [0, 0, 20], high: [80, 100, 100]}
  williams_r: {low: [-100, -100, -80], high: [-20, 0, 0]}
  roc: {down: {type: gaussian, parameters: [-0.5, 0.3]}, up: {type: gaussian, parameters: [0.5, 0.3]}}
  adx: {weak: {type: trapezoidal, parameters: [0, 0, 20, 25]}, strong: {type: trapezoidal, parameters: [20, 25, 100, 100]}}
"#;

struct Args {
    bars: usize,
    runs: usize,
    pandas: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        bars: 1_000_000,
        runs: 7,
        pandas: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match arg.as_str() {
            "--bars" => a.bars = num("--bars")?,
            "--runs" => a.runs = num("--runs")?.max(1),
            "--no-pandas" => a.pandas = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn checksum(m: &FeatureMatrix) -> f64 {
    m.columns
        .iter()
        .flat_map(|c| c.iter())
        .filter(|v| !v.is_nan())
        .map(|&v| v as f64)
        .sum()
}

fn write_csv(bars: &Bars, path: &PathBuf) -> std::io::Result<()> {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bars.len() * 64);
    s.push_str("ts,open,high,low,close,volume\n");
    for b in bars.iter() {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            b.ts, b.open, b.high, b.low, b.close, b.volume
        );
    }
    std::fs::write(path, s)
}

/// Where the time goes (`KTRDR_BENCH_STAGES=1`): each indicator and then its fuzzy sets with their
/// lags, as `build` runs them, on one thread, best of 3. Each stage allocates afresh, so page
/// faults weigh more than in `build`'s repeated runs; the sum is one core's share of the work.
fn stages(strategy: &ktrdr_strategy::Strategy, bars: &Bars) {
    let best = |f: &mut dyn FnMut()| {
        (0..3)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    };
    let inp = ktrdr_strategy::indicators::Inputs::from_bars(bars);
    let mut total = 0.0;
    for (i, si) in strategy.indicators.iter().enumerate() {
        // The output the pipeline reads (each indicator here has its sets on one output).
        let sets: Vec<_> = strategy.fuzzy.iter().filter(|f| f.indicator == i).collect();
        let o = sets.first().map_or(0, |f| f.output);
        let ind = best(&mut || {
            std::hint::black_box(si.indicator.compute_output(&inp, o));
        });
        let x = si.indicator.compute_output(&inp, o);
        let ms: Vec<_> = sets.iter().map(|f| &f.membership).collect();
        let fz = best(&mut || {
            std::hint::black_box(apply_f32_lagged(&ms, &x, strategy.lookback));
        });
        total += ind + fz;
        eprintln!(
            "stage {:<12} indicator {ind:5.1} ms, {} sets with lags {fz:5.1} ms",
            si.indicator.def().name,
            sets.len()
        );
    }
    eprintln!("stage total (one thread) {total:5.1} ms");
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_strategy: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let a = args()?;
    let strategy = load(STRATEGY).map_err(|e| e.to_string())?;
    let bars = generate(&Spec {
        bars: a.bars,
        ..Spec::default()
    });
    let mut best = f64::INFINITY;
    let mut matrix = None;
    for _ in 0..a.runs {
        let t = Instant::now();
        let m = build(&strategy, &[(Timeframe::M1, &bars)]).map_err(|e| e.to_string())?;
        best = best.min(t.elapsed().as_secs_f64());
        matrix = Some(m);
    }
    let m = matrix.ok_or("no run")?;
    if std::env::var_os("KTRDR_BENCH_STAGES").is_some() {
        stages(&strategy, &bars);
    }
    let rust_sum = checksum(&m);
    println!(
        "rust:   {} bars, {} indicators, {} feature columns, best of {}: {:.3} s  (checksum {rust_sum:.6})",
        bars.len(),
        strategy.indicators.len(),
        m.names.len(),
        a.runs,
        best
    );
    if !a.pandas {
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("ktrdr-bench-strategy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let csv = dir.join("bars.csv");
    write_csv(&bars, &csv).map_err(|e| e.to_string())?;
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench_strategy_pandas.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&csv)
        // The same number of runs on both sides: on a shared machine the best of more runs is
        // likelier to have missed the other load.
        .args(["--runs", &a.runs.to_string()])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = out?;
    if !out.status.success() {
        return Err(format!(
            "pandas side failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    let field = |name: &str| -> Option<f64> {
        let rest = line.split(&format!("\"{name}\": ")).nth(1)?;
        rest.split([',', '}']).next()?.trim().parse().ok()
    };
    let (secs, cols, sum) = (field("seconds"), field("columns"), field("checksum"));
    let (Some(secs), Some(cols), Some(sum)) = (secs, cols, sum) else {
        return Err(format!("unexpected pandas output: {line}"));
    };
    println!(
        "pandas: {} bars, {} feature columns, best of {}: {secs:.3} s  (checksum {sum:.6})",
        bars.len(),
        cols,
        a.runs
    );
    println!(
        "ratio:  rust is {:.1}x faster; checksums differ by {:.1e} relative",
        secs / best,
        ((rust_sum - sum) / sum).abs()
    );
    Ok(())
}
