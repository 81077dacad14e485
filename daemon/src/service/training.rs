//! The `training` service: models trained in this daemon as `training` operations, the model store
//! and predictions. The adapter is local torch (CPU, or CUDA when present); a remote training host
//! (`USE_TRAINING_HOST_SERVICE`) is recognised but not built yet, and then answers unavailable.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::{TrainingConfig, TrainingMode};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{EnvVar, HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_train::ModelStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const ENV: [&str; 4] = [
    "KTRDR_TRAINING_DEVICE",
    "KTRDR_TORCH_THREADS",
    "USE_TRAINING_HOST_SERVICE",
    "TRAINING_HOST_SERVICE_URL",
];

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
    pub store: Arc<ModelStore>,
    pub config: TrainingConfig,
    pub counters: Arc<TrainingCounters>,
    metrics: RequestMetrics,
}

impl TrainingService {
    pub fn new(store: Arc<ModelStore>, config: TrainingConfig) -> Self {
        let counters = Arc::new(TrainingCounters::default());
        TrainingService {
            store,
            config,
            counters,
            metrics: RequestMetrics::new(),
        }
    }

    /// Errors when trainings and predictions are meant for a remote host this daemon cannot reach.
    pub fn local_only(&self) -> Result<(), WireError> {
        match &self.config.mode {
            TrainingMode::Local => Ok(()),
            TrainingMode::HostService { url } => Err(WireError::unavailable(format!(
                "training host service mode ({url}) is configured but not built yet"
            ))
            .with_hint(
                "unset USE_TRAINING_HOST_SERVICE (or training.use_host_service) to train in this daemon",
            )),
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
            TrainingMode::Local => ("local", format!("dir:{}", self.store.root().display())),
            TrainingMode::HostService { url } => {
                settings.insert(
                    "host_service".into(),
                    "configured but not built yet: trainings and predictions fail as unavailable"
                        .into(),
                );
                ("host-service", url.clone())
            }
        };
        ServiceInfo {
            name: self.name().into(),
            mode: mode.into(),
            endpoint: Some(endpoint),
            env: ENV
                .iter()
                .map(|n| EnvVar {
                    name: n.to_string(),
                    value: std::env::var(n).ok(),
                })
                .collect(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let (status, detail) = match &self.config.mode {
                TrainingMode::Local => (
                    HealthStatus::Ok,
                    format!(
                        "{}; default device {}",
                        ktrdr_train::device::summary(),
                        self.config.device
                    ),
                ),
                TrainingMode::HostService { url } => (
                    HealthStatus::Degraded,
                    format!("host service {url} configured but not built yet"),
                ),
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
        [
            ("trainings_completed", &c.trainings_completed),
            ("trainings_failed", &c.trainings_failed),
            ("trainings_cancelled", &c.trainings_cancelled),
            ("samples_trained", &c.samples_trained),
            ("predictions", &c.predictions),
            ("temporaries_removed", &c.temporaries_removed),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.load(Ordering::Relaxed)))
        .collect()
    }
}
