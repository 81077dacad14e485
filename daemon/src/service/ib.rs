//! The `ib` service: the daemon's IB Gateway connection, its pacing, and historical loads.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::{Section, ServiceMode};
use crate::ib::Gateway;
use crate::ib::host::Host;
use ktrdr_protocol::model::{HealthStatus, IbStatusReport, ServiceHealth, ServiceInfo};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub struct IbService {
    pub gateway: Arc<Gateway>,
    /// Set in host-service mode: IB is reached through that other ktrdrd, never the gateway here.
    pub host: Option<Arc<Host>>,
    metrics: RequestMetrics,
}

impl IbService {
    pub fn new(gateway: Arc<Gateway>) -> Self {
        let cfg = gateway.config();
        let host = match &cfg.mode {
            ServiceMode::Local => None,
            // The URL was validated with the configuration.
            ServiceMode::HostService { url } => {
                Host::new(url, cfg.connect_timeout.max(cfg.request_timeout))
                    .map_err(|e| tracing::error!(error = %e, "IB host service URL"))
                    .ok()
                    .map(Arc::new)
            }
        };
        IbService {
            gateway,
            host,
            metrics: RequestMetrics::new(),
        }
    }

    fn mode(&self) -> (&'static str, String) {
        let cfg = self.gateway.config();
        match &cfg.mode {
            ServiceMode::Local => ("in_process", cfg.address()),
            ServiceMode::HostService { url } => ("host_service", url.clone()),
        }
    }

    pub fn report(&self) -> IbStatusReport {
        let st = self.gateway.status();
        let c = &self.gateway.counters;
        let rules = self.gateway.pacing.rules();
        let (mode, endpoint) = self.mode();
        IbStatusReport {
            mode: mode.into(),
            endpoint,
            client_id: self.gateway.config().client_id,
            connected: st.connected,
            server_version: st.server_version,
            connected_since_ms: st.connected_since_ms,
            connect_attempts: st.attempts,
            reconnects: st.reconnects,
            last_error: st.last_error,
            last_error_ms: st.last_error_ms,
            pacing_budget_left: self.gateway.pacing.budget_left(),
            pacing_max: rules.max_in_window,
            pacing_window_secs: rules.window.as_secs_f64(),
            requests: c.requests.load(Ordering::Relaxed),
            errors: c.errors.load(Ordering::Relaxed),
            pacing_waits: c.pacing_waits.load(Ordering::Relaxed),
            pacing_violations: c.pacing_violations.load(Ordering::Relaxed),
            bars_received: c.bars_received.load(Ordering::Relaxed),
        }
    }
}

impl Service for IbService {
    fn name(&self) -> &'static str {
        "ib"
    }

    fn info(&self) -> ServiceInfo {
        let cfg = self.gateway.config();
        let (mode, endpoint) = self.mode();
        let mut settings = BTreeMap::new();
        settings.insert("client_id".into(), cfg.client_id.to_string());
        settings.insert(
            "connect_timeout_secs".into(),
            cfg.connect_timeout.as_secs_f64().to_string(),
        );
        settings.insert(
            "request_timeout_secs".into(),
            cfg.request_timeout.as_secs_f64().to_string(),
        );
        settings.insert("pacing_scale".into(), cfg.pacing_scale.to_string());
        settings.insert("ibapi".into(), "5.5.0".into());
        if let ServiceMode::HostService { .. } = cfg.mode {
            settings.insert(
                "host_service".into(),
                "IB requests and loads are delegated to that ktrdrd; bars are copied into this daemon's store"
                    .into(),
            );
        }
        ServiceInfo {
            name: self.name().into(),
            mode: if mode == "in_process" {
                "local".into()
            } else {
                "host-service".into()
            },
            endpoint: Some(if mode == "in_process" {
                format!("tcp:{endpoint}")
            } else {
                endpoint
            }),
            env: Section::Ib.env(),
            settings,
        }
    }

    /// IB being down never makes the daemon unhealthy: local data is still served. A connected
    /// gateway is checked with a server-time round trip; a disconnected one is not dialled here.
    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let st = self.gateway.status();
            let (_, endpoint) = self.mode();
            let (status, detail) = if let Some(host) = &self.host {
                match tokio::time::timeout(Duration::from_secs(2), host.health()).await {
                    Ok(v) => v,
                    Err(_) => (
                        HealthStatus::Degraded,
                        format!("IB host {} did not answer within 2 s", host.url()),
                    ),
                }
            } else if st.connected {
                match tokio::time::timeout(Duration::from_secs(2), self.gateway.server_time()).await
                {
                    Ok(Ok(_)) => (
                        HealthStatus::Ok,
                        format!(
                            "connected to {endpoint}, server version {}",
                            st.server_version.unwrap_or_default()
                        ),
                    ),
                    Ok(Err(f)) => (HealthStatus::Degraded, f.into_wire().message),
                    Err(_) => (
                        HealthStatus::Degraded,
                        format!("{endpoint} did not answer within 2 s"),
                    ),
                }
            } else if let Some(e) = st.last_error {
                (
                    HealthStatus::Degraded,
                    format!("not connected to {endpoint}: {e}"),
                )
            } else {
                (
                    HealthStatus::Ok,
                    format!("not connected yet; connects to {endpoint} at the first IB request"),
                )
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
        let r = self.report();
        [
            ("connected", u64::from(r.connected)),
            ("connect_attempts", r.connect_attempts),
            ("reconnects", r.reconnects),
            ("requests", r.requests),
            ("errors", r.errors),
            ("pacing_waits", r.pacing_waits),
            ("pacing_violations", r.pacing_violations),
            ("pacing_budget_left", u64::from(r.pacing_budget_left)),
            ("bars_received", r.bars_received),
            (
                "segment_retries",
                self.gateway
                    .counters
                    .segment_retries
                    .load(Ordering::Relaxed),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
