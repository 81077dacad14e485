//! A whole run: strategy -> features per symbol -> split rows -> training -> evaluation -> saved
//! model; and a prediction from a stored model. Callers (the daemon) load the bars and own the
//! thread; everything here is synchronous.

use crate::checkpoint::CheckpointSpec;
use crate::device;
use crate::options::TrainOptions;
use crate::samples::{SplitSamples, as_f32};
use crate::store::{Draft, Metadata, ModelStore, PartSizes, StoreError};
use crate::trainer::{self, Hooks, TrainError};
use ktrdr_market::{Bars, Timeframe};
use ktrdr_strategy::Strategy;
use ktrdr_strategy::dataset::prepare;
use ktrdr_strategy::features::build;
use std::sync::Arc;
use tch::{Device, Kind, Tensor};

/// A validated request: the strategy (with any overrides applied) and its options.
#[derive(Debug, Clone)]
pub struct Plan {
    pub yaml: String,
    pub strategy: Strategy,
    pub options: TrainOptions,
    pub symbols: Vec<String>,
    pub timeframes: Vec<Timeframe>,
}

/// Parses and validates `yaml`; `symbols` and `timeframes` replace the strategy's lists.
pub fn plan(
    yaml: &str,
    symbols: Option<Vec<String>>,
    timeframes: Option<Vec<String>>,
) -> Result<Plan, String> {
    let mut file = ktrdr_strategy::config::parse(yaml).map_err(|e| e.to_string())?;
    if let Some(tfs) = timeframes {
        let t = &mut file.training_data.timeframes;
        t.mode = Some(
            if tfs.len() > 1 {
                "multi_timeframe"
            } else {
                "single_timeframe"
            }
            .into(),
        );
        t.list = tfs;
        t.timeframe = None;
        t.base_timeframe = None;
    }
    if let Some(s) = symbols {
        let t = &mut file.training_data.symbols;
        t.mode = Some(
            if s.len() > 1 {
                "multi_symbol"
            } else {
                "single_symbol"
            }
            .into(),
        );
        t.list = s;
        t.symbol = None;
    }
    let symbols: Vec<String> = if file.training_data.symbols.list.is_empty() {
        file.training_data.symbols.symbol.iter().cloned().collect()
    } else {
        file.training_data.symbols.list.clone()
    };
    let symbols: Vec<String> = symbols
        .iter()
        .map(|s| s.trim().to_ascii_uppercase())
        .collect();
    if symbols.is_empty() {
        return Err("no symbols: list them in training_data.symbols or pass --symbols".into());
    }
    let strategy = ktrdr_strategy::config::validate(file)
        .map_err(|r| ktrdr_strategy::LoadError::Invalid(r).to_string())?;
    let options = crate::options::from_strategy(&strategy, yaml)?;
    Ok(Plan {
        yaml: yaml.to_string(),
        timeframes: strategy.timeframes.clone(),
        strategy,
        options,
        symbols,
    })
}

/// One symbol's bars, one series per strategy timeframe.
pub type SymbolBars = (String, Vec<(Timeframe, Arc<Bars>)>);

pub struct Outcome {
    pub metadata: Metadata,
    pub metrics: crate::metrics::Metrics,
    /// The epochs the checkpoint held when the run started (None: trained from scratch).
    pub resumed_from_epoch: Option<usize>,
}

/// Trains and saves. `cancelled` is checked before every batch and once more before saving.
pub fn run(
    plan: &Plan,
    bars: &[SymbolBars],
    device: Device,
    store: &ModelStore,
    progress: &mut dyn FnMut(&trainer::Progress),
    cancelled: &dyn Fn() -> bool,
) -> Result<Outcome, TrainError> {
    run_with_checkpoint(plan, bars, device, store, progress, cancelled, None)
}

