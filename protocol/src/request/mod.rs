//! Every request as a struct of its own, one file per command group (mini-redis style): `ktrdrctl`
//! builds one, [`crate::Request`] carries it, and the daemon hands it whole to its handler. A new
//! field of a command touches its struct, the client code that fills it and the service that reads
//! it, nothing in between.

mod backtest;
mod chart;
mod data;
mod ib;
mod live;
mod ops;
mod strategy;
mod sweep;
mod system;
mod training;

pub use backtest::*;
pub use chart::*;
pub use data::*;
pub use ib::*;
pub use live::*;
pub use ops::*;
pub use strategy::*;
pub use sweep::*;
pub use system::*;
pub use training::*;
