//! Sweeps as types: a planned sweep's parameter sets, windows and cells, each cell's out-of-sample
//! metrics, and the ranking `sweep show` prints. The planning itself (sweep files, overrides,
//! walk-forward windows, aggregation) is pure code in `ktrdr-sweep`; these are the shapes both
//! binaries and the operations database share.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The out-of-sample metric cells are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    Sharpe,
    Return,
    Calmar,
    Drawdown,
}

impl RankBy {
    pub const ALL: [RankBy; 4] = [
        RankBy::Sharpe,
        RankBy::Return,
        RankBy::Calmar,
        RankBy::Drawdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RankBy::Sharpe => "sharpe",
            RankBy::Return => "return",
            RankBy::Calmar => "calmar",
            RankBy::Drawdown => "drawdown",
        }
    }

    /// The metric's value in `m`.
    pub fn of(self, m: &CellMetrics) -> f64 {
        match self {
            RankBy::Sharpe => m.sharpe,
            RankBy::Return => m.total_return,
            RankBy::Calmar => m.calmar,
            RankBy::Drawdown => m.max_drawdown,
        }
    }

    /// Whether larger values rank first (a drawdown is better when smaller).
    pub fn higher_is_better(self) -> bool {
        !matches!(self, RankBy::Drawdown)
    }
}

impl fmt::Display for RankBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RankBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RankBy::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not one of sharpe, return, calmar, drawdown"))
    }
}

/// Where a sweep's cells run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Executor {
    /// In this daemon, up to `sweeps.max_parallel` at once.
    #[default]
    Local,
    /// As one Slurm job array; each task runs `ktrdrd job run SPEC`.
    Slurm,
}

impl Executor {
    pub fn as_str(self) -> &'static str {
        match self {
            Executor::Local => "local",
            Executor::Slurm => "slurm",
        }
    }
}

impl fmt::Display for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Executor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Executor::Local),
            "slurm" => Ok(Executor::Slurm),
            other => Err(format!("{other:?} is not one of local, slurm")),
        }
    }
}

/// A half-open time range `[start_ms, end_ms)`, UTC milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start_ms: i64,
    pub end_ms: i64,
}

/// One override of a parameter set: a dotted path into the strategy file and the value put there,
/// as JSON text (bincode cannot carry a self-describing value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub path: String,
    pub value_json: String,
}

/// One combination of overrides (one point of the grid, or one entry of the list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSet {
    pub index: u32,
    /// `path=value, path=value`, for people; `base` when the set overrides nothing.
    pub label: String,
    pub overrides: Vec<Override>,
}

/// One walk-forward window: train on `train`, then test on `test`, which starts where `train`
/// ends (they never overlap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    pub index: u32,
    pub train: Span,
    pub test: Span,
}

/// One cell: a parameter set on one symbol and timeframe in one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellSpec {
    pub index: u32,
    pub set: u32,
    pub symbol: String,
    pub timeframe: String,
    pub window: u32,
    pub train: Span,
    pub test: Span,
}

/// What the backtest of a cell's out-of-sample window measured.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CellMetrics {
    pub total_return: f64,
    pub sharpe: f64,
    pub calmar: f64,
    /// A fraction of the peak, in [0, 1].
    pub max_drawdown: f64,
    pub trades: u64,
    pub win_rate: f64,
    /// Buy-and-hold over the same bars, for comparison.
    pub buy_hold_return: f64,
}

/// One row of `sweep show`: a parameter set on one symbol and timeframe, its walk-forward
/// windows aggregated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedRow {
    pub rank: u32,
    pub set: u32,
    pub label: String,
    pub symbol: String,
    pub timeframe: String,
    /// Windows with a result, and of those how many had a positive return.
    pub windows: u32,
    pub positive_windows: u32,
    /// Windows planned but without a result (failed, cancelled, or not run yet).
    pub missing_windows: u32,
    /// The ranking metric over the windows: mean and worst.
    pub mean: f64,
    pub worst: f64,
    pub mean_return: f64,
    pub mean_sharpe: f64,
    pub mean_calmar: f64,
    pub worst_drawdown: f64,
    pub trades: u64,
}

/// A `sweep` operation's parameters. The texts of the sweep file and of the base strategy are
/// kept, so an interrupted sweep can be planned again identically when it resumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepParams {
    pub name: String,
    pub file: String,
    pub strategy_file: String,
    pub executor: Executor,
    pub sets: u32,
    pub symbols: Vec<String>,
    pub timeframes: Vec<String>,
    pub windows: u32,
    pub cells: u32,
    /// Cells running at once (local executor), or the array's `%N` limit (Slurm; 0 = none).
    pub max_parallel: u32,
    pub rank_by: RankBy,
    pub sweep_yaml: String,
    pub strategy_yaml: String,
}

/// What happened to one cell, as its sweep records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellOutcome {
    pub cell: u32,
    /// `completed`, `failed`, `cancelled`, or `pending` for a cell that never started.
    pub state: crate::model::OpState,
    /// The cell's own operation, when it had one.
    pub operation: Option<u64>,
    pub result: Option<CellResult>,
    pub error: Option<String>,
}

/// A finished sweep: its cells' outcomes and the best row by its ranking metric.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SweepSummary {
    pub cells: u32,
    pub completed: u32,
    pub failed: u32,
    pub cancelled: u32,
    /// Cells that continued from a checkpoint rather than training from scratch.
    pub resumed: u32,
    /// The Slurm array job, when the sweep ran through Slurm.
    pub slurm_job: Option<u64>,
    pub best: Option<RankedRow>,
    pub outcomes: Vec<CellOutcome>,
}

/// A `sweep_cell` operation's parameters: which sweep, which cell, and how it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellParams {
    pub sweep: u64,
    pub cell: CellSpec,
    pub label: String,
    pub executor: Executor,
}

/// What a cell produced: its model, how it trained, and its out-of-sample backtest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CellResult {
    pub model: String,
    pub epochs_run: u32,
    /// Epochs already finished in a checkpoint when this run started (None: from scratch).
    pub resumed_from_epoch: Option<u32>,
    pub test_accuracy: f64,
    pub train_secs: f64,
    pub backtest_bars: u64,
    pub metrics: CellMetrics,
    /// Where it ran: `local`, or the Slurm job and node (`1234_5 on node1`).
    pub ran_on: String,
}

/// `sweep show`: the sweep's record, its cells' outcomes, and the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepReport {
    pub record: crate::model::OperationRecord,
    pub by: RankBy,
    pub rows: Vec<RankedRow>,
    pub outcomes: Vec<CellOutcome>,
    /// Every planned cell (its set, symbol, timeframe and windows).
    pub cells: Vec<CellSpec>,
}
