//! When a stream counts as stalled: no closed bar for `stall_bars` timeframes while the series'
//! calendar says bars were due. A quiet stream over a weekend or a night is not stalled.

use ktrdr_market::{Calendar, Timeframe};

/// `now_ms` wall time, `quiet_ms` how long since the last closed bar (or since the stream
/// started).
pub fn stalled(
    now_ms: i64,
    quiet_ms: i64,
    tf: Timeframe,
    calendar: Calendar,
    stall_bars: usize,
) -> bool {
    let span = tf.duration_ms();
    if quiet_ms < span * stall_bars as i64 {
        return false;
    }
    // The bars that should have closed in the quiet time: at least one must be expected.
    let last_closed = tf.bucket_start(now_ms) - span;
    (0..stall_bars as i64).any(|k| calendar.expects_bar(last_closed - k * span, tf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tuesday 2024-01-02 15:00 UTC (10:00 in New York).
    const TUE_15: i64 = 1_704_207_600_000;
    /// Saturday 2024-01-06 15:00 UTC.
    const SAT_15: i64 = 1_704_553_200_000;
    const MIN: i64 = 60_000;

    #[test]
    fn quiet_for_two_bars_in_market_hours_is_stalled() {
        let tf = Timeframe::M1;
        let eq = Calendar::UsEquity;
        assert!(!stalled(TUE_15, 119_999, tf, eq, 2));
        assert!(stalled(TUE_15, 2 * MIN, tf, eq, 2));
        assert!(!stalled(TUE_15, 2 * MIN, tf, eq, 3));
        // Markets closed: never stalled, however long.
        assert!(!stalled(SAT_15, 600 * MIN, tf, eq, 2));
        assert!(!stalled(SAT_15, 600 * MIN, tf, Calendar::Forex, 2));
        assert!(stalled(SAT_15, 600 * MIN, tf, Calendar::Continuous, 2));
        // New York night on a weekday: equities quiet, forex due.
        let night = TUE_15 + 10 * 3_600_000;
        assert!(!stalled(night, 30 * MIN, tf, eq, 2));
        assert!(stalled(night, 30 * MIN, tf, Calendar::Forex, 2));
    }
}