/// [`run`], checkpointing after every epoch to `checkpoint` and resuming from it when it exists
/// (see [`crate::trainer`]). The fingerprint must identify `plan` and `bars`: a checkpoint with
/// another one is refused.
///
/// The checkpoint is left in place, also after success: remove it ([`CheckpointSpec::remove`]) once
/// the outcome is recorded. Left behind, it would make the next run with the same spec skip the
/// training and save the same model again as a new version.
pub fn run_with_checkpoint(
    plan: &Plan,
    bars: &[SymbolBars],
    device: Device,
    store: &ModelStore,
    progress: &mut dyn FnMut(&trainer::Progress),
    cancelled: &dyn Fn() -> bool,
    checkpoint: Option<&CheckpointSpec>,
) -> Result<Outcome, TrainError> {
    let mut datasets = Vec::with_capacity(bars.len());
    for (symbol, series) in bars {
        if cancelled() {
            return Err(TrainError::Cancelled { epoch: 0, batch: 0 });
        }
        let refs: Vec<(Timeframe, &Bars)> =
            series.iter().map(|(tf, b)| (*tf, b.as_ref())).collect();
        let d = prepare(&plan.strategy, &refs)
            .map_err(|e| TrainError::Invalid(format!("{symbol}: {e}")))?;
        datasets.push((symbol.clone(), d));
    }
    let data = SplitSamples::from_datasets(&datasets).map_err(TrainError::Invalid)?;
    drop(datasets);
    let trained = trainer::train(
        &data,
        &plan.options,
        device,
        Hooks {
            progress,
            cancelled,
            checkpoint,
        },
    )?;
    if cancelled() {
        return Err(TrainError::Cancelled {
            epoch: trained.metrics.epochs_run,
            batch: 0,
        });
    }
    let metadata = Metadata {
        name: String::new(),
        strategy: plan.strategy.name().to_string(),
        symbols: data.symbols.clone(),
        timeframe: plan.strategy.base_timeframe().to_string(),
        timeframes: plan.timeframes.iter().map(|t| t.to_string()).collect(),
        version: 0,
        created_ms: now_ms(),
        device: device::name(device),
        torch_version: device::TORCH_VERSION.to_string(),
        parameters: crate::model::parameter_count(&trained.vs),
        data_first_ms: data.first_ms,
        data_last_ms: data.last_ms,
        samples: PartSizes {
            train: data.train.len() as u64,
            validation: data.validation.len() as u64,
            test: data.test.len() as u64,
        },
        train_secs: trained.train_secs,
        samples_per_sec: trained.samples_per_sec,
        test_accuracy: trained.metrics.test.accuracy,
        test_loss: trained.metrics.test.loss,
        confidence_threshold: plan.strategy.file.decisions.confidence_threshold,
        architecture: trained.architecture.clone(),
        options: plan.options.clone(),
    };
    let metadata = store
        .save(Draft {
            vs: &trained.vs,
            metadata,
            strategy_yaml: &plan.yaml,
            features: &data.feature_names,
            metrics: &trained.metrics,
        })
        .map_err(|e| TrainError::Io(e.to_string()))?;
    Ok(Outcome {
        metadata,
        metrics: trained.metrics,
        resumed_from_epoch: trained.resumed_from_epoch,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    /// Open time of the bar whose features were used.
    pub bar_ms: i64,
    pub signal: &'static str,
    pub confidence: f64,
    pub probabilities: [f64; 3],
    pub confidence_threshold: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PredictError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Invalid(String),
}

/// The strategy and timeframes a stored model was trained with, to know which bars to load.
pub fn model_plan(meta: &Metadata, yaml: &str) -> Result<Plan, String> {
    plan(
        yaml,
        Some(meta.symbols.clone()),
        Some(meta.timeframes.clone()),
    )
}

/// A stored model, its plan checked against its feature columns, and the row index of `symbol`
/// for the symbol embedding.
pub(crate) struct Ready {
    pub loaded: crate::store::Loaded,
    pub plan: Plan,
    pub symbol_index: i64,
}

pub(crate) fn ready(store: &ModelStore, name: &str, symbol: &str) -> Result<Ready, PredictError> {
    let loaded = store.load(name, Device::Cpu)?;
    let meta = &loaded.metadata;
    let plan = model_plan(meta, &loaded.strategy_yaml).map_err(PredictError::Invalid)?;
    if plan.strategy.feature_names() != loaded.features {
        return Err(PredictError::Invalid(
            "the stored strategy no longer yields the model's feature columns".into(),
        ));
    }
    let symbol_index = match meta.symbols.iter().position(|s| s == symbol) {
        Some(i) => i as i64,
        None if meta.architecture.embeds_symbols() => {
            return Err(PredictError::Invalid(format!(
                "{symbol} is not one of the model's symbols ({})",
                meta.symbols.join(", ")
            )));
        }
        None => 0,
    };
    Ok(Ready {
        loaded,
        plan,
        symbol_index,
    })
}

/// Class probabilities (BUY, HOLD, SELL) for `rows` feature rows of `width` columns.
pub(crate) fn probabilities(
    ready: &Ready,
    x: &[f32],
    rows: usize,
    width: usize,
) -> Result<Vec<f32>, PredictError> {
    tch::no_grad(|| {
        let x = Tensor::from_slice(x).view([rows as i64, width as i64]);
        let s = Tensor::full(
            [rows as i64],
            ready.symbol_index,
            (Kind::Int64, Device::Cpu),
        );
        let p = ready
            .loaded
            .model
            .forward(&x, &s, None)
            .softmax(-1, Kind::Float)
            .view([-1]);
        Vec::<f32>::try_from(&p)
    })
    .map_err(|e| PredictError::Invalid(format!("torch: {e}")))
}

/// Predicts from the last complete feature row at or before `at` (ms; the newest when absent).
pub fn predict(
    store: &ModelStore,
    name: &str,
    symbol: &str,
    bars: &[(Timeframe, Arc<Bars>)],
    at: Option<i64>,
) -> Result<Prediction, PredictError> {
    let ready = ready(store, name, symbol)?;
    let meta = &ready.loaded.metadata;
    let refs: Vec<(Timeframe, &Bars)> = bars.iter().map(|(tf, b)| (*tf, b.as_ref())).collect();
    let m = build(&ready.plan.strategy, &refs).map_err(|e| PredictError::Invalid(e.to_string()))?;
    let last = match at {
        Some(t) => m.ts.partition_point(|&x| x <= t),
        None => m.ts.len(),
    };
    let Some(row) = (0..last)
        .rev()
        .find(|&i| m.columns.iter().all(|c| !c[i].is_nan()))
    else {
        return Err(PredictError::Invalid(
            "no bar at or before that time has every feature defined (indicator warm-up)".into(),
        ));
    };
    let x: Vec<f32> = m.columns.iter().map(|c| as_f32(c[row])).collect();
    let probs = probabilities(&ready, &x, 1, x.len())?;
    let probabilities = [probs[0] as f64, probs[1] as f64, probs[2] as f64];
    let (best, confidence) = probabilities
        .iter()
        .copied()
        .enumerate()
        .fold((1, f64::MIN), |a, (i, p)| if p > a.1 { (i, p) } else { a });
    Ok(Prediction {
        model: meta.name.clone(),
        symbol: symbol.to_string(),
        timeframe: meta.timeframe.clone(),
        bar_ms: m.ts[row],
        signal: crate::metrics::CLASS_NAMES[best],
        confidence,
        probabilities,
        confidence_threshold: meta.confidence_threshold,
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
