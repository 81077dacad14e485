//! `stats`: request counts, errors and latency per service, and connection counters.

use crate::context::Daemon;
use ktrdr_protocol::Reply;
use ktrdr_protocol::model::StatsReport;
use std::sync::atomic::Ordering;

pub fn run(ctx: &Daemon) -> Reply {
    let c = &ctx.system.connections;
    Reply::Stats(StatsReport {
        uptime_secs: ctx.started.elapsed().as_secs_f64(),
        connections_total: c.total.load(Ordering::Relaxed),
        connections_open: c.open.load(Ordering::Relaxed),
        connections_refused: c.refused.load(Ordering::Relaxed),
        protocol_errors: c.protocol_errors.load(Ordering::Relaxed),
        services: ctx.services().iter().map(|s| s.stats()).collect(),
    })
}

/// `stats --format prometheus`: the text a scrape of the `/metrics` listener returns.
pub fn metrics(ctx: &std::sync::Arc<Daemon>) -> Reply {
    Reply::Metrics(ktrdr_protocol::model::MetricsText {
        text: crate::telemetry::render(ctx),
    })
}
