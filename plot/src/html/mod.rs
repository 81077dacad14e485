//! One self-contained interactive page of a [`PriceChart`]: TradingView's lightweight-charts
//! (inlined, with its licence), the chart's columns (inlined, compact: see [`codec`]) and a small
//! script that builds synchronised panes, a crosshair legend with every value of the bar under
//! the mouse, and swaps in finer or coarser data as the view is zoomed. Nothing is fetched when
//! the page is opened.
//!
//! Long series are embedded at several resolutions: every bar, then groups of 8, 64, ... bars
//! (candles aggregated, lines at each group's last bar, heat-strip degrees averaged, drawdown at
//! its deepest) until a level has at most [`COARSEST_POINTS`] points. The page shows the coarsest
//! level that still gives about a point per pixel of the visible range, and only a slice of it
//! around that range, so a million bars stay responsive and full resolution is there when zoomed
//! in.

mod codec;

use crate::price::{PaneKind, PriceChart};
use crate::{PlotError, price};
use serde_json::{Value, json};

/// The coarsest level has at most this many points.
pub const COARSEST_POINTS: usize = 4000;
/// Each level groups this many bars of the previous one.
pub const LEVEL_FACTOR: usize = 8;

/// The charting library to inline: its standalone script, its licence text and version.
#[derive(Debug, Clone, Copy)]
pub struct Library<'a> {
    pub script: &'a str,
    pub license: &'a str,
    pub version: &'a str,
}

/// A table shown on the page (metrics, parameters, trades). Cells are plain text; a sortable
/// table sorts by a column when its header is clicked (numerically when the cells are numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub id: String,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub sortable: bool,
}

/// What goes on the page besides the chart: tables above it and below it.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub before: Vec<Table>,
    pub after: Vec<Table>,
}

#[derive(Debug, Clone, Copy)]
enum Agg {
    First,
    Max,
    Min,
    Last,
    Sum,
    Mean,
}

