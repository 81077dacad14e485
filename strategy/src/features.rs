//! The feature matrix: fuzzy membership columns and their lags, per timeframe, aligned onto the base
//! timeframe's rows.
//!
//! Per timeframe, each indicator is computed once on that timeframe's own bars and each fuzzy set is
//! applied to the indicator output it names. Coarser timeframes are then aligned onto the base rows
//! with [`crate::align`] (only bars already closed), and lags are taken on the base rows:
//! `{col}_lag_{k}` is the value `k` base rows earlier.
//!
//! The matrix holds `f32`: it is the network's input dtype, membership degrees in [0, 1] need no more
//! than f32's seven digits, and at a million rows and dozens of columns half the memory is most of
//! the cost (the pipeline is bound by writing fresh pages, not by arithmetic). Indicator and fuzzy
//! columns on their own ([`indicator_columns`], [`fuzzy_columns`]) stay `f64`.

use ktrdr_market::{Bars, Timeframe};

use crate::align::closed_bar_index;
use crate::config::Strategy;
use crate::fuzzy;
use crate::indicators::Inputs;
use crate::parallel::par_map;

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// The base timeframe's open times, one per row.
    pub ts: Vec<i64>,
    pub names: Vec<String>,
    pub columns: Vec<Vec<f32>>,
}

impl FeatureMatrix {
    pub fn rows(&self) -> usize {
        self.ts.len()
    }

    pub fn column(&self, name: &str) -> Option<&[f32]> {
        let i = self.names.iter().position(|n| n == name)?;
        Some(&self.columns[i])
    }

