//! One file per command group. Each sends its request(s) and prints the answer.

pub mod backtest;
pub mod chart;
pub mod daemon;
pub mod data;
pub mod ib;
pub mod install;
pub mod live;
pub mod metrics;
pub mod ops;
pub mod strategy;
pub mod sweep;
pub mod system;
pub mod top;
pub mod training;
