//! Data-quality checks, and a repair that returns the fixed series with every change it made.
//!
//! What is checked: prices that are not finite or not positive, a high below the open, close or low,
//! a low above the open or close, a volume that is not finite or negative, duplicate and out-of-order
//! timestamps, and gaps: runs of bars the [`Calendar`] expects that are missing.
//!
//! What the repair does, in order: sorts by timestamp; of bars sharing a timestamp keeps the last
//! (as a merge would: the later row is the newer); drops bars whose open, high, low or close is not a
//! finite positive number (there is nothing trustworthy to fix them from); sets a non-finite or
//! negative volume to 0; raises the high to the largest of open, high, low and close, and lowers the
//! low to the smallest. Gaps are reported but never filled: inventing bars would feed made-up prices
//! to training.

use crate::bars::{Bar, Bars};
use crate::calendar::Calendar;
use crate::timeframe::Timeframe;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IssueKind {
    NonFinitePrice,
    NonPositivePrice,
    HighBelowOpenClose,
    LowAboveOpenClose,
    HighBelowLow,
    BadVolume,
    Duplicate,
    OutOfOrder,
    Gap,
}

impl IssueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueKind::NonFinitePrice => "non_finite_price",
            IssueKind::NonPositivePrice => "non_positive_price",
            IssueKind::HighBelowOpenClose => "high_below_open_close",
            IssueKind::LowAboveOpenClose => "low_above_open_close",
            IssueKind::HighBelowLow => "high_below_low",
            IssueKind::BadVolume => "bad_volume",
            IssueKind::Duplicate => "duplicate_timestamp",
            IssueKind::OutOfOrder => "out_of_order",
            IssueKind::Gap => "gap",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub kind: IssueKind,
    /// The bar's timestamp; for a gap, the first missing bar's.
    pub ts: i64,
    /// Row in the checked series (for a gap, the row after it).
    pub row: usize,
    pub detail: String,
    /// For a gap: how many expected bars are missing.
    pub missing: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for i in &self.issues {
            *m.entry(i.kind.as_str()).or_insert(0) += 1;
        }
        m
    }

    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}

/// A gap longer than this many bar slots is reported without scanning every slot, so a 1m series
/// with a decade-long hole costs no more than a fixed amount of work.
const MAX_GAP_SCAN: i64 = 2_000_000;

pub fn check(bars: &Bars, tf: Timeframe, calendar: Calendar) -> Report {
    let mut issues = Vec::new();
    let normal = bars.is_normal();
    let mut seen = std::collections::HashSet::new();
    let mut max_ts = i64::MIN;
    for (row, b) in bars.iter().enumerate() {
        bar_issues(row, &b, &mut issues);
        // A normal series has neither problem; only an unsorted one pays for the set.
        if !normal {
            if !seen.insert(b.ts) {
                issues.push(Issue {
                    kind: IssueKind::Duplicate,
                    ts: b.ts,
                    row,
                    detail: "an earlier row has the same timestamp".into(),
                    missing: 0,
                });
            } else if b.ts < max_ts {
                issues.push(Issue {
                    kind: IssueKind::OutOfOrder,
                    ts: b.ts,
                    row,
                    detail: "earlier than a bar before it".into(),
                    missing: 0,
                });
            }
        }
        max_ts = max_ts.max(b.ts);
    }
    // Gaps are judged on the sorted, de-duplicated timestamps.
    let mut ts: Vec<i64> = bars.ts().to_vec();
    if !bars.is_normal() {
        ts.sort_unstable();
        ts.dedup();
    }
    let step = tf.duration_ms();
    for (row, w) in ts.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        if b - a <= step {
            continue;
        }
        let slots = (b - a) / step;
        let mut missing = 0u64;
        let mut first = None;
        let mut t = a + step;
        let mut scanned = 0;
        while t < b && scanned < MAX_GAP_SCAN {
            if calendar.expects_bar(t, tf) {
                missing += 1;
                first.get_or_insert(t);
            }
            t += step;
            scanned += 1;
        }
        if let Some(first) = first {
            let capped = if slots > MAX_GAP_SCAN {
                " (at least; scan capped)"
            } else {
                ""
            };
            issues.push(Issue {
                kind: IssueKind::Gap,
                ts: first,
                row: row + 1,
                detail: format!(
                    "{missing} expected {tf} bars missing between {} and {}{capped}",
                    crate::time::format_iso(a),
                    crate::time::format_iso(b)
                ),
                missing,
            });
        }
    }
    Report { issues }
}

