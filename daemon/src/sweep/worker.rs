//! `ktrdrd job run SPEC`: one sweep cell, run by a Slurm array task on whatever node Slurm
//! picked. No socket and no daemon: the task reads bars from the shared data directory, writes
//! its checkpoint, model, progress and result under the shared directories, and exits. The
//! daemon that submitted the array follows those files.
//!
//! Slurm's `scancel`, a preemption and `scontrol requeue` all send SIGTERM before SIGKILL: the
//! training stops at its next batch and the checkpoint of its last finished epoch stays, so a
//! requeued task continues from there.

use super::cell::{self, CellJob};
use super::layout::{self, CellDir};
use crate::data::DataManager;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::Progress;
use ktrdr_train::ModelStore;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What `spec.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerSpec {
    pub job: CellJob,
    /// The data directory (bars and models), as the compute nodes mount it.
    pub data_dir: PathBuf,
    /// The cell's directory (checkpoint, progress, result).
    pub cell_dir: PathBuf,
}

/// How often a task rewrites its progress file (a shared filesystem is slow to write to).
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Bar cache of a task: it reads one or two series.
const CACHE_BYTES: u64 = 256 * 1024 * 1024;

pub fn run(spec_path: &Path) -> Result<(), WireError> {
    let spec: WorkerSpec = layout::read_json(
        spec_path,
        Some("the daemon writes it when it submits the sweep: resume the sweep to write it again"),
    )?
    .ok_or_else(|| {
        WireError::not_found(format!("no job spec at {}", spec_path.display()))
            .with_hint("the sweep's shared directory must be mounted on this node at the same path")
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| WireError::internal(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(run_cell(spec))
}

async fn run_cell(spec: WorkerSpec) -> Result<(), WireError> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut int)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::warn!("signalled: stopping at the next batch; the checkpoint is kept");
            stop.store(true, Ordering::Relaxed);
        });
    }
    let data = DataManager::open(spec.data_dir.clone(), CACHE_BYTES);
    let store = Arc::new(ModelStore::new(&spec.data_dir));
    let dir = CellDir {
        dir: spec.cell_dir.clone(),
    };
    let last = Mutex::new(Instant::now() - PROGRESS_EVERY);
    let pdir = dir.clone();
    let progress = Arc::new(move |p: Progress| {
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < PROGRESS_EVERY {
            return;
        }
        *last = Instant::now();
        tracing::info!(percent = p.percent, "{}", p.message);
        if let Err(e) = pdir.write_progress(&p) {
            tracing::warn!(error = %e, "cannot write progress");
        }
    });
    let s = Arc::clone(&stop);
    let ran_on = ran_on();
    tracing::info!(cell = spec.job.cell.index, sweep = spec.job.sweep, %ran_on, "cell starting");
    let result = cell::run(
        &spec.job,
        &dir,
        &data,
        &store,
        progress,
        Arc::new(move || s.load(Ordering::Relaxed)),
        ran_on,
    )
    .await?;
    tracing::info!(
        model = %result.model,
        total_return = result.metrics.total_return,
        resumed_from_epoch = result.resumed_from_epoch,
        "cell done"
    );
    Ok(())
}

/// `slurm 12_3 on node1`: the task and node, as Slurm names them.
fn ran_on() -> String {
    let or_unknown = |v: Result<String, std::env::VarError>| v.unwrap_or_else(|_| "?".into());
    let job = or_unknown(std::env::var("SLURM_ARRAY_JOB_ID"));
    let task = or_unknown(std::env::var("SLURM_ARRAY_TASK_ID"));
    let node = or_unknown(std::env::var("SLURMD_NODENAME"));
    format!("slurm {job}_{task} on {node}")
}
