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
use ktrdr_train::checkpoint::CheckpointSpec;
use ktrdr_train::pipeline::{Outcome, SymbolBars};
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
    /// The directory the training checkpoints in after each epoch, as `training-<op id>.ckpt`
    /// (`None`: no checkpoints).
    pub checkpoints: Option<std::path::PathBuf>,
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

/// One training for [`train_on_thread`].
pub struct ThreadJob {
    pub plan: Plan,
    pub bars: Vec<SymbolBars>,
    pub device: Device,
    /// Torch intra-op threads.
    pub threads: usize,
    pub store: Arc<ModelStore>,
    /// Continue from this checkpoint when it exists; rewrite it after every epoch.
    pub checkpoint: Option<CheckpointSpec>,
    /// The thread's name.
    pub name: String,
}

/// Trains and saves the model on an OS thread of its own (never a runtime worker). `report` and
/// `cancelled` are called from that thread.
pub async fn train_on_thread(
    job: ThreadJob,
    mut report: impl FnMut(&ktrdr_train::Progress) + Send + 'static,
    cancelled: impl Fn() -> bool + Send + 'static,
) -> Result<Outcome, TrainError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    // The caller's span, so the thread's events carry its operation id.
    let span = tracing::Span::current();
    let ThreadJob {
        plan,
        bars,
        device,
        threads,
        store,
        checkpoint,
        name,
    } = job;
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            let _span = span.enter();
            // Lets progress callbacks persist snapshots from this thread.
            let _rt = runtime.enter();
            ktrdr_train::device::set_threads(threads);
            let result = ktrdr_train::run_with_checkpoint(
                &plan,
                &bars,
                device,
                &store,
                &mut report,
                &cancelled,
                checkpoint.as_ref(),
            );
            let _ = tx.send(result);
        })
        .map_err(|e| TrainError::Io(format!("cannot start a training thread: {e}")))?;
    rx.await
        .map_err(|_| TrainError::Io("the training thread panicked".into()))?
}

/// Where a training operation keeps its checkpoint while it runs.
pub fn checkpoint_path(dir: &std::path::Path, op: u64) -> std::path::PathBuf {
    dir.join(format!("training-{op}.ckpt"))
}

/// What identifies a training's inputs: a checkpoint written for other inputs is refused.
pub fn fingerprint(plan: &Plan, bars: &[SymbolBars]) -> String {
    let mut h = Fnv::default();
    h.write(plan.yaml.as_bytes());
    for (symbol, series) in bars {
        h.write(symbol.as_bytes());
        for (tf, b) in series {
            h.write(tf.to_string().as_bytes());
            h.write(&(b.len() as u64).to_le_bytes());
            for t in [b.ts().first(), b.ts().last()].into_iter().flatten() {
                h.write(&t.to_le_bytes());
            }
            for c in [b.close().first(), b.close().last()].into_iter().flatten() {
                h.write(&c.to_bits().to_le_bytes());
            }
        }
    }
    format!("{:016x}", h.0)
}

/// FNV-1a, 64 bits: a fingerprint that stays the same across processes and Rust versions (std's
/// `DefaultHasher` promises neither), for files a Slurm worker writes and the daemon reads.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Counts finished epochs and publishes throughput for the metrics, whichever way a training
/// reports.
pub struct EpochCounter {
    counters: Arc<TrainingCounters>,
    id: u64,
    /// Epochs finished as of the last report; `None` before the first, whose value is the
    /// baseline (a resumed training starts with the checkpoint's epochs, trained earlier).
    counted: Option<u64>,
}

impl EpochCounter {
    pub fn new(counters: Arc<TrainingCounters>, id: u64) -> Self {
        EpochCounter {
            counters,
            id,
            counted: None,
        }
    }

    pub fn report(&mut self, p: &ktrdr_train::Progress) {
        // Epoch N in progress: N - 1 are finished.
        let finished = (p.epoch as u64).saturating_sub(1);
        let counted = *self.counted.get_or_insert(finished);
        if finished > counted {
            self.counters
                .epochs
                .fetch_add(finished - counted, Ordering::Relaxed);
            self.counted = Some(finished);
        }
        if let Ok(mut m) = self.counters.throughput.lock() {
            m.insert(self.id, p.samples_per_sec);
        }
    }

    pub fn finish(&self, epochs_run: usize) {
        if let Some(counted) = self.counted {
            self.counters.epochs.fetch_add(
                (epochs_run as u64).saturating_sub(counted),
                Ordering::Relaxed,
            );
        }
    }
}

/// The operation's work: load, then train on its own thread, then report the saved model. The
/// checkpoint is kept only when the daemon's shutdown interrupted the training (`ops resume`
/// continues from it); any other end removes it.
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
    let ckpt_path = job.checkpoints.as_ref().map(|d| checkpoint_path(d, h.id()));
    let checkpoint = ckpt_path.as_ref().map(|path| CheckpointSpec {
        path: path.clone(),
        fingerprint: fingerprint(&job.plan, &bars),
    });
    if let Some(dir) = &job.checkpoints {
        std::fs::create_dir_all(dir)
            .map_err(|e| WireError::internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let epochs = Arc::new(std::sync::Mutex::new(EpochCounter::new(
        Arc::clone(&counters),
        h.id(),
    )));
    let (hp, hc, ep) = (h.clone(), h.clone(), Arc::clone(&epochs));
    let name = format!("train-{}", h.id());
    let result = train_on_thread(
        ThreadJob {
            plan: job.plan,
            bars,
            device: job.device,
            threads: job.threads,
            store: Arc::clone(&store),
            checkpoint,
            name,
        },
        move |p| {
            if let Ok(mut e) = ep.lock() {
                e.report(p);
            }
            hp.progress(progress(p))
        },
        move || hc.is_cancelled(),
    )
    .await;
    if let (Ok(out), Ok(e)) = (&result, epochs.lock()) {
        e.finish(out.metrics.epochs_run);
    }
    let interrupted = matches!(result, Err(TrainError::Cancelled { .. })) && h.is_closing();
    if let Some(path) = &ckpt_path
        && !interrupted
    {
        remove_checkpoint(path);
    }
    match result {
        Ok(out) => {
            let m = &out.metadata;
            // Epochs a checkpoint held were counted by the run that trained them.
            let trained_here = out
                .metrics
                .epochs_run
                .saturating_sub(out.resumed_from_epoch.unwrap_or(0));
            counters
                .samples_trained
                .fetch_add(m.samples.train * trained_here as u64, Ordering::Relaxed);
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
                resumed_from_epoch: out.resumed_from_epoch.map(|e| e as u32),
                ..TrainingSummary::default()
            }))
        }
        Err(TrainError::Cancelled { epoch, batch }) if interrupted => Err(WireError::cancelled(
            format!("stopped at epoch {epoch}, batch {batch}; the checkpoint is kept"),
        )),
        Err(e) => Err(train_error(e)),
    }
}

/// A training's failure as the user sees it.
pub fn train_error(e: TrainError) -> WireError {
    match e {
        TrainError::Cancelled { epoch, batch } => WireError::cancelled(format!(
            "cancelled at epoch {epoch}, batch {batch}; no model saved"
        )),
        TrainError::Invalid(m) => WireError::validation(m),
        other => WireError::internal(other.to_string()),
    }
}

/// Checkpoints are only worth keeping while their training can still resume.
pub fn remove_checkpoint(path: &std::path::Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::debug!(path = %path.display(), "checkpoint removed"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove a checkpoint"),
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
