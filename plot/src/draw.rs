//! The chart itself, drawn the same way on any plotters backend (bitmap for PNG, SVG).

use std::collections::HashSet;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::font::FAMILY;
use crate::{Chart, Marker, PlotError, downsample, labels};

const STRATEGY: RGBColor = RGBColor(31, 91, 180);
const BUY_HOLD: RGBColor = RGBColor(150, 150, 150);
const LONG: RGBColor = RGBColor(22, 150, 52);
const SHORT: RGBColor = RGBColor(210, 36, 36);
const EXIT: RGBColor = RGBColor(40, 40, 40);
const HALF_DAY_MS: i64 = 43_200_000;

fn render_err<E: std::fmt::Display>(e: E) -> PlotError {
    PlotError::Render(e.to_string())
}

/// How the equity lines reach the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// One path per series: compact, and SVG viewers join thick strokes properly.
    Path,
    /// One element per segment. plotters' bitmap rasteriser turns a thick path into a single
    /// polygon, which on a dense zig-zag (several points per pixel column) folds over itself and
    /// fills with holes, so the line looks dotted; separate segments are each a solid quad.
    Segments,
}

/// Draws `chart` onto `root`. Input must already have passed `validate::check`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart<'_>,
    lines: Lines,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let n = chart.ts.len();
    let (first, last) = (chart.ts[0], chart.ts[n - 1]);
    // A single bar (or bars sharing one time) still needs a non-empty x range.
    let (x0, x1) = if last > first {
        (first, last)
    } else {
        (first - HALF_DAY_MS, first + HALF_DAY_MS)
    };
    let (y0, y1) = y_range(chart.equity, chart.buy_hold);
    let (x_span, y_span) = (x1 - x0, y1 - y0);

    root.fill(&WHITE).map_err(render_err)?;
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.title, (FAMILY, 26))
        .margin(16)
        .margin_right(36)
        .x_label_area_size(44)
        .y_label_area_size(96)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(render_err)?;

    let time_fmt = |v: &i64| labels::time_label(*v, x_span);
    let money_fmt = |v: &f64| labels::money_label(*v, y_span);
    ctx.configure_mesh()
        // About one date label per 160 px keeps "YYYY-MM-DD" from colliding.
        .x_labels((chart.width / 160).max(2) as usize)
        .y_labels(8)
        .x_label_formatter(&time_fmt)
        .y_label_formatter(&money_fmt)
        .label_style((FAMILY, 15))
        .axis_desc_style((FAMILY, 16))
        .y_desc("Equity")
        .x_desc("Date (UTC)")
        .max_light_lines(2)
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .map_err(render_err)?;

    // Up to four points per pixel column: finer detail could not be seen anyway.
    let columns = ctx.plotting_area().dim_in_pixel().0 as usize;
    let buy_hold = downsample::min_max(chart.ts, chart.buy_hold, columns);
    let equity = downsample::min_max(chart.ts, chart.equity, columns);

    // Buy-and-hold first so the strategy line stays on top where they overlap.
    for (points, color, name) in [
        (buy_hold, BUY_HOLD, "Buy and hold"),
        (equity, STRATEGY, "Strategy"),
    ] {
        let style = color.stroke_width(2);
        let drawn = match lines {
            Lines::Path => ctx.draw_series(std::iter::once(PathElement::new(points, style))),
            Lines::Segments => ctx.draw_series(
                points
                    .windows(2)
                    .map(|w| PathElement::new([w[0], w[1]], style)),
            ),
        };
        drawn
            .map_err(render_err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 24, y)], color.stroke_width(3)));
    }

    draw_markers(&mut ctx, chart)?;

    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .margin(12)
        .label_font((FAMILY, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(render_err)?;
    root.present().map_err(render_err)
}

type Ctx<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordi64, plotters::coord::types::RangedCoordf64>,
>;

/// Trade markers sit on the strategy line at the bar's own time and equity (not the downsampled
/// points), so they land where the trade happened whatever the zoom. Of the markers of one kind
/// falling in the same pixel column only the first is drawn: the rest would be hidden under it
/// anyway, and this keeps the output size bounded by the canvas however many trades there are.
fn draw_markers<'a, DB: DrawingBackend + 'a>(
    ctx: &mut Ctx<'a, DB>,
    chart: &Chart<'_>,
) -> Result<(), PlotError>
where
    DB::ErrorType: 'static,
{
    let kinds = [
        (Kind::Entry { long: true }, LONG, "Long entry"),
        (Kind::Entry { long: false }, SHORT, "Short entry"),
        (Kind::Exit, EXIT, "Exit"),
    ];
    for (kind, color, name) in kinds {
        let mut columns = HashSet::new();
        let points: Vec<(i64, f64)> = chart
            .markers
            .iter()
            .filter(|m| kind.matches(m))
            .map(|m| (chart.ts[m.index], chart.equity[m.index]))
            .filter(|p| columns.insert(ctx.backend_coord(p).0))
            .collect();
        if points.is_empty() {
            continue;
        }
        // Entries are filled up-triangles, exits small crosses: distinguishable without colour.
        let (fill, stroke) = (color.filled(), color.stroke_width(2));
        let drawn = match kind {
            Kind::Entry { .. } => {
                ctx.draw_series(points.into_iter().map(|p| TriangleMarker::new(p, 7, fill)))
            }
            Kind::Exit => ctx.draw_series(points.into_iter().map(|p| Cross::new(p, 4, stroke))),
        };
        drawn
            .map_err(render_err)?
            .label(name)
            .legend(move |(x, y)| match kind {
                Kind::Entry { .. } => TriangleMarker::new((x + 12, y), 7, fill).into_dyn(),
                Kind::Exit => Cross::new((x + 12, y), 4, stroke).into_dyn(),
            });
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Entry { long: bool },
    Exit,
}

impl Kind {
    fn matches(self, m: &Marker) -> bool {
        match self {
            Kind::Entry { long } => m.entry && m.long == long,
            Kind::Exit => !m.entry,
        }
    }
}

/// The value range of both series with a margin, so neither line runs along the frame; a flat
/// series gets a small band around its value instead of an empty range.
fn y_range(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (lo, hi) = a
        .iter()
        .chain(b)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.05
    } else {
        (hi.abs() * 0.01).max(1.0)
    };
    (lo - pad, hi + pad)
}
