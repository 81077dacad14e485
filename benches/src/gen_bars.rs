//! `gen-bars FILE N [TIMEFRAME] [SEED]`: writes N synthetic bars (a deterministic geometric random walk
//! on the forex 24/5 calendar) to FILE in the predecessor's CSV layout. Used by `benches/data.sh`.

use ktrdr_market::synth::{Spec, generate};
use ktrdr_market::{Calendar, Timeframe, time};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let usage = || {
        eprintln!("usage: gen-bars FILE N [TIMEFRAME] [SEED]");
        ExitCode::from(2)
    };
    let (Some(path), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        return usage();
    };
    let Ok(timeframe) = args
        .get(3)
        .map_or(Ok(Timeframe::M1), |t| t.parse::<Timeframe>())
    else {
        return usage();
    };
    let seed = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(42);
    let bars = generate(&Spec {
        seed,
        timeframe,
        calendar: Calendar::Forex,
        bars: n,
        ..Spec::default()
    });
    let file = match std::fs::File::create(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gen-bars: cannot create {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut line = String::with_capacity(96);
    let mut result = writeln!(w, "timestamp,open,high,low,close,volume");
    for b in bars.iter() {
        line.clear();
        time::write_ms(&mut line, b.ts);
        result = result.and_then(|_| {
            writeln!(
                w,
                "{line},{},{},{},{},{:.1}",
                b.open, b.high, b.low, b.close, b.volume
            )
        });
    }
    if let Err(e) = result.and_then(|_| w.flush()) {
        eprintln!("gen-bars: cannot write {path}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
