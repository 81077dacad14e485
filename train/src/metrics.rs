//! Scores of a trained model on a set of rows: loss, accuracy, per-class precision / recall / F1 and
//! the confusion matrix (rows: true class, columns: predicted class; order BUY, HOLD, SELL).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const CLASS_NAMES: [&str; 3] = ["BUY", "HOLD", "SELL"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub samples: u64,
    /// Mean cross-entropy; absent where not measured (per-symbol scores).
    pub loss: Option<f64>,
    pub accuracy: f64,
    pub classes: Vec<ClassScore>,
    pub confusion: [[u64; 3]; 3],
}

impl Evaluation {
    /// From true and predicted classes (0..3) and the mean loss over them.
    pub fn from_predictions(truth: &[i64], predicted: &[i64], loss: Option<f64>) -> Evaluation {
        let mut confusion = [[0u64; 3]; 3];
        for (&t, &p) in truth.iter().zip(predicted) {
            if let (Ok(t), Ok(p)) = (usize::try_from(t), usize::try_from(p))
                && t < 3
                && p < 3
            {
                confusion[t][p] += 1;
            }
        }
        let samples = truth.len() as u64;
        let correct: u64 = (0..3).map(|i| confusion[i][i]).sum();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let classes = (0..3)
            .map(|c| {
                let tp = confusion[c][c];
                let predicted: u64 = (0..3).map(|t| confusion[t][c]).sum();
                let support: u64 = confusion[c].iter().sum();
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                let f1 = if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                };
                ClassScore {
                    class: CLASS_NAMES[c].into(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        Evaluation {
            samples,
            loss,
            accuracy: ratio(correct, samples),
            classes,
            confusion,
        }
    }
}

/// Everything measured at the end of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub test: Evaluation,
    pub validation: Evaluation,
    /// Per symbol, for models trained on several (test and validation rows of that symbol).
    pub per_symbol_test: BTreeMap<String, Evaluation>,
    pub per_symbol_validation: BTreeMap<String, Evaluation>,
    pub epochs_run: usize,
    pub best_epoch: usize,
    pub stopped_early: bool,
    pub final_learning_rate: f64,
    pub history: Vec<EpochRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub val_loss: f64,
    pub val_accuracy: f64,
    pub learning_rate: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_a_known_confusion() {
        let truth = [0, 0, 1, 1, 2, 2];
        let pred = [0, 1, 1, 1, 2, 0];
        let e = Evaluation::from_predictions(&truth, &pred, Some(0.5));
        assert_eq!(e.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
        assert!((e.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((e.classes[0].precision - 0.5).abs() < 1e-12);
        assert!((e.classes[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.classes[1].recall - 1.0).abs() < 1e-12);
        assert!((e.classes[1].f1 - 0.8).abs() < 1e-12);
        assert_eq!(e.classes[2].support, 2);
    }
}
