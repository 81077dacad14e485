//! Merging a new batch of bars into a stored series.

use crate::bars::Bars;

/// What a merge did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Bars of `new` at timestamps `old` did not have.
    pub added: usize,
    /// Bars of `new` that replaced a bar of `old` at the same timestamp.
    pub replaced: usize,
}

/// Merges two normal series (strictly increasing timestamps) into one; where both have a bar at the
/// same timestamp, `new` wins, since a fresh download corrects what was stored.
pub fn merge(old: &Bars, new: &Bars) -> (Bars, MergeStats) {
    let mut out = Bars::with_capacity(old.len() + new.len());
    let mut stats = MergeStats::default();
    let (mut i, mut j) = (0, 0);
    let (a, b) = (old.ts(), new.ts());
    while i < a.len() || j < b.len() {
        let take_new = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                stats.replaced += 1;
                true
            }
            (Some(x), Some(y)) => y < x,
            (None, Some(_)) => true,
            _ => false,
        };
        if take_new {
            if let Some(bar) = new.get(j) {
                out.push(bar);
            }
            j += 1;
        } else {
            if let Some(bar) = old.get(i) {
                out.push(bar);
            }
            i += 1;
        }
    }
    stats.added = new.len() - stats.replaced;
    (out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::Bar;
    use crate::bars::tests::bar;
    use proptest::prelude::*;

    #[test]
    fn new_wins_on_equal_timestamps() {
        let old = Bars::from_bars([bar(1, 1.0), bar(2, 1.0), bar(4, 1.0)]);
        let new = Bars::from_bars([bar(2, 9.0), bar(3, 9.0), bar(5, 9.0)]);
        let (m, s) = merge(&old, &new);
        assert_eq!(m.ts(), &[1, 2, 3, 4, 5]);
        assert_eq!(m.open(), &[1.0, 9.0, 9.0, 1.0, 9.0]);
        assert_eq!(
            s,
            MergeStats {
                added: 2,
                replaced: 1
            }
        );
    }

    fn series() -> impl Strategy<Value = Bars> {
        proptest::collection::btree_map(0i64..500, 0.0f64..100.0, 0..60).prop_map(|m| {
            Bars::from_bars(m.into_iter().map(|(ts, p)| Bar {
                ts,
                open: p,
                high: p,
                low: p,
                close: p,
                volume: p,
            }))
        })
    }

    proptest! {
        #[test]
        fn merge_is_normal_idempotent_and_keeps_every_timestamp(old in series(), new in series()) {
            let (m, s) = merge(&old, &new);
            prop_assert!(m.is_normal());
            // Idempotent: merging the same batch again changes nothing.
            let (again, s2) = merge(&m, &new);
            prop_assert_eq!(&again, &m);
            prop_assert_eq!(s2.added, 0);
            // Every timestamp of either side is there once; new values win.
            let mut all: Vec<i64> = old.ts().iter().chain(new.ts()).copied().collect();
            all.sort();
            all.dedup();
            prop_assert_eq!(m.ts(), &all[..]);
            for b in new.iter() {
                let i = m.ts().binary_search(&b.ts).unwrap();
                prop_assert_eq!(m.get(i).unwrap(), b);
            }
            prop_assert_eq!(s.added + old.len(), m.len());
            // Merging a series with itself is the identity.
            prop_assert_eq!(merge(&old, &old).0, old);
        }
    }
}
