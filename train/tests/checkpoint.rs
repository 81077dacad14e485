//! Checkpoints with real libtorch on CPU: a training stopped mid-epoch and resumed ends with the
//! same weights, history and metrics, bit for bit, as one that ran through.

use ktrdr_train::checkpoint::{Checkpoint, CheckpointSpec};
use ktrdr_train::options::{Activation, ClassWeights, Optimizer, Schedule, TrainOptions};
use ktrdr_train::rng::Rng;
use ktrdr_train::samples::{Samples, SplitSamples};
use ktrdr_train::trainer::{self, Hooks, TrainError, Trained};
use std::cell::Cell;
use std::path::Path;
use tch::Device;

const TRAIN_ROWS: usize = 1200;
const BATCH: usize = 64;
const BATCHES: usize = TRAIN_ROWS.div_ceil(BATCH);

/// Rows whose class is a rule of two of five features, with `noise` of the labels random (so that
/// the validation loss stalls and the schedules have something to react to). Two symbols, so the
/// model has a symbol embedding too.
fn rows(n: usize, seed: u64, noise: f64) -> Samples {
    let mut rng = Rng::new(seed);
    let mut s = Samples::new(5);
    for _ in 0..n {
        let x: Vec<f32> = (0..5).map(|_| rng.unit() as f32).collect();
        let v = x[0] + x[1];
        let y = if rng.unit() < noise {
            rng.below(3) as i64
        } else if v > 1.2 {
            0
        } else if v < 0.8 {
            2
        } else {
            1
        };
        s.push(x, y, rng.below(2) as i64);
    }
    s
}

fn data(noise: f64) -> SplitSamples {
    SplitSamples {
        symbols: vec!["A".into(), "B".into()],
        feature_names: (0..5).map(|i| format!("f{i}")).collect(),
        train: rows(TRAIN_ROWS, 1, noise),
        validation: rows(300, 2, noise),
        test: rows(300, 3, noise),
        first_ms: None,
        last_ms: None,
    }
}

fn adam_dropout() -> TrainOptions {
    TrainOptions {
        hidden_layers: vec![24, 12],
        activation: Activation::Relu,
        dropout: 0.2,
        learning_rate: 0.01,
        batch_size: BATCH,
        epochs: 6,
        optimizer: Optimizer::Adam {
            weight_decay: 0.0001,
        },
        schedule: Schedule::Exponential { gamma: 0.9 },
        class_weights: ClassWeights::Balanced,
        patience: 0,
        min_delta: 0.0,
        seed: 11,
        embedding_dim: 3,
    }
}

fn sgd_plateau_early_stop() -> TrainOptions {
    TrainOptions {
        hidden_layers: vec![32, 16],
        activation: Activation::Tanh,
        dropout: 0.1,
        learning_rate: 0.1,
        batch_size: BATCH,
        epochs: 60,
        optimizer: Optimizer::Sgd {
            momentum: 0.9,
            weight_decay: 0.0005,
        },
        schedule: Schedule::Plateau {
            factor: 0.5,
            patience: 1,
            min_lr: 1e-4,
        },
        class_weights: ClassWeights::None,
        patience: 4,
        min_delta: 0.001,
        seed: 3,
        embedding_dim: 2,
    }
}

/// Trains; with `cancel_after`, `cancelled` answers yes from that many batches on.
fn train(
    data: &SplitSamples,
    opts: &TrainOptions,
    spec: Option<&CheckpointSpec>,
    cancel_after: Option<usize>,
) -> Result<Trained, TrainError> {
    let batches = Cell::new(0usize);
    trainer::train(
        data,
        opts,
        Device::Cpu,
        Hooks {
            progress: &mut |_| {},
            cancelled: &|| {
                batches.set(batches.get() + 1);
                cancel_after.is_some_and(|n| batches.get() > n)
            },
            checkpoint: spec,
        },
    )
}

/// Cancels the training in `epoch`, after `batch - 1` of its batches.
fn cancel_in(
    data: &SplitSamples,
    opts: &TrainOptions,
    spec: &CheckpointSpec,
    already: usize,
    epoch: usize,
    batch: usize,
) {
    let r = train(
        data,
        opts,
        Some(spec),
        Some((epoch - 1 - already) * BATCHES + batch - 1),
    );
    assert_eq!(r.err(), Some(TrainError::Cancelled { epoch, batch }));
    let c = Checkpoint::read(&spec.path, Device::Cpu).unwrap();
    assert_eq!(c.epochs_finished, epoch - 1, "the last finished epoch");
    assert_eq!(c.history.len(), epoch - 1);
}

fn assert_same(a: &Trained, b: &Trained) {
    let (va, vb) = (a.vs.variables(), b.vs.variables());
    assert_eq!(va.len(), vb.len());
    for (name, t) in &va {
        assert!(t.equal(&vb[name]), "{name} differs");
    }
    let (ma, mb) = (&a.metrics, &b.metrics);
    assert_eq!(ma.history, mb.history);
    assert_eq!(ma.test, mb.test);
    assert_eq!(ma.validation, mb.validation);
    assert_eq!(ma.per_symbol_test, mb.per_symbol_test);
    assert_eq!(
        (ma.epochs_run, ma.best_epoch, ma.stopped_early),
        (mb.epochs_run, mb.best_epoch, mb.stopped_early)
    );
    assert_eq!(
        ma.final_learning_rate.to_bits(),
        mb.final_learning_rate.to_bits()
    );
}

