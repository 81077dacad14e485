//! The `strategy` service: strategy files, the indicator catalogue, and indicator and fuzzy columns
//! computed over stored bars. The adapter is in-process: the pure `ktrdr-strategy` crate, fed by
//! the data service, run on blocking threads.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::data::DataManager;
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct StrategyCounters {
    pub files_checked: AtomicU64,
    pub indicator_columns: AtomicU64,
    pub fuzzy_columns: AtomicU64,
    pub rows_computed: AtomicU64,
}

/// Its methods (the work itself) live in [`crate::strategy`].
pub struct StrategyService {
    pub(crate) data: Arc<DataManager>,
    pub(crate) counters: Arc<StrategyCounters>,
    metrics: RequestMetrics,
}

impl StrategyService {
    pub fn new(data: Arc<DataManager>) -> Self {
        StrategyService {
            data,
            counters: Arc::new(StrategyCounters::default()),
            metrics: RequestMetrics::new(),
        }
    }
}

impl Service for StrategyService {
    fn name(&self) -> &'static str {
        "strategy"
    }

    fn info(&self) -> ServiceInfo {
        let mut settings = BTreeMap::new();
        settings.insert(
            "indicators".into(),
            ktrdr_strategy::indicators::registry().len().to_string(),
        );
        settings.insert(
            "fuzzy_types".into(),
            "triangular, trapezoidal, gaussian".into(),
        );
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some("in-process (ktrdr-strategy)".into()),
            env: Vec::new(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            ServiceHealth {
                name: self.name().into(),
                status: HealthStatus::Ok,
                detail: format!(
                    "{} indicators; {} strategy files checked",
                    ktrdr_strategy::indicators::registry().len(),
                    self.counters.files_checked.load(Ordering::Relaxed)
                ),
            }
        })
    }

    fn metrics(&self) -> &RequestMetrics {
        &self.metrics
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.counters;
        super::metrics::read_counters(&[
            ("files_checked", &c.files_checked),
            ("indicator_columns", &c.indicator_columns),
            ("fuzzy_columns", &c.fuzzy_columns),
            ("rows_computed", &c.rows_computed),
        ])
    }
}
