//! One backtest operation: load, score, replay, save.

use super::results::{Detail, Results};
use crate::data::DataManager;
use crate::data::input::{SeriesKey, Window};
use crate::ops::OpHandle;
use crate::training::store_error;
use ktrdr_backtest::{Config, Prices, engine, metrics::periods_per_year};
use ktrdr_market::{Bars, Timeframe};
use ktrdr_protocol::WireError;
use ktrdr_protocol::backtest::{BacktestSummary, BuyHoldSummary};
use ktrdr_protocol::model::Progress;
use ktrdr_protocol::operation::OpResult;
use ktrdr_train::ModelStore;
use ktrdr_train::pipeline::PredictError;
use ktrdr_train::score::{ScoreError, score};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

/// What the user may override; everything else comes from the strategy and the engine's defaults.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub capital: Option<f64>,
    pub commission: Option<f64>,
    pub slippage: Option<f64>,
    pub position_fraction: Option<f64>,
    pub allow_short: bool,
}

impl Overrides {
    /// The engine's defaults with these overrides applied; the strategy's decision rules and the
    /// measured bars per year are filled in by the replay.
    pub fn apply(&self) -> Config {
        let d = Config::default();
        Config {
            capital: self.capital.unwrap_or(d.capital),
            commission: self.commission.unwrap_or(d.commission),
            slippage: self.slippage.unwrap_or(d.slippage),
            position_fraction: self.position_fraction.unwrap_or(d.position_fraction),
            allow_short: self.allow_short,
            ..d
        }
    }

    /// Checked by the engine's own rules (one place for the limits), before an operation exists;
    /// the error names the flag the user typed.
    pub fn validate(&self) -> Result<(), WireError> {
        self.apply().validate().map_err(|e| match e {
            ktrdr_backtest::config::ConfigError::Invalid { field, message } => {
                let flag = match field {
                    "position_fraction" => "fraction",
                    f => f,
                };
                WireError::validation(format!("--{flag} {message}"))
            }
            other => WireError::validation(other.to_string()),
        })
    }
}

#[derive(Default)]
pub struct BacktestCounters {
    pub completed: AtomicU64,
    pub failed: AtomicU64,
    pub cancelled: AtomicU64,
    pub bars_replayed: AtomicU64,
    pub trades: AtomicU64,
    pub charts: AtomicU64,
}

pub struct Job {
    pub model: String,
    pub symbol: String,
    pub timeframe: Timeframe,
    /// Every timeframe the model's strategy reads, the base first.
    pub timeframes: Vec<Timeframe>,
    pub window: Window,
    pub overrides: Overrides,
}

pub struct Env {
    /// To drop the results of backtests whose records the registry has pruned.
    pub registry: Arc<crate::ops::Registry>,
    /// Torch intra-op threads for scoring (`training.torch_threads`).
    pub torch_threads: usize,
    pub data: Arc<DataManager>,
    pub store: Arc<ModelStore>,
    pub results: Arc<Results>,
    pub counters: Arc<BacktestCounters>,
}

fn step(h: &OpHandle, percent: f64, message: impl Into<String>) {
    h.progress(Progress {
        percent,
        message: message.into(),
        ..Progress::default()
    });
}

/// Result files live as long as their operation records: once `operations.keep_finished` has
/// pruned a record, `backtest show` cannot name it, so its file would only fill the disk.
async fn prune(env: &Env) {
    let results = Arc::clone(&env.results);
    let Ok(ids) = tokio::task::spawn_blocking(move || results.ids()).await else {
        return;
    };
    let mut gone = Vec::new();
    for id in ids {
        if let Err(e) = env.registry.get(id).await
            && e.kind == ktrdr_protocol::ErrorKind::NotFound
        {
            gone.push(id);
        }
    }
    if gone.is_empty() {
        return;
    }
    let results = Arc::clone(&env.results);
    let removed = tokio::task::spawn_blocking(move || {
        gone.into_iter().filter(|&id| results.remove(id)).count()
    })
    .await
    .unwrap_or(0);
    tracing::debug!(removed, "removed the results of pruned backtests");
}

