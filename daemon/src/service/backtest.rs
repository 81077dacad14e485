//! The `backtest` service: stored models replayed over stored bars as `backtest` operations, and
//! their saved results. The adapter is local (this daemon's bars, models and torch).

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::backtest::host::{BacktestJob, Backtester};
use crate::backtest::job::{self, BacktestCounters, Env, Job, Overrides};
use crate::backtest::{Detail, Results};
use crate::blocking;
use crate::config::{Section, ServiceMode};
use crate::data::DataManager;
use crate::data::input;
use crate::host::Adapter;
use crate::ops::{Registry, Work};
use crate::training::store_error;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_protocol::model::{OpState, OperationRecord};
use ktrdr_protocol::operation::{BacktestParams, OpKind, OpParams};
use ktrdr_protocol::request::{Backtest, BacktestShow};
use ktrdr_train::ModelStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub struct BacktestService {
    /// Backtests, here or on a backtest host; results are kept here either way.
    backtester: Adapter<Backtester>,
    results: Arc<Results>,
    store: Arc<ModelStore>,
    registry: Arc<Registry>,
    mode: ServiceMode,
    pub counters: Arc<BacktestCounters>,
    metrics: RequestMetrics,
}

/// What a backtest's saved results hold, for `backtest show`.
pub struct Shown {
    pub detail: Detail,
    pub chart: Option<Vec<u8>>,
}

impl BacktestService {
    pub fn new(
        results: Arc<Results>,
        mode: ServiceMode,
        torch_threads: usize,
        data: Arc<DataManager>,
        store: Arc<ModelStore>,
        registry: Arc<Registry>,
    ) -> Self {
        let counters = Arc::new(BacktestCounters::default());
        let env = Env {
            registry: Arc::clone(&registry),
            torch_threads,
            data,
            store: Arc::clone(&store),
            results: Arc::clone(&results),
            counters: Arc::clone(&counters),
        };
        let backtester = Adapter::new(
            Arc::new(Backtester { env }),
            &mode,
            "backtest host",
            Duration::from_secs(10),
        );
        BacktestService {
            backtester,
            results,
            store,
            registry,
            mode,
            counters,
            metrics: RequestMetrics::new(),
        }
    }

    /// Starts a `backtest` operation, here or on the backtest host. Everything checkable here
    /// (inputs, and locally the model and that it reads this timeframe) is checked before an
    /// operation exists.
    pub async fn start(&self, req: Backtest) -> Result<OperationRecord, WireError> {
        let symbol = input::symbol(&req.symbol)?;
        let timeframe = input::timeframe("timeframe", &req.timeframe)?;
        let window = input::window(req.start.as_deref(), req.end.as_deref())?;
        let overrides = Overrides {
            capital: req.capital,
            commission: req.commission,
            slippage: req.slippage,
            position_fraction: req.position_fraction,
            allow_short: req.allow_short,
        };
        overrides.validate()?;
        let host = self.backtester.host().map(|h| h.url());
        let (model, local) = if host.is_some() {
            // The host resolves the model in its own store.
            (req.model.clone(), None)
        } else {
            let store = Arc::clone(&self.store);
            let name = req.model.clone();
            let (resolved, plan) = blocking::run("reading a model", move || {
                let s = store.read(&name).map_err(store_error)?;
                let plan = ktrdr_train::pipeline::model_plan(&s.listed.metadata, &s.strategy_yaml)
                    .map_err(WireError::validation)?;
                Ok((s.listed.metadata.name, plan))
            })
            .await?;
            if plan.strategy.base_timeframe() != timeframe {
                return Err(WireError::validation(format!(
                    "{resolved} was trained on {} bars, not {timeframe}",
                    plan.strategy.base_timeframe()
                ))
                .with_hint(format!(
                    "use --timeframe {}",
                    plan.strategy.base_timeframe()
                )));
            }
            let job = Job {
                model: resolved.clone(),
                symbol: symbol.clone(),
                timeframe,
                timeframes: plan.timeframes,
                window,
                overrides,
            };
            (resolved, Some(job))
        };
        let params = OpParams::Backtest(BacktestParams {
            model,
            symbol: symbol.clone(),
            timeframe: timeframe.to_string(),
            start: req.start.clone(),
            end: req.end.clone(),
            capital: req.capital,
            commission: req.commission,
            slippage: req.slippage,
            position_fraction: req.position_fraction,
            allow_short: req.allow_short,
            host_service: host,
        });
        let request = Backtest {
            symbol,
            timeframe: timeframe.to_string(),
            follow: false,
            ..req
        };
        let work = self.backtester.work(BacktestJob { local, request });
        let counters = Arc::clone(&self.counters);
        let counted: Work = Box::new(move |h| {
            Box::pin(async move {
                let outcome = work(h).await;
                job::count(&counters, &outcome);
                outcome
            })
        });
        self.registry.start(params, counted).await
    }

