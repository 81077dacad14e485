//! Backtests as operations: the model's probabilities for the whole range are computed once on a
//! blocking thread (features over every bar up to the range's end, so indicators are warm at its
//! start and nothing after it is seen), then the pure engine replays them. Results are saved per
//! operation id next to the operations database.

pub mod chart;
pub mod host;
pub mod job;
pub mod results;

pub use job::Job;
pub use results::{Detail, Results};
