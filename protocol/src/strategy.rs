//! Payloads of the strategy commands: strategy files, the indicator catalogue, computed columns.

use serde::{Deserialize, Serialize};

/// One problem or warning in a strategy file, with its path (`indicators[1].fast_period`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyIssue {
    pub path: String,
    pub message: String,
}

/// A fuzzy set as resolved: the column it produces, the indicator output it reads, its function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FuzzySetInfo {
    pub column: String,
    pub input: String,
    pub membership: String,
}

/// `strategies validate` / `strategies show`: the file's problems, or what it resolves to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyReport {
    pub path: String,
    /// Empty when the file could not be read as a strategy at all.
    pub name: String,
    pub valid: bool,
    pub errors: Vec<StrategyIssue>,
    pub warnings: Vec<StrategyIssue>,
    /// Output columns of every indicator (`rsi_14`, `macd_12_26_9.signal`, ...).
    pub indicators: Vec<String>,
    pub fuzzy_sets: Vec<FuzzySetInfo>,
    /// Base timeframe first.
    pub timeframes: Vec<String>,
    pub lookback: u32,
    pub labels: String,
    /// Feature columns in model order.
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyList {
    pub dir: String,
    pub strategies: Vec<StrategyReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorParamInfo {
    pub name: String,
    /// `period` (whole bars >= 1), `positive` (> 0) or `source`.
    pub kind: String,
    pub default: String,
    pub doc: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorInfo {
    pub name: String,
    pub aliases: Vec<String>,
    pub title: String,
    pub params: Vec<IndicatorParamInfo>,
    /// Output names with default parameters.
    pub outputs: Vec<String>,
    pub warmup: String,
    pub uses_volume: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorCatalog {
    pub indicators: Vec<IndicatorInfo>,
}

/// Computed columns over a window of a series (indicators or fuzzy memberships). NaN is undefined
/// (warm-up, no volume).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnTable {
    pub symbol: String,
    pub timeframe: String,
    pub ts: Vec<i64>,
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
    /// Rows of the window before `--rows`/`--tail`.
    pub rows_in_window: u64,
}
