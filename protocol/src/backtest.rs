//! The payloads of `backtest` and `backtest show`. Metrics and trades are the engine's own types
//! (`ktrdr-backtest` is pure and serde-only, so the client stays light).

pub use ktrdr_backtest::{Config as BacktestConfig, Metrics, Side, Trade};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyHoldSummary {
    pub total_return: f64,
    pub annual_return: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
    pub end_equity: f64,
}

/// What a finished backtest reports; also the operation's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestSummary {
    pub id: u64,
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    /// Open times of the first and last replayed bars.
    pub first_ms: i64,
    pub last_ms: i64,
    pub bars: u64,
    pub config: BacktestConfig,
    pub metrics: Metrics,
    pub buy_hold: BuyHoldSummary,
    /// Bars that ended as BUY, HOLD, SELL after the decision rules, and how many were acted on.
    pub actions: [u64; 3],
    pub acted: u64,
    /// Things a trader should know before trusting the numbers (e.g. the range overlaps the
    /// model's training data).
    pub warnings: Vec<String>,
    /// Set when the backtest ran on a backtest host: its socket and its operation there.
    pub host_service: Option<String>,
    pub host_operation: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlotFormat {
    Png,
    Svg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestReport {
    pub summary: BacktestSummary,
    /// With `--trades`.
    pub trades: Option<Vec<Trade>>,
    /// With `--plot`: the rendered chart, for the client to write.
    pub plot: Option<Vec<u8>>,
}

/// Non-terminal rows of an equity curve (with `--equity`), in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquityChunk {
    pub ts: Vec<i64>,
    pub close: Vec<f64>,
    pub equity: Vec<f64>,
    pub buy_hold: Vec<f64>,
}
