//! A multi-pane price chart: candles (or OHLC bars) with overlays and trade markers, volume, and
//! panes below for oscillators, fuzzy-membership heat strips, the position, equity and drawdown.
//! One description ([`PriceChart`]) feeds both the static images (`render_price`, drawn here with
//! plotters) and the interactive page (`crate::html`).

mod bucket;
mod draw;
mod layout;
mod validate;

pub(crate) use draw::{heat_hue, palette};
pub use layout::auto_height;
pub(crate) use validate::check;

use crate::{Format, PlotError};
use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};

/// How price bars are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BarStyle {
    #[default]
    Candles,
    Ohlc,
}

/// One named series, one value per bar; NaN where it is undefined (an indicator's warm-up).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    pub values: Vec<f64>,
}

/// What a pane below the price shows.
#[derive(Debug, Clone, PartialEq)]
pub enum PaneKind {
    /// Lines on a shared value axis (an oscillator's outputs; equity against buy-and-hold).
    Lines(Vec<Line>),
    /// Membership degrees in 0..=1, one row per fuzzy set, drawn as a heat strip.
    Heat(Vec<Line>),
    /// The position held at each bar: +1 long, -1 short, 0 flat (a thin band).
    Position(Vec<f64>),
    /// A drawdown in percent (<= 0), filled down from zero.
    Drawdown(Line),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pane {
    pub title: String,
    pub kind: PaneKind,
}

/// A fill of a trade, drawn on the price at its bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeMarker {
    pub index: usize,
    pub price: f64,
    pub entry: bool,
    pub long: bool,
    /// The probability of the signal that asked for the fill, when there was one.
    pub confidence: Option<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceChart {
    pub title: String,
    /// Bar open times, milliseconds UTC, ascending.
    pub ts: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    /// Drawn in a pane under the price when present.
    pub volume: Option<Vec<f64>>,
    pub style: BarStyle,
    /// Series on the price's own scale (moving averages, bands, VWAP, ...).
    pub overlays: Vec<Line>,
    /// Panes under the price (and volume), top to bottom.
    pub panes: Vec<Pane>,
    pub markers: Vec<TradeMarker>,
    pub width: u32,
    pub height: u32,
}

impl PriceChart {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// The names of the panes from top to bottom, as the images draw them.
    pub fn pane_titles(&self) -> Vec<String> {
        let mut v = vec!["price".to_string()];
        if self.volume.is_some() {
            v.push("volume".into());
        }
        v.extend(self.panes.iter().map(|p| p.title.clone()));
        v
    }
}

/// Renders `chart` as PNG or SVG bytes. Any number of bars: beyond a few per pixel column they are
/// aggregated per column (candles: first open, highest high, lowest low, last close; lines: each
/// column's first, lowest, highest and last value), so the cost and size follow the canvas.
///
/// The SVG holds one nested `<svg class="pane" data-pane="TITLE">` per pane, so a reader (or a
/// test) can find each pane; every fill is one marker.
pub fn render_price(chart: &PriceChart, format: Format) -> Result<Vec<u8>, PlotError> {
    validate::check(chart)?;
    crate::font::ensure_registered()?;
    let layout = layout::Layout::new(chart);
    match format {
        Format::Png => {
            let (w, h) = (chart.width, chart.height);
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                draw::whole(&root, chart, &layout)?;
            }
            crate::encode::png(&rgb, w, h)
        }
        Format::Svg => draw::svg(chart, &layout).map(String::into_bytes),
    }
}

/// For `render_price`'s SVG: each pane's area, drawn alone on a backend of its size.
pub(crate) fn svg_pane(
    chart: &PriceChart,
    layout: &layout::Layout,
    i: usize,
) -> Result<String, PlotError> {
    let slot = &layout.slots[i];
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (chart.width, slot.height)).into_drawing_area();
        draw::slot(&root, chart, layout, i)?;
    }
    Ok(s)
}
