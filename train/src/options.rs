//! Training options: the strategy's `model` section, plus keys the strategy crate does not read
//! (weight decay, momentum, class weights, learning-rate schedule, seed, symbol embedding size).
//! Those extra keys live in the same YAML under `model.training`, so one file describes one run.

pub use ktrdr_protocol::stored_model::{
    Activation, ClassWeights, Optimizer, Schedule, TrainOptions,
};
use ktrdr_strategy::Strategy;
use serde::Deserialize;

/// The keys read on top of the strategy crate's, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Extra {
    model: ExtraModel,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExtraModel {
    training: ExtraTraining,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExtraTraining {
    weight_decay: Option<f64>,
    momentum: Option<f64>,
    class_weights: Option<ClassWeightsSpec>,
    lr_schedule: Option<ScheduleSpec>,
    seed: Option<u64>,
    embedding_dim: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ClassWeightsSpec {
    Named(String),
    List(Vec<f64>),
}

#[derive(Debug, Deserialize)]
struct ScheduleSpec {
    #[serde(rename = "type")]
    kind: String,
    step_size: Option<usize>,
    gamma: Option<f64>,
    factor: Option<f64>,
    patience: Option<usize>,
    min_lr: Option<f64>,
}

/// Options for `strategy`, whose text is `yaml` (read again for the extra keys). Every problem is
/// reported with its YAML path.
pub fn from_strategy(strategy: &Strategy, yaml: &str) -> Result<TrainOptions, String> {
    let extra: Extra = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
    let x = extra.model.training;
    let m = &strategy.file.model;
    if m.kind != "mlp" {
        return Err(format!(
            "model.type: {:?} is not supported (only mlp)",
            m.kind
        ));
    }
    let t = &m.training;
    let weight_decay = x.weight_decay.unwrap_or(0.0);
    let momentum = x.momentum.unwrap_or(0.0);
    if !(weight_decay.is_finite() && weight_decay >= 0.0) {
        return Err("model.training.weight_decay: must be 0 or more".into());
    }
    if !(momentum.is_finite() && (0.0..1.0).contains(&momentum)) {
        return Err("model.training.momentum: must be in [0, 1)".into());
    }
    let optimizer = match t.optimizer.to_ascii_lowercase().as_str() {
        "adam" => Optimizer::Adam { weight_decay },
        "sgd" => Optimizer::Sgd {
            momentum,
            weight_decay,
        },
        "rmsprop" => Optimizer::RmsProp {
            momentum,
            weight_decay,
        },
        other => {
            return Err(format!(
                "model.training.optimizer: {other:?} is not one of adam, sgd, rmsprop"
            ));
        }
    };
    let class_weights = match x.class_weights {
        None => ClassWeights::None,
        Some(ClassWeightsSpec::Named(s)) if s == "balanced" => ClassWeights::Balanced,
        Some(ClassWeightsSpec::Named(s)) if s == "none" => ClassWeights::None,
        Some(ClassWeightsSpec::List(v))
            if v.len() == 3 && v.iter().all(|w| w.is_finite() && *w > 0.0) =>
        {
            ClassWeights::Fixed([v[0], v[1], v[2]])
        }
        Some(_) => {
            return Err(
                    "model.training.class_weights: must be `balanced`, `none` or three positive numbers [buy, hold, sell]"
                        .into(),
                );
        }
    };
    let schedule = match x.lr_schedule {
        None => Schedule::Constant,
        Some(s) => parse_schedule(&s)?,
    };
    let embedding_dim = x.embedding_dim.unwrap_or(4);
    if !(1..=256).contains(&embedding_dim) {
        return Err("model.training.embedding_dim: must be between 1 and 256".into());
    }
    Ok(TrainOptions {
        hidden_layers: m.architecture.hidden_layers.clone(),
        activation: Activation::parse(&m.architecture.activation)?,
        dropout: m.architecture.dropout,
        learning_rate: t.learning_rate,
        batch_size: usize::try_from(t.batch_size).unwrap_or(1).max(1),
        epochs: usize::try_from(t.epochs).unwrap_or(1).max(1),
        optimizer,
        schedule,
        class_weights,
        patience: usize::try_from(t.early_stopping.patience).unwrap_or(0),
        min_delta: t.early_stopping.min_delta,
        seed: x.seed.unwrap_or(42),
        embedding_dim,
    })
}

fn parse_schedule(s: &ScheduleSpec) -> Result<Schedule, String> {
    let positive_below_one = |v: Option<f64>, key: &str, default: f64| {
        let v = v.unwrap_or(default);
        if v.is_finite() && v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(format!(
                "model.training.lr_schedule.{key}: must be in (0, 1]"
            ))
        }
    };
    match s.kind.as_str() {
        "constant" | "none" => Ok(Schedule::Constant),
        "step" => Ok(Schedule::Step {
            step_size: s.step_size.unwrap_or(10).max(1),
            gamma: positive_below_one(s.gamma, "gamma", 0.1)?,
        }),
        "exponential" => Ok(Schedule::Exponential {
            gamma: positive_below_one(s.gamma, "gamma", 0.95)?,
        }),
        "plateau" => Ok(Schedule::Plateau {
            factor: positive_below_one(s.factor, "factor", 0.5)?,
            patience: s.patience.unwrap_or(5),
            min_lr: s.min_lr.unwrap_or(1e-6).max(0.0),
        }),
        other => Err(format!(
            "model.training.lr_schedule.type: {other:?} is not one of step, exponential, plateau"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name: t\nindicators: [{name: rsi, period: 14}]\nfuzzy_sets: {rsi: {low: [0, 20, 40]}}\ntraining_data: {symbols: {list: [X]}, timeframes: {list: [1h]}}\n";

    fn opts(model: &str) -> Result<TrainOptions, String> {
        let yaml = format!("{BASE}{model}");
        let s = ktrdr_strategy::load(&yaml).map_err(|e| e.to_string())?;
        from_strategy(&s, &yaml)
    }

    #[test]
    fn defaults_and_extras() {
        let o = opts("").unwrap();
        assert_eq!(o.optimizer, Optimizer::Adam { weight_decay: 0.0 });
        assert_eq!(o.schedule, Schedule::Constant);
        let o = opts("model: {architecture: {activation: tanh}, training: {optimizer: sgd, momentum: 0.9, weight_decay: 0.01, class_weights: balanced, lr_schedule: {type: plateau, factor: 0.5, patience: 2}, seed: 7}}").unwrap();
        assert_eq!(o.activation, Activation::Tanh);
        assert_eq!(
            o.optimizer,
            Optimizer::Sgd {
                momentum: 0.9,
                weight_decay: 0.01
            }
        );
        assert_eq!(o.class_weights, ClassWeights::Balanced);
        assert!(matches!(o.schedule, Schedule::Plateau { patience: 2, .. }));
        assert_eq!(o.seed, 7);
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = opts("model: {training: {optimizer: adagrad}}").unwrap_err();
        assert!(e.contains("model.training.optimizer"), "{e}");
        let e = opts("model: {architecture: {activation: gelu}}").unwrap_err();
        assert!(e.contains("activation"), "{e}");
        let e = opts("model: {training: {class_weights: [1, 2]}}").unwrap_err();
        assert!(e.contains("class_weights"), "{e}");
        let e = opts("model: {training: {lr_schedule: {type: cosine}}}").unwrap_err();
        assert!(e.contains("lr_schedule.type"), "{e}");
    }
}
