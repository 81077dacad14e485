//! A fast path for the one CSV layout the store holds most: the predecessor's
//! `timestamp,open,high,low,close,volume` with timestamps exactly `YYYY-MM-DD HH:MM:SS+00:00` and
//! plain decimal numbers.
//!
//! The general reader (polars, then [`crate::frame::decode`]) parses a million bars in about half a
//! second, most of it turning timestamp strings into datetimes. This parser reads the bytes once,
//! computes timestamps arithmetically (a row's date is usually the previous row's, so its day number
//! is reused), parses numbers with `fast-float2` (the parser polars itself uses, so the values are
//! bit-for-bit the ones the general path produces), and splits the rows between the available cores
//! at line boundaries, each thread writing its rows straight into its part of the final columns.
//!
//! It is strict: any other header, timestamp form (other offsets, fractions, `T`), empty or
//! non-numeric field (`nan`, quotes), a missing or extra column, or a blank line makes it decline,
//! and the caller uses the general reader, which accepts the other layouts and names the bad row of
//! a broken file. Declining is never an error by itself.

use ktrdr_market::Bars;
use ktrdr_market::time::{DAY_MS, days_from_civil, days_in_month};

const HEADER: &[u8] = b"timestamp,open,high,low,close,volume";
/// `YYYY-MM-DD HH:MM:SS+00:00`
const TS_LEN: usize = 25;
/// Below this many bytes one thread does all the rows.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Why the fast path declined; the general reader is used instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declined {
    pub why: &'static str,
    /// 1-based data row (the header is row 0) where it declined, when it got that far.
    pub row: Option<usize>,
}

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row {
            Some(r) => write!(f, "{} (row {r})", self.why),
            None => f.write_str(self.why),
        }
    }
}

fn declined(why: &'static str) -> Declined {
    Declined { why, row: None }
}

/// Reads a whole file, both halves at once on two threads when it is large, into a buffer advised
/// to use huge pages. On this kind of machine first-touch page faults, not the copy, dominate a
/// plain `std::fs::read` of a big file (about 0.6 ms per MiB with 4 KiB pages).
pub fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| std::io::Error::other("file too large for memory"))?;
    if len < PARALLEL_MIN_BYTES {
        return std::fs::read(path);
    }
    let mut buf = huge_zeroed::<u8>(len);
    let (a, b) = buf.split_at_mut(len / 2);
    let off = a.len() as u64;
    let (ra, rb) = std::thread::scope(|s| {
        let h = s.spawn(|| file.read_exact_at(b, off));
        let ra = file.read_exact_at(a, 0);
        let rb = h
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("reading thread failed")));
        (ra, rb)
    });
    ra?;
    rb?;
    // Grown since its length was taken (an append in place): read it again, whole.
    let mut probe = [0u8; 1];
    if file.read_at(&mut probe, len as u64)? != 0 {
        return std::fs::read(path);
    }
    Ok(buf)
}

/// `n` zeroed values (fresh pages from the allocator, zeroed by the kernel), with the kernel advised
/// to back them with transparent huge pages: a million-bar column then costs a few page faults
/// instead of two thousand. Advice only; without THP it changes nothing.
pub(crate) fn huge_zeroed<T: Copy + Zero>(n: usize) -> Vec<T> {
    let v = vec![T::ZERO; n];
    // Below two huge pages the aligned part is at most one page: not worth a system call.
    if std::mem::size_of_val(v.as_slice()) >= 4 << 20 {
        crate::sys::advise_huge_pages(&v);
    }
    v
}

/// Types whose all-zero value `vec![ZERO; n]` allocates as zeroed memory without writing it.
pub(crate) trait Zero {
    const ZERO: Self;
}
impl Zero for u8 {
    const ZERO: u8 = 0;
}
impl Zero for i64 {
    const ZERO: i64 = 0;
}
impl Zero for f64 {
    const ZERO: f64 = 0.0;
}

/// Parses a whole file's bytes, or declines (see the module documentation).
pub fn parse(bytes: &[u8]) -> Result<Bars, Declined> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    parse_with(bytes, threads)
}

