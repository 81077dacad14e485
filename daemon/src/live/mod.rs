//! Live series: subscriptions kept current from IB, and the clients that follow them.
//!
//! - [`saved`]: the subscription list, persisted atomically in the state directory.
//! - [`feed`]: one broadcast of stored closed bars per subscription, shared by every follower;
//!   bounded, so a slow follower falls behind alone.
//! - [`stall`]: when a silent stream counts as stalled (the series' calendar decides).
//! - [`stream`]: the task that keeps one subscription current: a keep-up-to-date request, the gap
//!   since the last stored bar filled by a tail load, closed bars stored and published, and the
//!   request made again after a drop or a stall.
//! - [`manager`]: subscribe, unsubscribe, list, follow; starts the saved subscriptions.
//! - [`signals`]: `predict --follow`, a model's decision at each closed bar.

pub mod feed;
pub mod manager;
pub mod saved;
pub mod signals;
pub mod stall;
pub mod stream;

pub use manager::LiveManager;
