//! `sweep run|show|cancel|list`.
//!
//! `sweep run` reads the sweep file and the strategy file it names (relative to the sweep file)
//! here, sends both texts, and follows the sweep with one progress bar; when it ends, it prints
//! the ranking. `sweep show` ranks any sweep, finished or not, by any out-of-sample metric.

use crate::Failure;
use crate::client::Client;
use crate::commands::ops::{detached, follow_to_end, outcome};
use crate::output::{operation_json, print_json, print_json_line, print_table, table};
use clap::{Subcommand, ValueEnum};
use ktrdr_protocol::model::OpState;
use ktrdr_protocol::request::{OpRef, SweepRun, SweepShow};
use ktrdr_protocol::sweep::{Executor, RankBy, SweepReport};
use ktrdr_protocol::{Reply, Request, WireError};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see crate::cli::Command
pub enum SweepCommand {
    /// Run a sweep file: every cell (parameter set x symbol x timeframe x window) trains on its
    /// train window and is backtested on the window after it; then print the ranking.
    Run {
        /// The sweep file (YAML; docs/sweeps.md).
        file: PathBuf,
        /// Where the cells run (default: the daemon's sweeps.executor).
        #[arg(long, value_enum)]
        executor: Option<ExecutorArg>,
        /// Print the sweep's operation id and return at once.
        #[arg(long)]
        detach: bool,
    },
    /// Rank a sweep's parameter sets by an out-of-sample metric, walk-forward windows aggregated.
    Show {
        id: u64,
        /// The metric (default: the sweep file's rank_by, else sharpe).
        #[arg(long, value_enum)]
        by: Option<ByArg>,
        /// table, or csv for a spreadsheet (--json prints the whole report).
        #[arg(long, value_enum, default_value = "table")]
        format: FormatArg,
        /// Also list every cell with its window, state and metrics.
        #[arg(long)]
        cells: bool,
    },
    /// Cancel a sweep and every cell of it (Slurm: scancel of its array).
    Cancel { id: u64 },
    /// Sweeps, newest first.
    List,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ExecutorArg {
    Local,
    Slurm,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ByArg {
    Sharpe,
    Return,
    Calmar,
    Drawdown,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    Table,
    Csv,
}

impl ByArg {
    fn metric(self) -> RankBy {
        match self {
            ByArg::Sharpe => RankBy::Sharpe,
            ByArg::Return => RankBy::Return,
            ByArg::Calmar => RankBy::Calmar,
            ByArg::Drawdown => RankBy::Drawdown,
        }
    }
}

pub async fn run(c: &mut Client, json: bool, cmd: SweepCommand) -> Result<(), Failure> {
    match cmd {
        SweepCommand::Run {
            file,
            executor,
            detach,
        } => start(c, json, &file, executor, detach).await,
        SweepCommand::Show {
            id,
            by,
            format,
            cells,
        } => show(c, json, id, by.map(ByArg::metric), format, cells).await,
        SweepCommand::Cancel { id } => {
            let Reply::Operation(rec) = c.call(&Request::SweepCancel(OpRef { id })).await? else {
                return Err(WireError::internal("unexpected reply to sweep cancel").into());
            };
            if json {
                print_json(&operation_json(&rec))?;
            } else if rec.state.is_terminal() {
                println!("sweep {id} {}", rec.state.as_str());
            } else {
                println!(
                    "cancellation of sweep {id} requested; it is still {}",
                    rec.state.as_str()
                );
            }
            Ok(())
        }
        SweepCommand::List => list(c, json).await,
    }
}

fn read(path: &Path) -> Result<String, WireError> {
    std::fs::read_to_string(path)
        .map_err(|e| WireError::validation(format!("cannot read {}: {e}", path.display())))
}

async fn start(
    c: &mut Client,
    json: bool,
    file: &Path,
    executor: Option<ExecutorArg>,
    detach: bool,
) -> Result<(), Failure> {
    let sweep_yaml = read(file)?;
    let named = ktrdr_sweep::strategy_path(&sweep_yaml)
        .map_err(|p| WireError::validation(format!("{}: {p}", file.display())))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let strategy = base.join(&named);
    let strategy_yaml = read(&strategy)?;
    let abs = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    let req = Request::SweepRun(SweepRun {
        sweep_yaml,
        sweep_path: abs(file),
        strategy_yaml,
        strategy_path: abs(&strategy),
        executor: executor.map(|e| match e {
            ExecutorArg::Local => Executor::Local,
            ExecutorArg::Slurm => Executor::Slurm,
        }),
        follow: !detach,
    });
    if detach {
        return detached(c, &req, json).await;
    }
    let rec = follow_to_end(c, &req, json).await?;
    let ranked = matches!(rec.state, OpState::Completed | OpState::Cancelled);
    if json {
        // JSON lines, like every followed job: the updates, then one final line (with the
        // ranking when there is one).
        let mut last = serde_json::json!({"event": "final", "operation": operation_json(&rec)});
        if ranked {
            let report = report(c, rec.id, None).await?;
            last["sweep"] = serde_json::to_value(&report).unwrap_or_default();
        }
        print_json_line(&last);
    } else if ranked {
        print_report(&report(c, rec.id, None).await?, false);
    }
    outcome(&rec)
}

async fn show(
    c: &mut Client,
    json: bool,
    id: u64,
    by: Option<RankBy>,
    format: FormatArg,
    cells: bool,
) -> Result<(), Failure> {
    let report = report(c, id, by).await?;
    if json {
        print_json(&report)?;
        return Ok(());
    }
    if format == FormatArg::Csv {
        print!("{}", ktrdr_sweep::csv(&report.rows));
        return Ok(());
    }
    print_report(&report, cells);
    Ok(())
}

async fn report(c: &mut Client, id: u64, by: Option<RankBy>) -> Result<SweepReport, Failure> {
    match c.call(&Request::SweepShow(SweepShow { id, by })).await? {
        Reply::Sweep(r) => Ok(*r),
        _ => Err(WireError::internal("unexpected reply to sweep show").into()),
    }
}

fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "-".into()
    }
}

