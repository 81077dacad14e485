//! The `backtest` service: stored models replayed over stored bars as `backtest` operations, and
//! their saved results. The adapter is local (this daemon's bars, models and torch).

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::backtest::Results;
use crate::config::Section;
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct BacktestCounters {
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub cancelled: AtomicU64,
    pub bars_replayed: AtomicU64,
    pub trades: AtomicU64,
    pub charts: AtomicU64,
}

pub struct BacktestService {
    pub results: Arc<Results>,
    pub counters: Arc<BacktestCounters>,
    metrics: RequestMetrics,
}

impl BacktestService {
    pub fn new(results: Arc<Results>) -> Self {
        BacktestService {
            results,
            counters: Arc::new(BacktestCounters::default()),
            metrics: RequestMetrics::new(),
        }
    }
}

impl Service for BacktestService {
    fn name(&self) -> &'static str {
        "backtest"
    }

    fn info(&self) -> ServiceInfo {
        let d = ktrdr_backtest::Config::default();
        let mut settings = BTreeMap::new();
        settings.insert(
            "results_dir".into(),
            self.results.dir().display().to_string(),
        );
        settings.insert("default_capital".into(), d.capital.to_string());
        settings.insert("default_commission".into(), d.commission.to_string());
        settings.insert("default_slippage".into(), d.slippage.to_string());
        settings.insert(
            "default_position_fraction".into(),
            d.position_fraction.to_string(),
        );
        settings.insert("fills".into(), "next bar's open".into());
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some(format!("dir:{}", self.results.dir().display())),
            env: Section::Backtest.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let c = &self.counters;
            ServiceHealth {
                name: self.name().into(),
                status: HealthStatus::Ok,
                detail: format!(
                    "{} backtests completed, {} failed",
                    c.completed.load(Ordering::Relaxed),
                    c.failed.load(Ordering::Relaxed)
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
            ("backtests_completed", &c.completed),
            ("backtests_failed", &c.failed),
            ("backtests_cancelled", &c.cancelled),
            ("bars_replayed", &c.bars_replayed),
            ("trades", &c.trades),
            ("charts", &c.charts),
        ])
    }
}
