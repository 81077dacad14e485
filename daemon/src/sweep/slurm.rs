//! The Slurm executor: a sweep's cells as one job array (`sbatch --array --requeue`), each task
//! running `ktrdrd job run <cell>/spec.json` ([`super::worker`]). This daemon stays the one place
//! the sweep is defined and followed: each cell is still an operation here, whose progress comes
//! from the files its task writes on the shared filesystem and whose state comes from `squeue`
//! (read once per `slurm.poll_secs` for the whole array, not once per cell).
//!
//! Slurm states map onto operation states: pending and running tasks are running cells (with
//! Slurm's reason while pending); a preempted or requeued task is still running (it continues
//! from its checkpoint when Slurm starts it again); a task that leaves the queue without a
//! result failed (its log's last lines say why), and `scancel` is a cancel. When this daemon
//! stops, the tasks go on; when it comes back, the resumed sweep follows the tasks still queued
//! and submits only the cells no array holds any more.

use super::cell::CellJob;
use super::layout::{CellDir, SweepDir};
use super::run::{Sweep, cell_op, collect};
use super::worker::WorkerSpec;
use crate::config::SlurmConfig;
use crate::ops::Work;
use ktrdr_protocol::model::Progress;
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::sweep::{CellOutcome, Executor};
use ktrdr_protocol::{ErrorKind, WireError};
use ktrdr_slurm::{JobState, Slurm, SlurmError, Submission, TaskState};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The cluster as this daemon reaches it: the Slurm commands and the `[slurm]` settings.
pub struct Cluster {
    client: Arc<Slurm>,
    config: SlurmConfig,
}

/// Slurm's failures as the user sees them; the kind is the variant's, never the message's.
fn slurm_error(e: SlurmError) -> WireError {
    let message = e.to_string();
    match e {
        SlurmError::NotInstalled { .. } => WireError::unavailable(message)
            .with_hint("install Slurm's client commands on this machine, or run the sweep with --executor local"),
        SlurmError::Rejected(_) => WireError::validation(message)
            .with_hint("check the [slurm] settings (`ktrdrctl config`): partition, account, time limit, memory, gres"),
        SlurmError::InvalidSubmission(_) => WireError::validation(message),
        _ => WireError::unavailable(message),
    }
}

impl Cluster {
    pub fn new(config: &SlurmConfig) -> Cluster {
        Cluster {
            client: Arc::new(Slurm::new()),
            config: config.clone(),
        }
    }

    /// Runs a Slurm command off the runtime (they are processes; squeue can take a while on a
    /// busy controller).
    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Slurm) -> Result<T, SlurmError> + Send + 'static,
    ) -> Result<T, WireError> {
        let client = Arc::clone(&self.client);
        tokio::task::spawn_blocking(move || f(&client))
            .await
            .map_err(|e| WireError::internal(format!("Slurm call failed: {e}")))?
            .map_err(slurm_error)
    }

    /// What must hold before any cell is submitted: the commands answer, the partition exists,
    /// the worker binary is there.
    pub async fn preflight(&self) -> Result<(), WireError> {
        self.call(|s| s.check()).await?;
        if let Some(p) = self.config.partition.clone() {
            let known = self.call(|s| s.partitions()).await?;
            if !known.iter().any(|k| k.trim_end_matches('*') == p) {
                return Err(WireError::validation(format!(
                    "Slurm has no partition {p:?} (it has: {})",
                    known.join(", ")
                ))
                .with_hint("set slurm.partition to one of those (`sinfo` lists them)"));
            }
        }
        if !self.config.worker.is_file() {
            return Err(WireError::validation(format!(
                "the worker binary {} does not exist",
                self.config.worker.display()
            ))
            .with_hint("set slurm.worker to the ktrdrd the compute nodes run"));
        }
        Ok(())
    }

    fn submission(
        &self,
        sweep: u64,
        dir: &SweepDir,
        cells: &[u32],
        max_parallel: u32,
    ) -> Submission {
        let c = &self.config;
        Submission {
            job_name: format!("ktrdr-sweep-{sweep}"),
            script: dir.script(),
            array: cells.to_vec(),
            max_running: (max_parallel > 0).then_some(max_parallel),
            partition: c.partition.clone(),
            account: c.account.clone(),
            time_limit: c.time_limit.clone(),
            cpus_per_task: Some(c.cpus_per_task as u32),
            mem: c.mem.clone(),
            gres: c.gres.clone(),
            output: dir
                .root
                .join("cells")
                .join("%a")
                .join("task.log")
                .display()
                .to_string(),
            requeue: true,
            extra_args: c.extra_args.clone(),
            env: Vec::new(),
        }
    }
}

/// One poll of the sweep's arrays: every task Slurm still knows, by (job, task).
#[derive(Debug, Clone, Default)]
struct Snapshot {
    /// Polls so far; 0 until the first one answered.
    seq: u64,
    tasks: HashMap<(u64, u32), TaskState>,
    error: Option<String>,
}

