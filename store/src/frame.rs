//! polars frames to and from [`Bars`]: which file layouts are accepted and how stored files look.
//!
//! Accepted layouts (column names matched case-insensitively):
//! - the predecessor's: `timestamp,open,high,low,close,volume` with `2025-05-22 08:00:00+00:00`;
//!   daily files may name the first column `date` and hold plain dates;
//! - pandas' `to_csv` default: an unnamed index column first, then `Open,High,Low,Close,Volume`, with
//!   naive timestamps or plain dates;
//! - Parquet with a `timestamp` column of a datetime type (with or without a zone) or strings.
//!
//! `volume` may be absent (forex quotes): it is then 0. Plain dates are calendar days, stored as
//! 00:00 UTC of that day whatever the zone; naive date-times are wall-clock times in the given zone.
//! Stored files are written with a `timestamp` column: UTC strings in CSV (the predecessor's
//! layout, read back exactly), a UTC millisecond datetime in Parquet.

use crate::key::Zone;
use ktrdr_market::Bars;
use ktrdr_market::text::{BarText, Layout};
use ktrdr_market::time::{self, Instant};
use polars::prelude::*;
use std::fs::File;
use std::io::Write;
use std::path::Path;

pub fn read_csv(path: &Path) -> PolarsResult<DataFrame> {
    csv_options()
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

fn csv_options() -> CsvReadOptions {
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(10_000))
}

/// Where reading a file failed: opening it or parsing it as a table, or decoding its columns.
#[derive(Debug)]
pub enum ReadError {
    Read(String),
    Decode(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Read(e) | ReadError::Decode(e) => f.write_str(e),
        }
    }
}

/// Reads a CSV file into bars: [`fastcsv`](crate::fastcsv) for the predecessor's exact layout, else
/// (on any other layout or irregularity) polars and [`decode`] on the same bytes, which accept every
/// layout listed above and name the bad row of a broken file.
pub fn read_csv_bars(path: &Path, zone: &Zone) -> Result<Decoded, ReadError> {
    let bytes = crate::fastcsv::read_file(path).map_err(|e| ReadError::Read(e.to_string()))?;
    match crate::fastcsv::parse(&bytes) {
        Ok(bars) => {
            return Ok(Decoded {
                bars,
                layout: "timestamp",
            });
        }
        Err(why) => tracing::debug!(
            file = %path.display(),
            reason = %why,
            "CSV fast path declined; using the general reader"
        ),
    }
    let df = csv_options()
        .into_reader_with_file_handle(std::io::Cursor::new(bytes))
        .finish()
        .map_err(|e| ReadError::Read(e.to_string()))?;
    decode(&df, zone).map_err(ReadError::Decode)
}

pub fn read_parquet(path: &Path) -> PolarsResult<DataFrame> {
    ParquetReader::new(File::open(path)?).finish()
}

/// Bars decoded from a frame, and which layout the frame had.
pub struct Decoded {
    pub bars: Bars,
    /// `timestamp`, `date` or `index`.
    pub layout: &'static str,
}

const TIME_NAMES: [&str; 5] = ["timestamp", "date", "datetime", "time", "index"];

pub fn decode(df: &DataFrame, zone: &Zone) -> Result<Decoded, String> {
    let cols = df.columns();
    let lower: Vec<String> = cols
        .iter()
        .map(|c| c.name().as_str().to_ascii_lowercase())
        .collect();
    let find = |name: &str| lower.iter().position(|n| n == name);
    let (ts_idx, layout) = match TIME_NAMES.iter().find_map(|n| find(n).map(|i| (i, *n))) {
        Some((i, "timestamp")) => (i, "timestamp"),
        Some((i, "date")) => (i, "date"),
        Some((i, _)) => (i, "index"),
        // pandas writes its index under an empty header (polars reads it as "" or column_1).
        None if !cols.is_empty()
            && !["open", "high", "low", "close", "volume"].contains(&lower[0].as_str()) =>
        {
            (0, "index")
        }
        None => return Err(
            "no timestamp column: expected one named timestamp or date, or an unnamed first column"
                .into(),
        ),
    };
    let price = |name: &str| -> Result<Option<Vec<f64>>, String> {
        let Some(i) = find(name) else { return Ok(None) };
        let c = cols[i]
            .cast(&DataType::Float64)
            .map_err(|e| format!("column {name}: {e}"))?;
        let ca = c.f64().map_err(|e| format!("column {name}: {e}"))?;
        Ok(Some(f64_values(ca)))
    };
    let required = |name: &str| -> Result<Vec<f64>, String> {
        price(name)?.ok_or_else(|| {
            format!("no {name} column (need open, high, low, close; volume optional)")
        })
    };
    let (open, high, low, close) = (
        required("open")?,
        required("high")?,
        required("low")?,
        required("close")?,
    );
    let volume = price("volume")?.unwrap_or_else(|| vec![0.0; df.height()]);
    let ts = timestamps(&cols[ts_idx], zone)?;
    let bars = Bars::from_columns(ts, open, high, low, close, volume).map_err(|e| e.to_string())?;
    Ok(Decoded { bars, layout })
}

