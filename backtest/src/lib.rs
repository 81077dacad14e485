//! Backtests: a model's per-bar class probabilities replayed over bars, with the strategy's decision
//! rules, next-bar-open fills, commission and slippage, and the metrics traders read.
//!
//! - [`config`]: the knobs (capital, costs, sizing, long-only or long/short, decision rules) and
//!   their documented defaults.
//! - [`decision`]: probabilities -> BUY / HOLD / SELL at one bar, given the position and the
//!   bars since the last acted signal (threshold, position awareness, minimum separation).
//! - [`engine`]: the bar loop: decisions at a bar's close, fills at the next bar's open.
//! - [`trade`]: one round trip and its costs.
//! - [`metrics`]: returns, risk and trade statistics from an equity curve and trades, annualised
//!   for the bar timeframe; buy-and-hold over the same bars.
//!
//! Everything is a plain function over slices; callers own I/O, threads and the model.

pub mod config;
pub mod decision;
pub mod engine;
pub mod metrics;
pub mod stepper;
pub mod trade;

pub use config::{Config, ConfigError};
pub use decision::{Action, Position};
pub use engine::{Outcome, Prices, run};
pub use metrics::{BuyHold, Metrics};
pub use trade::{Side, Trade};
