//! Renders a backtest's equity curve (strategy against buy-and-hold, with trade markers) to PNG
//! or SVG bytes. Pure: slices in, bytes out; the text uses a font compiled into the crate, so it
//! renders on machines without system fonts or fontconfig.

mod downsample;
mod draw;
mod encode;
mod error;
mod font;
mod format;
mod html;
mod labels;
mod price;
mod validate;

pub use error::PlotError;
pub use format::Format;
pub use html::{Extras, Library, Table, render_html};
pub use price::{
    BarStyle, Line, Pane, PaneKind, PriceChart, TradeMarker, auto_height, render_price,
};
pub use validate::{MAX_SIDE, MIN_SIDE};

use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};

/// Default canvas width in pixels.
pub const DEFAULT_WIDTH: u32 = 1200;
/// Default canvas height in pixels.
pub const DEFAULT_HEIGHT: u32 = 700;

/// A trade entry or exit at bar `index` of the chart's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub index: usize,
    pub entry: bool,
    pub long: bool,
}

/// What to draw. All series are indexed by bar and must have the same length.
#[derive(Debug, Clone, Copy)]
pub struct Chart<'a> {
    pub title: &'a str,
    /// Bar open times, milliseconds UTC, ascending.
    pub ts: &'a [i64],
    /// Strategy equity per bar.
    pub equity: &'a [f64],
    /// Buy-and-hold equity per bar.
    pub buy_hold: &'a [f64],
    pub markers: &'a [Marker],
    /// Canvas size in pixels (the SVG's user units); `DEFAULT_WIDTH` × `DEFAULT_HEIGHT` if unsure.
    pub width: u32,
    pub height: u32,
}

/// Renders `chart` as `format` bytes, ready to be written to a `.png` / `.svg` file.
///
/// Series of any length are accepted: beyond a few points per pixel column they are reduced to
/// each column's first, lowest, highest and last values, so drawdowns stay visible and the output
/// size depends on the canvas, not on the number of bars.
pub fn render(chart: &Chart<'_>, format: Format) -> Result<Vec<u8>, PlotError> {
    validate::check(chart)?;
    font::ensure_registered()?;
    let size = (chart.width, chart.height);
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                draw::draw(&root, chart, draw::Lines::Path)?;
            }
            Ok(svg.into_bytes())
        }
        Format::Png => {
            // Both sides are bounded by validate::MAX_SIDE, so this cannot overflow.
            let mut rgb = vec![0u8; chart.width as usize * chart.height as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                draw::draw(&root, chart, draw::Lines::Segments)?;
            }
            encode::png(&rgb, chart.width, chart.height)
        }
    }
}
