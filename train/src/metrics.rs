//! Scores of a trained model on a set of rows: loss, accuracy, per-class precision / recall / F1 and
//! the confusion matrix (rows: true class, columns: predicted class; order BUY, HOLD, SELL).

pub use ktrdr_protocol::stored_model::{ClassScore, EpochRecord, Evaluation, Metrics};

pub const CLASS_NAMES: [&str; 3] = ["BUY", "HOLD", "SELL"];

/// Scores from true and predicted classes (0..3) and the mean loss over them.
pub fn evaluate(truth: &[i64], predicted: &[i64], loss: Option<f64>) -> Evaluation {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_a_known_confusion() {
        let truth = [0, 0, 1, 1, 2, 2];
        let pred = [0, 1, 1, 1, 2, 0];
        let e = evaluate(&truth, &pred, Some(0.5));
        assert_eq!(e.confusion, [[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
        assert!((e.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((e.classes[0].precision - 0.5).abs() < 1e-12);
        assert!((e.classes[1].precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.classes[1].recall - 1.0).abs() < 1e-12);
        assert!((e.classes[1].f1 - 0.8).abs() < 1e-12);
        assert_eq!(e.classes[2].support, 2);
    }
}
