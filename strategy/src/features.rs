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
    for &tf in &strategy.timeframes {
        let b = find(tf)?;
        if !b.is_normal() {
            return Err(FeatureError::NotNormal(tf));
        }
        let idx = (tf != base_tf).then(|| closed_bar_index(base.ts(), base_tf, b.ts(), tf));
        let outputs = indicator_columns(strategy, b);
        // Each fuzzy column straight into f32, aligned onto the base rows when coarser.
        let fuzzy = par_map(&strategy.fuzzy, |f| {
            let x = &outputs[f.indicator][f.output];
            let col = match &idx {
                Some(idx) => idx
                    .iter()
                    .map(|j| j.map_or(f32::NAN, |j| f.membership.degree(x[j]) as f32))
                    .collect(),
                None => f.membership.apply_f32(x),
            };
            (f.column(), col)
        });
        drop(outputs);
        // Lags of each fuzzy column, built in parallel.
        let lags = par_map(&fuzzy, |(_, col): &(String, Vec<f32>)| {
            (1..=strategy.lookback)
                .map(|k| lag(col, k))
                .collect::<Vec<_>>()
        });
        for ((name, col), lags) in fuzzy.into_iter().zip(lags) {
            let name = strategy.column_name(tf, &name);
            for (k, lag) in lags.into_iter().enumerate() {
                names.push(format!("{name}_lag_{}", k + 1));
                columns.push(lag);
            }
            let at = names.len() - strategy.lookback;
            names.insert(at, name);
            columns.insert(at, col);
        }
    }
    Ok(FeatureMatrix {
        ts: base.ts().to_vec(),
        names,
        columns,
    })
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
}
