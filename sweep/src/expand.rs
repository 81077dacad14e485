//! From a sweep file and its strategy to a plan: the parameter sets (a grid's cartesian product or
//! the listed sets), each override checked against the strategy, the default symbols and
//! timeframes, and the cells in set-major order.

use crate::overrides;
use crate::problems::Problems;
use crate::spec::{self, BacktestSpec, Sets};
use crate::tree::Node;
use ktrdr_protocol::sweep::{CellSpec, Override, ParamSet, RankBy, WindowSpec};
use serde::{Deserialize, Serialize};

/// The most cells a sweep may have. Each cell is a training run; more than this is far beyond what
/// a machine or a queue gets through, and almost surely a grid or a `step` mistyped.
pub const MAX_CELLS: usize = 100_000;

/// A planned sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    /// As written in the sweep file (relative to it); the client resolves it.
    pub strategy_path: String,
    pub sets: Vec<ParamSet>,
    pub symbols: Vec<String>,
    /// Canonical timeframe names (`1h`, `4h`, `1d`).
    pub timeframes: Vec<String>,
    pub windows: Vec<WindowSpec>,
    /// Set-major: for each set, symbol, timeframe and window; `cells[i].index == i`.
    pub cells: Vec<CellSpec>,
    pub backtest: BacktestSpec,
    pub rank_by: RankBy,
    pub max_parallel: Option<usize>,
}

pub(crate) fn plan(sweep_yaml: &str, strategy_yaml: &str) -> Result<Plan, Problems> {
    let mut p = Problems::new();
    let doc = match Node::from_yaml(sweep_yaml) {
        Ok(doc) => doc,
        Err(e) => {
            p.at("sweep", format!("cannot read the YAML: {e}"));
            return Err(p);
        }
    };
    let strategy = Node::from_yaml(strategy_yaml)
        .map_err(|e| p.at("strategy", format!("cannot read the strategy's YAML: {e}")))
        .ok();
    let sweep = spec::read(&doc, MAX_CELLS, &mut p);
    let sets = match &strategy {
        Some(strategy) => sets(&sweep.sets, strategy, &mut p),
        None => Vec::new(),
    };
    let defaults = strategy.as_ref().map(strategy_defaults).unwrap_or_default();
    let symbols = match sweep.symbols {
        Some(given) => given,
        None => {
            if defaults.0.is_empty() && strategy.is_some() {
                p.at(
                    "symbols",
                    "none given, and the strategy's training_data lists none",
                );
            }
            defaults.0
        }
    };
    let timeframes = sweep.timeframes.unwrap_or(defaults.1);
    let count = [
        sets.len(),
        symbols.len(),
        timeframes.len(),
        sweep.windows.len(),
    ]
    .iter()
    .try_fold(1usize, |acc, n| acc.checked_mul(*n));
    match count {
        Some(n) if n <= MAX_CELLS => {}
        _ => p.at(
            "sweep",
            format!(
                "{} sets x {} symbols x {} timeframes x {}{} windows is more than {MAX_CELLS} cells",
                sets.len(),
                symbols.len(),
                timeframes.len(),
                if sweep.windows.len() > MAX_CELLS { "over " } else { "" },
                sweep.windows.len().min(MAX_CELLS),
            ),
        ),
    }
    if !p.is_empty() {
        return Err(p);
    }
    let cells = cells(&sets, &symbols, &timeframes, &sweep.windows);
    p.or_ok(Plan {
        name: sweep.name,
        strategy_path: sweep.strategy,
        sets,
        symbols,
        timeframes,
        windows: sweep.windows,
        cells,
        backtest: sweep.backtest,
        rank_by: sweep.rank_by,
        max_parallel: sweep.max_parallel,
    })
}

/// The parameter sets, every override path checked against `strategy` (all of them, so that
/// every bad path is reported in one go). The grid is guarded against blowing up before it is
/// multiplied out.
fn sets(spec: &Sets, strategy: &Node, p: &mut Problems) -> Vec<ParamSet> {
    let combos: Vec<Vec<(String, Node)>> = match spec {
        Sets::Base => vec![Vec::new()],
        Sets::Grid(keys) => {
            let mut ok = true;
            for (path, _) in keys {
                if let Err(e) = overrides::resolve(strategy, path) {
                    p.at(format!("grid: {path}"), e);
                    ok = false;
                }
            }
            let size = keys
                .iter()
                .try_fold(1usize, |acc, (_, c)| acc.checked_mul(c.len()));
            if size.is_none_or(|n| n > MAX_CELLS) {
                p.at("grid", format!("more than {MAX_CELLS} combinations"));
                ok = false;
            }
            if !ok {
                return Vec::new();
            }
            product(keys)
        }
        Sets::List(list) => {
            for (i, set) in list.iter().enumerate() {
                for (path, _) in set {
                    if let Err(e) = overrides::resolve(strategy, path) {
                        p.at(format!("sets[{i}]: {path}"), e);
                    }
                }
            }
            list.clone()
        }
    };
    let mut out = Vec::with_capacity(combos.len());
    for (i, combo) in combos.into_iter().enumerate() {
        let mut ovs = Vec::with_capacity(combo.len());
        for (path, value) in combo {
            match value.to_json() {
                Ok(value_json) => ovs.push(Override { path, value_json }),
                Err(e) => p.at(&path, e),
            }
        }
        out.push(ParamSet {
            index: i as u32,
            label: label(&ovs),
            overrides: ovs,
        });
    }
    out
}

