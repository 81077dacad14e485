//! The `system` service: the daemon itself (socket, directories, connections).

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::Config;
use ktrdr_protocol::model::{EnvVar, HealthStatus, ServiceHealth, ServiceInfo};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct ConnectionCounters {
    pub total: AtomicU64,
    pub open: AtomicU64,
    /// Refused: over the connection limit, wrong peer uid, or during shutdown.
    pub refused: AtomicU64,
    /// Malformed frames, bad handshakes, oversized lengths.
    pub protocol_errors: AtomicU64,
}

pub struct SystemService {
    config: Arc<Config>,
    activated: bool,
    metrics: RequestMetrics,
    pub connections: ConnectionCounters,
}

impl SystemService {
    pub fn new(config: Arc<Config>, activated: bool) -> Self {
        SystemService {
            config,
            activated,
            metrics: RequestMetrics::new(),
            connections: ConnectionCounters::default(),
        }
    }
}

impl Service for SystemService {
    fn name(&self) -> &'static str {
        "system"
    }

    fn info(&self) -> ServiceInfo {
        let c = &self.config;
        let mut settings = BTreeMap::new();
        settings.insert("data_dir".into(), c.data_dir.display().to_string());
        settings.insert("state_dir".into(), c.state_dir.display().to_string());
        settings.insert("max_connections".into(), c.max_connections.to_string());
        settings.insert(
            "metrics_listen".into(),
            c.metrics_listen
                .map_or_else(|| "off".to_string(), |a| format!("http://{a}/metrics")),
        );
        settings.insert("log_format".into(), c.log_format.to_string());
        settings.insert(
            "socket_activation".into(),
            if self.activated { "yes" } else { "no" }.to_string(),
        );
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some(format!("unix:{}", c.socket.display())),
            env: c
                .env_read
                .iter()
                .map(|(n, v)| EnvVar {
                    name: n.clone(),
                    value: v.clone(),
                })
                .collect(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let dirs = [self.config.data_dir.clone(), self.config.state_dir.clone()];
            let problems = tokio::task::spawn_blocking(move || {
                dirs.iter()
                    .filter_map(|d| writable(d).err())
                    .collect::<Vec<String>>()
            })
            .await
            .unwrap_or_else(|e| vec![format!("health check task failed: {e}")]);
            let (status, detail) = if problems.is_empty() {
                (
                    HealthStatus::Ok,
                    format!(
                        "{} connections open",
                        self.connections.open.load(Ordering::Relaxed)
                    ),
                )
            } else {
                (HealthStatus::Degraded, problems.join("; "))
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
        let c = &self.connections;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.gauge(
            "connections_open",
            "Client connections open now.",
            None,
            n(&c.open),
        )?;
        out.counter(
            "connections",
            "Client connections accepted on the socket.",
            None,
            n(&c.total),
        )?;
        out.counter(
            "connections_refused",
            "Connections refused: over max_connections, another user, or shutting down.",
            None,
            n(&c.refused),
        )?;
        out.counter(
            "protocol_errors",
            "Malformed frames, bad handshakes and oversized lengths from clients.",
            None,
            n(&c.protocol_errors),
        )
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.connections;
        [
            ("connections_total", c.total.load(Ordering::Relaxed)),
            ("connections_open", c.open.load(Ordering::Relaxed)),
            ("connections_refused", c.refused.load(Ordering::Relaxed)),
            ("protocol_errors", c.protocol_errors.load(Ordering::Relaxed)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

fn writable(dir: &Path) -> Result<(), String> {
    let probe = dir.join(".ktrdr-health-probe");
    std::fs::write(&probe, b"ok")
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| format!("{} is not writable: {e}", dir.display()))
}
