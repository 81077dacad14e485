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
