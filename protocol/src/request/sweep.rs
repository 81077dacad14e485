use crate::sweep::{Executor, RankBy};
use serde::{Deserialize, Serialize};

/// Starts a `sweep` operation: the sweep file's text and the base strategy's text, both read by
/// the client (the paths are for records and messages). `executor` replaces the setting
/// `sweeps.executor`. With `follow` the answer streams like `OpsWatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    pub sweep_yaml: String,
    pub sweep_path: String,
    pub strategy_yaml: String,
    pub strategy_path: String,
    pub executor: Option<Executor>,
    pub follow: bool,
}

/// A sweep's cells ranked by an out-of-sample metric (the sweep file's `rank_by` when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepShow {
    pub id: u64,
    pub by: Option<RankBy>,
}

/// Resumes an interrupted operation (a training from its last checkpoint, a sweep from its
/// finished cells and its cells' checkpoints). With `follow` the answer streams like `OpsWatch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpsResume {
    pub id: u64,
    pub follow: bool,
}