/// Counts a backtest's outcome, whichever way it ran.
pub fn count(c: &BacktestCounters, outcome: &Result<OpResult, WireError>) {
    let n = match outcome {
        Ok(_) => &c.completed,
        Err(e) if e.kind == ktrdr_protocol::ErrorKind::Cancelled => &c.cancelled,
        Err(_) => &c.failed,
    };
    n.fetch_add(1, Ordering::Relaxed);
}

/// Saves a backtest's results (its summary's id is this daemon's operation), drops those of
/// pruned operations, and counts what was replayed.
pub async fn keep(env: &Env, detail: Detail) -> Result<BacktestSummary, WireError> {
    let summary = detail.summary.clone();
    let results = Arc::clone(&env.results);
    tokio::task::spawn_blocking(move || results.save(&detail))
        .await
        .map_err(|e| WireError::internal(format!("backtest save failed: {e}")))??;
    prune(env).await;
    env.counters
        .bars_replayed
        .fetch_add(summary.bars, Ordering::Relaxed);
    env.counters
        .trades
        .fetch_add(summary.metrics.trades as u64, Ordering::Relaxed);
    Ok(summary)
}

pub async fn replay(job: Job, env: &Env, h: &OpHandle) -> Result<OpResult, WireError> {
    let (hp, hc) = (h.clone(), h.clone());
    let detail = replay_detail(
        &job,
        &env.data,
        &env.store,
        env.torch_threads,
        h.id(),
        Arc::new(move |pct, msg| step(&hp, pct, msg)),
        Arc::new(move || hc.is_cancelled()),
    )
    .await?;
    h.check()?;
    step(h, 90.0, "saving results");
    Ok(OpResult::Backtest(Box::new(keep(env, detail).await?)))
}

/// Reports a percentage and a message.
pub type StepFn = Arc<dyn Fn(f64, String) + Send + Sync>;
/// Tells whether the work should stop.
pub type CancelFn = Arc<dyn Fn() -> bool + Send + Sync>;

fn check(cancelled: &CancelFn) -> Result<(), WireError> {
    if cancelled() {
        Err(WireError::cancelled("cancelled by request"))
    } else {
        Ok(())
    }
}

