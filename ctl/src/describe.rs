//! Readable lines for an operation's typed parameters and result, for the human table of
//! `ops show`, `ops watch` and every followed job (`--json` prints the structs themselves).

use crate::output::{duration, timestamp_ms};
use ktrdr_protocol::operation::{LoadSummary, OpParams, OpResult};

type Rows = Vec<(&'static str, String)>;

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "-".into())
}

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(|| "-".into(), timestamp_ms)
}

fn money(v: Option<f64>, default: &str) -> String {
    v.map_or_else(|| default.into(), |v| format!("{v}"))
}

fn percent(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

/// One or more `(field, value)` rows describing what the operation was asked to do.
pub fn params(p: &OpParams) -> Rows {
    match p {
        OpParams::Demo(d) => vec![(
            "params",
            format!(
                "{} s in {} steps{}",
                d.seconds,
                d.steps,
                d.fail_at
                    .map(|f| format!(", failing at step {f}"))
                    .unwrap_or_default()
            ),
        )],
        OpParams::IbLoad(l) => vec![
            ("series", format!("{} {}", l.symbol, l.timeframe)),
            (
                "load",
                format!(
                    "{} from {} to {}",
                    l.mode.as_str(),
                    when(l.start_ms),
                    l.end_ms.map_or_else(|| "now".into(), timestamp_ms)
                ),
            ),
        ],
        OpParams::DataImport(i) => vec![
            ("series", format!("{} {}", i.symbol, i.timeframe)),
            (
                "file",
                format!(
                    "{} (naive times in {})",
                    i.path,
                    i.timezone.as_deref().unwrap_or("UTC")
                ),
            ),
        ],
        OpParams::Training(t) => {
            let mut rows = vec![
                ("strategy", format!("{} ({})", t.strategy, t.file)),
                (
                    "data",
                    format!(
                        "{} on {}, {} to {}",
                        t.symbols.join(", "),
                        t.timeframes.join(", "),
                        t.start.as_deref().unwrap_or("the first bar"),
                        t.end.as_deref().unwrap_or("the last bar")
                    ),
                ),
                ("device", opt(&t.device)),
            ];
            if let Some(h) = &t.host_service {
                rows.push(("host service", h.clone()));
            }
            rows
        }
        OpParams::Backtest(b) => {
            let mut rows = vec![
                ("model", b.model.clone()),
                (
                    "bars",
                    format!(
                        "{} {}, {} to {}",
                        b.symbol,
                        b.timeframe,
                        b.start.as_deref().unwrap_or("the first bar"),
                        b.end.as_deref().unwrap_or("the last bar")
                    ),
                ),
                (
                    "costs",
                    format!(
                        "capital {}, commission {}, slippage {}, fraction {}{}",
                        money(b.capital, "default"),
                        money(b.commission, "default"),
                        money(b.slippage, "default"),
                        money(b.position_fraction, "default"),
                        if b.allow_short {
                            ", shorts allowed"
                        } else {
                            ""
                        }
                    ),
                ),
            ];
            if let Some(h) = &b.host_service {
                rows.push(("host service", h.clone()));
            }
            rows
        }
        OpParams::Sweep(p) => vec![
            ("sweep", format!("{} ({})", p.name, p.file)),
            ("strategy", p.strategy_file.clone()),
            (
                "cells",
                format!(
                    "{} = {} parameter sets x {} x {} x {} windows",
                    p.cells,
                    p.sets,
                    p.symbols.join(", "),
                    p.timeframes.join(", "),
                    p.windows
                ),
            ),
            (
                "executor",
                if p.max_parallel > 0 {
                    format!("{}, {} at once", p.executor, p.max_parallel)
                } else {
                    p.executor.to_string()
                },
            ),
        ],
        OpParams::SweepCell(p) => vec![
            ("sweep", p.sweep.to_string()),
            (
                "cell",
                format!(
                    "{} (set {}: {}) on {} {}, window {}",
                    p.cell.index,
                    p.cell.set,
                    p.label,
                    p.cell.symbol,
                    p.cell.timeframe,
                    p.cell.window
                ),
            ),
            (
                "train",
                format!(
                    "{} to {}",
                    timestamp_ms(p.cell.train.start_ms),
                    timestamp_ms(p.cell.train.end_ms)
                ),
            ),
            (
                "test",
                format!(
                    "{} to {}",
                    timestamp_ms(p.cell.test.start_ms),
                    timestamp_ms(p.cell.test.end_ms)
                ),
            ),
            ("executor", p.executor.to_string()),
        ],
    }
}

fn load_rows(l: &LoadSummary, rows: &mut Rows) {
    if let Some(c) = &l.contract {
        rows.push(("contract", c.clone()));
    }
    rows.push((
        "received",
        format!(
            "{} bars in {} segments ({} added, {} replaced, {} writes)",
            l.bars_received, l.segments, l.added, l.replaced, l.writes
        ),
    ));
    rows.push((
        "stored",
        format!(
            "{} rows, {} to {}",
            l.rows_after,
            when(l.first_ms),
            when(l.last_ms)
        ),
    ));
    if l.pacing_wait_secs > 0.0 || l.retries > 0 {
        rows.push((
            "waits",
            format!(
                "{} waiting for IB pacing, {} retries",
                duration(l.pacing_wait_secs),
                l.retries
            ),
        ));
    }
    if l.pacing_violations > 0 || l.violation_backoff_secs > 0.0 || l.reconnect_wait_secs > 0.0 {
        rows.push((
            "back-off",
            format!(
                "{} after {} pacing violations, {} waiting to reconnect",
                duration(l.violation_backoff_secs),
                l.pacing_violations,
                duration(l.reconnect_wait_secs)
            ),
        ));
    }
    if let Some(n) = &l.note {
        rows.push(("note", n.clone()));
    }
    if let (Some(h), Some(id)) = (&l.host_service, l.host_operation) {
        rows.push(("host service", format!("{h}, operation {id}")));
    }
}

/// Rows describing what a completed operation produced.
pub fn result(r: &OpResult) -> Rows {
    let mut rows = Vec::new();
    match r {
        OpResult::Demo(d) => rows.push((
            "result",
            format!("slept {} s in {} steps", d.slept_secs, d.steps),
        )),
        OpResult::IbLoad(l) => load_rows(l, &mut rows),
        OpResult::DataImport(i) => {
            rows.push((
                "imported",
                format!(
                    "{} rows read ({} layout, {}), {} duplicates in the file",
                    i.rows_read, i.layout, i.timezone, i.duplicates_in_file
                ),
            ));
            rows.push((
                "stored",
                format!(
                    "{} -> {} rows ({} added, {} replaced) in {}",
                    i.rows_before, i.rows_after, i.added, i.replaced, i.stored
                ),
            ));
        }
        OpResult::Training(t) => {
            rows.push(("model", t.model.clone()));
            rows.push((
                "test",
                format!(
                    "accuracy {}{}",
                    percent(t.test_accuracy),
                    t.test_loss
                        .map(|l| format!(", loss {l:.4}"))
                        .unwrap_or_default()
                ),
            ));
            rows.push((
                "epochs",
                format!(
                    "{} run, best {}{}",
                    t.epochs_run,
                    t.best_epoch,
                    if t.stopped_early {
                        ", stopped early"
                    } else {
                        ""
                    }
                ),
            ));
            rows.push((
                "samples",
                format!(
                    "{} train / {} validation / {} test, {:.0} samples/s on {}",
                    t.samples.train,
                    t.samples.validation,
                    t.samples.test,
                    t.samples_per_sec,
                    t.device
                ),
            ));
            rows.push((
                "trained in",
                format!("{} ({} parameters)", duration(t.train_secs), t.parameters),
            ));
            if let Some(e) = t.resumed_from_epoch {
                rows.push(("resumed", format!("from the checkpoint after epoch {e}")));
            }
            if let (Some(h), Some(id)) = (&t.host_service, t.host_operation) {
                rows.push((
                    "host service",
                    format!(
                        "{h}, operation {id}, model {}",
                        t.host_model.as_deref().unwrap_or("?")
                    ),
                ));
            }
        }
        OpResult::Backtest(b) => {
            let m = &b.metrics;
            rows.push((
                "replayed",
                format!(
                    "{} bars, {} to {}",
                    b.bars,
                    timestamp_ms(b.first_ms),
                    timestamp_ms(b.last_ms)
                ),
            ));
            rows.push((
                "return",
                format!(
                    "{} (buy & hold {}), max drawdown {}",
                    percent(m.total_return),
                    percent(b.buy_hold.total_return),
                    percent(m.max_drawdown)
                ),
            ));
            rows.push((
                "trades",
                format!(
                    "{}, win rate {}, Sharpe {:.2}",
                    m.trades,
                    percent(m.win_rate),
                    m.sharpe
                ),
            ));
            for w in &b.warnings {
                rows.push(("warning", w.clone()));
            }
            if let (Some(h), Some(id)) = (&b.host_service, b.host_operation) {
                rows.push(("host service", format!("{h}, operation {id}")));
            }
        }
        OpResult::Sweep(s) => {
            rows.push((
                "cells",
                format!(
                    "{} completed, {} failed, {} cancelled of {} ({} resumed from a checkpoint)",
                    s.completed, s.failed, s.cancelled, s.cells, s.resumed
                ),
            ));
            if let Some(b) = &s.best {
                rows.push((
                    "best",
                    format!(
                        "set {} ({}) on {} {}: mean {:.3} over {} windows, {} positive",
                        b.set,
                        b.label,
                        b.symbol,
                        b.timeframe,
                        b.mean,
                        b.windows,
                        b.positive_windows
                    ),
                ));
            }
            if let Some(j) = s.slurm_job {
                rows.push(("slurm job", j.to_string()));
            }
        }
        OpResult::SweepCell(c) => {
            rows.push(("model", c.model.clone()));
            rows.push((
                "trained",
                format!(
                    "{} epochs{}, test accuracy {}, {}",
                    c.epochs_run,
                    c.resumed_from_epoch
                        .map(|e| format!(" (resumed after epoch {e})"))
                        .unwrap_or_default(),
                    percent(c.test_accuracy),
                    duration(c.train_secs)
                ),
            ));
            let m = &c.metrics;
            rows.push((
                "out of sample",
                format!(
                    "return {} (buy & hold {}), Sharpe {:.2}, max drawdown {}, {} trades over {} bars",
                    percent(m.total_return),
                    percent(m.buy_hold_return),
                    m.sharpe,
                    percent(m.max_drawdown),
                    m.trades,
                    c.backtest_bars
                ),
            ));
            rows.push(("ran on", c.ran_on.clone()));
        }
    }
    rows
}
