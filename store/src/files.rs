//! The data directory: one file per series, `SYMBOL_TIMEFRAME.csv` or `SYMBOL_TIMEFRAME.parquet`.
//!
//! When both exist the Parquet file is the series (it is what the daemon writes for new series and
//! loads ten times faster); the CSV is listed as shadowed. An existing CSV series stays CSV when it is
//! written, so the predecessor's tools keep working on it.
//!
//! Writes are atomic ([`ktrdr_atomicfile`]): a temporary file in the same directory (named
//! `.STEM.EXT.tmp-XXXXXX`, which the scan never takes for a series), a checked flush, fsync, rename
//! over the target, fsync the directory. A crash at any point leaves either the old file or the new
//! one, never a torn one; leftover temporaries are removed at the next start.

use crate::error::StoreError;
use crate::frame;
use crate::key::{SeriesKey, Zone, normalize_symbol};
use ktrdr_market::{Bars, Timeframe};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// By file extension: `.parquet`/`.pq` is Parquet, anything else CSV.
    pub fn of_path(p: &Path) -> Format {
        match p
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("parquet" | "pq") => Format::Parquet,
            _ => Format::Csv,
        }
    }
}

/// What identifies one version of a file: a cache entry is valid only while the file's stamp is
/// unchanged, so an edit made outside the daemon is seen by the next read even before the watcher
/// reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub len: u64,
    pub mtime_ns: i128,
    pub ino: u64,
}

impl Stamp {
    /// The stamp of the file at `path` now; `None` when it is gone or not a file.
    pub fn of_path(path: &Path) -> Option<Stamp> {
        std::fs::metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| Stamp::of(&m))
    }

    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
            ino: meta.ino(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileEntry {
    pub key: SeriesKey,
    pub path: PathBuf,
    pub format: Format,
    pub stamp: Stamp,
    pub modified_ms: u64,
    /// A CSV hidden by a Parquet file of the same series.
    pub shadowed: bool,
}

pub struct Store {
    dir: PathBuf,
}

/// `SYMBOL_TIMEFRAME.ext` to its series and format. The timeframe is the part after the last `_`
/// (symbols may contain `_`) and must be spelled canonically (`1h`, not `60m`), so one series has
/// exactly one file name.
pub fn parse_name(name: &str) -> Option<(SeriesKey, Format)> {
    if name.starts_with('.') {
        return None;
    }
    let (stem, ext) = name.rsplit_once('.')?;
    let format = match ext {
        "csv" => Format::Csv,
        "parquet" => Format::Parquet,
        _ => return None,
    };
    let (sym, tf) = stem.rsplit_once('_')?;
    let timeframe: Timeframe = tf.parse().ok()?;
    if timeframe.as_str() != tf {
        return None;
    }
    let symbol = normalize_symbol(sym)?;
    (symbol == sym).then_some((SeriesKey { symbol, timeframe }, format))
}

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, key: &SeriesKey, format: Format) -> std::io::Result<Option<FileEntry>> {
        let path = self.dir.join(format!("{}.{}", key.stem(), format.ext()));
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => Ok(Some(FileEntry {
                key: key.clone(),
                path,
                format,
                stamp: Stamp::of(&meta),
                modified_ms: meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_millis() as u64),
                shadowed: false,
            })),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The file holding a series now, if any. Two `stat` calls: cheap enough for every request.
    pub fn locate(&self, key: &SeriesKey) -> Result<Option<FileEntry>, StoreError> {
        let io = |source: std::io::Error| StoreError::Stat {
            path: self.dir.clone(),
            source,
        };
        if let Some(e) = self.entry(key, Format::Parquet).map_err(io)? {
            return Ok(Some(e));
        }
        self.entry(key, Format::Csv).map_err(io)
    }

    /// Every series file, sorted by symbol then timeframe.
    pub fn scan(&self) -> Result<Vec<FileEntry>, StoreError> {
        let rd = std::fs::read_dir(&self.dir).map_err(|source| StoreError::List {
            dir: self.dir.clone(),
            source,
        })?;
        let mut out = Vec::new();
        for ent in rd.flatten() {
            let name = ent.file_name();
            let Some((key, format)) = name.to_str().and_then(parse_name) else {
                continue;
            };
            if let Ok(Some(e)) = self.entry(&key, format) {
                out.push(e);
            }
        }
        out.sort_by(|a, b| (&a.key, a.format.ext()).cmp(&(&b.key, b.format.ext())));
        // "csv" sorts before "parquet", so a CSV shadowed by a Parquet file sits right before it.
        for i in 1..out.len() {
            if out[i].key == out[i - 1].key && out[i - 1].format == Format::Csv {
                out[i - 1].shadowed = true;
            }
        }
        Ok(out)
    }

    /// Reads and decodes a stored file. Blocking and CPU-heavy: call from a blocking thread.
    pub fn load(&self, entry: &FileEntry) -> Result<Bars, StoreError> {
        let bad = |message: String| StoreError::Decode {
            path: entry.path.clone(),
            message,
        };
        match entry.format {
            Format::Csv => frame::read_csv_bars(&entry.path, &Zone::Utc)
                .map(|d| d.bars)
                .map_err(|e| bad(e.to_string())),
            Format::Parquet => {
                let df = frame::read_parquet(&entry.path).map_err(|e| bad(e.to_string()))?;
                frame::decode(&df, &Zone::Utc).map(|d| d.bars).map_err(bad)
            }
        }
    }

    /// Atomically replaces the series' file (in `format`) with `bars`.
    pub fn save(
        &self,
        key: &SeriesKey,
        bars: &Bars,
        format: Format,
    ) -> Result<FileEntry, StoreError> {
        let target = self.dir.join(format!("{}.{}", key.stem(), format.ext()));
        write_file(&target, |w| {
            match format {
                Format::Csv => frame::write_csv(w, bars),
                Format::Parquet => frame::write_parquet(w, bars),
            }
            .map_err(io::Error::other)
        })?;
        self.entry(key, format)
            .ok()
            .flatten()
            .ok_or(StoreError::Vanished(target))
    }

    /// Removes temporaries left by a daemon that died mid-write. Returns how many.
    pub fn clean_temporaries(&self) -> usize {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        let mut n = 0;
        for ent in rd.flatten() {
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if ktrdr_atomicfile::is_temporary(name) && std::fs::remove_file(ent.path()).is_ok() {
                tracing::warn!(
                    file = name,
                    "removed a temporary file left by an interrupted write"
                );
                n += 1;
            }
        }
        n
    }
}

