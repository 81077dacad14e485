//! Interactive Brokers: the daemon's one gateway connection and historical loads.
//!
//! - [`plan`]: which segments a load fetches, in an order that keeps the stored series contiguous.
//! - [`batch`]: fetched segments waiting to be written together.
//! - [`contract`]: which IB contract and what-to-show a stored symbol means (stock or forex pair).
//! - [`segments`]: how much history one request may span per bar size, and range splitting.
//! - [`pacing`]: IB's historical pacing rules as a pure limiter, shared by every client.
//! - [`gateway`]: the long-lived connection: lazy connect, backoff, timeouts, caches, errors.
//! - [`load`]: `data load` as an operation, writing fetched segments to the store in batches.
//!
//! - [`host`]: host-service mode (`USE_IB_HOST_SERVICE`): IB through another ktrdrd that owns the
//!   gateway connection and the pacing budget; loads are delegated there and the bars copied back.

pub mod batch;
pub mod contract;
pub mod gateway;
pub mod host;
pub mod load;
pub mod pacing;
pub mod plan;
pub mod segments;

pub use gateway::Gateway;
