//! Evaluation windows: dates, durations, and the walk-forward or single-split windows each cell is
//! trained and then tested on. A test window always starts where its train window ends, so no
//! cell is tested on bars it was trained on.

use ktrdr_market::time::{self, DAY_MS, HOUR_MS, WEEK_MS};
use ktrdr_protocol::sweep::{Span, WindowSpec};

/// `YYYY-MM-DD` (UTC midnight) or an RFC 3339 time, as UTC milliseconds.
pub(crate) fn parse_date(text: &str) -> Result<i64, String> {
    time::parse_utc(text)
        .map(|t| t.ms())
        .map_err(|e| format!("{e} (write YYYY-MM-DD or an RFC 3339 time)"))
}

/// `Nd`, `Nh` or `Nw` with N a positive integer, in milliseconds.
pub(crate) fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = |why: &str| format!("{t:?}: {why} (write e.g. 120d, 36h or 4w)");
    let unit = match t.chars().last() {
        Some('d') => DAY_MS,
        Some('h') => HOUR_MS,
        Some('w') => WEEK_MS,
        _ => return Err(bad("the unit must be d, h or w")),
    };
    let digits = &t[..t.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("expected a whole number before the unit"));
    }
    let n: i64 = digits.parse().map_err(|_| bad("too large"))?;
    if n == 0 {
        return Err(bad("must be positive"));
    }
    n.checked_mul(unit).ok_or_else(|| bad("too large"))
}

/// The walk-forward layout: window k trains on `[from + k*step, +train)` and tests on the `test`
/// after it; windows are kept while the test ends by `to`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct WalkForward {
    pub from: i64,
    pub to: i64,
    pub train: i64,
    pub test: i64,
    pub step: i64,
}

/// The windows of `wf`, at most `limit` of them (more is reported by the caller as too many).
pub(crate) fn walk_forward(wf: WalkForward, limit: usize) -> Result<Vec<WindowSpec>, String> {
    if wf.step <= 0 || wf.train <= 0 || wf.test <= 0 {
        return Err("train, test and step must be positive".into());
    }
    let mut out = Vec::new();
    for k in 0i64.. {
        if out.len() > limit {
            break;
        }
        let Some(window) = (|| {
            let start = wf.from.checked_add(k.checked_mul(wf.step)?)?;
            let mid = start.checked_add(wf.train)?;
            let end = mid.checked_add(wf.test)?;
            Some((start, mid, end))
        })() else {
            break;
        };
        let (start, mid, end) = window;
        if end > wf.to {
            break;
        }
        out.push(WindowSpec {
            index: out.len() as u32,
            train: Span {
                start_ms: start,
                end_ms: mid,
            },
            test: Span {
                start_ms: mid,
                end_ms: end,
            },
        });
    }
    if out.is_empty() {
        let needed = wf.from.saturating_add(wf.train).saturating_add(wf.test);
        return Err(format!(
            "the range {} to {} is too short for one window: train + test need until {}",
            time::format_iso(wf.from),
            time::format_iso(wf.to),
            time::format_iso(needed)
        ));
    }
    Ok(out)
}

