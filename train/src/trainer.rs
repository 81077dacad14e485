//! The training loop. Runs on whatever thread calls it (the daemon gives it its own OS thread);
//! reports progress every few batches and after each epoch, and checks for cancellation before every
//! batch. Every tensor it creates is owned by this call, so returning (finished, failed or
//! cancelled) frees them all.
//!
//! With a [`CheckpointSpec`], the state at the end of every epoch is written to its file, and a
//! call that finds the file resumes after the epoch it holds: same seed, plan and data, and (on CPU)
//! the resumed training ends with the weights, history and metrics the uninterrupted one would have.

use crate::checkpoint::{Best, Checkpoint, CheckpointSpec};
use crate::metrics::{EpochRecord, Evaluation, Metrics};
use crate::model::{Architecture, Mlp};
use crate::optim::{Optimizer, Rule};
use crate::options::{ClassWeights, Schedule, TrainOptions};
use crate::rng::Rng;
use crate::samples::{Samples, SplitSamples};
use std::collections::BTreeMap;
use std::time::Instant;
use tch::{Device, Kind, Reduction, Tensor, nn};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("cancelled at epoch {epoch}, batch {batch}")]
    Cancelled { epoch: usize, batch: usize },
    #[error("{0}")]
    Invalid(String),
    #[error("torch: {0}")]
    Torch(String),
    #[error("{0}")]
    Io(String),
}

impl From<tch::TchError> for TrainError {
    fn from(e: tch::TchError) -> Self {
        TrainError::Torch(e.to_string())
    }
}

/// A progress snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub epoch: usize,
    pub epochs: usize,
    pub batch: usize,
    pub batches: usize,
    /// Means over the batches of this epoch so far.
    pub train_loss: f64,
    pub train_accuracy: f64,
    /// Of the last finished epoch.
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub samples_per_sec: f64,
    /// Until the last epoch would end; early stopping may end sooner.
    pub eta_secs: f64,
    pub learning_rate: f64,
    /// Fraction of the planned batches done, 0..=1.
    pub fraction: f64,
}

/// How the caller watches, stops and resumes a run.
pub struct Hooks<'a> {
    pub progress: &'a mut dyn FnMut(&Progress),
    pub cancelled: &'a dyn Fn() -> bool,
    /// Where to write a checkpoint after every epoch, and resume from if it exists. A checkpoint
    /// that cannot be written fails the training (`TrainError::Io`); one that cannot be used (another
    /// fingerprint, damaged, another model) fails it before the first batch (`TrainError::Invalid`).
    /// The trainer never deletes it: the caller does, once the model is saved.
    pub checkpoint: Option<&'a CheckpointSpec>,
}

pub struct Trained {
    pub vs: nn::VarStore,
    pub model: Mlp,
    pub architecture: Architecture,
    pub metrics: Metrics,
    /// Over every run that contributed, when resumed.
    pub train_secs: f64,
    pub samples_per_sec: f64,
    /// The epochs a checkpoint held when this call started (None: it started from scratch).
    pub resumed_from_epoch: Option<usize>,
}

/// Rows resident on the device.
struct DeviceRows {
    x: Tensor,
    y: Tensor,
    symbol: Tensor,
    n: usize,
}

impl DeviceRows {
    fn new(s: &Samples, device: Device) -> DeviceRows {
        let n = s.len();
        DeviceRows {
            x: Tensor::from_slice(&s.x)
                .view([n as i64, s.width as i64])
                .to_device(device),
            y: Tensor::from_slice(&s.y).to_device(device),
            symbol: Tensor::from_slice(&s.symbol).to_device(device),
            n,
        }
    }
}