fn spec(dir: &Path, fingerprint: &str) -> CheckpointSpec {
    CheckpointSpec {
        path: dir.join("training.ckpt"),
        fingerprint: fingerprint.into(),
    }
}

#[test]
fn adam_with_dropout_resumed_twice_ends_bit_for_bit_as_uninterrupted() {
    let data = data(0.0);
    let opts = adam_dropout();
    let a = train(&data, &opts, None, None).unwrap();
    assert_eq!(a.resumed_from_epoch, None);
    assert_eq!(a.metrics.epochs_run, 6);

    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), "plan+data v1");
    // Stopped in epoch 2: the file holds epoch 1. Then resumed and stopped in epoch 4.
    cancel_in(&data, &opts, &spec, 0, 2, 7);
    cancel_in(&data, &opts, &spec, 1, 4, 12);
    let b = train(&data, &opts, Some(&spec), None).unwrap();
    assert_eq!(b.resumed_from_epoch, Some(3));
    assert_same(&a, &b);

    // The trainer leaves the finished checkpoint; a call with it only evaluates again.
    let c = Checkpoint::read(&spec.path, Device::Cpu).unwrap();
    assert_eq!((c.epochs_finished, c.stopped), (6, false));
    let again = train(&data, &opts, Some(&spec), Some(0)).unwrap();
    assert_eq!(again.resumed_from_epoch, Some(6));
    assert_same(&a, &again);
}

#[test]
fn sgd_momentum_with_plateau_schedule_and_early_stopping_resumes_bit_for_bit() {
    let data = data(0.35);
    let opts = sgd_plateau_early_stop();
    let a = train(&data, &opts, None, None).unwrap();
    let run = a.metrics.epochs_run;
    assert!(a.metrics.stopped_early, "early stopping ended the run");
    let rates: Vec<f64> = a.metrics.history.iter().map(|h| h.learning_rate).collect();
    assert!(
        rates.windows(2).any(|w| w[1] < w[0]),
        "the plateau schedule lowered the rate: {rates:?}"
    );
    assert!(run >= 4, "{run} epochs");

    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), "sgd");
    let (k1, k2) = (2, run - 1);
    cancel_in(&data, &opts, &spec, 0, k1, 3);
    cancel_in(&data, &opts, &spec, k1 - 1, k2, BATCHES);
    let b = train(&data, &opts, Some(&spec), None).unwrap();
    assert_eq!(b.resumed_from_epoch, Some(k2 - 1));
    assert_same(&a, &b);

    // The last checkpoint records the early stop: resuming from it trains no further epoch.
    let c = Checkpoint::read(&spec.path, Device::Cpu).unwrap();
    assert_eq!((c.epochs_finished, c.stopped), (run, true));
    let again = train(&data, &opts, Some(&spec), Some(0)).unwrap();
    assert_same(&a, &again);
}

#[test]
fn a_checkpoint_of_another_training_is_refused_and_left_alone() {
    let data = data(0.0);
    let opts = TrainOptions {
        epochs: 3,
        ..adam_dropout()
    };
    let dir = tempfile::tempdir().unwrap();
    cancel_in(&data, &opts, &spec(dir.path(), "mine"), 0, 2, 1);
    let before = std::fs::read(dir.path().join("training.ckpt")).unwrap();

    let other = spec(dir.path(), "theirs");
    let e = train(&data, &opts, Some(&other), None).err().unwrap();
    let m = e.to_string();
    assert!(matches!(e, TrainError::Invalid(_)), "{m}");
    assert!(
        m.contains("training.ckpt") && m.contains("another training"),
        "{m}"
    );
    assert_eq!(std::fs::read(&other.path).unwrap(), before);

    // Same fingerprint but other rows (a caller's fingerprint that missed a change): refused too.
    let mut fewer = data.clone();
    fewer.train = rows(TRAIN_ROWS - 10, 1, 0.0);
    let e = train(&fewer, &opts, Some(&spec(dir.path(), "mine")), None)
        .err()
        .unwrap();
    assert!(e.to_string().contains("does not fit"), "{e}");
    // Another architecture under the same fingerprint.
    let wider = TrainOptions {
        hidden_layers: vec![30, 12],
        ..opts.clone()
    };
    let e = train(&data, &wider, Some(&spec(dir.path(), "mine")), None)
        .err()
        .unwrap();
    assert!(e.to_string().contains("does not fit"), "{e}");
}

#[test]
fn a_truncated_checkpoint_is_a_clear_error() {
    let data = data(0.0);
    let opts = TrainOptions {
        epochs: 3,
        ..adam_dropout()
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = spec(dir.path(), "fp");
    cancel_in(&data, &opts, &spec, 0, 2, 1);
    let full = std::fs::read(&spec.path).unwrap();
    for cut in [full.len() - 100, full.len() / 2, 30] {
        std::fs::write(&spec.path, &full[..cut]).unwrap();
        let e = train(&data, &opts, Some(&spec), None).err().unwrap();
        let m = e.to_string();
        assert!(matches!(e, TrainError::Invalid(_)), "{m}");
        assert!(
            m.contains("training.ckpt") && m.contains("truncated"),
            "{m}"
        );
    }
}