    /// Rows where every feature is defined (past every warm-up and lag).
    pub fn complete_rows(&self) -> Vec<usize> {
        (0..self.rows())
            .filter(|&i| self.columns.iter().all(|c| !c[i].is_nan()))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    #[error("the strategy needs {0} bars, none were given")]
    MissingTimeframe(Timeframe),
    #[error("the {0} bars are not in strictly increasing time order")]
    NotNormal(Timeframe),
}

/// Every indicator's outputs for one series, in the strategy's order (indicators in parallel).
pub fn indicator_columns(strategy: &Strategy, bars: &Bars) -> Vec<Vec<Vec<f64>>> {
    let inp = Inputs::from_bars(bars);
    par_map(&strategy.indicators, |si| si.indicator.compute(&inp))
}

/// The fuzzy membership columns (`rsi_oversold`, ...) for one series, in the strategy's order.
pub fn fuzzy_columns(strategy: &Strategy, bars: &Bars) -> Vec<(String, Vec<f64>)> {
    let outputs = indicator_columns(strategy, bars);
    par_map(&strategy.fuzzy, |f| {
        let x = &outputs[f.indicator][f.output];
        (f.column(), f.membership.apply(x))
    })
}

/// Builds the feature matrix on the base timeframe's rows from one series per strategy timeframe.
///
/// One parallel item per indicator a fuzzy set reads: the indicator (only the outputs read, see
/// [`crate::Indicator::compute_output`]), then its sets' membership columns and their lags, the
/// costliest items first. Whole indicators keep every core busy up to the end, and each
/// indicator's columns are freed as soon as its sets are done, instead of all of them living until
/// every set is computed.
pub fn build(
    strategy: &Strategy,
    bars: &[(Timeframe, &Bars)],
) -> Result<FeatureMatrix, FeatureError> {
    let find = |tf: Timeframe| {
        bars.iter()
            .find(|(t, _)| *t == tf)
            .map(|(_, b)| *b)
            .ok_or(FeatureError::MissingTimeframe(tf))
    };
    let base_tf = strategy.base_timeframe();
    let base = find(base_tf)?;
    let (mut names, mut columns) = (Vec::new(), Vec::new());
    let mut used: Vec<usize> = (0..strategy.indicators.len())
        .filter(|&i| strategy.fuzzy.iter().any(|f| f.indicator == i))
        .collect();
    // Longest items first (the indicator's rough cost plus its sets, each of which writes its
    // column and lags), so that no long item starts last while the other cores run out of work.
    // The columns come out in the strategy's order whatever the order of the work.
    let cost = |i: usize| {
        let sets = strategy.fuzzy.iter().filter(|f| f.indicator == i).count();
        strategy.indicators[i].indicator.def().relative_cost() + sets
    };
    used.sort_by_key(|&i| std::cmp::Reverse(cost(i)));
    let mut ts = None;
    for &tf in &strategy.timeframes {
        let b = find(tf)?;
        if !b.is_normal() {
            return Err(FeatureError::NotNormal(tf));
        }
        let idx = (tf != base_tf).then(|| closed_bar_index(base.ts(), base_tf, b.ts(), tf));
        let inp = Inputs::from_bars(b);
        // The copy of the base open times (8 bytes a row) is one more item, the last and
        // shortest, so that it runs while another core finishes its last indicator rather than
        // alone after all of them.
        let mut jobs: Vec<Option<usize>> = used.iter().map(|&i| Some(i)).collect();
        if ts.is_none() {
            jobs.push(None);
        }
        let done = par_map(&jobs, |job| match *job {
            Some(i) => Ok(indicator_features(strategy, i, &inp, idx.as_deref())),
            None => Err(base.ts().to_vec()),
        });
        let mut sets = Vec::new();
        for d in done {
            match d {
                Ok(s) => sets.extend(s),
                Err(t) => ts = Some(t),
            }
        }
        sets.sort_by_key(|(j, _)| *j);
        for (j, cols) in sets {
            let name = strategy.column_name(tf, &strategy.fuzzy[j].column());
            for (k, col) in cols.into_iter().enumerate() {
                names.push(match k {
                    0 => name.clone(),
                    k => format!("{name}_lag_{k}"),
                });
                columns.push(col);
            }
        }
    }
    Ok(FeatureMatrix {
        ts: ts.unwrap_or_else(|| base.ts().to_vec()),
        names,
        columns,
    })
}

/// For each fuzzy set on indicator `i` (by its index in `strategy.fuzzy`): its membership column
/// then its lags 1..=lookback, aligned onto the base rows through `idx` when given.
fn indicator_features(
    strategy: &Strategy,
    i: usize,
    inp: &Inputs,
    idx: Option<&[Option<usize>]>,
) -> Vec<(usize, Vec<Vec<f32>>)> {
    let ind = &strategy.indicators[i].indicator;
    let sets: Vec<_> = (strategy.fuzzy.iter().enumerate())
        .filter(|(_, f)| f.indicator == i)
        .collect();
    let mut wanted: Vec<usize> = sets.iter().map(|(_, f)| f.output).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let outputs: Vec<(usize, Vec<f64>)> = match wanted[..] {
        [o] => vec![(o, ind.compute_output(inp, o))],
        _ => (ind.compute(inp).into_iter().enumerate())
            .filter(|(o, _)| wanted.contains(o))
            .collect(),
    };
    let column = |o: usize| -> std::borrow::Cow<'_, [f64]> {
        match outputs.iter().find(|(k, _)| *k == o) {
            Some((_, x)) => x.into(),
            // Not reached (every wanted output was computed above); kept total anyway.
            None => ind.compute_output(inp, o).into(),
        }
    };
    let mut done = Vec::with_capacity(sets.len());
    for &o in &wanted {
        let x = column(o);
        let on_o: Vec<_> = sets.iter().filter(|(_, f)| f.output == o).collect();
        match idx {
            // The sets of one output in one pass over it.
            None => {
                let ms: Vec<_> = on_o.iter().map(|(_, f)| &f.membership).collect();
                let cols = fuzzy::apply_f32_lagged(&ms, &x, strategy.lookback);
                done.extend(on_o.iter().map(|(j, _)| *j).zip(cols));
            }
            Some(idx) => {
                for &&(j, f) in &on_o {
                    let col: Vec<f32> = idx
                        .iter()
                        .map(|r| r.map_or(f32::NAN, |r| f.membership.degree(x[r]) as f32))
                        .collect();
                    let mut cols: Vec<_> = (1..=strategy.lookback).map(|k| lag(&col, k)).collect();
                    cols.insert(0, col);
                    done.push((j, cols));
                }
            }
        }
    }
    done
}

