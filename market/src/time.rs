//! UTC instants as Unix milliseconds (`i64`), with the parsing and formatting the bar files need.
//!
//! Hand-written rather than a date crate: the formats are few and fixed, the parser is on the hot path
//! of every CSV load (a million timestamps), and this crate stays dependency-free.

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
pub const WEEK_MS: i64 = 7 * DAY_MS;

/// A parsed instant, and whether the text was a plain date (which callers may treat as a whole day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instant {
    /// `YYYY-MM-DD`: midnight starting that day.
    Date(i64),
    DateTime(i64),
}

impl Instant {
    pub fn ms(self) -> i64 {
        match self {
            Instant::Date(ms) | Instant::DateTime(ms) => ms,
        }
    }
}

/// What is wrong with a timestamp's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// Days from 1970-01-01 to a civil date (proleptic Gregorian). Howard Hinnant's algorithm.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// 0 = Monday ... 6 = Sunday.
pub fn weekday_of_day(day: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    (day + 3).rem_euclid(7) as u32
}

pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Unix milliseconds of a civil date and time in UTC.
pub fn ms_from_civil(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32, milli: u32) -> i64 {
    days_from_civil(y, m, d) * DAY_MS
        + hh as i64 * HOUR_MS
        + mm as i64 * MINUTE_MS
        + ss as i64 * 1000
        + milli as i64
}

/// `YYYY-MM-DD HH:MM:SS+00:00`, the predecessor's layout (what pandas writes for UTC timestamps).
pub fn format_ms(ms: i64) -> String {
    let mut s = String::with_capacity(25);
    write_ms(&mut s, ms);
    s
}

/// Appends [`format_ms`]'s text; lets CSV writers reuse one buffer.
pub fn write_ms(out: &mut String, ms: i64) {
    use std::fmt::Write;
    let day = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(day);
    let secs = rem / 1000;
    let milli = rem % 1000;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    );
    if milli != 0 {
        let _ = write!(out, ".{milli:03}");
    }
    out.push_str("+00:00");
}

/// ISO-8601 `YYYY-MM-DDTHH:MM:SSZ`, for JSON.
pub fn format_iso(ms: i64) -> String {
    let s = format_ms(ms);
    format!("{}Z", s.replacen(' ', "T", 1).trim_end_matches("+00:00"))
}

/// Parses `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fff...]]`, optionally
/// followed by `Z`, `UTC`, or an offset `±HH[:MM]`/`±HHMM`. A time without an offset is naive: its
/// wall-clock value is returned as if UTC and `offset` reports `None`, so a caller can apply a zone.
pub fn parse(text: &str) -> Result<(Instant, Option<i64>), ParseError> {
    let t = text.trim();
    let b = t.as_bytes();
    let bad = |why: &str| ParseError(format!("{t:?}: {why}"));
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad("expected YYYY-MM-DD"));
    }
    let y = digits(&b[0..4]).ok_or_else(|| bad("year is not 4 digits"))? as i64;
    let m = digits(&b[5..7]).ok_or_else(|| bad("month is not 2 digits"))?;
    let d = digits(&b[8..10]).ok_or_else(|| bad("day is not 2 digits"))?;
    if !(1..=12).contains(&m) {
        return Err(bad("month must be 01-12"));
    }
    if d < 1 || d > days_in_month(y, m) {
        return Err(bad("no such day in that month"));
    }
    if b.len() == 10 {
        return Ok((Instant::Date(ms_from_civil(y, m, d, 0, 0, 0, 0)), None));
    }
    if b[10] != b'T' && b[10] != b' ' {
        return Err(bad("expected 'T' or a space after the date"));
    }
    let rest = &b[11..];
    if rest.len() < 5 || rest[2] != b':' {
        return Err(bad("expected HH:MM after the date"));
    }
    let hh = digits(&rest[0..2]).ok_or_else(|| bad("hour is not 2 digits"))?;
    let mm = digits(&rest[3..5]).ok_or_else(|| bad("minute is not 2 digits"))?;
    let mut i = 5;
    let mut ss = 0;
    let mut milli = 0;
    if rest.len() >= 8 && rest[5] == b':' {
        ss = digits(&rest[6..8]).ok_or_else(|| bad("second is not 2 digits"))?;
        i = 8;
        if rest.len() > 8 && rest[8] == b'.' {
            let start = 9;
            let mut end = start;
            while end < rest.len() && rest[end].is_ascii_digit() {
                end += 1;
            }
            if end == start {
                return Err(bad("no digits after the decimal point"));
            }
            // Milliseconds: the first three fractional digits, truncated.
            let frac = &rest[start..end.min(start + 3)];
            milli = digits(frac).unwrap_or(0) * 10u32.pow(3 - frac.len() as u32);
            i = end;
        }
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(bad("time of day out of range"));
    }
    let wall = ms_from_civil(y, m, d, hh, mm, ss, milli);
    let tz = &rest[i..];
    let offset = match tz {
        [] => None,
        b"Z" | b"z" | b" UTC" | b"UTC" | b" Z" => Some(0),
        [sign @ (b'+' | b'-'), r @ ..] => {
            let (oh, om) = match r {
                [a, b2] => (digits(&[*a, *b2]), Some(0)),
                [a, b2, b':', c, d2] | [a, b2, c, d2] if r.len() == 5 || r.len() == 4 => {
                    (digits(&[*a, *b2]), digits(&[*c, *d2]))
                }
                _ => (None, None),
            };
            let (Some(oh), Some(om)) = (oh, om) else {
                return Err(bad("offset must be ±HH, ±HHMM or ±HH:MM"));
            };
            if oh > 23 || om > 59 {
                return Err(bad("offset out of range"));
            }
            let off = (oh as i64 * HOUR_MS) + om as i64 * MINUTE_MS;
            Some(if *sign == b'-' { -off } else { off })
        }
        _ => return Err(bad("unexpected text after the time")),
    };
    let ms = match offset {
        Some(off) => wall - off,
        None => wall,
    };
    Ok((Instant::DateTime(ms), offset))
}