/// [`parse`] with a given number of threads (tests use several on small inputs).
pub fn parse_with(bytes: &[u8], threads: usize) -> Result<Bars, Declined> {
    let body = strip_header(bytes)?;
    let chunks = split(body, threads.max(1));
    // Rows per chunk: a row ends at '\n' or at the end of the file.
    let count = |c: &[u8]| {
        c.iter().filter(|&&b| b == b'\n').count()
            + usize::from(c.last().is_some_and(|&b| b != b'\n'))
    };
    let counts: Vec<usize> = if chunks.len() == 1 {
        vec![count(chunks[0])]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks.iter().map(|c| s.spawn(move || count(c))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(usize::MAX))
                .collect()
        })
    };
    if counts.contains(&usize::MAX) {
        return Err(declined("a counting thread failed"));
    }
    let n: usize = counts.iter().sum();
    let mut cols = Columns::zeroed(n);
    {
        // Each chunk gets the part of every column its rows go to.
        let mut parts = Vec::with_capacity(chunks.len());
        let mut rest = cols.slices();
        let mut first_row = 1;
        for (chunk, &rows) in chunks.iter().zip(&counts) {
            let (mine, tail) = rest.split_at(rows);
            rest = tail;
            parts.push((*chunk, mine, first_row));
            first_row += rows;
        }
        let results: Vec<Result<(), Declined>> = if parts.len() == 1 {
            parts
                .into_iter()
                .map(|(c, out, row)| parse_rows(c, out, row))
                .collect()
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = parts
                    .into_iter()
                    .map(|(c, out, row)| s.spawn(move || parse_rows(c, out, row)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(declined("a parsing thread failed")))
                    })
                    .collect()
            })
        };
        for r in results {
            r?;
        }
    }
    Bars::from_columns(
        cols.ts,
        cols.open,
        cols.high,
        cols.low,
        cols.close,
        cols.volume,
    )
    .map_err(|_| declined("columns of different lengths"))
}

fn strip_header(bytes: &[u8]) -> Result<&[u8], Declined> {
    let rest = bytes
        .strip_prefix(HEADER)
        .ok_or_else(|| declined("header is not timestamp,open,high,low,close,volume"))?;
    match rest {
        [b'\n', body @ ..] | [b'\r', b'\n', body @ ..] => Ok(body),
        [] => Ok(rest),
        _ => Err(declined("header has more columns")),
    }
}

/// Up to `n` chunks of whole lines.
fn split(body: &[u8], n: usize) -> Vec<&[u8]> {
    if n == 1 || body.len() < PARALLEL_MIN_BYTES {
        return vec![body];
    }
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..n {
        let target = (body.len() * k / n).max(start);
        let Some(nl) = body[target..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let end = target + nl + 1;
        out.push(&body[start..end]);
        start = end;
    }
    out.push(&body[start..]);
    out
}

struct Columns {
    ts: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

/// Mutable views of the rows one chunk fills.
struct Out<'a> {
    ts: &'a mut [i64],
    prices: [&'a mut [f64]; 5],
}

impl<'a> Out<'a> {
    fn split_at(self, k: usize) -> (Out<'a>, Out<'a>) {
        let (ts_a, ts_b) = self.ts.split_at_mut(k);
        let [o, h, l, c, v] = self.prices;
        let (o_a, o_b) = o.split_at_mut(k);
        let (h_a, h_b) = h.split_at_mut(k);
        let (l_a, l_b) = l.split_at_mut(k);
        let (c_a, c_b) = c.split_at_mut(k);
        let (v_a, v_b) = v.split_at_mut(k);
        (
            Out {
                ts: ts_a,
                prices: [o_a, h_a, l_a, c_a, v_a],
            },
            Out {
                ts: ts_b,
                prices: [o_b, h_b, l_b, c_b, v_b],
            },
        )
    }
}

impl Columns {
    fn zeroed(n: usize) -> Columns {
        Columns {
            ts: huge_zeroed(n),
            open: huge_zeroed(n),
            high: huge_zeroed(n),
            low: huge_zeroed(n),
            close: huge_zeroed(n),
            volume: huge_zeroed(n),
        }
    }

    fn slices(&mut self) -> Out<'_> {
        Out {
            ts: &mut self.ts,
            prices: [
                &mut self.open,
                &mut self.high,
                &mut self.low,
                &mut self.close,
                &mut self.volume,
            ],
        }
    }
}

/// Parses every line of `chunk` into `out` (exactly `out.ts.len()` rows). `first_row` numbers the
/// rows for the reason given when declining.
fn parse_rows(chunk: &[u8], out: Out<'_>, first_row: usize) -> Result<(), Declined> {
    let Out { ts, prices } = out;
    let [open, high, low, close, volume] = prices;
    let mut at = 0;
    // The last date seen and its first millisecond: consecutive bars mostly share a date.
    let mut last_date = [0u8; 10];
    let mut last_day_ms = i64::MIN;
    for i in 0..ts.len() {
        let row = first_row + i;
        let fail = |why| Declined {
            why,
            row: Some(row),
        };
        let line = &chunk[at..];
        let t = line
            .get(..TS_LEN + 1)
            .ok_or_else(|| fail("line shorter than a timestamp"))?;
        let date: &[u8; 10] = t[..10].try_into().map_err(|_| fail("short date"))?;
        if *date != last_date || last_day_ms == i64::MIN {
            last_day_ms = day_ms(date).ok_or_else(|| fail("not a YYYY-MM-DD date"))?;
            last_date = *date;
        }
        let tod = time_of_day_ms(&t[10..]).ok_or_else(|| fail("not ' HH:MM:SS+00:00,'"))?;
        ts[i] = last_day_ms + tod;
        let mut p = TS_LEN + 1;
        let cols: [&mut [f64]; 5] = [
            &mut open[..],
            &mut high[..],
            &mut low[..],
            &mut close[..],
            &mut volume[..],
        ];
        for (k, col) in cols.into_iter().enumerate() {
            let field = &line[p..];
            let (v, used) = number(field).ok_or_else(|| fail("not a plain decimal number"))?;
            col[i] = v;
            p += used;
            match (k, line.get(p)) {
                (0..=3, Some(b',')) => p += 1,
                (4, Some(b'\n')) => p += 1,
                (4, Some(b'\r')) if line.get(p + 1) == Some(&b'\n') => p += 2,
                (4, None) => {}
                _ => return Err(fail("not six comma-separated fields")),
            }
        }
        at += p;
    }
    if at != chunk.len() {
        return Err(declined("rows left over"));
    }
    Ok(())
}

#[inline]
fn d2(a: u8, b: u8) -> Option<u32> {
    let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
    (a < 10 && b < 10).then_some(a as u32 * 10 + b as u32)
}

/// `YYYY-MM-DD` to Unix milliseconds of its midnight, with the same range checks as
/// [`ktrdr_market::time::parse`].
fn day_ms(d: &[u8; 10]) -> Option<i64> {
    if d[4] != b'-' || d[7] != b'-' {
        return None;
    }
    let y = d2(d[0], d[1])? * 100 + d2(d[2], d[3])?;
    let (m, day) = (d2(d[5], d[6])?, d2(d[8], d[9])?);
    let y = y as i64;
    if !(1..=12).contains(&m) || day < 1 || day > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, day) * DAY_MS)
}

