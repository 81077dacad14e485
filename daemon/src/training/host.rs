//! Trainings as a [`Delegable`] service: on this daemon's torch, or on a *training host*
//! (`USE_TRAINING_HOST_SERVICE`: another ktrdrd, typically the machine with the GPU), with the
//! trained model copied into this daemon's store, so `models`, `predict` and `backtest` here work
//! on it like on any other.
//!
//! The training host trains on the bars in its own store (point both daemons at one data
//! directory, or make the training host also the IB host so loads land there).

use super::TrainingCounters;
use super::{Job, store_error};
use crate::data::DataManager;
use crate::host::{Delegable, HostOutcome, HostService, Remote};
use crate::ops::OpHandle;
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::request::{ModelRef, Train};
use ktrdr_protocol::{Reply, Request, WireError};
use ktrdr_train::ModelStore;
use ktrdr_train::store::Bundle;
use std::sync::Arc;
use std::time::Duration;

pub struct Trainer {
    pub data: Arc<DataManager>,
    pub store: Arc<ModelStore>,
    pub counters: Arc<TrainingCounters>,
}

/// One training: what runs here (`local`: the resolved plan and device; absent in host-service
/// mode, where the host resolves the device) and the request a training host is sent.
pub struct TrainJob {
    pub local: Option<Job>,
    pub request: Train,
}

impl Delegable for Trainer {
    type Job = TrainJob;
    /// A queued training may wait a long time on the host without a progress update; a host that
    /// dies closes the socket, which ends the wait at once.
    const PATIENCE: Duration = Duration::from_secs(24 * 3600);

    async fn run_local(self: Arc<Self>, job: TrainJob, h: OpHandle) -> Result<OpResult, WireError> {
        let Some(local) = job.local else {
            return Err(WireError::internal("a local training without a plan"));
        };
        super::run(
            local,
            Arc::clone(&self.data),
            Arc::clone(&self.store),
            Arc::clone(&self.counters),
            h,
        )
        .await
    }

    async fn remote_request(
        self: Arc<Self>,
        _host: Arc<HostService>,
        job: &mut TrainJob,
        _h: OpHandle,
    ) -> Result<Remote, WireError> {
        Ok(Remote::Start(Request::Train(Train {
            follow: false,
            ..job.request.clone()
        })))
    }

    async fn bring_back(
        self: Arc<Self>,
        host: Arc<HostService>,
        _job: TrainJob,
        remote: HostOutcome,
        h: OpHandle,
    ) -> Result<OpResult, WireError> {
        let OpResult::Training(mut summary) = remote.result else {
            return Err(host.unexpected("the training's result"));
        };
        let remote_name = summary.model.clone();
        host.copying(&h, &remote_name);
        let b = match host
            .call(&Request::ModelExport(ModelRef {
                name: remote_name.clone(),
            }))
            .await?
        {
            Reply::ModelBundle(b) => *b,
            _ => return Err(host.unexpected("model export")),
        };
        let bundle = Bundle {
            metadata: b.metadata,
            weights: b.weights,
            strategy_yaml: b.strategy_yaml,
            features: b.features,
            metrics_json: b.metrics_json,
        };
        let store = Arc::clone(&self.store);
        let meta = tokio::task::spawn_blocking(move || store.import(&bundle))
            .await
            .map_err(|e| WireError::internal(format!("model copy failed: {e}")))?
            .map_err(store_error)?;
        summary.host_service = Some(host.url());
        summary.host_operation = Some(remote.id);
        summary.host_model = Some(remote_name);
        summary.model = meta.name;
        Ok(OpResult::Training(summary))
    }
}