/// Replaces `target` atomically with what `write` produces ([`ktrdr_atomicfile::write_atomic`]);
/// on an error the old file is untouched and no temporary is left.
pub fn write_file(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), StoreError> {
    ktrdr_atomicfile::write_atomic(target, write).map_err(|source| StoreError::Write {
        path: target.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let (k, f) = parse_name("AAPL_1h.csv").unwrap();
        assert_eq!(
            (k.symbol.as_str(), k.timeframe, f),
            ("AAPL", Timeframe::H1, Format::Csv)
        );
        let (k, _) = parse_name("BRK_B_1d.parquet").unwrap();
        assert_eq!(k.symbol, "BRK_B");
        for bad in [
            ".AAPL_1h.csv.tmp-1-0",
            "AAPL_1h.txt",
            "AAPL.csv",
            "aapl_1h.csv",
            "AAPL_60m.csv",
            ".AAPL_1h.csv",
        ] {
            assert!(parse_name(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().to_path_buf());
        let key = SeriesKey {
            symbol: "X".into(),
            timeframe: Timeframe::M1,
        };
        let bars = ktrdr_market::synth::generate(&ktrdr_market::synth::Spec {
            bars: 100,
            ..Default::default()
        });
        let e = store.save(&key, &bars, Format::Parquet).unwrap();
        assert_eq!(store.load(&e).unwrap(), bars);
        let failed = write_file(&e.path, |_| Err(io::Error::other("boom")));
        assert!(failed.is_err());
        assert_eq!(
            store.load(&e).unwrap(),
            bars,
            "a failed write leaves the old file"
        );
        std::fs::write(dir.path().join(".X_1m.parquet.tmp-1-9"), b"junk").unwrap();
        assert_eq!(store.scan().unwrap().len(), 1);
        assert_eq!(store.clean_temporaries(), 1);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
