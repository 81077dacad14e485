//! A stored model's class probabilities for every bar of a series, for backtests. Features are
//! built once over the whole series handed in (the caller cuts it at the backtest's end, so nothing
//! after that is ever seen) and the network runs over them in batches.

use crate::pipeline::{PredictError, probabilities, ready};
use crate::samples::as_f32;
use crate::store::{Metadata, ModelStore};
use ktrdr_market::{Bars, Timeframe};
use ktrdr_strategy::features::build;
use std::sync::Arc;

/// Rows per forward pass: large enough to amortise the call, small enough to check cancellation
/// often and keep the input tensor in cache-sized pieces.
const BATCH: usize = 4096;

/// The strategy's decision rules, as stored with the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub confidence_threshold: f64,
    pub position_awareness: bool,
    pub min_signal_separation: usize,
}

pub struct Scored {
    pub metadata: Metadata,
    pub rules: Rules,
    /// One row per bar of the base series: BUY, HOLD, SELL; NaN where a feature is undefined.
    pub probs: Vec<[f32; 3]>,
    /// Bars before this index are still warming up (some feature undefined).
    pub first_defined: Option<usize>,
}

/// Scores every bar of the base series (`bars[0]` must be the model's base timeframe).
/// `progress(done, total)` is called between batches; `cancelled` is checked there too.
pub fn score(
    store: &ModelStore,
    name: &str,
    symbol: &str,
    bars: &[(Timeframe, Arc<Bars>)],
    progress: &mut dyn FnMut(usize, usize),
    cancelled: &dyn Fn() -> bool,
) -> Result<Scored, ScoreError> {
    let ready = ready(store, name, symbol)?;
    let base = ready.plan.strategy.base_timeframe();
    let Some((tf, base_bars)) = bars.first() else {
        return Err(PredictError::Invalid("no bars".into()).into());
    };
    if *tf != base {
        return Err(PredictError::Invalid(format!(
            "the model was trained on {base} bars, not {tf}"
        ))
        .into());
    }
    let refs: Vec<(Timeframe, &Bars)> = bars.iter().map(|(tf, b)| (*tf, b.as_ref())).collect();
    let m = build(&ready.plan.strategy, &refs).map_err(|e| PredictError::Invalid(e.to_string()))?;
    if m.ts.as_slice() != base_bars.ts() {
        return Err(
            PredictError::Invalid("feature rows do not line up with the base bars".into()).into(),
        );
    }
    let n = m.rows();
    let width = m.columns.len();
    let defined: Vec<bool> = (0..n)
        .map(|i| m.columns.iter().all(|c| !c[i].is_nan()))
        .collect();
    let mut probs = vec![[f32::NAN; 3]; n];
    let rows: Vec<usize> = (0..n).filter(|&i| defined[i]).collect();
    let mut x = Vec::with_capacity(BATCH * width);
    for (done, chunk) in rows.chunks(BATCH).enumerate() {
        if cancelled() {
            return Err(ScoreError::Cancelled);
        }
        x.clear();
        for &i in chunk {
            x.extend(m.columns.iter().map(|c| as_f32(c[i])));
        }
        let p = probabilities(&ready, &x, chunk.len(), width)?;
        for (k, &i) in chunk.iter().enumerate() {
            probs[i] = [p[3 * k], p[3 * k + 1], p[3 * k + 2]];
        }
        progress((done * BATCH + chunk.len()).min(rows.len()), rows.len());
    }
    let d = &ready.plan.strategy.file.decisions;
    Ok(Scored {
        rules: Rules {
            confidence_threshold: d.confidence_threshold,
            position_awareness: d.position_awareness,
            min_signal_separation: d.filters.min_signal_separation.max(0) as usize,
        },
        first_defined: rows.first().copied(),
        metadata: ready.loaded.metadata,
        probs,
    })
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoreError {
    #[error(transparent)]
    Predict(#[from] PredictError),
    #[error("cancelled")]
    Cancelled,
}
