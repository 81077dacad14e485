//! When a market trades, so that the quality check can tell a missing bar from a closed market.
//!
//! The rules implemented (all other days and hours are expected to have bars):
//!
//! - [`Calendar::Continuous`] (crypto): every bar is expected, around the clock, every day.
//! - [`Calendar::Forex`] (24/5): closed from Friday 21:00 UTC to Sunday 22:00 UTC. The real close
//!   and open are 17:00 New York time, i.e. 21:00 UTC in northern summer and 22:00 UTC in winter; the
//!   window is the union of both so neither season reports its closed hour as a gap. Also closed all
//!   of 25 December and 1 January, when dealers quote nothing. Daily bars are expected Monday to
//!   Friday (a feed's Sunday-evening bar is accepted but not required).
//! - [`Calendar::UsEquity`] (NYSE/Nasdaq): intraday bars are expected only when they lie entirely
//!   inside the regular session, 09:30-16:00 America/New_York (US daylight-saving rules since 2007,
//!   and the 1987-2006 rules before), and 09:30-13:00 on the early-close days since 1993 (3 July, a
//!   Friday 5 July in 1995-2012, the day after Thanksgiving, 24 December, when they are trading days,
//!   and three one-off days; see `nyse_early_close`). Pre- and post-market bars are allowed but
//!   never required, so files with or without extended hours both check clean. Daily bars are
//!   expected on every trading day: weekdays that are not NYSE holidays (New Year's Day, Martin Luther
//!   King Jr. Day from 1998, presidential Election Day until 1980, Washington's Birthday, Good
//!   Friday, Memorial Day, Juneteenth from 2022, Independence Day, Labor Day, Thanksgiving,
//!   Christmas; a Saturday holiday observed the Friday before except New Year's Day, a Sunday one the
//!   Monday after), and the exchange's one-off closures since 1971 (national days of mourning,
//!   storms, 11 September 2001; listed in `NYSE_ONE_OFF_CLOSURES`), so that a feed without bars on
//!   those days checks clean. The holiday rules hold from 1971, when Washington's Birthday and
//!   Memorial Day became Monday holidays; earlier years had other holidays and are not modelled.
//! - Weekly bars are expected every week for every calendar.

use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS, civil_from_days, days_from_civil, weekday_of_day};
use crate::timeframe::Timeframe;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calendar {
    Continuous,
    Forex,
    UsEquity,
}

const CURRENCIES: [&str; 24] = [
    "USD", "EUR", "GBP", "JPY", "CHF", "AUD", "NZD", "CAD", "SEK", "NOK", "DKK", "HKD", "SGD",
    "CNH", "CNY", "MXN", "ZAR", "TRY", "PLN", "HUF", "CZK", "ILS", "KRW", "INR",
];
const CRYPTO: [&str; 6] = ["BTC", "ETH", "SOL", "XRP", "LTC", "DOGE"];

impl Calendar {
    /// Guesses the calendar from a symbol: two currency codes (`EURUSD`, `EUR.USD`) are forex, a
    /// crypto code or a `USDT` quote is continuous, anything else is a US stock.
    pub fn for_symbol(symbol: &str) -> Calendar {
        let s = symbol.to_ascii_uppercase();
        let compact: String = s.chars().filter(|c| c.is_ascii_alphabetic()).collect();
        if CRYPTO.iter().any(|c| compact.starts_with(c)) || compact.ends_with("USDT") {
            return Calendar::Continuous;
        }
        if compact.len() == 6
            && CURRENCIES.contains(&&compact[..3])
            && CURRENCIES.contains(&&compact[3..])
        {
            return Calendar::Forex;
        }
        Calendar::UsEquity
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Calendar::Continuous => "continuous",
            Calendar::Forex => "forex_24x5",
            Calendar::UsEquity => "us_equity",
        }
    }

    /// Whether a bar of `tf` opening at `ts` should exist if the feed is complete.
    pub fn expects_bar(self, ts: i64, tf: Timeframe) -> bool {
        if tf == Timeframe::W1 {
            return true;
        }
        let day = ts.div_euclid(DAY_MS);
        match self {
            Calendar::Continuous => true,
            Calendar::Forex if tf == Timeframe::D1 => {
                weekday_of_day(day) < 5 && !forex_holiday(day)
            }
            Calendar::Forex => forex_open(ts) && forex_open(ts + tf.duration_ms() - 1),
            Calendar::UsEquity if tf == Timeframe::D1 => nyse_trading_day(day),
            Calendar::UsEquity => {
                let offset = new_york_offset_ms(ts);
                let local = ts + offset;
                let local_day = local.div_euclid(DAY_MS);
                if !nyse_trading_day(local_day) {
                    return false;
                }
                let since_midnight = local.rem_euclid(DAY_MS);
                let open = 9 * HOUR_MS + 30 * MINUTE_MS;
                let close = if nyse_early_close(local_day) {
                    13 * HOUR_MS
                } else {
                    16 * HOUR_MS
                };
                since_midnight >= open && since_midnight + tf.duration_ms() <= close
            }
        }
    }
}