fn pct(v: f64) -> String {
    if v.is_finite() {
        format!("{:.2}%", v * 100.0)
    } else {
        "-".into()
    }
}

fn print_report(r: &SweepReport, cells: bool) {
    let rec = &r.record;
    let done = r
        .outcomes
        .iter()
        .filter(|o| o.state == OpState::Completed)
        .count();
    let failed = r
        .outcomes
        .iter()
        .filter(|o| o.state == OpState::Failed)
        .count();
    println!(
        "sweep {} ({}): {}, {done}/{} cells done, {failed} failed; ranked by out-of-sample {} (mean over walk-forward windows)",
        rec.id,
        match &rec.params {
            ktrdr_protocol::operation::OpParams::Sweep(p) => format!("{}, {}", p.name, p.executor),
            _ => rec.kind.to_string(),
        },
        rec.state.as_str(),
        r.outcomes.len(),
        r.by
    );
    let mut t = table(&[
        "rank", "set", "params", "symbol", "tf", "windows", "positive", "mean", "worst", "return",
        "sharpe", "calmar", "max dd", "trades",
    ]);
    for row in &r.rows {
        let metric = |v: f64| match r.by {
            RankBy::Return | RankBy::Drawdown => pct(v),
            _ => num(v, 2),
        };
        t.add_row(vec![
            row.rank.to_string(),
            row.set.to_string(),
            row.label.clone(),
            row.symbol.clone(),
            row.timeframe.clone(),
            if row.missing_windows > 0 {
                format!("{} (+{} missing)", row.windows, row.missing_windows)
            } else {
                row.windows.to_string()
            },
            format!("{}/{}", row.positive_windows, row.windows),
            metric(row.mean),
            metric(row.worst),
            pct(row.mean_return),
            num(row.mean_sharpe, 2),
            num(row.mean_calmar, 2),
            pct(row.worst_drawdown),
            row.trades.to_string(),
        ]);
    }
    print_table(&t);
    if cells {
        println!();
        let mut t = table(&[
            "cell", "set", "symbol", "tf", "window", "state", "op", "return", "sharpe", "max dd",
            "trades", "resumed", "ran on",
        ]);
        for o in &r.outcomes {
            let res = o.result.as_ref();
            let m = res.map(|x| x.metrics);
            let spec = r.cells.iter().find(|c| c.index == o.cell);
            let field = |f: fn(&ktrdr_protocol::sweep::CellSpec) -> String| {
                spec.map_or_else(|| "-".into(), f)
            };
            t.add_row(vec![
                o.cell.to_string(),
                field(|c| c.set.to_string()),
                field(|c| c.symbol.clone()),
                field(|c| c.timeframe.clone()),
                field(|c| {
                    format!(
                        "{} test {} to {}",
                        c.window,
                        ktrdr_market::time::format_ms(c.test.start_ms),
                        ktrdr_market::time::format_ms(c.test.end_ms)
                    )
                }),
                o.state.as_str().to_string(),
                o.operation.map_or_else(|| "-".into(), |i| i.to_string()),
                m.map_or_else(|| "-".into(), |m| pct(m.total_return)),
                m.map_or_else(|| "-".into(), |m| num(m.sharpe, 2)),
                m.map_or_else(|| "-".into(), |m| pct(m.max_drawdown)),
                m.map_or_else(|| "-".into(), |m| m.trades.to_string()),
                res.and_then(|x| x.resumed_from_epoch)
                    .map_or_else(|| "-".into(), |e| format!("epoch {e}")),
                res.map_or_else(
                    || o.error.clone().unwrap_or_else(|| "-".into()),
                    |x| x.ran_on.clone(),
                ),
            ]);
        }
        print_table(&t);
    }
}

async fn list(c: &mut Client, json: bool) -> Result<(), Failure> {
    let Reply::Operations(list) = c.call(&Request::SweepList).await? else {
        return Err(WireError::internal("unexpected reply to sweep list").into());
    };
    if json {
        print_json(&list)?;
        return Ok(());
    }
    if list.items.is_empty() {
        println!("no sweeps");
        return Ok(());
    }
    let mut t = table(&["id", "name", "executor", "cells", "state", "progress"]);
    for rec in &list.items {
        let (name, executor, cells) = match &rec.params {
            ktrdr_protocol::operation::OpParams::Sweep(p) => {
                (p.name.clone(), p.executor.to_string(), p.cells.to_string())
            }
            _ => ("-".into(), "-".into(), "-".into()),
        };
        t.add_row(vec![
            rec.id.to_string(),
            name,
            executor,
            cells,
            rec.state.as_str().to_string(),
            rec.progress.message.clone(),
        ]);
    }
    print_table(&t);
    Ok(())
}
