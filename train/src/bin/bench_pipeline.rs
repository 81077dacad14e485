//! The whole training pipeline on bars already in memory: strategy -> features (indicators, fuzzy
//! memberships, lags) + ZigZag labels + chronological split -> training -> evaluation -> saved model,
//! for the example strategy (`strategies/rsi_mean_reversion.yaml`) on a synthetic 1h series.
//! `scripts/bench-pipeline.sh` runs the predecessor's way (pandas + PyTorch) on the same bars and
//! prints the ratio.
//!
//!   bench-pipeline BARS EPOCHS CSV_OUT
//!
//! Writes the bars to CSV_OUT first (untimed) so the Python side reads exactly these bars.

use ktrdr_market::calendar::Calendar;
use ktrdr_market::synth::{Spec, generate};
use ktrdr_market::{Bars, Timeframe};
use ktrdr_strategy::dataset::prepare;
use ktrdr_train::ModelStore;
use ktrdr_train::options::Schedule;
use ktrdr_train::samples::SplitSamples;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

const STRATEGY: &str = include_str!("../../../strategies/rsi_mean_reversion.yaml");

fn write_csv(bars: &Bars, path: &Path) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(w, "ts_ms,open,high,low,close,volume")?;
    for b in bars.iter() {
        // `{}` prints the shortest string that parses back to the same f64, so both sides see
        // bit-identical prices.
        writeln!(
            w,
            "{},{},{},{},{},{}",
            b.ts, b.open, b.high, b.low, b.close, b.volume
        )?;
    }
    w.flush()
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench-pipeline: {msg}");
    std::process::exit(1);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let epochs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(3);
    let csv = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("ktrdr-bench-pipeline.csv"));

    // EURUSD-like: price near 1.1 and ~0.15 % per hour, so the example's MACD fuzzy sets (a few
    // thousandths wide) and its 1 % ZigZag threshold see the scale they were written for.
    let bars = generate(&Spec {
        seed: 7,
        timeframe: Timeframe::H1,
        calendar: Calendar::Forex,
        bars: n,
        start_price: 1.1,
        volatility: 0.0015,
        ..Spec::default()
    });
    if let Err(e) = write_csv(&bars, &csv) {
        fail(format!("{}: {e}", csv.display()));
    }

    let mut plan = ktrdr_train::plan(STRATEGY, None, None).unwrap_or_else(|e| fail(e));
    // A fixed amount of work on both sides: every epoch runs.
    plan.options.epochs = epochs;
    plan.options.patience = 0;
    if !matches!(plan.options.schedule, Schedule::Constant) {
        fail("the example strategy is expected to use a constant learning rate");
    }
    let bars = Arc::new(bars);

    // The feature phase alone, as `run` does it first; `run` below repeats it inside the total.
    let t = Instant::now();
    let refs = [(Timeframe::H1, bars.as_ref())];
    let dataset = prepare(&plan.strategy, &refs).unwrap_or_else(|e| fail(e));
    let data =
        SplitSamples::from_datasets(&[("EURUSD".to_string(), dataset)]).unwrap_or_else(|e| fail(e));
    let features_secs = t.elapsed().as_secs_f64();
    let (features, sizes) = (
        data.feature_names.len(),
        (data.train.len(), data.validation.len(), data.test.len()),
    );
    drop(data);

    let dir = std::env::temp_dir().join(format!("ktrdr-bench-pipeline-{}", std::process::id()));
    let store = ModelStore::new(&dir);
    let series = vec![("EURUSD".to_string(), vec![(Timeframe::H1, bars)])];
    let t = Instant::now();
    let outcome = ktrdr_train::run(
        &plan,
        &series,
        ktrdr_train::Device::Cpu,
        &store,
        &mut |_| {},
        &|| false,
    );
    let total_secs = t.elapsed().as_secs_f64();
    // Best effort: a leftover temporary model directory is harmless.
    let _ = std::fs::remove_dir_all(&dir);
    let outcome = outcome.unwrap_or_else(|e| fail(e));
    let m = &outcome.metadata;
    println!(
        "rust bars={n} epochs={} features={features} rows={}/{}/{} features_secs={features_secs:.3} \
         train_secs={:.2} total_secs={total_secs:.2} samples_per_sec={:.0} test_accuracy={:.3}",
        outcome.metrics.epochs_run,
        sizes.0,
        sizes.1,
        sizes.2,
        m.train_secs,
        m.samples_per_sec,
        m.test_accuracy
    );
}
