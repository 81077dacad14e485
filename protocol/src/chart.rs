//! The payloads of `chart` and `backtest show --report`: what to draw, and the drawn file, which
//! streams in [`FileChunk`]s (an interactive page of a long series can exceed one frame) before a
//! [`ChartSummary`] ends the answer.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The file a chart is drawn as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChartFormat {
    Png,
    Svg,
    /// One self-contained interactive page (script and data inlined).
    Html,
}

impl ChartFormat {
    /// The format a file name asks for, by its extension (any case).
    pub fn from_path(p: &Path) -> Option<ChartFormat> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(ChartFormat::Png),
            "svg" => Some(ChartFormat::Svg),
            "html" | "htm" => Some(ChartFormat::Html),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChartFormat::Png => "png",
            ChartFormat::Svg => "svg",
            ChartFormat::Html => "html",
        }
    }
}

/// How price bars are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CandleStyle {
    #[default]
    Candles,
    /// Open-high-low-close bars (a tick left for the open, right for the close).
    Ohlc,
}

/// Non-terminal: the next bytes of the drawn file, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChunk {
    pub bytes: Vec<u8>,
}

/// Terminal: what was drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartSummary {
    pub symbol: String,
    pub timeframe: String,
    pub format: ChartFormat,
    /// Size of the file, the sum of the chunks before this reply.
    pub bytes: u64,
    /// Bars in the chart's window, and the open times of its first and last.
    pub bars: u64,
    pub first_ms: i64,
    pub last_ms: i64,
    /// The panes from top to bottom (`price`, `volume`, `rsi_14`, `fuzzy rsi_14`, `equity`, ...).
    pub panes: Vec<String>,
    /// The series drawn on them (indicator outputs, fuzzy sets, equity, ...).
    pub series: Vec<String>,
    /// Trade entry and exit markers (one per fill).
    pub markers: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(
            ChartFormat::from_path(Path::new("a/B.PNG")),
            Some(ChartFormat::Png)
        );
        assert_eq!(
            ChartFormat::from_path(Path::new("x.svg")),
            Some(ChartFormat::Svg)
        );
        assert_eq!(
            ChartFormat::from_path(Path::new("r.html")),
            Some(ChartFormat::Html)
        );
        assert_eq!(ChartFormat::from_path(Path::new("r.gif")), None);
        assert_eq!(ChartFormat::from_path(Path::new("html")), None);
    }
}
