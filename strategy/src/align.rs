//! Aligning a coarser timeframe onto the base timeframe without look-ahead.
//!
//! A base row is a decision taken when its bar closes (open time + base duration). A coarse bar is
//! known only once it has closed (its open time + its duration). So a base row sees the latest coarse
//! bar whose close is at or before the row's close: a 4h bar opening at 08:00 closes at 12:00 and is
//! visible to the 1h row opening at 11:00 (closing at 12:00) and later rows, never to the 10:00 row.

use ktrdr_market::Timeframe;

/// For every base row, the index of the latest coarse bar already closed at that row's close, or
/// `None` when no coarse bar has closed yet. Both series must have increasing open times.
pub fn closed_bar_index(
    base_ts: &[i64],
    base_tf: Timeframe,
    coarse_ts: &[i64],
    coarse_tf: Timeframe,
) -> Vec<Option<usize>> {
    let (bd, cd) = (base_tf.duration_ms(), coarse_tf.duration_ms());
    let mut out = Vec::with_capacity(base_ts.len());
    let mut next = 0usize; // the first coarse bar not yet closed at the current row
    for &t in base_ts {
        let row_close = t.saturating_add(bd);
        while next < coarse_ts.len() && coarse_ts[next].saturating_add(cd) <= row_close {
            next += 1;
        }
        out.push(next.checked_sub(1));
    }
    out
}

/// `col` gathered at `idx`; NaN where there is no index.
pub fn gather(col: &[f64], idx: &[Option<usize>]) -> Vec<f64> {
    idx.iter().map(|j| j.map_or(f64::NAN, |j| col[j])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_market::time::HOUR_MS;
    use proptest::prelude::*;

    #[test]
    fn a_4h_bar_is_visible_from_its_close() {
        let base: Vec<i64> = (8..16).map(|h| h * HOUR_MS).collect();
        let coarse = [4 * HOUR_MS, 8 * HOUR_MS, 12 * HOUR_MS];
        let idx = closed_bar_index(&base, Timeframe::H1, &coarse, Timeframe::H4);
        // Rows 08:00..10:00 see the 04:00 bar (closed 08:00); 11:00 (closing 12:00) sees the 08:00 bar.
        assert_eq!(
            idx,
            [
                Some(0),
                Some(0),
                Some(0),
                Some(1),
                Some(1),
                Some(1),
                Some(1),
                Some(2)
            ]
        );
        let none = closed_bar_index(&base[..1], Timeframe::H1, &coarse[1..], Timeframe::H4);
        assert_eq!(none, [None]);
    }

    /// Increasing open times on a timeframe's grid, with random gaps (weekends, holidays).
    fn grid(tf: Timeframe, max: usize) -> impl Strategy<Value = Vec<i64>> {
        proptest::collection::vec(1i64..5, 0..max).prop_map(move |gaps| {
            let mut t = 0;
            gaps.iter()
                .map(|g| {
                    t += g * tf.duration_ms();
                    t
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn alignment_never_uses_a_bar_before_its_close(
            base in grid(Timeframe::H1, 300),
            coarse in grid(Timeframe::H4, 80),
            coarse_tf in prop_oneof![Just(Timeframe::H4), Just(Timeframe::D1)],
        ) {
            let idx = closed_bar_index(&base, Timeframe::H1, &coarse, coarse_tf);
            prop_assert_eq!(idx.len(), base.len());
            for (i, j) in idx.iter().enumerate() {
                let row_close = base[i] + Timeframe::H1.duration_ms();
                let closed = |k: usize| coarse[k] + coarse_tf.duration_ms() <= row_close;
                match j {
                    // Closed before the row's decision, and the latest such bar.
                    Some(j) => {
                        prop_assert!(closed(*j));
                        prop_assert!(*j + 1 == coarse.len() || !closed(*j + 1));
                    }
                    None => prop_assert!(coarse.is_empty() || !closed(0)),
                }
            }
        }
    }

    #[test]
    fn gather_picks_rows_and_leaves_nan_where_none() {
        let col = [10.0, 11.0, 12.0];
        let got = gather(&col, &[None, Some(2), Some(0), Some(0)]);
        assert!(got[0].is_nan());
        assert_eq!(got[1..], [12.0, 10.0, 10.0]);
    }
}