/// The cartesian product, the first key varying slowest.
fn product(keys: &[(String, Vec<Node>)]) -> Vec<Vec<(String, Node)>> {
    let mut combos: Vec<Vec<(String, Node)>> = vec![Vec::new()];
    for (path, cands) in keys {
        combos = combos
            .iter()
            .flat_map(|prefix| {
                cands.iter().map(move |c| {
                    let mut combo = prefix.clone();
                    combo.push((path.clone(), c.clone()));
                    combo
                })
            })
            .collect();
    }
    combos
}

/// `path=value, path=value`, or `base`.
fn label(ovs: &[Override]) -> String {
    if ovs.is_empty() {
        return "base".into();
    }
    ovs.iter()
        .map(|o| format!("{}={}", o.path, o.value_json))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The strategy's own symbols and timeframes (`training_data`), in the shapes the strategy parser
/// accepts: `{list: [...], symbol: X}` / `{list: [...], timeframe: X, base_timeframe: X}`, or a bare
/// list or name. Without timeframes the strategy trains on 1h, so that is the default here too.
fn strategy_defaults(strategy: &Node) -> (Vec<String>, Vec<String>) {
    let td = strategy.get("training_data");
    let pick = |key: &str, single: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |n: &Node| {
            if let Some(s) = n.as_str()
                && !out.iter().any(|o| o == s)
            {
                out.push(s.to_string());
            }
        };
        match td.and_then(|t| t.get(key)) {
            Some(Node::Seq(items)) => items.iter().for_each(&mut push),
            Some(one @ Node::String(_)) => push(one),
            Some(m @ Node::Map(_)) => {
                if let Some(Node::Seq(items)) = m.get("list") {
                    items.iter().for_each(&mut push);
                }
                if let Some(one) = m.get(single) {
                    push(one);
                }
            }
            _ => {}
        }
        out
    };
    let symbols = pick("symbols", "symbol");
    let mut timeframes = pick("timeframes", "timeframe");
    if timeframes.is_empty() {
        let base = td
            .and_then(|t| t.get("timeframes"))
            .and_then(|t| t.get("base_timeframe"))
            .and_then(Node::as_str);
        timeframes.push(base.unwrap_or("1h").to_string());
    }
    // Canonical names, as for timeframes written in the sweep; an unknown one is kept as written
    // and refused by the strategy parser when the cell is trained.
    let timeframes = timeframes
        .into_iter()
        .map(|t| match t.parse::<ktrdr_market::Timeframe>() {
            Ok(tf) => tf.as_str().to_string(),
            Err(_) => t,
        })
        .collect();
    (symbols, timeframes)
}

fn cells(
    sets: &[ParamSet],
    symbols: &[String],
    timeframes: &[String],
    windows: &[WindowSpec],
) -> Vec<CellSpec> {
    let mut out = Vec::with_capacity(sets.len() * symbols.len() * timeframes.len() * windows.len());
    for set in sets {
        for symbol in symbols {
            for tf in timeframes {
                for w in windows {
                    out.push(CellSpec {
                        index: out.len() as u32,
                        set: set.index,
                        symbol: symbol.clone(),
                        timeframe: tf.clone(),
                        window: w.index,
                        train: w.train,
                        test: w.test,
                    });
                }
            }
        }
    }
    out
}

/// The base strategy with `set`'s overrides applied and its top-level `name` replaced, as JSON
/// text (which is YAML, so the strategy parser reads it).
pub(crate) fn cell_strategy(
    strategy_yaml: &str,
    set: &ParamSet,
    name: &str,
) -> Result<String, Problems> {
    let mut p = Problems::new();
    let mut doc = match Node::from_yaml(strategy_yaml) {
        Ok(doc) => doc,
        Err(e) => {
            p.at("strategy", format!("cannot read the strategy's YAML: {e}"));
            return Err(p);
        }
    };
    for o in &set.overrides {
        let place = format!("set {} ({}): {}", set.index, set.label, o.path);
        let value = match serde_json::from_str::<Node>(&o.value_json) {
            Ok(v) => v,
            Err(e) => {
                p.at(&place, format!("the value is not JSON: {e}"));
                continue;
            }
        };
        let applied = overrides::resolve(&doc, &o.path)
            .and_then(|route| overrides::apply(&mut doc, &route, value));
        if let Err(e) = applied {
            p.at(&place, e);
        }
    }
    match &mut doc {
        Node::Map(entries) => match entries.iter_mut().find(|(k, _)| k == "name") {
            Some((_, v)) => *v = Node::String(name.to_string()),
            None => entries.insert(0, ("name".into(), Node::String(name.to_string()))),
        },
        other => p.at(
            "strategy",
            format!("must be a mapping, not {}", other.kind()),
        ),
    }
    if !p.is_empty() {
        return Err(p);
    }
    serde_json::to_string_pretty(&doc).map_err(|e| Problems(vec![format!("strategy: {e}")]))
}
