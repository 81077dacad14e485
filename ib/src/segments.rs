//! How much history one IB request may ask for at each bar size, and the splitting of a range into
//! such segments. The limits are the predecessor's, which stayed inside what IB serves in one
//! answer (larger requests are refused with error 321 or time out).

use ktrdr_market::Timeframe;
use ktrdr_market::time::DAY_MS;

/// Longest span of one request, in days.
pub fn max_days(tf: Timeframe) -> i64 {
    match tf {
        Timeframe::M1 => 1,
        Timeframe::M5 => 7,
        Timeframe::M15 => 14,
        Timeframe::M30 => 30,
        Timeframe::H1 => 30,
        Timeframe::H4 => 120,
        Timeframe::D1 => 365,
        Timeframe::W1 => 730,
    }
}

/// IB's bar-size setting for a timeframe.
pub fn bar_size(tf: Timeframe) -> ibapi::market_data::historical::BarSize {
    use ibapi::market_data::historical::BarSize;
    match tf {
        Timeframe::M1 => BarSize::Min,
        Timeframe::M5 => BarSize::Min5,
        Timeframe::M15 => BarSize::Min15,
        Timeframe::M30 => BarSize::Min30,
        Timeframe::H1 => BarSize::Hour,
        Timeframe::H4 => BarSize::Hour4,
        Timeframe::D1 => BarSize::Day,
        Timeframe::W1 => BarSize::Week,
    }
}

/// One request's range, `[start, end)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: i64,
    pub end: i64,
}

impl Segment {
    /// The duration to ask for: whole days (IB counts days, not hours, for long ranges), or years
    /// beyond 365 days where IB refuses day counts. Bars before `start` that the rounding brings in
    /// are dropped by the caller.
    pub fn duration(&self) -> ibapi::market_data::historical::Duration {
        use ibapi::market_data::historical::Duration;
        let days = (self.end - self.start + DAY_MS - 1)
            .div_euclid(DAY_MS)
            .max(1);
        if days > 365 {
            Duration::years(((days + 364) / 365) as i32)
        } else {
            Duration::days(days as i32)
        }
    }
}

/// `[start, end)` split into segments of at most `max_days(tf)`, oldest first, each ending where
/// the next begins so no bar is asked for twice.
pub fn split(start: i64, end: i64, tf: Timeframe) -> Vec<Segment> {
    let step = max_days(tf) * DAY_MS;
    let mut out = Vec::new();
    let mut hi = end;
    while hi > start {
        let lo = (hi - step).max(start);
        out.push(Segment { start: lo, end: hi });
        hi = lo;
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_the_range_without_overlap() {
        let start = 1_000 * DAY_MS + 3_600_000;
        let end = start + 10 * DAY_MS + 5;
        let s = split(start, end, Timeframe::M1);
        assert_eq!(s.len(), 11);
        assert_eq!(s[0].start, start);
        assert_eq!(s.last().map(|x| x.end), Some(end));
        for w in s.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        assert!(s.iter().all(|x| x.end - x.start <= DAY_MS));
        assert_eq!(split(start, start, Timeframe::H1), vec![]);
        assert_eq!(split(0, 365 * DAY_MS, Timeframe::D1).len(), 1);
    }

    #[test]
    fn durations_in_days_or_years() {
        let d = |days: i64| {
            Segment {
                start: 0,
                end: days * DAY_MS,
            }
            .duration()
            .to_string()
        };
        assert_eq!(d(1), "1 D");
        assert_eq!(d(30), "30 D");
        assert_eq!(d(730), "2 Y");
        let part = Segment {
            start: 0,
            end: DAY_MS / 2,
        };
        assert_eq!(part.duration().to_string(), "1 D");
    }

    #[test]
    fn every_timeframe_has_a_request_span_and_its_own_bar_size() {
        use ibapi::market_data::historical::BarSize;
        let all = Timeframe::ALL;
        let days: Vec<i64> = all.iter().map(|&t| max_days(t)).collect();
        assert_eq!(days, [1, 7, 14, 30, 30, 120, 365, 730]);
        // A span always holds whole bars of its timeframe.
        for &t in &all {
            assert!(max_days(t) * DAY_MS >= t.duration_ms(), "{t}");
        }
        let sizes: Vec<BarSize> = all.iter().map(|&t| bar_size(t)).collect();
        assert_eq!(
            sizes,
            [
                BarSize::Min,
                BarSize::Min5,
                BarSize::Min15,
                BarSize::Min30,
                BarSize::Hour,
                BarSize::Hour4,
                BarSize::Day,
                BarSize::Week
            ]
        );
    }
}
