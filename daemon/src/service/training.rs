//! The `training` service: models trained as `training` operations, the model store and
//! predictions. The adapter is local torch (CPU, or CUDA when present), or a training host
//! (`USE_TRAINING_HOST_SERVICE`: another ktrdrd that trains, the model copied back here).

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::blocking;
use crate::config::{Section, ServiceMode, TrainingConfig};
use crate::data::DataManager;
use crate::data::input::{self, SeriesKey};
use crate::host::Adapter;
use crate::ops::{Registry, Work};
use crate::training::host::{TrainJob, Trainer};
use crate::training::{self, Job, TrainingCounters, model_info, store_error};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{
    HealthStatus, ModelBundle, ModelDetail, ModelInfo, ModelList, OperationRecord,
    PredictionReport, ServiceHealth, ServiceInfo,
};
use ktrdr_protocol::operation::{OpParams, TrainingParams};
use ktrdr_protocol::request::{ModelRef, Predict, Train};
use ktrdr_train::ModelStore;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub struct TrainingService {
    /// Trainings, here or on a training host; models, predictions and backtests stay here.
    trainer: Adapter<Trainer>,
    store: Arc<ModelStore>,
    data: Arc<DataManager>,
    registry: Arc<Registry>,
    pub config: TrainingConfig,
    pub counters: Arc<TrainingCounters>,
    metrics: RequestMetrics,
    /// Where trainings checkpoint (`<state_dir>/checkpoints`).
    checkpoints: std::path::PathBuf,
}

impl TrainingService {
    pub fn new(
        store: Arc<ModelStore>,
        config: TrainingConfig,
        data: Arc<DataManager>,
        registry: Arc<Registry>,
        checkpoints: std::path::PathBuf,
    ) -> Self {
        let counters = Arc::new(TrainingCounters::default());
        let trainer = Adapter::new(
            Arc::new(Trainer {
                data: Arc::clone(&data),
                store: Arc::clone(&store),
                counters: Arc::clone(&counters),
            }),
            &config.mode,
            "training host",
            Duration::from_secs(10),
        );
        TrainingService {
            trainer,
            store,
            data,
            registry,
            config,
            counters,
            metrics: RequestMetrics::new(),
            checkpoints,
        }
    }

    /// The model store, for the sweeps whose cells save models here.
    pub fn store(&self) -> &Arc<ModelStore> {
        &self.store
    }

    /// Starts a `training` operation, here or on the training host. Everything that can be
    /// checked at once (strategy, symbols, window, device) is, so a bad request fails before any
    /// operation exists.
    pub async fn train(&self, req: Train) -> Result<OperationRecord, WireError> {
        let (params, work) = self.prepare(req).await?;
        self.registry.start(OpParams::Training(params), work).await
    }

    /// Continues an interrupted training under its own id, from its last checkpoint.
    pub async fn resume(&self, rec: OperationRecord) -> Result<OperationRecord, WireError> {
        let OpParams::Training(p) = rec.params else {
            return Err(WireError::internal("not a training"));
        };
        if let Some(host) = &p.host_service {
            return Err(WireError::conflict(format!(
                "operation {} ran on the training host {host}; resume it there",
                rec.id
            )));
        }
        let Some(strategy_yaml) = p.strategy_yaml else {
            return Err(WireError::conflict(format!(
                "operation {} was recorded before trainings kept their strategy; start it again",
                rec.id
            )));
        };
        let (_, work) = self
            .prepare(Train {
                strategy_yaml,
                strategy_path: p.file,
                symbols: Some(p.symbols),
                timeframes: Some(p.timeframes),
                start: p.start,
                end: p.end,
                device: p.device,
                follow: false,
            })
            .await?;
        self.registry.resume(rec.id, work).await
    }

