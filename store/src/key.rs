//! What names a series and how its timestamps are read: the store's own vocabulary, validated
//! here so a file name built from it is always safe.

use ktrdr_market::Timeframe;
use ktrdr_market::time;

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
pub fn normalize_symbol(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 20
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    ok.then_some(s)
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
    /// `None`, `UTC`/`Z`, an offset (`+02:00`) or an IANA name; the error is the rejected text.
    pub fn parse(raw: Option<&str>) -> Result<Zone, String> {
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
        raw.parse::<chrono_tz::Tz>()
            .map(Zone::Named)
            .map_err(|_| raw.to_string())
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

    #[test]
    fn symbols() {
        assert_eq!(normalize_symbol("aapl").as_deref(), Some("AAPL"));
        assert_eq!(normalize_symbol(" brk.b ").as_deref(), Some("BRK.B"));
        for bad in ["", "-X", "A/B", "../etc", "ABCDEFGHIJKLMNOPQRSTU", "A B"] {
            assert_eq!(normalize_symbol(bad), None, "{bad}");
        }
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse(None).unwrap(), Zone::Utc);
        assert_eq!(Zone::parse(Some("Z")).unwrap(), Zone::Utc);
        assert_eq!(Zone::parse(Some("+02:00")).unwrap(), Zone::Fixed(7_200_000));
        let ny = Zone::parse(Some("America/New_York")).unwrap();
        assert_eq!(ny.name(), "America/New_York");
        let wall = time::parse_utc("2025-05-22 04:00:00").unwrap().ms();
        assert_eq!(
            ny.to_utc(wall).unwrap(),
            time::parse_utc("2025-05-22 08:00:00Z").unwrap().ms()
        );
        let gap = time::parse_utc("2025-03-09 02:30:00").unwrap().ms();
        assert!(ny.to_utc(gap).is_err());
        assert_eq!(
            Zone::parse(Some("Mars/Olympus")).unwrap_err(),
            "Mars/Olympus"
        );
        assert_eq!(Zone::Fixed(-5 * 3_600_000 - 1_800_000).name(), "-05:30");
        assert_eq!(Zone::Utc.name(), "UTC");
    }
}
