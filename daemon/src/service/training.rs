//! The `training` service: models trained as `training` operations, the model store and
//! predictions. The adapter is local torch (CPU, or CUDA when present), or a training host
//! (`USE_TRAINING_HOST_SERVICE`: another ktrdrd that trains, the model copied back here).

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::{Section, ServiceMode, TrainingConfig};
use crate::training::host::TrainingHost;
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_train::ModelStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

#[derive(Default)]
pub struct TrainingCounters {
    pub trainings_completed: AtomicU64,
    pub trainings_failed: AtomicU64,
    pub trainings_cancelled: AtomicU64,
    pub samples_trained: AtomicU64,
    pub predictions: AtomicU64,
    pub temporaries_removed: AtomicU64,
}

pub struct TrainingService {
    /// Set in host-service mode: trainings run there; models, predictions and backtests stay here.
    pub host: Option<Arc<TrainingHost>>,
    pub store: Arc<ModelStore>,
    pub config: TrainingConfig,
    pub counters: Arc<TrainingCounters>,
    metrics: RequestMetrics,
}

impl TrainingService {
    pub fn new(store: Arc<ModelStore>, config: TrainingConfig) -> Self {
        let counters = Arc::new(TrainingCounters::default());
        let host = match &config.mode {
            ServiceMode::Local => None,
            // The URL was validated with the configuration.
            ServiceMode::HostService { url } => TrainingHost::new(url, Duration::from_secs(10))
                .map_err(|e| tracing::error!(error = %e, "training host service URL"))
                .ok()
                .map(Arc::new),
        };
        TrainingService {
            host,
            store,
            config,
            counters,
            metrics: RequestMetrics::new(),
        }
    }
}

impl Service for TrainingService {
    fn name(&self) -> &'static str {
        "training"
    }

    fn info(&self) -> ServiceInfo {
        let mut settings = BTreeMap::new();
        settings.insert("device".into(), self.config.device.clone());
        settings.insert(
            "torch_threads".into(),
            self.config.torch_threads.to_string(),
        );
        settings.insert(
            "torch_version".into(),
            ktrdr_train::device::TORCH_VERSION.into(),
        );
        settings.insert("models_dir".into(), self.store.root().display().to_string());
        let (mode, endpoint) = match &self.config.mode {
            ServiceMode::Local => ("local", format!("dir:{}", self.store.root().display())),
            ServiceMode::HostService { url } => {
                settings.insert(
                    "host_service".into(),
                    "trainings run on that ktrdrd (on its bars); models are copied into this store"
                        .into(),
                );
                ("host-service", url.clone())
            }
        };
        ServiceInfo {
            name: self.name().into(),
            mode: mode.into(),
            endpoint: Some(endpoint),
            env: Section::Training.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let (status, detail) = match &self.config.mode {
                ServiceMode::Local => (
                    HealthStatus::Ok,
                    format!(
                        "{}; default device {}",
                        ktrdr_train::device::summary(),
                        self.config.device
                    ),
                ),
                ServiceMode::HostService { url } => match &self.host {
                    Some(host) => {
                        match tokio::time::timeout(Duration::from_secs(2), host.health()).await {
                            Ok(v) => v,
                            Err(_) => (
                                HealthStatus::Degraded,
                                format!("training host {url} did not answer within 2 s"),
                            ),
                        }
                    }
                    None => (
                        HealthStatus::Degraded,
                        format!("bad training host URL {url}"),
                    ),
                },
            };
            ServiceHealth {
                name: self.name().into(),
                status,
                detail,
            }
        })
    }

    fn metrics(&self) -> &RequestMetrics {
        &self.metrics
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.counters;
        super::metrics::read_counters(&[
            ("trainings_completed", &c.trainings_completed),
            ("trainings_failed", &c.trainings_failed),
            ("trainings_cancelled", &c.trainings_cancelled),
            ("samples_trained", &c.samples_trained),
            ("predictions", &c.predictions),
            ("temporaries_removed", &c.temporaries_removed),
        ])
    }
}
