//! Trainings as operations: bars come from the data service on the runtime, then the whole run
//! (features, training, evaluation, save) happens on a dedicated OS thread, so a long training never
//! occupies a runtime worker and other clients keep their latency. Progress and cancellation cross
//! over through the operation's handle, which both sides may use from any thread.
//!
//! [`host`]: trainings as a delegable service: here, or on a training host (another ktrdrd), the
//! model copied back.

pub mod host;

use crate::data::DataManager;
use crate::data::input::{self, SeriesKey, Window};
use crate::ops::OpHandle;
use ktrdr_market::Bars;
use ktrdr_protocol::model::{ModelInfo, Progress};
use ktrdr_protocol::operation::{OpResult, PartSizes, TrainingSummary};
use ktrdr_protocol::{ErrorKind, WireError};
use ktrdr_train::pipeline::SymbolBars;
use ktrdr_train::store::{Listed, StoreError};
use ktrdr_train::{Device, ModelStore, Plan, TrainError};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

#[derive(Default)]
pub struct TrainingCounters {
    pub trainings_completed: AtomicU64,
    pub trainings_failed: AtomicU64,
    pub trainings_cancelled: AtomicU64,
    pub samples_trained: AtomicU64,
    pub predictions: AtomicU64,
    pub temporaries_removed: AtomicU64,
    /// Epochs finished, counted as they finish (for Prometheus).
    pub epochs: AtomicU64,
    /// Trainings running on this daemon's torch now, and each one's latest samples per second.
    pub running: AtomicU64,
    pub throughput: std::sync::Mutex<std::collections::HashMap<u64, f64>>,
}

impl TrainingCounters {
    /// Samples per second of all trainings running now.
    pub fn samples_per_sec(&self) -> f64 {
        self.throughput
            .lock()
            .map(|m| m.values().sum())
            .unwrap_or(0.0)
    }
}

/// Marks a training as running until dropped.
struct Running<'a> {
    counters: &'a TrainingCounters,
    id: u64,
}

impl<'a> Running<'a> {
    fn new(counters: &'a TrainingCounters, id: u64) -> Self {
        counters.running.fetch_add(1, Ordering::Relaxed);
        Running { counters, id }
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.counters.running.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut m) = self.counters.throughput.lock() {
            m.remove(&self.id);
        }
    }
}

pub struct Job {
    pub plan: Plan,
    pub device: Device,
    pub window: Window,
    /// Torch intra-op threads for this training (`training.torch_threads`).
    pub threads: usize,
}

/// Counts a training's outcome, whichever way it ran.
pub fn count(counters: &TrainingCounters, outcome: &Result<OpResult, WireError>) {
    let c = match outcome {
        Ok(_) => &counters.trainings_completed,
        Err(e) if e.kind == ErrorKind::Cancelled => &counters.trainings_cancelled,
        Err(_) => &counters.trainings_failed,
    };
    c.fetch_add(1, Ordering::Relaxed);
}

pub fn store_error(e: StoreError) -> WireError {
    match e {
        StoreError::NotFound(n) => WireError::not_found(format!("no model {n}"))
            .with_hint("`ktrdrctl models list` shows the stored models"),
        StoreError::Invalid(m) => WireError::validation(m),
        StoreError::Io(m) => WireError::internal(m),
    }
}

pub fn model_info(l: &Listed) -> ModelInfo {
    let m = &l.metadata;
    ModelInfo {
        name: m.name.clone(),
        strategy: m.strategy.clone(),
        symbols: m.symbols.clone(),
        timeframe: m.timeframe.clone(),
        version: m.version,
        latest: l.latest,
        created_ms: m.created_ms,
        device: m.device.clone(),
        torch_version: m.torch_version.clone(),
        parameters: m.parameters,
        test_accuracy: m.test_accuracy,
        train_secs: m.train_secs,
        path: l.dir.display().to_string(),
    }
}

/// Every series a plan needs, per symbol, cut to the window (indicators warm up inside it).
pub async fn load_bars(
    data: &Arc<DataManager>,
    symbols: &[String],
    plan: &Plan,
    window: Window,
) -> Result<Vec<SymbolBars>, WireError> {
    let mut out = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        let mut series = Vec::with_capacity(plan.timeframes.len());
        for &tf in &plan.timeframes {
            let key = SeriesKey {
                symbol: input::symbol(symbol)?,
                timeframe: tf,
            };
            let (bars, range) = data.window(&key, window).await.map_err(|e| {
                if e.kind == ktrdr_protocol::ErrorKind::NotFound {
                    e.with_hint(format!(
                        "the strategy needs {tf} bars of {symbol}: import them, or `ktrdrctl data resample {symbol} FROM {tf} --save`"
                    ))
                } else {
                    e
                }
            })?;
            let bars: Arc<Bars> = if range == (0..bars.len()) {
                bars
            } else {
                Arc::new(bars.slice(range))
            };
            series.push((tf, bars));
        }
        out.push((symbol.clone(), series));
    }
    Ok(out)
}

