//! Bars as text, the way ktrdr prints them: CSV in the predecessor's layout and JSON lines. One
//! writer for `ktrdrctl data show` and the daemon's `data export --format jsonl`.
//!
//! Rows are formatted straight into a caller's byte buffer (integers with `itoa`, fractional numbers
//! with `zmij`'s shortest round-trip digits, the date text reused while the day repeats) instead of a
//! `String` per field: 6-10x faster than `format!` (docs/benchmarks.md, "Client"), and byte-identical
//! to it (see the tests); the rare values where the fast formatters would print differently
//! (exponent forms, whole numbers from 1e15, years outside 0000-9999) go through `std::fmt`.

use crate::time::{DAY_MS, civil_from_days};
use std::io::Write;

/// The CSV header, the predecessor's layout.
pub const CSV_HEADER: &[u8] = b"timestamp,open,high,low,close,volume\n";

/// What a row is printed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `2018-01-02 00:00:00+00:00,1.2,1.3,1.1,1.25,100.0`
    Csv,
    /// `{"timestamp":"2018-01-02T00:00:00Z","ts_ms":1514851200000,"open":1.2,...}`, non-finite
    /// numbers as `null`.
    JsonLines,
}

/// Formats rows of bars into a byte buffer; keeps the formatters' scratch space and the text of
/// the last day between rows.
pub struct BarText {
    layout: Layout,
    buf: Vec<u8>,
    /// Day number whose `YYYY-MM-DD` text is in `date`; `date_fast` is false outside 0000-9999.
    day: i64,
    date: [u8; 10],
    date_fast: bool,
    float: zmij::Buffer,
    int: itoa::Buffer,
}

impl BarText {
    pub fn new(layout: Layout) -> BarText {
        BarText {
            layout,
            buf: Vec::new(),
            day: i64::MIN,
            date: *b"0000-00-00",
            date_fast: false,
            float: zmij::Buffer::new(),
            int: itoa::Buffer::new(),
        }
    }

    /// Appends one row (`v` is open, high, low, close, volume) to `out`.
    pub fn row(&mut self, out: &mut Vec<u8>, ts: i64, v: [f64; 5]) {
        // The row is built in `out` itself: swap it in rather than copying.
        std::mem::swap(&mut self.buf, out);
        match self.layout {
            Layout::Csv => self.csv_row(ts, v),
            Layout::JsonLines => self.json_row(ts, v),
        }
        std::mem::swap(&mut self.buf, out);
    }

    fn csv_row(&mut self, ts: i64, v: [f64; 5]) {
        self.timestamp(ts, b' ');
        self.buf.extend_from_slice(b"+00:00");
        for x in v {
            self.buf.push(b',');
            self.number(x);
        }
        self.buf.push(b'\n');
    }

    fn json_row(&mut self, ts: i64, v: [f64; 5]) {
        self.buf.extend_from_slice(b"{\"timestamp\":\"");
        self.timestamp(ts, b'T');
        self.buf.extend_from_slice(b"Z\",\"ts_ms\":");
        self.buf.extend_from_slice(self.int.format(ts).as_bytes());
        for (key, x) in [
            &b",\"open\":"[..],
            b",\"high\":",
            b",\"low\":",
            b",\"close\":",
            b",\"volume\":",
        ]
        .into_iter()
        .zip(v)
        {
            self.buf.extend_from_slice(key);
            if x.is_finite() {
                self.number(x);
            } else {
                self.buf.extend_from_slice(b"null");
            }
        }
        self.buf.extend_from_slice(b"}\n");
    }