/// The replay itself, without an operation: progress and cancellation go through closures, so a
/// sweep's cells (in this daemon or in a Slurm worker, which has no registry) run the same code.
/// `id` becomes the summary's id.
pub async fn replay_detail(
    job: &Job,
    data: &Arc<DataManager>,
    store: &Arc<ModelStore>,
    threads: usize,
    id: u64,
    progress: StepFn,
    cancelled: CancelFn,
) -> Result<Detail, WireError> {
    let h = (progress, cancelled);
    (h.0)(0.0, "loading bars".into());
    // Everything up to the end: bars before the start warm the indicators up; bars after the end
    // are never loaded, so no feature can see them.
    let upto = Window {
        start: None,
        end: job.window.end,
    };
    let mut series = Vec::with_capacity(job.timeframes.len());
    for &tf in &job.timeframes {
        let key = SeriesKey {
            symbol: job.symbol.clone(),
            timeframe: tf,
        };
        let (bars, range) = data.window(&key, upto).await.map_err(|e| {
            if e.kind == ktrdr_protocol::ErrorKind::NotFound {
                e.with_hint(format!(
                    "the model's strategy needs {tf} bars of {}: import or load them first",
                    job.symbol
                ))
            } else {
                e
            }
        })?;
        let bars: Arc<Bars> = if range == (0..bars.len()) {
            bars
        } else {
            Arc::new(bars.slice(range))
        };
        series.push((tf, bars));
    }
    let base = Arc::clone(&series[0].1);
    let first = match job.window.start {
        Some(s) => base.ts().partition_point(|&t| t < s),
        None => 0,
    };
    if first >= base.len() {
        return Err(WireError::validation(format!(
            "no {} {} bars in the requested range",
            job.symbol, job.timeframe
        ))
        .with_hint(format!(
            "`ktrdrctl data range {} {}` shows what is stored",
            job.symbol, job.timeframe
        )));
    }
    check(&h.1)?;
    (h.0)(10.0, "computing features and model probabilities".into());
    let (store, model, symbol) = (Arc::clone(store), job.model.clone(), job.symbol.clone());
    let (hp, hc) = (Arc::clone(&h.0), Arc::clone(&h.1));
    let runtime = tokio::runtime::Handle::current();
    let scored = tokio::task::spawn_blocking(move || {
        let _rt = runtime.enter();
        ktrdr_train::device::set_threads(threads);
        let mut progress = |done: usize, total: usize| {
            let pct = 10.0 + 70.0 * done as f64 / total.max(1) as f64;
            hp(pct, format!("scored {done}/{total} bars"));
        };
        score(&store, &model, &symbol, &series, &mut progress, &|| hc())
    })
    .await
    .map_err(|e| WireError::internal(format!("backtest task failed: {e}")))?
    .map_err(|e| match e {
        ScoreError::Cancelled => WireError::cancelled("cancelled while scoring; nothing saved"),
        ScoreError::Predict(PredictError::Store(s)) => store_error(s),
        ScoreError::Predict(PredictError::Invalid(m)) => WireError::validation(m),
    })?;
    check(&h.1)?;
    (h.0)(80.0, "replaying".into());
    let ts = &base.ts()[first..];
    let cfg = Config {
        confidence_threshold: scored.rules.confidence_threshold,
        position_awareness: scored.rules.position_awareness,
        min_signal_separation: scored.rules.min_signal_separation,
        periods_per_year: periods_per_year(ts, job.timeframe.duration_ms()),
        ..job.overrides.apply()
    };
    let prices = Prices {
        ts,
        open: &base.open()[first..],
        high: &base.high()[first..],
        low: &base.low()[first..],
        close: &base.close()[first..],
    };
    let probs = &scored.probs[first..];
    let outcome =
        engine::run(prices, probs, &cfg).map_err(|e| WireError::validation(e.to_string()))?;
    let mut warnings = Vec::new();
    let meta = &scored.metadata;
    if let (Some(a), Some(b)) = (meta.data_first_ms, meta.data_last_ms)
        && ts[0] <= b
        && *ts.last().unwrap_or(&ts[0]) >= a
    {
        warnings.push(format!(
            "the range overlaps the bars the model was trained, validated and tested on ({} to {}): these results are in-sample",
            ktrdr_market::time::format_ms(a),
            ktrdr_market::time::format_ms(b)
        ));
    }
    let warm = scored
        .first_defined
        .map_or(ts.len(), |f| f.saturating_sub(first).min(ts.len()));
    if warm > 0 {
        warnings.push(format!(
            "the first {warm} bars had indicators still warming up and were held"
        ));
    }
    let m = &outcome.metrics;
    let bh = &outcome.buy_hold;
    let summary = BacktestSummary {
        id,
        model: meta.name.clone(),
        symbol: job.symbol.clone(),
        timeframe: job.timeframe.to_string(),
        first_ms: ts[0],
        last_ms: ts[ts.len() - 1],
        bars: ts.len() as u64,
        config: cfg,
        metrics: m.clone(),
        buy_hold: BuyHoldSummary {
            total_return: bh.total_return,
            annual_return: bh.annual_return,
            volatility: bh.volatility,
            sharpe: bh.sharpe,
            max_drawdown: bh.max_drawdown,
            end_equity: bh.equity.last().copied().unwrap_or(0.0),
        },
        actions: outcome.actions.map(|a| a as u64),
        acted: outcome.acted as u64,
        warnings,
        host_service: None,
        host_operation: None,
    };
    Ok(Detail {
        summary,
        ts: ts.to_vec(),
        close: prices.close.to_vec(),
        equity: outcome.equity,
        buy_hold: outcome.buy_hold.equity,
        trades: outcome.trades,
    })
}
