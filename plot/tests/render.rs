//! Renders real charts through the public API and checks the bytes are what a viewer expects.

use ktrdr_plot::{Chart, DEFAULT_HEIGHT, DEFAULT_WIDTH, Format, Marker, PlotError, render};

const DAY_MS: i64 = 86_400_000;
const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z

struct Series {
    ts: Vec<i64>,
    equity: Vec<f64>,
    buy_hold: Vec<f64>,
}

/// `n` bars `step_ms` apart, with wiggly but deterministic equity.
fn series(n: usize, step_ms: i64) -> Series {
    let ts = (0..n as i64).map(|i| START + i * step_ms).collect();
    let equity = (0..n)
        .map(|i| 10_000.0 + 800.0 * (i as f64 / 37.0).sin() + i as f64 * 0.01)
        .collect();
    let buy_hold = (0..n)
        .map(|i| 10_000.0 + 1_500.0 * (i as f64 / 91.0).cos())
        .collect();
    Series {
        ts,
        equity,
        buy_hold,
    }
}

fn chart<'a>(s: &'a Series, markers: &'a [Marker], title: &'a str) -> Chart<'a> {
    Chart {
        title,
        ts: &s.ts,
        equity: &s.equity,
        buy_hold: &s.buy_hold,
        markers,
        width: DEFAULT_WIDTH,
        height: DEFAULT_HEIGHT,
    }
}

const MARKERS: [Marker; 4] = [
    Marker {
        index: 10,
        entry: true,
        long: true,
    },
    Marker {
        index: 50,
        entry: false,
        long: true,
    },
    Marker {
        index: 120,
        entry: true,
        long: false,
    },
    Marker {
        index: 199,
        entry: false,
        long: false,
    },
];

/// Decodes a PNG, checking its header, and returns (width, height, RGB pixels).
fn decode(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let (w, h) = (reader.info().width, reader.info().height);
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let frame = reader.next_frame(&mut pixels).expect("PNG data");
    pixels.truncate(frame.buffer_size());
    (w, h, pixels)
}

#[test]
fn png_has_signature_and_decodes_to_the_requested_size() {
    let s = series(200, DAY_MS);
    let mut c = chart(&s, &MARKERS, "PNG test");
    c.width = 900;
    c.height = 500;
    let (w, h, pixels) = decode(&render(&c, Format::Png).expect("render"));
    assert_eq!((w, h), (900, 500));
    assert_eq!(pixels.len(), 900 * 500 * 3);
    let rgb: Vec<&[u8]> = pixels.chunks(3).collect();
    assert!(
        rgb.iter().any(|p| *p == [31, 91, 180]),
        "strategy line colour present"
    );
    assert!(
        rgb.iter().any(|p| *p == [22, 150, 52]),
        "long entry marker colour present"
    );
    assert!(
        rgb.iter().any(|p| *p == [210, 36, 36]),
        "short entry marker colour present"
    );
}

#[test]
fn png_title_text_is_drawn_with_the_embedded_font() {
    // Only the caption lives in the top rows; if no glyphs were rasterised they would be blank,
    // and two different titles would give identical rows.
    let s = series(100, DAY_MS);
    let top = |title: &str| {
        let (w, _, pixels) = decode(&render(&chart(&s, &[], title), Format::Png).expect("render"));
        pixels[..(w * 40 * 3) as usize].to_vec()
    };
    let a = top("Momentum strategy");
    let b = top("Mean reversion");
    let inked = a.chunks(3).filter(|p| p.iter().all(|&c| c < 160)).count();
    assert!(inked > 200, "only {inked} dark pixels in the title band");
    assert_ne!(a, b);
}

#[test]
fn svg_is_text_with_title_lines_and_date_labels() {
    let s = series(200, DAY_MS);
    let bytes = render(&chart(&s, &MARKERS, "Equity of strategy X"), Format::Svg).expect("render");
    let svg = String::from_utf8(bytes).expect("UTF-8");
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..40]
    );
    assert!(svg.contains("Equity of strategy X"));
    assert!(svg.contains("<polyline") || svg.contains("<path"));
    assert!(svg.contains("2024-0"), "UTC date labels");
    for legend in [
        "Strategy",
        "Buy and hold",
        "Long entry",
        "Short entry",
        "Exit",
    ] {
        assert!(svg.contains(legend), "legend {legend}");
    }
}

#[test]
fn title_is_escaped_in_svg() {
    let s = series(20, DAY_MS);
    let bytes = render(&chart(&s, &[], "A&B <x>"), Format::Svg).expect("render");
    let svg = String::from_utf8(bytes).expect("UTF-8");
    assert!(svg.contains("A&amp;B &lt;x&gt;"));
}

#[test]
fn empty_series_is_empty_error() {
    let s = series(0, DAY_MS);
    for f in [Format::Png, Format::Svg] {
        assert_eq!(render(&chart(&s, &[], "t"), f), Err(PlotError::Empty));
    }
}