fn bar_issues(row: usize, b: &Bar, out: &mut Vec<Issue>) {
    let mut push = |kind, detail: String| {
        out.push(Issue {
            kind,
            ts: b.ts,
            row,
            detail,
            missing: 0,
        })
    };
    let prices = [b.open, b.high, b.low, b.close];
    if prices.iter().any(|p| !p.is_finite()) {
        push(
            IssueKind::NonFinitePrice,
            format!("o={} h={} l={} c={}", b.open, b.high, b.low, b.close),
        );
        return;
    }
    if prices.iter().any(|&p| p <= 0.0) {
        push(
            IssueKind::NonPositivePrice,
            format!("o={} h={} l={} c={}", b.open, b.high, b.low, b.close),
        );
    }
    if b.high < b.open.max(b.close) {
        push(
            IssueKind::HighBelowOpenClose,
            format!("high {} < max(open {}, close {})", b.high, b.open, b.close),
        );
    }
    if b.low > b.open.min(b.close) {
        push(
            IssueKind::LowAboveOpenClose,
            format!("low {} > min(open {}, close {})", b.low, b.open, b.close),
        );
    }
    if b.high < b.low {
        push(
            IssueKind::HighBelowLow,
            format!("high {} < low {}", b.high, b.low),
        );
    }
    if !b.volume.is_finite() || b.volume < 0.0 {
        push(IssueKind::BadVolume, format!("volume {}", b.volume));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Row,
    High,
    Low,
    Volume,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Row => "row",
            Field::High => "high",
            Field::Low => "low",
            Field::Volume => "volume",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The bar was moved to its place in time order.
    Moved,
    /// The bar was removed.
    Dropped,
    /// A field was set from `before` to `after`.
    Set,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Moved => "moved",
            Action::Dropped => "dropped",
            Action::Set => "set",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub ts: i64,
    /// Row in the input series.
    pub row: usize,
    pub action: Action,
    pub field: Field,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub reason: &'static str,
}

/// Applies the fixes described in the module documentation. The result is normal (strictly
/// increasing timestamps) and passes every per-bar check.
pub fn repair(bars: &Bars) -> (Bars, Vec<Change>) {
    let mut changes = Vec::new();
    let n = bars.len();
    let ts = bars.ts();
    let mut order: Vec<usize> = (0..n).collect();
    if !bars.is_normal() {
        order.sort_by_key(|&i| ts[i]);
        let mut max_ts = i64::MIN;
        for (i, &t) in ts.iter().enumerate() {
            if t < max_ts {
                changes.push(Change {
                    ts: t,
                    row: i,
                    action: Action::Moved,
                    field: Field::Row,
                    before: None,
                    after: None,
                    reason: "out of time order",
                });
            }
            max_ts = max_ts.max(t);
        }
    }
    let mut out = Bars::with_capacity(n);
    for (k, &i) in order.iter().enumerate() {
        if order.get(k + 1).is_some_and(|&j| ts[j] == ts[i]) {
            changes.push(Change {
                ts: ts[i],
                row: i,
                action: Action::Dropped,
                field: Field::Row,
                before: None,
                after: None,
                reason: "duplicate timestamp; a later row wins",
            });
            continue;
        }
        let Some(mut b) = bars.get(i) else { continue };
        let prices = [b.open, b.high, b.low, b.close];
        if prices.iter().any(|p| !p.is_finite() || *p <= 0.0) {
            changes.push(Change {
                ts: b.ts,
                row: i,
                action: Action::Dropped,
                field: Field::Row,
                before: None,
                after: None,
                reason: "a price is missing, infinite or not positive",
            });
            continue;
        }
        let mut set = |field, before: f64, after: f64, reason| {
            changes.push(Change {
                ts: b.ts,
                row: i,
                action: Action::Set,
                field,
                before: Some(before),
                after: Some(after),
                reason,
            });
        };
        if !b.volume.is_finite() || b.volume < 0.0 {
            set(Field::Volume, b.volume, 0.0, "volume missing or negative");
            b.volume = 0.0;
        }
        let hi = prices.iter().cloned().fold(f64::MIN, f64::max);
        let lo = prices.iter().cloned().fold(f64::MAX, f64::min);
        if b.high < hi {
            set(
                Field::High,
                b.high,
                hi,
                "high below another price of the bar",
            );
            b.high = hi;
        }
        if b.low > lo {
            set(Field::Low, b.low, lo, "low above another price of the bar");
            b.low = lo;
        }
        out.push(b);
    }
    (out, changes)
}

/// Rows of `bars` that a repair would change in place, for tests and summaries.
pub fn fixed_in_place(changes: &[Change]) -> usize {
    changes.iter().filter(|c| c.action == Action::Set).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bars::tests::bar;
    use crate::time::{HOUR_MS, MINUTE_MS, ms_from_civil};
    use proptest::prelude::*;

    fn kinds(r: &Report) -> Vec<IssueKind> {
        r.issues.iter().map(|i| i.kind).collect()
    }

    #[test]
    fn finds_each_bar_problem() {
        let t = ms_from_civil(2025, 1, 6, 0, 0, 0, 0);
        let mut bad_high = bar(t, 10.0);
        bad_high.high = 9.5;
        let mut bad_low = bar(t + HOUR_MS, 10.0);
        bad_low.low = 10.5;
        let mut nan = bar(t + 2 * HOUR_MS, 10.0);
        nan.close = f64::NAN;
        let mut neg = bar(t + 3 * HOUR_MS, 10.0);
        neg.volume = -1.0;
        let bars = Bars::from_bars([
            bad_high,
            bad_low,
            nan,
            neg,
            bar(t + 3 * HOUR_MS, 1.0),
            bar(t + HOUR_MS, 1.0),
        ]);
        let r = check(&bars, Timeframe::H1, Calendar::Continuous);
        let k = kinds(&r);
        for want in [
            IssueKind::HighBelowOpenClose,
            IssueKind::LowAboveOpenClose,
            IssueKind::NonFinitePrice,
            IssueKind::BadVolume,
            IssueKind::Duplicate,
        ] {
            assert!(k.contains(&want), "{want:?} not in {k:?}");
        }
        assert!(k.contains(&IssueKind::Duplicate));
        assert_eq!(r.counts()["duplicate_timestamp"], 2);
    }

    #[test]
    fn out_of_order_is_reported() {
        let bars = Bars::from_bars([
            bar(3 * HOUR_MS, 1.0),
            bar(HOUR_MS, 1.0),
            bar(2 * HOUR_MS, 1.0),
        ]);
        let r = check(&bars, Timeframe::H1, Calendar::Continuous);
        assert_eq!(r.counts()["out_of_order"], 2);
    }

    #[test]
    fn gaps_respect_the_calendar() {
        // Forex: Friday 20:00 UTC then Sunday 22:00 UTC is the weekend, not a gap.
        let fri = ms_from_civil(2025, 1, 10, 20, 0, 0, 0);
        let sun = ms_from_civil(2025, 1, 12, 22, 0, 0, 0);
        let weekend = Bars::from_bars([bar(fri, 10.0), bar(sun, 10.0)]);
        let r = check(&weekend, Timeframe::H1, Calendar::Forex);
        assert!(r.is_clean(), "{r:?}");
        // The same hole on a Wednesday is a gap of 49 bars.
        let wed = ms_from_civil(2025, 1, 8, 0, 0, 0, 0);
        let hole = Bars::from_bars([bar(wed, 10.0), bar(wed + 50 * HOUR_MS, 10.0)]);
        let r = check(&hole, Timeframe::H1, Calendar::Forex);
        assert_eq!(kinds(&r), vec![IssueKind::Gap]);
        assert_eq!(r.issues[0].missing, 49);
        assert_eq!(r.issues[0].ts, wed + HOUR_MS);
        // US stock: 16:00 EST close to next 09:30 open is no gap; a missing 10:00 bar is.
        // Wednesday 8 January is missing (78 five-minute bars); Thursday 9 January 2025 (a national
        // day of mourning) was closed, so it adds nothing to the gap.
        let close = ms_from_civil(2025, 1, 7, 20, 55, 0, 0);
        let open = ms_from_civil(2025, 1, 10, 14, 30, 0, 0);
        let r = check(
            &Bars::from_bars([bar(close, 10.0), bar(open, 10.0)]),
            Timeframe::M5,
            Calendar::UsEquity,
        );
        assert_eq!(kinds(&r), vec![IssueKind::Gap], "{r:?}");
        assert_eq!(r.issues[0].missing, 78);
        let fri_close = ms_from_civil(2025, 1, 10, 20, 55, 0, 0);
        let mon_open = ms_from_civil(2025, 1, 13, 14, 30, 0, 0);
        assert!(
            check(
                &Bars::from_bars([bar(fri_close, 10.0), bar(mon_open, 10.0)]),
                Timeframe::M5,
                Calendar::UsEquity
            )
            .is_clean()
        );
    }

    #[test]
    fn repair_lists_every_change() {
        let mut b1 = bar(2 * HOUR_MS, 10.0);
        b1.high = 9.0;
        let mut b2 = bar(HOUR_MS, 10.0);
        b2.volume = f64::NAN;
        let mut b3 = bar(4 * HOUR_MS, 10.0);
        b3.open = f64::NAN;
        let bars = Bars::from_bars([b1, b2, bar(2 * HOUR_MS, 12.0), b3, bar(3 * HOUR_MS, 5.0)]);
        let (fixed, changes) = repair(&bars);
        assert_eq!(fixed.ts(), &[HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS]);
        assert_eq!(fixed.open()[1], 12.0, "the later duplicate wins");
        let summary: Vec<(Action, Field, usize)> =
            changes.iter().map(|c| (c.action, c.field, c.row)).collect();
        assert!(summary.contains(&(Action::Moved, Field::Row, 1)));
        assert!(
            summary.contains(&(Action::Dropped, Field::Row, 0)),
            "{summary:?}"
        );
        assert!(summary.contains(&(Action::Set, Field::Volume, 1)));
        assert!(summary.contains(&(Action::Dropped, Field::Row, 3)));
        assert!(check(&fixed, Timeframe::H1, Calendar::Continuous).is_clean());
    }

    #[test]
    fn high_below_low_is_its_own_issue_and_repair_spans_all_four_prices() {
        let t = ms_from_civil(2025, 1, 6, 0, 0, 0, 0);
        let mut inverted = bar(t, 10.0);
        inverted.high = 9.0;
        inverted.low = 11.0;
        let bars = Bars::from_bars([inverted]);
        let r = check(&bars, Timeframe::H1, Calendar::Continuous);
        assert!(kinds(&r).contains(&IssueKind::HighBelowLow), "{r:?}");
        assert_eq!(r.counts()["high_below_low"], 1);
        let detail = &r
            .issues
            .iter()
            .find(|i| i.kind == IssueKind::HighBelowLow)
            .unwrap()
            .detail;
        assert_eq!(detail, "high 9 < low 11");
        // The repair sets high and low to the extremes of the bar's four prices: two fields set.
        let (fixed, changes) = repair(&bars);
        assert_eq!(fixed_in_place(&changes), 2);
        assert_eq!((fixed.high()[0], fixed.low()[0]), (11.0, 9.0));
        let named: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| (c.action.as_str(), c.field.as_str()))
            .collect();
        assert_eq!(named, vec![("set", "high"), ("set", "low")]);
        assert!(check(&fixed, Timeframe::H1, Calendar::Continuous).is_clean());
    }

    #[test]
    fn change_and_gap_names_are_the_documented_ones() {
        assert_eq!(IssueKind::Gap.as_str(), "gap");
        assert_eq!(Field::Row.as_str(), "row");
        assert_eq!(Field::Volume.as_str(), "volume");
        assert_eq!(Action::Moved.as_str(), "moved");
        assert_eq!(Action::Dropped.as_str(), "dropped");
        let r = check(
            &Bars::from_bars([bar(0, 10.0), bar(3 * HOUR_MS, 10.0)]),
            Timeframe::H1,
            Calendar::Continuous,
        );
        assert_eq!(r.counts()["gap"], 1);
        assert_eq!(
            r.issues[0].detail,
            "2 expected 1h bars missing between 1970-01-01T00:00:00Z and 1970-01-01T03:00:00Z"
        );
    }

    #[test]
    fn a_huge_gap_is_counted_up_to_the_scan_cap() {
        // Ten years of 1m bars missing: the scan stops at MAX_GAP_SCAN slots and says so.
        let end = 10 * 365 * 24 * 60 * MINUTE_MS;
        let r = check(
            &Bars::from_bars([bar(0, 10.0), bar(end, 10.0)]),
            Timeframe::M1,
            Calendar::Continuous,
        );
        assert_eq!(kinds(&r), vec![IssueKind::Gap]);
        assert_eq!(r.issues[0].missing, MAX_GAP_SCAN as u64);
        assert!(r.issues[0].detail.ends_with(" (at least; scan capped)"));
    }

    fn messy() -> impl Strategy<Value = Bars> {
        let price = prop_oneof![8 => 1.0f64..100.0, 1 => Just(f64::NAN), 1 => Just(-1.0)];
        proptest::collection::vec(
            (
                0i64..50,
                price.clone(),
                price.clone(),
                price.clone(),
                price,
                -5.0f64..100.0,
            ),
            0..80,
        )
        .prop_map(|rows| {
            Bars::from_bars(rows.into_iter().map(|(t, o, h, l, c, v)| Bar {
                ts: t * HOUR_MS,
                open: o,
                high: h,
                low: l,
                close: c,
                volume: v,
            }))
        })
    }

    proptest! {
        #[test]
        fn repaired_series_pass_every_bar_check(bars in messy()) {
            let (fixed, changes) = repair(&bars);
            prop_assert!(fixed.is_normal());
            let r = check(&fixed, Timeframe::H1, Calendar::Continuous);
            prop_assert!(r.issues.iter().all(|i| i.kind == IssueKind::Gap), "{:?}", r);
            // Every dropped input row is accounted for.
            let dropped = changes.iter().filter(|c| c.action == Action::Dropped).count();
            prop_assert_eq!(fixed.len() + dropped, bars.len());
            // Repair is idempotent.
            let (again, more) = repair(&fixed);
            prop_assert_eq!(again, fixed);
            prop_assert!(more.is_empty());
        }
    }
}
