//! Saved backtest results: one JSON file per operation, `{state_dir}/backtests/{id}.json`, written
//! atomically so `backtest show` never reads half a file (and a full disk is an error, not a
//! truncated file). The operation's own result holds the summary; the file adds what is too large
//! for it (trades, the equity curves).

use ktrdr_protocol::WireError;
use ktrdr_protocol::backtest::{BacktestSummary, Trade};
use ktrdr_store::files::write_file;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

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
}

impl Results {
    pub fn new(state_dir: &Path) -> Results {
        Results {
            dir: state_dir.join("backtests"),
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
        write_file(&target, |w| {
            serde_json::to_writer(w, d).map_err(std::io::Error::from)
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
                    .is_some_and(ktrdr_atomicfile::is_temporary)
            })
            .filter(|e| std::fs::remove_file(e.path()).is_ok())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_protocol::backtest::{BacktestConfig, BuyHoldSummary};

    /// A result of `bars` hourly bars with no trades; its JSON takes about 70 bytes a bar.
    fn detail(bars: usize) -> Detail {
        let ts: Vec<i64> = (0..bars as i64)
            .map(|i| 1_700_000_000_000 + i * 3_600_000)
            .collect();
        let close: Vec<f64> = (0..bars).map(|i| 100.0 + (i as f64 * 0.37).sin()).collect();
        let prices = ktrdr_backtest::Prices {
            ts: &ts,
            open: &close,
            high: &close,
            low: &close,
            close: &close,
        };
        let hold = vec![[0.1f32, 0.8, 0.1]; bars];
        let config = BacktestConfig::default();
        let out = ktrdr_backtest::run(prices, &hold, &config).unwrap();
        let bh = &out.buy_hold;
        Detail {
            summary: BacktestSummary {
                id: 7,
                model: "m/X_1h_v1".into(),
                symbol: "X".into(),
                timeframe: "1h".into(),
                first_ms: ts[0],
                last_ms: ts[bars - 1],
                bars: bars as u64,
                config,
                metrics: out.metrics.clone(),
                buy_hold: BuyHoldSummary {
                    total_return: bh.total_return,
                    annual_return: bh.annual_return,
                    volatility: bh.volatility,
                    sharpe: bh.sharpe,
                    max_drawdown: bh.max_drawdown,
                    end_equity: 0.0,
                },
                actions: [0, bars as u64, 0],
                acted: 0,
                warnings: Vec::new(),
                host_service: None,
                host_operation: None,
            },
            ts,
            close,
            equity: out.equity,
            buy_hold: out.buy_hold.equity,
            trades: out.trades,
        }
    }

    /// ~29 KB of JSON: less than the 64 KiB write buffer, so every byte reaches the disk only in
    /// the final flush, which is where a full disk shows.
    fn small_detail() -> Detail {
        let d = detail(400);
        let len = serde_json::to_vec(&d).unwrap().len();
        assert!((20_000..60_000).contains(&len), "{len} bytes");
        d
    }

    fn entries(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn saves_and_loads_back() {
        let state = tempfile::tempdir().unwrap();
        let results = Results::new(state.path());
        let d = small_detail();
        results.save(&d).unwrap();
        // serde_json's float parsing may differ in the last bit, so compare what parses exactly.
        let back = results.load(7).unwrap();
        assert_eq!((back.summary.id, &back.ts), (7, &d.ts));
        assert_eq!(back.equity.len(), d.equity.len());
        assert_eq!(entries(results.dir()), ["7.json"]);
    }

    #[test]
    fn a_save_on_a_full_disk_fails_and_leaves_nothing() {
        let Some(fs) = ktrdr_atomicfile::testing::Tmpfs::mount(64 << 10) else {
            return;
        };
        // 16 KiB left: room for half the result.
        std::fs::write(fs.path().join("filler"), vec![0u8; 48 << 10]).unwrap();
        let results = Results::new(fs.path());
        let e = results.save(&small_detail()).unwrap_err();
        assert!(e.message.contains("space"), "{e:?}");
        assert_eq!(entries(results.dir()), Vec::<String>::new());
        assert!(results.load(7).is_err());
    }

    #[test]
    fn a_save_past_the_file_size_limit_fails_and_leaves_nothing() {
        if !ktrdr_atomicfile::testing::under_file_size_limit(
            "backtest::results::tests::a_save_past_the_file_size_limit_fails_and_leaves_nothing",
            8 << 10,
        ) {
            return;
        }
        let state = tempfile::tempdir().unwrap();
        let results = Results::new(state.path());
        assert!(results.save(&small_detail()).is_err());
        assert_eq!(entries(results.dir()), Vec::<String>::new());
    }
}
