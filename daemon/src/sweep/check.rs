//! A sweep checked whole before anything runs: the sweep file and every override path
//! (`ktrdr-sweep`), every cell's strategy (as training would plan it), and the stored bars of
//! every symbol and timeframe against every window. All problems are reported at once, so one
//! edit fixes a file instead of one run per typo.

use super::cell::{CellJob, Costs, strategy_name};
use crate::data::DataManager;
use crate::data::input;
use ktrdr_market::time::{DAY_MS, format_ms};
use ktrdr_protocol::WireError;
use ktrdr_protocol::sweep::Span;
use ktrdr_sweep::Plan;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Edges of a window may fall on a weekend or a holiday: the stored bars must reach within
/// this of each edge (or one bar, for timeframes longer than that).
const EDGE_SLACK_MS: i64 = 3 * DAY_MS;

/// The plan and its cells' jobs for sweep `sweep` (0 while checking, before it has an id).
pub fn jobs(
    plan: &Plan,
    strategy_yaml: &str,
    sweep: u64,
    device: &str,
    threads: usize,
) -> Result<Vec<CellJob>, Vec<String>> {
    let mut problems = Vec::new();
    let mut jobs = Vec::with_capacity(plan.cells.len());
    for c in &plan.cells {
        let Some(set) = plan.sets.iter().find(|s| s.index == c.set) else {
            problems.push(format!("cell {}: no parameter set {}", c.index, c.set));
            continue;
        };
        let name = strategy_name(&plan.name, sweep, c.index);
        match ktrdr_sweep::cell_strategy(strategy_yaml, set, &name) {
            Ok(yaml) => jobs.push(CellJob {
                sweep,
                cell: c.clone(),
                label: set.label.clone(),
                strategy_yaml: yaml,
                costs: costs(plan),
                device: device.to_string(),
                threads,
            }),
            Err(p) => problems.extend(p.0.into_iter().map(|m| format!("set {}: {m}", set.index))),
        }
    }
    if problems.is_empty() {
        Ok(jobs)
    } else {
        Err(problems)
    }
}

pub fn costs(plan: &Plan) -> Costs {
    let b = &plan.backtest;
    Costs {
        capital: b.capital,
        commission: b.commission,
        slippage: b.slippage,
        position_fraction: b.position_fraction,
        allow_short: b.allow_short,
    }
}

/// Plans the sweep and checks everything; the error lists every problem, one per line.
pub async fn check(
    sweep_yaml: &str,
    strategy_yaml: &str,
    data: &Arc<DataManager>,
    device: &str,
    threads: usize,
) -> Result<(Plan, Vec<CellJob>), WireError> {
    let (sy, st) = (sweep_yaml.to_string(), strategy_yaml.to_string());
    let dev = device.to_string();
    let planned = crate::blocking::run("sweep planning", move || {
        let plan = match ktrdr_sweep::plan(&sy, &st) {
            Ok(p) => p,
            Err(p) => return Ok(Err(p.0)),
        };
        let jobs = match jobs(&plan, &st, 0, &dev, threads) {
            Ok(j) => j,
            Err(p) => return Ok(Err(p)),
        };
        // Each parameter set on each symbol and timeframe plans the same in every window.
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for j in &jobs {
            let key = (j.cell.set, j.cell.symbol.clone(), j.cell.timeframe.clone());
            if !seen.insert(key) {
                continue;
            }
            if let Err(e) = ktrdr_train::plan(
                &j.strategy_yaml,
                Some(vec![j.cell.symbol.clone()]),
                Some(vec![j.cell.timeframe.clone()]),
            ) {
                problems.push(format!(
                    "set {} ({}) on {} {}: {e}",
                    j.cell.set, j.label, j.cell.symbol, j.cell.timeframe
                ));
            }
        }
        Ok(if problems.is_empty() {
            Ok((plan, jobs))
        } else {
            Err(problems)
        })
    })
    .await?;
    let (plan, jobs) = match planned {
        Ok(p) => p,
        Err(problems) => return Err(invalid(problems)),
    };
    let mut problems = Vec::new();
    for symbol in &plan.symbols {
        for tf in &plan.timeframes {
            if let Err(p) = coverage(data, &plan, symbol, tf).await {
                problems.push(p);
            }
        }
    }
    if !problems.is_empty() {
        return Err(invalid(problems));
    }
    Ok((plan, jobs))
}

fn invalid(problems: Vec<String>) -> WireError {
    let n = problems.len();
    let list: Vec<String> = problems.into_iter().map(|p| format!("  - {p}")).collect();
    WireError::validation(format!(
        "the sweep has {n} problem{}:\n{}",
        if n == 1 { "" } else { "s" },
        list.join("\n")
    ))
    .with_hint("fix the sweep file (docs/sweeps.md); nothing was started")
}

/// Whether the stored bars reach every window of the sweep.
async fn coverage(
    data: &Arc<DataManager>,
    plan: &Plan,
    symbol: &str,
    tf: &str,
) -> Result<(), String> {
    let key = input::key(symbol, tf).map_err(|e| e.message)?;
    let range = data.range(key.clone()).await.map_err(|e| {
        format!(
            "{symbol} {tf}: {}{}",
            e.message,
            if e.kind == ktrdr_protocol::ErrorKind::NotFound {
                format!(" (import it, or `ktrdrctl data resample {symbol} FROM {tf} --save`)")
            } else {
                String::new()
            }
        )
    })?;
    let (Some(first), Some(last)) = (range.first_ms, range.last_ms) else {
        return Err(format!("{symbol} {tf}: no bars stored"));
    };
    let slack = EDGE_SLACK_MS.max(key.timeframe.duration_ms());
    let spans = plan
        .windows
        .iter()
        .flat_map(|w| [("train", w.index, w.train), ("test", w.index, w.test)]);
    let mut short = Vec::new();
    for (what, i, Span { start_ms, end_ms }) in spans {
        if first > start_ms + slack || last + slack < end_ms {
            short.push(format!(
                "window {i} {what} {} to {}",
                format_ms(start_ms),
                format_ms(end_ms)
            ));
        }
    }
    if short.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{symbol} {tf}: the stored bars ({} to {}) do not cover {}",
            format_ms(first),
            format_ms(last),
            short.join(", ")
        ))
    }
}