struct Column<'a> {
    name: String,
    values: &'a [f64],
    agg: Agg,
}

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The page's bytes.
pub fn render_html(
    chart: &PriceChart,
    lib: &Library<'_>,
    extras: &Extras,
) -> Result<Vec<u8>, PlotError> {
    price::check(chart)?;
    let ts_secs: Vec<f64> = chart.ts.iter().map(|&t| (t / 1000) as f64).collect();
    let mut cols = vec![
        Column {
            name: "time".into(),
            values: &ts_secs,
            agg: Agg::First,
        },
        Column {
            name: "open".into(),
            values: &chart.open,
            agg: Agg::First,
        },
        Column {
            name: "high".into(),
            values: &chart.high,
            agg: Agg::Max,
        },
        Column {
            name: "low".into(),
            values: &chart.low,
            agg: Agg::Min,
        },
        Column {
            name: "close".into(),
            values: &chart.close,
            agg: Agg::Last,
        },
    ];
    let volume = chart.volume.as_ref().map(|v| {
        cols.push(Column {
            name: "volume".into(),
            values: v,
            agg: Agg::Sum,
        });
        cols.len() - 1
    });
    let mut overlays = Vec::new();
    for l in &chart.overlays {
        cols.push(Column {
            name: l.name.clone(),
            values: &l.values,
            agg: Agg::Last,
        });
        overlays.push(json!({"name": l.name, "col": cols.len() - 1}));
    }
    let mut panes = Vec::new();
    for p in &chart.panes {
        let pane = match &p.kind {
            PaneKind::Lines(lines) => {
                let mut v = Vec::new();
                for l in lines {
                    cols.push(Column {
                        name: l.name.clone(),
                        values: &l.values,
                        agg: Agg::Last,
                    });
                    v.push(json!({"name": l.name, "col": cols.len() - 1}));
                }
                json!({"title": p.title, "kind": "lines", "series": v})
            }
            PaneKind::Heat(rows) => {
                let mut v = Vec::new();
                for (r, l) in rows.iter().enumerate() {
                    cols.push(Column {
                        name: l.name.clone(),
                        values: &l.values,
                        agg: Agg::Mean,
                    });
                    let h = price::heat_hue(r);
                    v.push(json!({"name": l.name, "col": cols.len() - 1, "hue": [h.0, h.1, h.2]}));
                }
                json!({"title": p.title, "kind": "heat", "series": v})
            }
            PaneKind::Position(values) => {
                cols.push(Column {
                    name: p.title.clone(),
                    values,
                    agg: Agg::Last,
                });
                json!({"title": p.title, "kind": "position", "series": [{"name": p.title, "col": cols.len() - 1}]})
            }
            PaneKind::Drawdown(l) => {
                cols.push(Column {
                    name: l.name.clone(),
                    values: &l.values,
                    agg: Agg::Min,
                });
                json!({"title": p.title, "kind": "drawdown", "series": [{"name": l.name, "col": cols.len() - 1}]})
            }
        };
        panes.push(pane);
    }

    // Times are whole seconds and must stay exact (the chart needs them unique and ascending).
    let quants: Vec<codec::Quant> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 {
                codec::Quant { decimals: 0 }
            } else {
                codec::Quant::for_values(c.values)
            }
        })
        .collect();
    let levels = levels(&cols, &quants);
    let markers: Vec<Value> = chart
        .markers
        .iter()
        .map(|m| {
            json!({
                "i": m.index,
                "entry": m.entry,
                "long": m.long,
                "price": m.price,
                "conf": m.confidence.filter(|c| c.is_finite()),
            })
        })
        .collect();
    let manifest = json!({
        "title": chart.title,
        "style": match chart.style { price::BarStyle::Candles => "candles", price::BarStyle::Ohlc => "ohlc" },
        "width": chart.width,
        "height": chart.height,
        "columns": cols.iter().zip(&quants).map(|(c, q)| json!({"name": c.name, "decimals": q.decimals})).collect::<Vec<_>>(),
        "volume": volume,
        "overlays": overlays,
        "panes": panes,
        "markers": markers,
        "levels": levels,
        "palette": (0..8).map(|i| { let c = price::palette(i); format!("rgb({},{},{})", c.0, c.1, c.2) }).collect::<Vec<_>>(),
        "library": lib.version,
    });
    let data = serde_json::to_string(&manifest)
        .map_err(|e| PlotError::Render(format!("chart data: {e}")))?;

    let mut page = String::with_capacity(data.len() + lib.script.len() + 64 * 1024);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str(&format!("<title>{}</title>\n", escape(&chart.title)));
    page.push_str(&format!(
        "<!-- Drawn by ktrdr. Embeds TradingView Lightweight Charts v{} (Apache-2.0); its licence and notice are at the end of this page. -->\n",
        escape(lib.version)
    ));
    page.push_str("<style>\n");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n");
    page.push_str(&format!("<h1>{}</h1>\n", escape(&chart.title)));
    for t in &extras.before {
        table_html(&mut page, t);
    }
    page.push_str("<div id=\"legend\" class=\"legend\">&nbsp;</div>\n<div id=\"chart\" class=\"chart\"></div>\n<div id=\"status\" class=\"status\"></div>\n");
    for t in &extras.after {
        table_html(&mut page, t);
    }
    page.push_str(
        "<details class=\"notice\"><summary>Third-party software in this page</summary>\n<pre>",
    );
    page.push_str(&escape(&notice(lib)));
    page.push_str("</pre></details>\n");
    page.push_str("<script>\n");
    page.push_str(&script_safe(lib.script));
    page.push_str("\n</script>\n<script id=\"ktrdr-data\" type=\"application/json\">");
    page.push_str(&script_safe(&data));
    page.push_str("</script>\n<script>\n");
    page.push_str(SCRIPT);
    page.push_str("\n</script>\n</body>\n</html>\n");
    Ok(page.into_bytes())
}

