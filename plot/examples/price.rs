//! Draws a synthetic multi-pane price chart to PNG and SVG (and prints the pane titles), for a
//! person to look at: `cargo run -p ktrdr-plot --example price -- /tmp/out N`.

use ktrdr_plot::{
    BarStyle, Format, Line, Pane, PaneKind, PriceChart, TradeMarker, auto_height, render_price,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().unwrap_or_else(|| "/tmp/ktrdr-price".into());
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(300);
    let chart = synthetic(n);
    for f in [Format::Png, Format::Svg] {
        let bytes = render_price(&chart, f)?;
        let path = format!("{out}.{}", f.extension());
        std::fs::write(&path, bytes)?;
        println!("{path}");
    }
    // The interactive page too when the library is there (scripts/fetch-charts-js.sh).
    if let Ok(dir) = std::env::var("KTRDR_CHART_JS_DIR") {
        let script =
            std::fs::read_to_string(format!("{dir}/lightweight-charts.standalone.production.js"))?;
        let license = std::fs::read_to_string(format!("{dir}/LICENSE"))?;
        let lib = ktrdr_plot::Library {
            script: &script,
            license: &license,
            version: "5.3.0",
        };
        let page = ktrdr_plot::render_html(&chart, &lib, &ktrdr_plot::Extras::default())?;
        let path = format!("{out}.html");
        std::fs::write(&path, page)?;
        println!("{path}");
    }
    Ok(())
}

fn synthetic(n: usize) -> PriceChart {
    let ts: Vec<i64> = (0..n as i64)
        .map(|i| 1_704_067_200_000 + i * 3_600_000)
        .collect();
    let close: Vec<f64> = (0..n)
        .map(|i| 1.1 + 0.02 * (i as f64 / 40.0).sin() + 0.004 * (i as f64 / 3.0).cos())
        .collect();
    let open: Vec<f64> = (0..n)
        .map(|i| if i == 0 { close[0] } else { close[i - 1] })
        .collect();
    let high: Vec<f64> = (0..n).map(|i| open[i].max(close[i]) + 0.001).collect();
    let low: Vec<f64> = (0..n).map(|i| open[i].min(close[i]) - 0.001).collect();
    let sma: Vec<f64> = (0..n)
        .map(|i| {
            if i < 19 {
                f64::NAN
            } else {
                close[i - 19..=i].iter().sum::<f64>() / 20.0
            }
        })
        .collect();
    let rsi: Vec<f64> = (0..n)
        .map(|i| 50.0 + 30.0 * (i as f64 / 17.0).sin())
        .collect();
    let low_set: Vec<f64> = rsi
        .iter()
        .map(|r| ((50.0 - r) / 30.0).clamp(0.0, 1.0))
        .collect();
    let high_set: Vec<f64> = rsi
        .iter()
        .map(|r| ((r - 50.0) / 30.0).clamp(0.0, 1.0))
        .collect();
    let mid_set: Vec<f64> = rsi
        .iter()
        .map(|r| 1.0 - ((r - 50.0).abs() / 30.0).min(1.0))
        .collect();
    let mut position = vec![0.0; n];
    let mut markers = Vec::new();
    let mut equity = Vec::with_capacity(n);
    let mut e = 10_000.0;
    for t in 0..n {
        if t % 50 == 10 && t + 20 < n {
            let long = (t / 50) % 2 == 0;
            markers.push(TradeMarker {
                index: t,
                price: open[t],
                entry: true,
                long,
                confidence: Some(0.71),
            });
            markers.push(TradeMarker {
                index: t + 20,
                price: open[t + 20],
                entry: false,
                long,
                confidence: Some(0.64),
            });
            for p in position.iter_mut().take(t + 20).skip(t) {
                *p = if long { 1.0 } else { -1.0 };
            }
        }
        e *= 1.0 + position[t] * (close[t] / open[t] - 1.0);
        equity.push(e);
    }
    let mut peak = f64::MIN;
    let dd: Vec<f64> = equity
        .iter()
        .map(|&x| {
            peak = peak.max(x);
            (x / peak - 1.0) * 100.0
        })
        .collect();
    let bh: Vec<f64> = close.iter().map(|c| 10_000.0 * c / close[0]).collect();
    let mut c = PriceChart {
        title: "EURUSD 1h (synthetic)".into(),
        ts,
        volume: Some(
            (0..n)
                .map(|i| 1000.0 + 500.0 * (i as f64 / 7.0).sin().abs())
                .collect(),
        ),
        open,
        high,
        low,
        close,
        style: BarStyle::Candles,
        overlays: vec![Line {
            name: "sma_20".into(),
            values: sma,
        }],
        panes: vec![
            Pane {
                title: "position".into(),
                kind: PaneKind::Position(position),
            },
            Pane {
                title: "rsi_14".into(),
                kind: PaneKind::Lines(vec![Line {
                    name: "rsi_14".into(),
                    values: rsi,
                }]),
            },
            Pane {
                title: "fuzzy rsi_14".into(),
                kind: PaneKind::Heat(vec![
                    Line {
                        name: "oversold".into(),
                        values: low_set,
                    },
                    Line {
                        name: "neutral".into(),
                        values: mid_set,
                    },
                    Line {
                        name: "overbought".into(),
                        values: high_set,
                    },
                ]),
            },
            Pane {
                title: "equity".into(),
                kind: PaneKind::Lines(vec![
                    Line {
                        name: "strategy".into(),
                        values: equity,
                    },
                    Line {
                        name: "buy and hold".into(),
                        values: bh,
                    },
                ]),
            },
            Pane {
                title: "drawdown".into(),
                kind: PaneKind::Drawdown(Line {
                    name: "drawdown %".into(),
                    values: dd,
                }),
            },
        ],
        markers,
        width: 1400,
        height: 800,
    };
    c.height = auto_height(&c);
    c
}
