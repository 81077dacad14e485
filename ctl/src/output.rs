//! Printing: tables for people, one JSON document (or JSON lines) for scripts. Results go to stdout,
//! errors and progress to stderr.
//!
//! - [`bars`]: the fast CSV / JSON-lines writers of bar streams.

pub mod bars;

use comfy_table::{Table, presets};
use ktrdr_market::time::civil_from_days;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::OperationRecord;
use serde::Serialize;
use serde_json::Value;

pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(header.iter().map(|h| h.to_uppercase()));
    t
}

pub fn print_table(t: &Table) {
    // comfy-table pads the first column with a leading space under this preset; trim it per line.
    for line in t.to_string().lines() {
        println!("{}", line.strip_prefix(' ').unwrap_or(line).trim_end());
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), WireError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| WireError::internal(format!("cannot print JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

pub fn print_json_line(value: &Value) {
    println!(
        "{}",
        serde_json::to_string(value).unwrap_or_else(|_| "null".into())
    );
}

/// An operation record as JSON: `params` and `result` are their kind's objects, so
/// `jq .result.steps` works.
pub fn operation_json(rec: &OperationRecord) -> Value {
    serde_json::to_value(rec).unwrap_or(Value::Null)
}

pub fn duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    match s {
        0..60 => format!("{:.1}s", secs.max(0.0)),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// UTC wall time of a Unix-millisecond timestamp, `YYYY-MM-DD HH:MM:SS`.
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// UTC wall time of a signed Unix-millisecond timestamp (bars may predate 1970): `YYYY-MM-DD
/// HH:MM:SS`, with `.mmm` only when there are milliseconds.
pub fn timestamp_ms(ms: i64) -> String {
    ktrdr_market::text::wall_text(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_civil_time() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00");
        assert_eq!(timestamp(1_795_000_000_000), "2026-11-18 11:06:40");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(timestamp_ms(-1), "1969-12-31 23:59:59.999");
        assert_eq!(timestamp_ms(1_747_900_800_000), "2025-05-22 08:00:00");
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(duration(5.25), "5.2s");
        assert_eq!(duration(125.0), "2m 05s");
        assert_eq!(duration(7300.0), "2h 01m");
    }
}