/// One window: train on `train`, test on `test`, which must not start before the training ends.
pub(crate) fn split(train: Span, test: Span) -> Result<Vec<WindowSpec>, String> {
    let mut why = Vec::new();
    if train.start_ms >= train.end_ms {
        why.push("train: the start must be before the end");
    }
    if test.start_ms >= test.end_ms {
        why.push("test: the start must be before the end");
    }
    if train.end_ms > test.start_ms {
        why.push("the train range must end by the start of the test range");
    }
    if !why.is_empty() {
        return Err(why.join("; "));
    }
    Ok(vec![WindowSpec {
        index: 0,
        train,
        test,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> i64 {
        parse_date(text).unwrap()
    }

    #[test]
    fn dates_and_times() {
        assert_eq!(day("1970-01-02"), DAY_MS);
        assert_eq!(
            day("2017-05-01T12:00:00Z"),
            day("2017-05-01") + 12 * HOUR_MS
        );
        assert_eq!(
            day("2017-05-01T12:00:00+02:00"),
            day("2017-05-01") + 10 * HOUR_MS
        );
        for bad in [
            "2017-13-01",
            "2017-02-30",
            "May 1 2017",
            "",
            "2017-05-01T25:00Z",
        ] {
            let e = parse_date(bad).unwrap_err();
            assert!(e.contains("YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("120d").unwrap(), 120 * DAY_MS);
        assert_eq!(parse_duration("36h").unwrap(), 36 * HOUR_MS);
        assert_eq!(parse_duration("4w").unwrap(), 28 * DAY_MS);
        for (bad, why) in [
            ("0d", "must be positive"),
            ("-3d", "whole number"),
            ("1.5d", "whole number"),
            ("d", "whole number"),
            ("30", "unit"),
            ("30m", "unit"),
            ("", "unit"),
            ("99999999999999999999d", "too large"),
            ("999999999999999w", "too large"),
        ] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn walk_forward_windows_follow_each_other_without_overlap() {
        let wf = WalkForward {
            from: day("2017-05-01"),
            to: day("2018-02-01"),
            train: 120 * DAY_MS,
            test: 30 * DAY_MS,
            step: 30 * DAY_MS,
        };
        let w = walk_forward(wf, 1000).unwrap();
        // 2017-05-01 + 150d = 2017-09-28; 276 days to 2018-02-01; (276 - 150) / 30 = 4.2 -> 5.
        assert_eq!(w.len(), 5);
        for (k, win) in w.iter().enumerate() {
            assert_eq!(win.index as usize, k);
            assert_eq!(win.train.start_ms, wf.from + k as i64 * wf.step);
            assert_eq!(win.train.end_ms - win.train.start_ms, wf.train);
            assert_eq!(win.test.start_ms, win.train.end_ms);
            assert_eq!(win.test.end_ms - win.test.start_ms, wf.test);
            assert!(win.test.end_ms <= wf.to);
        }
        // With step == test, the test windows tile the range without overlapping.
        for pair in w.windows(2) {
            assert_eq!(pair[1].test.start_ms, pair[0].test.end_ms);
        }
        assert_eq!(w[0].test.start_ms, day("2017-08-29"));
        assert!(w[4].test.end_ms + wf.step > wf.to);
    }

    #[test]
    fn a_window_ending_exactly_at_to_counts() {
        let wf = WalkForward {
            from: 0,
            to: 10 * DAY_MS,
            train: 7 * DAY_MS,
            test: 3 * DAY_MS,
            step: DAY_MS,
        };
        assert_eq!(walk_forward(wf, 1000).unwrap().len(), 1);
    }

    #[test]
    fn too_short_and_too_many() {
        let wf = WalkForward {
            from: day("2017-05-01"),
            to: day("2017-08-01"),
            train: 120 * DAY_MS,
            test: 30 * DAY_MS,
            step: 30 * DAY_MS,
        };
        let e = walk_forward(wf, 1000).unwrap_err();
        assert!(e.contains("too short"), "{e}");
        assert!(e.contains("2017-09-28"), "{e}");
        let wf = WalkForward {
            from: 0,
            to: 1000 * DAY_MS,
            train: DAY_MS,
            test: DAY_MS,
            step: HOUR_MS,
        };
        assert_eq!(walk_forward(wf, 10).unwrap().len(), 11);
        assert!(walk_forward(WalkForward { step: 0, ..wf }, 10).is_err());
    }

    #[test]
    fn split_checks_order() {
        let s = |a: i64, b: i64| Span {
            start_ms: a,
            end_ms: b,
        };
        let w = split(s(0, 10), s(10, 20)).unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].train, s(0, 10));
        assert_eq!(w[0].test, s(10, 20));
        let e = split(s(0, 11), s(10, 20)).unwrap_err();
        assert!(e.contains("must end by the start of the test"), "{e}");
        let e = split(s(10, 0), s(20, 20)).unwrap_err();
        assert!(
            e.contains("train: the start") && e.contains("test: the start"),
            "{e}"
        );
    }
}
