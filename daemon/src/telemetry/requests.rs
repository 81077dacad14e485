//! Requests as Prometheus sees them: how many per service and request kind, errors by kind,
//! and latency histograms, recorded by the dispatcher (`cmd::dispatch`) around every request.
//! `ktrdrctl stats` keeps its own percentiles (`service::metrics`); these are the cumulative
//! buckets Prometheus aggregates over time and across daemons.

use super::export::{Exporter, SECONDS};
use ktrdr_protocol::ErrorKind;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::fmt;
use std::time::Instant;

type ServiceRequest = [(&'static str, &'static str); 2];
type ServiceRequestError = [(&'static str, &'static str); 3];
type ServiceOnly = [(&'static str, &'static str); 1];

/// Request latency buckets, seconds: 50 µs (a ping) to 5 minutes (a followed job).
const LATENCY_BUCKETS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
    30.0, 300.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

pub struct RequestTelemetry {
    requests: Family<ServiceRequest, Counter>,
    errors: Family<ServiceRequestError, Counter>,
    latency: Family<ServiceOnly, Histogram, fn() -> Histogram>,
}

impl Default for RequestTelemetry {
    fn default() -> Self {
        RequestTelemetry {
            requests: Family::default(),
            errors: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl RequestTelemetry {
    /// Starts timing one request; [`Timing::finish`] records it.
    pub fn start(&self, service: &'static str, request: &'static str) -> Timing<'_> {
        Timing {
            t: self,
            service,
            request,
            started: Instant::now(),
        }
    }

    pub fn export(&self, out: &mut Exporter<'_>) -> fmt::Result {
        out.live(
            "requests",
            "Requests answered, by service and request kind.",
            None,
            &self.requests,
        )?;
        out.live(
            "request_errors",
            "Requests answered with an error, by service, request kind and error kind.",
            None,
            &self.errors,
        )?;
        out.live(
            "request_duration",
            "Time from reading a request to writing its terminal answer, by service.",
            Some(SECONDS),
            &self.latency,
        )
    }
}

pub struct Timing<'a> {
    t: &'a RequestTelemetry,
    service: &'static str,
    request: &'static str,
    started: Instant,
}

impl Timing<'_> {
    pub fn finish(self, error: Option<ErrorKind>) {
        let t = self.t;
        t.requests
            .get_or_create(&[("service", self.service), ("request", self.request)])
            .inc();
        if let Some(kind) = error {
            t.errors
                .get_or_create(&[
                    ("service", self.service),
                    ("request", self.request),
                    ("kind", kind.as_str()),
                ])
                .inc();
        }
        t.latency
            .get_or_create(&[("service", self.service)])
            .observe(self.started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::export::testing::{render, sample};
    use std::sync::Arc;

    #[test]
    fn counts_requests_errors_and_latency_by_label() {
        let t = Arc::new(RequestTelemetry::default());
        for _ in 0..3 {
            t.start("system", "ping").finish(None);
        }
        t.start("operations", "ops_show")
            .finish(Some(ErrorKind::NotFound));
        let text = {
            let t = Arc::clone(&t);
            render(move |out| t.export(out))
        };
        let v = |s: &str| sample(&text, s);
        assert_eq!(
            v("ktrdr_requests_total{service=\"system\",request=\"ping\"}"),
            Some(3.0),
            "{text}"
        );
        assert_eq!(
            v("ktrdr_requests_total{service=\"operations\",request=\"ops_show\"}"),
            Some(1.0)
        );
        assert_eq!(
            v(
                "ktrdr_request_errors_total{service=\"operations\",request=\"ops_show\",kind=\"not_found\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            v("ktrdr_request_duration_seconds_count{service=\"system\"}"),
            Some(3.0)
        );
        assert_eq!(
            v("ktrdr_request_duration_seconds_bucket{service=\"system\",le=\"+Inf\"}"),
            Some(3.0)
        );
        assert!(text.contains("# TYPE ktrdr_request_duration_seconds histogram"));
        assert!(text.contains("# TYPE ktrdr_requests_total counter"));
    }
}
