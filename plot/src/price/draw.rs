//! The panes, drawn the same way on any plotters backend (bitmap for PNG, SVG).

use super::bucket::{self, Buckets};
use super::layout::{AXIS_H, LABELS_W, Layout, RIGHT_MARGIN, Slot, TITLE_H};
use super::{BarStyle, Line, PaneKind, PriceChart};
use crate::font::FAMILY;
use crate::{PlotError, downsample, labels};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const UP: RGBColor = RGBColor(38, 166, 154);
pub const DOWN: RGBColor = RGBColor(239, 83, 80);
/// Marker colours, used for nothing else (a reader of the SVG counts fills by them).
pub const LONG_ENTRY: RGBColor = RGBColor(0, 140, 60);
pub const SHORT_ENTRY: RGBColor = RGBColor(200, 30, 30);
pub const EXIT: RGBColor = RGBColor(20, 20, 20);
const FLAT_GRID: RGBColor = RGBColor(236, 236, 236);
const PALETTE: [RGBColor; 8] = [
    RGBColor(33, 100, 200),
    RGBColor(235, 125, 20),
    RGBColor(140, 60, 170),
    RGBColor(20, 150, 130),
    RGBColor(190, 60, 60),
    RGBColor(110, 110, 110),
    RGBColor(200, 160, 0),
    RGBColor(0, 170, 220),
];
/// Heat-strip hues per set (low, middle, high... in the strategy's order).
const HEAT: [RGBColor; 5] = [
    RGBColor(33, 100, 200),
    RGBColor(120, 120, 120),
    RGBColor(210, 60, 40),
    RGBColor(20, 150, 90),
    RGBColor(150, 70, 190),
];
/// Above this many markers the confidence labels would only overlap.
const MAX_LABELLED_MARKERS: usize = 60;

pub fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

pub fn heat_hue(i: usize) -> RGBColor {
    HEAT[i % HEAT.len()]
}

fn err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Render(e.to_string())
}

type Ctx<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The whole chart on one drawing area (the PNG).
pub fn whole<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    layout: &Layout,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    title(root, chart)?;
    for (i, p) in layout.slots.iter().enumerate() {
        let area = root.clone().shrink((0, p.top), (chart.width, p.height));
        slot(&area, chart, layout, i)?;
    }
    root.present().map_err(err)
}

fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let style = TextStyle::from((FAMILY, 20).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    root.draw(&Text::new(
        chart.title.clone(),
        (LABELS_W as i32, TITLE_H as i32 / 2),
        style,
    ))
    .map_err(err)
}

/// The SVG: an outer document holding the title and one nested `<svg>` per pane.
pub fn svg(chart: &PriceChart, layout: &Layout) -> Result<String, PlotError> {
    let (w, h) = (chart.width, chart.height);
    let mut out = format!(
        r##"<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" class="ktrdr-chart">
<rect x="0" y="0" width="{w}" height="{h}" fill="#FFFFFF"/>
"##
    );
    let mut head = String::new();
    {
        let root = SVGBackend::with_string(&mut head, (w, TITLE_H)).into_drawing_area();
        title(&root, chart)?;
        root.present().map_err(err)?;
    }
    out.push_str(&nest(&head, "class=\"title\"", 0));
    for (i, p) in layout.slots.iter().enumerate() {
        let inner = super::svg_pane(chart, layout, i)?;
        let attrs = format!("class=\"pane\" data-pane=\"{}\"", escape(&p.title));
        out.push_str(&nest(&inner, &attrs, p.top));
    }
    out.push_str("</svg>\n");
    Ok(out)
}

