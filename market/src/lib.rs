//! Market data as a pure domain: no tokio, no files, no sockets. The daemon reads and writes files and
//! hands this crate columns; everything here is deterministic and unit-tested.
//!
//! - [`time`]: UTC instants as Unix milliseconds, ISO-8601 parsing and formatting, civil dates.
//! - [`timeframe`]: [`Timeframe`] (1m ... 1w) and bucket alignment.
//! - [`bars`]: [`Bars`], the columnar series, and its range filter.
//! - [`merge`]: merging two series by timestamp, the newer one winning.
//! - [`resample`]: aggregation to a coarser timeframe.
//! - [`calendar`]: when a market is closed (weekends, forex 24/5, US stock sessions and holidays).
//! - [`quality`]: checks and the repair that lists every change it made.
//! - [`synth`]: a deterministic synthetic series for tests and benchmarks.
//! - [`text`]: bars as CSV and JSON lines text (the one writer of `data show` and `data export`).

pub mod bars;
pub mod calendar;
pub mod merge;
pub mod quality;
pub mod resample;
pub mod synth;
pub mod text;
pub mod time;
pub mod timeframe;

pub use bars::{Bar, Bars};
pub use calendar::Calendar;
pub use timeframe::Timeframe;