fn forex_holiday(day: i64) -> bool {
    let (_, m, d) = civil_from_days(day);
    (m == 12 && d == 25) || (m == 1 && d == 1)
}

fn forex_open(ts: i64) -> bool {
    let day = ts.div_euclid(DAY_MS);
    let hour = ts.rem_euclid(DAY_MS) / HOUR_MS;
    if forex_holiday(day) {
        return false;
    }
    match weekday_of_day(day) {
        4 => hour < 21,  // Friday
        5 => false,      // Saturday
        6 => hour >= 22, // Sunday
        _ => true,
    }
}

/// The `n`th (1-based) given weekday (0 = Monday) of a month, as a day number.
fn nth_weekday(y: i64, m: u32, weekday: u32, n: u32) -> i64 {
    let first = days_from_civil(y, m, 1);
    let shift = (weekday + 7 - weekday_of_day(first)) % 7;
    first + shift as i64 + 7 * (n as i64 - 1)
}

fn last_weekday(y: i64, m: u32, weekday: u32) -> i64 {
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = next - 1;
    last - ((weekday_of_day(last) + 7 - weekday) % 7) as i64
}

/// America/New_York's UTC offset at `ts`: -4 h under daylight-saving time, else -5 h.
fn new_york_offset_ms(ts: i64) -> i64 {
    let standard = ts - 5 * HOUR_MS;
    let (y, _, _) = civil_from_days(standard.div_euclid(DAY_MS));
    let (start, end) = if y >= 2007 {
        (nth_weekday(y, 3, 6, 2), nth_weekday(y, 11, 6, 1))
    } else {
        (nth_weekday(y, 4, 6, 1), last_weekday(y, 10, 6))
    };
    // Switches at 02:00 local standard time in spring, 02:00 daylight (01:00 standard) in autumn.
    let begins = start * DAY_MS + 2 * HOUR_MS;
    let ends = end * DAY_MS + HOUR_MS;
    if standard >= begins && standard < ends {
        -4 * HOUR_MS
    } else {
        -5 * HOUR_MS
    }
}

fn easter_sunday(y: i64) -> i64 {
    // Anonymous Gregorian algorithm.
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    days_from_civil(y, month as u32, day as u32)
}

/// A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday.
fn observed(day: i64) -> i64 {
    match weekday_of_day(day) {
        5 => day - 1,
        6 => day + 1,
        _ => day,
    }
}

/// Whole-day closures outside the yearly rules, as `YYYYMMDD`, sorted for a binary search. The list
/// is the NYSE's own closings history (as tabulated by the exchange-calendar libraries) from 1971,
/// the first year of today's Monday holidays, plus 2025-01-09 (national day of mourning for
/// President Carter).
const NYSE_ONE_OFF_CLOSURES: [u32; 15] = [
    19721228, // funeral of President Truman
    19730125, // funeral of President Johnson
    19770714, // New York City blackout
    19850927, // Hurricane Gloria
    19940427, // funeral of President Nixon
    20010911, // 11 September attacks: closed until the 17th
    20010912, 20010913, 20010914, 20040611, // national day of mourning, President Reagan
    20070102, // national day of mourning, President Ford
    20121029, // Hurricane Sandy
    20121030, 20181205, // national day of mourning, President George H. W. Bush
    20250109, // national day of mourning, President Carter
];

