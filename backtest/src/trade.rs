//! One round trip.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Side {
    Long,
    Short,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trade {
    pub side: Side,
    /// Bar index and open time (ms) of the entry fill.
    pub entry_index: usize,
    pub entry_ms: i64,
    /// Fill price including slippage.
    pub entry_price: f64,
    pub exit_index: usize,
    pub exit_ms: i64,
    pub exit_price: f64,
    pub quantity: f64,
    /// Entry plus exit commission, in money.
    pub commission: f64,
    /// What slippage cost on both fills, in money (already inside the fill prices).
    pub slippage: f64,
    /// Net of commission (slippage is in the prices).
    pub pnl: f64,
    /// `pnl` over the entry notional (`quantity * entry_price`).
    pub return_pct: f64,
    pub bars_held: usize,
    /// The model's probability of the action that opened the trade (its signal's confidence);
    /// `None` only in results saved before it was recorded.
    #[serde(default)]
    pub entry_confidence: Option<f32>,
    /// The probability of the action that closed it; `None` when the trade was closed because
    /// the backtest ended (or in results saved before it was recorded).
    #[serde(default)]
    pub exit_confidence: Option<f32>,
}
