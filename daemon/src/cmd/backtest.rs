//! `backtest` (start a backtest operation) and `backtest show` (its saved results).

use super::Conn;
use crate::backtest::job::{Env, Job, Overrides};
use crate::context::Daemon;
use crate::data::input;
use crate::training::store_error;
use ktrdr_protocol::backtest::{BacktestReport, EquityChunk, PlotFormat};
use ktrdr_protocol::model::{OpState, OperationRecord};
use ktrdr_protocol::{ProtocolError, Reply, Response, WireError};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Rows per equity frame: ~2.6 MB, far under the frame cap however long the backtest.
const EQUITY_CHUNK: usize = 65_536;

pub struct BacktestArgs {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub overrides: Overrides,
    pub follow: bool,
}

pub async fn backtest(
    ctx: &Arc<Daemon>,
    a: BacktestArgs,
    conn: &mut Conn,
) -> Result<Result<Reply, WireError>, ProtocolError> {
    let follow = a.follow;
    let started = match start(ctx, a).await {
        Ok(rec) => rec,
        Err(e) => return Ok(Err(e)),
    };
    if follow {
        super::ops::watch(ctx, started.id, conn).await
    } else {
        Ok(Ok(Reply::Operation(started)))
    }
}

fn fraction(field: &str, v: Option<f64>, lo: f64, hi: f64) -> Result<(), WireError> {
    match v {
        Some(x) if !(x.is_finite() && x >= lo && x < hi) => Err(WireError::validation(format!(
            "--{field} {x} is outside [{lo}, {hi})"
        ))),
        _ => Ok(()),
    }
}

/// Everything checkable before an operation exists: inputs, the model, and that it reads this
/// timeframe.
async fn start(ctx: &Arc<Daemon>, a: BacktestArgs) -> Result<OperationRecord, WireError> {
    let symbol = input::symbol(&a.symbol)?;
    let timeframe = input::timeframe("timeframe", &a.timeframe)?;
    let window = input::window(a.start.as_deref(), a.end.as_deref())?;
    let o = &a.overrides;
    if let Some(c) = o.capital
        && !(c.is_finite() && c > 0.0)
    {
        return Err(WireError::validation(format!(
            "--capital {c} must be a positive amount"
        )));
    }
    fraction("commission", o.commission, 0.0, 0.1)?;
    fraction("slippage", o.slippage, 0.0, 0.1)?;
    if let Some(f) = o.position_fraction
        && !(f.is_finite() && f > 0.0 && f <= 1.0)
    {
        return Err(WireError::validation(format!(
            "--fraction {f} must be in (0, 1]"
        )));
    }
    let store = Arc::clone(&ctx.training.store);
    let name = a.model.clone();
    let (resolved, plan) = tokio::task::spawn_blocking(move || {
        let s = store.read(&name).map_err(store_error)?;
        let plan = ktrdr_train::pipeline::model_plan(&s.listed.metadata, &s.strategy_yaml)
            .map_err(WireError::validation)?;
        Ok::<_, WireError>((s.listed.metadata.name, plan))
    })
    .await
    .map_err(|e| WireError::internal(format!("backtest task failed: {e}")))??;
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
    let params = serde_json::json!({
        "model": resolved,
        "symbol": symbol,
        "timeframe": timeframe.to_string(),
        "start": a.start,
        "end": a.end,
        "capital": o.capital,
        "commission": o.commission,
        "slippage": o.slippage,
        "position_fraction": o.position_fraction,
        "allow_short": o.allow_short,
    })
    .to_string();
    let job = Job {
        model: resolved,
        symbol,
        timeframe,
        timeframes: plan.timeframes,
        window,
        overrides: a.overrides,
    };
    let env = Env {
        registry: Arc::clone(&ctx.operations.registry),
        torch_threads: ctx.training.config.torch_threads,
        data: Arc::clone(&ctx.data.manager),
        store: Arc::clone(&ctx.training.store),
        results: Arc::clone(&ctx.backtest.results),
        counters: Arc::clone(&ctx.backtest.counters),
    };
    let work: crate::ops::Work = Box::new(move |h| Box::pin(crate::backtest::run(job, env, h)));
    ctx.operations
        .registry
        .start("backtest", "backtest", params, work)
        .await
}

/// The operation must be a finished backtest.
fn finished(rec: &OperationRecord) -> Result<(), WireError> {
    let id = rec.id;
    if rec.kind != "backtest" {
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

pub async fn show(
    ctx: &Arc<Daemon>,
    id: u64,
    trades: bool,
    equity: bool,
    plot: Option<PlotFormat>,
    conn: &mut Conn,
) -> Result<Result<Reply, WireError>, ProtocolError> {
    let rec = match ctx.operations.registry.get(id).await {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = finished(&rec) {
        return Ok(Err(e));
    }
    let results = Arc::clone(&ctx.backtest.results);
    let loaded = tokio::task::spawn_blocking(move || {
        let detail = results.load(id)?;
        let chart = plot
            .map(|f| crate::backtest::chart::render(&detail, f))
            .transpose()?;
        Ok::<_, WireError>((detail, chart))
    })
    .await
    .map_err(|e| WireError::internal(format!("backtest task failed: {e}")));
    let (detail, chart) = match loaded {
        Ok(Ok(v)) => v,
        Ok(Err(e)) | Err(e) => return Ok(Err(e)),
    };
    if chart.is_some() {
        ctx.backtest.counters.charts.fetch_add(1, Ordering::Relaxed);
    }
    if equity {
        let n = detail.ts.len();
        let mut at = 0;
        while at < n {
            let end = (at + EQUITY_CHUNK).min(n);
            conn.write(&Response::Equity(EquityChunk {
                ts: detail.ts[at..end].to_vec(),
                close: detail.close[at..end].to_vec(),
                equity: detail.equity[at..end].to_vec(),
                buy_hold: detail.buy_hold[at..end].to_vec(),
            }))
            .await?;
            at = end;
        }
    }
    Ok(Ok(Reply::Backtest(Box::new(BacktestReport {
        summary: detail.summary,
        trades: trades.then_some(detail.trades),
        plot: chart,
    }))))
}
