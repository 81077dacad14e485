//! Validation of user input. Every error is a `validation` error naming the field and giving a hint,
//! so `ktrdrctl` exits with code 2 and says what to type instead.

use ktrdr_market::Timeframe;
use ktrdr_market::time::{self, DAY_MS, Instant};
use ktrdr_protocol::WireError;

/// A series: one symbol at one timeframe, stored as `SYMBOL_TIMEFRAME.*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub symbol: String,
    pub timeframe: Timeframe,
}

impl SeriesKey {
    pub fn stem(&self) -> String {
        format!("{}_{}", self.symbol, self.timeframe)
    }
}

impl std::fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.symbol, self.timeframe)
    }
}

/// Upper-cased, then `^[A-Z0-9][A-Z0-9._-]{0,19}$`: safe as a file-name part on every platform.
pub fn symbol(raw: &str) -> Result<String, WireError> {
    let s = raw.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 20
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(s)
    } else {
        Err(WireError::validation(format!("invalid symbol {raw:?}")).with_hint(
            "a symbol is 1-20 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. AAPL, EURUSD, BRK.B)",
        ))
    }
}

pub fn timeframe(field: &str, raw: &str) -> Result<Timeframe, WireError> {
    raw.parse().map_err(|_| {
        WireError::validation(format!("invalid {field} {raw:?}"))
            .with_hint(format!("use one of {}", Timeframe::names()))
    })
}

pub fn key(sym: &str, tf: &str) -> Result<SeriesKey, WireError> {
    Ok(SeriesKey {
        symbol: symbol(sym)?,
        timeframe: timeframe("timeframe", tf)?,
    })
}

/// A time window: `start <= ts < end`. An `end` given as a plain date is the end of that day, so
/// `--start 2025-01-02 --end 2025-01-02` is the whole of 2 January.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

const DATE_HINT: &str =
    "use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM] (times without an offset are UTC)";

fn instant(field: &str, raw: &str) -> Result<Instant, WireError> {
    time::parse_utc(raw).map_err(|e| {
        WireError::validation(format!("invalid --{field} {}", e.0)).with_hint(DATE_HINT)
    })
}

pub fn window(start: Option<&str>, end: Option<&str>) -> Result<Window, WireError> {
    let s = start.map(|r| instant("start", r)).transpose()?;
    let e = end.map(|r| instant("end", r)).transpose()?;
    let w = Window {
        start: s.map(Instant::ms),
        end: e.map(|i| match i {
            Instant::Date(ms) => ms + DAY_MS,
            Instant::DateTime(ms) => ms,
        }),
    };
    if let (Some(a), Some(b)) = (w.start, w.end)
        && a >= b
    {
        return Err(WireError::validation(format!(
            "--start {} is not before --end {}",
            start.unwrap_or_default(),
            end.unwrap_or_default()
        ))
        .with_hint(
            "the window is start <= time < end; a plain-date --end includes that whole day",
        ));
    }
    Ok(w)
}

/// The last millisecond a point in time given as `--FIELD` covers: a plain date means the whole of
/// that day (its last millisecond), a time means itself.
pub fn last_ms_of(field: &str, raw: &str) -> Result<i64, WireError> {
    Ok(match instant(field, raw)? {
        Instant::Date(ms) => ms + DAY_MS - 1,
        Instant::DateTime(ms) => ms,
    })
}

/// The zone naive timestamps of an imported file are in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    Utc,
    /// A fixed offset east of UTC, in milliseconds.
    Fixed(i64),
    Named(chrono_tz::Tz),
}