/// The values, nulls as NaN. Without nulls (the usual case) a copy of the contiguous buffers.
fn f64_values(ca: &Float64Chunked) -> Vec<f64> {
    if ca.null_count() == 0 {
        concat(ca.downcast_iter().map(|a| a.values().as_slice()), ca.len())
    } else {
        ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
    }
}

/// The chunks of a column, `len` values in all, copied into one vector (huge pages when large).
fn concat<'a, T: Copy + crate::fastcsv::Zero + 'a>(
    chunks: impl Iterator<Item = &'a [T]>,
    len: usize,
) -> Vec<T> {
    let mut out = crate::fastcsv::huge_zeroed::<T>(len);
    let mut at = 0;
    for c in chunks {
        let end = (at + c.len()).min(len);
        out[at..end].copy_from_slice(&c[..end - at]);
        at = end;
    }
    out.truncate(at);
    out
}

fn timestamps(col: &Column, zone: &Zone) -> Result<Vec<i64>, String> {
    let name = col.name().to_string();
    match col.dtype() {
        DataType::String => {
            let ca = col.str().map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(ca.len());
            for (row, v) in ca.iter().enumerate() {
                let text = v.ok_or_else(|| format!("row {}: empty {name:?}", row + 1))?;
                let (instant, offset) = time::parse(text)
                    .map_err(|e| format!("row {}: bad timestamp {}", row + 1, e.0))?;
                let ms = match (instant, offset) {
                    (Instant::Date(ms), _) | (Instant::DateTime(ms), Some(_)) => ms,
                    (Instant::DateTime(wall), None) => zone
                        .to_utc(wall)
                        .map_err(|e| format!("row {}: {e}", row + 1))?,
                };
                out.push(ms);
            }
            Ok(out)
        }
        DataType::Datetime(unit, tz) => {
            let ca = col.datetime().map_err(|e| e.to_string())?;
            let per_ms = match unit {
                TimeUnit::Nanoseconds => 1_000_000,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1,
            };
            let naive = tz.is_none();
            let phys = ca.physical();
            if !naive && per_ms == 1 && phys.null_count() == 0 {
                // What the store writes: UTC milliseconds, copied as they are.
                return Ok(concat(
                    phys.downcast_iter().map(|a| a.values().as_slice()),
                    phys.len(),
                ));
            }
            phys.iter()
                .enumerate()
                .map(|(row, v)| {
                    let raw = v.ok_or_else(|| format!("row {}: empty {name:?}", row + 1))?;
                    let ms = raw.div_euclid(per_ms);
                    if naive {
                        zone.to_utc(ms).map_err(|e| format!("row {}: {e}", row + 1))
                    } else {
                        Ok(ms)
                    }
                })
                .collect()
        }
        other => Err(format!(
            "column {name:?} has type {other}; expected text or a datetime"
        )),
    }
}

/// The stored shape: `timestamp` as a UTC millisecond datetime, then the five price columns.
pub fn encode(bars: &Bars) -> PolarsResult<DataFrame> {
    let ts = Int64Chunked::from_vec("timestamp".into(), bars.ts().to_vec())
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
    let cols = vec![
        ts.into_column(),
        Column::new("open".into(), bars.open()),
        Column::new("high".into(), bars.high()),
        Column::new("low".into(), bars.low()),
        Column::new("close".into(), bars.close()),
        Column::new("volume".into(), bars.volume()),
    ];
    DataFrame::new(bars.len(), cols)
}

pub fn write_parquet(out: &mut dyn Write, bars: &Bars) -> PolarsResult<()> {
    let mut df = encode(bars)?;
    ParquetWriter::new(out).finish(&mut df)?;
    Ok(())
}

