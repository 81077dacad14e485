//! The model store: `models/{strategy}/{SYMBOLS}_{timeframe}_v{N}/` under the data directory.
//!
//! A version directory holds `model.safetensors` (the VarStore), `strategy.yaml` (the file as
//! trained), `features.json` (names in input order), `metrics.json` and `metadata.json`. It is
//! written in full under a hidden temporary name, every file and the directory fsynced, then renamed
//! into place: a crash at any point leaves either no model or a complete one, and listing skips hidden
//! names (their leftovers are removed at the next start). `latest` in the strategy's directory names
//! the newest version and is replaced atomically too (`ktrdr-atomicfile`).

use crate::metrics::Metrics;
use crate::model::Mlp;
use crate::rng::Rng;
use serde::Serialize;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tch::{Device, nn};

pub const WEIGHTS: &str = "model.safetensors";
const LATEST: &str = "latest";
const TMP_PREFIX: &str = ".tmp-";
const DELETING_PREFIX: &str = ".deleting-";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("no model {0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Io(String),
}

fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(format!("{what}: {e}"))
}

pub use ktrdr_protocol::operation::PartSizes;
pub use ktrdr_protocol::stored_model::ModelMetadata as Metadata;

/// A model about to be saved; `name` and `version` of its metadata are assigned by the store.
pub struct Draft<'a> {
    pub vs: &'a nn::VarStore,
    pub metadata: Metadata,
    pub strategy_yaml: &'a str,
    pub features: &'a [String],
    pub metrics: &'a Metrics,
}

/// A model's files as bytes, to copy it between stores (a training host and this daemon).
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub metadata: Metadata,
    pub weights: Vec<u8>,
    pub strategy_yaml: String,
    pub features: Vec<String>,
    pub metrics_json: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub metadata: Metadata,
    pub latest: bool,
    pub dir: PathBuf,
}

pub struct Stored {
    pub listed: Listed,
    pub features: Vec<String>,
    pub metrics_json: String,
    pub strategy_yaml: String,
}

pub struct Loaded {
    pub metadata: Metadata,
    pub features: Vec<String>,
    pub strategy_yaml: String,
    pub model: Mlp,
    pub vs: nn::VarStore,
}

pub struct ModelStore {
    root: PathBuf,
    /// Version numbers are picked under this lock so two saves never race for one name.
    save_lock: Mutex<()>,
    /// Held between writing the files and the rename; lets tests kill a daemon mid-save.
    pub save_pause: Option<std::time::Duration>,
}

