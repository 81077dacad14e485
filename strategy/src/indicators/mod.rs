//! Technical indicators, vectorised over whole series.
//!
//! Each indicator is an [`IndicatorDef`] in the [`registry`]: its parameters with defaults, its
//! outputs, its warm-up. An [`Indicator`] is a definition with resolved parameter values; it names its
//! columns (`rsi_14`, `macd_12_26_9`, `macd_12_26_9.signal`) and computes them from [`Inputs`].
//!
//! Conventions every indicator follows:
//! - Warm-up rows are NaN (undefined), never zero; a window that touches a NaN is NaN.
//! - EMA and Wilder averages are seeded with the simple mean of their first `n` inputs
//!   (see [`crate::series`]).
//! - Volume: a value that is not a finite positive number (forex feeds give 0 or -1) counts as "no
//!   volume". A volume indicator whose window has no volume at all is NaN there, so a forex series
//!   yields NaN columns rather than a division by zero, an infinity or a made-up zero.

mod momentum;
pub mod registry;
mod trend;
mod volatility;
mod volume;

use ktrdr_market::Bars;

use crate::params::ParamValue;
use crate::source::Source;
pub use registry::{IndicatorDef, ParamDef, ParamKind, find, registry};

/// The columns an indicator may read.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
    pub volume: &'a [f64],
}

impl<'a> Inputs<'a> {
    pub fn from_bars(b: &'a Bars) -> Self {
        Inputs {
            open: b.open(),
            high: b.high(),
            low: b.low(),
            close: b.close(),
            volume: b.volume(),
        }
    }

    pub fn len(&self) -> usize {
        self.close.len()
    }

    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }
}

/// Resolved parameter values, in the definition's order, handed to a compute function.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    values: &'a [f64],
    pub source: Source,
}

impl Args<'_> {
    /// A period parameter; validation guarantees a whole number >= 1.
    pub fn period(&self, i: usize) -> usize {
        self.values[i] as usize
    }

    pub fn num(&self, i: usize) -> f64 {
        self.values[i]
    }
}

/// A problem with one parameter (or with the indicator as a whole when `param` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamProblem {
    pub param: Option<String>,
    pub message: String,
}

/// A definition with its parameter values resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    def: &'static IndicatorDef,
    values: Vec<f64>,
    source: Source,
}

impl Indicator {
    /// Resolves `name` (or an alias) with the given parameters; absent ones take their defaults.
    /// Reports every problem, not just the first.
    pub fn new(name: &str, given: &[(String, ParamValue)]) -> Result<Self, Vec<ParamProblem>> {
        let Some(def) = find(name) else {
            return Err(vec![ParamProblem {
                param: None,
                message: format!(
                    "unknown indicator {name:?} (known: {})",
                    registry::names().join(", ")
                ),
            }]);
        };
        let mut problems = Vec::new();
        let mut values: Vec<f64> = def.params.iter().map(|p| p.default).collect();
        let mut source = Source::Close;
        for (key, value) in given {
            let problem = |message: String| ParamProblem {
                param: Some(key.clone()),
                message,
            };
            if key == "source" && def.takes_source {
                match value.as_text().map(str::parse::<Source>) {
                    Some(Ok(s)) => source = s,
                    Some(Err(e)) => problems.push(problem(e)),
                    None => problems.push(problem(format!(
                        "source must be one of {}, got {value}",
                        Source::names()
                    ))),
                }
                continue;
            }
            let Some(i) = def.params.iter().position(|p| p.name == key) else {
                problems.push(problem(format!(
                    "{} has no parameter {key:?} (parameters: {})",
                    def.name,
                    def.param_names().join(", ")
                )));
                continue;
            };
            match value.as_f64() {
                Some(v) => match def.params[i].kind.check(v) {
                    Ok(()) => values[i] = v,
                    Err(why) => problems.push(problem(format!("{key} {why}, got {value}"))),
                },
                None => problems.push(problem(format!("{key} must be a number, got {value}"))),
            }
        }
        if problems.is_empty() {
            for (i, why) in (def.check)(&values) {
                problems.push(ParamProblem {
                    param: Some(def.params[i].name.to_string()),
                    message: why,
                });
            }
        }
        if problems.is_empty() {
            Ok(Indicator {
                def,
                values,
                source,
            })
        } else {
            Err(problems)
        }
    }

    pub fn def(&self) -> &'static IndicatorDef {
        self.def
    }

    pub fn source(&self) -> Source {
        self.source
    }

    /// Resolved parameters as (name, value) pairs, defaults included.
    pub fn params(&self) -> Vec<(&'static str, f64)> {
        self.def
            .params
            .iter()
            .zip(&self.values)
            .map(|(p, &v)| (p.name, v))
            .collect()
    }

    /// `rsi_14`, `macd_12_26_9`, `bbands_20_2`; a non-default source is appended (`sma_20_open`).
    pub fn base_name(&self) -> String {
        let mut s = self.def.name.to_string();
        for v in &self.values {
            s.push('_');
            s.push_str(&format!("{v}"));
        }
        if self.def.takes_source && self.source != Source::Close {
            s.push('_');
            s.push_str(self.source.as_str());
        }
        s
    }

    /// Column names: the main output, then `{base}.{sub}` for each sub-output.
    pub fn output_names(&self) -> Vec<String> {
        let base = self.base_name();
        let mut names = vec![base.clone()];
        names.extend(self.def.outputs.iter().map(|o| format!("{base}.{o}")));
        names
    }

    /// Every output column, in [`Indicator::output_names`] order, each as long as the input.
    pub fn compute(&self, inp: &Inputs) -> Vec<Vec<f64>> {
        let args = Args {
            values: &self.values,
            source: self.source,
        };
        (self.def.compute)(inp, &args)
    }

    /// Output `output` alone (in [`Indicator::output_names`] order): the same values as
    /// `compute(inp)[output]`, cheaper for indicators that need not build their other outputs to get
    /// it. NaN throughout for an index past the outputs.
    pub fn compute_output(&self, inp: &Inputs, output: usize) -> Vec<f64> {
        let args = Args {
            values: &self.values,
            source: self.source,
        };
        if let Some(col) = self.def.compute_one.and_then(|one| one(inp, &args, output)) {
            return col;
        }
        let mut all = (self.def.compute)(inp, &args);
        if output < all.len() {
            all.swap_remove(output)
        } else {
            vec![f64::NAN; inp.len()]
        }
    }

    pub fn compute_bars(&self, bars: &Bars) -> Vec<Vec<f64>> {
        self.compute(&Inputs::from_bars(bars))
    }
}

#[cfg(test)]
mod tests;
