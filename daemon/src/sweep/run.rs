//! The `sweep` operation. It plans again from the texts its record keeps (the same plan that was
//! checked when it started), counts the cells whose result is already written as done, hands the
//! rest to its executor, and ranks what came back. Run again after an interruption (the daemon
//! restarted, crashed, or was stopped), it therefore continues: finished cells are kept, and the
//! others continue from their checkpoints, each under its own earlier operation id.

use super::cell::CellJob;
use super::layout::SweepDir;
use super::tally::{End, Tally};
use super::{SweepCounters, check, local, slurm};
use crate::config::SweepConfig;
use crate::data::DataManager;
use crate::ops::{OpHandle, Registry, Work};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{OpState, OperationRecord};
use ktrdr_protocol::operation::{OpKind, OpParams, OpResult};
use ktrdr_protocol::sweep::{CellOutcome, CellParams, Executor, SweepParams, SweepSummary};
use ktrdr_train::ModelStore;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What every sweep shares.
pub struct Env {
    pub registry: Arc<Registry>,
    pub data: Arc<DataManager>,
    pub store: Arc<ModelStore>,
    pub config: SweepConfig,
    /// `training.device`, resolved by each cell where it runs.
    pub device: String,
    /// `training.torch_threads` (local cells; Slurm tasks use `slurm.cpus_per_task`).
    pub threads: usize,
    /// Local cells running across all sweeps (`sweeps.max_parallel`).
    pub slots: Arc<Semaphore>,
    pub counters: Arc<SweepCounters>,
    pub slurm: Option<slurm::Cluster>,
}

/// What an executor gets from the sweep operation it runs cells for.
pub struct Sweep<'a> {
    pub env: &'a Arc<Env>,
    pub params: &'a SweepParams,
    pub dir: &'a SweepDir,
    /// The cell operations an earlier run of this sweep started, by cell index.
    pub earlier: &'a HashMap<u32, OperationRecord>,
    pub h: &'a OpHandle,
    pub tally: &'a Arc<Tally>,
}

/// The cell operations an earlier run of sweep `id` started, by cell index (the newest each).
pub async fn cell_ops(
    registry: &Registry,
    id: u64,
) -> Result<HashMap<u32, OperationRecord>, WireError> {
    let list = registry
        .list(None, Some(OpKind::SweepCell), u32::MAX)
        .await?;
    let mut out = HashMap::new();
    for rec in list.items {
        if let OpParams::SweepCell(p) = &rec.params
            && p.sweep == id
        {
            out.entry(p.cell.index).or_insert(rec);
        }
    }
    Ok(out)
}

/// Runs cell `job` as an operation (started, or the interrupted one of an earlier run resumed)
/// with `work`, and waits for its outcome, counted in the tally.
pub async fn cell_op(
    env: &Env,
    h: &OpHandle,
    tally: &Tally,
    job: &CellJob,
    executor: Executor,
    earlier: Option<OperationRecord>,
    work: Work,
) -> CellOutcome {
    let index = job.cell.index;
    match started_cell(env, h, job, executor, earlier, work).await {
        Ok(rec) => {
            tally.started();
            outcome(index, follow(&env.registry, rec.id, h).await, tally)
        }
        Err(e) => {
            tally.finished(End::Failed, false);
            CellOutcome {
                cell: index,
                state: OpState::Failed,
                operation: None,
                result: None,
                error: Some(e.message),
            }
        }
    }
}

/// The outcomes of the cells' tasks, by cell index.
pub async fn collect(mut set: tokio::task::JoinSet<CellOutcome>) -> BTreeMap<u32, CellOutcome> {
    let mut out = BTreeMap::new();
    while let Some(done) = set.join_next().await {
        match done {
            Ok(o) => {
                out.insert(o.cell, o);
            }
            Err(e) => tracing::error!(error = %e, "a sweep cell's task failed"),
        }
    }
    out
}

/// Starts cell `job` as an operation, or resumes the one an earlier run left interrupted.
async fn started_cell(
    env: &Env,
    h: &OpHandle,
    job: &CellJob,
    executor: Executor,
    earlier: Option<OperationRecord>,
    work: Work,
) -> Result<OperationRecord, WireError> {
    match earlier {
        Some(r) if r.state == OpState::Interrupted => env.registry.resume(r.id, work).await,
        _ => {
            let params = OpParams::SweepCell(CellParams {
                sweep: h.id(),
                cell: job.cell.clone(),
                label: job.label.clone(),
                executor,
            });
            env.registry.start(params, work).await
        }
    }
}

/// Waits for cell operation `id` to end; cancels it if the sweep is cancelled first.
async fn follow(
    registry: &Arc<Registry>,
    id: u64,
    sweep: &OpHandle,
) -> Result<OperationRecord, WireError> {
    if let Some(mut rx) = registry.subscribe(id) {
        let cancelled = tokio::select! {
            _ = rx.wait_for(|r| r.state.is_terminal()) => false,
            _ = sweep.cancelled() => true,
        };
        if cancelled {
            // A stopping daemon cancels every operation itself (and leaves them resumable).
            if !sweep.is_closing() {
                let _ = registry.cancel(id).await;
            }
            let _ = rx.wait_for(|r| r.state.is_terminal()).await;
        }
    }
    registry.get(id).await
}

