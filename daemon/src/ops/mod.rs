//! Long-running operations: one mechanism for every service's jobs.
//!
//! A service calls [`Registry::start`] with a kind, its parameters and the work (an async closure
//! given an [`OpHandle`]). The registry assigns an id, persists the record, queues the job behind the
//! kind's concurrency limit, runs it, publishes progress to any number of watchers, and records the
//! outcome. Cancellation is cooperative: the work checks [`OpHandle::is_cancelled`] (or awaits
//! [`OpHandle::cancelled`]) at a fine grain and returns [`WireError::cancelled`].

pub mod demo;
pub mod handle;
pub mod metrics;
pub mod store;

use crate::config::OpsConfig;
use crate::time::now_ms;
pub use handle::OpHandle;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{OpState, OperationList, OperationRecord, Progress};
use ktrdr_protocol::operation::{OpKind, OpParams, OpResult};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use store::Store;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The work of one operation: given its handle, produce its kind's result or a typed error.
pub type Work = Box<
    dyn FnOnce(OpHandle) -> Pin<Box<dyn Future<Output = Result<OpResult, WireError>> + Send>>
        + Send,
>;

struct Live {
    tx: watch::Sender<OperationRecord>,
    cancel: CancellationToken,
    /// Present while the operation waits in its queue.
    work: Option<Work>,
}

#[derive(Default)]
struct Inner {
    live: HashMap<u64, Live>,
    queues: HashMap<OpKind, VecDeque<u64>>,
    running: HashMap<OpKind, usize>,
    closed: bool,
}

#[derive(Default)]
pub struct Counters {
    pub started: AtomicU64,
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub cancelled: AtomicU64,
    pub pruned: AtomicU64,
}

pub struct Registry {
    inner: Mutex<Inner>,
    store: Store,
    config: OpsConfig,
    pub counters: Counters,
    /// Per kind and outcome, for Prometheus (`ops::metrics`).
    pub metrics: metrics::OpMetrics,
    /// Records marked interrupted when this daemon started.
    pub interrupted_at_start: usize,
}

impl Registry {
    pub fn open(db: &Path, config: OpsConfig) -> Result<Arc<Registry>, WireError> {
        let (store, interrupted) = Store::open(db)
            .map_err(|e| WireError::new(ktrdr_protocol::ErrorKind::Configuration, e.to_string()))?;
        if interrupted > 0 {
            tracing::warn!(
                count = interrupted,
                "marked operations left running by a previous daemon as interrupted"
            );
        }
        Ok(Arc::new(Registry {
            inner: Mutex::new(Inner::default()),
            store,
            config,
            counters: Counters::default(),
            metrics: metrics::OpMetrics::default(),
            interrupted_at_start: interrupted,
        }))
    }

