//! [`DataManager`]: the data service's business rules. Handlers call it with raw request fields; it
//! validates them, serves series from the cache or the store, and serialises writes per series.

use super::input::{SeriesKey, Window, Zone};
use super::watch;
use crate::ops::OpHandle;
use ktrdr_market::quality;
use ktrdr_market::{Bars, Calendar, Timeframe};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{
    ExportFormat, ExportReport, ImportReport, Progress, QualityIssue, RepairChange, SeriesInfo,
    SeriesList, SeriesRange, ValidationReport,
};
use ktrdr_store::cache::Cache;
use ktrdr_store::frame;
use ktrdr_store::{FileEntry, Format, Stamp, Store};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Issues and changes listed one by one in a validation report; counts always cover all of them.
const MAX_LISTED: usize = 1000;

#[derive(Default)]
pub struct DataCounters {
    pub imports: AtomicU64,
    pub exports: AtomicU64,
    pub repairs: AtomicU64,
    pub bars_streamed: AtomicU64,
    pub watch_events: AtomicU64,
    pub temporaries_removed: AtomicU64,
    /// Series files parsed to serve reads (cache misses that reached the disk).
    pub loads_from_disk: AtomicU64,
}

/// A read of one version of a series' file in progress. Requests that miss the cache meanwhile wait
/// for it instead of parsing the file again; its outcome, success or error, is theirs too.
struct Flight {
    stamp: Stamp,
    outcome: Arc<tokio::sync::OnceCell<Result<Arc<Bars>, WireError>>>,
}

/// A series as served: the bars (sorted, unique) and the file they came from.
pub struct Loaded {
    pub bars: Arc<Bars>,
    pub entry: FileEntry,
}

pub struct DataManager {
    store: Store,
    pub cache: Arc<Cache>,
    pub counters: Arc<DataCounters>,
    /// One writer per series at a time: an import's read-merge-write must not interleave with another.
    write_locks: Mutex<HashMap<SeriesKey, Arc<tokio::sync::Mutex<()>>>>,
    /// Reads from disk in progress, at most one per series.
    loading: Mutex<HashMap<SeriesKey, Flight>>,
    watcher: Mutex<Option<watch::Watcher>>,
    pub watch_error: Option<String>,
}

/// File reads, parses and writes of the store, off the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, WireError> + Send + 'static,
) -> Result<T, WireError> {
    crate::blocking::run("data task", f).await
}

