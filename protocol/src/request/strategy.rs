use crate::model::RowLimit;
use serde::{Deserialize, Serialize};

/// Every strategy file (`*.yaml`, `*.yml`) in a directory on the daemon's machine, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategiesList {
    pub dir: String,
}

/// Validates and resolves a strategy file (an absolute path on the daemon's machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyShow {
    pub path: String,
}

/// Computes indicators (`rsi:period=14`, `macd`, ...) over a series; computed on the whole series
/// so the window's first rows are past warm-up, then cut to the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorsCompute {
    pub symbol: String,
    pub timeframe: String,
    pub indicators: Vec<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub rows: RowLimit,
}

/// The fuzzy membership columns of a strategy file's sets over a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FuzzyCompute {
    pub symbol: String,
    pub timeframe: String,
    pub strategy: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub rows: RowLimit,
}
