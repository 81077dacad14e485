//! The `operations` service: the registry of long-running jobs.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::Section;
use crate::ops::{Registry, Work, demo};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_protocol::model::{OperationList, OperationRecord};
use ktrdr_protocol::operation::{DemoParams, OpParams};
use ktrdr_protocol::request::{OpsDemo, OpsList};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

pub struct OperationsService {
    registry: Arc<Registry>,
    db: PathBuf,
    metrics: RequestMetrics,
}

impl OperationsService {
    pub fn new(registry: Arc<Registry>, db: PathBuf) -> Self {
        OperationsService {
            registry,
            db,
            metrics: RequestMetrics::new(),
        }
    }
}

impl OperationsService {
    /// The registry, for the services that start operations of their own.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    pub async fn list(&self, req: OpsList) -> Result<OperationList, WireError> {
        let limit = req.limit.clamp(1, 10_000);
        self.registry.list(req.state, req.kind, limit).await
    }

    pub async fn get(&self, id: u64) -> Result<OperationRecord, WireError> {
        self.registry.get(id).await
    }

    pub async fn cancel(&self, id: u64) -> Result<OperationRecord, WireError> {
        self.registry.cancel(id).await
    }

    /// Follows a live operation; `None` if it is not live (finished, or no such id).
    pub fn subscribe(&self, id: u64) -> Option<watch::Receiver<OperationRecord>> {
        self.registry.subscribe(id)
    }

    /// Starts a diagnostic `demo` operation.
    pub async fn demo(&self, req: OpsDemo) -> Result<OperationRecord, WireError> {
        let params = DemoParams {
            seconds: req.seconds,
            steps: req.steps,
            fail_at: req.fail_at,
        };
        demo::validate(&params)?;
        let work: Work = Box::new(move |h| Box::pin(demo::run(params, h)));
        let record = OpParams::Demo(DemoParams {
            seconds: req.seconds,
            steps: req.steps,
            fail_at: req.fail_at,
        });
        self.registry.start(record, work).await
    }
}

impl Service for OperationsService {
    fn name(&self) -> &'static str {
        "operations"
    }

    fn info(&self) -> ServiceInfo {
        let cfg = self.registry.config();
        let mut settings = BTreeMap::new();
        settings.insert("database".into(), self.db.display().to_string());
        settings.insert("keep_finished".into(), cfg.keep_finished.to_string());
        settings.insert("default_limit".into(), cfg.default_limit.to_string());
        for (kind, n) in &cfg.limits {
            settings.insert(format!("limit.{kind}"), n.to_string());
        }
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some(format!("sqlite:{}", self.db.display())),
            env: Section::Operations.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let check =
                tokio::time::timeout(Duration::from_secs(2), self.registry.stored_count()).await;
            let (pending, running) = self.registry.live_counts();
            let (status, detail) = match check {
                Ok(Ok(n)) => (
                    HealthStatus::Ok,
                    format!("{running} running, {pending} queued, {n} records"),
                ),
                Ok(Err(e)) => (HealthStatus::Down, e.message),
                Err(_) => (
                    HealthStatus::Degraded,
                    "database did not answer within 2 s".into(),
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

    fn export(&self, out: &mut crate::telemetry::Exporter<'_>) -> std::fmt::Result {
        self.registry
            .metrics
            .export(out, &self.registry.live_by_kind())
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.registry.counters;
        let (pending, running) = self.registry.live_counts();
        [
            ("started", c.started.load(Ordering::Relaxed)),
            ("completed", c.completed.load(Ordering::Relaxed)),
            ("failed", c.failed.load(Ordering::Relaxed)),
            ("cancelled", c.cancelled.load(Ordering::Relaxed)),
            ("pruned", c.pruned.load(Ordering::Relaxed)),
            (
                "interrupted_at_start",
                self.registry.interrupted_at_start as u64,
            ),
            ("pending", pending),
            ("running", running),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
