//! Training labels: what the network should have said at each bar.
//!
//! **Labels look ahead by design.** A bar's label depends on prices after it (where the swing ended,
//! what the return over the next bars was). They exist only to train and score a model; nothing that
//! runs at decision time (features, backtests, live trading) may read them.

/// The network's three classes, numbered as the predecessor numbered them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    Buy = 0,
    Hold = 1,
    Sell = 2,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Buy => "BUY",
            Label::Hold => "HOLD",
            Label::Sell => "SELL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LabelConfig {
    /// Swing segments found with a fractional reversal threshold (0.03 = 3 %).
    ZigZag { threshold: f64 },
    /// The return from this bar's close to the close `periods` bars later.
    ForwardReturn { periods: usize, threshold: f64 },
}

impl LabelConfig {
    /// One label per bar; `None` where the future needed to label the bar is not in the series.
    pub fn apply(&self, close: &[f64]) -> Vec<Option<Label>> {
        match *self {
            LabelConfig::ZigZag { threshold } => zigzag(close, threshold),
            LabelConfig::ForwardReturn { periods, threshold } => {
                forward_return(close, periods, threshold)
            }
        }
    }
}

/// The indices of the swing extremes: each is confirmed once price has moved `threshold` (a fraction)
/// away from it in the other direction. The last entry is the final, unconfirmed extreme, which is at
/// least `threshold` away from the pivot before it.
pub fn zigzag_pivots(close: &[f64], threshold: f64) -> Vec<usize> {
    let mut pivots = Vec::new();
    if close.is_empty() {
        return pivots;
    }
    // Before the first trend: the running high and low since the start.
    let (mut hi, mut lo) = (0usize, 0usize);
    let mut dir = 0i8;
    let mut ext = 0usize;
    for i in 1..close.len() {
        let x = close[i];
        if !x.is_finite() {
            continue;
        }
        match dir {
            0 => {
                if x > close[hi] {
                    hi = i;
                }
                if x < close[lo] {
                    lo = i;
                }
                if close[hi] >= close[lo] * (1.0 + threshold) {
                    if hi > lo {
                        pivots.push(lo);
                        (dir, ext) = (1, hi);
                    } else {
                        pivots.push(hi);
                        (dir, ext) = (-1, lo);
                    }
                }
            }
            1 => {
                if x > close[ext] {
                    ext = i;
                } else if x <= close[ext] * (1.0 - threshold) {
                    pivots.push(ext);
                    (dir, ext) = (-1, i);
                }
            }
            _ => {
                if x < close[ext] {
                    ext = i;
                } else if x >= close[ext] * (1.0 + threshold) {
                    pivots.push(ext);
                    (dir, ext) = (1, i);
                }
            }
        }
    }
    if dir != 0 {
        pivots.push(ext);
    }
    pivots
}

/// ZigZag segment labels: bars strictly inside a rising segment are BUY, inside a falling one SELL,
/// the extremes themselves HOLD. Bars before the first extreme and after the last have no label.
pub fn zigzag(close: &[f64], threshold: f64) -> Vec<Option<Label>> {
    let mut out = vec![None; close.len()];
    let pivots = zigzag_pivots(close, threshold);
    for w in pivots.windows(2) {
        let (a, b) = (w[0], w[1]);
        let label = if close[b] > close[a] {
            Label::Buy
        } else {
            Label::Sell
        };
        out[a + 1..b].iter_mut().for_each(|l| *l = Some(label));
    }
    for &p in &pivots {
        out[p] = Some(Label::Hold);
    }
    out
}

/// BUY when the return over the next `periods` bars exceeds `threshold`, SELL when it is below
/// `-threshold`, HOLD otherwise; the last `periods` bars have no label.
pub fn forward_return(close: &[f64], periods: usize, threshold: f64) -> Vec<Option<Label>> {
    (0..close.len())
        .map(|i| {
            let later = *close.get(i + periods)?;
            let r = later / close[i] - 1.0;
            if !r.is_finite() {
                None
            } else if r > threshold {
                Some(Label::Buy)
            } else if r < -threshold {
                Some(Label::Sell)
            } else {
                Some(Label::Hold)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::*;

    #[test]
    fn zigzag_labels_segments_and_holds_extremes() {
        // 100 -> 110 (up 10 %) -> 99 (down 10 %) -> 105.
        let c = [100.0, 104.0, 110.0, 105.0, 99.0, 102.0, 105.0];
        assert_eq!(zigzag_pivots(&c, 0.05), vec![0, 2, 4, 6]);
        assert_eq!(
            zigzag(&c, 0.05),
            vec![
                Some(Hold),
                Some(Buy),
                Some(Hold),
                Some(Sell),
                Some(Hold),
                Some(Buy),
                Some(Hold)
            ]
        );
    }

    #[test]
    fn small_moves_are_not_swings() {
        let c = [100.0, 101.0, 100.5, 101.5, 100.8];
        assert!(zigzag_pivots(&c, 0.03).is_empty());
        assert!(zigzag(&c, 0.03).iter().all(Option::is_none));
    }

    #[test]
    fn bars_before_the_first_extreme_have_no_label() {
        let c = [100.0, 101.0, 100.0, 90.0, 80.0, 95.0];
        let p = zigzag_pivots(&c, 0.1);
        assert_eq!(p, vec![1, 4, 5]);
        let l = zigzag(&c, 0.1);
        assert_eq!(l[0], None);
        assert_eq!(
            &l[1..],
            &[Some(Hold), Some(Sell), Some(Sell), Some(Hold), Some(Hold)]
        );
    }

    #[test]
    fn forward_return_classifies_by_size_and_sign() {
        let c = [100.0, 102.0, 100.0, 97.0, 97.5];
        assert_eq!(
            forward_return(&c, 1, 0.01),
            vec![Some(Buy), Some(Sell), Some(Sell), Some(Hold), None]
        );
        assert_eq!(forward_return(&c, 10, 0.01), vec![None; 5]);
    }

    #[test]
    fn class_names_are_the_predecessors() {
        assert_eq!(
            [Buy.as_str(), Hold.as_str(), Sell.as_str()],
            ["BUY", "HOLD", "SELL"]
        );
        assert_eq!([Buy as u8, Hold as u8, Sell as u8], [0, 1, 2]);
    }

    #[test]
    fn forward_return_config_labels_by_the_return_ahead() {
        let close = [100.0, 101.0, 100.5, 0.0, 99.0];
        let got = LabelConfig::ForwardReturn {
            periods: 1,
            threshold: 0.004,
        }
        .apply(&close);
        // +1 %, -0.5 %, -100 %, then an infinite return from a zero close, then no future.
        assert_eq!(got, [Some(Buy), Some(Sell), Some(Sell), None, None]);
        assert!(zigzag_pivots(&[], 0.03).is_empty());
    }
}