    async fn prepare(&self, req: Train) -> Result<(TrainingParams, Work), WireError> {
        let symbols = req
            .symbols
            .as_ref()
            .map(|v| {
                v.iter()
                    .map(|s| input::symbol(s))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let window = input::window(req.start.as_deref(), req.end.as_deref())?;
        let (yaml, timeframes) = (req.strategy_yaml.clone(), req.timeframes.clone());
        let plan = blocking::run("strategy planning", move || {
            ktrdr_train::plan(&yaml, symbols, timeframes).map_err(|e| {
                WireError::validation(e)
                    .with_hint("`ktrdrctl strategies show FILE` explains every problem")
            })
        })
        .await?;
        let mut params = TrainingParams {
            strategy: plan.strategy.name().to_string(),
            file: req.strategy_path.clone(),
            symbols: plan.symbols.clone(),
            timeframes: plan.timeframes.iter().map(|t| t.to_string()).collect(),
            start: req.start.clone(),
            end: req.end.clone(),
            device: req.device.clone(),
            host_service: self.trainer.host().map(|h| h.url()),
            strategy_yaml: Some(plan.yaml.clone()),
        };
        // The host resolves the device itself (it is the one with the GPU) and loads the bars.
        let request = Train {
            strategy_yaml: plan.yaml.clone(),
            symbols: Some(params.symbols.clone()),
            timeframes: Some(params.timeframes.clone()),
            follow: false,
            ..req
        };
        let local = if self.trainer.host().is_some() {
            None
        } else {
            let requested = request
                .device
                .clone()
                .unwrap_or_else(|| self.config.device.clone());
            let device =
                ktrdr_train::device::resolve(Some(&requested)).map_err(WireError::validation)?;
            params.device = Some(ktrdr_train::device::name(device));
            Some(Job {
                plan,
                device,
                window,
                threads: self.config.torch_threads,
                checkpoints: Some(self.checkpoints.clone()),
            })
        };
        let work = self.trainer.work(TrainJob { local, request });
        let counters = Arc::clone(&self.counters);
        let counted: Work = Box::new(move |h| {
            Box::pin(async move {
                let outcome = work(h).await;
                training::count(&counters, &outcome);
                outcome
            })
        });
        Ok((params, counted))
    }

    pub async fn list(&self) -> Result<ModelList, WireError> {
        let store = Arc::clone(&self.store);
        blocking::run("listing models", move || {
            Ok(ModelList {
                dir: store.root().display().to_string(),
                models: store.list().iter().map(model_info).collect(),
            })
        })
        .await
    }

    pub async fn show(&self, req: ModelRef) -> Result<ModelDetail, WireError> {
        let store = Arc::clone(&self.store);
        blocking::run("reading a model", move || {
            let s = store.read(&req.name).map_err(store_error)?;
            let metrics = serde_json::from_str(&s.metrics_json).map_err(|e| {
                WireError::internal(format!(
                    "{}/metrics.json is damaged: {e}",
                    s.listed.dir.display()
                ))
                .with_hint("retrain the model, or delete it with `ktrdrctl models delete`")
            })?;
            Ok(ModelDetail {
                info: model_info(&s.listed),
                features: s.features,
                metadata: s.listed.metadata,
                metrics,
            })
        })
        .await
    }

    pub async fn delete(&self, req: ModelRef) -> Result<ModelInfo, WireError> {
        let store = Arc::clone(&self.store);
        blocking::run("deleting a model", move || {
            let dir = store.resolve(&req.name).map_err(store_error)?;
            let meta = store.delete(&req.name).map_err(store_error)?;
            Ok(model_info(&ktrdr_train::store::Listed {
                metadata: meta,
                latest: false,
                dir,
            }))
        })
        .await
    }

    /// A model's files, for a daemon that delegates its trainings here.
    pub async fn export(&self, req: ModelRef) -> Result<ModelBundle, WireError> {
        let store = Arc::clone(&self.store);
        blocking::run("exporting a model", move || {
            let b = store.export(&req.name).map_err(store_error)?;
            Ok(ModelBundle {
                metadata: b.metadata,
                weights: b.weights,
                strategy_yaml: b.strategy_yaml,
                features: b.features,
                metrics_json: b.metrics_json,
            })
        })
        .await
    }

    /// The model's signal at the last bar at or before `at` (a plain date: the whole of that day).
    pub async fn predict(&self, req: Predict) -> Result<PredictionReport, WireError> {
        let symbol = input::symbol(&req.symbol)?;
        let tf = input::timeframe("timeframe", &req.timeframe)?;
        let at = req
            .at
            .as_deref()
            .map(|raw| input::last_ms_of("at", raw))
            .transpose()?;
        let store = Arc::clone(&self.store);
        let name = req.model.clone();
        let plan = blocking::run("reading a model", move || {
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
        let mut series = Vec::new();
        for &t in &plan.timeframes {
            let key = SeriesKey {
                symbol: symbol.clone(),
                timeframe: t,
            };
            let (bars, _) = self.data.window(&key, input::Window::default()).await?;
            series.push((t, bars));
        }
        let store = Arc::clone(&self.store);
        let threads = self.config.torch_threads;
        let model = req.model;
        let p = blocking::run("prediction", move || {
            ktrdr_train::device::set_threads(threads);
            ktrdr_train::predict(&store, &model, &symbol, &series, at).map_err(|e| match e {
                ktrdr_train::pipeline::PredictError::Store(s) => store_error(s),
                ktrdr_train::pipeline::PredictError::Invalid(m) => WireError::validation(m),
            })
        })
        .await?;
        self.counters.predictions.fetch_add(1, Ordering::Relaxed);
        Ok(PredictionReport {
            model: p.model,
            symbol: p.symbol,
            timeframe: p.timeframe,
            bar_ms: p.bar_ms,
            signal: p.signal.to_string(),
            confidence: p.confidence,
            probabilities: p.probabilities.to_vec(),
            confidence_threshold: p.confidence_threshold,
        })
    }
}

impl Service for TrainingService {
    fn name(&self) -> &'static str {
        "training"
    }

    fn info(&self) -> ServiceInfo {
        let mut settings = BTreeMap::new();
        settings.insert("device".into(), self.config.device.clone());
        settings.insert(
            "torch_threads".into(),
            self.config.torch_threads.to_string(),
        );
        settings.insert(
            "torch_version".into(),
            ktrdr_train::device::TORCH_VERSION.into(),
        );
        settings.insert("models_dir".into(), self.store.root().display().to_string());
        let (mode, endpoint) = match &self.config.mode {
            ServiceMode::Local => ("local", format!("dir:{}", self.store.root().display())),
            ServiceMode::HostService { url } => {
                settings.insert(
                    "host_service".into(),
                    "trainings run on that ktrdrd (on its bars); models are copied into this store"
                        .into(),
                );
                ("host-service", url.clone())
            }
        };
        ServiceInfo {
            name: self.name().into(),
            mode: mode.into(),
            endpoint: Some(endpoint),
            env: Section::Training.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let (status, detail) = match self.trainer.host() {
                None => (
                    HealthStatus::Ok,
                    format!(
                        "{}; default device {}",
                        ktrdr_train::device::summary(),
                        self.config.device
                    ),
                ),
                Some(host) => {
                    match tokio::time::timeout(Duration::from_secs(2), host.health("training"))
                        .await
                    {
                        Ok(v) => v,
                        Err(_) => (
                            HealthStatus::Degraded,
                            format!("training host {} did not answer within 2 s", host.url()),
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

    /// Trainings run here; in host-service mode the training host exports its own.
    fn export(&self, out: &mut crate::telemetry::Exporter<'_>) -> std::fmt::Result {
        let c = &self.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        out.gauge(
            "trainings_running",
            "Trainings running on this daemon now.",
            None,
            n(&c.running),
        )?;
        out.gauge(
            "training_samples_per_second",
            "Samples per second of the trainings running now (latest progress report, summed).",
            None,
            c.samples_per_sec(),
        )?;
        out.counter(
            "training_epochs",
            "Training epochs finished.",
            None,
            n(&c.epochs),
        )?;
        out.counter(
            "training_samples",
            "Training samples processed (samples x epochs of completed trainings).",
            None,
            n(&c.samples_trained),
        )?;
        out.counters(
            "trainings",
            "Trainings finished, by outcome.",
            None,
            &[
                ([("outcome", "completed")], n(&c.trainings_completed)),
                ([("outcome", "failed")], n(&c.trainings_failed)),
                ([("outcome", "cancelled")], n(&c.trainings_cancelled)),
            ],
        )
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.counters;
        super::metrics::read_counters(&[
            ("trainings_completed", &c.trainings_completed),
            ("trainings_failed", &c.trainings_failed),
            ("trainings_cancelled", &c.trainings_cancelled),
            ("samples_trained", &c.samples_trained),
            ("predictions", &c.predictions),
            ("temporaries_removed", &c.temporaries_removed),
        ])
    }
}