impl DataManager {
    /// Opens the store in `dir`: removes temporaries of interrupted writes and starts the watch.
    pub fn open(dir: PathBuf, cache_bytes: u64) -> Arc<DataManager> {
        let store = Store::new(dir.clone());
        let counters = Arc::new(DataCounters::default());
        let removed = store.clean_temporaries();
        counters
            .temporaries_removed
            .store(removed as u64, Ordering::Relaxed);
        let cache = Arc::new(Cache::new(cache_bytes));
        let (c, n) = (Arc::clone(&cache), Arc::clone(&counters));
        let started = watch::start(&dir, move |path| {
            n.watch_events.fetch_add(1, Ordering::Relaxed);
            // The daemon's own reads raise events too: only a file whose stamp moved (or that
            // vanished) drops its series, else every load would be evicted a moment later.
            if let Some((key, _)) = watch::file_name(path)
                .as_deref()
                .and_then(ktrdr_store::files::parse_name)
                && c.invalidate_if_changed(&key, Stamp::of_path(path))
            {
                tracing::info!(series = %key, "file changed on disk; dropped from the cache");
            }
        });
        let (watcher, watch_error) = match started {
            Ok(w) => (Some(w), None),
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the data directory; changes are still seen at each read");
                (None, Some(e))
            }
        };
        Arc::new(DataManager {
            store,
            cache,
            counters,
            write_locks: Mutex::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
            watcher: Mutex::new(watcher),
            watch_error,
        })
    }

    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    pub fn watching(&self) -> bool {
        self.watcher.lock().map(|w| w.is_some()).unwrap_or(false)
    }

    fn write_lock(&self, key: &SeriesKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.write_locks.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(m.entry(key.clone()).or_default())
    }

    fn not_found(&self, key: &SeriesKey) -> WireError {
        WireError::not_found(format!("no {key} data in {}", self.dir().display())).with_hint(
            "`ktrdrctl data list` shows what is stored; `ktrdrctl data import FILE --symbol S --timeframe TF` adds a series",
        )
    }

    /// The series, from the cache when its file is unchanged, else parsed on a blocking thread; a
    /// parse already under way for the same file is joined, not repeated.
    pub async fn load(self: &Arc<Self>, key: &SeriesKey) -> Result<Loaded, WireError> {
        // Two stat calls: cheap enough to run on the runtime thread.
        let entry = self.store.locate(key)?.ok_or_else(|| self.not_found(key))?;
        if let Some(bars) = self.cache.get(key, entry.stamp) {
            return Ok(Loaded { bars, entry });
        }
        let outcome = {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            // A read that finished since the lookup above has filled the cache before it left
            // `loading`, so looking again under the lock closes that window.
            if let Some(bars) = self.cache.peek(key, entry.stamp) {
                return Ok(Loaded { bars, entry });
            }
            match loading.get(key) {
                Some(f) if f.stamp == entry.stamp => Arc::clone(&f.outcome),
                // None, or a read of a version of the file that has since been replaced.
                _ => {
                    let outcome = Arc::new(tokio::sync::OnceCell::new());
                    loading.insert(
                        key.clone(),
                        Flight {
                            stamp: entry.stamp,
                            outcome: Arc::clone(&outcome),
                        },
                    );
                    outcome
                }
            }
        };
        let result = outcome
            .get_or_init(|| self.read_from_disk(key, &entry))
            .await
            .clone();
        {
            // Retired as soon as it is done: later requests find the bars in the cache, or, after
            // an error, read the file afresh instead of inheriting this read's failure.
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            if loading
                .get(key)
                .is_some_and(|f| Arc::ptr_eq(&f.outcome, &outcome))
            {
                loading.remove(key);
            }
        }
        Ok(Loaded {
            bars: result?,
            entry,
        })
    }

    /// Parses the series' file and caches the bars (before the read leaves `loading`; see `load`).
    async fn read_from_disk(
        self: &Arc<Self>,
        key: &SeriesKey,
        entry: &FileEntry,
    ) -> Result<Arc<Bars>, WireError> {
        let me = Arc::clone(self);
        let e = entry.clone();
        let bars = blocking(move || {
            me.counters.loads_from_disk.fetch_add(1, Ordering::Relaxed);
            let started = std::time::Instant::now();
            let mut bars = me.store.load(&e)?;
            tracing::debug!(
                file = %e.path.display(),
                rows = bars.len(),
                ms = started.elapsed().as_secs_f64() * 1e3,
                "loaded a series"
            );
            if !bars.is_normal() {
                // Served sorted; `data validate` still sees the file as it is.
                tracing::warn!(file = %e.path.display(), "series is unsorted or has duplicate timestamps; serving it normalized");
                bars.normalize();
            }
            Ok(bars)
        })
        .await?;
        let bars = Arc::new(bars);
        self.cache
            .insert(key.clone(), entry.stamp, Arc::clone(&bars));
        Ok(bars)
    }

    pub async fn list(self: &Arc<Self>) -> Result<SeriesList, WireError> {
        let me = Arc::clone(self);
        let entries = blocking(move || Ok(me.store.scan()?)).await?;
        let series = entries
            .into_iter()
            .map(|e| {
                let rows = if e.shadowed {
                    None
                } else {
                    self.cache.rows(&e.key)
                };
                SeriesInfo {
                    symbol: e.key.symbol.clone(),
                    timeframe: e.key.timeframe.to_string(),
                    format: if e.shadowed {
                        "csv (shadowed by parquet)".into()
                    } else {
                        e.format.ext().into()
                    },
                    path: e.path.display().to_string(),
                    bytes: e.stamp.len,
                    modified_ms: e.modified_ms,
                    cached: rows.is_some(),
                    rows: rows.map(|r| r as u64),
                }
            })
            .collect();
        Ok(SeriesList {
            data_dir: self.dir().display().to_string(),
            series,
        })
    }

    pub async fn range(self: &Arc<Self>, key: SeriesKey) -> Result<SeriesRange, WireError> {
        let l = self.load(&key).await?;
        Ok(SeriesRange {
            symbol: key.symbol,
            timeframe: key.timeframe.to_string(),
            path: l.entry.path.display().to_string(),
            rows: l.bars.len() as u64,
            first_ms: l.bars.first_ts(),
            last_ms: l.bars.last_ts(),
        })
    }

    /// The series and the rows of it inside the window.
    pub async fn window(
        self: &Arc<Self>,
        key: &SeriesKey,
        w: Window,
    ) -> Result<(Arc<Bars>, Range<usize>), WireError> {
        let l = self.load(key).await?;
        let r = l.bars.range(w.start, w.end);
        Ok((l.bars, r))
    }

    pub async fn validate(
        self: &Arc<Self>,
        key: SeriesKey,
        repair: bool,
    ) -> Result<ValidationReport, WireError> {
        let lock = self.write_lock(&key);
        let _guard = if repair {
            Some(lock.lock().await)
        } else {
            None
        };
        // Judge the file as it is, not the normalized copy the cache serves.
        let entry = self
            .store
            .locate(&key)?
            .ok_or_else(|| self.not_found(&key))?;
        let me = Arc::clone(self);
        let k = key.clone();
        let (report, saved) = blocking(move || {
            let raw = me.store.load(&entry)?;
            let calendar = Calendar::for_symbol(&k.symbol);
            let checked = quality::check(&raw, k.timeframe, calendar);
            let mut counts = std::collections::BTreeMap::new();
            for (kind, n) in checked.counts() {
                counts.insert(kind.to_string(), n);
            }
            let issues = checked
                .issues
                .iter()
                .take(MAX_LISTED)
                .map(|i| QualityIssue {
                    kind: i.kind.as_str().into(),
                    ts_ms: i.ts,
                    row: i.row as u64,
                    detail: i.detail.clone(),
                    missing: i.missing,
                })
                .collect();
            let mut report = ValidationReport {
                symbol: k.symbol.clone(),
                timeframe: k.timeframe.to_string(),
                calendar: calendar.as_str().into(),
                rows: raw.len() as u64,
                counts,
                issues,
                issues_truncated: checked.issues.len() > MAX_LISTED,
                repaired: false,
                changes: Vec::new(),
                changes_total: 0,
                rows_after: raw.len() as u64,
            };
            let mut saved = None;
            if repair {
                let (fixed, changes) = quality::repair(&raw);
                report.changes_total = changes.len() as u64;
                report.changes = changes
                    .iter()
                    .take(MAX_LISTED)
                    .map(|c| RepairChange {
                        ts_ms: c.ts,
                        row: c.row as u64,
                        action: c.action.as_str().into(),
                        field: c.field.as_str().into(),
                        before: c.before,
                        after: c.after,
                        reason: c.reason.into(),
                    })
                    .collect();
                report.rows_after = fixed.len() as u64;
                if !changes.is_empty() {
                    let e = me.store.save(&k, &fixed, entry.format)?;
                    report.repaired = true;
                    saved = Some((e, fixed));
                }
            }
            Ok((report, saved))
        })
        .await?;
        if let Some((entry, bars)) = saved {
            self.counters.repairs.fetch_add(1, Ordering::Relaxed);
            self.cache.insert(key, entry.stamp, Arc::new(bars));
        }
        Ok(report)
    }

    /// Merges the bars of `source` (checked to be a file) into the series: the `data_import`
    /// operation's work. Cancelling before the merge stores nothing.
    pub async fn import(
        self: &Arc<Self>,
        key: SeriesKey,
        source: PathBuf,
        zone: Zone,
        h: OpHandle,
    ) -> Result<ImportReport, WireError> {
        h.progress(Progress {
            message: format!("reading {}", source.display()),
            ..Progress::default()
        });
        let lock = self.write_lock(&key);
        let _guard = lock.lock().await;
        let me = Arc::clone(self);
        let k = key.clone();
        let (report, entry, merged) = blocking(move || {
            let read = match Format::of_path(&source) {
                Format::Parquet => frame::read_parquet(&source)
                    .map_err(|e| frame::ReadError::Read(e.to_string()))
                    .and_then(|df| frame::decode(&df, &zone).map_err(frame::ReadError::Decode)),
                Format::Csv => frame::read_csv_bars(&source, &zone),
            };
            let decoded = read.map_err(|e| match e {
                frame::ReadError::Read(e) => {
                    WireError::validation(format!("cannot read {}: {e}", source.display()))
                }
                frame::ReadError::Decode(e) => {
                    WireError::validation(format!("cannot import {}: {e}", source.display())).with_hint(
                        "expected a header timestamp,open,high,low,close,volume or pandas' ,Open,High,Low,Close,Volume",
                    )
                }
            })?;
            h.check()?;
            h.progress(Progress {
                percent: 50.0,
                message: format!("merging {} rows into {k}", decoded.bars.len()),
                ..Progress::default()
            });
            let mut new = decoded.bars;
            let rows_read = new.len();
            let (_, duplicates) = new.normalize();
            let existing = me.store.locate(&k)?;
            let (old, format) = match &existing {
                Some(e) => (
                    me.cache.get(&k, e.stamp).map_or_else(|| me.store.load(e), |b| Ok((*b).clone()))?,
                    e.format,
                ),
                None => (Bars::new(), Format::Parquet),
            };
            let mut old = old;
            old.normalize();
            let (merged, stats) = ktrdr_market::merge::merge(&old, &new);
            // The last point where a cancel leaves the series as it was.
            h.check()?;
            let entry = me.store.save(&k, &merged, format)?;
            let report = ImportReport {
                symbol: k.symbol.clone(),
                timeframe: k.timeframe.to_string(),
                source: source.display().to_string(),
                stored: entry.path.display().to_string(),
                layout: decoded.layout.into(),
                timezone: zone.name(),
                rows_read: rows_read as u64,
                duplicates_in_file: duplicates as u64,
                rows_before: old.len() as u64,
                rows_after: merged.len() as u64,
                added: stats.added as u64,
                replaced: stats.replaced as u64,
            };
            Ok((report, entry, merged))
        })
        .await?;
        self.counters.imports.fetch_add(1, Ordering::Relaxed);
        self.cache.insert(key, entry.stamp, Arc::new(merged));
        tracing::info!(series = %report.symbol, rows = report.rows_after, added = report.added, "imported");
        Ok(report)
    }

    /// Writes the window of the series to `out` (absolute, in an existing directory).
    pub async fn export(
        self: &Arc<Self>,
        key: SeriesKey,
        w: Window,
        format: ExportFormat,
        out: PathBuf,
    ) -> Result<ExportReport, WireError> {
        let (bars, r) = self.window(&key, w).await?;
        let rows = r.len();
        let o = out.clone();
        blocking(move || {
            let part = if r == (0..bars.len()) {
                (*bars).clone()
            } else {
                bars.slice(r)
            };
            ktrdr_store::files::write_file(&o, |w| match format {
                ExportFormat::Csv => frame::write_csv(w, &part).map_err(std::io::Error::other),
                ExportFormat::Parquet => {
                    frame::write_parquet(w, &part).map_err(std::io::Error::other)
                }
                ExportFormat::Jsonl => frame::write_jsonl(w, &part),
            })
            .map_err(WireError::from)
        })
        .await?;
        self.counters.exports.fetch_add(1, Ordering::Relaxed);
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        Ok(ExportReport {
            symbol: key.symbol,
            timeframe: key.timeframe.to_string(),
            path: out.display().to_string(),
            format: format.as_str().into(),
            rows: rows as u64,
            bytes,
        })
    }

    /// The series resampled to `to`, restricted to buckets opening inside the window; with `save`,
    /// also merged into the stored `to` series. Returns the bars and where they were saved.
    pub async fn resample(
        self: &Arc<Self>,
        key: SeriesKey,
        target: Timeframe,
        w: Window,
        save: bool,
    ) -> Result<(SeriesKey, Arc<Bars>, Option<String>), WireError> {
        if !target.can_resample_from(key.timeframe) {
            return Err(WireError::validation(format!("cannot resample {} to {target}", key.timeframe)).with_hint(
                "the target must be coarser than the source and a whole multiple of it (e.g. 5m to 1h, 1h to 1d)",
            ));
        }
        let l = self.load(&key).await?;
        let out = blocking(move || {
            let all = ktrdr_market::resample::resample(&l.bars, key.timeframe, target)
                .map_err(|e| WireError::internal(e.to_string()))?;
            let r = all.range(w.start, w.end);
            Ok(if r == (0..all.len()) {
                all
            } else {
                all.slice(r)
            })
        })
        .await?;
        let tkey = SeriesKey {
            symbol: key.symbol.clone(),
            timeframe: target,
        };
        let mut saved = None;
        if save {
            let lock = self.write_lock(&tkey);
            let _guard = lock.lock().await;
            let me = Arc::clone(self);
            let (k, bars) = (tkey.clone(), out.clone());
            let (entry, merged) = blocking(move || {
                let existing = me.store.locate(&k)?;
                let (mut old, format) = match &existing {
                    Some(e) => (me.store.load(e)?, e.format),
                    None => (Bars::new(), Format::Parquet),
                };
                old.normalize();
                let (merged, _) = ktrdr_market::merge::merge(&old, &bars);
                Ok((me.store.save(&k, &merged, format)?, merged))
            })
            .await?;
            saved = Some(entry.path.display().to_string());
            self.cache
                .insert(tkey.clone(), entry.stamp, Arc::new(merged));
        }
        Ok((tkey, Arc::new(out), saved))
    }
}

