//! Per-service request statistics: counts, errors and a latency histogram.

use hdrhistogram::Histogram;
use ktrdr_protocol::model::{Latency, ServiceStats};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub struct RequestMetrics {
    requests: AtomicU64,
    errors: AtomicU64,
    in_flight: AtomicU64,
    /// Microseconds, 1 µs to 1 hour at 3 significant digits: a few tens of KiB, fixed.
    /// `None` only if the histogram could not be built, which the constant bounds rule out.
    latency: Mutex<Option<Histogram<u64>>>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestMetrics {
    pub fn new() -> Self {
        let hist = Histogram::new_with_bounds(1, 3_600_000_000, 3).ok();
        RequestMetrics {
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            latency: Mutex::new(hist),
        }
    }

    /// Marks a request as started; the guard records its latency when dropped.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight {
            metrics: self,
            started: std::time::Instant::now(),
            failed: false,
        }
    }

    fn finish(&self, elapsed: Duration, failed: bool) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let us = (elapsed.as_micros() as u64).clamp(1, 3_600_000_000);
        if let Ok(mut guard) = self.latency.lock()
            && let Some(h) = guard.as_mut()
        {
            let _ = h.record(us);
        }
    }

    pub fn snapshot(&self, name: &str, counters: BTreeMap<String, u64>) -> ServiceStats {
        let guard = self.latency.lock();
        let latency = match guard.as_ref().ok().and_then(|g| g.as_ref()) {
            Some(h) if !h.is_empty() => Latency {
                p50_us: h.value_at_quantile(0.50),
                p90_us: h.value_at_quantile(0.90),
                p99_us: h.value_at_quantile(0.99),
                max_us: h.max(),
            },
            _ => Latency::default(),
        };
        ServiceStats {
            name: name.to_string(),
            requests: self.requests.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            latency,
            counters,
        }
    }
}

pub struct InFlight<'a> {
    metrics: &'a RequestMetrics,
    started: std::time::Instant,
    failed: bool,
}

impl InFlight<'_> {
    pub fn failed(&mut self) {
        self.failed = true;
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.metrics.finish(self.started.elapsed(), self.failed);
    }
}

/// A service's own counters, read now, by name: what [`super::Service::counters`] returns.
pub fn read_counters(counters: &[(&str, &AtomicU64)]) -> BTreeMap<String, u64> {
    counters
        .iter()
        .map(|(k, v)| (k.to_string(), v.load(Ordering::Relaxed)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_errors_and_latency() {
        let m = RequestMetrics::new();
        drop(m.start());
        let mut g = m.start();
        g.failed();
        drop(g);
        let s = m.snapshot("x", BTreeMap::new());
        assert_eq!((s.requests, s.errors, s.in_flight), (2, 1, 0));
        assert!(s.latency.max_us >= s.latency.p50_us && s.latency.p50_us >= 1);
    }
}