/// `inner` (a whole SVG document from plotters) as a nested `<svg>` at `y`, with `attrs`.
fn nest(inner: &str, attrs: &str, y: u32) -> String {
    let body = inner.trim_start_matches(|c| c != '<');
    let body = body.strip_prefix("<?xml").map_or(body, |rest| {
        rest.split_once("?>")
            .map_or(rest, |(_, after)| after.trim_start())
    });
    match body.strip_prefix("<svg") {
        Some(rest) => format!("<svg {attrs} x=\"0\" y=\"{y}\"{rest}"),
        None => body.to_string(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// One pane on its own area.
pub fn slot<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    layout: &Layout,
    i: usize,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(err)?;
    let last = i + 1 == layout.slots.len();
    let placed = &layout.slots[i];
    match placed.slot {
        Slot::Price => price(area, chart, last),
        Slot::Volume => volume(area, chart, last),
        Slot::Extra(k) => {
            let p = &chart.panes[k];
            match &p.kind {
                PaneKind::Lines(lines) => line_pane(area, chart, &p.title, lines, last),
                PaneKind::Heat(rows) => heat(area, chart, &p.title, rows, last),
                PaneKind::Position(v) => position(area, chart, &p.title, v, last),
                PaneKind::Drawdown(l) => drawdown(area, chart, &p.title, l, last),
            }
        }
    }?;
    area.present().map_err(err)
}

/// A pane's axes: bars on x (so gaps in trading take no room), `y` on the left, dates only under
/// the last pane.
fn frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    chart: &PriceChart,
    y: (f64, f64),
    last: bool,
    y_labels: usize,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<Ctx<'a, DB>, PlotError>
where
    DB::ErrorType: 'static,
{
    let n = chart.len();
    let mut ctx = ChartBuilder::on(area)
        .margin_top(4)
        .margin_right(RIGHT_MARGIN)
        .x_label_area_size(if last { AXIS_H } else { 0 })
        .y_label_area_size(LABELS_W)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), y.0..y.1)
        .map_err(err)?;
    let ts = &chart.ts;
    let span = ts[n - 1] - ts[0];
    let x_fmt = |x: &f64| {
        let i = x.round().clamp(0.0, (n - 1) as f64) as usize;
        labels::time_label(ts[i], span)
    };
    ctx.configure_mesh()
        .x_labels((chart.width / 170).max(2) as usize)
        .y_labels(y_labels)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(y_fmt)
        .label_style((FAMILY, 13))
        .max_light_lines(1)
        .light_line_style(FLAT_GRID)
        .bold_line_style(RGBColor(222, 222, 222))
        .draw()
        .map_err(err)?;
    Ok(ctx)
}

/// The pane's name in its upper left corner, and the names of its series in their colours.
fn pane_label<DB: DrawingBackend>(
    ctx: &Ctx<'_, DB>,
    title: &str,
    names: &[(String, RGBColor)],
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let area = ctx.plotting_area();
    let (x0, _) = area.get_base_pixel();
    let mut x = 6;
    let y = 4;
    let bold = TextStyle::from((FAMILY, 13).into_font()).color(&RGBColor(60, 60, 60));
    let _ = x0;
    let root = area.strip_coord_spec();
    root.draw(&Text::new(title.to_string(), (x, y), bold.clone()))
        .map_err(err)?;
    x += 9 * title.chars().count() as i32 + 12;
    for (name, color) in names {
        if name == title {
            continue;
        }
        let style = TextStyle::from((FAMILY, 13).into_font()).color(color);
        root.draw(&Text::new(name.clone(), (x, y), style))
            .map_err(err)?;
        x += 8 * name.chars().count() as i32 + 14;
    }
    Ok(())
}

fn pad(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    let p = if span > 0.0 {
        span * frac
    } else {
        (hi.abs() * 0.01).max(1e-9)
    };
    (lo - p, hi + p)
}

fn extent<'a>(series: impl Iterator<Item = &'a [f64]>) -> (f64, f64) {
    series
        .flat_map(|s| s.iter())
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

/// Number text with as many decimals as the axis's span needs.
fn value_label(v: f64, span: f64) -> String {
    let decimals = if span <= 0.0 || !span.is_finite() {
        2
    } else {
        (2 - span.log10().floor() as i32).clamp(0, 8) as usize
    };
    if v.abs() >= 1e4 && decimals == 0 {
        labels::money_label(v, span)
    } else {
        format!("{v:.decimals$}")
    }
}

fn plot_columns<DB: DrawingBackend>(ctx: &Ctx<'_, DB>) -> u32 {
    ctx.plotting_area().dim_in_pixel().0
}

fn draw_lines<DB: DrawingBackend>(
    ctx: &mut Ctx<'_, DB>,
    lines: &[Line],
    first_color: usize,
) -> Result<Vec<(String, RGBColor)>, PlotError>
where
    DB::ErrorType: 'static,
{
    let columns = plot_columns(ctx) as usize;
    let mut legend = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        let color = palette(first_color + k);
        for run in bucket::finite_runs(&l.values) {
            let xs: Vec<i64> = (run.start as i64..run.end as i64).collect();
            let points = downsample::min_max(&xs, &l.values[run], columns);
            // Separate segments: plotters' bitmap rasteriser fills a thick zig-zag path with holes.
            ctx.draw_series(points.windows(2).map(|w| {
                PathElement::new(
                    [(w[0].0 as f64, w[0].1), (w[1].0 as f64, w[1].1)],
                    color.stroke_width(1),
                )
            }))
            .map_err(err)?;
            if points.len() == 1 {
                let p = (points[0].0 as f64, points[0].1);
                ctx.draw_series(std::iter::once(Circle::new(p, 1, color.filled())))
                    .map_err(err)?;
            }
        }
        legend.push((l.name.clone(), color));
    }
    Ok(legend)
}

