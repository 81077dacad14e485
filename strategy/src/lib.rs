//! The strategy pipeline as pure functions over columns: no tokio, no sockets, no files. Callers read
//! strategy files and bars; this crate turns them into features and labels.
//!
//! - [`config`]: the strategy file (the predecessor's YAML format), loading and validation.
//! - [`indicators`]: technical indicators and their registry.
//! - [`fuzzy`]: membership functions.
//! - [`features`]: fuzzy columns, lags and multi-timeframe alignment into a feature matrix.
//! - [`labels`]: ZigZag and forward-return training labels (they look ahead, by design).
//! - [`dataset`]: features, labels and split together, for training.
//! - [`split`]: chronological train / validation / test ranges.
//! - [`series`]: the rolling and smoothing primitives indicators are made of.

pub mod align;
pub mod config;
pub mod dataset;
pub mod features;
pub mod fuzzy;
pub mod indicators;
pub mod labels;
pub mod parallel;
pub mod params;
pub mod series;
pub mod source;
pub mod split;

pub use config::{LoadError, Strategy, load};
pub use indicators::Indicator;
