//! Validation of user input. Every error is a `validation` error naming the field and giving a hint,
//! so `ktrdrctl` exits with code 2 and says what to type instead.

use ktrdr_market::Timeframe;
use ktrdr_market::time::{self, DAY_MS, Instant};
use ktrdr_protocol::WireError;
use ktrdr_store::key::normalize_symbol;
pub use ktrdr_store::key::{SeriesKey, Zone};

/// Upper-cased, then `^[A-Z0-9][A-Z0-9._-]{0,19}$`: safe as a file-name part on every platform.
pub fn symbol(raw: &str) -> Result<String, WireError> {
    normalize_symbol(raw).ok_or_else(|| {
        WireError::validation(format!("invalid symbol {raw:?}")).with_hint(
            "a symbol is 1-20 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. AAPL, EURUSD, BRK.B)",
        )
    })
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

/// `--timezone`: the zone naive timestamps of an imported file are in.
pub fn zone(raw: Option<&str>) -> Result<Zone, WireError> {
    Zone::parse(raw).map_err(|raw| {
        WireError::validation(format!("invalid --timezone {raw:?}"))
            .with_hint("use an IANA zone name like America/New_York, UTC, or an offset like +02:00")
    })
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
        assert_eq!(zone(None).unwrap(), Zone::Utc);
        let e = zone(Some("Mars/Olympus")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Validation);
        assert!(
            e.message.contains("--timezone") && e.hint.is_some(),
            "{e:?}"
        );
    }
}
