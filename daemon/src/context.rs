//! [`Daemon`]: what every connection handler shares.

use crate::config::Config;
use crate::service::Service;
use crate::service::backtest::BacktestService;
use crate::service::chart::ChartService;
use crate::service::data::DataService;
use crate::service::ib::IbService;
use crate::service::live::LiveService;
use crate::service::operations::OperationsService;
use crate::service::strategy::StrategyService;
use crate::service::sweep::SweepService;
use crate::service::system::SystemService;
use crate::service::training::TrainingService;
use crate::shutdown::Trigger;
use std::sync::Arc;
use std::time::Instant;

pub struct Daemon {
    pub config: Arc<Config>,
    pub started: Instant,
    pub started_ms: u64,
    pub pid: u32,
    pub shutdown: Trigger,
    pub system: SystemService,
    pub operations: OperationsService,
    pub data: DataService,
    pub ib: IbService,
    pub strategy: StrategyService,
    pub training: TrainingService,
    pub backtest: BacktestService,
    /// Request counts, errors and latency for Prometheus, recorded by `cmd::dispatch`.
    pub requests: crate::telemetry::requests::RequestTelemetry,
    pub live: LiveService,
    pub chart: ChartService,
    pub sweep: SweepService,
}

impl Daemon {
    /// Every service, in the order `health`, `status` and `stats` list them.
    pub fn services(&self) -> [&dyn Service; 10] {
        [
            &self.system,
            &self.operations,
            &self.data,
            &self.ib,
            &self.strategy,
            &self.training,
            &self.backtest,
            &self.live,
            &self.chart,
            &self.sweep,
        ]
    }

    pub fn service(&self, name: &str) -> Option<&dyn Service> {
        self.services().into_iter().find(|s| s.name() == name)
    }
}