pub fn train(
    data: &SplitSamples,
    opts: &TrainOptions,
    device: Device,
    hooks: Hooks<'_>,
) -> Result<Trained, TrainError> {
    let started = Instant::now();
    let architecture = Architecture {
        inputs: data.feature_names.len() as i64,
        hidden_layers: opts.hidden_layers.clone(),
        activation: opts.activation,
        dropout: opts.dropout,
        symbols: data.symbols.clone(),
        embedding_dim: opts.embedding_dim,
    };
    if architecture.inputs == 0 {
        return Err(TrainError::Invalid(
            "the strategy yields no features".into(),
        ));
    }
    let mut rng = Rng::new(opts.seed);
    let vs = nn::VarStore::new(device);
    let model = Mlp::new(&vs.root(), &architecture, &mut rng);
    let mut lr = opts.learning_rate;
    let mut opt = Optimizer::new(&vs, Rule::from_options(&opts.optimizer), lr);
    let weights = class_weights(&opts.class_weights, &data.train).map(|w| {
        Tensor::from_slice(&w)
            .to_kind(Kind::Float)
            .to_device(device)
    });
    let train_rows = DeviceRows::new(&data.train, device);
    let val_rows = DeviceRows::new(&data.validation, device);

    let batch_size = opts.batch_size.max(1);
    let batches = train_rows.n.div_ceil(batch_size);
    let report_every = (batches / 20).max(1);
    let planned = (batches * opts.epochs).max(1);
    let mut done_batches = 0usize;
    let mut seen_samples = 0u64;
    let mut order: Vec<i64> = (0..train_rows.n as i64).collect();

    let mut history = Vec::new();
    let mut best: Option<Best> = None;
    let mut since_best = 0usize;
    let mut stopped = false;
    let mut plateau_best = f64::INFINITY;
    let mut plateau_wait = 0usize;
    let mut earlier_secs = 0.0;
    let spec = hooks.checkpoint;
    let resumed = match spec {
        Some(spec) => spec.load(device)?,
        None => None,
    };
    let resumed_from_epoch = resumed.as_ref().map(|c| c.epochs_finished);
    if let (Some(c), Some(spec)) = (resumed, spec) {
        let fits = |what: String| {
            TrainError::Invalid(format!(
                "checkpoint {} does not fit this training ({what}); delete it to start over",
                spec.path.display()
            ))
        };
        if c.epochs_finished > opts.epochs {
            return Err(fits(format!(
                "{} epochs finished, {} planned",
                c.epochs_finished, opts.epochs
            )));
        }
        if !is_permutation(&c.order, train_rows.n) {
            return Err(fits(format!(
                "its row order is not one of {} training rows",
                train_rows.n
            )));
        }
        load_weights(&vs, &c.weights).map_err(|e| fits(format!("weights: {e}")))?;
        if let Some(b) = &c.best {
            check_names(&vs, &b.weights).map_err(|e| fits(format!("best weights: {e}")))?;
        }
        opt.load_state(c.optimizer)
            .map_err(|e| fits(e.to_string()))?;
        lr = c.learning_rate;
        opt.set_lr(lr);
        rng = Rng::from_state(c.rng_state);
        order = c.order;
        history = c.history;
        best = c.best;
        since_best = c.since_best;
        stopped = c.stopped;
        plateau_best = c.plateau_best;
        plateau_wait = c.plateau_wait;
        done_batches = c.done_batches;
        seen_samples = c.seen_samples;
        earlier_secs = c.elapsed_secs;
    }
    let clock = || earlier_secs + started.elapsed().as_secs_f64();
    let mut last_val: Option<(f64, f64)> = history.last().map(|h| (h.val_loss, h.val_accuracy));
    let first_epoch = if stopped {
        opts.epochs + 1
    } else {
        history.len() + 1
    };

    for epoch in first_epoch..=opts.epochs {
        rng.shuffle(&mut order);
        let (mut loss_sum, mut correct, mut count) = (0.0f64, 0i64, 0usize);
        for (b, chunk) in order.chunks(batch_size).enumerate() {
            if (hooks.cancelled)() {
                return Err(TrainError::Cancelled {
                    epoch,
                    batch: b + 1,
                });
            }
            let idx = Tensor::from_slice(chunk).to_device(device);
            let xb = train_rows.x.index_select(0, &idx);
            let yb = train_rows.y.index_select(0, &idx);
            let sb = train_rows.symbol.index_select(0, &idx);
            let logits = model.forward(&xb, &sb, Some(&mut rng));
            let loss =
                logits.f_cross_entropy_loss(&yb, weights.as_ref(), Reduction::Mean, -100, 0.0)?;
            opt.backward_step(&loss)?;
            let n = chunk.len();
            loss_sum += loss.double_value(&[]) * n as f64;
            correct += logits
                .argmax(-1, false)
                .eq_tensor(&yb)
                .sum(Kind::Int64)
                .int64_value(&[]);
            count += n;
            done_batches += 1;
            seen_samples += n as u64;
            if (b + 1) % report_every == 0 || b + 1 == batches {
                let elapsed = clock();
                (hooks.progress)(&Progress {
                    epoch,
                    epochs: opts.epochs,
                    batch: b + 1,
                    batches,
                    train_loss: loss_sum / count as f64,
                    train_accuracy: correct as f64 / count as f64,
                    val_loss: last_val.map(|v| v.0),
                    val_accuracy: last_val.map(|v| v.1),
                    samples_per_sec: seen_samples as f64 / elapsed.max(1e-9),
                    eta_secs: elapsed / done_batches as f64
                        * (planned.saturating_sub(done_batches)) as f64,
                    learning_rate: lr,
                    fraction: done_batches as f64 / planned as f64,
                });
            }
        }
        let (val_loss, val_pred) = predict_rows(&model, &val_rows, weights.as_ref())?;
        let val_acc = accuracy(&data.validation.y, &val_pred);
        last_val = Some((val_loss, val_acc));
        history.push(EpochRecord {
            epoch,
            train_loss: loss_sum / count.max(1) as f64,
            train_accuracy: correct as f64 / count.max(1) as f64,
            val_loss,
            val_accuracy: val_acc,
            learning_rate: lr,
        });
        let improved = best
            .as_ref()
            .is_none_or(|b| val_loss < b.val_loss - opts.min_delta);
        if improved {
            best = Some(Best {
                val_loss,
                epoch,
                weights: snapshot(&vs),
            });
            since_best = 0;
        } else {
            since_best += 1;
        }
        let elapsed = clock();
        (hooks.progress)(&Progress {
            epoch,
            epochs: opts.epochs,
            batch: batches,
            batches,
            train_loss: loss_sum / count.max(1) as f64,
            train_accuracy: correct as f64 / count.max(1) as f64,
            val_loss: Some(val_loss),
            val_accuracy: Some(val_acc),
            samples_per_sec: seen_samples as f64 / elapsed.max(1e-9),
            eta_secs: elapsed / done_batches.max(1) as f64
                * (planned.saturating_sub(done_batches)) as f64,
            learning_rate: lr,
            fraction: done_batches as f64 / planned as f64,
        });
        stopped = opts.patience > 0 && since_best >= opts.patience;
        if !stopped {
            lr = next_rate(
                &opts.schedule,
                lr,
                epoch,
                val_loss,
                &mut plateau_best,
                &mut plateau_wait,
            );
            opt.set_lr(lr);
        }
        if let Some(spec) = spec {
            // The state the next epoch starts from; moved out and back so nothing is copied.
            let c = Checkpoint {
                fingerprint: spec.fingerprint.clone(),
                epochs_finished: epoch,
                stopped,
                rng_state: rng.state(),
                learning_rate: lr,
                best: best.take(),
                since_best,
                plateau_best,
                plateau_wait,
                history: std::mem::take(&mut history),
                done_batches,
                seen_samples,
                elapsed_secs: clock(),
                order: std::mem::take(&mut order),
                weights: vs.variables().into_iter().collect(),
                optimizer: opt.state(),
            };
            let written = c.write(&spec.path);
            (best, history, order) = (c.best, c.history, c.order);
            written?;
        }
        if stopped {
            break;
        }
    }
    let stopped_early = stopped && history.len() < opts.epochs;
    let train_secs = clock();
    let best_epoch = match best {
        Some(b) => {
            restore(&vs, &b.weights);
            b.epoch
        }
        None => history.len(),
    };
    let test_rows = DeviceRows::new(&data.test, device);
    let (test_loss, test_pred) = predict_rows(&model, &test_rows, weights.as_ref())?;
    let (val_loss, val_pred) = predict_rows(&model, &val_rows, weights.as_ref())?;
    let metrics = Metrics {
        test: crate::metrics::evaluate(&data.test.y, &test_pred, Some(test_loss)),
        validation: crate::metrics::evaluate(&data.validation.y, &val_pred, Some(val_loss)),
        per_symbol_test: per_symbol(data, &data.test, &test_pred),
        per_symbol_validation: per_symbol(data, &data.validation, &val_pred),
        epochs_run: history.len(),
        best_epoch,
        stopped_early,
        final_learning_rate: lr,
        history,
    };
    Ok(Trained {
        vs,
        model,
        architecture,
        metrics,
        train_secs,
        samples_per_sec: seen_samples as f64 / train_secs.max(1e-9),
        resumed_from_epoch,
    })
}

