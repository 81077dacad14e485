//! Interactive Brokers: the daemon's one gateway connection and historical loads. The pure parts
//! (segment plans, request sizes, pacing rules, contract mapping, write batching) are the
//! `ktrdr-ib` crate (`ib/`); this module is the I/O around them.
//!
//! - [`gateway`]: the long-lived connection: lazy connect, backoff, timeouts, caches, errors.
//! - [`pacing`]: the pure pacer shared by every load, with async waiting.
//! - [`load`]: `data load` as an operation, writing fetched segments to the store in batches.
//! - [`host`]: loads as a delegable service: here, or through an IB host (`USE_IB_HOST_SERVICE`,
//!   another ktrdrd that owns the gateway connection and the pacing budget; the bars are copied back).

pub mod gateway;
pub mod host;
pub mod load;
pub mod pacing;
pub mod stream;

pub use gateway::Gateway;