fn price<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    last: bool,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = extent(
        [chart.low.as_slice(), chart.high.as_slice()]
            .into_iter()
            .chain(chart.overlays.iter().map(|l| l.values.as_slice())),
    );
    let y = pad(lo, hi, 0.04);
    let span = y.1 - y.0;
    let fmt = move |v: &f64| value_label(*v, span);
    let mut ctx = frame(area, chart, y, last, 8, &fmt)?;
    let px = plot_columns(&ctx);
    let b = Buckets::new(chart.len(), px);
    let candles = bucket::candles(b, &chart.open, &chart.high, &chart.low, &chart.close);
    let per_bucket = px as f64 / candles.len().max(1) as f64;
    let body = ((per_bucket * 0.7).floor() as u32).max(1);
    let half = b.size as f64 * 0.35;
    match chart.style {
        BarStyle::Candles => {
            ctx.draw_series(candles.iter().map(|c| {
                CandleStick::new(
                    c.x,
                    c.open,
                    c.high,
                    c.low,
                    c.close,
                    UP.filled(),
                    DOWN.filled(),
                    body,
                )
            }))
            .map_err(err)?;
        }
        BarStyle::Ohlc => {
            for c in &candles {
                let color = if c.close >= c.open { UP } else { DOWN };
                let s = color.stroke_width(1);
                ctx.draw_series([
                    PathElement::new([(c.x, c.low), (c.x, c.high)], s),
                    PathElement::new([(c.x - half, c.open), (c.x, c.open)], s),
                    PathElement::new([(c.x, c.close), (c.x + half, c.close)], s),
                ])
                .map_err(err)?;
            }
        }
    }
    let legend = draw_lines(&mut ctx, &chart.overlays, 0)?;
    markers(&mut ctx, chart)?;
    pane_label(&ctx, "price", &legend)
}

/// One marker per fill: entries are triangles pointing the trade's way (up long, down short) with
/// the tip on the fill price, exits hollow circles; entries are labelled with the signal's
/// confidence while there are few enough to read.
fn markers<DB: DrawingBackend>(ctx: &mut Ctx<'_, DB>, chart: &PriceChart) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let labelled = chart.markers.len() <= MAX_LABELLED_MARKERS;
    let small = TextStyle::from((FAMILY, 11).into_font()).color(&RGBColor(50, 50, 50));
    for m in &chart.markers {
        let at = (m.index as f64, m.price);
        if m.entry {
            let (color, shape, dy) = if m.long {
                (LONG_ENTRY, vec![(0, 0), (-6, 11), (6, 11)], 22)
            } else {
                (SHORT_ENTRY, vec![(0, 0), (-6, -11), (6, -11)], -22)
            };
            ctx.draw_series(std::iter::once(
                EmptyElement::at(at) + Polygon::new(shape, color.filled()),
            ))
            .map_err(err)?;
            if let (true, Some(c)) = (labelled, m.confidence) {
                let s = small.clone().pos(Pos::new(HPos::Center, VPos::Center));
                ctx.draw_series(std::iter::once(
                    EmptyElement::at(at) + Text::new(format!("{c:.2}"), (0, dy), s),
                ))
                .map_err(err)?;
            }
        } else {
            ctx.draw_series(std::iter::once(
                EmptyElement::at(at) + Circle::new((0, 0), 4, EXIT.stroke_width(2)),
            ))
            .map_err(err)?;
        }
    }
    Ok(())
}

fn volume<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    last: bool,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let Some(v) = &chart.volume else {
        return Ok(());
    };
    let px = {
        // The plot width is the same in every pane.
        chart.width.saturating_sub(LABELS_W + RIGHT_MARGIN).max(1)
    };
    let b = Buckets::new(chart.len(), px);
    let sums = bucket::sums(b, v);
    let hi = sums.iter().map(|s| s.1).fold(0.0, f64::max);
    let y = (0.0, if hi > 0.0 { hi * 1.08 } else { 1.0 });
    let fmt = move |x: &f64| compact(*x);
    let mut ctx = frame(area, chart, y, last, 3, &fmt)?;
    let candles = bucket::candles(b, &chart.open, &chart.high, &chart.low, &chart.close);
    // Single bars get gaps between them; grouped ones fill their columns edge to edge, or the
    // rounding of sub-pixel widths would draw some one pixel wide and others not at all.
    let half = if b.size == 1 {
        0.35
    } else {
        b.size as f64 * 0.5
    };
    ctx.draw_series(sums.iter().zip(&candles).map(|(s, c)| {
        let color = if c.close >= c.open { UP } else { DOWN };
        Rectangle::new(
            [(s.0 - half, 0.0), (s.0 + half, s.1)],
            color.mix(0.6).filled(),
        )
    }))
    .map_err(err)?;
    pane_label(&ctx, "volume", &[])
}

