//! The `live` service: subscriptions kept current from IB, their followers, and model signals on
//! each closed bar.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::blocking;
use crate::config::Section;
use crate::data::DataManager;
use crate::data::input;
use crate::live::LiveManager;
use crate::live::manager::Follower;
use crate::live::signals::Signals;
use crate::training::store_error;
use ktrdr_protocol::WireError;
use ktrdr_protocol::live::{SubscriptionInfo, SubscriptionList, SubscriptionState};
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_protocol::request::{Follow, PredictFollow, Subscribe};
use ktrdr_train::ModelStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct LiveCounters {
    pub bars_followed: AtomicU64,
    pub signals: AtomicU64,
    pub fell_behind: AtomicU64,
}

pub struct LiveService {
    manager: Arc<LiveManager>,
    models: Arc<ModelStore>,
    data: Arc<DataManager>,
    torch_threads: usize,
    pub counters: LiveCounters,
    metrics: RequestMetrics,
}

impl LiveService {
    pub fn new(
        manager: Arc<LiveManager>,
        models: Arc<ModelStore>,
        data: Arc<DataManager>,
        torch_threads: usize,
    ) -> Self {
        LiveService {
            manager,
            models,
            data,
            torch_threads,
            counters: LiveCounters::default(),
            metrics: RequestMetrics::new(),
        }
    }

    /// Starts the saved subscriptions (daemon start).
    pub async fn resume(&self) {
        match self.manager.resume().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(subscriptions = n, "resumed live subscriptions"),
            Err(e) => tracing::error!(error = %e, "cannot read the saved subscriptions"),
        }
    }

    pub async fn subscribe(&self, req: Subscribe) -> Result<SubscriptionInfo, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        self.manager.subscribe(key).await
    }

    pub async fn unsubscribe(&self, req: Subscribe) -> Result<SubscriptionInfo, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        self.manager.unsubscribe(key).await
    }

    pub fn subscriptions(&self) -> SubscriptionList {
        self.manager.list()
    }

    pub async fn follow(&self, req: Follow) -> Result<Follower, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let since = since(req.since.as_deref())?;
        self.manager.follow(key, since).await
    }

    pub async fn predict_follow(&self, req: PredictFollow) -> Result<Signals, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let since = since(req.since.as_deref())?;
        let store = Arc::clone(&self.models);
        let name = req.model.clone();
        let plan = blocking::run("reading a model", move || {
            let s = store.read(&name).map_err(store_error)?;
            ktrdr_train::pipeline::model_plan(&s.listed.metadata, &s.strategy_yaml)
                .map_err(WireError::validation)
        })
        .await?;
        let base = plan.strategy.base_timeframe();
        if base != key.timeframe {
            return Err(WireError::validation(format!(
                "the model was trained on {base} bars, not {}",
                key.timeframe
            ))
            .with_hint(format!("follow {} {base}", key.symbol)));
        }
        let mut timeframes = vec![base];
        timeframes.extend(plan.timeframes.iter().copied().filter(|&t| t != base));
        let follower = self.manager.follow(key.clone(), since).await?;
        Ok(Signals::new(
            req.model,
            key,
            timeframes,
            Arc::clone(&self.models),
            Arc::clone(&self.data),
            self.torch_threads,
            follower,
        ))
    }

    /// Counts what a follower was sent, for statistics.
    pub fn followed(&self, bars: usize, signals: usize) {
        self.counters
            .bars_followed
            .fetch_add(bars as u64, Ordering::Relaxed);
        self.counters
            .signals
            .fetch_add(signals as u64, Ordering::Relaxed);
    }

    pub fn fell_behind(&self) {
        self.counters.fell_behind.fetch_add(1, Ordering::Relaxed);
    }

    pub fn shutdown(&self) {
        self.manager.shutdown();
    }
}

/// `--since`: a point in time (a plain date is its midnight).
fn since(raw: Option<&str>) -> Result<Option<i64>, WireError> {
    let Some(raw) = raw else { return Ok(None) };
    let w = input::window(Some(raw), None).map_err(|e| WireError {
        message: e.message.replace("--start", "--since"),
        ..e
    })?;
    Ok(w.start)
}

/// One line per subscription: its state and the age of its last bar.
fn describe(s: &SubscriptionInfo) -> String {
    let age = match s.last_bar_age_secs {
        Some(a) => format!("last bar stored {a:.0} s ago"),
        None => "no bar stored yet by the stream".into(),
    };
    format!("{} {} {} ({age})", s.symbol, s.timeframe, s.state)
}

impl Service for LiveService {
    fn name(&self) -> &'static str {
        "live"
    }

    fn info(&self) -> ServiceInfo {
        let mut settings = BTreeMap::new();
        settings.insert(
            "subscriptions_file".into(),
            self.manager.path().display().to_string(),
        );
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: None,
            env: Section::Live.env(),
            settings,
        }
    }

    /// Degraded while any subscription is not streaming (stalled, reconnecting, failed); the
    /// detail names each subscription with its state and the age of its last bar.
    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let subs = self.manager.infos();
            let bad = subs.iter().any(|s| {
                matches!(
                    s.state,
                    SubscriptionState::Stalled
                        | SubscriptionState::Reconnecting
                        | SubscriptionState::Failed
                )
            });
            let detail = if subs.is_empty() {
                "no subscriptions".to_string()
            } else {
                subs.iter().map(describe).collect::<Vec<_>>().join("; ")
            };
            ServiceHealth {
                name: self.name().into(),
                status: if bad {
                    HealthStatus::Degraded
                } else {
                    HealthStatus::Ok
                },
                detail,
            }
        })
    }

    fn metrics(&self) -> &RequestMetrics {
        &self.metrics
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let subs = self.manager.infos();
        let c = &self.counters;
        [
            ("subscriptions", subs.len() as u64),
            ("followers", subs.iter().map(|s| s.followers).sum()),
            ("bars_stored", subs.iter().map(|s| s.bars_stored).sum()),
            ("gap_bars", subs.iter().map(|s| s.gap_bars).sum()),
            ("stalls", subs.iter().map(|s| s.stalls).sum()),
            ("bars_followed", c.bars_followed.load(Ordering::Relaxed)),
            ("signals", c.signals.load(Ordering::Relaxed)),
            ("fell_behind", c.fell_behind.load(Ordering::Relaxed)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