/// A finished cell operation as its sweep records it, counted in the tally.
fn outcome(cell: u32, rec: Result<OperationRecord, WireError>, tally: &Tally) -> CellOutcome {
    let rec = match rec {
        Ok(r) => r,
        Err(e) => {
            tally.finished(End::Failed, true);
            return CellOutcome {
                cell,
                state: OpState::Failed,
                operation: None,
                result: None,
                error: Some(e.message),
            };
        }
    };
    let end = match rec.state {
        OpState::Completed => End::Completed,
        OpState::Failed => End::Failed,
        _ => End::Cancelled,
    };
    tally.finished(end, true);
    let result = match rec.result {
        Some(OpResult::SweepCell(r)) => Some(r),
        _ => None,
    };
    CellOutcome {
        cell,
        state: rec.state,
        operation: Some(rec.id),
        result,
        error: rec.error.map(|e| e.message),
    }
}

/// The sweep's work.
pub async fn run(env: Arc<Env>, params: SweepParams, h: OpHandle) -> Result<OpResult, WireError> {
    let plan = ktrdr_sweep::plan(&params.sweep_yaml, &params.strategy_yaml)
        .map_err(|p| WireError::validation(p.to_string()))?;
    let threads = match params.executor {
        Executor::Local => env.threads,
        Executor::Slurm => env.config.slurm.cpus_per_task,
    };
    let jobs = check::jobs(&plan, &params.strategy_yaml, h.id(), &env.device, threads)
        .map_err(|p| WireError::validation(p.join("; ")))?;
    let dir = SweepDir::new(&env.config.slurm.shared_dir, h.id());
    std::fs::create_dir_all(&dir.root)
        .map_err(|e| WireError::internal(format!("cannot create {}: {e}", dir.root.display())))?;
    let earlier = cell_ops(&env.registry, h.id()).await?;
    let mut outcomes = BTreeMap::new();
    let mut todo = Vec::new();
    for job in jobs {
        let i = job.cell.index;
        match dir.cell(i).result()? {
            Some(r) => {
                outcomes.insert(
                    i,
                    CellOutcome {
                        cell: i,
                        state: OpState::Completed,
                        operation: earlier.get(&i).map(|r| r.id),
                        result: Some(r),
                        error: None,
                    },
                );
            }
            None => todo.push(job),
        }
    }
    if !outcomes.is_empty() {
        tracing::info!(
            done = outcomes.len(),
            left = todo.len(),
            "resuming a sweep: finished cells are kept"
        );
    }
    let total = plan.cells.len() as u32;
    let tally = Arc::new(Tally::new(h.clone(), total, outcomes.len() as u32));
    let sweep = Sweep {
        env: &env,
        params: &params,
        dir: &dir,
        earlier: &earlier,
        h: &h,
        tally: &tally,
    };
    let ran = match params.executor {
        Executor::Local => local::run(&sweep, todo).await,
        Executor::Slurm => {
            let Some(cluster) = env.slurm.as_ref() else {
                return Err(WireError::unavailable("no Slurm client"));
            };
            slurm::run(&sweep, cluster, todo).await?
        }
    };
    outcomes.extend(ran);
    // Checkpoints go with finished work; the daemon's shutdown leaves them for the resume.
    if !h.is_closing() {
        for c in &plan.cells {
            crate::training::remove_checkpoint(&dir.cell(c.index).checkpoint());
        }
    }
    let finished = outcomes
        .values()
        .filter(|o| o.state == OpState::Completed)
        .count();
    if h.is_cancelled() {
        return Err(WireError::cancelled(format!(
            "{finished} of {total} cells had finished; `ktrdrctl sweep show {}` ranks them",
            h.id()
        )));
    }
    let outcomes: Vec<CellOutcome> = outcomes.into_values().collect();
    Ok(OpResult::Sweep(summary(&plan, outcomes, &dir)))
}

pub fn summary(
    plan: &ktrdr_sweep::Plan,
    outcomes: Vec<CellOutcome>,
    dir: &SweepDir,
) -> SweepSummary {
    let count = |s: OpState| outcomes.iter().filter(|o| o.state == s).count() as u32;
    let results: Vec<(u32, ktrdr_protocol::sweep::CellMetrics)> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().map(|r| (o.cell, r.metrics)))
        .collect();
    let rows = ktrdr_sweep::rank(&plan.sets, &plan.cells, &results, plan.rank_by);
    SweepSummary {
        cells: plan.cells.len() as u32,
        completed: count(OpState::Completed),
        failed: count(OpState::Failed),
        cancelled: count(OpState::Cancelled),
        resumed: outcomes
            .iter()
            .filter(|o| {
                o.result
                    .as_ref()
                    .is_some_and(|r| r.resumed_from_epoch.is_some())
            })
            .count() as u32,
        slurm_job: dir.slurm_job(),
        best: rows.into_iter().next().filter(|r| r.windows > 0),
        outcomes,
    }
}
