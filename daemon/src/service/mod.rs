//! The one pattern every service follows.
//!
//! A request handler (in [`crate::cmd`]) calls an async service; the service applies business rules
//! through its manager and does the work through an adapter (local files, the IB connection, torch, or
//! a remote host service). Whatever the adapter, each service describes itself the same way through
//! [`Service`], which is what `ktrdrctl health`, `status` and `stats` print.

pub mod backtest;
pub mod chart;
pub mod data;
pub mod ib;
pub mod live;
pub mod metrics;
pub mod operations;
pub mod strategy;
pub mod sweep;
pub mod system;
pub mod training;

use ktrdr_protocol::model::{ServiceHealth, ServiceInfo, ServiceStats};
use metrics::RequestMetrics;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Service: Send + Sync {
    fn name(&self) -> &'static str;
    /// How the service is configured: mode (local or host-service), endpoint, environment read.
    fn info(&self) -> ServiceInfo;
    /// A live check; must answer quickly (its own I/O bounded by a timeout).
    fn health(&self) -> BoxFuture<'_, ServiceHealth>;
    /// Request counters and latency, recorded by the handler for every request routed here.
    fn metrics(&self) -> &RequestMetrics;
    /// Counters of the service's own (cache hits, operations finished, ...).
    fn counters(&self) -> BTreeMap<String, u64> {
        BTreeMap::new()
    }
    fn stats(&self) -> ServiceStats {
        self.metrics().snapshot(self.name(), self.counters())
    }
    /// The service's own Prometheus metric families (`docs/metrics.md`), written at each scrape
    /// and by `ktrdrctl stats --format prometheus`. Request counts and latency are recorded for
    /// every service by the dispatcher.
    fn export(&self, _out: &mut crate::telemetry::Exporter<'_>) -> std::fmt::Result {
        Ok(())
    }
}
