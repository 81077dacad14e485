//! `train`, `models list|show|delete`, `predict`.

use super::Conn;
use crate::context::Daemon;
use crate::data::input::{self, SeriesKey};
use crate::training::{self, Job, model_info, store_error};
use ktrdr_protocol::model::{ModelBundle, ModelDetail, ModelList, PredictionReport};
use ktrdr_protocol::{ProtocolError, Reply, Request, WireError};
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub struct TrainArgs {
    pub strategy_yaml: String,
    pub strategy_path: String,
    pub symbols: Option<Vec<String>>,
    pub timeframes: Option<Vec<String>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub device: Option<String>,
    pub follow: bool,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WireError> + Send + 'static,
) -> Result<T, WireError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WireError::internal(format!("training task failed: {e}")))?
}

pub async fn train(
    ctx: &Arc<Daemon>,
    a: TrainArgs,
    conn: &mut Conn,
) -> Result<Result<Reply, WireError>, ProtocolError> {
    let started = match start(ctx, a.clone_without_follow()).await {
        Ok(rec) => rec,
        Err(e) => return Ok(Err(e)),
    };
    if a.follow {
        super::ops::watch(ctx, started.id, conn).await
    } else {
        Ok(Ok(Reply::Operation(started)))
    }
}

impl TrainArgs {
    fn clone_without_follow(&self) -> TrainArgs {
        TrainArgs {
            strategy_yaml: self.strategy_yaml.clone(),
            strategy_path: self.strategy_path.clone(),
            symbols: self.symbols.clone(),
            timeframes: self.timeframes.clone(),
            start: self.start.clone(),
            end: self.end.clone(),
            device: self.device.clone(),
            follow: false,
        }
    }
}

