//! Training rows as flat arrays: features row-major, labels as class numbers, a symbol index per
//! row. Built from one strategy dataset per symbol; each symbol's rows are split chronologically on
//! their own, then the parts are concatenated, so no symbol's future leaks into another's training.

use ktrdr_strategy::dataset::Dataset;
use std::ops::Range;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples {
    pub width: usize,
    pub x: Vec<f32>,
    pub y: Vec<i64>,
    pub symbol: Vec<i64>,
}

impl Samples {
    pub fn new(width: usize) -> Samples {
        Samples {
            width,
            ..Samples::default()
        }
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn push(&mut self, row: impl IntoIterator<Item = f32>, label: i64, symbol: i64) {
        let before = self.x.len();
        self.x.extend(row);
        debug_assert_eq!(self.x.len() - before, self.width);
        self.y.push(label);
        self.symbol.push(symbol);
    }

    /// Counts of BUY, HOLD, SELL.
    pub fn class_counts(&self) -> [u64; 3] {
        let mut c = [0u64; 3];
        for &y in &self.y {
            if let Some(n) = c.get_mut(y as usize) {
                *n += 1;
            }
        }
        c
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SplitSamples {
    pub symbols: Vec<String>,
    pub feature_names: Vec<String>,
    pub train: Samples,
    pub validation: Samples,
    pub test: Samples,
    /// First and last bar time (ms) of the rows used, over every symbol.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

impl SplitSamples {
    /// `datasets` in symbol order; every dataset must have the same feature columns.
    pub fn from_datasets(datasets: &[(String, Dataset)]) -> Result<SplitSamples, String> {
        let Some((_, first)) = datasets.first() else {
            return Err("no symbols to train on".into());
        };
        let names = first.features.names.clone();
        let width = names.len();
        let mut out = SplitSamples {
            symbols: datasets.iter().map(|(s, _)| s.clone()).collect(),
            feature_names: names,
            train: Samples::new(width),
            validation: Samples::new(width),
            test: Samples::new(width),
            first_ms: None,
            last_ms: None,
        };
        for (si, (symbol, d)) in datasets.iter().enumerate() {
            if d.features.names != out.feature_names {
                return Err(format!(
                    "{symbol}: feature columns differ from the first symbol's"
                ));
            }
            let parts: [(&Range<usize>, &mut Samples); 3] = [
                (&d.split.train, &mut out.train),
                (&d.split.validation, &mut out.validation),
                (&d.split.test, &mut out.test),
            ];
            for (range, samples) in parts {
                for &row in &d.rows[range.clone()] {
                    let Some(label) = d.labels[row] else { continue };
                    samples.push(
                        d.features.columns.iter().map(|c| as_f32(c[row])),
                        label as i64,
                        si as i64,
                    );
                }
            }
            if let (Some(&a), Some(&b)) = (d.rows.first(), d.rows.last()) {
                let (a, b) = (d.features.ts[a], d.features.ts[b]);
                out.first_ms = Some(out.first_ms.map_or(a, |m| m.min(a)));
                out.last_ms = Some(out.last_ms.map_or(b, |m| m.max(b)));
            }
        }
        if out.train.is_empty() {
            return Err("no labelled rows to train on (too few bars for the indicators' warm-up and the labels?)".into());
        }
        if out.validation.is_empty() || out.test.is_empty() {
            return Err(format!(
                "too few rows: {} train, {} validation, {} test; each part needs at least one",
                out.train.len(),
                out.validation.len(),
                out.test.len()
            ));
        }
        Ok(out)
    }
}

/// Feature columns may be stored as f32 or f64; the network takes f32.
pub fn as_f32(v: impl Into<f64>) -> f32 {
    v.into() as f32
}
