//! Metrics from an equity curve and trades. Returns are per bar; annualisation uses
//! `periods_per_year` (bars per year for this timeframe and market), never a fixed 252.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub start_equity: f64,
    pub end_equity: f64,
    pub total_return: f64,
    pub annual_return: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    /// Largest peak-to-trough fall as a fraction of the peak, in [0, 1].
    pub max_drawdown: f64,
    /// Longest time under a previous peak (until recovery, or the end), in bars and in ms.
    pub max_drawdown_bars: usize,
    pub max_drawdown_ms: i64,
    pub calmar: f64,
    pub trades: usize,
    pub win_rate: f64,
    pub profit_factor: f64,
    pub avg_win: f64,
    pub avg_loss: f64,
    pub avg_holding_bars: f64,
    pub avg_holding_ms: f64,
    /// Fraction of bars with a position open at the close.
    pub exposure: f64,
    pub total_commission: f64,
    pub total_slippage: f64,
    pub periods_per_year: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyHold {
    pub equity: Vec<f64>,
    pub total_return: f64,
    pub annual_return: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
}

/// Bars per year for bars at `ts` of `bar_ms` each: observed from the bars' density when they span
/// long enough (so a 24x5 forex hour and a 6.5-hour stock day both come out right), else the
/// calendar count `year / bar_ms`.
pub fn periods_per_year(ts: &[i64], bar_ms: i64) -> f64 {
    let _ = (ts, bar_ms);
    todo!()
}
