//! The bar loop. At bar t the decision uses only `probs[t]` (computed from bars up to t's close);
//! its fill happens at bar t+1's open. An open position is closed at the last bar's close.

use crate::metrics::{BuyHold, Metrics};
use crate::trade::Trade;
use crate::{Action, Config, ConfigError};
use serde::{Deserialize, Serialize};

/// The bars, as columns of equal length; `ts` are bar open times in ms, ascending.
#[derive(Debug, Clone, Copy)]
pub struct Prices<'a> {
    pub ts: &'a [i64],
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub trades: Vec<Trade>,
    /// Equity marked at each bar's close (cash + position at close), one per bar.
    pub equity: Vec<f64>,
    /// Buy-and-hold over the same bars, same capital and costs, equity per bar.
    pub buy_hold: BuyHold,
    pub metrics: Metrics,
    /// How many bars ended in each action after the rules (BUY, HOLD, SELL), and how many were
    /// acted on (a fill followed).
    pub actions: [usize; 3],
    pub acted: usize,
}

/// Replays `probs` (one row per bar) over `prices` with `cfg`.
pub fn run(prices: Prices<'_>, probs: &[[f32; 3]], cfg: &Config) -> Result<Outcome, ConfigError> {
    let _ = (prices, probs, cfg, Action::Hold);
    todo!()
}
