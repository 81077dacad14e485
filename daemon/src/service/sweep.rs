//! The `sweep` service: sweeps as operations (`sweep`, one `sweep_cell` child per cell), their
//! rankings, and their resumption. The adapter is the executor: this daemon's threads
//! (`local`) or a Slurm cluster (`slurm`: one job array of `ktrdrd job run` tasks).

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::config::{Section, SweepConfig};
use crate::ops::{Registry, Work};
use crate::sweep::check;
use crate::sweep::layout::SweepDir;
use crate::sweep::run::{Env, cell_ops};
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{
    HealthStatus, OpState, OperationList, OperationRecord, ServiceHealth, ServiceInfo,
};
use ktrdr_protocol::operation::{OpKind, OpParams, OpResult};
use ktrdr_protocol::request::{SweepRun, SweepShow};
use ktrdr_protocol::sweep::{CellOutcome, Executor, SweepParams, SweepReport};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub struct SweepService {
    env: Arc<Env>,
    metrics: RequestMetrics,
}

impl SweepService {
    pub fn new(env: Env) -> Self {
        SweepService {
            env: Arc::new(env),
            metrics: RequestMetrics::new(),
        }
    }

    pub fn config(&self) -> &SweepConfig {
        &self.env.config
    }

    fn registry(&self) -> &Arc<Registry> {
        &self.env.registry
    }

    fn work(&self, params: SweepParams) -> Work {
        let env = Arc::clone(&self.env);
        Box::new(move |h| Box::pin(crate::sweep::run::run(env, params, h)))
    }

    /// Checks the whole sweep (and, for Slurm, the cluster) and starts it; nothing starts when
    /// anything is wrong.
    pub async fn run(&self, req: SweepRun) -> Result<OperationRecord, WireError> {
        let executor = req.executor.unwrap_or(self.env.config.executor);
        let (plan, _) = check::check(
            &req.sweep_yaml,
            &req.strategy_yaml,
            &self.env.data,
            &self.env.device,
            self.env.threads,
        )
        .await?;
        self.preflight(executor).await?;
        let max_parallel = match executor {
            Executor::Local => plan
                .max_parallel
                .unwrap_or(self.env.config.max_parallel)
                .min(self.env.config.max_parallel),
            Executor::Slurm => plan.max_parallel.unwrap_or(0),
        };
        let params = SweepParams {
            name: plan.name.clone(),
            file: req.sweep_path.clone(),
            strategy_file: req.strategy_path.clone(),
            executor,
            sets: plan.sets.len() as u32,
            symbols: plan.symbols.clone(),
            timeframes: plan.timeframes.clone(),
            windows: plan.windows.len() as u32,
            cells: plan.cells.len() as u32,
            max_parallel: max_parallel as u32,
            rank_by: plan.rank_by,
            sweep_yaml: req.sweep_yaml,
            strategy_yaml: req.strategy_yaml,
        };
        self.env
            .counters
            .sweeps_started
            .fetch_add(1, Ordering::Relaxed);
        let work = self.work(params.clone());
        self.registry().start(OpParams::Sweep(params), work).await
    }

    /// What Slurm must offer before a sweep is handed to it (nothing for local sweeps).
    async fn preflight(&self, executor: Executor) -> Result<(), WireError> {
        if executor != Executor::Slurm {
            return Ok(());
        }
        let cluster = self
            .env
            .slurm
            .as_ref()
            .ok_or_else(|| WireError::unavailable("no Slurm client is configured"))?;
        cluster.preflight().await
    }

    /// Continues an interrupted sweep under its own id.
    pub async fn resume(&self, rec: OperationRecord) -> Result<OperationRecord, WireError> {
        let OpParams::Sweep(params) = rec.params else {
            return Err(WireError::internal("not a sweep"));
        };
        self.preflight(params.executor).await?;
        let work = self.work(params);
        self.registry().resume(rec.id, work).await
    }

