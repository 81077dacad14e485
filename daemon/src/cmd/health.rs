//! `health`: the daemon's identity and every service's live check, run concurrently.

use crate::context::Daemon;
use ktrdr_protocol::Reply;
use ktrdr_protocol::model::{HealthReport, HealthStatus};

pub async fn run(ctx: &Daemon) -> Reply {
    let services = futures_util::future::join_all(ctx.services().map(|s| s.health())).await;
    let status = if services.iter().any(|s| s.status == HealthStatus::Down) {
        HealthStatus::Down
    } else if services.iter().any(|s| s.status == HealthStatus::Degraded) {
        HealthStatus::Degraded
    } else {
        HealthStatus::Ok
    };
    Reply::Health(HealthReport {
        daemon_version: ktrdr_protocol::SOFTWARE_VERSION.into(),
        protocol: ktrdr_protocol::PROTOCOL_VERSION,
        pid: ctx.pid,
        started_at_ms: ctx.started_ms,
        uptime_secs: ctx.started.elapsed().as_secs_f64(),
        socket: ctx.config.socket.display().to_string(),
        status,
        services,
    })
}