    /// `YYYY-MM-DD HH:MM:SS` (separator `sep`), `.mmm` only when there are milliseconds: the text of
    /// `output::timestamp_ms`.
    fn timestamp(&mut self, ms: i64, sep: u8) {
        let day = ms.div_euclid(DAY_MS);
        let rem = ms.rem_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            let (y, m, d) = civil_from_days(day);
            self.date_fast = (0..=9999).contains(&y);
            if self.date_fast {
                let y = y as u32;
                self.date[..4].copy_from_slice(&[
                    digit(y / 1000),
                    digit(y / 100 % 10),
                    digit(y / 10 % 10),
                    digit(y % 10),
                ]);
                self.date[5..7].copy_from_slice(&two(m));
                self.date[8..10].copy_from_slice(&two(d));
            }
        }
        if !self.date_fast {
            // Years before 0 or after 9999: the general formatting, rare enough not to matter.
            let text = wall_text(ms);
            self.buf
                .extend_from_slice(text.replacen(' ', &(sep as char).to_string(), 1).as_bytes());
            return;
        }
        let secs = (rem / 1000) as u32;
        let milli = (rem % 1000) as u32;
        self.buf.extend_from_slice(&self.date);
        let (h, mi, s) = (two(secs / 3600), two(secs / 60 % 60), two(secs % 60));
        self.buf
            .extend_from_slice(&[sep, h[0], h[1], b':', mi[0], mi[1], b':', s[0], s[1]]);
        if milli != 0 {
            self.buf.extend_from_slice(&[
                b'.',
                digit(milli / 100),
                digit(milli / 10 % 10),
                digit(milli % 10),
            ]);
        }
    }

    /// Numbers as the predecessor's files have them, exactly as `format!` wrote them before: whole
    /// numbers below 1e15 as `{:.1}` (`100.0`), everything else as `{}` (shortest round-trip digits,
    /// never an exponent; `NaN`, `inf`, `-inf`).
    fn number(&mut self, x: f64) {
        if !x.is_finite() {
            let _ = write!(self.buf, "{x}");
            return;
        }
        if x.abs() < 1e15 {
            // Exact: |x| < 1e15 < 2^63. `as` and back instead of `fract()`, which is a libm call
            // on baseline x86-64.
            let whole = x as i64;
            if whole as f64 == x {
                if whole == 0 && x.is_sign_negative() {
                    self.buf.push(b'-');
                }
                self.buf
                    .extend_from_slice(self.int.format(whole).as_bytes());
                self.buf.extend_from_slice(b".0");
                return;
            }
            if x.abs() < 1e7 && self.few_decimals(x) {
                return;
            }
        }
        // zmij and std both print the shortest digits that read back as `x`, the ones closest to
        // `x`. They differ in two places, both left to std: zmij writes an exponent for tiny
        // magnitudes, and when `x` lies exactly halfway between two shortest candidates std
        // rounds the tie up, zmij to even (`233115890514796.125` is `...796.13` in std,
        // `...796.12` in zmij). Such a tie needs `x`'s exact decimal expansion, which has as many
        // fractional digits as `x` has fractional bits, to be one digit longer than the text.
        if x.fract() != 0.0 {
            let text = self.float.format_finite(x).as_bytes();
            let fraction_digits = text
                .iter()
                .position(|&b| b == b'.')
                .map_or(0, |dot| text.len() - dot - 1);
            if !text.contains(&b'e') && fractional_bits(x) != fraction_digits as u32 + 1 {
                self.buf.extend_from_slice(text);
                return;
            }
        }
        let _ = write!(self.buf, "{x}");
    }

    /// Prices as bar files have them (at most 8 decimals, under 1e7), without the general
    /// shortest-digits search. `m = round(x * 1e8)`; if `m / 1e8` reads back as `x` (IEEE division
    /// of two exact values rounds correctly, so this is exactly "the decimal text of m·10⁻⁸ parses to
    /// x"), that decimal, with its trailing zeros dropped, is what std prints: it has at most 15
    /// significant digits, and no two such decimals read back as the same double (DBL_DIG = 15),
    /// so it is the only candidate that short, hence the shortest, and no tie can arise. If a
    /// shorter decimal existed it would be this one with zeros dropped. `m` may be off by one from
    /// the true rounding only when no candidate exists (|x * 1e8 - m| <= 0.22 otherwise); the check
    /// then fails and the general path prints `x`. Returns false when it printed nothing.
    fn few_decimals(&mut self, x: f64) -> bool {
        const SCALE: f64 = 1e8;
        let y = x.abs() * SCALE;
        let mut m = (y + 0.5) as u64;
        if m == 0 || m as f64 / SCALE != x.abs() {
            return false;
        }
        let mut decimals = 8;
        while m.is_multiple_of(10) {
            m /= 10;
            decimals -= 1;
        }
        if x < 0.0 {
            self.buf.push(b'-');
        }
        let digits = self.int.format(m).as_bytes();
        if digits.len() > decimals {
            let (int, frac) = digits.split_at(digits.len() - decimals);
            self.buf.extend_from_slice(int);
            self.buf.push(b'.');
            self.buf.extend_from_slice(frac);
        } else {
            self.buf.extend_from_slice(b"0.");
            self.buf
                .extend(std::iter::repeat_n(b'0', decimals - digits.len()));
            self.buf.extend_from_slice(digits);
        }
        true
    }
}

