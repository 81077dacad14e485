use serde::{Deserialize, Serialize};

/// `data subscribe|unsubscribe SYMBOL TF`: keep a series current from IB (or stop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscribe {
    pub symbol: String,
    pub timeframe: String,
}

/// `data follow SYMBOL TF [--since TIME]`: the bars stored since `since` (none when absent), then
/// every closed bar as it is stored, as [`crate::Response::Bars`] frames, until the client leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Follow {
    pub symbol: String,
    pub timeframe: String,
    pub since: Option<String>,
}

/// `predict MODEL SYMBOL TF --follow [--since TIME]`: one [`crate::Response::Signal`] per closed
/// bar (first those since `since`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictFollow {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    pub since: Option<String>,
}