    pub fn config(&self) -> &OpsConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock would be a bug in this module; the data (plain maps) stays
        // consistent enough to keep serving, so recover instead of poisoning every later request.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Store) -> Result<T, store::StoreError> + Send + 'static,
    ) -> Result<T, WireError> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store))
            .await
            .map_err(|e| WireError::internal(format!("database task failed: {e}")))?
            .map_err(WireError::from)
    }

    /// Registers an operation and starts it now or queues it behind its kind's limit.
    pub async fn start(
        self: &Arc<Self>,
        params: OpParams,
        work: Work,
    ) -> Result<OperationRecord, WireError> {
        let kind = params.kind();
        if self.lock().closed {
            return Err(WireError::unavailable("the daemon is shutting down"));
        }
        let mut rec = OperationRecord {
            id: 0,
            kind,
            service: kind.service().to_string(),
            params,
            state: OpState::Pending,
            created_ms: now_ms(),
            started_ms: None,
            finished_ms: None,
            progress: Progress {
                message: "queued".into(),
                ..Progress::default()
            },
            queue_position: None,
            result: None,
            error: None,
        };
        let r = rec.clone();
        rec.id = self.blocking(move |s| s.insert(&r)).await?;
        self.counters.started.fetch_add(1, Ordering::Relaxed);
        self.metrics.created(kind);

        let (tx, _) = watch::channel(rec.clone());
        {
            let mut inner = self.lock();
            inner.live.insert(
                rec.id,
                Live {
                    tx,
                    cancel: CancellationToken::new(),
                    work: Some(work),
                },
            );
            inner.queues.entry(rec.kind).or_default().push_back(rec.id);
        }
        self.pump(rec.kind);
        self.get(rec.id).await
    }

    /// Starts queued operations of `kind` while the limit allows, and refreshes queue positions.
    /// Synchronous on purpose: it only moves state and spawns, so `finish` can call it without the
    /// futures of `start`, `pump` and `finish` containing each other.
    fn pump(self: &Arc<Self>, kind: OpKind) {
        let limit = self.config.limit_for(kind.as_str());
        let mut to_start = Vec::new();
        {
            let mut inner = self.lock();
            loop {
                let running = inner.running.get(&kind).copied().unwrap_or(0);
                if running >= limit || inner.closed {
                    break;
                }
                let Some(id) = inner.queues.get_mut(&kind).and_then(|q| q.pop_front()) else {
                    break;
                };
                let Some(live) = inner.live.get_mut(&id) else {
                    continue;
                };
                let Some(work) = live.work.take() else {
                    continue;
                };
                let cancel = live.cancel.clone();
                let tx = live.tx.clone();
                let mut rec = tx.borrow().clone();
                rec.state = OpState::Running;
                rec.started_ms = Some(now_ms());
                self.metrics
                    .running(kind, now_ms().saturating_sub(rec.created_ms));
                rec.queue_position = None;
                rec.progress.message = "starting".into();
                tx.send_replace(rec.clone());
                *inner.running.entry(kind).or_default() += 1;
                to_start.push((rec, work, cancel, tx));
            }
            let queued: Vec<u64> = inner
                .queues
                .get(&kind)
                .map(|q| q.iter().copied().collect())
                .unwrap_or_default();
            for (pos, id) in queued.into_iter().enumerate() {
                if let Some(live) = inner.live.get(&id) {
                    live.tx.send_modify(|r| {
                        r.queue_position = Some(pos as u32 + 1);
                        r.progress.message =
                            format!("queued ({} of {} for {kind})", pos + 1, limit);
                    });
                }
            }
        }
        for (rec, work, cancel, tx) in to_start {
            let handle = OpHandle::new(rec.id, tx, cancel, Arc::clone(self));
            let this = Arc::clone(self);
            let id = rec.id;
            // The operation's own span, not the starting request's: it outlives that request,
            // and every event of its work carries its id (JSON logs: `span.op_id`).
            let span = tracing::info_span!(
                parent: None,
                "operation",
                op_id = id,
                kind = kind.as_str(),
                service = kind.service()
            );
            use tracing::Instrument as _;
            tokio::spawn(
                async move {
                    tracing::info!("operation started");
                    if let Err(e) = this.blocking(move |s| s.update(&rec)).await {
                        tracing::error!(id, error = %e, "could not persist operation start");
                    }
                    // The work runs in its own task so a panic in it is caught here as a failure.
                    let outcome = match tokio::spawn(work(handle).in_current_span()).await {
                        Ok(res) => res,
                        Err(e) => Err(WireError::internal(format!("operation task panicked: {e}"))),
                    };
                    let state = this.finish(id, outcome, true).await;
                    tracing::info!(state = state.map(|s| s.as_str()), "operation finished");
                }
                .instrument(span),
            );
        }
    }

    async fn finish(
        self: &Arc<Self>,
        id: u64,
        outcome: Result<OpResult, WireError>,
        was_running: bool,
    ) -> Option<OpState> {
        let (rec, kind) = {
            let inner = self.lock();
            let live = inner.live.get(&id)?;
            let mut rec = live.tx.borrow().clone();
            let cancelled = live.cancel.is_cancelled();
            rec.finished_ms = Some(now_ms());
            rec.queue_position = None;
            rec.progress.eta_secs = None;
            match outcome {
                Ok(result) => {
                    rec.state = OpState::Completed;
                    rec.result = Some(result);
                    rec.progress.percent = 100.0;
                    rec.progress.message = "done".into();
                }
                // Stopped with the daemon: a kind that can continue where it stopped stays
                // resumable (`ops resume`; sweeps resume by themselves at the next start).
                Err(e) if cancelled && inner.closed && kind_resumes(rec.kind) => {
                    rec.state = OpState::Interrupted;
                    rec.progress.message = "interrupted: the daemon stopped".into();
                    rec.error = Some(
                        WireError::unavailable(format!(
                            "interrupted by the daemon's shutdown ({})",
                            e.message
                        ))
                        .with_hint(resume_hint(rec.kind, id)),
                    );
                }
                Err(e) if cancelled || e.kind == ktrdr_protocol::ErrorKind::Cancelled => {
                    rec.state = OpState::Cancelled;
                    rec.progress.message = "cancelled".into();
                    rec.error = Some(WireError::cancelled(
                        if e.kind == ktrdr_protocol::ErrorKind::Cancelled {
                            e.message
                        } else {
                            format!("cancelled ({})", e.message)
                        },
                    ));
                }
                Err(e) => {
                    rec.state = OpState::Failed;
                    rec.progress.message = "failed".into();
                    rec.error = Some(e);
                }
            }
            (rec.clone(), rec.kind)
        };
        let state = rec.state;
        self.record_outcome(state);
        let ran = rec
            .started_ms
            .filter(|_| was_running)
            .map(|s| rec.finished_ms.unwrap_or(s).saturating_sub(s));
        self.metrics.finished(kind, rec.state, ran);
        // Persist before publishing: a watcher that sees the end can always find the record again.
        let r = rec.clone();
        if let Err(e) = self.blocking(move |s| s.update(&r)).await {
            tracing::error!(id, error = %e, "could not persist operation outcome");
        }
        {
            let mut inner = self.lock();
            if let Some(live) = inner.live.remove(&id) {
                live.tx.send_replace(rec);
            }
            if was_running && let Some(n) = inner.running.get_mut(&kind) {
                *n = n.saturating_sub(1);
            }
        }
        self.prune().await;
        self.pump(kind);
        Some(state)
    }

    /// Runs an interrupted operation again under its own id: its record goes back to pending
    /// and `work` (which continues from whatever the first run left: checkpoints, finished
    /// cells) is queued like a new operation's.
    pub async fn resume(
        self: &Arc<Self>,
        id: u64,
        work: Work,
    ) -> Result<OperationRecord, WireError> {
        if self.lock().closed {
            return Err(WireError::unavailable("the daemon is shutting down"));
        }
        if self.lock().live.contains_key(&id) {
            return Err(
                WireError::conflict(format!("operation {id} is already running"))
                    .with_hint(format!("follow it with `ktrdrctl ops watch {id}`")),
            );
        }
        let mut rec = self.get(id).await?;
        if rec.state != OpState::Interrupted {
            return Err(WireError::conflict(format!(
                "operation {id} is {}; only interrupted operations can be resumed",
                rec.state.as_str()
            ))
            .with_hint(format!("see its outcome with `ktrdrctl ops show {id}`")));
        }
        rec.state = OpState::Pending;
        rec.started_ms = None;
        rec.finished_ms = None;
        rec.error = None;
        rec.result = None;
        rec.progress = Progress {
            message: "queued (resuming)".into(),
            ..rec.progress
        };
        let r = rec.clone();
        self.blocking(move |s| s.update(&r)).await?;
        self.counters.started.fetch_add(1, Ordering::Relaxed);
        self.metrics.created(rec.kind);
        let kind = rec.kind;
        let (tx, _) = watch::channel(rec);
        {
            let mut inner = self.lock();
            if inner.live.contains_key(&id) {
                return Err(WireError::conflict(format!(
                    "operation {id} is already running"
                )));
            }
            inner.live.insert(
                id,
                Live {
                    tx,
                    cancel: CancellationToken::new(),
                    work: Some(work),
                },
            );
            inner.queues.entry(kind).or_default().push_back(id);
        }
        self.pump(kind);
        self.get(id).await
    }

    /// Whether the daemon is stopping (work that stops now is interrupted, not cancelled).
    pub fn is_closing(&self) -> bool {
        self.lock().closed
    }

    fn record_outcome(&self, state: OpState) {
        let c = match state {
            OpState::Completed => &self.counters.completed,
            OpState::Failed => &self.counters.failed,
            _ => &self.counters.cancelled,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    async fn prune(&self) {
        let keep = self.config.keep_finished;
        match self.blocking(move |s| s.prune(keep)).await {
            Ok(n) => {
                self.counters.pruned.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "could not prune old operations"),
        }
    }

    /// The current record: live state if the operation is pending or running, else from the database.
    pub async fn get(&self, id: u64) -> Result<OperationRecord, WireError> {
        if let Some(live) = self.lock().live.get(&id) {
            return Ok(live.tx.borrow().clone());
        }
        self.blocking(move |s| s.get(id))
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Follows a live operation; `None` if it is not live (finished, or no such id).
    pub fn subscribe(&self, id: u64) -> Option<watch::Receiver<OperationRecord>> {
        self.lock().live.get(&id).map(|l| l.tx.subscribe())
    }

    pub async fn list(
        &self,
        state: Option<OpState>,
        kind: Option<OpKind>,
        limit: u32,
    ) -> Result<OperationList, WireError> {
        let mut list = self.blocking(move |s| s.list(state, kind, limit)).await?;
        // The database has the durable fields; live records have fresher progress.
        let inner = self.lock();
        for item in &mut list.items {
            if let Some(live) = inner.live.get(&item.id) {
                *item = live.tx.borrow().clone();
            }
        }
        Ok(list)
    }

    /// Requests cancellation and waits (briefly) for the operation to stop.
    pub async fn cancel(self: &Arc<Self>, id: u64) -> Result<OperationRecord, WireError> {
        match self.request_cancel(id) {
            CancelStep::NotLive => {
                let rec = self.get(id).await?;
                Err(WireError::conflict(format!(
                    "operation {id} already {}; only pending or running operations can be cancelled",
                    rec.state.as_str()
                ))
                .with_hint(format!("see its outcome with `ktrdrctl ops show {id}`")))
            }
            CancelStep::WasQueued => {
                self.finish(
                    id,
                    Err(WireError::cancelled("cancelled before it started")),
                    false,
                )
                .await;
                self.get(id).await
            }
            CancelStep::Signalled => {
                if let Some(mut rx) = self.subscribe(id) {
                    let stopped = rx.wait_for(|r| r.state.is_terminal());
                    // Well under the client's default 10 s timeout: a job that needs longer to
                    // reach its next check is reported as still running, not as a timeout.
                    let _ = tokio::time::timeout(Duration::from_secs(5), stopped).await;
                }
                self.get(id).await
            }
        }
    }

    /// Fires the token; a queued job is taken out of its queue (no task will ever run it).
    fn request_cancel(&self, id: u64) -> CancelStep {
        let mut inner = self.lock();
        let Some(live) = inner.live.get_mut(&id) else {
            return CancelStep::NotLive;
        };
        live.cancel.cancel();
        if live.work.take().is_none() {
            return CancelStep::Signalled;
        }
        let kind = live.tx.borrow().kind;
        if let Some(q) = inner.queues.get_mut(&kind) {
            q.retain(|&q| q != id);
        }
        CancelStep::WasQueued
    }

    /// Cancels everything and waits up to `grace` for running work to stop.
    pub async fn shutdown(self: &Arc<Self>, grace: Duration) {
        let ids: Vec<u64> = {
            let mut inner = self.lock();
            inner.closed = true;
            inner.live.keys().copied().collect()
        };
        for id in &ids {
            let _ = self.cancel_quiet(*id).await;
        }
        let deadline = tokio::time::Instant::now() + grace;
        while !self.lock().live.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let left = self.lock().live.len();
        if left > 0 {
            tracing::warn!(
                left,
                "operations still running after the shutdown grace period; they will show as interrupted"
            );
        }
    }

    async fn cancel_quiet(self: &Arc<Self>, id: u64) -> Result<(), WireError> {
        if let CancelStep::WasQueued = self.request_cancel(id) {
            let e = WireError::cancelled("the daemon was stopped before it started");
            self.finish(id, Err(e), false).await;
        }
        Ok(())
    }

    /// Live (pending or running) operations, for statistics.
    pub fn live_counts(&self) -> (u64, u64) {
        let inner = self.lock();
        let pending = inner.queues.values().map(|q| q.len() as u64).sum();
        let running = inner.running.values().map(|&n| n as u64).sum();
        (pending, running)
    }

    /// (kind, queued, running) for every kind, for the metrics.
    pub fn live_by_kind(&self) -> Vec<(OpKind, u64, u64)> {
        let inner = self.lock();
        OpKind::ALL
            .into_iter()
            .map(|k| {
                let queued = inner.queues.get(&k).map_or(0, |q| q.len() as u64);
                let running = inner.running.get(&k).copied().unwrap_or(0) as u64;
                (k, queued, running)
            })
            .collect()
    }

    pub async fn stored_count(&self) -> Result<u64, WireError> {
        self.blocking(|s| s.count()).await
    }

    pub(crate) async fn persist_progress(&self, rec: OperationRecord) {
        if let Err(e) = self.blocking(move |s| s.update(&rec)).await {
            tracing::warn!(error = %e, "could not persist operation progress");
        }
    }
}

/// Kinds whose work can continue from what an interrupted run left behind.
pub fn kind_resumes(kind: OpKind) -> bool {
    matches!(kind, OpKind::Training | OpKind::Sweep | OpKind::SweepCell)
}

fn resume_hint(kind: OpKind, id: u64) -> String {
    match kind {
        OpKind::Sweep => "the sweep resumes by itself when ktrdrd starts again".into(),
        OpKind::SweepCell => "its sweep resumes it when ktrdrd starts again".into(),
        _ => format!("continue it from its last checkpoint with `ktrdrctl ops resume {id}`"),
    }
}

enum CancelStep {
    NotLive,
    WasQueued,
    Signalled,
}

fn not_found(id: u64) -> WireError {
    WireError::not_found(format!("no operation with id {id}"))
        .with_hint("list operations with `ktrdrctl ops list`; old records are pruned per operations.keep_finished")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(keep: usize, limit: usize) -> OpsConfig {
        OpsConfig {
            keep_finished: keep,
            default_limit: limit,
            limits: BTreeMap::new(),
        }
    }

    fn instant_work() -> Work {
        Box::new(|_h| {
            Box::pin(async {
                Ok(OpResult::Demo(ktrdr_protocol::operation::DemoResult {
                    steps: 0,
                    slept_secs: 0.0,
                }))
            })
        })
    }

    fn params() -> OpParams {
        OpParams::Demo(ktrdr_protocol::operation::DemoParams {
            seconds: 0.0,
            steps: 1,
            fail_at: None,
        })
    }

    /// 10,000 short operations leave a bounded footprint: nothing live, `keep_finished` records stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_thousand_operations_stay_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&dir.path().join("ops.db"), config(100, 8)).unwrap();
        let mut last = 0;
        for _ in 0..100 {
            let mut ids = Vec::new();
            for _ in 0..100 {
                ids.push(reg.start(params(), instant_work()).await.unwrap().id);
            }
            for id in ids {
                let mut rx = match reg.subscribe(id) {
                    Some(rx) => rx,
                    None => continue,
                };
                let _ = rx.wait_for(|r| r.state.is_terminal()).await;
                last = id;
            }
        }
        // The last finishes may still be persisting and pruning; wait for both to settle.
        for _ in 0..500 {
            let settled =
                reg.lock().live.is_empty() && reg.counters.pruned.load(Ordering::Relaxed) == 9_900;
            if settled {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(reg.lock().live.is_empty());
        assert_eq!(reg.counters.started.load(Ordering::Relaxed), 10_000);
        assert_eq!(reg.counters.completed.load(Ordering::Relaxed), 10_000);
        let stored = reg.stored_count().await.unwrap();
        assert_eq!(stored, 100, "records kept per keep_finished");
        assert_eq!(reg.counters.pruned.load(Ordering::Relaxed), 9_900);
        assert_eq!(reg.get(last).await.unwrap().state, OpState::Completed);
        assert_eq!(
            reg.get(1).await.unwrap_err().kind,
            ktrdr_protocol::ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn a_panicking_job_is_recorded_as_failed() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(&dir.path().join("ops.db"), config(10, 1)).unwrap();
        let work: Work = Box::new(|_h| Box::pin(async { panic!("boom") }));
        let rec = reg.start(params(), work).await.unwrap();
        if let Some(mut rx) = reg.subscribe(rec.id) {
            let _ = rx.wait_for(|r| r.state.is_terminal()).await;
        }
        let rec = reg.get(rec.id).await.unwrap();
        assert_eq!(rec.state, OpState::Failed);
        assert!(rec.error.unwrap().message.contains("panicked"));
    }
}
