//! What one refresh of `top` shows: the daemon's typed replies to `stats`, `ops list --state
//! running` and `ib status`, and the request rates between this refresh and the previous one.

use crate::client::Client;
use ktrdr_protocol::model::{IbStatusReport, OpState, OperationRecord, StatsReport};
use ktrdr_protocol::request::OpsList;
use ktrdr_protocol::{Reply, Request, WireError};
use std::time::Instant;

/// One refresh.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Instant,
    pub stats: StatsReport,
    pub running: Vec<OperationRecord>,
    /// `Err`: why IB's status could not be read (the screen says so instead of failing).
    pub ib: Result<IbStatusReport, String>,
}

/// A service's row: totals from the daemon, the rate from the last two samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub per_sec: f64,
    pub requests: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// Everything the view draws.
#[derive(Debug, Clone)]
pub struct Screen {
    pub daemon_pid: u32,
    pub sample: Sample,
    pub services: Vec<ServiceRow>,
}

impl Screen {
    /// `prev`: the sample of the previous refresh, for rates (none at the first refresh).
    pub fn new(daemon_pid: u32, sample: Sample, prev: Option<&Sample>) -> Screen {
        let services = sample
            .stats
            .services
            .iter()
            .map(|s| {
                let per_sec = prev
                    .and_then(|p| {
                        let before = p.stats.services.iter().find(|b| b.name == s.name)?;
                        let dt = sample.at.duration_since(p.at).as_secs_f64();
                        (dt > 0.0).then(|| s.requests.saturating_sub(before.requests) as f64 / dt)
                    })
                    .unwrap_or(0.0);
                ServiceRow {
                    name: s.name.clone(),
                    per_sec,
                    requests: s.requests,
                    errors: s.errors,
                    p50_us: s.latency.p50_us,
                    p99_us: s.latency.p99_us,
                }
            })
            .collect();
        Screen {
            daemon_pid,
            sample,
            services,
        }
    }

    /// A counter of a service by name (0 when absent).
    pub fn counter(&self, service: &str, name: &str) -> u64 {
        self.sample
            .stats
            .services
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.counters.get(name).copied())
            .unwrap_or(0)
    }
}

fn unexpected(reply: Reply) -> WireError {
    WireError::internal(format!("unexpected reply from the daemon: {reply:?}"))
}

/// Reads one sample over the open connection (three requests).
pub async fn fetch(c: &mut Client) -> Result<Sample, WireError> {
    let stats = match c.call(&Request::Stats).await? {
        Reply::Stats(s) => s,
        other => return Err(unexpected(other)),
    };
    let running = match c
        .call(&Request::OpsList(OpsList {
            state: Some(OpState::Running),
            kind: None,
            limit: 50,
        }))
        .await?
    {
        Reply::Operations(l) => l.items,
        other => return Err(unexpected(other)),
    };
    let ib = match c.call(&Request::IbStatus).await {
        Ok(Reply::IbStatus(s)) => Ok(s),
        Ok(other) => Err(format!("unexpected reply: {other:?}")),
        Err(e) => Err(e.message),
    };
    Ok(Sample {
        at: Instant::now(),
        stats,
        running,
        ib,
    })
}