/// ` HH:MM:SS+00:00,` to milliseconds into the day.
#[inline]
fn time_of_day_ms(t: &[u8]) -> Option<i64> {
    if t.len() < 16 || t[0] != b' ' || t[3] != b':' || t[6] != b':' || &t[9..16] != b"+00:00," {
        return None;
    }
    let (h, m, s) = (d2(t[1], t[2])?, d2(t[4], t[5])?, d2(t[7], t[8])?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(((h * 3600 + m * 60 + s) as i64) * 1000)
}

/// A number at the start of `field`: an optional `-`, then a digit or `.` (so no `nan`, `inf`, `+`
/// or empty field), parsed by `fast-float2`. Returns the value and the bytes used.
#[inline]
fn number(field: &[u8]) -> Option<(f64, usize)> {
    let digits = match field {
        [b'-', rest @ ..] => rest,
        _ => field,
    };
    match digits.first() {
        Some(b'0'..=b'9' | b'.') => {}
        _ => return None,
    }
    fast_float2::parse_partial::<f64, _>(field).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame;
    use crate::key::Zone;
    use ktrdr_market::synth::{Spec, generate};
    use ktrdr_market::{Calendar, Timeframe};
    use std::path::{Path, PathBuf};

    fn shared(rel: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data")
            .join(rel)
    }

    fn general(path: &Path) -> Bars {
        frame::decode(&frame::read_csv(path).unwrap(), &Zone::Utc)
            .unwrap()
            .bars
    }

    fn same(a: &Bars, b: &Bars) {
        assert_eq!(a.len(), b.len());
        assert_eq!(a.ts(), b.ts());
        for (x, y) in [
            (a.open(), b.open()),
            (a.high(), b.high()),
            (a.low(), b.low()),
            (a.close(), b.close()),
            (a.volume(), b.volume()),
        ] {
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(x), bits(y), "values differ bit for bit");
        }
    }

    #[test]
    fn matches_the_general_reader_on_the_shared_samples() {
        let dir = shared("ktrdr-ib-samples");
        let mut seen = 0;
        for ent in std::fs::read_dir(&dir).unwrap() {
            let path = ent.unwrap().path();
            if path.extension().is_none_or(|e| e != "csv") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for threads in [1, 2, 3] {
                // Small files: force the split by parsing through `split_small`.
                let fast = parse_split_small(&bytes, threads)
                    .unwrap_or_else(|d| panic!("{}: declined: {d}", path.display()));
                same(&fast, &general(&path));
            }
            seen += 1;
        }
        assert!(
            seen >= 3,
            "expected the shared samples in {}",
            dir.display()
        );
    }

    /// Like [`parse_with`] but splitting even small inputs, to exercise chunk boundaries.
    fn parse_split_small(bytes: &[u8], threads: usize) -> Result<Bars, Declined> {
        let body = strip_header(bytes)?;
        let mut out = Bars::new();
        // Split by hand at line boundaries into `threads` pieces, parse each, concatenate.
        let mut pieces = Vec::new();
        let mut start = 0;
        for k in 1..threads {
            let target = (body.len() * k / threads).max(start);
            if let Some(nl) = body[target..].iter().position(|&b| b == b'\n') {
                pieces.push(&body[start..target + nl + 1]);
                start = target + nl + 1;
            }
        }
        pieces.push(&body[start..]);
        for p in pieces {
            let mut v = HEADER.to_vec();
            v.push(b'\n');
            v.extend_from_slice(p);
            for b in parse_with(&v, 1)?.iter() {
                out.push(b);
            }
        }
        Ok(out)
    }

    #[test]
    fn matches_the_general_reader_on_generated_data_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        for (bars, tf) in [
            (50_000, Timeframe::M1),
            (3_000, Timeframe::H1),
            (7, Timeframe::D1),
        ] {
            let src = generate(&Spec {
                bars,
                timeframe: tf,
                calendar: Calendar::Forex,
                seed: 7,
                ..Spec::default()
            });
            let p = dir.path().join(format!("x_{bars}.csv"));
            frame::write_csv(&mut std::fs::File::create(&p).unwrap(), &src).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            let reference = general(&p);
            same(&reference, &src);
            for threads in [1, 2, 4] {
                same(&parse_with(&bytes, threads).unwrap(), &reference);
                same(&parse_split_small(&bytes, threads).unwrap(), &reference);
            }
        }
    }

    #[test]
    fn large_input_is_split_and_matches() {
        // Over PARALLEL_MIN_BYTES, so `parse_with` really uses several threads.
        let src = generate(&Spec {
            bars: 40_000,
            ..Spec::default()
        });
        let mut text = String::from("timestamp,open,high,low,close,volume\n");
        for b in src.iter() {
            ktrdr_market::time::write_ms(&mut text, b.ts);
            text.push_str(&format!(
                ",{},{},{},{},{}\n",
                b.open, b.high, b.low, b.close, b.volume
            ));
        }
        assert!(text.len() > PARALLEL_MIN_BYTES);
        for threads in [1, 2, 3, 8] {
            let got = parse_with(text.as_bytes(), threads).unwrap();
            same(&got, &src);
        }
        // Without the final newline, and with CRLF line ends.
        same(&parse_with(text.trim_end().as_bytes(), 2).unwrap(), &src);
        let crlf = text.replace('\n', "\r\n");
        same(&parse_with(crlf.as_bytes(), 2).unwrap(), &src);
    }

    #[test]
    fn declines_anything_else() {
        let ok =
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1.5,2,1,1.25,10\n";
        let b = parse_with(ok.as_bytes(), 1).unwrap();
        assert_eq!(b.ts(), &[1_747_900_800_000]);
        assert_eq!((b.open()[0], b.high()[0], b.volume()[0]), (1.5, 2.0, 10.0));
        assert_eq!(
            parse_with(b"timestamp,open,high,low,close,volume\n", 1).unwrap(),
            Bars::new()
        );
        for bad in [
            // other layouts
            "date,open,high,low,close,volume\n2025-05-22,1,2,1,1,10\n",
            ",Open,High,Low,Close,Volume\n2025-05-22,1,2,1,1,10\n",
            "timestamp,open,high,low,close\n2025-05-22 08:00:00+00:00,1,2,1,1\n",
            // other timestamp forms
            "timestamp,open,high,low,close,volume\n2025-05-22T08:00:00+00:00,1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+01:00,1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00.250+00:00,1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00,1,2,1,1,10\n",
            // invalid dates and times
            "timestamp,open,high,low,close,volume\n2025-02-29 08:00:00+00:00,1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-13-01 08:00:00+00:00,1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 24:00:00+00:00,1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:0a:00+00:00,1,2,1,1,10\n",
            // fields
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,nan,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1,2,1,1,inf\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,\"1\",2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,+1,2,1,1,10\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1,2,1,1\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1,2,1,1,10,5\n",
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1,2,1,1,10x\n",
            // blank lines
            "timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1,2,1,1,10\n\n",
            "timestamp,open,high,low,close,volume\n\n2025-05-22 08:00:00+00:00,1,2,1,1,10\n",
        ] {
            assert!(parse_with(bad.as_bytes(), 1).is_err(), "accepted {bad:?}");
        }
        let d = parse_with(
            b"timestamp,open,high,low,close,volume\n2025-05-22 08:00:00+00:00,1,2,1,1,10\n2025-05-22 09:00:00+00:00,x,2,1,1,10\n",
            1,
        )
        .unwrap_err();
        assert_eq!(d.row, Some(2));
    }
}