/// A file or directory name part: letters, digits, `.`, `_`, `-`; anything else becomes `_`.
pub fn safe_part(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

impl ModelStore {
    pub fn new(data_dir: &Path) -> ModelStore {
        ModelStore {
            root: data_dir.join("models"),
            save_lock: Mutex::new(()),
            save_pause: None,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Removes what interrupted saves and deletes left behind. Returns how many were removed.
    pub fn clean_temporaries(&self) -> usize {
        let mut removed = 0;
        for dir in subdirs(&self.root) {
            for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !(ktrdr_atomicfile::is_temporary(&name) || name.starts_with(DELETING_PREFIX)) {
                    continue;
                }
                // Version directories are written under a temporary name; `latest` is one file.
                let gone = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    fs::remove_dir_all(entry.path())
                } else {
                    fs::remove_file(entry.path())
                };
                if gone.is_ok() {
                    removed += 1;
                }
            }
        }
        removed
    }

    /// Writes the model and makes it `latest`; returns its metadata with name and version set.
    pub fn save(&self, draft: Draft<'_>) -> Result<Metadata, StoreError> {
        let metrics =
            serde_json::to_vec_pretty(draft.metrics).map_err(|e| io("metrics.json", e))?;
        self.write(draft.metadata.clone(), |tmp| {
            let weights = tmp.join(WEIGHTS);
            draft
                .vs
                .save(&weights)
                .map_err(|e| io(weights.display(), e))?;
            sync_file(&weights)?;
            write_synced(&tmp.join("strategy.yaml"), draft.strategy_yaml.as_bytes())?;
            write_json(&tmp.join("features.json"), &draft.features)?;
            write_synced(&tmp.join("metrics.json"), &metrics)
        })
    }

    /// A stored model as bytes, to copy it to another store.
    pub fn export(&self, name: &str) -> Result<Bundle, StoreError> {
        let s = self.read(name)?;
        let path = s.listed.dir.join(WEIGHTS);
        let weights = fs::read(&path).map_err(|e| io(path.display(), e))?;
        Ok(Bundle {
            metadata: s.listed.metadata,
            weights,
            strategy_yaml: s.strategy_yaml,
            features: s.features,
            metrics_json: s.metrics_json,
        })
    }

    /// Adds a model exported from another store as this store's next version of its strategy,
    /// symbols and timeframe (its name and version are this store's; everything else is kept), and
    /// makes it `latest`. The weights are loaded into the model's architecture before the version
    /// is published, so damaged bytes never become a listed model.
    pub fn import(&self, b: &Bundle) -> Result<Metadata, StoreError> {
        serde_json::from_str::<serde_json::Value>(&b.metrics_json)
            .map_err(|e| StoreError::Invalid(format!("the model's metrics are not JSON: {e}")))?;
        self.write(b.metadata.clone(), |tmp| {
            let weights = tmp.join(WEIGHTS);
            write_synced(&weights, &b.weights)?;
            let mut vs = nn::VarStore::new(Device::Cpu);
            let _model = Mlp::new(&vs.root(), &b.metadata.architecture, &mut Rng::new(0));
            vs.load(&weights).map_err(|e| {
                StoreError::Invalid(format!("the copied model's weights do not load: {e}"))
            })?;
            write_synced(&tmp.join("strategy.yaml"), b.strategy_yaml.as_bytes())?;
            write_json(&tmp.join("features.json"), &b.features)?;
            write_synced(&tmp.join("metrics.json"), b.metrics_json.as_bytes())
        })
    }

    /// Writes a version directory: `content` fills the temporary directory, then the metadata gets
    /// its name and version and the directory is renamed into place and made `latest`.
    fn write(
        &self,
        mut meta: Metadata,
        content: impl FnOnce(&Path) -> Result<(), StoreError>,
    ) -> Result<Metadata, StoreError> {
        let strategy = safe_part(&meta.strategy);
        let sdir = self.root.join(&strategy);
        fs::create_dir_all(&sdir).map_err(|e| io(sdir.display(), e))?;
        let prefix = format!(
            "{}_{}",
            safe_part(&meta.symbols.join("-")),
            safe_part(&meta.timeframe)
        );
        // Unique per save: trainings of the same strategy finishing in the same millisecond must
        // not share (and delete) each other's temporary directory.
        static SAVES: AtomicU64 = AtomicU64::new(0);
        let tmp = sdir.join(format!(
            "{TMP_PREFIX}{prefix}-{}-{}-{}",
            std::process::id(),
            SAVES.fetch_add(1, Ordering::Relaxed),
            Rng::new(meta.created_ms as u64 ^ u64::from(std::process::id())).next_u64()
        ));
        let result = fs::create_dir(&tmp)
            .map_err(|e| io(tmp.display(), e))
            .and_then(|()| content(&tmp))
            .and_then(|()| self.publish(&mut meta, &sdir, &tmp, &prefix, &strategy));
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result.map(|_| meta)
    }

    fn publish(
        &self,
        meta: &mut Metadata,
        sdir: &Path,
        tmp: &Path,
        prefix: &str,
        strategy: &str,
    ) -> Result<(), StoreError> {
        if let Some(pause) = self.save_pause {
            std::thread::sleep(pause);
        }
        let _guard = self.save_lock.lock().unwrap_or_else(|p| p.into_inner());
        let version = next_version(sdir, prefix);
        let dir_name = format!("{prefix}_v{version}");
        meta.version = version;
        meta.name = format!("{strategy}/{dir_name}");
        write_json(&tmp.join("metadata.json"), meta)?;
        sync_dir(tmp)?;
        let fin = sdir.join(&dir_name);
        fs::rename(tmp, &fin).map_err(|e| io(fin.display(), e))?;
        sync_dir(sdir)?;
        self.point_latest(sdir, &dir_name)
    }

    fn point_latest(&self, sdir: &Path, dir_name: &str) -> Result<(), StoreError> {
        let dst = sdir.join(LATEST);
        ktrdr_atomicfile::write_atomic(&dst, |w| w.write_all(dir_name.as_bytes()))
            .map_err(|e| io(dst.display(), e))
    }

    /// Every complete model, newest first within each strategy.
    pub fn list(&self) -> Vec<Listed> {
        let mut out = Vec::new();
        for sdir in subdirs(&self.root) {
            let latest = fs::read_to_string(sdir.join(LATEST)).unwrap_or_default();
            let mut models: Vec<Listed> = subdirs(&sdir)
                .into_iter()
                .filter_map(|dir| {
                    let name = dir.file_name()?.to_string_lossy().into_owned();
                    let metadata = read_metadata(&dir).ok()?;
                    Some(Listed {
                        latest: latest.trim() == name,
                        metadata,
                        dir,
                    })
                })
                .collect();
            models.sort_by(|a, b| {
                b.metadata
                    .created_ms
                    .cmp(&a.metadata.created_ms)
                    .then(b.metadata.version.cmp(&a.metadata.version))
            });
            out.extend(models);
        }
        out
    }

    /// `strategy/dir`, or `strategy` / `strategy/latest` for the newest one.
    pub fn resolve(&self, name: &str) -> Result<PathBuf, StoreError> {
        let mut parts = name.trim().trim_end_matches('/').splitn(2, '/');
        let strategy = parts.next().unwrap_or_default();
        let version = parts.next().unwrap_or(LATEST);
        for p in [strategy, version] {
            if p.is_empty() || p.starts_with('.') || p.contains(['/', '\\']) {
                return Err(StoreError::Invalid(format!(
                    "{name:?} is not a model name (STRATEGY or STRATEGY/SYMBOLS_TF_vN)"
                )));
            }
        }
        let sdir = self.root.join(strategy);
        let dir_name = if version == LATEST {
            fs::read_to_string(sdir.join(LATEST))
                .map_err(|_| StoreError::NotFound(name.to_string()))?
                .trim()
                .to_string()
        } else {
            version.to_string()
        };
        let dir = sdir.join(&dir_name);
        if dir_name.starts_with('.') || !dir.join("metadata.json").is_file() {
            return Err(StoreError::NotFound(name.to_string()));
        }
        Ok(dir)
    }

    pub fn read(&self, name: &str) -> Result<Stored, StoreError> {
        let dir = self.resolve(name)?;
        let metadata = read_metadata(&dir)?;
        let latest = dir
            .parent()
            .and_then(|s| fs::read_to_string(s.join(LATEST)).ok())
            .zip(dir.file_name())
            .is_some_and(|(l, n)| l.trim() == n.to_string_lossy());
        let features = read_json(&dir.join("features.json"))?;
        let metrics_json = fs::read_to_string(dir.join("metrics.json"))
            .map_err(|e| io(dir.join("metrics.json").display(), e))?;
        let strategy_yaml = fs::read_to_string(dir.join("strategy.yaml"))
            .map_err(|e| io(dir.join("strategy.yaml").display(), e))?;
        Ok(Stored {
            listed: Listed {
                metadata,
                latest,
                dir,
            },
            features,
            metrics_json,
            strategy_yaml,
        })
    }

    /// Removes a model; if it was `latest`, the newest remaining version becomes `latest`.
    pub fn delete(&self, name: &str) -> Result<Metadata, StoreError> {
        let dir = self.resolve(name)?;
        let metadata = read_metadata(&dir)?;
        let (Some(sdir), Some(dir_name)) = (dir.parent(), dir.file_name()) else {
            return Err(StoreError::Invalid(format!("{name:?} is not a model name")));
        };
        let dir_name = dir_name.to_string_lossy().into_owned();
        let _guard = self.save_lock.lock().unwrap_or_else(|p| p.into_inner());
        // Renamed first so a crash mid-removal leaves no half model visible.
        let doomed = sdir.join(format!(
            "{DELETING_PREFIX}{dir_name}-{}",
            std::process::id()
        ));
        fs::rename(&dir, &doomed).map_err(|e| io(dir.display(), e))?;
        let _ = fs::remove_dir_all(&doomed);
        let latest = fs::read_to_string(sdir.join(LATEST)).unwrap_or_default();
        if latest.trim() == dir_name {
            let newest = subdirs(sdir)
                .into_iter()
                .filter_map(|d| read_metadata(&d).ok().map(|m| (m.created_ms, m.version, d)))
                .max_by_key(|(c, v, _)| (*c, *v));
            match newest
                .and_then(|(_, _, d)| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            {
                Some(n) => self.point_latest(sdir, &n)?,
                None => {
                    let _ = fs::remove_file(sdir.join(LATEST));
                }
            }
        }
        if subdirs(sdir).is_empty() {
            let _ = fs::remove_file(sdir.join(LATEST));
            let _ = fs::remove_dir(sdir);
        }
        Ok(metadata)
    }

    /// The network with its weights, on `device`.
    pub fn load(&self, name: &str, device: Device) -> Result<Loaded, StoreError> {
        let stored = self.read(name)?;
        let metadata = stored.listed.metadata;
        let mut vs = nn::VarStore::new(device);
        // Initial values are overwritten by the stored weights.
        let model = Mlp::new(&vs.root(), &metadata.architecture, &mut Rng::new(0));
        let weights = stored.listed.dir.join(WEIGHTS);
        vs.load(&weights).map_err(|e| io(weights.display(), e))?;
        Ok(Loaded {
            metadata,
            features: stored.features,
            strategy_yaml: stored.strategy_yaml,
            model,
            vs,
        })
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

fn next_version(sdir: &Path, prefix: &str) -> u32 {
    let taken = fs::read_dir(sdir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_prefix(prefix)?
                .strip_prefix("_v")?
                .parse::<u32>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    taken + 1
}

fn read_metadata(dir: &Path) -> Result<Metadata, StoreError> {
    read_json(&dir.join("metadata.json"))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let text = fs::read_to_string(path).map_err(|e| io(path.display(), e))?;
    serde_json::from_str(&text).map_err(|e| io(path.display(), e))
}

fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), StoreError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| io(path.display(), e))?;
    write_synced(path, &text)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = File::create(path).map_err(|e| io(path.display(), e))?;
    f.write_all(bytes).map_err(|e| io(path.display(), e))?;
    f.sync_all().map_err(|e| io(path.display(), e))
}

fn sync_file(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(path.display(), e))
}

fn sync_dir(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(path.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn latest_is_replaced_without_leaving_a_temporary() {
        let data = tempfile::tempdir().unwrap();
        let store = ModelStore::new(data.path());
        let sdir = store.root().join("s");
        fs::create_dir_all(&sdir).unwrap();
        store.point_latest(&sdir, "X_1h_v1").unwrap();
        store.point_latest(&sdir, "X_1h_v2").unwrap();
        assert_eq!(fs::read_to_string(sdir.join(LATEST)).unwrap(), "X_1h_v2");
        assert_eq!(names(&sdir), [LATEST]);
    }

    #[test]
    fn leftover_temporary_files_and_directories_are_removed() {
        let data = tempfile::tempdir().unwrap();
        let store = ModelStore::new(data.path());
        let sdir = store.root().join("s");
        fs::create_dir_all(sdir.join(".tmp-X_1h-1-2-3")).unwrap();
        fs::create_dir_all(sdir.join(".deleting-X_1h_v1-9")).unwrap();
        fs::create_dir_all(sdir.join("X_1h_v2")).unwrap();
        // A crash while `latest` was replaced, by this version and by earlier ones.
        fs::write(sdir.join(".latest.tmp-a1B2c3"), "X_1h_v2").unwrap();
        fs::write(sdir.join(".tmp-latest-99"), "X_1h_v2").unwrap();
        assert_eq!(store.clean_temporaries(), 4);
        assert_eq!(names(&sdir), ["X_1h_v2"]);
    }
}
