//! The market data store behind the `data` service.
//!
//! - [`input`]: validation of what users send (symbol, timeframe, dates, time zone), errors naming
//!   the bad field.
//! - [`fastcsv`]: the fast path for the predecessor's exact CSV layout (the general reader is the
//!   fallback).
//! - [`frame`]: polars frames to and from [`ktrdr_market::Bars`]; the file layouts accepted.
//! - [`store`]: the data directory: `SYMBOL_TIMEFRAME.csv|.parquet` files, atomic writes.
//! - [`cache`]: hot series in memory under a byte budget, least recently used evicted first.
//! - [`watch`]: a debounced watch of the directory that drops cache entries of files changed outside.
//! - [`manager`]: the business rules tying them together; the service and handlers call only it.

pub mod cache;
pub mod fastcsv;
pub mod frame;
pub mod input;
pub mod manager;
pub mod store;
pub mod watch;

pub use manager::DataManager;
