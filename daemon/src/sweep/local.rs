//! The local executor: each cell an operation of this daemon (`sweep_cell`), at most the sweep's
//! `max_parallel` at once and at most `sweeps.max_parallel` across all sweeps. Each cell trains on
//! an OS thread of its own with `training.torch_threads` torch threads, so the runtime's workers
//! stay free for requests while a sweep runs.

use super::cell::{self, CellJob};
use super::layout::CellDir;
use super::run::{Env, Sweep, cell_op, collect};
use crate::ops::Work;
use ktrdr_protocol::model::OpState;
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::sweep::{CellOutcome, Executor};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// A local cell's work, as an operation.
pub fn cell_work(env: Arc<Env>, job: CellJob, dir: CellDir) -> Work {
    Box::new(move |h| {
        Box::pin(async move {
            let (hp, hc) = (h.clone(), h.clone());
            let outcome = cell::run(
                &job,
                &dir,
                &env.data,
                &env.store,
                Arc::new(move |p| hp.progress(p)),
                Arc::new(move || hc.is_cancelled()),
                "local".into(),
            )
            .await;
            env.counters.count(&outcome);
            outcome.map(OpResult::SweepCell)
        })
    })
}

/// Runs `todo` and returns each cell's outcome. Returns early (cells not started left pending)
/// when the sweep is cancelled or the daemon stops.
pub async fn run(sweep: &Sweep<'_>, todo: Vec<CellJob>) -> BTreeMap<u32, CellOutcome> {
    let Sweep {
        env,
        dir,
        earlier,
        h,
        tally,
        ..
    } = *sweep;
    let max_parallel = sweep.params.max_parallel.max(1) as usize;
    let per_sweep = Arc::new(Semaphore::new(max_parallel));
    let mut set = JoinSet::new();
    let mut not_run = BTreeMap::new();
    for job in todo {
        let index = job.cell.index;
        if h.is_cancelled() {
            not_run.insert(index, not_started(index));
            continue;
        }
        // Slots are taken here, in the sweep's order, before the cell's task exists: the sweep's
        // first, then the daemon's (a sweep waiting for its own slot holds no daemon slot).
        let slots = async {
            let mine = Arc::clone(&per_sweep).acquire_owned().await;
            let daemon = Arc::clone(&env.slots).acquire_owned().await;
            (mine, daemon)
        };
        let permits = tokio::select! {
            p = slots => p,
            _ = h.cancelled() => {
                not_run.insert(index, not_started(index));
                continue;
            }
        };
        let (env, h, tally) = (Arc::clone(env), h.clone(), Arc::clone(tally));
        let cell_dir = dir.cell(index);
        let earlier = earlier.get(&index).cloned();
        set.spawn(async move {
            let _permits = permits;
            let work = cell_work(Arc::clone(&env), job.clone(), cell_dir);
            cell_op(&env, &h, &tally, &job, Executor::Local, earlier, work).await
        });
    }
    let mut out = collect(set).await;
    out.extend(not_run);
    out
}

fn not_started(index: u32) -> CellOutcome {
    CellOutcome {
        cell: index,
        state: OpState::Pending,
        operation: None,
        result: None,
        error: None,
    }
}
