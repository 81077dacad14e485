//! Saved backtest results: one JSON file per operation, `{state_dir}/backtests/{id}.json`, written
//! atomically so `backtest show` never reads half a file. The operation's own result holds the
//! summary; the file adds what is too large for it (trades, the equity curves).

use crate::data::store::write_atomic;
use ktrdr_protocol::WireError;
use ktrdr_protocol::backtest::{BacktestSummary, Trade};
use serde::{Deserialize, Serialize};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detail {
    pub summary: BacktestSummary,
    pub ts: Vec<i64>,
    pub close: Vec<f64>,
    pub equity: Vec<f64>,
    pub buy_hold: Vec<f64>,
    pub trades: Vec<Trade>,
}

pub struct Results {
    dir: PathBuf,
    temporaries: AtomicU64,
}

impl Results {
    pub fn new(state_dir: &Path) -> Results {
        Results {
            dir: state_dir.join("backtests"),
            temporaries: AtomicU64::new(0),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    pub fn save(&self, d: &Detail) -> Result<PathBuf, WireError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            WireError::internal(format!("cannot create {}: {e}", self.dir.display()))
                .with_hint("is the state directory writable and not full?")
        })?;
        let target = self.path(d.summary.id);
        write_atomic(&target, &self.temporaries, |f| {
            serde_json::to_writer(BufWriter::with_capacity(1 << 16, f), d)
                .map_err(|e| e.to_string())
        })?;
        Ok(target)
    }

    pub fn load(&self, id: u64) -> Result<Detail, WireError> {
        let path = self.path(id);
        let file = std::fs::File::open(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                WireError::not_found(format!(
                    "the results of backtest {id} are gone ({} is missing)",
                    path.display()
                ))
                .with_hint("run the backtest again")
            } else {
                WireError::internal(format!("cannot read {}: {e}", path.display()))
            }
        })?;
        serde_json::from_reader(std::io::BufReader::with_capacity(1 << 16, file)).map_err(|e| {
            WireError::internal(format!("{} is damaged: {e}", path.display()))
                .with_hint("run the backtest again")
        })
    }

    /// The ids of every saved result.
    pub fn ids(&self) -> Vec<u64> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
            .collect()
    }

    /// Deletes one saved result (its operation record is gone, so nothing can show it).
    pub fn remove(&self, id: u64) -> bool {
        std::fs::remove_file(self.path(id)).is_ok()
    }

    /// Removes temporaries an interrupted save left behind (they were never visible).
    pub fn clean_temporaries(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.starts_with('.') && n.contains(".tmp-"))
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }
}
