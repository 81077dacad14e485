//! What a running operation gets: a way to report progress and to learn it was cancelled.

use super::Registry;
use crate::time::now_ms;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{OperationRecord, Progress};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Progress is written to the database at most this often, so an interrupted job shows how far it got
/// without costing an fsync per tick.
const PERSIST_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct OpHandle {
    id: u64,
    tx: watch::Sender<OperationRecord>,
    cancel: CancellationToken,
    registry: Arc<Registry>,
    started: Instant,
    last_persist: Arc<Mutex<Instant>>,
}

impl OpHandle {
    pub(super) fn new(
        id: u64,
        tx: watch::Sender<OperationRecord>,
        cancel: CancellationToken,
        registry: Arc<Registry>,
    ) -> Self {
        let now = Instant::now();
        OpHandle {
            id,
            tx,
            cancel,
            registry,
            started: now,
            last_persist: Arc::new(Mutex::new(now)),
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// Cheap enough to call per batch, from any thread.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Whether the daemon is stopping: work cancelled now is interrupted (and may resume), not
    /// cancelled by a user.
    pub fn is_closing(&self) -> bool {
        self.registry.is_closing()
    }

    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    /// `Err(cancelled)` if cancellation was requested: `handle.check()?` at each batch.
    pub fn check(&self) -> Result<(), WireError> {
        if self.is_cancelled() {
            Err(WireError::cancelled("cancelled by request"))
        } else {
            Ok(())
        }
    }

    /// Publishes progress. The ETA is derived from the elapsed time and the percentage when the work
    /// does not give one. Callable from blocking threads.
    pub fn progress(&self, mut p: Progress) {
        if p.eta_secs.is_none() && p.percent > 0.0 && p.percent < 100.0 {
            let elapsed = self.started.elapsed().as_secs_f64();
            p.eta_secs = Some(elapsed * (100.0 - p.percent) / p.percent);
        }
        let mut snapshot = None;
        self.tx.send_if_modified(|r| {
            if r.state.is_terminal() {
                return false;
            }
            r.progress = p;
            let mut last = self.last_persist.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= PERSIST_EVERY {
                *last = Instant::now();
                snapshot = Some(r.clone());
            }
            true
        });
        if let Some(rec) = snapshot
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let registry = Arc::clone(&self.registry);
            rt.spawn(async move { registry.persist_progress(rec).await });
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        now_ms().saturating_sub(self.tx.borrow().started_ms.unwrap_or_else(now_ms))
    }
}
