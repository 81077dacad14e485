//! The `data` service: stored bar series (list, show, import, export, validate, resample), served
//! from the data directory through a memory cache.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::Section;
use crate::data::DataManager;
use crate::data::input::{self, SeriesKey};
use crate::ops::{Registry, Work};
use ktrdr_market::{Bars, Timeframe};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{
    ExportReport, OperationRecord, SeriesList, SeriesRange, ValidationReport,
};
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_protocol::operation::{ImportParams, OpParams, OpResult};
use ktrdr_protocol::request::{DataExport, DataImport, DataResample, DataValidate, SeriesRef};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub struct DataService {
    manager: Arc<DataManager>,
    registry: Arc<Registry>,
    metrics: RequestMetrics,
}

impl DataService {
    pub fn new(manager: Arc<DataManager>, registry: Arc<Registry>) -> Self {
        DataService {
            manager,
            registry,
            metrics: RequestMetrics::new(),
        }
    }

    pub async fn list(&self) -> Result<SeriesList, WireError> {
        self.manager.list().await
    }

    pub async fn range(&self, req: SeriesRef) -> Result<SeriesRange, WireError> {
        self.manager
            .range(input::key(&req.symbol, &req.timeframe)?)
            .await
    }

    /// A stored series and the rows of it inside `[start, end)`.
    pub async fn window(
        &self,
        symbol: &str,
        timeframe: &str,
        start: Option<&str>,
        end: Option<&str>,
    ) -> Result<(SeriesKey, Arc<Bars>, Range<usize>), WireError> {
        let key = input::key(symbol, timeframe)?;
        let w = input::window(start, end)?;
        let (bars, r) = self.manager.window(&key, w).await?;
        Ok((key, bars, r))
    }

    pub async fn validate(&self, req: DataValidate) -> Result<ValidationReport, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        self.manager.validate(key, req.repair).await
    }

    /// Starts a `data_import` operation; everything checkable (names, zone, the file) is checked
    /// before it exists.
    pub async fn import(&self, req: DataImport) -> Result<OperationRecord, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let zone = input::zone(req.timezone.as_deref())?;
        let source = absolute("import path", &req.path)?;
        match std::fs::metadata(&source) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(WireError::validation(format!("{} is not a file", req.path))),
            Err(e) => {
                return Err(WireError::not_found(format!("cannot open {}: {e}", req.path))
                    .with_hint("the path is read by the daemon, on the daemon's machine, as the daemon's user"));
            }
        }
        let params = OpParams::DataImport(ImportParams {
            path: req.path,
            symbol: key.symbol.clone(),
            timeframe: key.timeframe.to_string(),
            timezone: req.timezone,
        });
        let manager = Arc::clone(&self.manager);
        let work: Work = Box::new(move |h| {
            Box::pin(async move {
                let report = manager.import(key, source, zone, h).await?;
                Ok(OpResult::DataImport(report))
            })
        });
        self.registry.start(params, work).await
    }

    pub async fn export(&self, req: DataExport) -> Result<ExportReport, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let w = input::window(req.start.as_deref(), req.end.as_deref())?;
        let out = absolute("--output", &req.output)?;
        if !out.parent().is_some_and(Path::is_dir) {
            return Err(WireError::validation(format!(
                "--output {}: its directory does not exist",
                req.output
            )));
        }
        self.manager.export(key, w, req.format, out).await
    }

    /// The series resampled (and with `save` stored); the rows to send are all of them.
    pub async fn resample(
        &self,
        req: &DataResample,
    ) -> Result<(SeriesKey, Arc<Bars>, Option<String>), WireError> {
        let key = input::key(&req.symbol, &req.from)?;
        let target: Timeframe = input::timeframe("target timeframe", &req.to)?;
        let w = input::window(req.start.as_deref(), req.end.as_deref())?;
        self.manager.resample(key, target, w, req.save).await
    }

    /// Counts bars sent to clients, for statistics.
    pub fn streamed(&self, rows: usize) {
        self.manager
            .counters
            .bars_streamed
            .fetch_add(rows as u64, Ordering::Relaxed);
    }
}

/// Paths travel absolute: `ktrdrctl` resolves them on the client's side.
fn absolute(what: &str, raw: &str) -> Result<PathBuf, WireError> {
    let p = PathBuf::from(raw);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err(
            WireError::validation(format!("{what} {raw:?} is not absolute")).with_hint(
                "ktrdrctl resolves it for you; other clients must send an absolute path",
            ),
        )
    }
}

