//! Writes a sample chart to /tmp/ktrdr-plot-sample.{png,svg} (or to the paths given) for looking
//! at: `cargo run -p ktrdr-plot --example sample [PNG_PATH [SVG_PATH]]`.

use std::process::ExitCode;

use ktrdr_plot::{Chart, DEFAULT_HEIGHT, DEFAULT_WIDTH, Format, Marker, render};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let png_path = args
        .next()
        .unwrap_or_else(|| "/tmp/ktrdr-plot-sample.png".into());
    let svg_path = args
        .next()
        .unwrap_or_else(|| "/tmp/ktrdr-plot-sample.svg".into());

    // Two years of hourly bars from 2023-01-01 UTC: a deterministic random walk for the market,
    // and a strategy that is long or short over alternating stretches of it.
    let n = 2 * 365 * 24;
    let start = 1_672_531_200_000_i64;
    let ts: Vec<i64> = (0..n as i64).map(|i| start + i * 3_600_000).collect();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut price = 100.0;
    let mut buy_hold = Vec::with_capacity(n);
    let mut equity = Vec::with_capacity(n);
    let mut markers = Vec::new();
    let mut eq = 10_000.0;
    let mut position = 0.0;
    for i in 0..n {
        let ret = 0.00004 + 0.006 * noise();
        price *= 1.0 + ret;
        eq *= 1.0 + position * ret;
        buy_hold.push(10_000.0 * price / 100.0);
        equity.push(eq);
        if i % 700 == 350 {
            let long = (i / 700) % 3 != 1;
            position = if long { 1.0 } else { -1.0 };
            markers.push(Marker {
                index: i,
                entry: true,
                long,
            });
        } else if i % 700 == 650 && position != 0.0 {
            markers.push(Marker {
                index: i,
                entry: false,
                long: position > 0.0,
            });
            position = 0.0;
        }
    }
    let chart = Chart {
        title: "BTCUSDT 1h: sample strategy vs buy and hold",
        ts: &ts,
        equity: &equity,
        buy_hold: &buy_hold,
        markers: &markers,
        width: DEFAULT_WIDTH,
        height: DEFAULT_HEIGHT,
    };
    for (path, format) in [(png_path, Format::Png), (svg_path, Format::Svg)] {
        let written = render(&chart, format)
            .map_err(|e| e.to_string())
            .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
        if let Err(e) = written {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("wrote {path}");
    }
    ExitCode::SUCCESS
}
