//! Backtest settings and their defaults (documented in docs/backtest.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Starting cash. Default 100,000.
    pub capital: f64,
    /// Commission as a fraction of each fill's notional (entry and exit). Default 0.001.
    pub commission: f64,
    /// Slippage as a fraction of the fill price, always against us. Default 0.0005.
    pub slippage: f64,
    /// Fraction of equity (marked at the decision bar's close) committed when a position opens.
    /// Default 0.25. Quantities are fractional (no lot rounding).
    pub position_fraction: f64,
    /// Long-only (default, as the predecessor) or long/short.
    pub allow_short: bool,
    /// Below this top-class probability the decision is HOLD. From the strategy's
    /// `decisions.confidence_threshold`; default 0.6.
    pub confidence_threshold: f64,
    /// BUY while long (or SELL while short) is HOLD. Default true.
    pub position_awareness: bool,
    /// An acted signal needs at least this many bars after the previous acted one. Default 4.
    pub min_signal_separation: usize,
    /// Bars per year, for annualising returns, volatility, Sharpe and Sortino. Use
    /// [`crate::metrics::periods_per_year`] to derive it from the bars and their timeframe.
    pub periods_per_year: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capital: 100_000.0,
            commission: 0.001,
            slippage: 0.0005,
            position_fraction: 0.25,
            allow_short: false,
            confidence_threshold: 0.6,
            position_awareness: true,
            min_signal_separation: 4,
            periods_per_year: 252.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("columns have different lengths: {0}")]
    Lengths(String),
}
