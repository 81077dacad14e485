//! [`Exporter`]: how a service writes its metric families during a scrape.
//!
//! Two kinds of values end up here. Most are read at scrape time from the counters and state a
//! service already keeps for `ktrdrctl stats` (cache bytes, IB requests, queue lengths), written
//! as constant counters and gauges, so nothing is counted twice. Distributions and per-label
//! counts that only exist as events (latencies, operation durations) are prometheus-client
//! families updated where the event happens and written here whole ([`Exporter::live`]).
//!
//! Names are given without the `ktrdr_` prefix (the registry adds it), without `_total` (added
//! to counters by the encoder) and without the unit (added from `unit`), so every name follows
//! the Prometheus conventions by construction.

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeLabelSet, EncodeMetric,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;
use std::fmt;

pub const SECONDS: Unit = Unit::Seconds;
pub const BYTES: Unit = Unit::Bytes;

/// A label set written as `[("kind", value), ...]`.
pub type Labels<const N: usize> = [(&'static str, String); N];

pub struct Exporter<'a> {
    enc: DescriptorEncoder<'a>,
}

impl<'a> Exporter<'a> {
    pub fn new(enc: DescriptorEncoder<'a>) -> Self {
        Exporter { enc }
    }

    /// A counter without labels, read now.
    pub fn counter<V: EncodeCounterValue>(
        &mut self,
        name: &'static str,
        help: &str,
        unit: Option<Unit>,
        value: V,
    ) -> fmt::Result {
        let m = self
            .enc
            .encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
        ConstCounter::new(value).encode(m)
    }

    /// A gauge without labels, read now.
    pub fn gauge<V: EncodeGaugeValue>(
        &mut self,
        name: &'static str,
        help: &str,
        unit: Option<Unit>,
        value: V,
    ) -> fmt::Result {
        let m = self
            .enc
            .encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
        ConstGauge::new(value).encode(m)
    }

    /// One counter per label set, read now.
    pub fn counters<L: EncodeLabelSet, V: EncodeCounterValue + Copy>(
        &mut self,
        name: &'static str,
        help: &str,
        unit: Option<Unit>,
        rows: &[(L, V)],
    ) -> fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
        for (labels, v) in rows {
            ConstCounter::new(*v).encode(m.encode_family(labels)?)?;
        }
        Ok(())
    }

    /// One gauge per label set, read now.
    pub fn gauges<L: EncodeLabelSet, V: EncodeGaugeValue + Copy>(
        &mut self,
        name: &'static str,
        help: &str,
        unit: Option<Unit>,
        rows: &[(L, V)],
    ) -> fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, unit.as_ref(), MetricType::Gauge)?;
        for (labels, v) in rows {
            ConstGauge::new(*v).encode(m.encode_family(labels)?)?;
        }
        Ok(())
    }

    /// An info metric (`NAME_info{labels} 1`).
    pub fn info<L: EncodeLabelSet>(
        &mut self,
        name: &'static str,
        help: &str,
        labels: &L,
    ) -> fmt::Result {
        let mut m = self
            .enc
            .encode_descriptor(name, help, None, MetricType::Info)?;
        m.encode_info(labels)
    }

    /// A prometheus-client metric or family updated as events happen (histograms, labelled
    /// counters), written whole.
    pub fn live(
        &mut self,
        name: &'static str,
        help: &str,
        unit: Option<Unit>,
        metric: &impl EncodeMetric,
    ) -> fmt::Result {
        let m = self
            .enc
            .encode_descriptor(name, help, unit.as_ref(), metric.metric_type())?;
        metric.encode(m)
    }
}

#[cfg(test)]
pub mod testing {
    //! Renders what one export function writes, for the services' unit tests.

    use super::Exporter;
    use prometheus_client::collector::Collector;
    use prometheus_client::encoding::DescriptorEncoder;
    use prometheus_client::registry::Registry;
    use std::fmt;

    type Export = Box<dyn Fn(&mut Exporter<'_>) -> fmt::Result + Send + Sync>;

    struct One(Export);

    impl fmt::Debug for One {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("One")
        }
    }

    impl Collector for One {
        fn encode(&self, encoder: DescriptorEncoder<'_>) -> fmt::Result {
            (self.0)(&mut Exporter::new(encoder))
        }
    }

    /// The text `export` writes, with the `ktrdr_` prefix, as a scrape would show it.
    pub fn render(
        export: impl Fn(&mut Exporter<'_>) -> fmt::Result + Send + Sync + 'static,
    ) -> String {
        let mut registry = Registry::with_prefix("ktrdr");
        registry.register_collector(Box::new(One(Box::new(export))));
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).unwrap();
        out
    }

    /// The value of the sample written exactly as `series` (`name{labels}`), if present.
    pub fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    }
}