#[test]
fn mismatched_lengths_are_rejected() {
    let mut s = series(50, DAY_MS);
    s.buy_hold.pop();
    assert!(matches!(
        render(&chart(&s, &[], "t"), Format::Svg),
        Err(PlotError::Lengths(_))
    ));

    let s = series(50, DAY_MS);
    let late = [Marker {
        index: 50,
        entry: true,
        long: true,
    }];
    assert!(matches!(
        render(&chart(&s, &late, "t"), Format::Png),
        Err(PlotError::Lengths(_))
    ));
}

#[test]
fn bad_values_and_sizes_are_rejected_not_drawn() {
    let mut s = series(50, DAY_MS);
    s.equity[7] = f64::NAN;
    assert!(matches!(
        render(&chart(&s, &[], "t"), Format::Png),
        Err(PlotError::Invalid(_))
    ));

    let mut s = series(50, DAY_MS);
    s.ts.swap(3, 4);
    assert!(matches!(
        render(&chart(&s, &[], "t"), Format::Svg),
        Err(PlotError::Invalid(_))
    ));

    let s = series(50, DAY_MS);
    let mut c = chart(&s, &[], "t");
    c.width = 0;
    assert!(matches!(
        render(&c, Format::Png),
        Err(PlotError::Invalid(_))
    ));
    c.width = 100_000;
    assert!(matches!(
        render(&c, Format::Png),
        Err(PlotError::Invalid(_))
    ));
}

#[test]
fn degenerate_series_still_render() {
    // One bar: no time span and no value span.
    let s = series(1, DAY_MS);
    let m = [Marker {
        index: 0,
        entry: true,
        long: true,
    }];
    for f in [Format::Png, Format::Svg] {
        assert!(render(&chart(&s, &m, "one bar"), f).is_ok());
    }
    // Flat equity over an intraday range.
    let mut s = series(60, 60_000);
    s.equity.iter_mut().for_each(|v| *v = 10_000.0);
    s.buy_hold.iter_mut().for_each(|v| *v = 10_000.0);
    let svg = render(&chart(&s, &[], "flat"), Format::Svg).expect("render");
    let svg = String::from_utf8(svg).expect("UTF-8");
    assert!(svg.contains("01-01 00:"), "intraday axes show time of day");
}

#[test]
fn million_bars_render_with_bounded_output() {
    let n = 1_000_000;
    let s = series(n, 60_000);
    let markers: Vec<Marker> = (0..n)
        .step_by(50_000)
        .map(|index| Marker {
            index,
            entry: index % 100_000 == 0,
            long: true,
        })
        .collect();
    let c = chart(&s, &markers, "a million bars");
    let svg = render(&c, Format::Svg).expect("render SVG");
    // Undownsampled, two polylines of a million "x,y " points would be over 10 MB.
    eprintln!("million-bar SVG: {} bytes", svg.len());
    assert!(svg.len() < 400_000, "SVG is {} bytes", svg.len());
    let png = render(&c, Format::Png).expect("render PNG");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn a_trade_on_every_bar_does_not_blow_up_the_svg() {
    let n = 200_000;
    let s = series(n, 60_000);
    let markers: Vec<Marker> = (0..n)
        .map(|index| Marker {
            index,
            entry: index % 2 == 0,
            long: index % 4 == 0,
        })
        .collect();
    let svg = render(&chart(&s, &markers, "churn"), Format::Svg).expect("render");
    // One marker per kind and pixel column at most: a few thousand elements, not 200,000.
    let drawn = String::from_utf8(svg)
        .expect("UTF-8")
        .matches("<polygon")
        .count();
    assert!(drawn > 100, "entries drawn: {drawn}");
    assert!(
        drawn <= 2 * DEFAULT_WIDTH as usize + 10,
        "entries drawn: {drawn}"
    );
}

#[test]
fn markers_land_on_their_bars_time() {
    // A marker at the last bar must be drawn at the right edge of the plot, one at the first bar
    // at the left edge: compare the entry triangles' x positions in the SVG.
    let s = series(1_000, DAY_MS);
    let m = [
        Marker {
            index: 0,
            entry: true,
            long: true,
        },
        Marker {
            index: 999,
            entry: true,
            long: true,
        },
    ];
    let svg = String::from_utf8(render(&chart(&s, &m, "t"), Format::Svg).expect("render"))
        .expect("UTF-8");
    let xs: Vec<f64> = svg
        .split("<polygon")
        .skip(1)
        .filter_map(|p| {
            let pts = p.split("points=\"").nth(1)?.split('"').next()?;
            let first = pts.split_whitespace().next()?;
            first.split(',').next()?.parse().ok()
        })
        .collect();
    // Two on the plot plus one in the legend.
    assert_eq!(xs.len(), 3, "{xs:?}");
    let (lo, hi) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    assert!(hi - lo > 0.8 * DEFAULT_WIDTH as f64, "{xs:?}");
}