/// The operation's work: load, then train on its own thread, then report the saved model.
pub async fn run(
    job: Job,
    data: Arc<DataManager>,
    store: Arc<ModelStore>,
    counters: Arc<TrainingCounters>,
    h: OpHandle,
) -> Result<OpResult, WireError> {
    h.progress(Progress {
        message: "loading bars".into(),
        ..Progress::default()
    });
    let bars = load_bars(&data, &job.plan.symbols, &job.plan, job.window).await?;
    h.check()?;
    let _running = Running::new(&counters, h.id());
    let thread_counters = Arc::clone(&counters);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    let handle = h.clone();
    let thread_store = Arc::clone(&store);
    // The operation's span, so the thread's events carry its id.
    let span = tracing::Span::current();
    std::thread::Builder::new()
        .name(format!("train-{}", h.id()))
        .spawn(move || {
            let _span = span.enter();
            // Lets the handle persist progress snapshots from this thread.
            let _rt = runtime.enter();
            ktrdr_train::device::set_threads(job.threads);
            let h = handle;
            let c = thread_counters;
            let mut epochs_counted = 0u64;
            let mut report = |p: &ktrdr_train::Progress| {
                // Epoch N in progress: N - 1 are finished.
                let finished = (p.epoch as u64).saturating_sub(1);
                if finished > epochs_counted {
                    c.epochs
                        .fetch_add(finished - epochs_counted, Ordering::Relaxed);
                    epochs_counted = finished;
                }
                if let Ok(mut m) = c.throughput.lock() {
                    m.insert(h.id(), p.samples_per_sec);
                }
                h.progress(progress(p))
            };
            let result = ktrdr_train::run(
                &job.plan,
                &bars,
                job.device,
                &thread_store,
                &mut report,
                &|| h.is_cancelled(),
            );
            if let Ok(out) = &result {
                let run = out.metrics.epochs_run as u64;
                c.epochs
                    .fetch_add(run.saturating_sub(epochs_counted), Ordering::Relaxed);
            }
            let _ = tx.send(result);
        })
        .map_err(|e| WireError::internal(format!("cannot start a training thread: {e}")))?;
    let result = rx
        .await
        .map_err(|_| WireError::internal("the training thread panicked"))?;
    match result {
        Ok(out) => {
            let m = &out.metadata;
            counters.samples_trained.fetch_add(
                m.samples.train * out.metrics.epochs_run as u64,
                Ordering::Relaxed,
            );
            Ok(OpResult::Training(TrainingSummary {
                model: m.name.clone(),
                device: m.device.clone(),
                test_accuracy: m.test_accuracy,
                test_loss: m.test_loss,
                epochs_run: out.metrics.epochs_run as u32,
                best_epoch: out.metrics.best_epoch as u32,
                stopped_early: out.metrics.stopped_early,
                samples: PartSizes {
                    train: m.samples.train,
                    validation: m.samples.validation,
                    test: m.samples.test,
                },
                samples_per_sec: m.samples_per_sec,
                train_secs: m.train_secs,
                parameters: m.parameters,
                ..TrainingSummary::default()
            }))
        }
        Err(TrainError::Cancelled { epoch, batch }) => Err(WireError::cancelled(format!(
            "cancelled at epoch {epoch}, batch {batch}; no model saved"
        ))),
        Err(TrainError::Invalid(m)) => Err(WireError::validation(m)),
        Err(other) => Err(WireError::internal(other.to_string())),
    }
}

fn progress(p: &ktrdr_train::Progress) -> Progress {
    let val = match (p.val_loss, p.val_accuracy) {
        (Some(l), Some(a)) => format!(", val loss {l:.4} acc {:.1}%", a * 100.0),
        _ => String::new(),
    };
    Progress {
        percent: (p.fraction * 100.0).clamp(0.0, 100.0),
        step: p.epoch as u64,
        steps: p.epochs as u64,
        message: format!(
            "epoch {}/{} batch {}/{}: loss {:.4} acc {:.1}%{val}, {:.0} samples/s",
            p.epoch,
            p.epochs,
            p.batch,
            p.batches,
            p.train_loss,
            p.train_accuracy * 100.0,
            p.samples_per_sec
        ),
        items: p.batch as u64,
        eta_secs: Some(p.eta_secs),
    }
}