/// `out[i] = x[i - k]`, NaN for the first `k` rows.
fn lag(x: &[f32], k: usize) -> Vec<f32> {
    let k = k.min(x.len());
    let mut out = Vec::with_capacity(x.len());
    out.resize(k, f32::NAN);
    out.extend_from_slice(&x[..x.len() - k]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use ktrdr_market::synth::{Spec, generate};

    fn series(tf: Timeframe, n: usize) -> Bars {
        generate(&Spec {
            timeframe: tf,
            bars: n,
            ..Spec::default()
        })
    }

    #[test]
    fn lags_are_earlier_rows_and_names_match_the_strategy() {
        let s = load("name: x\nindicators: [{name: rsi}]\nfuzzy_sets: {rsi: {low: [0, 0, 30], high: [70, 100, 100]}}\nmodel: {features: {lookback_periods: 3}}\n").unwrap();
        let b = series(Timeframe::H1, 200);
        let m = build(&s, &[(Timeframe::H1, &b)]).unwrap();
        assert_eq!(m.names, s.feature_names());
        assert_eq!(m.names.len(), 8);
        let (now, lag2) = (
            m.column("rsi_low").unwrap(),
            m.column("rsi_low_lag_2").unwrap(),
        );
        for i in 2..200 {
            assert!(now[i - 2].to_bits() == lag2[i].to_bits());
        }
        // RSI warm-up is 14 rows; the third lag adds 3.
        assert_eq!(m.complete_rows().first(), Some(&17));
    }

    #[test]
    fn coarse_columns_come_from_closed_bars_only() {
        let s = load("name: x\ntraining_data: {timeframes: {list: [1h, 4h]}}\nmodel: {features: {lookback_periods: 0}}\nindicators: [{name: rsi, period: 3}]\nfuzzy_sets: {rsi: {low: {type: gaussian, parameters: [0, 50]}}}\n").unwrap();
        let h1 = series(Timeframe::H1, 400);
        let (ts, ..) = h1.clone().into_columns();
        let h4 = ktrdr_market::resample::resample(&h1, Timeframe::H1, Timeframe::H4).unwrap();
        let m = build(&s, &[(Timeframe::H1, &h1), (Timeframe::H4, &h4)]).unwrap();
        assert_eq!(m.names, ["1h_rsi_low", "4h_rsi_low"]);
        let own = fuzzy_columns(&s, &h4).remove(0).1;
        let aligned = m.column("4h_rsi_low").unwrap();
        for (i, t) in ts.iter().enumerate() {
            let row_close = t + Timeframe::H1.duration_ms();
            let j = h4
                .ts()
                .iter()
                .rposition(|&o| o + Timeframe::H4.duration_ms() <= row_close);
            let want = j.map_or(f32::NAN, |j| own[j] as f32);
            assert_eq!(aligned[i].to_bits(), want.to_bits(), "row {i}");
        }
        assert_eq!(
            build(&s, &[(Timeframe::H1, &h1)]),
            Err(FeatureError::MissingTimeframe(Timeframe::H4))
        );
    }

    #[test]
    fn two_outputs_of_one_indicator_share_one_computation() {
        let s = load("name: x\nindicators: [{name: macd}]\nfuzzy_sets: {macd: {up: {type: gaussian, parameters: [1, 1]}}, macd.signal: {up: {type: gaussian, parameters: [1, 1]}}}\nmodel: {features: {lookback_periods: 0}}\n").unwrap();
        let b = series(Timeframe::H1, 120);
        let m = build(&s, &[(Timeframe::H1, &b)]).unwrap();
        assert_eq!(m.names, ["macd_up", "macd.signal_up"]);
        // Each column is the membership of the indicator output it names.
        for (name, (_, own)) in m.names.iter().zip(fuzzy_columns(&s, &b)) {
            let col = m.column(name).unwrap();
            for (got, want) in col.iter().zip(&own) {
                let want = *want as f32;
                assert!(
                    (got.is_nan() && want.is_nan()) || got.to_bits() == want.to_bits(),
                    "{name}: {got} vs {want}"
                );
            }
        }
        assert_eq!(m.column("nope"), None);
    }

    #[test]
    fn unsorted_bars_are_refused() {
        let s = load("name: x\nindicators: [{name: rsi}]\nfuzzy_sets: {rsi: {low: [0, 0, 30]}}\n")
            .unwrap();
        let b = series(Timeframe::H1, 30);
        let reversed = b.take(&(0..b.len()).rev().collect::<Vec<_>>());
        let err = build(&s, &[(Timeframe::H1, &reversed)]).unwrap_err();
        assert_eq!(err, FeatureError::NotNormal(Timeframe::H1));
        assert_eq!(
            err.to_string(),
            "the 1h bars are not in strictly increasing time order"
        );
    }
}
