//! Host-service mode for training (`USE_TRAINING_HOST_SERVICE`): trainings run on another ktrdrd
//! (the *training host*, typically the machine with the GPU), and the trained model is copied into
//! this daemon's store, so `models`, `predict` and `backtest` here work on it like on any other.
//!
//! The training host trains on the bars in its own store (point both daemons at one data
//! directory, or make the training host also the IB host so loads land there). Its progress is
//! relayed into the local operation; cancelling here cancels it there.

use crate::ops::OpHandle;
use crate::peer::{Peer, parse_url, remote_failure};
use crate::service::training::TrainingCounters;
use crate::training::store_error;
use ktrdr_protocol::model::{HealthStatus, OpState};
use ktrdr_protocol::{Reply, Request, WireError};
use ktrdr_train::ModelStore;
use ktrdr_train::store::Bundle;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A queued training may wait a long time on the host without a progress update; a host that
/// dies closes the socket, which ends the wait at once.
const WATCH_PATIENCE: Duration = Duration::from_secs(24 * 3600);

pub struct TrainingHost {
    peer: Peer,
}

fn unexpected(what: &str) -> WireError {
    WireError::internal(format!("the training host answered {what} unexpectedly"))
}

impl TrainingHost {
    pub fn new(url: &str, timeout: Duration) -> Result<TrainingHost, String> {
        Ok(TrainingHost {
            peer: Peer::new(parse_url(url)?, timeout),
        })
    }

    pub fn url(&self) -> String {
        self.peer.url()
    }

    /// Reachable, and how the host's own training service describes itself (its device).
    pub async fn health(&self) -> (HealthStatus, String) {
        match self.peer.call(&Request::Health).await {
            Ok(Reply::Health(h)) => {
                let detail = h
                    .services
                    .iter()
                    .find(|s| s.name == "training")
                    .map(|s| s.detail.clone())
                    .unwrap_or_default();
                (
                    HealthStatus::Ok,
                    format!("training host {} (pid {}): {detail}", self.url(), h.pid),
                )
            }
            Ok(_) => (HealthStatus::Degraded, unexpected("health").message),
            Err(e) => (HealthStatus::Degraded, e.message),
        }
    }

    /// The `training` operation's work in host-service mode: `req` is the client's `Train`
    /// request (with `follow` off).
    pub async fn train(
        &self,
        req: Request,
        store: Arc<ModelStore>,
        counters: Arc<TrainingCounters>,
        h: OpHandle,
    ) -> Result<String, WireError> {
        let result = self.train_and_copy(req, store, &h).await;
        let c = &counters;
        match &result {
            Ok(_) => c.trainings_completed.fetch_add(1, Ordering::Relaxed),
            Err(e) if e.kind == ktrdr_protocol::ErrorKind::Cancelled => {
                c.trainings_cancelled.fetch_add(1, Ordering::Relaxed)
            }
            Err(_) => c.trainings_failed.fetch_add(1, Ordering::Relaxed),
        };
        result
    }

    async fn train_and_copy(
        &self,
        req: Request,
        store: Arc<ModelStore>,
        h: &OpHandle,
    ) -> Result<String, WireError> {
        let id = match self.peer.call(&req).await? {
            Reply::Operation(rec) => rec.id,
            _ => return Err(unexpected("train")),
        };
        let rec = self
            .peer
            .follow_operation(id, "training host", WATCH_PATIENCE, h)
            .await?;
        if rec.state != OpState::Completed {
            return Err(remote_failure(&self.peer, rec));
        }
        let mut result: serde_json::Value = rec
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .ok_or_else(|| unexpected("the training's result"))?;
        let remote_name = result["model"]
            .as_str()
            .ok_or_else(|| unexpected("the training's model name"))?
            .to_string();
        h.progress(ktrdr_protocol::model::Progress {
            percent: 100.0,
            message: format!("copying {remote_name} from the training host"),
            ..Default::default()
        });
        let b = match self
            .peer
            .call(&Request::ModelExport {
                name: remote_name.clone(),
            })
            .await?
        {
            Reply::ModelBundle(b) => *b,
            _ => return Err(unexpected("model export")),
        };
        let metadata = serde_json::from_str(&b.metadata_json)
            .map_err(|e| WireError::internal(format!("the copied model's metadata: {e}")))?;
        let bundle = Bundle {
            metadata,
            weights: b.weights,
            strategy_yaml: b.strategy_yaml,
            features: b.features,
            metrics_json: b.metrics_json,
        };
        let meta = tokio::task::spawn_blocking(move || store.import(&bundle))
            .await
            .map_err(|e| WireError::internal(format!("model copy failed: {e}")))?
            .map_err(store_error)?;
        result["host_service"] = self.url().into();
        result["host_operation"] = id.into();
        result["host_model"] = remote_name.into();
        result["model"] = meta.name.into();
        Ok(result.to_string())
    }
}