fn nyse_holiday(day: i64) -> bool {
    let (y, m, d) = civil_from_days(day);
    if u32::try_from(y).is_ok_and(|y| {
        NYSE_ONE_OFF_CLOSURES
            .binary_search(&(y * 10_000 + m * 100 + d))
            .is_ok()
    }) {
        return true;
    }
    let new_year = days_from_civil(y, 1, 1);
    // New Year's Day on a Saturday is not observed on the Friday before (year-end accounting).
    let new_year_observed = weekday_of_day(new_year) == 6 && day == new_year + 1;
    let mut fixed = vec![
        observed(days_from_civil(y, 7, 4)),
        observed(days_from_civil(y, 12, 25)),
    ];
    if y >= 2022 {
        fixed.push(observed(days_from_civil(y, 6, 19)));
    }
    day == new_year
        || new_year_observed
        || fixed.contains(&day)
        || (y >= 1998 && day == nth_weekday(y, 1, 0, 3))
        || (matches!(y, 1972 | 1976 | 1980) && day == nth_weekday(y, 11, 0, 1) + 1)
        || day == nth_weekday(y, 2, 0, 3)
        || day == easter_sunday(y) - 2
        || day == last_weekday(y, 5, 0)
        || day == nth_weekday(y, 9, 0, 1)
        || day == nth_weekday(y, 11, 3, 4)
}

fn nyse_trading_day(day: i64) -> bool {
    weekday_of_day(day) < 5 && !nyse_holiday(day)
}

/// Sessions that ended at 13:00 outside the yearly rules, as `YYYYMMDD`, sorted.
const NYSE_ONE_OFF_EARLY_CLOSES: [u32; 3] = [19971226, 19991231, 20031226];

