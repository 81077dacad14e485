//! The multi-pane price chart and the interactive page through the public API.

use ktrdr_plot::{
    BarStyle, Extras, Format, Library, Line, Pane, PaneKind, PlotError, PriceChart, Table,
    TradeMarker, auto_height, render_html, render_price,
};

fn chart(n: usize) -> PriceChart {
    let ts: Vec<i64> = (0..n as i64)
        .map(|i| 1_704_067_200_000 + i * 60_000)
        .collect();
    let close: Vec<f64> = (0..n)
        .map(|i| 100.0 + 5.0 * (i as f64 / 500.0).sin() + (i as f64 / 7.0).cos())
        .collect();
    let open: Vec<f64> = (0..n).map(|i| close[i.saturating_sub(1)]).collect();
    let high: Vec<f64> = (0..n).map(|i| open[i].max(close[i]) + 0.3).collect();
    let low: Vec<f64> = (0..n).map(|i| open[i].min(close[i]) - 0.3).collect();
    let sma: Vec<f64> = (0..n)
        .map(|i| {
            if i < 19 {
                f64::NAN
            } else {
                close[i - 19..=i].iter().sum::<f64>() / 20.0
            }
        })
        .collect();
    let osc: Vec<f64> = (0..n)
        .map(|i| 50.0 + 40.0 * (i as f64 / 50.0).sin())
        .collect();
    let set = |c: f64| -> Vec<f64> {
        osc.iter()
            .map(|x| (1.0 - (x - c).abs() / 30.0).max(0.0))
            .collect()
    };
    let markers = (0..n / 100)
        .flat_map(|k| {
            let (a, b) = (k * 100 + 10, k * 100 + 60);
            let long = k % 2 == 0;
            [
                TradeMarker {
                    index: a,
                    price: open[a],
                    entry: true,
                    long,
                    confidence: Some(0.7),
                },
                TradeMarker {
                    index: b,
                    price: open[b],
                    entry: false,
                    long,
                    confidence: None,
                },
            ]
        })
        .collect();
    let mut c = PriceChart {
        title: "SYN 1m".into(),
        ts,
        volume: Some((0..n).map(|i| 100.0 + (i % 17) as f64).collect()),
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
                kind: PaneKind::Position(vec![0.0; n]),
            },
            Pane {
                title: "osc".into(),
                kind: PaneKind::Lines(vec![Line {
                    name: "osc".into(),
                    values: osc.clone(),
                }]),
            },
            Pane {
                title: "fuzzy osc".into(),
                kind: PaneKind::Heat(vec![
                    Line {
                        name: "low".into(),
                        values: set(20.0),
                    },
                    Line {
                        name: "high".into(),
                        values: set(80.0),
                    },
                ]),
            },
            Pane {
                title: "drawdown".into(),
                kind: PaneKind::Drawdown(Line {
                    name: "dd".into(),
                    values: vec![-1.0; n],
                }),
            },
        ],
        markers,
        width: 1200,
        height: 0,
    };
    c.height = auto_height(&c);
    c
}

#[test]
fn svg_has_one_pane_element_per_pane_and_one_marker_per_fill() {
    let c = chart(1000);
    let svg = String::from_utf8(render_price(&c, Format::Svg).unwrap()).unwrap();
    let panes: Vec<&str> = svg
        .split("<svg class=\"pane\" data-pane=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(
        panes,
        [
            "price",
            "volume",
            "position",
            "osc",
            "fuzzy osc",
            "drawdown"
        ]
    );
    assert_eq!(c.pane_titles(), panes);
    let price = svg.split("<svg class=\"pane\"").nth(1).unwrap();
    let longs = c.markers.iter().filter(|m| m.entry && m.long).count();
    let shorts = c.markers.iter().filter(|m| m.entry && !m.long).count();
    assert_eq!(price.matches("fill=\"#008C3C\"").count(), longs);
    assert_eq!(price.matches("fill=\"#C81E1E\"").count(), shorts);
    assert_eq!(
        price.matches("stroke=\"#141414\"").count(),
        c.markers.len() - longs - shorts
    );
}

#[test]
fn a_long_series_draws_in_a_bounded_png() {
    let c = chart(200_000);
    let png = render_price(&c, Format::Png).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = render_price(&c, Format::Svg).unwrap();
    // Candles and lines are grouped per pixel column; only the 4,000 markers add per-trade elements.
    assert!(svg.len() < 6_000_000, "{} bytes", svg.len());
}

#[test]
fn the_page_is_self_contained_and_compact() {
    let c = chart(200_000);
    let lib = Library {
        script: "window.LightweightCharts = {}; // </script> inside",
        license: "Apache License 2.0 text",
        version: "5.3.0",
    };
    let extras = Extras {
        before: vec![Table {
            id: "m".into(),
            title: "Metrics <&>".into(),
            headers: vec!["a".into()],
            rows: vec![vec!["1".into()]],
            sortable: false,
        }],
        after: Vec::new(),
    };
    let page = String::from_utf8(render_html(&c, &lib, &extras).unwrap()).unwrap();
    assert!(page.contains("Apache License 2.0 text") && page.contains("TradingView"));
    assert!(page.contains("Metrics &lt;&amp;&gt;"));
    assert_eq!(
        page.matches("</script>").count(),
        3,
        "only the three script elements close"
    );
    assert!(!page.contains("src=\"http") && !page.contains("https://cdn"));
    // Every bar of ten columns (times, OHLC, volume, sma, osc, two fuzzy sets, position,
    // drawdown) plus coarser levels: well under 20 bytes a bar.
    assert!(page.len() < 200_000 * 20, "{} bytes", page.len());
}

#[test]
fn bad_input_is_refused_before_drawing() {
    let mut c = chart(100);
    c.overlays[0].values.pop();
    assert!(matches!(
        render_price(&c, Format::Png),
        Err(PlotError::Lengths(_))
    ));
    let mut c = chart(100);
    c.height = 250;
    assert!(matches!(
        render_price(&c, Format::Png),
        Err(PlotError::Invalid(_))
    ));
    let mut c = chart(100);
    c.markers.push(TradeMarker {
        index: 100,
        price: 1.0,
        entry: true,
        long: true,
        confidence: None,
    });
    assert!(matches!(
        render_price(&c, Format::Svg),
        Err(PlotError::Lengths(_))
    ));
    let mut c = chart(100);
    c.close[3] = f64::NAN;
    assert!(matches!(
        render_price(&c, Format::Png),
        Err(PlotError::Invalid(_))
    ));
}
