//! The bars the fake serves: series read from files in the predecessor's CSV layout
//! (`SYMBOL_TF.csv`, header `timestamp,open,high,low,close,volume`, times like
//! `2025-05-22 08:00:00+00:00`) or added in memory by a test, plus the small amount of calendar
//! arithmetic the wire formats need.

use std::collections::BTreeMap;
use std::path::Path;

use ktrdr_market::time::{civil_from_days, days_from_civil};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Open time, Unix seconds UTC.
    pub ts: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// Bars of one symbol at one bar size, sorted by time, unique.
#[derive(Debug, Clone, Default)]
pub struct Series(Vec<Bar>);

impl Series {
    pub fn new(mut bars: Vec<Bar>) -> Series {
        bars.sort_by_key(|b| b.ts);
        bars.dedup_by_key(|b| b.ts);
        Series(bars)
    }

    pub fn bars(&self) -> &[Bar] {
        &self.0
    }

    pub fn first_ts(&self) -> Option<i64> {
        self.0.first().map(|b| b.ts)
    }

    /// Bars with `start <= ts < end`.
    pub fn window(&self, start: i64, end: i64) -> &[Bar] {
        let a = self.0.partition_point(|b| b.ts < start);
        let z = self.0.partition_point(|b| b.ts < end);
        &self.0[a..z.max(a)]
    }
}

/// Every series the fake knows, keyed by (symbol as the daemon stores it, timeframe like `1h`).
/// Forex series are keyed by the pair (`EURUSD`), which the fake rebuilds from symbol + currency.
#[derive(Debug, Clone, Default)]
pub struct Library {
    series: BTreeMap<(String, String), Series>,
}

impl Library {
    /// Reads every `SYMBOL_TF.csv` in `dir`. Files that do not parse are reported, not skipped
    /// silently, since a test that served nothing would pass for the wrong reason.
    pub fn load_dir(dir: &Path) -> Result<Library, String> {
        let mut lib = Library::default();
        let rd =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in rd.flatten() {
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(stem) = name.strip_suffix(".csv") else {
                continue;
            };
            let Some((sym, tf)) = stem.rsplit_once('_') else {
                continue;
            };
            if bar_size_for_tf(tf).is_none() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let series = parse_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            lib.insert(sym, tf, series);
        }
        Ok(lib)
    }

    pub fn insert(&mut self, symbol: &str, tf: &str, series: Series) {
        self.series
            .insert((symbol.to_ascii_uppercase(), tf.to_string()), series);
    }

    pub fn get(&self, symbol: &str, tf: &str) -> Option<&Series> {
        self.series
            .get(&(symbol.to_ascii_uppercase(), tf.to_string()))
    }

    pub fn has_symbol(&self, symbol: &str) -> bool {
        let s = symbol.to_ascii_uppercase();
        self.series.keys().any(|(k, _)| *k == s)
    }

    /// The earliest bar of the symbol at any bar size: what IB calls the head timestamp.
    pub fn head(&self, symbol: &str) -> Option<i64> {
        let s = symbol.to_ascii_uppercase();
        self.series
            .iter()
            .filter(|((k, _), _)| *k == s)
            .filter_map(|(_, v)| v.first_ts())
            .min()
    }

    pub fn keys(&self) -> Vec<(String, String)> {
        self.series.keys().cloned().collect()
    }
}

pub fn parse_csv(text: &str) -> Result<Series, String> {
    let mut bars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 6 {
            return Err(format!("line {}: expected 6 fields", n + 1));
        }
        let num = |i: usize| -> Result<f64, String> {
            f[i].trim()
                .parse::<f64>()
                .map_err(|_| format!("line {}: bad number {:?}", n + 1, f[i]))
        };
        bars.push(Bar {
            ts: parse_timestamp(f[0])
                .ok_or_else(|| format!("line {}: bad time {:?}", n + 1, f[0]))?,
            open: num(1)?,
            high: num(2)?,
            low: num(3)?,
            close: num(4)?,
            volume: num(5)?,
        });
    }
    Ok(Series::new(bars))
}

/// `YYYY-MM-DD HH:MM:SS[+HH:MM]` (or with `T`), to Unix seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = (s.get(..10)?, s.get(11..)?);
    let (y, m, d) = (
        date.get(0..4)?.parse().ok()?,
        date.get(5..7)?.parse().ok()?,
        date.get(8..10)?.parse().ok()?,
    );
    let (hh, mm, ss): (i64, i64, i64) = (
        rest.get(0..2)?.parse().ok()?,
        rest.get(3..5)?.parse().ok()?,
        rest.get(6..8)?.parse().ok()?,
    );
    let mut t = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss;
    let off = rest.get(8..).unwrap_or("");
    if off.len() >= 6 && (off.starts_with('+') || off.starts_with('-')) {
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let oh: i64 = off.get(1..3)?.parse().ok()?;
        let om: i64 = off.get(4..6)?.parse().ok()?;
        t -= sign * (oh * 3600 + om * 60);
    }
    Some(t)
}