impl Service for DataService {
    fn name(&self) -> &'static str {
        "data"
    }

    fn info(&self) -> ServiceInfo {
        let m = &self.manager;
        let mut settings = BTreeMap::new();
        settings.insert("data_dir".into(), m.dir().display().to_string());
        settings.insert("cache_bytes".into(), m.cache.budget().to_string());
        settings.insert(
            "watch".into(),
            match &m.watch_error {
                None => "on".into(),
                Some(e) => format!("off ({e})"),
            },
        );
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some(format!("dir:{}", m.dir().display())),
            env: Section::Data.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let dir = self.manager.dir().to_path_buf();
            let check = tokio::time::timeout(
                Duration::from_secs(2),
                tokio::task::spawn_blocking(move || std::fs::read_dir(&dir).map(|rd| rd.count())),
            )
            .await;
            let (entries, used) = self.manager.cache.usage();
            let (status, detail) = match check {
                Ok(Ok(Ok(_))) if self.manager.watching() => (
                    HealthStatus::Ok,
                    format!(
                        "{entries} series cached, {} MiB of {} MiB",
                        used >> 20,
                        self.manager.cache.budget() >> 20
                    ),
                ),
                Ok(Ok(Ok(_))) => (
                    HealthStatus::Degraded,
                    "data directory not watched; external changes are seen only at the next read"
                        .into(),
                ),
                Ok(Ok(Err(e))) => (
                    HealthStatus::Down,
                    format!("cannot read {}: {e}", self.manager.dir().display()),
                ),
                Ok(Err(e)) => (HealthStatus::Down, format!("health check task failed: {e}")),
                Err(_) => (
                    HealthStatus::Degraded,
                    "data directory did not answer within 2 s".into(),
                ),
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
        use crate::telemetry::export::BYTES;
        let cache = &self.manager.cache;
        let c = &cache.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let (entries, bytes) = cache.usage();
        out.gauge(
            "bar_cache",
            "Memory held by the bar cache now.",
            Some(BYTES),
            bytes as u64,
        )?;
        out.gauge(
            "bar_cache_budget",
            "The bar cache's budget (data.cache_bytes); least recently used series are evicted beyond it.",
            Some(BYTES),
            cache.budget() as u64,
        )?;
        out.gauge(
            "bar_cache_entries",
            "Series held by the bar cache now.",
            None,
            entries as u64,
        )?;
        out.counter(
            "bar_cache_hits",
            "Series reads served from the bar cache.",
            None,
            n(&c.hits),
        )?;
        out.counter(
            "bar_cache_misses",
            "Series reads that went to disk.",
            None,
            n(&c.misses),
        )?;
        out.counter(
            "bar_cache_evictions",
            "Series evicted from the bar cache to stay within its budget.",
            None,
            n(&c.evictions),
        )?;
        out.counter(
            "bar_cache_invalidations",
            "Cached series dropped because their file changed.",
            None,
            n(&c.invalidations),
        )?;
        out.counter(
            "bars_streamed",
            "Bars sent to clients (data show, resample, export).",
            None,
            n(&self.manager.counters.bars_streamed),
        )
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.manager.cache.counters;
        let d = &self.manager.counters;
        let (entries, bytes) = self.manager.cache.usage();
        [
            ("cache_hits", c.hits.load(Ordering::Relaxed)),
            ("cache_misses", c.misses.load(Ordering::Relaxed)),
            ("cache_evictions", c.evictions.load(Ordering::Relaxed)),
            (
                "cache_invalidations",
                c.invalidations.load(Ordering::Relaxed),
            ),
            ("cache_entries", entries as u64),
            ("cache_bytes", bytes as u64),
            ("imports", d.imports.load(Ordering::Relaxed)),
            ("exports", d.exports.load(Ordering::Relaxed)),
            ("repairs", d.repairs.load(Ordering::Relaxed)),
            ("bars_streamed", d.bars_streamed.load(Ordering::Relaxed)),
            ("watch_events", d.watch_events.load(Ordering::Relaxed)),
            ("loads_from_disk", d.loads_from_disk.load(Ordering::Relaxed)),
            (
                "temporaries_removed",
                d.temporaries_removed.load(Ordering::Relaxed),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
