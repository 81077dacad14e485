use crate::backtest::PlotFormat;
use serde::{Deserialize, Serialize};

/// Starts a `backtest` operation replaying a stored model over stored bars from `start` to `end`
/// (UTC; indicators warm up on the bars before `start`). Costs and sizing default to the engine's
/// documented defaults. With `follow` the answer streams like `OpsWatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub capital: Option<f64>,
    pub commission: Option<f64>,
    pub slippage: Option<f64>,
    pub position_fraction: Option<f64>,
    pub allow_short: bool,
    pub follow: bool,
}

/// A finished backtest's summary; optionally its trades, its equity curve (streamed as
/// `Response::Equity` chunks before the reply) and a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestShow {
    pub id: u64,
    pub trades: bool,
    pub equity: bool,
    pub plot: Option<PlotFormat>,
}
