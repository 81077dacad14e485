//! What a stored model's files hold (`metadata.json`, `metrics.json`), as types shared by the
//! trainer that writes them, the daemon that serves them and `ktrdrctl`, which renders them
//! without reading JSON by key. Serde only: the network itself (libtorch) stays in `ktrdr-train`.

use crate::operation::PartSizes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    Relu,
    Tanh,
    Sigmoid,
    LeakyRelu,
}

impl Activation {
    pub fn parse(s: &str) -> Result<Activation, String> {
        match s.to_ascii_lowercase().as_str() {
            "relu" => Ok(Activation::Relu),
            "tanh" => Ok(Activation::Tanh),
            "sigmoid" => Ok(Activation::Sigmoid),
            "leaky_relu" | "leakyrelu" => Ok(Activation::LeakyRelu),
            other => Err(format!(
                "model.architecture.activation: {other:?} is not one of relu, tanh, sigmoid, leaky_relu"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Optimizer {
    Adam { weight_decay: f64 },
    Sgd { momentum: f64, weight_decay: f64 },
    RmsProp { momentum: f64, weight_decay: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Schedule {
    Constant,
    /// Multiply the rate by `gamma` every `step_size` epochs.
    Step {
        step_size: usize,
        gamma: f64,
    },
    /// Multiply the rate by `gamma` every epoch.
    Exponential {
        gamma: f64,
    },
    /// Multiply the rate by `factor` after `patience` epochs without a better validation loss.
    Plateau {
        factor: f64,
        patience: usize,
        min_lr: f64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ClassWeights {
    None,
    /// Inverse class frequency in the training rows, normalised to mean 1.
    Balanced,
    Fixed([f64; 3]),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub hidden_layers: Vec<i64>,
    pub activation: Activation,
    pub dropout: f64,
    pub learning_rate: f64,
    pub batch_size: usize,
    pub epochs: usize,
    pub optimizer: Optimizer,
    pub schedule: Schedule,
    pub class_weights: ClassWeights,
    /// Early stopping on validation loss; 0 turns it off.
    pub patience: usize,
    pub min_delta: f64,
    pub seed: u64,
    /// Size of the learned symbol embedding for multi-symbol models.
    pub embedding_dim: i64,
}

/// What is needed to rebuild the network around stored weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    pub inputs: i64,
    pub hidden_layers: Vec<i64>,
    pub activation: Activation,
    pub dropout: f64,
    /// Symbols in embedding order; the embedding exists only when there are several.
    pub symbols: Vec<String>,
    pub embedding_dim: i64,
}

impl Architecture {
    pub fn embeds_symbols(&self) -> bool {
        self.symbols.len() > 1
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub samples: u64,
    /// Mean cross-entropy; absent where not measured (per-symbol scores).
    pub loss: Option<f64>,
    pub accuracy: f64,
    pub classes: Vec<ClassScore>,
    pub confusion: [[u64; 3]; 3],
}

/// Everything measured at the end of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub test: Evaluation,
    pub validation: Evaluation,
    /// Per symbol, for models trained on several (test and validation rows of that symbol).
    pub per_symbol_test: BTreeMap<String, Evaluation>,
    pub per_symbol_validation: BTreeMap<String, Evaluation>,
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub stopped_early: bool,
    pub final_learning_rate: f64,
    pub history: Vec<EpochRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub learning_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// `{strategy}/{dir}`: what `models show` and `predict` accept.
    pub name: String,
    pub strategy: String,
    pub symbols: Vec<String>,
    /// The base timeframe.
    pub timeframe: String,
    pub timeframes: Vec<String>,
    pub version: u32,
    pub created_ms: i64,
    pub device: String,
    pub torch_version: String,
    pub parameters: u64,
    pub data_first_ms: Option<i64>,
    pub data_last_ms: Option<i64>,
    pub samples: PartSizes,
    pub train_secs: f64,
    pub samples_per_sec: f64,
    pub test_accuracy: f64,
    pub test_loss: Option<f64>,
    pub confidence_threshold: f64,
    pub architecture: Architecture,
    pub options: TrainOptions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_parse_case_insensitively() {
        let cases = [
            ("relu", Activation::Relu),
            ("ReLU", Activation::Relu),
            ("tanh", Activation::Tanh),
            ("SIGMOID", Activation::Sigmoid),
            ("leaky_relu", Activation::LeakyRelu),
            ("LeakyReLU", Activation::LeakyRelu),
        ];
        for (text, want) in cases {
            assert_eq!(Activation::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn an_unknown_activation_names_the_choices() {
        let e = Activation::parse("Swish").unwrap_err();
        assert_eq!(
            e,
            "model.architecture.activation: \"swish\" is not one of relu, tanh, sigmoid, leaky_relu"
        );
        assert!(Activation::parse("").is_err());
        assert!(Activation::parse("leaky-relu").is_err());
    }

    #[test]
    fn only_several_symbols_get_an_embedding() {
        let mut arch = Architecture {
            inputs: 10,
            hidden_layers: vec![32, 16],
            activation: Activation::Relu,
            dropout: 0.2,
            symbols: vec![],
            embedding_dim: 4,
        };
        assert!(!arch.embeds_symbols());
        arch.symbols = vec!["EURUSD".into()];
        assert!(!arch.embeds_symbols());
        arch.symbols.push("GBPUSD".into());
        assert!(arch.embeds_symbols());
    }
}
