//! One cell's work: train the cell's strategy on its train window (a checkpoint after every
//! epoch; a checkpoint left by an earlier run is continued, never restarted), backtest the model
//! on the out-of-sample window that follows, and write the result. The same code runs in this
//! daemon (the local executor) and in `ktrdrd job run` (a Slurm task); only how progress is
//! reported and how cancellation is asked differ.

use super::layout::CellDir;
use crate::backtest::job::{self as backtest, Overrides};
use crate::data::DataManager;
use crate::data::input::Window;
use crate::training;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::Progress;
use ktrdr_protocol::stored_model::Metrics;
use ktrdr_protocol::sweep::{CellMetrics, CellResult, CellSpec};
use ktrdr_train::ModelStore;
use ktrdr_train::checkpoint::CheckpointSpec;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// The backtest settings a sweep file may give; everything else is the engine's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    pub capital: Option<f64>,
    pub commission: Option<f64>,
    pub slippage: Option<f64>,
    pub position_fraction: Option<f64>,
    pub allow_short: bool,
}

impl Costs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            capital: self.capital,
            commission: self.commission,
            slippage: self.slippage,
            position_fraction: self.position_fraction,
            allow_short: self.allow_short,
        }
    }
}

/// Everything one cell needs; also what a Slurm task's `spec.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellJob {
    pub sweep: u64,
    pub cell: CellSpec,
    pub label: String,
    /// The base strategy with the cell's overrides, named for this cell alone (its model's
    /// directory in the store), so no two cells ever race for one model name.
    pub strategy_yaml: String,
    pub costs: Costs,
    /// `cpu`, `cuda`, `cuda:N` or `auto`.
    pub device: String,
    pub threads: usize,
}

/// Reports progress.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;
/// Tells whether the cell should stop.
pub type CancelFn = Arc<dyn Fn() -> bool + Send + Sync>;

/// Share of a cell's progress bar its training takes; the backtest takes the rest.
const TRAIN_SHARE: f64 = 85.0;

/// The name a sweep's cell saves its model under.
pub fn strategy_name(sweep_name: &str, sweep: u64, cell: u32) -> String {
    format!("{sweep_name}-{sweep}-c{cell}")
}

