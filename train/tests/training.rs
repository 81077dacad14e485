//! The trainer, store and pipeline with real libtorch on CPU.

use ktrdr_market::{Bars, Timeframe};
use ktrdr_train::options::TrainOptions;
use ktrdr_train::samples::{Samples, SplitSamples};
use ktrdr_train::store::ModelStore;
use ktrdr_train::trainer::{self, Hooks, TrainError};
use ktrdr_train::{pipeline, rng::Rng};
use std::cell::Cell;
use std::sync::Arc;
use tch::Device;

/// A strategy whose labels follow from its features: on a sine-wave price, ZigZag labels are BUY
/// on the way up and SELL on the way down, and ROC(1) memberships say which way the price moves.
pub const SINE_STRATEGY: &str = r#"
name: sine_roc
training_data: {symbols: {list: [SINE]}, timeframes: {list: [1h]}}
indicators: [{name: roc, period: 1, source: close}]
fuzzy_sets: {roc: {up: {type: trapezoidal, parameters: [-0.02, 0.05, 100, 101]}, down: {type: trapezoidal, parameters: [-101, -100, -0.05, 0.02]}}}
model: {type: mlp, architecture: {hidden_layers: [16, 8], activation: relu, dropout: 0.0}, features: {lookback_periods: 2}, training: {learning_rate: 0.01, batch_size: 32, epochs: 15, optimizer: adam, early_stopping: {patience: 5, min_delta: 0.0001}, seed: 1}}
training: {labels: {source: zigzag, zigzag_threshold: 0.03}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

pub fn sine_bars(n: usize, period: f64) -> Bars {
    let mut ts = Vec::with_capacity(n);
    let mut o = Vec::with_capacity(n);
    let mut h = Vec::with_capacity(n);
    let mut l = Vec::with_capacity(n);
    let mut c = Vec::with_capacity(n);
    let t0 = 1_600_000_000_000i64;
    for i in 0..n {
        let p = |k: f64| 100.0 * (1.0 + 0.05 * (2.0 * std::f64::consts::PI * k / period).sin());
        let (open, close) = (p(i as f64 - 1.0), p(i as f64));
        ts.push(t0 + i as i64 * 3_600_000);
        o.push(open);
        c.push(close);
        h.push(open.max(close) * 1.0005);
        l.push(open.min(close) * 0.9995);
    }
    Bars::from_columns(ts, o, h, l, c, vec![1000.0; n]).unwrap()
}

/// Rows whose class is a linear rule of two of six uniform features.
fn rule_samples(n: usize, seed: u64) -> Samples {
    let mut rng = Rng::new(seed);
    let mut s = Samples::new(6);
    for _ in 0..n {
        let x: Vec<f32> = (0..6).map(|_| rng.unit() as f32).collect();
        let v = x[0] + x[1];
        let y = if v > 1.2 {
            0
        } else if v < 0.8 {
            2
        } else {
            1
        };
        s.push(x, y, 0);
    }
    s
}

fn rule_data() -> SplitSamples {
    SplitSamples {
        symbols: vec!["X".into()],
        feature_names: (0..6).map(|i| format!("f{i}")).collect(),
        train: rule_samples(4000, 1),
        validation: rule_samples(800, 2),
        test: rule_samples(800, 3),
        first_ms: None,
        last_ms: None,
    }
}

/// `training` is the `model.training` mapping's content; keys it leaves out get these defaults.
fn options(training: &str) -> TrainOptions {
    let mut keys = vec![training.to_string()];
    for (k, v) in [
        ("learning_rate", "0.01"),
        ("batch_size", "64"),
        ("epochs", "30"),
        ("early_stopping", "{patience: 5}"),
    ] {
        if !training.contains(k) {
            keys.push(format!("{k}: {v}"));
        }
    }
    let training = keys
        .into_iter()
        .filter(|k| !k.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let yaml = format!(
        "name: t\ntraining_data: {{symbols: {{list: [X]}}, timeframes: {{list: [1h]}}}}\nindicators: [{{name: rsi, period: 14}}]\nfuzzy_sets: {{rsi: {{low: [0, 20, 40]}}}}\nmodel: {{architecture: {{hidden_layers: [32, 16], dropout: 0.1}}, training: {{{training}}}}}\n"
    );
    let s = ktrdr_strategy::load(&yaml).unwrap();
    ktrdr_train::options::from_strategy(&s, &yaml).unwrap()
}

fn quiet(data: &SplitSamples, o: &TrainOptions) -> Result<trainer::Trained, TrainError> {
    trainer::train(
        data,
        o,
        Device::Cpu,
        Hooks {
            progress: &mut |_| {},
            cancelled: &|| false,
            checkpoint: None,
        },
    )
}

#[test]
fn a_learnable_rule_reaches_high_accuracy_with_every_optimizer() {
    let data = rule_data();
    for extra in [
        "",
        "optimizer: sgd, momentum: 0.9, learning_rate: 0.05, lr_schedule: {type: step, step_size: 10, gamma: 0.5}",
        "optimizer: rmsprop, learning_rate: 0.003, lr_schedule: {type: exponential, gamma: 0.97}",
        "weight_decay: 0.0001, class_weights: balanced, lr_schedule: {type: plateau, patience: 2}",
    ] {
        let t = quiet(&data, &options(extra)).unwrap();
        let acc = t.metrics.test.accuracy;
        assert!(acc >= 0.9, "{extra}: test accuracy {acc}");
        assert_eq!(t.metrics.test.samples, 800);
        let sum: u64 = t.metrics.test.confusion.iter().flatten().sum();
        assert_eq!(sum, 800);
    }
}

#[test]
fn seeded_cpu_runs_are_identical_and_best_weights_are_restored() {
    let data = rule_data();
    let o = options("epochs: 8, early_stopping: {patience: 0}");
    let a = quiet(&data, &o).unwrap();
    let b = quiet(&data, &o).unwrap();
    assert_eq!(a.metrics.history, b.metrics.history);
    assert_eq!(a.metrics.test, b.metrics.test);
    // The final validation loss is the best epoch's: those weights were put back.
    let best = &a.metrics.history[a.metrics.best_epoch - 1];
    let val = a.metrics.validation.loss.unwrap();
    assert!(
        (val - best.val_loss).abs() < 1e-9,
        "{val} vs {}",
        best.val_loss
    );
    assert!(
        a.metrics
            .history
            .iter()
            .all(|h| h.val_loss >= best.val_loss)
    );
}

#[test]
fn cancellation_is_seen_within_one_batch() {
    let data = rule_data();
    let o = options("batch_size: 16");
    let batches = Cell::new(0usize);
    let mut reports = Vec::new();
    let stop_after = 30;
    let r = trainer::train(
        &data,
        &o,
        Device::Cpu,
        Hooks {
            progress: &mut |p| reports.push(p.clone()),
            cancelled: &|| {
                batches.set(batches.get() + 1);
                batches.get() > stop_after
            },
            checkpoint: None,
        },
    );
    assert_eq!(
        r.err(),
        Some(TrainError::Cancelled {
            epoch: 1,
            batch: stop_after + 1
        })
    );
    assert!(!reports.is_empty());
    let p = &reports[0];
    assert_eq!((p.epoch, p.epochs, p.batches), (1, 30, 250));
    assert!(p.samples_per_sec > 0.0 && p.eta_secs > 0.0);
}

#[test]
fn the_sine_strategy_trains_saves_predicts_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::new(dir.path());
    let plan = pipeline::plan(SINE_STRATEGY, None, None).unwrap();
    let bars = vec![(
        "SINE".to_string(),
        vec![(Timeframe::H1, Arc::new(sine_bars(3000, 48.0)))],
    )];
    let mut epochs = 0;
    let out = pipeline::run(
        &plan,
        &bars,
        Device::Cpu,
        &store,
        &mut |p| epochs = epochs.max(p.epoch),
        &|| false,
    )
    .unwrap();
    let m = &out.metadata;
    assert!(m.test_accuracy >= 0.9, "test accuracy {}", m.test_accuracy);
    assert_eq!(m.name, "sine_roc/SINE_1h_v1");
    assert_eq!(m.device, "cpu");
    assert!(m.parameters > 0 && m.samples.test > 0);
    assert!(epochs >= 1);

    // A second run is v2 and becomes latest; a leftover temporary is neither listed nor kept.
    let out2 = pipeline::run(&plan, &bars, Device::Cpu, &store, &mut |_| {}, &|| false).unwrap();
    assert_eq!(out2.metadata.name, "sine_roc/SINE_1h_v2");
    std::fs::create_dir_all(store.root().join("sine_roc/.tmp-half")).unwrap();
    let listed = store.list();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|l| l.latest && l.metadata.version == 2));
    assert_eq!(store.clean_temporaries(), 1);

    let p = pipeline::predict(&store, "sine_roc", "SINE", &bars[0].1, None).unwrap();
    assert_eq!(p.model, "sine_roc/SINE_1h_v2");
    let sum: f64 = p.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-5);
    assert!(p.confidence >= 1.0 / 3.0);

    store.delete("sine_roc/SINE_1h_v2").unwrap();
    let listed = store.list();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].latest, "latest moves back to v1");
    assert!(store.read("sine_roc/SINE_1h_v2").is_err());
    assert!(store.resolve("../etc").is_err());
}

