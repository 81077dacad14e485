//! The bar store: one file per series in the data directory, `SYMBOL_TIMEFRAME.csv` or
//! `SYMBOL_TIMEFRAME.parquet`, read into [`ktrdr_market::Bars`] and written atomically.
//!
//! - [`key`]: what names a series (symbol, timeframe) and the zone naive timestamps are read in.
//! - [`files`]: the directory: locating, listing, loading and saving series files.
//! - [`frame`]: polars frames to and from bars; the file layouts accepted.
//! - [`fastcsv`]: the fast path for the predecessor's exact CSV layout (polars is the fallback).
//! - [`cache`]: hot series in memory under a byte budget, least recently used evicted first.
//! - [`error`]: the store's errors, which become wire errors only at its edge.
//! - [`sys`]: the one platform-specific call (huge-page advice), beside its fallback.
//!
//! The business rules around it (windows, merges, validation, imports as operations) are the
//! daemon's `data` manager.

pub mod cache;
pub mod error;
pub mod fastcsv;
pub mod files;
pub mod frame;
pub mod key;
pub mod sys;

pub use error::StoreError;
pub use files::{FileEntry, Format, Stamp, Store};
pub use key::{SeriesKey, Zone};
