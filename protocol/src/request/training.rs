use serde::{Deserialize, Serialize};

/// Starts a `training` operation: the strategy's text (read by the client), trained on stored
/// bars; `symbols` / `timeframes` replace the strategy's lists, `device` is auto|cpu|cuda[:N].
/// With `follow` the answer streams like `OpsWatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Train {
    pub strategy_yaml: String,
    pub strategy_path: String,
    pub symbols: Option<Vec<String>>,
    pub timeframes: Option<Vec<String>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub device: Option<String>,
    pub follow: bool,
}

/// One model by name: `STRATEGY/SYMBOLS_TF_vN`, or `STRATEGY` for its latest (`models show`,
/// `models delete`, and `ModelExport`, which a daemon delegating trainings here uses to copy the
/// result into its own store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRef {
    pub name: String,
}

/// The model's signal and class probabilities at the last bar at or before `at` (UTC; the newest
/// bar when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predict {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    pub at: Option<String>,
}