/// The worker script every task of the sweep's arrays runs.
fn script(worker: &std::path::Path, dir: &SweepDir) -> String {
    format!(
        "#!/bin/sh\n# ktrdr sweep: one cell per array task (ktrdrd job run; docs/sweeps.md).\nexec {} job run {}/cells/\"$SLURM_ARRAY_TASK_ID\"/spec.json\n",
        shell_quote(&worker.display().to_string()),
        shell_quote(&dir.root.display().to_string()),
    )
}

/// Single-quoted for sh: paths with spaces or quotes stay one word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Submits the cells of `todo` no array of the sweep still holds, follows every one of them until
/// it ends, and returns their outcomes.
pub async fn run(
    sweep: &Sweep<'_>,
    cluster: &Cluster,
    todo: Vec<CellJob>,
) -> Result<BTreeMap<u32, CellOutcome>, WireError> {
    let Sweep {
        env,
        params,
        dir,
        earlier,
        h,
        tally,
    } = *sweep;
    if todo.is_empty() {
        return Ok(BTreeMap::new());
    }
    // Tasks an earlier run submitted and Slurm still holds go on where they are.
    let mut held: HashMap<u32, u64> = HashMap::new();
    for job in dir.slurm_jobs() {
        let tasks = cluster.call(move |s| s.queue(job)).await?;
        for t in tasks {
            if let Some(task) = t.task {
                held.insert(task, job);
            }
        }
    }
    let mut assigned: HashMap<u32, u64> = HashMap::new();
    let fresh: Vec<u32> = todo
        .iter()
        .map(|j| j.cell.index)
        .filter(|i| match held.get(i) {
            Some(&job) => {
                assigned.insert(*i, job);
                false
            }
            None => true,
        })
        .collect();
    if !fresh.is_empty() {
        for job in &todo {
            let cell = dir.cell(job.cell.index);
            cell.create()?;
            super::layout::write_json(
                &cell.spec(),
                &WorkerSpec {
                    job: job.clone(),
                    data_dir: env.data.dir().to_path_buf(),
                    cell_dir: cell.dir.clone(),
                },
            )?;
        }
        super::layout::write(
            &dir.script(),
            script(&cluster.config.worker, dir).as_bytes(),
        )?;
        let sub = cluster.submission(h.id(), dir, &fresh, params.max_parallel);
        let job = cluster.call(move |s| s.submit(&sub)).await?;
        dir.add_slurm_job(job)?;
        tracing::info!(
            job,
            cells = fresh.len(),
            "submitted the sweep's cells as a Slurm array"
        );
        for i in fresh {
            assigned.insert(i, job);
        }
    }
    let jobs: Vec<u64> = {
        let mut j: Vec<u64> = assigned.values().copied().collect();
        j.sort_unstable();
        j.dedup();
        j
    };
    let (tx, rx) = watch::channel(Snapshot::default());
    let stop = tokio_util::sync::CancellationToken::new();
    let poller = tokio::spawn(poll(
        Arc::clone(&cluster.client),
        jobs.clone(),
        cluster.config.poll,
        tx,
        stop.clone(),
    ));
    let mut set = JoinSet::new();
    for job in todo {
        let index = job.cell.index;
        let Some(&array) = assigned.get(&index) else {
            continue;
        };
        let (env, h, tally) = (Arc::clone(env), h.clone(), Arc::clone(tally));
        let work = task_work(
            Arc::clone(&cluster.client),
            dir.cell(index),
            array,
            index,
            rx.clone(),
        );
        let earlier = earlier.get(&index).cloned();
        set.spawn(
            async move { cell_op(&env, &h, &tally, &job, Executor::Slurm, earlier, work).await },
        );
    }
    let out = collect(set).await;
    stop.cancel();
    let _ = poller.await;
    if h.is_cancelled() && !h.is_closing() {
        // Whatever a cell's own cancel missed (tasks not yet started): the whole arrays.
        for job in jobs {
            if let Err(e) = cluster.call(move |s| s.cancel(job)).await {
                tracing::warn!(job, error = %e, "scancel failed");
            }
        }
    }
    Ok(out)
}

