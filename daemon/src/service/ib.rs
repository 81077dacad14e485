//! The `ib` service: the daemon's IB Gateway connection, its pacing, and historical loads.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::{Section, ServiceMode};
use crate::data::DataManager;
use crate::data::input;
use crate::host::Adapter;
use crate::ib::Gateway;
use crate::ib::host::{IbLoads, LoadJob};
use crate::ib::load::LoadParams;
use crate::ops::Registry;
use ktrdr_protocol::model::{
    HealthStatus, IbContractInfo, IbHeadInfo, IbStatusReport, IbTestReport, OperationRecord,
    ServiceHealth, ServiceInfo,
};
use ktrdr_protocol::request::{DataLoad, IbContract, IbHead};
use ktrdr_protocol::{Reply, Request, WireError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

pub struct IbService {
    pub gateway: Arc<Gateway>,
    /// Loads, here or on an IB host (`USE_IB_HOST_SERVICE`), which then also answers every other
    /// IB request: this daemon never dials the gateway itself.
    loads: Adapter<IbLoads>,
    registry: Arc<Registry>,
    metrics: RequestMetrics,
}

impl IbService {
    pub fn new(gateway: Arc<Gateway>, data: Arc<DataManager>, registry: Arc<Registry>) -> Self {
        let cfg = gateway.config();
        let loads = Adapter::new(
            Arc::new(IbLoads {
                gateway: Arc::clone(&gateway),
                data,
            }),
            &cfg.mode,
            "IB host",
            cfg.connect_timeout.max(cfg.request_timeout),
        );
        IbService {
            gateway,
            loads,
            registry,
            metrics: RequestMetrics::new(),
        }
    }

    /// `ib status`: in host-service mode the IB host's connection, as seen from here; an
    /// unreachable host is reported in `last_error`, not as a failure, so `ib status` always says
    /// why IB is not available.
    pub async fn status(&self) -> IbStatusReport {
        let Some(host) = self.loads.host() else {
            return self.report();
        };
        let mut down = self.report();
        down.connected = false;
        down.server_version = None;
        down.connected_since_ms = None;
        down.endpoint = host.url();
        match host.call(&Request::IbStatus).await {
            Ok(Reply::IbStatus(mut r)) => {
                r.endpoint = format!("{} (its gateway: {})", host.url(), r.endpoint);
                r.mode = "host_service".into();
                r
            }
            Ok(_) => IbStatusReport {
                last_error: Some(host.unexpected("ib status").message),
                last_error_ms: Some(crate::time::now_ms()),
                ..down
            },
            Err(e) => IbStatusReport {
                last_error: Some(e.message),
                last_error_ms: Some(crate::time::now_ms()),
                ..down
            },
        }
    }

    /// One cheap round trip to IB (connecting first if needed).
    pub async fn test(&self) -> Result<Reply, WireError> {
        self.loads
            .answer(|| Request::IbTest, async {
                let gw = &self.gateway;
                let t0 = Instant::now();
                let server_time_ms = gw.server_time().await.map_err(|f| f.into_wire())?;
                Ok(Reply::IbTest(IbTestReport {
                    endpoint: gw.config().address(),
                    server_version: gw.status().server_version,
                    server_time_ms,
                    round_trip_ms: t0.elapsed().as_secs_f64() * 1000.0,
                }))
            })
            .await
    }

    pub async fn contract(&self, req: IbContract) -> Result<Reply, WireError> {
        let symbol = input::symbol(&req.symbol)?;
        let sym = symbol.clone();
        self.loads
            .answer(|| Request::IbContract(IbContract { symbol: sym }), async {
                let r = self
                    .gateway
                    .resolve(&symbol)
                    .await
                    .map_err(|f| f.into_wire())?;
                let c = &r.contract;
                Ok(Reply::IbContract(IbContractInfo {
                    symbol: symbol.clone(),
                    kind: r.spec.kind().into(),
                    con_id: c.contract_id,
                    ib_symbol: c.symbol.to_string(),
                    sec_type: c.security_type.to_string(),
                    exchange: c.exchange.to_string(),
                    primary_exchange: c.primary_exchange.to_string(),
                    currency: c.currency.to_string(),
                    local_symbol: c.local_symbol.clone(),
                    long_name: r.long_name.clone(),
                    what_to_show: r.what_to_show().to_string(),
                }))
            })
            .await
    }

    pub async fn head(&self, req: IbHead) -> Result<Reply, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let forwarded = IbHead {
            symbol: key.symbol.clone(),
            timeframe: key.timeframe.to_string(),
        };
        self.loads
            .answer(|| Request::IbHead(forwarded), async {
                let gw = &self.gateway;
                let r = gw.resolve(&key.symbol).await.map_err(|f| f.into_wire())?;
                let head_ms = gw.head(&r).await.map_err(|f| f.into_wire())?;
                Ok(Reply::IbHead(IbHeadInfo {
                    symbol: key.symbol.clone(),
                    timeframe: key.timeframe.to_string(),
                    what_to_show: r.what_to_show().to_string(),
                    head_ms,
                }))
            })
            .await
    }

    /// Starts an `ib_load` operation (here, or through the IB host).
    pub async fn load(&self, req: DataLoad) -> Result<OperationRecord, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let w = input::window(req.start.as_deref(), req.end.as_deref())?;
        let params = LoadParams {
            key,
            mode: req.mode,
            start: w.start,
            end: w.end,
        };
        let record = params.record();
        self.registry
            .start(record, self.loads.work(LoadJob::new(params)))
            .await
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
            let (status, detail) = if let Some(host) = self.loads.host() {
                match tokio::time::timeout(Duration::from_secs(2), host.health("ib")).await {
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

    /// This daemon's own gateway connection; in host-service mode the IB host exports its own.
    fn export(&self, out: &mut crate::telemetry::Exporter<'_>) -> std::fmt::Result {
        use crate::telemetry::export::SECONDS;
        let r = self.report();
        let c = &self.gateway.counters;
        let secs = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e6;
        out.gauge(
            "ib_connected",
            "1 while the IB Gateway connection is up.",
            None,
            u64::from(r.connected),
        )?;
        out.counter(
            "ib_connect_attempts",
            "Attempts to connect to the IB Gateway.",
            None,
            r.connect_attempts,
        )?;
        out.counter(
            "ib_reconnects",
            "Connections to the IB Gateway after the first.",
            None,
            r.reconnects,
        )?;
        out.counter("ib_requests", "Requests sent to IB.", None, r.requests)?;
        out.counter("ib_errors", "IB requests that failed.", None, r.errors)?;
        out.counter(
            "ib_pacing_waits",
            "Times a historical request waited for IB's pacing rules.",
            None,
            r.pacing_waits,
        )?;
        out.counter(
            "ib_pacing_wait",
            "Time historical requests waited for IB's pacing rules.",
            Some(SECONDS),
            secs(&c.pacing_wait_us),
        )?;
        out.counter(
            "ib_pacing_violations",
            "Pacing violations (error 162) received from IB.",
            None,
            r.pacing_violations,
        )?;
        out.counter(
            "ib_violation_backoff",
            "Time loads backed off after pacing violations.",
            Some(SECONDS),
            secs(&c.violation_backoff_us),
        )?;
        out.counter(
            "ib_segment_retries",
            "Load segments retried after a violation or a lost connection.",
            None,
            c.segment_retries.load(Ordering::Relaxed),
        )?;
        out.counter(
            "ib_bars_fetched",
            "Historical bars received from IB.",
            None,
            r.bars_received,
        )?;
        out.gauge(
            "ib_pacing_budget_left",
            "Historical requests left in the current pacing window.",
            None,
            r.pacing_budget_left,
        )?;
        out.gauge(
            "ib_pacing_budget",
            "Historical requests allowed per pacing window.",
            None,
            r.pacing_max,
        )
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
