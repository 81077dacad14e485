//! Probabilities -> an action at one bar. Class order is the model's: 0 BUY, 1 HOLD, 2 SELL.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Buy,
    Hold,
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    Flat,
    Long,
    Short,
}

/// The action the strategy takes at a bar. `probs` with any NaN (features still warming up) is HOLD.
/// `bars_since_last` is None before the first acted signal.
pub fn decide(
    probs: [f32; 3],
    position: Position,
    bars_since_last: Option<usize>,
    cfg: &crate::Config,
) -> Action {
    todo!("{probs:?} {position:?} {bars_since_last:?} {cfg:?}")
}
