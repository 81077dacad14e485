//! Which segments a load fetches, and in which order.
//!
//! A rerun computes its ranges from the first and last stored bars only, so whatever a load stores
//! before it stops must touch what was already stored; anything else leaves a hole no rerun sees.
//! Hence the order: a range that ends at the first stored bar (backfill) is fetched newest first,
//! growing the stored series backwards; a range that starts after the last stored bar (tail) is
//! fetched oldest first. With nothing stored, a backfill fetches newest first (a rerun backfills
//! the rest), a tail or full load oldest first (a rerun tails the rest).

use crate::segments::{self, Segment};
use ktrdr_market::Timeframe;
use ktrdr_protocol::model::LoadMode;

/// The `[start, end)` ranges to fetch for the mode given the stored `(first, last)` bars, each
/// with whether it is fetched newest first.
fn ranges(
    mode: LoadMode,
    tf: Timeframe,
    stored: Option<(i64, i64)>,
    start: i64,
    end: i64,
) -> Vec<(i64, i64, bool)> {
    let step = tf.duration_ms();
    let mut out = Vec::new();
    match stored {
        None => out.push((start, end, mode == LoadMode::Backfill)),
        Some((first, last)) => {
            if matches!(mode, LoadMode::Backfill | LoadMode::Full) {
                out.push((start, first.min(end), true));
            }
            if matches!(mode, LoadMode::Tail | LoadMode::Full) {
                out.push(((last + step).max(start), end, false));
            }
        }
    }
    out.retain(|(a, b, _)| a < b);
    out
}

/// The segments to fetch, in fetch order.
pub fn plan(
    mode: LoadMode,
    tf: Timeframe,
    stored: Option<(i64, i64)>,
    start: i64,
    end: i64,
) -> Vec<Segment> {
    ranges(mode, tf, stored, start, end)
        .into_iter()
        .flat_map(|(a, b, newest_first)| {
            let mut s = segments::split(a, b, tf);
            if newest_first {
                s.reverse();
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_per_mode() {
        let tf = Timeframe::H1;
        let h = tf.duration_ms();
        let stored = Some((100 * h, 200 * h));
        assert_eq!(
            ranges(LoadMode::Tail, tf, stored, 0, 300 * h),
            vec![(201 * h, 300 * h, false)]
        );
        assert_eq!(
            ranges(LoadMode::Backfill, tf, stored, 0, 300 * h),
            vec![(0, 100 * h, true)]
        );
        assert_eq!(
            ranges(LoadMode::Full, tf, stored, 0, 300 * h),
            vec![(0, 100 * h, true), (201 * h, 300 * h, false)]
        );
        assert_eq!(ranges(LoadMode::Tail, tf, None, 5, 9), vec![(5, 9, false)]);
        assert_eq!(
            ranges(LoadMode::Backfill, tf, None, 5, 9),
            vec![(5, 9, true)]
        );
        assert!(ranges(LoadMode::Tail, tf, stored, 0, 150 * h).is_empty());
    }

    /// The stored extent after storing `fetched` segments on top of `stored`, or `None` when the
    /// result has a hole: a gap between stored bars that no bar-free segment explains.
    fn store(stored: Option<(i64, i64)>, fetched: &[Segment], step: i64) -> Option<(i64, i64)> {
        let mut spans: Vec<(i64, i64)> = fetched.iter().map(|s| (s.start, s.end)).collect();
        if let Some((a, b)) = stored {
            spans.push((a, b + step));
        }
        spans.sort();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (a, b) in spans {
            match merged.last_mut() {
                Some(m) if a <= m.1 => m.1 = m.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        match merged.as_slice() {
            [] => None,
            [(a, b)] => Some((*a, b - step)),
            _ => panic!("a hole: {merged:?}"),
        }
    }

    /// Every bar is present in the fake history. A load in each mode that stops after any number
    /// of segments (a failure or a cancel, with everything fetched stored), then a rerun in the
    /// same mode, covers the whole range with no hole and asks for no segment twice.
    #[test]
    fn a_load_stopped_after_any_segment_is_completed_by_a_rerun() {
        let tf = Timeframe::M1;
        let day = 86_400_000;
        let (start, end) = (0, 10 * day);
        let cases = [
            (LoadMode::Backfill, None),
            (LoadMode::Backfill, Some((6 * day, 8 * day))),
            (LoadMode::Full, None),
            (LoadMode::Full, Some((3 * day, 5 * day))),
            (LoadMode::Tail, None),
            (LoadMode::Tail, Some((0, 4 * day))),
        ];
        for (mode, stored) in cases {
            let first = plan(mode, tf, stored, start, end);
            for k in 0..=first.len() {
                let partial = store(stored, &first[..k], tf.duration_ms());
                let rerun = plan(mode, tf, partial, start, end);
                for s in &rerun {
                    assert!(
                        !first[..k].contains(s),
                        "{mode:?} {stored:?} stop {k}: {s:?} again"
                    );
                }
                let done = store(partial, &rerun, tf.duration_ms());
                let want = match mode {
                    LoadMode::Backfill => stored.map_or(end, |s| s.1 + tf.duration_ms()),
                    _ => end,
                };
                assert_eq!(
                    done,
                    Some((start, want - tf.duration_ms())),
                    "{mode:?} {stored:?} stopped after {k} segments"
                );
            }
        }
    }

    #[test]
    fn backfill_runs_newest_first_and_tail_oldest_first() {
        let tf = Timeframe::M1;
        let day = 86_400_000;
        let b = plan(LoadMode::Backfill, tf, Some((5 * day, 6 * day)), 0, 9 * day);
        assert_eq!(b.first().map(|s| s.end), Some(5 * day));
        assert!(b.windows(2).all(|w| w[0].start == w[1].end));
        let t = plan(LoadMode::Tail, tf, Some((0, 2 * day)), 0, 9 * day);
        assert_eq!(t.first().map(|s| s.start), Some(2 * day + 60_000));
        assert!(t.windows(2).all(|w| w[0].end == w[1].start));
    }
}