impl DataManager {
    /// Merges `new` into the series in one atomic write (a new series is stored as Parquet); bars at
    /// a stored time replace the stored ones. IB loads call it once per segment, so a load that stops
    /// halfway keeps every segment it finished. Returns the merge counts and the rows stored after.
    pub async fn merge(
        self: &Arc<Self>,
        key: &SeriesKey,
        new: Bars,
    ) -> Result<(ktrdr_market::merge::MergeStats, usize), WireError> {
        let lock = self.write_lock(key);
        let _guard = lock.lock().await;
        let me = Arc::clone(self);
        let k = key.clone();
        let (entry, merged, stats) = blocking(move || {
            let (mut old, format) = match me.store.locate(&k)? {
                Some(e) => (
                    me.cache
                        .get(&k, e.stamp)
                        .map_or_else(|| me.store.load(&e), |b| Ok((*b).clone()))?,
                    e.format,
                ),
                None => (Bars::new(), Format::Parquet),
            };
            old.normalize();
            let mut new = new;
            new.normalize();
            let (merged, stats) = ktrdr_market::merge::merge(&old, &new);
            Ok((me.store.save(&k, &merged, format)?, merged, stats))
        })
        .await?;
        let rows = merged.len();
        self.cache
            .insert(key.clone(), entry.stamp, Arc::new(merged));
        Ok((stats, rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_market::synth::{Spec, generate};
    use std::time::Duration;

    fn key() -> SeriesKey {
        SeriesKey {
            symbol: "X".into(),
            timeframe: Timeframe::M1,
        }
    }

    fn parsed(m: &DataManager) -> u64 {
        m.counters.loads_from_disk.load(Ordering::Relaxed)
    }

    /// The watch sees the daemon's own read of a file (inotify reports the open); before, that
    /// evicted every series about 250 ms after it was loaded, so the cache served almost nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_daemons_own_reads_keep_the_series_cached_and_outside_changes_drop_it() {
        let dir = tempfile::tempdir().unwrap();
        let bars = generate(&Spec {
            bars: 1_000,
            ..Spec::default()
        });
        let store = Store::new(dir.path().to_path_buf());
        store.save(&key(), &bars, Format::Parquet).unwrap();
        let m = DataManager::open(dir.path().to_path_buf(), 1 << 30);
        assert!(m.watching(), "{:?}", m.watch_error);
        let k = key();
        m.load(&k).await.unwrap();
        // Several debounce periods: the open/close events of that read have been delivered.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let invalidations = || m.cache.counters.invalidations.load(Ordering::Relaxed);
        assert_eq!(invalidations(), 0, "a read is not a change");
        m.load(&k).await.unwrap();
        assert_eq!(
            parsed(&m),
            1,
            "the second request was served from the cache"
        );

        // Someone else rewrites the file: the series is dropped without waiting for a read.
        let mut other = bars.clone();
        other.normalize();
        store
            .save(&k, &other.slice(0..500), Format::Parquet)
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while invalidations() == 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(invalidations(), 1, "an outside change drops the series");
        assert_eq!(m.load(&k).await.unwrap().bars.len(), 500);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_loads_of_a_series_share_one_parse() {
        let dir = tempfile::tempdir().unwrap();
        // Big enough that the parse outlasts the time it takes all requests to arrive.
        let bars = generate(&Spec {
            bars: 200_000,
            ..Spec::default()
        });
        Store::new(dir.path().to_path_buf())
            .save(&key(), &bars, Format::Parquet)
            .unwrap();
        let m = DataManager::open(dir.path().to_path_buf(), 1 << 30);
        let k = key();
        let loads = futures_util::future::join_all((0..8).map(|_| m.load(&k))).await;
        let loaded: Vec<Loaded> = loads.into_iter().map(Result::unwrap).collect();
        assert_eq!(parsed(&m), 1, "one parse for 8 concurrent first requests");
        assert_eq!(*loaded[0].bars, bars);
        assert!(loaded.iter().all(|l| Arc::ptr_eq(&l.bars, &loaded[0].bars)));
        m.load(&k).await.unwrap();
        assert_eq!(parsed(&m), 1, "later requests are served from the cache");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_load_is_not_kept_and_the_next_request_parses_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("X_1m.csv");
        std::fs::write(
            &path,
            "timestamp,open,high,low,close,volume\nnot a time,1,2,3,4,5\n",
        )
        .unwrap();
        let m = DataManager::open(dir.path().to_path_buf(), 1 << 30);
        let k = key();
        let (a, b) = tokio::join!(m.load(&k), m.load(&k));
        assert!(a.is_err() && b.is_err());
        let bars = generate(&Spec {
            bars: 100,
            ..Spec::default()
        });
        Store::new(dir.path().to_path_buf())
            .save(&k, &bars, Format::Csv)
            .unwrap();
        let before = parsed(&m);
        assert_eq!(*m.load(&k).await.unwrap().bars, bars);
        assert_eq!(parsed(&m), before + 1);
    }
}
