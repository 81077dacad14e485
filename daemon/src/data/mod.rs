//! The market data behind the `data` service. The files, their formats and the cache are the
//! `ktrdr-store` crate (`store/`); this module holds what is the daemon's own:
//!
//! - [`input`]: validation of what users send (symbol, timeframe, dates, time zone), errors naming
//!   the bad field.
//! - [`watch`]: a debounced watch of the directory that drops cache entries of files changed outside.
//! - [`manager`]: the business rules (windows, merges, validation and repair, imports, exports,
//!   resampling, one shared parse per uncached series); the data service calls only it.

pub mod input;
pub mod manager;
pub mod watch;

pub use manager::DataManager;