/// Whether `order` lists each of the rows 0..n once: a saved order of other data is not.
fn is_permutation(order: &[i64], n: usize) -> bool {
    let mut seen = vec![false; n];
    order.len() == n
        && order.iter().all(|&i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| seen.get_mut(i))
                .is_some_and(|s| !std::mem::replace(s, true))
        })
}

/// Whether `saved` holds exactly the model's variables, with their shapes.
fn check_names(vs: &nn::VarStore, saved: &[(String, Tensor)]) -> Result<(), String> {
    let vars = vs.variables();
    if saved.len() != vars.len() {
        return Err(format!(
            "{} variables, the model has {}",
            saved.len(),
            vars.len()
        ));
    }
    for (k, t) in saved {
        match vars.get(k) {
            None => return Err(format!("{k:?} is not a variable of the model")),
            Some(v) if v.size() != t.size() || v.kind() != t.kind() => {
                return Err(format!(
                    "{k} is {:?} {:?}, the model's is {:?} {:?}",
                    t.kind(),
                    t.size(),
                    v.kind(),
                    v.size()
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn load_weights(vs: &nn::VarStore, saved: &[(String, Tensor)]) -> Result<(), String> {
    check_names(vs, saved)?;
    restore(vs, saved);
    Ok(())
}

fn class_weights(cw: &ClassWeights, train: &Samples) -> Option<[f32; 3]> {
    match cw {
        ClassWeights::None => None,
        ClassWeights::Fixed(w) => Some([w[0] as f32, w[1] as f32, w[2] as f32]),
        ClassWeights::Balanced => {
            let counts = train.class_counts();
            let inv: Vec<f64> = counts
                .iter()
                .map(|&c| if c == 0 { 0.0 } else { 1.0 / c as f64 })
                .collect();
            let present = inv.iter().filter(|w| **w > 0.0).count().max(1);
            let mean = inv.iter().sum::<f64>() / present as f64;
            Some([
                (inv[0] / mean) as f32,
                (inv[1] / mean) as f32,
                (inv[2] / mean) as f32,
            ])
        }
    }
}

fn next_rate(
    s: &Schedule,
    lr: f64,
    epoch: usize,
    val_loss: f64,
    plateau_best: &mut f64,
    plateau_wait: &mut usize,
) -> f64 {
    match *s {
        Schedule::Constant => lr,
        Schedule::Step { step_size, gamma } if epoch.is_multiple_of(step_size.max(1)) => lr * gamma,
        Schedule::Step { .. } => lr,
        Schedule::Exponential { gamma } => lr * gamma,
        Schedule::Plateau {
            factor,
            patience,
            min_lr,
        } => {
            if val_loss < *plateau_best {
                *plateau_best = val_loss;
                *plateau_wait = 0;
                lr
            } else {
                *plateau_wait += 1;
                if *plateau_wait > patience {
                    *plateau_wait = 0;
                    (lr * factor).max(min_lr)
                } else {
                    lr
                }
            }
        }
    }
}

/// Mean loss and predicted classes, in chunks so a large set never needs one huge activation.
fn predict_rows(
    model: &Mlp,
    rows: &DeviceRows,
    weights: Option<&Tensor>,
) -> Result<(f64, Vec<i64>), TrainError> {
    const CHUNK: i64 = 8192;
    let n = rows.n as i64;
    let mut preds = Vec::with_capacity(rows.n);
    let mut loss_sum = 0.0;
    tch::no_grad(|| -> Result<(), TrainError> {
        let mut start = 0;
        while start < n {
            let len = CHUNK.min(n - start);
            let x = rows.x.narrow(0, start, len);
            let y = rows.y.narrow(0, start, len);
            let s = rows.symbol.narrow(0, start, len);
            let logits = model.forward(&x, &s, None);
            let loss = logits.f_cross_entropy_loss(&y, weights, Reduction::Mean, -100, 0.0)?;
            loss_sum += loss.double_value(&[]) * len as f64;
            let p = logits.argmax(-1, false).to_device(Device::Cpu);
            preds.extend(Vec::<i64>::try_from(&p)?);
            start += len;
        }
        Ok(())
    })?;
    Ok((loss_sum / n.max(1) as f64, preds))
}

fn accuracy(truth: &[i64], pred: &[i64]) -> f64 {
    let ok = truth.iter().zip(pred).filter(|(a, b)| a == b).count();
    ok as f64 / truth.len().max(1) as f64
}

fn per_symbol(data: &SplitSamples, part: &Samples, pred: &[i64]) -> BTreeMap<String, Evaluation> {
    if data.symbols.len() < 2 {
        return BTreeMap::new();
    }
    data.symbols
        .iter()
        .enumerate()
        .map(|(si, name)| {
            let (mut t, mut p) = (Vec::new(), Vec::new());
            for ((&y, &s), &q) in part.y.iter().zip(&part.symbol).zip(pred) {
                if s == si as i64 {
                    t.push(y);
                    p.push(q);
                }
            }
            (name.clone(), crate::metrics::evaluate(&t, &p, None))
        })
        .collect()
}

fn snapshot(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    tch::no_grad(|| {
        vs.variables()
            .into_iter()
            .map(|(k, t)| (k, t.copy()))
            .collect()
    })
}

fn restore(vs: &nn::VarStore, saved: &[(String, Tensor)]) {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (k, t) in saved {
            if let Some(v) = vars.get(k) {
                let mut v = v.shallow_clone();
                v.copy_(t);
            }
        }
    });
}
