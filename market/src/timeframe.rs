//! [`Timeframe`]: the bar sizes the store knows, and how a bar's open time aligns to its bucket.

use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, WEEK_MS};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timeframe {
    M1,
    M5,
    M15,
    M30,
    H1,
    H4,
    D1,
    W1,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown timeframe {0:?}")]
pub struct UnknownTimeframe(pub String);

impl Timeframe {
    pub const ALL: [Timeframe; 8] = [
        Timeframe::M1,
        Timeframe::M5,
        Timeframe::M15,
        Timeframe::M30,
        Timeframe::H1,
        Timeframe::H4,
        Timeframe::D1,
        Timeframe::W1,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::M1 => "1m",
            Timeframe::M5 => "5m",
            Timeframe::M15 => "15m",
            Timeframe::M30 => "30m",
            Timeframe::H1 => "1h",
            Timeframe::H4 => "4h",
            Timeframe::D1 => "1d",
            Timeframe::W1 => "1w",
        }
    }

    /// The comma-separated list for error hints.
    pub fn names() -> String {
        Self::ALL.map(Timeframe::as_str).join(", ")
    }

    pub fn duration_ms(self) -> i64 {
        match self {
            Timeframe::M1 => MINUTE_MS,
            Timeframe::M5 => 5 * MINUTE_MS,
            Timeframe::M15 => 15 * MINUTE_MS,
            Timeframe::M30 => 30 * MINUTE_MS,
            Timeframe::H1 => HOUR_MS,
            Timeframe::H4 => 4 * HOUR_MS,
            Timeframe::D1 => DAY_MS,
            Timeframe::W1 => WEEK_MS,
        }
    }

    /// The open time of the bucket holding `ts`. Intraday buckets and days align to the Unix epoch,
    /// i.e. to 00:00 UTC; weeks start on Monday 00:00 UTC (the epoch was a Thursday, so shift by four
    /// days).
    pub fn bucket_start(self, ts: i64) -> i64 {
        let d = self.duration_ms();
        match self {
            Timeframe::W1 => {
                let monday = 4 * DAY_MS;
                (ts - monday).div_euclid(d) * d + monday
            }
            _ => ts.div_euclid(d) * d,
        }
    }

    /// Whether bars of `self` can be built from bars of `finer`: strictly coarser, and a whole multiple.
    pub fn can_resample_from(self, finer: Timeframe) -> bool {
        self.duration_ms() > finer.duration_ms() && self.duration_ms() % finer.duration_ms() == 0
    }
}

impl fmt::Display for Timeframe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Timeframe {
    type Err = UnknownTimeframe;
    /// Accepts the canonical names and the common spellings (`1min`, `60m`, `1H`, `D`, `daily`, ...).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        let tf = match lower.as_str() {
            "1m" | "1min" | "m1" => Timeframe::M1,
            "5m" | "5min" | "m5" => Timeframe::M5,
            "15m" | "15min" | "m15" => Timeframe::M15,
            "30m" | "30min" | "m30" => Timeframe::M30,
            "1h" | "60m" | "60min" | "h1" | "hourly" => Timeframe::H1,
            "4h" | "240m" | "h4" => Timeframe::H4,
            "1d" | "d" | "d1" | "day" | "daily" => Timeframe::D1,
            "1w" | "w" | "w1" | "week" | "weekly" => Timeframe::W1,
            _ => return Err(UnknownTimeframe(s.to_string())),
        };
        Ok(tf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{days_from_civil, weekday_of_day};
    use proptest::prelude::*;

    #[test]
    fn parse_and_display_round_trip() {
        for tf in Timeframe::ALL {
            assert_eq!(tf.as_str().parse::<Timeframe>().unwrap(), tf);
        }
        assert_eq!("1H".parse::<Timeframe>().unwrap(), Timeframe::H1);
        assert_eq!("daily".parse::<Timeframe>().unwrap(), Timeframe::D1);
        assert!("2h".parse::<Timeframe>().is_err());
        assert!("".parse::<Timeframe>().is_err());
    }

    #[test]
    fn resample_compatibility() {
        assert!(Timeframe::H1.can_resample_from(Timeframe::M5));
        assert!(Timeframe::W1.can_resample_from(Timeframe::D1));
        assert!(Timeframe::W1.can_resample_from(Timeframe::H4));
        assert!(!Timeframe::M5.can_resample_from(Timeframe::H1));
        assert!(!Timeframe::H1.can_resample_from(Timeframe::H1));
    }

    #[test]
    fn weeks_start_on_monday() {
        // Sunday 2025-05-25 23:59 belongs to the week of Monday 2025-05-19.
        let sunday = days_from_civil(2025, 5, 25) * DAY_MS + 23 * HOUR_MS + 59 * MINUTE_MS;
        let start = Timeframe::W1.bucket_start(sunday);
        assert_eq!(start, days_from_civil(2025, 5, 19) * DAY_MS);
        let monday = days_from_civil(2025, 5, 26) * DAY_MS;
        assert_eq!(Timeframe::W1.bucket_start(monday), monday);
    }

    proptest! {
        #[test]
        fn buckets_contain_their_instant(ts in -10_000_000_000_000i64..10_000_000_000_000i64, i in 0usize..8) {
            let tf = Timeframe::ALL[i];
            let s = tf.bucket_start(ts);
            prop_assert!(s <= ts && ts < s + tf.duration_ms());
            prop_assert_eq!(tf.bucket_start(s), s);
            if tf == Timeframe::W1 {
                prop_assert_eq!(weekday_of_day(s.div_euclid(DAY_MS)), 0);
            }
        }
    }

    #[test]
    fn names_lists_every_timeframe_for_hints() {
        assert_eq!(Timeframe::names(), "1m, 5m, 15m, 30m, 1h, 4h, 1d, 1w");
    }
}