/// Parses and requires the result to be an absolute instant: naive times are taken as UTC.
pub fn parse_utc(text: &str) -> Result<Instant, ParseError> {
    parse(text).map(|(i, _)| i)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_layouts_the_files_use() {
        let t = 1_747_900_800_000; // 2025-05-22 08:00:00 UTC
        assert_eq!(
            parse_utc("2025-05-22 08:00:00+00:00").unwrap(),
            Instant::DateTime(t)
        );
        assert_eq!(
            parse_utc("2025-05-22T08:00:00Z").unwrap(),
            Instant::DateTime(t)
        );
        assert_eq!(
            parse_utc("2025-05-22T04:00:00-04:00").unwrap(),
            Instant::DateTime(t)
        );
        assert_eq!(
            parse_utc("2025-05-22 10:00:00+0200").unwrap(),
            Instant::DateTime(t)
        );
        assert_eq!(parse_utc("2025-05-22 08:00").unwrap(), Instant::DateTime(t));
        assert_eq!(
            parse_utc("2025-05-22 08:00:00.250").unwrap(),
            Instant::DateTime(t + 250)
        );
        assert_eq!(
            parse_utc("2025-05-22").unwrap(),
            Instant::Date(t - 8 * HOUR_MS)
        );
        let (_, off) = parse("2025-05-22 08:00:00").unwrap();
        assert_eq!(off, None);
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for bad in [
            "",
            "2025-13-01",
            "2025-02-30",
            "2025/01/01",
            "2025-01-01X",
            "2025-01-01 25:00",
            "2025-01-01T10:00:00+5",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("2025-02-29").is_err());
        assert!(parse("2024-02-29").is_ok());
    }

    #[test]
    fn weekdays() {
        assert_eq!(weekday_of_day(0), 3); // Thursday
        assert_eq!(weekday_of_day(days_from_civil(2025, 5, 26)), 0); // Monday
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ms in -2_000_000_000_000i64..5_000_000_000_000i64) {
            let text = format_ms(ms);
            prop_assert_eq!(parse_utc(&text).unwrap().ms(), ms);
            prop_assert_eq!(parse_utc(&format_iso(ms)).unwrap().ms(), ms);
        }

        #[test]
        fn civil_round_trips(day in -1_000_000i64..1_000_000i64) {
            let (y, m, d) = civil_from_days(day);
            prop_assert_eq!(days_from_civil(y, m, d), day);
        }
    }

    #[test]
    fn each_malformed_part_has_its_reason() {
        let reason = |text: &str| parse(text).unwrap_err().0;
        assert!(reason("2025-05-22 8").contains("expected HH:MM"));
        assert!(reason("2025-05-22 08:00:00.").contains("no digits after the decimal point"));
        assert!(reason("2025-05-22 08:00+24:00").contains("offset out of range"));
        assert!(reason("2025-05-22 08:00+05:60").contains("offset out of range"));
        assert!(reason("2025-05-22 08:00 GMT").contains("unexpected text after the time"));
        assert!(reason("2025-05-2x").contains("day is not 2 digits"));
        assert!(reason("20x5-05-22").contains("year is not 4 digits"));
        // The offset is reported with the instant it shifted.
        let (i, off) = parse("2025-05-22T08:00:00.1234-0130").unwrap();
        assert_eq!(off, Some(-(HOUR_MS + 30 * MINUTE_MS)));
        assert_eq!(i.ms(), ms_from_civil(2025, 5, 22, 9, 30, 0, 123));
    }

    #[test]
    fn formats_keep_milliseconds_only_when_present() {
        let t = ms_from_civil(2024, 2, 29, 23, 59, 58, 0);
        assert_eq!(format_ms(t), "2024-02-29 23:59:58+00:00");
        assert_eq!(format_ms(t + 7), "2024-02-29 23:59:58.007+00:00");
        assert_eq!(format_iso(t), "2024-02-29T23:59:58Z");
        // Before 1970 the day still rounds towards the past.
        assert_eq!(format_ms(-1), "1969-12-31 23:59:59.999+00:00");
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2025, 4), 30);
    }
}
