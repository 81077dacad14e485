use crate::chart::{CandleStyle, ChartFormat};
use serde::{Deserialize, Serialize};

/// A price chart of a stored series drawn by the daemon: candles (or OHLC bars) and volume,
/// indicators given as `indicators compute` specs (overlays on the price, oscillators in panes of
/// their own), a strategy file's indicators with one fuzzy variable's memberships as a heat strip,
/// and a finished backtest's fills, position, equity and drawdown. Answered by
/// `Response::File` chunks, then `Reply::Chart`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    pub symbol: String,
    pub timeframe: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub indicators: Vec<String>,
    /// A strategy file (absolute path on the daemon's machine).
    pub strategy: Option<String>,
    /// The indicator output whose fuzzy sets are drawn (needs `strategy`).
    pub fuzzy: Option<String>,
    /// A finished backtest of this series.
    pub backtest: Option<u64>,
    pub style: CandleStyle,
    pub format: ChartFormat,
    /// Canvas size in pixels (images) or the page's chart size (HTML); `None`: the default.
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// A finished backtest as one interactive HTML report: metrics beside buy-and-hold, the price
/// chart with its trades, equity and drawdown, the sortable trade list and the run's parameters.
/// Answered like [`Chart`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BacktestHtml {
    pub id: u64,
}