/// `YYYY-MM-DD HH:MM:SS[.mmm]` (UTC) for any timestamp, with `std::fmt`: the slow path of the
/// rows, and ktrdrctl's timestamps in tables.
pub fn wall_text(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
    let (y, m, d) = civil_from_days(days);
    let secs = rem / 1000;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    );
    if rem % 1000 != 0 {
        s.push_str(&format!(".{:03}", rem % 1000));
    }
    s
}

/// How many binary digits `x` (finite) has after the point: its exact decimal expansion has as many
/// digits after the point.
fn fractional_bits(x: f64) -> u32 {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return 0;
    }
    (-(exp + mantissa.trailing_zeros() as i32)).max(0) as u32
}

#[inline]
fn digit(n: u32) -> u8 {
    b'0' + n as u8
}

#[inline]
fn two(n: u32) -> [u8; 2] {
    [digit(n / 10 % 10), digit(n % 10)]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of bars as columns.
    struct Cols {
        ts: Vec<i64>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    }

    // The formatting `data show` used before this module, kept verbatim as the reference.
    fn old_timestamp_ms(ms: i64) -> String {
        let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
        let (y, m, d) = civil_from_days(days);
        let secs = rem / 1000;
        let mut s = format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        );
        if rem % 1000 != 0 {
            s.push_str(&format!(".{:03}", rem % 1000));
        }
        s
    }
    fn old_iso(ms: i64) -> String {
        format!("{}Z", old_timestamp_ms(ms).replacen(' ', "T", 1))
    }
    fn old_num(x: f64) -> String {
        if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{x:.1}")
        } else {
            format!("{x}")
        }
    }
    fn old_json_num(x: f64) -> String {
        if x.is_finite() {
            old_num(x)
        } else {
            "null".into()
        }
    }
    fn old_rows(ch: &Cols, layout: Layout) -> String {
        let mut out = String::new();
        for i in 0..ch.ts.len() {
            let (o, h, l, c, v) = (ch.open[i], ch.high[i], ch.low[i], ch.close[i], ch.volume[i]);
            out.push_str(&match layout {
                Layout::Csv => format!(
                    "{}+00:00,{},{},{},{},{}\n",
                    old_timestamp_ms(ch.ts[i]),
                    old_num(o),
                    old_num(h),
                    old_num(l),
                    old_num(c),
                    old_num(v)
                ),
                Layout::JsonLines => format!(
                    "{{\"timestamp\":\"{}\",\"ts_ms\":{},\"open\":{},\"high\":{},\"low\":{},\"close\":{},\"volume\":{}}}\n",
                    old_iso(ch.ts[i]),
                    ch.ts[i],
                    old_json_num(o),
                    old_json_num(h),
                    old_json_num(l),
                    old_json_num(c),
                    old_json_num(v)
                ),
            });
        }
        out
    }

    fn new_rows(ch: &Cols, layout: Layout) -> String {
        let mut w = BarText::new(layout);
        let all = |w: &mut BarText| {
            let mut out = Vec::new();
            for i in 0..ch.ts.len() {
                let v = [ch.open[i], ch.high[i], ch.low[i], ch.close[i], ch.volume[i]];
                w.row(&mut out, ch.ts[i], v);
            }
            String::from_utf8(out).unwrap()
        };
        // Twice through one writer: the cached day must not leak into the next pass.
        let first = all(&mut w);
        assert_eq!(first, all(&mut w));
        first
    }

    fn chunk_of(ts: &[i64], values: &[f64]) -> Cols {
        // Every value in every column, rotated so each column sees each value.
        let n = ts.len().max(values.len());
        let col = |k: usize| (0..n).map(|i| values[(i + k) % values.len()]).collect();
        Cols {
            ts: (0..n).map(|i| ts[i % ts.len()]).collect(),
            open: col(0),
            high: col(1),
            low: col(2),
            close: col(3),
            volume: col(4),
        }
    }

    fn assert_same(ch: &Cols) {
        for layout in [Layout::Csv, Layout::JsonLines] {
            let (old, new) = (old_rows(ch, layout), new_rows(ch, layout));
            if old != new {
                for (a, b) in old.lines().zip(new.lines()) {
                    assert_eq!(a, b, "{layout:?}");
                }
                panic!("{layout:?}: outputs differ in length");
            }
        }
    }

    const TRICKY: &[f64] = &[
        0.0,
        -0.0,
        1.0,
        -1.0,
        1.07219,
        -1.07219,
        0.1,
        0.2,
        0.30000000000000004,
        1.0 / 3.0,
        2.0 / 3.0,
        123456.789,
        457.99,
        1e-5,
        1.5e-5,
        9.99e-6,
        1e-7,
        -2.5e-9,
        5e-324,
        2.2250738585072014e-308,
        1e14,
        99_999_999_999_999.0,
        999_999_999_999_999.0,
        1e15,
        -1e15,
        1e15 + 1.0,
        // Exact halfway ties between two shortest texts (std rounds them up).
        233_115_890_514_796.0 + 0.125,
        744_690_542_703_681.0 + 0.25,
        -744_690_542_703_681.0 - 0.25,
        0.125,
        2.5,
        1e-5 + 1e-20,
        4503599627370495.5,
        4503599627370496.0,
        9007199254740993.0,
        1e16,
        1.2345678901234567e18,
        1e21,
        1e22,
        1e23,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        f64::NAN,
        -f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        12_345_678_901.0,
        4_294_967_296.5,
        0.000123,
        100.25,
        1234.5678,
        0.5,
        7.0e-3,
    ];

    #[test]
    fn tricky_values_print_as_before() {
        let ts = [
            0,
            -1,
            1,
            999,
            1_514_851_200_000,
            1_514_851_200_123,
            1_514_937_599_999,
            951_782_400_000,     // 2000-02-29
            -62_167_219_200_000, // 0000-01-01
            -62_167_219_200_001, // the millisecond before: year -1
            253_402_300_799_999, // 9999-12-31 23:59:59.999
            253_402_300_800_000, // 10000-01-01
            -86_400_000 * 365 * 3000,
            i64::MAX / 4,
            i64::MIN / 4,
        ];
        assert_same(&chunk_of(&ts, TRICKY));
    }

    #[test]
    fn random_values_print_as_before() {
        // xorshift: deterministic, no dependency.
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let mut values = Vec::new();
        let mut ts = Vec::new();
        let mut t = 1_000_000_000_000i64;
        for i in 0..90_000 {
            let r = next();
            values.push(match i % 6 {
                // Any bit pattern: every exponent, subnormals, NaN payloads.
                0 => f64::from_bits(r),
                // Prices with 1-6 decimals, as bar files have them.
                1 => (r % 10_000_000) as f64 / 10f64.powi((r >> 40) as i32 % 7),
                // Results of arithmetic (not exactly representable decimals).
                2 => (r >> 11) as f64 / (1u64 << 53) as f64 * 1000.0 - 500.0,
                // Volumes, whole and fractional, small and large.
                3 => ((r >> 20) as f64) / if r & 1 == 0 { 1.0 } else { 8.0 },
                // Dyadic fractions of every size: where the rounding ties are.
                4 => (r >> 12) as f64 / (1u64 << ((r & 63) % 60)) as f64,
                _ => (r >> 11) as f64 * 2f64.powi((r & 127) as i32 - 100),
            });
            t += (r % 7_200_000) as i64 - if r & 2 == 0 { 0 } else { 3_600_000 };
            ts.push(t);
        }
        assert_same(&chunk_of(&ts, &values));
    }

    #[test]
    fn header_and_one_row_are_the_documented_layout() {
        let ch = Cols {
            ts: vec![1_514_851_200_000],
            open: vec![1.2],
            high: vec![1.3],
            low: vec![1.1],
            close: vec![1.25],
            volume: vec![100.0],
        };
        assert_eq!(
            new_rows(&ch, Layout::Csv),
            "2018-01-02 00:00:00+00:00,1.2,1.3,1.1,1.25,100.0\n"
        );
        assert_eq!(
            new_rows(&ch, Layout::JsonLines),
            "{\"timestamp\":\"2018-01-02T00:00:00Z\",\"ts_ms\":1514851200000,\"open\":1.2,\"high\":1.3,\"low\":1.1,\"close\":1.25,\"volume\":100.0}\n"
        );
        assert_eq!(CSV_HEADER, b"timestamp,open,high,low,close,volume\n");
    }
}