#[test]
fn several_symbols_get_an_embedding_and_per_symbol_scores() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::new(dir.path());
    let plan = pipeline::plan(SINE_STRATEGY, Some(vec!["A".into(), "B".into()]), None).unwrap();
    let bars = vec![
        (
            "A".to_string(),
            vec![(Timeframe::H1, Arc::new(sine_bars(1500, 48.0)))],
        ),
        (
            "B".to_string(),
            vec![(Timeframe::H1, Arc::new(sine_bars(1500, 60.0)))],
        ),
    ];
    let out = pipeline::run(&plan, &bars, Device::Cpu, &store, &mut |_| {}, &|| false).unwrap();
    assert_eq!(out.metadata.name, "sine_roc/A-B_1h_v1");
    assert!(out.metadata.architecture.embeds_symbols());
    assert_eq!(
        out.metrics.per_symbol_test.keys().collect::<Vec<_>>(),
        ["A", "B"]
    );
    assert!(pipeline::predict(&store, "sine_roc", "C", &bars[0].1, None).is_err());
    assert!(pipeline::predict(&store, "sine_roc", "B", &bars[1].1, None).is_ok());
}

#[test]
fn a_model_copied_to_another_store_predicts_the_same_and_damage_is_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (src, dst) = (ModelStore::new(a.path()), ModelStore::new(b.path()));
    let plan = pipeline::plan(SINE_STRATEGY, None, None).unwrap();
    let bars = vec![(
        "SINE".to_string(),
        vec![(Timeframe::H1, Arc::new(sine_bars(1500, 48.0)))],
    )];
    pipeline::run(&plan, &bars, Device::Cpu, &src, &mut |_| {}, &|| false).unwrap();
    pipeline::run(&plan, &bars, Device::Cpu, &src, &mut |_| {}, &|| false).unwrap();
    // The source's v2 becomes the destination's v1: names are the destination's own.
    let bundle = src.export("sine_roc").unwrap();
    assert_eq!(bundle.metadata.version, 2);
    let meta = dst.import(&bundle).unwrap();
    assert_eq!(meta.name, "sine_roc/SINE_1h_v1");
    assert_eq!(meta.created_ms, bundle.metadata.created_ms);
    let p1 = pipeline::predict(&src, "sine_roc/SINE_1h_v2", "SINE", &bars[0].1, None).unwrap();
    let p2 = pipeline::predict(&dst, "sine_roc", "SINE", &bars[0].1, None).unwrap();
    assert_eq!(p1.probabilities, p2.probabilities);

    let mut broken = bundle.clone();
    broken.weights.truncate(broken.weights.len() / 2);
    assert!(matches!(
        dst.import(&broken),
        Err(ktrdr_train::store::StoreError::Invalid(_))
    ));
    assert_eq!(dst.list().len(), 1, "the damaged copy is not listed");
    assert_eq!(dst.read("sine_roc").unwrap().listed.metadata.version, 1);
}

