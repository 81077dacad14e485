//! `data_stages FILE.csv`: times each stage of a cold series load inside one process (no daemon, no
//! socket), best and median of 7 runs each, so a regression can be pinned to a stage. The file must be
//! in the OS page cache for the figures to mean "parse", not "disk": it is read once first.
//!
//! Stages: reading the bytes; the CSV fast path (`fastcsv`); the general reader (polars CSV, then
//! `frame::decode`); Parquet (written once to a temporary file next to nothing else) read by polars,
//! then decoded; and the whole `Store::load` for both formats.

use ktrdr_market::Timeframe;
use ktrdr_store::{Format, Store};
use ktrdr_store::{SeriesKey, Zone};
use ktrdr_store::{fastcsv, frame};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

fn time<T>(label: &str, mut f: impl FnMut() -> T) -> T {
    let mut ms = Vec::new();
    let mut out = None;
    for _ in 0..7 {
        let t = Instant::now();
        let v = f();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        out = Some(v);
    }
    let first = ms[0];
    ms.sort_by(f64::total_cmp);
    println!(
        "{label:<44} best {:>7.1} ms   median {:>7.1} ms   first {first:>7.1} ms",
        ms[0], ms[3]
    );
    match out {
        Some(v) => v,
        None => unreachable!("seven runs"),
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: data_stages FILE.csv");
        return ExitCode::from(2);
    };
    let path = Path::new(&path);
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("data_stages: cannot read {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{}: {} bytes, threads available: {}",
        path.display(),
        bytes.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let _ = time("read the file (std::fs::read)", || {
        std::fs::read(path).map(|b| b.len())
    });
    let _ = time("read the file (fastcsv::read_file)", || {
        fastcsv::read_file(path).map(|b| b.len())
    });
    let fast = time("fastcsv::parse (bytes in memory)", || {
        fastcsv::parse(&bytes)
    });
    let fast = match fast {
        Ok(b) => b,
        Err(d) => {
            eprintln!("data_stages: the fast path declined: {d}");
            return ExitCode::FAILURE;
        }
    };
    println!("  {} bars", fast.len());
    let _ = time("fastcsv::parse, 1 thread", || {
        fastcsv::parse_with(&bytes, 1).map(|b| b.len())
    });
    let df = time("polars read_csv", || frame::read_csv(path));
    let Ok(df) = df else {
        eprintln!("data_stages: polars cannot read the file");
        return ExitCode::FAILURE;
    };
    let general = time("frame::decode (after polars read_csv)", || {
        frame::decode(&df, &Zone::Utc).map(|d| d.bars)
    });
    match general {
        Ok(g) if g == fast => println!("  general reader == fast path"),
        _ => {
            eprintln!("data_stages: the general reader disagrees with the fast path");
            return ExitCode::FAILURE;
        }
    }
    let Ok(dir) = tempfile::tempdir() else {
        eprintln!("data_stages: no temporary directory");
        return ExitCode::FAILURE;
    };
    let store = Store::new(dir.path().to_path_buf());
    let key = SeriesKey {
        symbol: "SYN".into(),
        timeframe: Timeframe::M1,
    };
    let Ok(pq) = time("Store::save parquet", || {
        store.save(&key, &fast, Format::Parquet)
    }) else {
        eprintln!("data_stages: cannot write Parquet");
        return ExitCode::FAILURE;
    };
    let Ok(pdf) = time("polars read_parquet", || frame::read_parquet(&pq.path)) else {
        eprintln!("data_stages: cannot read Parquet");
        return ExitCode::FAILURE;
    };
    let _ = time("frame::decode (after read_parquet)", || {
        frame::decode(&pdf, &Zone::Utc).map(|d| d.bars.len())
    });
    let _ = time("Store::load parquet (read + decode)", || {
        store.load(&pq).map(|b| b.len())
    });
    let Ok(csv) = store.save(&key, &fast, Format::Csv) else {
        eprintln!("data_stages: cannot write CSV");
        return ExitCode::FAILURE;
    };
    let loaded = time("Store::load csv (read + fast path)", || {
        store.load(&csv).map(|b| b.len())
    });
    if loaded.ok() != Some(fast.len()) {
        eprintln!("data_stages: Store::load of the CSV failed");
        return ExitCode::FAILURE;
    }
    let _ = time("Bars::is_normal", || fast.is_normal());
    ExitCode::SUCCESS
}
