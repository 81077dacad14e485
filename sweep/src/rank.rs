//! Ranking a sweep's results: each parameter set on each symbol and timeframe, its walk-forward
//! windows aggregated (mean and worst of the ranking metric), best first; and the ranking as CSV.

use ktrdr_protocol::sweep::{CellMetrics, CellSpec, ParamSet, RankBy, RankedRow};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Ranks the results of `cells` (pairs of cell index and metrics; a later result for the same cell
/// replaces an earlier one, results for unknown cells are ignored). Groups without any result come
/// last; a NaN metric (a Sharpe ratio over no trades) ranks below every number.
pub fn rank(
    plan_sets: &[ParamSet],
    cells: &[CellSpec],
    results: &[(u32, CellMetrics)],
    by: RankBy,
) -> Vec<RankedRow> {
    let by_cell: HashMap<u32, &CellMetrics> = results.iter().map(|(i, m)| (*i, m)).collect();
    // Groups in plan order, so that equal rows keep the plan's symbol and timeframe order.
    let mut groups: Vec<(&CellSpec, u32, Vec<&CellMetrics>)> = Vec::new();
    let mut index: HashMap<(u32, &str, &str), usize> = HashMap::new();
    for cell in cells {
        let key = (cell.set, cell.symbol.as_str(), cell.timeframe.as_str());
        let g = *index.entry(key).or_insert_with(|| {
            groups.push((cell, 0, Vec::new()));
            groups.len() - 1
        });
        groups[g].1 += 1;
        if let Some(m) = by_cell.get(&cell.index) {
            groups[g].2.push(m);
        }
    }
    let mut rows: Vec<RankedRow> = groups
        .into_iter()
        .map(|(cell, planned, ms)| row(plan_sets, cell, planned, &ms, by))
        .collect();
    rows.sort_by(|a, b| order(a, b, by));
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
    }
    rows
}

fn row(
    plan_sets: &[ParamSet],
    cell: &CellSpec,
    planned: u32,
    ms: &[&CellMetrics],
    by: RankBy,
) -> RankedRow {
    let label = plan_sets
        .iter()
        .find(|s| s.index == cell.set)
        .map(|s| s.label.clone())
        .unwrap_or_else(|| format!("set {}", cell.set));
    let values: Vec<f64> = ms.iter().map(|m| by.of(m)).collect();
    let drawdowns: Vec<f64> = ms.iter().map(|m| m.max_drawdown).collect();
    let windows = ms.len() as u32;
    RankedRow {
        rank: 0,
        set: cell.set,
        label,
        symbol: cell.symbol.clone(),
        timeframe: cell.timeframe.clone(),
        windows,
        positive_windows: ms.iter().filter(|m| m.total_return > 0.0).count() as u32,
        missing_windows: planned.saturating_sub(windows),
        mean: mean(&values),
        worst: worst(&values, by.higher_is_better()),
        mean_return: mean(&ms.iter().map(|m| m.total_return).collect::<Vec<_>>()),
        mean_sharpe: mean(&ms.iter().map(|m| m.sharpe).collect::<Vec<_>>()),
        mean_calmar: mean(&ms.iter().map(|m| m.calmar).collect::<Vec<_>>()),
        worst_drawdown: worst(&drawdowns, false),
        trades: ms.iter().map(|m| m.trades).sum(),
    }
}

/// NaN when there are no values or one of them is NaN.
fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// The least good value: the minimum, or the maximum when lower is better. NaN, the worst of all,
/// when one of them is NaN or there are none.
fn worst(values: &[f64], higher_is_better: bool) -> f64 {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let pick = if higher_is_better { f64::min } else { f64::max };
    values.iter().copied().reduce(pick).unwrap_or(f64::NAN)
}