/// 1.2k, 3.4M: volume axis labels.
fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

fn line_pane<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    title: &str,
    lines: &[Line],
    last: bool,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let (lo, hi) = extent(lines.iter().map(|l| l.values.as_slice()));
    let y = pad(lo, hi, 0.08);
    let span = y.1 - y.0;
    let fmt = move |v: &f64| value_label(*v, span);
    let mut ctx = frame(area, chart, y, last, 4, &fmt)?;
    let legend = draw_lines(&mut ctx, lines, 0)?;
    pane_label(&ctx, title, &legend)
}

/// One row per fuzzy set, top row first; each column's colour goes from white (degree 0) to the
/// set's hue (degree 1), grey where the indicator is still warming up.
fn heat<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    title: &str,
    rows: &[Line],
    last: bool,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let k = rows.len().max(1) as f64;
    let no_labels = |_: &f64| String::new();
    let mut ctx = frame(area, chart, (0.0, k), last, 0, &no_labels)?;
    let px = plot_columns(&ctx);
    let b = Buckets::new(chart.len(), px);
    for (r, row) in rows.iter().enumerate() {
        let hue = heat_hue(r);
        let (y0, y1) = (k - r as f64 - 1.0, k - r as f64);
        let cells = bucket::means(b, &row.values);
        ctx.draw_series(cells.into_iter().map(|(range, m)| {
            let color = if m.is_finite() {
                mix(hue, m.clamp(0.0, 1.0))
            } else {
                RGBColor(225, 225, 225)
            };
            Rectangle::new(
                [(range.start as f64 - 0.5, y0), (range.end as f64 - 0.5, y1)],
                color.filled(),
            )
        }))
        .map_err(err)?;
        // The set's name on the left, in the label column, centred on its row.
        let (_, py) = ctx.backend_coord(&(0.0, (y0 + y1) / 2.0));
        let (base_x, base_y) = area.get_base_pixel();
        let _ = base_x;
        let style = TextStyle::from((FAMILY, 12).into_font())
            .color(&hue)
            .pos(Pos::new(HPos::Right, VPos::Center));
        area.draw(&Text::new(
            row.name.clone(),
            (LABELS_W as i32 - 6, py - base_y),
            style,
        ))
        .map_err(err)?;
    }
    pane_label(&ctx, title, &[])
}

/// `hue` at strength `t` over white.
pub fn mix(hue: RGBColor, t: f64) -> RGBColor {
    let c = |h: u8| (255.0 - (255.0 - h as f64) * t).round() as u8;
    RGBColor(c(hue.0), c(hue.1), c(hue.2))
}

fn position<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    title: &str,
    v: &[f64],
    last: bool,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let no_labels = |_: &f64| String::new();
    let mut ctx = frame(area, chart, (-1.0, 1.0), last, 0, &no_labels)?;
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=v.len() {
        if i == v.len() || v[i] != v[start] {
            if v[start] != 0.0 && v[start].is_finite() {
                runs.push((start, i, v[start] > 0.0));
            }
            start = i;
        }
    }
    ctx.draw_series(runs.into_iter().map(|(a, b, long)| {
        let color = if long { LONG_ENTRY } else { SHORT_ENTRY };
        Rectangle::new(
            [(a as f64 - 0.5, -1.0), (b as f64 - 0.5, 1.0)],
            color.mix(0.55).filled(),
        )
    }))
    .map_err(err)?;
    pane_label(&ctx, title, &[])
}

fn drawdown<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &PriceChart,
    title: &str,
    l: &Line,
    last: bool,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let (lo, _) = extent(std::iter::once(l.values.as_slice()));
    let lo = if lo.is_finite() { lo.min(0.0) } else { -1.0 };
    let y = (
        if lo < 0.0 { lo * 1.08 } else { -1.0 },
        -lo.abs().max(1.0) * 0.02,
    );
    let span = y.1 - y.0;
    let fmt = move |v: &f64| format!("{}%", value_label(*v, span));
    let mut ctx = frame(area, chart, y, last, 4, &fmt)?;
    let columns = plot_columns(&ctx) as usize;
    let color = RGBColor(190, 50, 50);
    for run in bucket::finite_runs(&l.values) {
        let xs: Vec<i64> = (run.start as i64..run.end as i64).collect();
        let points = downsample::min_max(&xs, &l.values[run], columns);
        ctx.draw_series(AreaSeries::new(
            points.iter().map(|&(x, v)| (x as f64, v)),
            0.0,
            color.mix(0.35),
        ))
        .map_err(err)?;
    }
    pane_label(&ctx, title, &[(l.name.clone(), color)])
}
