//! Sweeps: a grid of strategy overrides x symbols x timeframes x walk-forward windows. Each cell
//! trains the strategy on its train window and backtests the model on the out-of-sample window
//! that follows; the cells' results are ranked per parameter set. Planning (sweep files,
//! overrides, windows, ranking) is pure code in `ktrdr-sweep`; this module runs it.
//!
//! - [`check`]: a sweep checked whole before anything runs (overrides, every cell's strategy,
//!   the stored bars against every window), every problem listed at once.
//! - [`cell`]: one cell's work (train with per-epoch checkpoints, backtest, result), the same
//!   code in this daemon and in a Slurm task.
//! - [`layout`]: a sweep's files under the shared directory (specs, checkpoints, progress,
//!   results, logs).
//! - [`run`]: the `sweep` operation: skips finished cells, resumes the rest, hands them to an
//!   executor, ranks.
//! - [`local`]: the local executor: cells as operations of this daemon, `max_parallel` at once.
//! - [`slurm`]: the Slurm executor: one job array, followed through `squeue` and the files the
//!   tasks write; cancelled with `scancel`.
//! - [`worker`]: `ktrdrd job run SPEC`, what each Slurm task runs (no socket, no daemon).
//! - [`tally`]: the sweep's progress (cells done, running, failed, ETA).

pub mod cell;
pub mod check;
pub mod layout;
pub mod local;
pub mod run;
pub mod slurm;
pub mod tally;
pub mod worker;

use ktrdr_protocol::sweep::CellResult;
use ktrdr_protocol::{ErrorKind, WireError};
use std::sync::atomic::{AtomicU64, Ordering};

/// Cells by outcome, for `stats` and Prometheus.
#[derive(Default)]
pub struct SweepCounters {
    pub sweeps_started: AtomicU64,
    pub cells_completed: AtomicU64,
    pub cells_failed: AtomicU64,
    pub cells_cancelled: AtomicU64,
    /// Cells that continued from a checkpoint instead of training from scratch.
    pub cells_resumed: AtomicU64,
}

impl SweepCounters {
    pub fn count(&self, outcome: &Result<CellResult, WireError>) {
        let c = match outcome {
            Ok(r) => {
                if r.resumed_from_epoch.is_some() {
                    self.cells_resumed.fetch_add(1, Ordering::Relaxed);
                }
                &self.cells_completed
            }
            Err(e) if e.kind == ErrorKind::Cancelled => &self.cells_cancelled,
            Err(_) => &self.cells_failed,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}