async fn poll(
    client: Arc<Slurm>,
    jobs: Vec<u64>,
    every: std::time::Duration,
    tx: watch::Sender<Snapshot>,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut seq = 0;
    loop {
        let (c, j) = (Arc::clone(&client), jobs.clone());
        let polled = tokio::task::spawn_blocking(move || {
            let mut tasks = HashMap::new();
            for job in j {
                for t in c.queue(job)? {
                    if let Some(task) = t.task {
                        tasks.insert((job, task), t);
                    }
                }
            }
            Ok::<_, SlurmError>(tasks)
        })
        .await;
        seq += 1;
        tx.send_modify(|s| match polled {
            Ok(Ok(tasks)) => {
                s.seq = seq;
                s.tasks = tasks;
                s.error = None;
            }
            Ok(Err(e)) => s.error = Some(e.to_string()),
            Err(e) => s.error = Some(e.to_string()),
        });
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// A Slurm cell's work, as an operation of this daemon: follow task `task` of array `job` until
/// its result appears, it fails, or the cell is cancelled (then `scancel` it; not when the daemon
/// is only stopping: the task goes on and the next daemon follows it).
fn task_work(
    client: Arc<Slurm>,
    cell: CellDir,
    job: u64,
    task: u32,
    mut rx: watch::Receiver<Snapshot>,
) -> Work {
    Box::new(move |h| {
        Box::pin(async move {
            let name = format!("{job}_{task}");
            // Polls in which the task was gone or completed without a result: one may be the
            // gap between its result being written and the poll; two is an ending.
            let mut missing = 0;
            loop {
                if let Some(r) = cell.result()? {
                    return Ok(OpResult::SweepCell(r));
                }
                let snap = rx.borrow_and_update().clone();
                if snap.seq > 0 {
                    // squeue lists finished tasks too (until MinJobAge): a completed task's
                    // result may land just after the poll that saw it end.
                    match snap
                        .tasks
                        .get(&(job, task))
                        .filter(|t| t.state != JobState::Completed)
                    {
                        Some(t) => {
                            missing = 0;
                            if let Some(e) = ended(t, &cell, &name) {
                                return Err(e);
                            }
                            h.progress(progress(t, &cell, &name));
                        }
                        None => {
                            missing += 1;
                            if missing >= 2 {
                                let n = name.clone();
                                let shown = tokio::task::spawn_blocking({
                                    let c = Arc::clone(&client);
                                    move || c.show(&n)
                                })
                                .await
                                .ok()
                                .and_then(Result::ok)
                                .flatten();
                                if let Some(r) = cell.result()? {
                                    return Ok(OpResult::SweepCell(r));
                                }
                                let state = shown
                                    .map(|s| {
                                        format!(
                                            "ended {} (exit code {})",
                                            s.state.name(),
                                            s.exit_code
                                        )
                                    })
                                    .unwrap_or_else(|| "left the queue".into());
                                return Err(no_result(&name, &state, &cell));
                            }
                        }
                    }
                }
                tokio::select! {
                    changed = rx.changed() => {
                        if changed.is_err() {
                            return Err(WireError::unavailable("the sweep stopped following its Slurm tasks"));
                        }
                    }
                    _ = h.cancelled() => {
                        if !h.is_closing() {
                            let n = name.clone();
                            let c = Arc::clone(&client);
                            let _ = tokio::task::spawn_blocking(move || c.cancel_task(&n)).await;
                            return Err(WireError::cancelled(format!("scancel {name}")));
                        }
                        return Err(WireError::cancelled(format!(
                            "the daemon stopped; Slurm task {name} goes on and is followed again when it starts"
                        )));
                    }
                }
            }
        })
    })
}

/// A task state that ends the cell (other than with a result).
fn ended(t: &TaskState, cell: &CellDir, name: &str) -> Option<WireError> {
    let why = match &t.state {
        JobState::Failed => "failed",
        JobState::Timeout => "ran out of time (slurm.time_limit)",
        JobState::NodeFail => "lost its node",
        JobState::OutOfMemory => "ran out of memory (slurm.mem)",
        JobState::Cancelled => {
            return Some(WireError::cancelled(format!(
                "Slurm task {name} was cancelled"
            )));
        }
        _ => return None,
    };
    Some(no_result(name, why, cell))
}

fn no_result(name: &str, why: &str, cell: &CellDir) -> WireError {
    let tail = cell.log_tail(3);
    WireError::new(
        ErrorKind::Internal,
        format!(
            "Slurm task {name} {why} without a result{}",
            if tail.is_empty() {
                String::new()
            } else {
                format!(": {tail}")
            }
        ),
    )
    .with_hint(format!("its log: {}", cell.log().display()))
}

fn progress(t: &TaskState, cell: &CellDir, name: &str) -> Progress {
    match &t.state {
        JobState::Pending => Progress {
            message: format!("Slurm task {name} pending ({})", t.reason),
            ..Progress::default()
        },
        JobState::Requeued | JobState::Preempted | JobState::Suspended => Progress {
            message: format!(
                "Slurm task {name} {} (restart {}): it resumes from its checkpoint",
                t.state.name(),
                t.restarts
            ),
            ..cell.progress().unwrap_or_default()
        },
        _ => {
            let mut p = cell.progress().unwrap_or_default();
            p.message = if p.message.is_empty() {
                format!("Slurm task {name} running")
            } else {
                format!("{name}: {}", p.message)
            };
            p
        }
    }
}
