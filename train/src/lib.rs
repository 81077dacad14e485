//! Neuro-fuzzy model training with libtorch (through `tch`).
//!
//! - [`options`]: training options from the strategy file (optimizer, schedule, class weights, seed).
//! - [`model`]: the MLP (with a symbol embedding for several symbols).
//! - [`samples`]: feature rows and labels as flat arrays, split chronologically per symbol.
//! - [`trainer`]: the loop (progress, cancellation, early stopping, learning-rate schedules).
//! - [`optim`]: Adam, SGD and RMSprop with their state as named tensors (for checkpoints).
//! - [`checkpoint`]: the state at the end of an epoch, written atomically, to resume a training.
//! - [`metrics`]: loss, accuracy, per-class precision / recall / F1, confusion matrix.
//! - [`store`]: the on-disk model store, written atomically.
//! - [`pipeline`]: a whole run from bars to a saved model, and predictions from a stored one.
//! - [`score`]: a stored model's probabilities for every bar of a series (backtests).
//! - [`device`]: CPU or CUDA, and the torch version built against.
//!
//! Linking this crate links libtorch (~210 ms at process start): only the daemon depends on it.

pub mod checkpoint;
pub mod device;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod options;
pub mod pipeline;
pub mod rng;
pub mod samples;
pub mod score;
pub mod store;
pub mod trainer;

pub use checkpoint::CheckpointSpec;
pub use pipeline::{Plan, Prediction, plan, predict, run, run_with_checkpoint};
pub use store::{Metadata, ModelStore};
pub use tch::Device;
pub use trainer::{Progress, TrainError};