impl Zone {
    pub fn parse(raw: Option<&str>) -> Result<Zone, WireError> {
        let Some(raw) = raw.map(str::trim) else {
            return Ok(Zone::Utc);
        };
        if raw.eq_ignore_ascii_case("utc") || raw == "Z" {
            return Ok(Zone::Utc);
        }
        if raw.starts_with(['+', '-']) {
            // Reuse the timestamp parser's offset rules on a dummy instant.
            if let Ok((_, Some(off))) = time::parse(&format!("1970-01-01T00:00:00{raw}")) {
                return Ok(Zone::Fixed(off));
            }
        }
        raw.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            WireError::validation(format!("invalid --timezone {raw:?}")).with_hint(
                "use an IANA zone name like America/New_York, UTC, or an offset like +02:00",
            )
        })
    }

    pub fn name(&self) -> String {
        match self {
            Zone::Utc => "UTC".into(),
            Zone::Fixed(ms) => {
                let m = ms.abs() / 60_000;
                format!(
                    "{}{:02}:{:02}",
                    if *ms < 0 { '-' } else { '+' },
                    m / 60,
                    m % 60
                )
            }
            Zone::Named(tz) => tz.name().to_string(),
        }
    }

    /// The UTC instant of a wall-clock time in this zone. In a daylight-saving fold the earlier
    /// instant is taken; a wall time skipped by a spring-forward does not exist and is an error.
    pub fn to_utc(&self, wall_ms: i64) -> Result<i64, String> {
        match self {
            Zone::Utc => Ok(wall_ms),
            Zone::Fixed(off) => Ok(wall_ms - off),
            Zone::Named(tz) => {
                use chrono::TimeZone;
                let naive = chrono::DateTime::from_timestamp_millis(wall_ms)
                    .ok_or_else(|| "timestamp out of range".to_string())?
                    .naive_utc();
                match tz.from_local_datetime(&naive) {
                    chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                        Ok(t.timestamp_millis())
                    }
                    chrono::LocalResult::None => Err(format!(
                        "{} does not exist in {} (skipped by a daylight-saving change)",
                        time::format_ms(wall_ms).trim_end_matches("+00:00"),
                        tz.name()
                    )),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_protocol::ErrorKind;

    #[test]
    fn symbols() {
        assert_eq!(symbol("aapl").unwrap(), "AAPL");
        assert_eq!(symbol("brk.b").unwrap(), "BRK.B");
        for bad in ["", "-X", "A/B", "../etc", "ABCDEFGHIJKLMNOPQRSTU", "A B"] {
            let e = symbol(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Validation);
            assert!(e.message.contains("symbol") && e.hint.is_some(), "{e:?}");
        }
    }

    #[test]
    fn windows() {
        let w = window(Some("2025-01-02"), Some("2025-01-02")).unwrap();
        assert_eq!(w.end.unwrap() - w.start.unwrap(), DAY_MS);
        let w = window(
            Some("2025-01-02T10:00:00Z"),
            Some("2025-01-02T11:00:00+01:00"),
        );
        let e = w.unwrap_err();
        assert!(e.message.contains("not before"), "{e:?}");
        let e = window(Some("2025-13-01"), None).unwrap_err();
        assert!(e.message.contains("--start") && e.hint.is_some(), "{e:?}");
        let e = window(None, Some("tomorrow")).unwrap_err();
        assert!(e.message.contains("--end"), "{e:?}");
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse(None).unwrap(), Zone::Utc);
        assert_eq!(Zone::parse(Some("+02:00")).unwrap(), Zone::Fixed(7_200_000));
        let ny = Zone::parse(Some("America/New_York")).unwrap();
        let wall = time::parse_utc("2025-05-22 04:00:00").unwrap().ms();
        assert_eq!(
            ny.to_utc(wall).unwrap(),
            time::parse_utc("2025-05-22 08:00:00Z").unwrap().ms()
        );
        let gap = time::parse_utc("2025-03-09 02:30:00").unwrap().ms();
        assert!(ny.to_utc(gap).is_err());
        assert!(Zone::parse(Some("Mars/Olympus")).is_err());
        assert_eq!(Zone::Fixed(-5 * 3_600_000 - 1_800_000).name(), "-05:30");
    }
}
