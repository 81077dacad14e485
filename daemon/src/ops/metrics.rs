//! Operations as Prometheus sees them: started and finished by kind and outcome, run and queue
//! durations, and (read at scrape time from the registry) how many run and wait now.

use crate::telemetry::Exporter;
use crate::telemetry::export::SECONDS;
use ktrdr_protocol::model::OpState;
use ktrdr_protocol::operation::OpKind;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use std::fmt;

type Kind = [(&'static str, &'static str); 1];
type KindState = [(&'static str, &'static str); 2];
type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds: a demo step (0.1 s) to a long training or backfill (4 h).
const DURATION_BUCKETS: [f64; 12] = [
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14400.0,
];

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

pub struct OpMetrics {
    started: Family<Kind, Counter>,
    finished: Family<KindState, Counter>,
    /// From start to finish, by outcome; operations cancelled in their queue never ran.
    run: Histograms<KindState>,
    /// From creation to start.
    queued: Histograms<Kind>,
}

impl Default for OpMetrics {
    fn default() -> Self {
        OpMetrics {
            started: Family::default(),
            finished: Family::default(),
            run: Family::new_with_constructor(duration_histogram),
            queued: Family::new_with_constructor(duration_histogram),
        }
    }
}

impl OpMetrics {
    pub fn created(&self, kind: OpKind) {
        self.started.get_or_create(&[("kind", kind.as_str())]).inc();
    }

    pub fn running(&self, kind: OpKind, queued_ms: u64) {
        self.queued
            .get_or_create(&[("kind", kind.as_str())])
            .observe(queued_ms as f64 / 1000.0);
    }

    /// `ran_ms`: `None` for an operation that never left its queue.
    pub fn finished(&self, kind: OpKind, state: OpState, ran_ms: Option<u64>) {
        let labels = [("kind", kind.as_str()), ("state", state.as_str())];
        self.finished.get_or_create(&labels).inc();
        if let Some(ms) = ran_ms {
            self.run.get_or_create(&labels).observe(ms as f64 / 1000.0);
        }
    }

    /// `live`: (kind, queued, running) for every kind, read now.
    pub fn export(&self, out: &mut Exporter<'_>, live: &[(OpKind, u64, u64)]) -> fmt::Result {
        out.live(
            "operations_started",
            "Operations created, by kind.",
            None,
            &self.started,
        )?;
        out.live(
            "operations_finished",
            "Operations finished, by kind and final state (completed, failed, cancelled).",
            None,
            &self.finished,
        )?;
        let rows = |pick: fn(&(OpKind, u64, u64)) -> u64| -> Vec<(Kind, u64)> {
            live.iter()
                .map(|l| ([("kind", l.0.as_str())], pick(l)))
                .collect()
        };
        out.gauges(
            "operations_running",
            "Operations running now, by kind.",
            None,
            &rows(|l| l.2),
        )?;
        out.gauges(
            "operations_queued",
            "Operations waiting for their kind's concurrency limit now (queue length), by kind.",
            None,
            &rows(|l| l.1),
        )?;
        out.live(
            "operation_duration",
            "Run time of finished operations, by kind and final state.",
            Some(SECONDS),
            &self.run,
        )?;
        out.live(
            "operation_queue_wait",
            "Time operations waited in their queue before starting, by kind.",
            Some(SECONDS),
            &self.queued,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::export::testing::{render, sample};
    use std::sync::Arc;

    #[test]
    fn counts_by_kind_and_state_with_durations_and_live_gauges() {
        let m = Arc::new(OpMetrics::default());
        for _ in 0..2 {
            m.created(OpKind::Demo);
            m.running(OpKind::Demo, 5);
            m.finished(OpKind::Demo, OpState::Completed, Some(300));
        }
        m.created(OpKind::Training);
        m.finished(OpKind::Training, OpState::Cancelled, None);
        let text = {
            let m = Arc::clone(&m);
            render(move |out| m.export(out, &[(OpKind::Demo, 1, 4), (OpKind::Training, 0, 0)]))
        };
        let v = |s: &str| sample(&text, s);
        assert_eq!(
            v("ktrdr_operations_started_total{kind=\"demo\"}"),
            Some(2.0),
            "{text}"
        );
        assert_eq!(
            v("ktrdr_operations_finished_total{kind=\"demo\",state=\"completed\"}"),
            Some(2.0)
        );
        assert_eq!(
            v("ktrdr_operations_finished_total{kind=\"training\",state=\"cancelled\"}"),
            Some(1.0)
        );
        assert_eq!(
            v("ktrdr_operation_duration_seconds_count{kind=\"demo\",state=\"completed\"}"),
            Some(2.0)
        );
        assert_eq!(
            v("ktrdr_operation_duration_seconds_sum{kind=\"demo\",state=\"completed\"}"),
            Some(0.6)
        );
        // Never ran: counted as finished, not in the run-time histogram.
        assert_eq!(
            v("ktrdr_operation_duration_seconds_count{kind=\"training\",state=\"cancelled\"}"),
            None
        );
        assert_eq!(v("ktrdr_operations_running{kind=\"demo\"}"), Some(4.0));
        assert_eq!(v("ktrdr_operations_queued{kind=\"demo\"}"), Some(1.0));
        assert_eq!(
            v("ktrdr_operation_queue_wait_seconds_count{kind=\"demo\"}"),
            Some(2.0)
        );
    }
}