/// The 13:00 closes since 1993. Independence Day's changed twice: a Wednesday 3 July was a full
/// session until 2012 while a Friday 5 July closed early from 1995 to 2012; since 2013 it is 3 July
/// whatever the weekday. Years before 1993 (a 14:00 early close) are not modelled.
fn nyse_early_close(day: i64) -> bool {
    let (y, m, d) = civil_from_days(day);
    if y < 1993 || !nyse_trading_day(day) {
        return false;
    }
    let weekday = weekday_of_day(day);
    let july_3 = m == 7 && d == 3 && (y >= 2013 || (y >= 1995 && weekday != 2));
    let july_5 = m == 7 && d == 5 && weekday == 4 && (1995..=2012).contains(&y);
    july_3
        || july_5
        || (m == 12 && d == 24)
        || day == nth_weekday(y, 11, 3, 4) + 1
        || NYSE_ONE_OFF_EARLY_CLOSES
            .binary_search(&(y as u32 * 10_000 + m * 100 + d))
            .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::ms_from_civil;

    fn at(y: i64, m: u32, d: u32, hh: u32, mm: u32) -> i64 {
        ms_from_civil(y, m, d, hh, mm, 0, 0)
    }

    #[test]
    fn symbols_pick_calendars() {
        assert_eq!(Calendar::for_symbol("EURUSD"), Calendar::Forex);
        assert_eq!(Calendar::for_symbol("eur.usd"), Calendar::Forex);
        assert_eq!(Calendar::for_symbol("AAPL"), Calendar::UsEquity);
        assert_eq!(Calendar::for_symbol("BTCUSD"), Calendar::Continuous);
        assert_eq!(Calendar::for_symbol("USDCAD"), Calendar::Forex);
    }

    #[test]
    fn forex_weekend() {
        let c = Calendar::Forex;
        let h = Timeframe::H1;
        assert!(c.expects_bar(at(2025, 1, 10, 20, 0), h)); // Friday 20:00
        assert!(!c.expects_bar(at(2025, 1, 10, 21, 0), h));
        assert!(!c.expects_bar(at(2025, 1, 11, 12, 0), h)); // Saturday
        assert!(!c.expects_bar(at(2025, 1, 12, 21, 0), h)); // Sunday 21:00
        assert!(c.expects_bar(at(2025, 1, 12, 22, 0), h));
        assert!(!c.expects_bar(at(2025, 12, 25, 10, 0), h));
        assert!(c.expects_bar(at(2025, 1, 10, 0, 0), Timeframe::D1));
        assert!(!c.expects_bar(at(2025, 1, 11, 0, 0), Timeframe::D1));
    }

    #[test]
    fn us_sessions_follow_new_york_time() {
        let c = Calendar::UsEquity;
        let m5 = Timeframe::M5;
        // Summer (EDT, UTC-4): 09:30 local is 13:30 UTC.
        assert!(c.expects_bar(at(2025, 5, 22, 13, 30), m5));
        assert!(!c.expects_bar(at(2025, 5, 22, 13, 25), m5));
        assert!(c.expects_bar(at(2025, 5, 22, 19, 55), m5));
        assert!(!c.expects_bar(at(2025, 5, 22, 20, 0), m5));
        // Winter (EST, UTC-5): 09:30 local is 14:30 UTC.
        assert!(!c.expects_bar(at(2025, 1, 8, 14, 25), m5));
        assert!(c.expects_bar(at(2025, 1, 8, 14, 30), m5));
        // An hourly bar at 09:00 local straddles the open: allowed, not required.
        assert!(!c.expects_bar(at(2025, 5, 22, 13, 0), Timeframe::H1));
        assert!(c.expects_bar(at(2025, 5, 22, 14, 0), Timeframe::H1));
        // Early close the day after Thanksgiving 2025 (28 November): 13:00 EST = 18:00 UTC.
        assert!(c.expects_bar(at(2025, 11, 28, 17, 55), m5));
        assert!(!c.expects_bar(at(2025, 11, 28, 18, 0), m5));
    }

    #[test]
    fn nyse_holidays() {
        let closed = [
            (2025, 1, 1),
            (2025, 1, 20),
            (2025, 2, 17),
            (2025, 4, 18),
            (2025, 5, 26),
            (2025, 6, 19),
            (2025, 7, 4),
            (2025, 9, 1),
            (2025, 11, 27),
            (2025, 12, 25),
            (2021, 12, 24), // Christmas on a Saturday, observed Friday
            (2022, 1, 17),
            (2023, 1, 2), // New Year on a Sunday, observed Monday
        ];
        for (y, m, d) in closed {
            assert!(!nyse_trading_day(days_from_civil(y, m, d)), "{y}-{m}-{d}");
        }
        // New Year's Day 2022 fell on a Saturday: Friday 31 December 2021 was a trading day.
        assert!(nyse_trading_day(days_from_civil(2021, 12, 31)));
        assert!(nyse_trading_day(days_from_civil(2021, 6, 18))); // before Juneteenth existed
        assert!(nyse_trading_day(days_from_civil(2025, 5, 22)));
    }

    #[test]
    fn holidays_follow_the_year_they_began_and_ended() {
        // Martin Luther King Jr. Day closes the exchange only since 1998.
        assert!(nyse_trading_day(days_from_civil(1997, 1, 20)));
        assert!(!nyse_trading_day(days_from_civil(1998, 1, 19)));
        // Presidential Election Day closed it until 1980, and no longer in 1984.
        assert!(!nyse_trading_day(days_from_civil(1976, 11, 2)));
        assert!(!nyse_trading_day(days_from_civil(1980, 11, 4)));
        assert!(nyse_trading_day(days_from_civil(1978, 11, 7)));
        assert!(nyse_trading_day(days_from_civil(1984, 11, 6)));
    }

    #[test]
    fn early_closes_follow_the_exchange_rules() {
        let c = Calendar::UsEquity;
        let m5 = Timeframe::M5;
        // 13:00-16:00 EDT is 17:00-20:00 UTC in July; 14:00 EDT is 18:00 UTC.
        let after_early_close = |y, m, d| c.expects_bar(at(y, m, d, 18, 0), m5);
        // Friday 5 July closed at 13:00 from 1995 to 2012 ...
        assert!(!after_early_close(2002, 7, 5));
        assert!(after_early_close(2012, 7, 5)); // a Thursday: full session
        // ... but not in 2013, when the Wednesday before closed early instead.
        assert!(after_early_close(2013, 7, 5));
        assert!(!after_early_close(2013, 7, 3));
        // Before 2013 a Wednesday 3 July was a full session; Monday, Tuesday, Thursday were short.
        assert!(after_early_close(2002, 7, 3));
        assert!(!after_early_close(2007, 7, 3)); // Tuesday
        assert!(!after_early_close(2008, 7, 3)); // Thursday
        assert!(!after_early_close(2023, 7, 3)); // Monday
        // One-off early closes at 13:00 EST (18:00 UTC).
        for (y, m, d) in [(1997, 12, 26), (1999, 12, 31), (2003, 12, 26)] {
            assert!(
                c.expects_bar(at(y, m, d, 17, 55), m5),
                "{y}-{m}-{d} before 13:00"
            );
            assert!(
                !c.expects_bar(at(y, m, d, 18, 0), m5),
                "{y}-{m}-{d} after 13:00"
            );
        }
        // The Friday after Christmas 2008 was a full session.
        assert!(c.expects_bar(at(2008, 12, 26, 18, 0), m5));
    }

    #[test]
    fn one_off_closures_are_closed_not_gaps() {
        let c = Calendar::UsEquity;
        let closed = [
            (2001, 9, 11),
            (2001, 9, 12),
            (2001, 9, 13),
            (2001, 9, 14),
            (2004, 6, 11),
            (2007, 1, 2),
            (2012, 10, 29),
            (2012, 10, 30),
            (2018, 12, 5),
            (2025, 1, 9),
        ];
        for (y, m, d) in closed {
            assert!(
                !c.expects_bar(at(y, m, d, 0, 0), Timeframe::D1),
                "{y}-{m}-{d} daily"
            );
            // 15:00 UTC is mid-session in New York in either season.
            assert!(
                !c.expects_bar(at(y, m, d, 15, 0), Timeframe::M5),
                "{y}-{m}-{d} 5m"
            );
        }
        // The sessions on either side still trade.
        for (y, m, d) in [(2001, 9, 10), (2001, 9, 17), (2012, 10, 26), (2012, 10, 31)] {
            assert!(
                c.expects_bar(at(y, m, d, 0, 0), Timeframe::D1),
                "{y}-{m}-{d} daily"
            );
            assert!(
                c.expects_bar(at(y, m, d, 15, 0), Timeframe::M5),
                "{y}-{m}-{d} 5m"
            );
        }
    }

    #[test]
    fn dst_boundaries() {
        // 2025: DST from 9 March 07:00 UTC to 2 November 06:00 UTC.
        assert_eq!(new_york_offset_ms(at(2025, 3, 9, 6, 59)), -5 * HOUR_MS);
        assert_eq!(new_york_offset_ms(at(2025, 3, 9, 7, 0)), -4 * HOUR_MS);
        assert_eq!(new_york_offset_ms(at(2025, 11, 2, 5, 59)), -4 * HOUR_MS);
        assert_eq!(new_york_offset_ms(at(2025, 11, 2, 6, 0)), -5 * HOUR_MS);
        // 2005, the old rules: first Sunday of April, last Sunday of October.
        assert_eq!(new_york_offset_ms(at(2005, 4, 3, 7, 0)), -4 * HOUR_MS);
        assert_eq!(new_york_offset_ms(at(2005, 10, 30, 6, 0)), -5 * HOUR_MS);
    }

    #[test]
    fn calendar_names_and_weekly_bars() {
        assert_eq!(Calendar::Continuous.as_str(), "continuous");
        assert_eq!(Calendar::Forex.as_str(), "forex_24x5");
        assert_eq!(Calendar::UsEquity.as_str(), "us_equity");
        assert_eq!(Calendar::for_symbol("ETH-USD"), Calendar::Continuous);
        assert_eq!(Calendar::for_symbol("ADAUSDT"), Calendar::Continuous);
        // Weekly bars are expected every week, even one starting on a holiday.
        for c in [Calendar::Continuous, Calendar::Forex, Calendar::UsEquity] {
            assert!(c.expects_bar(at(2025, 12, 22, 0, 0), Timeframe::W1));
        }
        // Crypto never closes: Christmas Day, a Sunday night.
        assert!(Calendar::Continuous.expects_bar(at(2025, 12, 25, 3, 0), Timeframe::M1));
    }

    #[test]
    fn december_holidays_use_the_next_year_boundary() {
        // Memorial Day is the last Monday of May; the last Monday of December needs next January.
        assert_eq!(last_weekday(2025, 5, 0), days_from_civil(2025, 5, 26));
        assert_eq!(last_weekday(2025, 12, 0), days_from_civil(2025, 12, 29));
        // Early closes before 1993 (14:00) are not modelled: 24 December 1992 has a full session.
        assert!(!nyse_early_close(days_from_civil(1992, 12, 24)));
        assert!(nyse_early_close(days_from_civil(1996, 12, 24))); // a Tuesday
        // A holiday is never an early close, even on an early-close date (3 July 2026 is the
        // observed Independence Day).
        assert!(!nyse_early_close(days_from_civil(2026, 7, 3)));
    }
}