/// Best first: groups with results, then by mean (NaN last), then by set index.
fn order(a: &RankedRow, b: &RankedRow, by: RankBy) -> Ordering {
    (a.windows == 0)
        .cmp(&(b.windows == 0))
        .then_with(|| match (a.mean.is_nan(), b.mean.is_nan()) {
            (false, false) if by.higher_is_better() => b.mean.total_cmp(&a.mean),
            (false, false) => a.mean.total_cmp(&b.mean),
            (x, y) => x.cmp(&y),
        })
        .then(a.set.cmp(&b.set))
}

/// The ranking as CSV: a header, then one line per row. Text fields are quoted when they hold a
/// comma, a quote or a line break (RFC 4180); a NaN is an empty field.
pub fn csv(rows: &[RankedRow]) -> String {
    let mut out = String::from(
        "rank,set,label,symbol,timeframe,windows,positive_windows,missing_windows,mean,worst,mean_return,mean_sharpe,mean_calmar,worst_drawdown,trades\n",
    );
    for r in rows {
        let fields = [
            r.rank.to_string(),
            r.set.to_string(),
            quote(&r.label),
            quote(&r.symbol),
            quote(&r.timeframe),
            r.windows.to_string(),
            r.positive_windows.to_string(),
            r.missing_windows.to_string(),
            number(r.mean),
            number(r.worst),
            number(r.mean_return),
            number(r.mean_sharpe),
            number(r.mean_calmar),
            number(r.worst_drawdown),
            r.trades.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_protocol::sweep::Span;

    fn sets(n: u32) -> Vec<ParamSet> {
        (0..n)
            .map(|i| ParamSet {
                index: i,
                label: format!("p={i}"),
                overrides: Vec::new(),
            })
            .collect()
    }

    /// `sets` sets on one symbol and one timeframe, `windows` windows each, set-major.
    fn cells(sets: u32, windows: u32) -> Vec<CellSpec> {
        let span = Span {
            start_ms: 0,
            end_ms: 1,
        };
        (0..sets * windows)
            .map(|i| CellSpec {
                index: i,
                set: i / windows,
                symbol: "EURUSD".into(),
                timeframe: "1h".into(),
                window: i % windows,
                train: span,
                test: span,
            })
            .collect()
    }

    fn m(total_return: f64, sharpe: f64, max_drawdown: f64, trades: u64) -> CellMetrics {
        CellMetrics {
            total_return,
            sharpe,
            calmar: total_return / max_drawdown,
            max_drawdown,
            trades,
            ..CellMetrics::default()
        }
    }

    #[test]
    fn aggregates_windows_and_counts_missing_ones() {
        let results = [
            (0, m(0.10, 1.0, 0.05, 4)),
            (1, m(-0.02, -0.5, 0.10, 2)),
            // Cell 2 (set 0, window 2) has no result.
            (3, m(0.01, 0.2, 0.02, 1)),
            (4, m(0.01, 0.4, 0.03, 1)),
            (5, m(0.01, 0.3, 0.01, 1)),
            (99, m(9.0, 9.0, 0.0, 9)),
        ];
        let rows = rank(&sets(2), &cells(2, 3), &results, RankBy::Sharpe);
        assert_eq!(rows.len(), 2);
        let (a, b) = (&rows[0], &rows[1]);
        // Set 1: mean Sharpe 0.3 beats set 0's 0.25.
        assert_eq!((a.rank, a.set, a.label.as_str()), (1, 1, "p=1"));
        assert_eq!(
            (a.windows, a.positive_windows, a.missing_windows),
            (3, 3, 0)
        );
        assert!((a.mean - 0.3).abs() < 1e-12);
        assert_eq!(a.worst, 0.2);
        assert_eq!(a.worst_drawdown, 0.03);
        assert_eq!(a.trades, 3);
        assert_eq!((b.rank, b.set), (2, 0));
        assert_eq!(
            (b.windows, b.positive_windows, b.missing_windows),
            (2, 1, 1)
        );
        assert_eq!(b.mean, 0.25);
        assert_eq!(b.worst, -0.5);
        assert!((b.mean_return - 0.04).abs() < 1e-12);
        assert_eq!(b.worst_drawdown, 0.10);
        assert_eq!(b.trades, 6);
    }

    #[test]
    fn drawdown_ranks_ascending_and_worst_is_the_largest() {
        let results = [
            (0, m(0.1, 1.0, 0.20, 1)),
            (1, m(0.1, 1.0, 0.05, 1)),
            (2, m(0.1, 1.0, 0.04, 1)),
            (3, m(0.1, 1.0, 0.10, 1)),
        ];
        let rows = rank(&sets(2), &cells(2, 2), &results, RankBy::Drawdown);
        assert_eq!(rows[0].set, 1);
        assert!((rows[0].mean - 0.07).abs() < 1e-12);
        assert_eq!(rows[0].worst, 0.10);
        assert_eq!(rows[1].set, 0);
        assert_eq!(rows[1].worst, 0.20);
    }

    #[test]
    fn nan_ranks_below_numbers_and_empty_groups_come_last() {
        let results = [
            // Set 0: a window without trades has a NaN Sharpe.
            (0, m(0.0, f64::NAN, 0.0, 0)),
            (1, m(0.05, 2.0, 0.01, 3)),
            // Set 1: poor but finite.
            (2, m(-0.1, -3.0, 0.2, 5)),
            (3, m(-0.1, -3.0, 0.2, 5)),
            // Set 2: nothing yet. Set 3: also NaN, ties with set 0 by set index.
            (6, m(0.0, f64::NAN, 0.0, 0)),
        ];
        let rows = rank(&sets(4), &cells(4, 2), &results, RankBy::Sharpe);
        let order: Vec<u32> = rows.iter().map(|r| r.set).collect();
        assert_eq!(order, [1, 0, 3, 2]);
        assert!(rows[1].mean.is_nan() && rows[1].worst.is_nan());
        assert_eq!(rows[1].positive_windows, 1);
        assert_eq!(rows[3].windows, 0);
        assert_eq!(rows[3].missing_windows, 2);
        assert!(rows[3].mean.is_nan());
        assert_eq!(
            rows.iter().map(|r| r.rank).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        // By drawdown (lower first) the NaN Sharpe plays no part; the empty group stays last.
        let rows = rank(&sets(4), &cells(4, 2), &results, RankBy::Drawdown);
        let order: Vec<u32> = rows.iter().map(|r| r.set).collect();
        assert_eq!(order, [3, 0, 1, 2]);
    }

    #[test]
    fn ties_go_to_the_lower_set_and_a_later_result_replaces_an_earlier_one() {
        let results = [
            (2, m(0.1, 1.0, 0.1, 1)),
            (0, m(0.1, 0.0, 0.1, 1)),
            (0, m(0.1, 1.0, 0.1, 1)),
        ];
        let rows = rank(&sets(3), &cells(3, 1), &results, RankBy::Sharpe);
        let order: Vec<u32> = rows.iter().map(|r| r.set).collect();
        assert_eq!(order, [0, 2, 1]);
        assert_eq!(rows[0].mean, 1.0);
        assert_eq!(rows[0].windows, 1);
    }

    #[test]
    fn csv_quotes_labels_and_leaves_nan_empty() {
        let mut ps = sets(2);
        ps[0].label = "fuzzy_sets.rsi.oversold.parameters=[0,25,40], a=\"x\"".into();
        let results = [(0, m(0.5, 1.5, 0.25, 7))];
        let text = csv(&rank(&ps, &cells(2, 1), &results, RankBy::Sharpe));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("rank,set,label,symbol,timeframe,windows,"));
        assert_eq!(
            lines[1],
            r#"1,0,"fuzzy_sets.rsi.oversold.parameters=[0,25,40], a=""x""",EURUSD,1h,1,1,0,1.5,1.5,0.5,1.5,2,0.25,7"#
        );
        assert_eq!(lines[2], "2,1,p=1,EURUSD,1h,0,0,1,,,,,,,0");
        assert!(text.ends_with('\n'));
    }
}