    /// A finished backtest's saved results, and its chart when asked.
    pub async fn show(&self, req: &BacktestShow) -> Result<Shown, WireError> {
        let rec = self.registry.get(req.id).await?;
        finished(&rec)?;
        let results = Arc::clone(&self.results);
        let (id, plot) = (req.id, req.plot);
        let shown = blocking::run("reading backtest results", move || {
            let detail = results.load(id)?;
            let chart = plot
                .map(|f| crate::backtest::chart::render(&detail, f))
                .transpose()?;
            Ok(Shown { detail, chart })
        })
        .await?;
        if shown.chart.is_some() {
            self.counters.charts.fetch_add(1, Ordering::Relaxed);
        }
        Ok(shown)
    }
}

/// The operation must be a finished backtest.
pub(crate) fn finished(rec: &OperationRecord) -> Result<(), WireError> {
    let id = rec.id;
    if rec.kind != OpKind::Backtest {
        return Err(WireError::validation(format!(
            "operation {id} is a {} operation, not a backtest",
            rec.kind
        ))
        .with_hint("`ktrdrctl ops list --kind backtest` lists the backtests"));
    }
    match rec.state {
        OpState::Completed => Ok(()),
        OpState::Pending | OpState::Running => Err(WireError::conflict(format!(
            "backtest {id} is still running"
        ))
        .with_hint(format!("`ktrdrctl ops watch {id}` follows it to the end"))),
        other => {
            let why = rec
                .error
                .as_ref()
                .map(|e| format!(": {}", e.message))
                .unwrap_or_default();
            Err(WireError::not_found(format!(
                "backtest {id} has no results: it ended {}{why}",
                other.as_str()
            )))
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
        let (mode, endpoint) = match &self.mode {
            ServiceMode::Local => ("local", format!("dir:{}", self.results.dir().display())),
            ServiceMode::HostService { url } => {
                settings.insert(
                    "host_service".into(),
                    "backtests run on that ktrdrd (its models and bars); results are copied here"
                        .into(),
                );
                ("host-service", url.clone())
            }
        };
        ServiceInfo {
            name: self.name().into(),
            mode: mode.into(),
            endpoint: Some(endpoint),
            env: Section::Backtest.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let c = &self.counters;
            let here = format!(
                "{} backtests completed, {} failed",
                c.completed.load(Ordering::Relaxed),
                c.failed.load(Ordering::Relaxed)
            );
            let (status, detail) = match self.backtester.host() {
                None => (HealthStatus::Ok, here),
                Some(host) => {
                    match tokio::time::timeout(Duration::from_secs(2), host.health("backtest"))
                        .await
                    {
                        Ok((s, d)) => (s, format!("{d}; here: {here}")),
                        Err(_) => (
                            HealthStatus::Degraded,
                            format!("backtest host {} did not answer within 2 s", host.url()),
                        ),
                    }
                }
            };
            ServiceHealth {
                name: self.name().into(),
                status,
                detail,
            }
        })
    }

    fn metrics(&self) -> &RequestMetrics {
        &self.metrics
    }

    fn export(&self, out: &mut crate::telemetry::Exporter<'_>) -> std::fmt::Result {
        let c = &self.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        out.counters(
            "backtests",
            "Backtests finished, by outcome.",
            None,
            &[
                ([("outcome", "completed")], n(&c.completed)),
                ([("outcome", "failed")], n(&c.failed)),
                ([("outcome", "cancelled")], n(&c.cancelled)),
            ],
        )?;
        out.counter(
            "backtest_bars_replayed",
            "Bars replayed by backtests.",
            None,
            n(&c.bars_replayed),
        )
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
