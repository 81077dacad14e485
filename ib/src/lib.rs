//! The pure parts of ktrdr's Interactive Brokers adapter, apart from its I/O (NautilusTrader's
//! adapter crates are the model): everything here is plain functions and small state machines over
//! values, unit-tested without a gateway. The connection, the loads and the host-service delegation
//! that use them live in the daemon (`daemon/src/ib/`).
//!
//! - [`plan`]: which segments a load fetches, in an order that keeps the stored series contiguous.
//! - [`segments`]: how much history one request may span per bar size, and range splitting.
//! - [`pacing`]: IB's historical pacing rules as a limiter, shared by every client of a gateway.
//! - [`contract`]: which IB contract and what-to-show a stored symbol means (stock, forex pair,
//!   continuous future).
//! - [`batch`]: fetched segments waiting to be written together.

pub mod batch;
pub mod contract;
pub mod pacing;
pub mod plan;
pub mod segments;
