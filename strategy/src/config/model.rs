//! The strategy file as written: the predecessor's YAML format, with its defaults. Numbers that need
//! range checks stay plain numbers here; [`super::validate`] checks them all and reports every problem.

use serde::Deserialize;

use super::ordered::OrderedMap;
use crate::params::ParamValue;

#[derive(Debug, Clone, Deserialize)]
pub struct StrategyFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Written as `"2.0"` or `2.0`; kept as written.
    #[serde(default)]
    pub version: Option<ParamValue>,
    #[serde(default)]
    pub training_data: TrainingData,
    #[serde(default)]
    pub indicators: Vec<IndicatorSpec>,
    /// indicator key -> set name -> membership function.
    #[serde(default)]
    pub fuzzy_sets: OrderedMap<OrderedMap<FuzzySetSpec>>,
    #[serde(default)]
    pub model: ModelSpec,
    #[serde(default)]
    pub decisions: DecisionSpec,
    #[serde(default)]
    pub training: TrainingSpec,
}

/// `{name: rsi, period: 14, source: close}`: the name, an optional `feature_id` that fuzzy sets may
/// refer to, and the parameters inline.
#[derive(Debug, Clone, Deserialize)]
pub struct IndicatorSpec {
    pub name: String,
    #[serde(default)]
    pub feature_id: Option<String>,
    #[serde(flatten)]
    pub params: OrderedMap<ParamValue>,
}

/// `{type: triangular, parameters: [0, 20, 35]}`, or the short form `[0, 20, 35]` (triangular).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FuzzySetSpec {
    Full {
        #[serde(rename = "type", default = "triangular")]
        kind: String,
        parameters: Vec<f64>,
    },
    Short(Vec<f64>),
}

fn triangular() -> String {
    "triangular".into()
}

impl FuzzySetSpec {
    pub fn kind(&self) -> &str {
        match self {
            FuzzySetSpec::Full { kind, .. } => kind,
            FuzzySetSpec::Short(_) => "triangular",
        }
    }

    pub fn parameters(&self) -> &[f64] {
        match self {
            FuzzySetSpec::Full { parameters, .. } | FuzzySetSpec::Short(parameters) => parameters,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct TrainingData {
    #[serde(default)]
    pub symbols: SymbolsSpec,
    #[serde(default)]
    pub timeframes: TimeframesSpec,
    #[serde(default = "history_required")]
    pub history_required: i64,
}

fn history_required() -> i64 {
    200
}

impl Default for TrainingData {
    fn default() -> Self {
        TrainingData {
            symbols: SymbolsSpec::default(),
            timeframes: TimeframesSpec::default(),
            history_required: history_required(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SymbolsSpec {
    /// `single_symbol` or `multi_symbol`.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub list: Vec<String>,
    /// The predecessor's single-symbol spelling.
    #[serde(default)]
    pub symbol: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TimeframesSpec {
    /// `single_timeframe` or `multi_timeframe`.
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub list: Vec<String>,
    #[serde(default)]
    pub base_timeframe: Option<String>,
    /// The predecessor's single-timeframe spelling.
    #[serde(default)]
    pub timeframe: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ModelSpec {
    #[serde(rename = "type", default = "mlp")]
    pub kind: String,
    #[serde(default)]
    pub architecture: Architecture,
    #[serde(default)]
    pub features: FeaturesSpec,
    #[serde(default)]
    pub training: ModelTraining,
}

fn mlp() -> String {
    "mlp".into()
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            kind: mlp(),
            architecture: Architecture::default(),
            features: FeaturesSpec::default(),
            training: ModelTraining::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Architecture {
    pub hidden_layers: Vec<i64>,
    pub activation: String,
    pub dropout: f64,
}

impl Default for Architecture {
    fn default() -> Self {
        Architecture {
            hidden_layers: vec![50, 25],
            activation: "relu".into(),
            dropout: 0.2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct FeaturesSpec {
    /// Lagged copies of every fuzzy column: `{col}_lag_1` ... `{col}_lag_{lookback_periods}`.
    pub lookback_periods: i64,
}

impl Default for FeaturesSpec {
    fn default() -> Self {
        FeaturesSpec {
            lookback_periods: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ModelTraining {
    pub learning_rate: f64,
    pub batch_size: i64,
    pub epochs: i64,
    pub optimizer: String,
    pub early_stopping: EarlyStopping,
}

impl Default for ModelTraining {
    fn default() -> Self {
        ModelTraining {
            learning_rate: 0.001,
            batch_size: 32,
            epochs: 100,
            optimizer: "adam".into(),
            early_stopping: EarlyStopping::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EarlyStopping {
    pub patience: i64,
    pub min_delta: f64,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping {
            patience: 10,
            min_delta: 0.0001,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DecisionSpec {
    pub confidence_threshold: f64,
    pub position_awareness: bool,
    pub filters: DecisionFilters,
}

impl Default for DecisionSpec {
    fn default() -> Self {
        DecisionSpec {
            confidence_threshold: 0.6,
            position_awareness: true,
            filters: DecisionFilters::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DecisionFilters {
    pub min_signal_separation: i64,
}

impl Default for DecisionFilters {
    fn default() -> Self {
        DecisionFilters {
            min_signal_separation: 4,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TrainingSpec {
    pub labels: LabelSpec,
    pub data_split: DataSplit,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LabelSpec {
    /// `zigzag` (default) or `forward_return`.
    pub source: String,
    /// ZigZag: the fractional move (0.03 = 3 %) that confirms a swing extreme.
    pub zigzag_threshold: f64,
    /// Forward return: how many bars ahead the return is measured.
    pub forward_periods: i64,
    /// Forward return: the fractional return above which a bar is BUY (below its negative, SELL).
    pub return_threshold: f64,
}

impl Default for LabelSpec {
    fn default() -> Self {
        LabelSpec {
            source: "zigzag".into(),
            zigzag_threshold: 0.03,
            forward_periods: 5,
            return_threshold: 0.01,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DataSplit {
    pub train: f64,
    pub validation: f64,
    pub test: f64,
}

impl Default for DataSplit {
    fn default() -> Self {
        DataSplit {
            train: 0.7,
            validation: 0.15,
            test: 0.15,
        }
    }
}