/// `YYYYMMDD HH:MM:SS[ UTC]` or `YYYYMMDD-HH:MM:SS` (both UTC), as the client sends end times.
pub fn parse_ib_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    let (y, m, d) = (
        s.get(0..4)?.parse().ok()?,
        s.get(4..6)?.parse().ok()?,
        s.get(6..8)?.parse().ok()?,
    );
    let zone = s.get(17..).unwrap_or("").trim();
    if !(zone.is_empty() || zone == "UTC" || zone == "GMT" || zone == "Etc/UTC") {
        return None;
    }
    let (hh, mm, ss): (i64, i64, i64) = (
        s.get(9..11)?.parse().ok()?,
        s.get(12..14)?.parse().ok()?,
        s.get(15..17)?.parse().ok()?,
    );
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// `N S|D|W|M|Y` to seconds. IB counts months and years loosely; the fake uses 30 and 365 days.
pub fn duration_secs(s: &str) -> Option<i64> {
    let (n, unit) = s.trim().split_once(' ')?;
    let n: i64 = n.parse().ok()?;
    let per = match unit.trim() {
        "S" => 1,
        "D" => 86_400,
        "W" => 7 * 86_400,
        "M" => 30 * 86_400,
        "Y" => 365 * 86_400,
        _ => return None,
    };
    (n > 0).then_some(n * per)
}

/// IB's bar-size setting to the store's timeframe name.
pub fn tf_for_bar_size(s: &str) -> Option<&'static str> {
    Some(match s.trim() {
        "1 min" => "1m",
        "5 mins" => "5m",
        "15 mins" => "15m",
        "30 mins" => "30m",
        "1 hour" => "1h",
        "4 hours" => "4h",
        "1 day" => "1d",
        "1 week" => "1w",
        _ => return None,
    })
}

pub fn bar_size_for_tf(tf: &str) -> Option<&'static str> {
    Some(match tf {
        "1m" => "1 min",
        "5m" => "5 mins",
        "15m" => "15 mins",
        "30m" => "30 mins",
        "1h" => "1 hour",
        "4h" => "4 hours",
        "1d" => "1 day",
        "1w" => "1 week",
        _ => return None,
    })
}

/// The length of one bar of the timeframe, in seconds (a week: 7 days).
pub fn span_secs(tf: &str) -> i64 {
    match tf {
        "1m" => 60,
        "5m" => 300,
        "15m" => 900,
        "30m" => 1800,
        "1h" => 3600,
        "4h" => 14_400,
        "1d" => 86_400,
        "1w" => 7 * 86_400,
        _ => 0,
    }
}

/// Days and longer are dated `YYYYMMDD`; intraday bars carry epoch seconds (format_date = 2).
pub fn is_daily(tf: &str) -> bool {
    matches!(tf, "1d" | "1w")
}

pub fn format_date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}{m:02}{d:02}")
}

/// `YYYYMMDD-HH:MM:SS`, the UTC form the client accepts in HistoricalDataEnd.
pub fn format_utc(secs: i64) -> String {
    let day = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}-{:02}:{:02}:{:02}",
        format_date(day * 86_400),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let t = parse_timestamp("2025-05-22 08:00:00+00:00").unwrap();
        assert_eq!(format_utc(t), "20250522-08:00:00");
        assert_eq!(parse_ib_datetime("20250522 08:00:00 UTC"), Some(t));
        assert_eq!(parse_ib_datetime("20250522-08:00:00"), Some(t));
        assert_eq!(parse_timestamp("2025-05-22T10:00:00+02:00"), Some(t));
        assert_eq!(duration_secs("2 D"), Some(172_800));
        assert_eq!(duration_secs("0 D"), None);
    }

    #[test]
    fn window_is_half_open() {
        let s = Series::new(
            (0..10)
                .map(|i| Bar {
                    ts: i * 60,
                    open: 1.0,
                    high: 1.0,
                    low: 1.0,
                    close: 1.0,
                    volume: 1.0,
                })
                .collect(),
        );
        assert_eq!(s.window(60, 180).len(), 2);
        assert_eq!(s.window(600, 900).len(), 0);
    }
}
