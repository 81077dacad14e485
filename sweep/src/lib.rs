//! Sweep planning: a grid of strategy-parameter overrides × symbols × timeframes × walk-forward
//! windows, each cell trained on its train window and backtested on the test window after it
//! (by the daemon; this crate only plans and ranks).
//!
//! Pure: text in, plans and text out. The client reads the sweep file and the strategy it names
//! and hands both texts to [`plan`]; the daemon builds each cell's strategy with
//! [`cell_strategy`] and, once cells report their metrics, orders them with [`rank`] and [`csv`].
//! The shared shapes ([`ParamSet`], [`WindowSpec`], [`CellSpec`], [`RankedRow`], ...) live in
//! `ktrdr_protocol::sweep` so both binaries and the operations database agree on them.
//!
//! Layout, one job per module:
//! - `spec`: the sweep file, read key by key (unknown keys refused) into a grid, sets, symbols,
//!   timeframes, windows and backtest settings ([`BacktestSpec`]).
//! - `windows`: dates, durations, and the walk-forward or split windows.
//! - `overrides`: dotted paths into the strategy file (`indicators.rsi.period`), resolved against
//!   the base strategy and written into it.
//! - `expand`: the plan ([`Plan`]): parameter sets from the grid or list, every override checked,
//!   default symbols and timeframes from the strategy, cells in set-major order; and
//!   [`cell_strategy`].
//! - `rank`: aggregation of window results per set, symbol and timeframe; the ranking; CSV.
//! - `tree`: the YAML/JSON tree that keeps the strategy's key order; `problems`: [`Problems`],
//!   every problem at once.
//!
//! Errors are never the first problem alone: [`plan`] checks the whole sweep file and every
//! override path of every set before it answers, so one run shows everything to fix.

mod expand;
mod overrides;
mod problems;
mod rank;
mod spec;
mod tree;
mod windows;

pub use expand::{MAX_CELLS, Plan};
pub use ktrdr_protocol::sweep::{
    CellMetrics, CellSpec, Override, ParamSet, RankBy, RankedRow, Span, WindowSpec,
};
pub use problems::Problems;
pub use rank::{csv, rank};
pub use spec::BacktestSpec;

/// Plans the sweep in `sweep_yaml` over the strategy in `strategy_yaml` (the text of the file the
/// sweep's `strategy:` names). Every problem is reported at once.
pub fn plan(sweep_yaml: &str, strategy_yaml: &str) -> Result<Plan, Problems> {
    expand::plan(sweep_yaml, strategy_yaml)
}

/// The `strategy:` a sweep file names (a path relative to the sweep file), for the client, which
/// reads that file and sends its text with the sweep's.
pub fn strategy_path(sweep_yaml: &str) -> Result<String, Problems> {
    let doc = tree::Node::from_yaml(sweep_yaml)
        .map_err(|e| Problems(vec![format!("the sweep file is not YAML: {e}")]))?;
    match doc.get("strategy").and_then(tree::Node::as_str) {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(Problems(vec![
            "strategy: missing; name the base strategy file (a path relative to the sweep file)"
                .into(),
        ])),
    }
}

/// The strategy one cell trains: `strategy_yaml` with `set`'s overrides applied and its top-level
/// `name` replaced by `name`. Returned as JSON text, which is YAML: `ktrdr_strategy::load` and the
/// training options read it as they read the file. Key order is kept as written.
pub fn cell_strategy(strategy_yaml: &str, set: &ParamSet, name: &str) -> Result<String, Problems> {
    expand::cell_strategy(strategy_yaml, set, name)
}

#[cfg(test)]
mod tests;