/// The NOTICE shown with the licence: what the page embeds and whose it is.
fn notice(lib: &Library<'_>) -> String {
    format!(
        "NOTICE\n\nThis page embeds TradingView Lightweight Charts(TM) v{}\n\
         Copyright (c) TradingView, Inc. https://www.tradingview.com/\n\
         Licensed under the Apache License, Version 2.0; the licence text follows.\n\
         The chart shows the TradingView attribution logo the library adds by default.\n\n{}",
        lib.version, lib.license
    )
}

/// Text that cannot end the `<script>` element it is inlined in.
fn script_safe(s: &str) -> String {
    s.replace("</script", "<\\/script")
        .replace("</SCRIPT", "<\\/SCRIPT")
        .replace("<!--", "<\\!--")
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn table_html(out: &mut String, t: &Table) {
    let class = if t.sortable { "data sortable" } else { "data" };
    out.push_str(&format!(
        "<section class=\"table\"><h2>{}</h2>\n<table id=\"{}\" class=\"{class}\"><thead><tr>",
        escape(&t.title),
        escape(&t.id)
    ));
    for h in &t.headers {
        out.push_str(&format!("<th>{}</th>", escape(h)));
    }
    out.push_str("</tr></thead><tbody>\n");
    for r in &t.rows {
        out.push_str("<tr>");
        for c in r {
            out.push_str(&format!("<td>{}</td>", escape(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></section>\n");
}

fn aggregate(v: &[f64], agg: Agg, size: usize) -> Vec<f64> {
    v.chunks(size)
        .map(|c| match agg {
            Agg::First => c[0],
            Agg::Last => c[c.len() - 1],
            Agg::Max => c
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NAN, f64::max),
            Agg::Min => c
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NAN, f64::min),
            Agg::Sum => c.iter().copied().filter(|x| x.is_finite()).sum(),
            Agg::Mean => {
                let (s, k) = c
                    .iter()
                    .filter(|x| x.is_finite())
                    .fold((0.0, 0usize), |(s, k), x| (s + x, k + 1));
                if k == 0 { f64::NAN } else { s / k as f64 }
            }
        })
        .collect()
}

fn levels(cols: &[Column<'_>], quants: &[codec::Quant]) -> Vec<Value> {
    let n = cols[0].values.len();
    let mut out = Vec::new();
    let mut factor = 1usize;
    loop {
        let points = n.div_ceil(factor);
        let mut raw = Vec::with_capacity(points * cols.len() * 2);
        for (c, q) in cols.iter().zip(quants) {
            if factor == 1 {
                codec::column(&mut raw, c.values, *q);
            } else {
                codec::column(&mut raw, &aggregate(c.values, c.agg, factor), *q);
            }
        }
        out.push(json!({"factor": factor, "n": points, "data": codec::pack(&raw)}));
        if points <= COARSEST_POINTS {
            break;
        }
        factor *= LEVEL_FACTOR;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregation_keeps_extremes_and_ends() {
        let v = [1.0, 5.0, f64::NAN, 2.0, 3.0];
        assert_eq!(aggregate(&v, Agg::Max, 2), vec![5.0, 2.0, 3.0]);
        assert_eq!(aggregate(&v, Agg::Min, 2), vec![1.0, 2.0, 3.0]);
        let first = aggregate(&v, Agg::First, 2);
        assert_eq!((first[0], first[2]), (1.0, 3.0));
        assert!(first[1].is_nan());
        assert_eq!(aggregate(&v, Agg::Last, 2), vec![5.0, 2.0, 3.0]);
        assert_eq!(aggregate(&v, Agg::Sum, 2), vec![6.0, 2.0, 3.0]);
        assert_eq!(aggregate(&v, Agg::Mean, 5), vec![2.75]);
    }

    #[test]
    fn script_text_cannot_close_its_element() {
        assert_eq!(script_safe("a</script>b"), "a<\\/script>b");
    }
}
