//! The `data` service: stored bar series (list, show, import, export, validate, resample), served
//! from the data directory through a memory cache.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::Section;
use crate::data::DataManager;
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub struct DataService {
    pub manager: Arc<DataManager>,
    metrics: RequestMetrics,
}

impl DataService {
    pub fn new(manager: Arc<DataManager>) -> Self {
        DataService {
            manager,
            metrics: RequestMetrics::new(),
        }
    }
}

impl Service for DataService {
    fn name(&self) -> &'static str {
        "data"
    }

    fn info(&self) -> ServiceInfo {
        let m = &self.manager;
        let mut settings = BTreeMap::new();
        settings.insert("data_dir".into(), m.dir().display().to_string());
        settings.insert("cache_bytes".into(), m.cache.budget().to_string());
        settings.insert(
            "watch".into(),
            match &m.watch_error {
                None => "on".into(),
                Some(e) => format!("off ({e})"),
            },
        );
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some(format!("dir:{}", m.dir().display())),
            env: Section::Data.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let dir = self.manager.dir().to_path_buf();
            let check = tokio::time::timeout(
                Duration::from_secs(2),
                tokio::task::spawn_blocking(move || std::fs::read_dir(&dir).map(|rd| rd.count())),
            )
            .await;
            let (entries, used) = self.manager.cache.usage();
            let (status, detail) = match check {
                Ok(Ok(Ok(_))) if self.manager.watching() => (
                    HealthStatus::Ok,
                    format!(
                        "{entries} series cached, {} MiB of {} MiB",
                        used >> 20,
                        self.manager.cache.budget() >> 20
                    ),
                ),
                Ok(Ok(Ok(_))) => (
                    HealthStatus::Degraded,
                    "data directory not watched; external changes are seen only at the next read"
                        .into(),
                ),
                Ok(Ok(Err(e))) => (
                    HealthStatus::Down,
                    format!("cannot read {}: {e}", self.manager.dir().display()),
                ),
                Ok(Err(e)) => (HealthStatus::Down, format!("health check task failed: {e}")),
                Err(_) => (
                    HealthStatus::Degraded,
                    "data directory did not answer within 2 s".into(),
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
        let c = &self.manager.cache.counters;
        let d = &self.manager.counters;
        let (entries, bytes) = self.manager.cache.usage();
        [
            ("cache_hits", c.hits.load(Ordering::Relaxed)),
            ("cache_misses", c.misses.load(Ordering::Relaxed)),
            ("cache_evictions", c.evictions.load(Ordering::Relaxed)),
            (
                "cache_invalidations",
                c.invalidations.load(Ordering::Relaxed),
            ),
            ("cache_entries", entries as u64),
            ("cache_bytes", bytes as u64),
            ("imports", d.imports.load(Ordering::Relaxed)),
            ("exports", d.exports.load(Ordering::Relaxed)),
            ("repairs", d.repairs.load(Ordering::Relaxed)),
            ("bars_streamed", d.bars_streamed.load(Ordering::Relaxed)),
            ("watch_events", d.watch_events.load(Ordering::Relaxed)),
            (
                "temporaries_removed",
                d.temporaries_removed.load(Ordering::Relaxed),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