/// Validates everything that can be checked at once (strategy, symbols, window, device), so a bad
/// request fails before any operation exists.
async fn start(
    ctx: &Arc<Daemon>,
    a: TrainArgs,
) -> Result<ktrdr_protocol::model::OperationRecord, WireError> {
    let svc = &ctx.training;
    let symbols = a
        .symbols
        .map(|v| {
            v.iter()
                .map(|s| input::symbol(s))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let window = input::window(a.start.as_deref(), a.end.as_deref())?;
    let yaml = a.strategy_yaml;
    let timeframes = a.timeframes;
    let plan = blocking(move || {
        ktrdr_train::plan(&yaml, symbols, timeframes).map_err(|e| {
            WireError::validation(e)
                .with_hint("`ktrdrctl strategies show FILE` explains every problem")
        })
    })
    .await?;
    if let Some(host) = &svc.host {
        // The training host resolves the device (it is the one with the GPU) and loads the bars.
        let params = serde_json::json!({
            "strategy": plan.strategy.name(),
            "file": a.strategy_path,
            "symbols": plan.symbols,
            "timeframes": plan.timeframes.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
            "start": a.start,
            "end": a.end,
            "device": a.device,
            "host_service": host.url(),
        })
        .to_string();
        let req = Request::Train {
            strategy_yaml: plan.yaml.clone(),
            strategy_path: a.strategy_path,
            symbols: Some(plan.symbols.clone()),
            timeframes: Some(plan.timeframes.iter().map(|t| t.to_string()).collect()),
            start: a.start,
            end: a.end,
            device: a.device,
            follow: false,
        };
        let (host, store, counters) = (
            Arc::clone(host),
            Arc::clone(&svc.store),
            Arc::clone(&svc.counters),
        );
        let work: crate::ops::Work =
            Box::new(move |h| Box::pin(async move { host.train(req, store, counters, h).await }));
        return ctx
            .operations
            .registry
            .start("training", "training", params, work)
            .await;
    }
    let requested = a.device.unwrap_or_else(|| svc.config.device.clone());
    let device = ktrdr_train::device::resolve(Some(&requested)).map_err(WireError::validation)?;
    let params = serde_json::json!({
        "strategy": plan.strategy.name(),
        "file": a.strategy_path,
        "symbols": plan.symbols,
        "timeframes": plan.timeframes.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        "start": a.start,
        "end": a.end,
        "device": ktrdr_train::device::name(device),
    })
    .to_string();
    let job = Job {
        plan,
        device,
        window,
        threads: svc.config.torch_threads,
    };
    let (data, store, counters) = (
        Arc::clone(&ctx.data.manager),
        Arc::clone(&svc.store),
        Arc::clone(&svc.counters),
    );
    let work: crate::ops::Work =
        Box::new(move |h| Box::pin(training::run(job, data, store, counters, h)));
    ctx.operations
        .registry
        .start("training", "training", params, work)
        .await
}

pub async fn list(ctx: &Daemon) -> Result<Reply, WireError> {
    let store = Arc::clone(&ctx.training.store);
    blocking(move || {
        Ok(Reply::Models(ModelList {
            dir: store.root().display().to_string(),
            models: store.list().iter().map(model_info).collect(),
        }))
    })
    .await
}

pub async fn show(ctx: &Daemon, name: String) -> Result<Reply, WireError> {
    let store = Arc::clone(&ctx.training.store);
    blocking(move || {
        let s = store.read(&name).map_err(store_error)?;
        Ok(Reply::Model(ModelDetail {
            info: model_info(&s.listed),
            features: s.features,
            metadata_json: serde_json::to_string(&s.listed.metadata)
                .map_err(|e| WireError::internal(e.to_string()))?,
            metrics_json: s.metrics_json,
        }))
    })
    .await
}

pub async fn delete(ctx: &Daemon, name: String) -> Result<Reply, WireError> {
    let store = Arc::clone(&ctx.training.store);
    blocking(move || {
        let dir = store.resolve(&name).map_err(store_error)?;
        let meta = store.delete(&name).map_err(store_error)?;
        Ok(Reply::ModelDeleted(model_info(
            &ktrdr_train::store::Listed {
                metadata: meta,
                latest: false,
                dir,
            },
        )))
    })
    .await
}

pub async fn predict(
    ctx: &Daemon,
    model: String,
    symbol: &str,
    timeframe: &str,
    at: Option<&str>,
) -> Result<Reply, WireError> {
    let svc = &ctx.training;
    let symbol = input::symbol(symbol)?;
    let tf = input::timeframe("timeframe", timeframe)?;
    // The last bar at or before `at`; a plain date means the whole of that day.
    let at = match at {
        None => None,
        Some(raw) => {
            let w = |s: Option<&str>, e: Option<&str>| {
                input::window(s, e).map_err(|err| WireError {
                    message: err
                        .message
                        .replace("--start", "--at")
                        .replace("--end", "--at"),
                    ..err
                })
            };
            let start = w(Some(raw), None)?.start;
            let end = w(None, Some(raw))?.end;
            match (start, end) {
                (Some(s), Some(e)) if e > s => Some(e - 1),
                (s, _) => s,
            }
        }
    };
    let store = Arc::clone(&svc.store);
    let name = model.clone();
    let plan = blocking(move || {
        let s = store.read(&name).map_err(store_error)?;
        ktrdr_train::pipeline::model_plan(&s.listed.metadata, &s.strategy_yaml)
            .map_err(WireError::validation)
    })
    .await?;
    if plan.strategy.base_timeframe() != tf {
        return Err(WireError::validation(format!(
            "the model was trained on {} bars, not {tf}",
            plan.strategy.base_timeframe()
        )));
    }
    let window = input::Window::default();
    let mut series = Vec::new();
    for &t in &plan.timeframes {
        let key = SeriesKey {
            symbol: symbol.clone(),
            timeframe: t,
        };
        let (bars, _) = ctx.data.manager.window(&key, window).await?;
        series.push((t, bars));
    }
    let store = Arc::clone(&svc.store);
    let sym = symbol.clone();
    let threads = svc.config.torch_threads;
    let p = blocking(move || {
        ktrdr_train::device::set_threads(threads);
        ktrdr_train::predict(&store, &model, &sym, &series, at).map_err(|e| match e {
            ktrdr_train::pipeline::PredictError::Store(s) => store_error(s),
            ktrdr_train::pipeline::PredictError::Invalid(m) => WireError::validation(m),
        })
    })
    .await?;
    svc.counters.predictions.fetch_add(1, Ordering::Relaxed);
    Ok(Reply::Prediction(PredictionReport {
        model: p.model,
        symbol: p.symbol,
        timeframe: p.timeframe,
        bar_ms: p.bar_ms,
        signal: p.signal.to_string(),
        confidence: p.confidence,
        probabilities: p.probabilities.to_vec(),
        confidence_threshold: p.confidence_threshold,
    }))
}

/// A model's files, for a daemon that delegates its trainings here.
pub async fn export(ctx: &Daemon, name: String) -> Result<Reply, WireError> {
    let store = Arc::clone(&ctx.training.store);
    blocking(move || {
        let b = store.export(&name).map_err(store_error)?;
        let metadata_json =
            serde_json::to_string(&b.metadata).map_err(|e| WireError::internal(e.to_string()))?;
        Ok(Reply::ModelBundle(Box::new(ModelBundle {
            metadata_json,
            weights: b.weights,
            strategy_yaml: b.strategy_yaml,
            features: b.features,
            metrics_json: b.metrics_json,
        })))
    })
    .await
}