    /// Resumes every sweep a previous daemon left interrupted; called once at start.
    pub async fn resume_interrupted(&self) {
        let list = match self
            .registry()
            .list(Some(OpState::Interrupted), Some(OpKind::Sweep), u32::MAX)
            .await
        {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot list interrupted sweeps");
                return;
            }
        };
        for rec in list.items {
            let id = rec.id;
            match self.resume(rec).await {
                Ok(_) => tracing::info!(id, "resumed an interrupted sweep"),
                Err(e) => tracing::error!(id, error = %e, "cannot resume an interrupted sweep"),
            }
        }
    }

    /// The sweep's cells ranked by `by` (its file's `rank_by` when absent). A sweep still
    /// running (or interrupted, or cancelled) is ranked on the cells finished so far.
    pub async fn show(&self, req: SweepShow) -> Result<SweepReport, WireError> {
        let rec = self.registry().get(req.id).await?;
        let OpParams::Sweep(params) = &rec.params else {
            return Err(WireError::validation(format!(
                "operation {} is a {}, not a sweep",
                rec.id, rec.kind
            ))
            .with_hint("`ktrdrctl sweep list` shows the sweeps"));
        };
        let plan = ktrdr_sweep::plan(&params.sweep_yaml, &params.strategy_yaml)
            .map_err(|p| WireError::internal(format!("the sweep no longer plans: {p}")))?;
        let by = req.by.unwrap_or(params.rank_by);
        let outcomes = match &rec.result {
            Some(OpResult::Sweep(s)) => s.outcomes.clone(),
            _ => self.outcomes_so_far(rec.id, &plan).await?,
        };
        let results: Vec<(u32, ktrdr_protocol::sweep::CellMetrics)> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().map(|r| (o.cell, r.metrics)))
            .collect();
        let rows = ktrdr_sweep::rank(&plan.sets, &plan.cells, &results, by);
        Ok(SweepReport {
            record: rec,
            by,
            rows,
            outcomes,
            cells: plan.cells,
        })
    }

    /// Each cell's outcome from its files and its operation's record.
    async fn outcomes_so_far(
        &self,
        id: u64,
        plan: &ktrdr_sweep::Plan,
    ) -> Result<Vec<CellOutcome>, WireError> {
        let ops = cell_ops(self.registry(), id).await?;
        let dir = SweepDir::new(&self.env.config.slurm.shared_dir, id);
        let mut out = Vec::with_capacity(plan.cells.len());
        for c in &plan.cells {
            let op = ops.get(&c.index);
            let result = dir.cell(c.index).result()?;
            let state = match (&result, op) {
                (Some(_), _) => OpState::Completed,
                (None, Some(r)) => r.state,
                (None, None) => OpState::Pending,
            };
            out.push(CellOutcome {
                cell: c.index,
                state,
                operation: op.map(|r| r.id),
                result,
                error: op.and_then(|r| r.error.as_ref().map(|e| e.message.clone())),
            });
        }
        Ok(out)
    }

    /// Cancels the sweep; it cancels its cells (and its Slurm array) before it ends.
    pub async fn cancel(&self, id: u64) -> Result<OperationRecord, WireError> {
        let rec = self.registry().get(id).await?;
        if rec.kind != OpKind::Sweep {
            return Err(WireError::validation(format!(
                "operation {id} is a {}, not a sweep",
                rec.kind
            ))
            .with_hint(format!("cancel it with `ktrdrctl ops cancel {id}`")));
        }
        self.registry().cancel(id).await
    }

    pub async fn list(&self) -> Result<OperationList, WireError> {
        self.registry().list(None, Some(OpKind::Sweep), 100).await
    }
}

impl Service for SweepService {
    fn name(&self) -> &'static str {
        "sweep"
    }

    fn info(&self) -> ServiceInfo {
        let c = &self.env.config;
        let mut settings = BTreeMap::new();
        settings.insert("executor".into(), c.executor.to_string());
        settings.insert("max_parallel".into(), c.max_parallel.to_string());
        settings.insert(
            "shared_dir".into(),
            c.slurm.shared_dir.display().to_string(),
        );
        settings.insert("worker".into(), c.slurm.worker.display().to_string());
        if let Some(p) = &c.slurm.partition {
            settings.insert("slurm_partition".into(), p.clone());
        }
        let endpoint = match c.executor {
            Executor::Local => "local threads".to_string(),
            Executor::Slurm => format!(
                "slurm partition {}",
                c.slurm.partition.as_deref().unwrap_or("(default)")
            ),
        };
        ServiceInfo {
            name: self.name().into(),
            mode: c.executor.to_string(),
            endpoint: Some(endpoint),
            env: Section::Sweep.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            let c = &self.env.counters;
            let running = self
                .registry()
                .live_by_kind()
                .into_iter()
                .find(|(k, _, _)| *k == OpKind::SweepCell)
                .map_or(0, |(_, _, r)| r);
            ServiceHealth {
                name: self.name().into(),
                status: HealthStatus::Ok,
                detail: format!(
                    "{running} cells running; {} cells completed, {} failed, {} resumed from a checkpoint",
                    c.cells_completed.load(Ordering::Relaxed),
                    c.cells_failed.load(Ordering::Relaxed),
                    c.cells_resumed.load(Ordering::Relaxed),
                ),
            }
        })
    }

    fn metrics(&self) -> &RequestMetrics {
        &self.metrics
    }

    fn export(&self, out: &mut crate::telemetry::Exporter<'_>) -> std::fmt::Result {
        let c = &self.env.counters;
        let n = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        out.counters(
            "sweep_cells",
            "Sweep cells finished in this daemon, by outcome (Slurm cells are counted by their tasks' results).",
            None,
            &[
                ([("outcome", "completed")], n(&c.cells_completed)),
                ([("outcome", "failed")], n(&c.cells_failed)),
                ([("outcome", "cancelled")], n(&c.cells_cancelled)),
            ],
        )?;
        out.counter(
            "sweep_cells_resumed",
            "Sweep cells that continued from a checkpoint instead of training from scratch.",
            None,
            n(&c.cells_resumed),
        )
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.env.counters;
        super::metrics::read_counters(&[
            ("sweeps_started", &c.sweeps_started),
            ("cells_completed", &c.cells_completed),
            ("cells_failed", &c.cells_failed),
            ("cells_cancelled", &c.cells_cancelled),
            ("cells_resumed", &c.cells_resumed),
        ])
    }
}