/// The predecessor's CSV layout, so its tools keep reading what the daemon writes.
pub fn write_csv(out: &mut dyn Write, bars: &Bars) -> PolarsResult<()> {
    let mut df = encode(bars)?;
    CsvWriter::new(out)
        .include_header(true)
        .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%:z".into()))
        .finish(&mut df)
}

/// One JSON object per line, as `ktrdrctl --json data show` prints them ([`ktrdr_market::text`]);
/// non-finite numbers become `null`.
pub fn write_jsonl(w: &mut dyn Write, bars: &Bars) -> std::io::Result<()> {
    let mut text = BarText::new(Layout::JsonLines);
    let mut buf = Vec::with_capacity(1 << 16);
    let (ts, o, h, l, c, v) = (
        bars.ts(),
        bars.open(),
        bars.high(),
        bars.low(),
        bars.close(),
        bars.volume(),
    );
    for i in 0..ts.len() {
        text.row(&mut buf, ts[i], [o[i], h[i], l[i], c[i], v[i]]);
        if buf.len() >= 1 << 16 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn shared(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data")
            .join(rel)
    }

    #[test]
    fn reads_the_predecessor_layout_exactly() {
        let df = read_csv(&shared("ktrdr-ib-samples/AAPL_1h.csv")).unwrap();
        let d = decode(&df, &Zone::Utc).unwrap();
        assert_eq!(d.layout, "timestamp");
        assert_eq!(d.bars.len(), 153);
        let first = d.bars.get(0).unwrap();
        assert_eq!(
            first.ts,
            time::parse_utc("2025-05-22 08:00:00+00:00").unwrap().ms()
        );
        assert_eq!(
            (first.open, first.high, first.low, first.close, first.volume),
            (202.02, 202.55, 202.02, 202.36, 15812.0)
        );
    }

    #[test]
    fn reads_the_pandas_layout_with_dates_and_naive_times() {
        let d = decode(&read_csv(&shared("public/GOOG.csv")).unwrap(), &Zone::Utc).unwrap();
        assert_eq!(d.layout, "index");
        assert_eq!(
            d.bars.first_ts(),
            Some(time::parse_utc("2004-08-19").unwrap().ms())
        );
        assert_eq!(d.bars.open()[0], 100.0);
        let ny = Zone::parse(Some("America/New_York")).unwrap();
        let d = decode(&read_csv(&shared("public/EURUSD.csv")).unwrap(), &ny).unwrap();
        // 2017-04-19 09:00 New York summer time is 13:00 UTC.
        assert_eq!(
            d.bars.first_ts(),
            Some(time::parse_utc("2017-04-19T13:00:00Z").unwrap().ms())
        );
    }

    #[test]
    fn csv_and_parquet_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let src = decode(
            &read_csv(&shared("ktrdr-ib-samples/EURUSD_1h.csv")).unwrap(),
            &Zone::Utc,
        )
        .unwrap()
        .bars;
        let csv = dir.path().join("x.csv");
        write_csv(&mut File::create(&csv).unwrap(), &src).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let orig = std::fs::read_to_string(shared("ktrdr-ib-samples/EURUSD_1h.csv")).unwrap();
        assert_eq!(
            text.lines().take(3).collect::<Vec<_>>(),
            orig.lines().take(3).collect::<Vec<_>>()
        );
        assert_eq!(
            decode(&read_csv(&csv).unwrap(), &Zone::Utc).unwrap().bars,
            src
        );
        let pq = dir.path().join("x.parquet");
        write_parquet(&mut File::create(&pq).unwrap(), &src).unwrap();
        assert_eq!(
            decode(&read_parquet(&pq).unwrap(), &Zone::Utc)
                .unwrap()
                .bars,
            src
        );
    }

    #[test]
    fn bad_rows_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.csv");
        std::fs::write(
            &p,
            "timestamp,open,high,low,close\n2025-01-01,1,2,0.5,1\n2025-01-32,1,2,0.5,1\n",
        )
        .unwrap();
        let err = decode(&read_csv(&p).unwrap(), &Zone::Utc).err().unwrap();
        assert!(err.contains("row 2"), "{err}");
        std::fs::write(&p, "when,open\n2025-01-01,1\n").unwrap();
        assert!(decode(&read_csv(&p).unwrap(), &Zone::Utc).is_err());
    }
}
