//! A training dataset: the feature matrix, its labels, the rows usable for training and their
//! chronological split. Labels look ahead (see [`crate::labels`]); they are attached here, for
//! training only, and never fed back into features.

use ktrdr_market::{Bars, Timeframe};

use crate::config::Strategy;
use crate::features::{FeatureError, FeatureMatrix, build};
use crate::labels::Label;
use crate::split::SplitRanges;

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub features: FeatureMatrix,
    /// One per feature row; `None` where the future needed to label the row is missing.
    pub labels: Vec<Option<Label>>,
    /// Rows with every feature defined and a label, in time order.
    pub rows: Vec<usize>,
    /// Ranges into `rows`: train first, then validation, then test.
    pub split: SplitRanges,
}

/// Features from `bars` (one series per strategy timeframe), labels from the base timeframe's
/// closes, and the split of the usable rows.
pub fn prepare(strategy: &Strategy, bars: &[(Timeframe, &Bars)]) -> Result<Dataset, FeatureError> {
    let features = build(strategy, bars)?;
    let base = bars
        .iter()
        .find(|(tf, _)| *tf == strategy.base_timeframe())
        .map(|(_, b)| *b)
        .ok_or(FeatureError::MissingTimeframe(strategy.base_timeframe()))?;
    let labels = strategy.labels.apply(base.close());
    let rows: Vec<usize> = features
        .complete_rows()
        .into_iter()
        .filter(|&i| labels[i].is_some())
        .collect();
    let split = strategy.split.ranges(rows.len());
    Ok(Dataset {
        features,
        labels,
        rows,
        split,
    })
}
