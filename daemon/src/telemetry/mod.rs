//! Observability: the daemon's metrics in the Prometheus text format, the opt-in HTTP listener
//! that serves them, and the log formats.
//!
//! - [`export`]: the [`Exporter`] each service writes its metric families into
//!   ([`crate::service::Service::export`]), over prometheus-client's encoder.
//! - [`requests`]: request counts, errors by kind and latency histograms, recorded by the
//!   dispatcher for every request.
//! - [`http`]: `metrics.listen`, the `/metrics` endpoint (nothing else is served).
//! - [`logging`]: human, JSON, and journald-aware log output.
//!
//! Metric names and what they mean: `docs/metrics.md`. A scrape and `ktrdrctl stats --format
//! prometheus` render the same text through [`render`], from the same service declarations that
//! `ktrdrctl stats` prints.

pub mod export;
pub mod http;
pub mod logging;
pub mod requests;

use crate::context::Daemon;
pub use export::Exporter;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// The `Content-Type` of what [`render`] returns (text format 0.0.4, what promtool checks).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every metric of the daemon, as Prometheus text (format 0.0.4), read now.
pub fn render(daemon: &Arc<Daemon>) -> String {
    let mut registry = Registry::with_prefix("ktrdr");
    registry.register_collector(Box::new(Scrape(Arc::clone(daemon))));
    let mut out = String::with_capacity(16 * 1024);
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry) {
        // Only a bug in an encoder can fail a write into a String.
        tracing::error!(error = %e, "cannot encode the metrics");
    }
    out
}

/// The daemon seen by one scrape: the process-wide families, then every service's own.
struct Scrape(Arc<Daemon>);

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrape")
    }
}

impl Collector for Scrape {
    fn encode(&self, encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let d = &self.0;
        let mut out = Exporter::new(encoder);
        out.gauge(
            "uptime",
            "Seconds since the daemon started.",
            Some(export::SECONDS),
            d.started.elapsed().as_secs_f64(),
        )?;
        out.info(
            "build",
            "The daemon's version and protocol.",
            &[
                ("version", ktrdr_protocol::SOFTWARE_VERSION.to_string()),
                ("protocol", ktrdr_protocol::PROTOCOL_VERSION.to_string()),
            ],
        )?;
        d.requests.export(&mut out)?;
        for s in d.services() {
            s.export(&mut out)?;
        }
        Ok(())
    }
}