/// Runs the cell unless its result is already there; returns the result, written to `dir`.
pub async fn run(
    job: &CellJob,
    dir: &CellDir,
    data: &Arc<DataManager>,
    store: &Arc<ModelStore>,
    progress: ProgressFn,
    cancelled: CancelFn,
    ran_on: String,
) -> Result<CellResult, WireError> {
    if let Some(done) = dir.result()? {
        return Ok(done);
    }
    dir.create()?;
    let c = &job.cell;
    let (yaml, symbol, tf) = (
        job.strategy_yaml.clone(),
        c.symbol.clone(),
        c.timeframe.clone(),
    );
    let plan = crate::blocking::run("strategy planning", move || {
        ktrdr_train::plan(&yaml, Some(vec![symbol]), Some(vec![tf])).map_err(WireError::validation)
    })
    .await?;
    let device = ktrdr_train::device::resolve(Some(&job.device)).map_err(WireError::validation)?;
    let name = plan.strategy.name().to_string();

    // A model saved by an earlier run that stopped before writing the result: only the
    // backtest is left to do.
    let existing = {
        let (store, name) = (Arc::clone(store), name.clone());
        // Only "no such model" means "not trained yet": a model that cannot be read is an
        // error, never a reason to train the cell again under a second version.
        crate::blocking::run("reading a model", move || match store.read(&name) {
            Ok(s) => Ok(Some(s)),
            Err(ktrdr_train::store::StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(training::store_error(e)),
        })
        .await?
    };
    let started = Instant::now();
    let (model, epochs_run, resumed_from_epoch, test_accuracy, train_secs) = match existing {
        Some(s) => {
            let metrics: Metrics = serde_json::from_str(&s.metrics_json).map_err(|e| {
                WireError::internal(format!(
                    "{}/metrics.json is damaged: {e}",
                    s.listed.dir.display()
                ))
            })?;
            tracing::info!(
                cell = c.index,
                model = %s.listed.metadata.name,
                "the cell's model was saved by an earlier run; backtesting it"
            );
            (
                s.listed.metadata.name.clone(),
                metrics.epochs_run as u32,
                Some(metrics.epochs_run as u32),
                s.listed.metadata.test_accuracy,
                s.listed.metadata.train_secs,
            )
        }
        None => {
            progress(Progress {
                message: "loading bars".into(),
                ..Progress::default()
            });
            let window = Window {
                start: Some(c.train.start_ms),
                end: Some(c.train.end_ms),
            };
            let bars = training::load_bars(data, &plan.symbols, &plan, window).await?;
            let spec = CheckpointSpec {
                path: dir.checkpoint(),
                fingerprint: training::fingerprint(&plan, &bars),
            };
            let p = Arc::clone(&progress);
            let label = format!(
                "cell {} ({} {} window {})",
                c.index, c.symbol, c.timeframe, c.window
            );
            let out = training::train_on_thread(
                training::ThreadJob {
                    plan: plan.clone(),
                    bars,
                    device,
                    threads: job.threads,
                    store: Arc::clone(store),
                    checkpoint: Some(spec),
                    name: format!("cell-{}-{}", job.sweep, c.index),
                },
                move |t: &ktrdr_train::Progress| {
                    p(Progress {
                        percent: (t.fraction * TRAIN_SHARE).clamp(0.0, TRAIN_SHARE),
                        step: t.epoch as u64,
                        steps: t.epochs as u64,
                        message: format!(
                            "{label}: epoch {}/{}, loss {:.4}",
                            t.epoch, t.epochs, t.train_loss
                        ),
                        items: t.batch as u64,
                        eta_secs: None,
                    })
                },
                {
                    let c = Arc::clone(&cancelled);
                    move || c()
                },
            )
            .await
            .map_err(training::train_error)?;
            if let Some(e) = out.resumed_from_epoch {
                tracing::info!(
                    cell = c.index,
                    epoch = e,
                    "the cell resumed from its checkpoint"
                );
            }
            (
                out.metadata.name.clone(),
                out.metrics.epochs_run as u32,
                out.resumed_from_epoch.map(|e| e as u32),
                out.metadata.test_accuracy,
                out.metadata.train_secs,
            )
        }
    };
    let bt = backtest::Job {
        model: model.clone(),
        symbol: c.symbol.clone(),
        timeframe: plan.strategy.base_timeframe(),
        timeframes: plan.timeframes.clone(),
        window: Window {
            start: Some(c.test.start_ms),
            end: Some(c.test.end_ms),
        },
        overrides: job.costs.overrides(),
    };
    let p = Arc::clone(&progress);
    let detail = backtest::replay_detail(
        &bt,
        data,
        store,
        job.threads,
        job.sweep,
        Arc::new(move |pct, msg| {
            p(Progress {
                percent: TRAIN_SHARE + pct * (100.0 - TRAIN_SHARE) / 100.0,
                message: format!("backtest: {msg}"),
                ..Progress::default()
            })
        }),
        cancelled,
    )
    .await?;
    let s = &detail.summary;
    let m = &s.metrics;
    let result = CellResult {
        model,
        epochs_run,
        resumed_from_epoch,
        test_accuracy,
        train_secs,
        backtest_bars: s.bars,
        metrics: CellMetrics {
            total_return: m.total_return,
            sharpe: m.sharpe,
            calmar: m.calmar,
            max_drawdown: m.max_drawdown,
            trades: m.trades as u64,
            win_rate: m.win_rate,
            buy_hold_return: s.buy_hold.total_return,
        },
        ran_on,
    };
    dir.write_result(&result)?;
    training::remove_checkpoint(&dir.checkpoint());
    tracing::info!(
        cell = c.index,
        secs = started.elapsed().as_secs_f64(),
        total_return = m.total_return,
        "cell done"
    );
    Ok(result)
}