#[test]
fn a_cancelled_pipeline_run_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::new(&dir.path().join("models"));
    let plan = pipeline::plan(SINE_STRATEGY, None, None).unwrap();
    let bars = vec![(
        "SINE".to_string(),
        vec![(Timeframe::H1, Arc::new(sine_bars(1500, 48.0)))],
    )];
    let whole = pipeline::run(&plan, &bars, Device::Cpu, &store, &mut |_| {}, &|| false).unwrap();
    assert_eq!(whole.resumed_from_epoch, None);

    let spec = ktrdr_train::CheckpointSpec {
        path: dir.path().join("run.ckpt"),
        fingerprint: "sine 1500".into(),
    };
    let calls = Cell::new(0usize);
    let cancelled = || {
        calls.set(calls.get() + 1);
        calls.get() > 50
    };
    let r = pipeline::run_with_checkpoint(
        &plan,
        &bars,
        Device::Cpu,
        &store,
        &mut |_| {},
        &cancelled,
        Some(&spec),
    );
    let Err(TrainError::Cancelled { epoch, .. }) = r else {
        panic!("not cancelled");
    };
    assert!(epoch >= 2, "cancelled in epoch {epoch}: no checkpoint yet");
    let resumed = pipeline::run_with_checkpoint(
        &plan,
        &bars,
        Device::Cpu,
        &store,
        &mut |_| {},
        &|| false,
        Some(&spec),
    )
    .unwrap();
    assert_eq!(resumed.resumed_from_epoch, Some(epoch - 1));
    assert_eq!(resumed.metrics.history, whole.metrics.history);
    assert_eq!(resumed.metrics.test, whole.metrics.test);
    let p1 = pipeline::predict(&store, &whole.metadata.name, "SINE", &bars[0].1, None).unwrap();
    let p2 = pipeline::predict(&store, &resumed.metadata.name, "SINE", &bars[0].1, None).unwrap();
    assert_ne!(p1.model, p2.model);
    assert_eq!(p1.probabilities, p2.probabilities);
    // The caller removes the checkpoint once the model is saved.
    assert!(spec.path.exists());
    spec.remove().unwrap();
    assert!(!spec.path.exists());
}
