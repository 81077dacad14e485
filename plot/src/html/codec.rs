//! The page's columns as compact text: each value quantised to the column's step (its own decimals
//! when it has few, else six significant digits), the difference to the previous value
//! zigzag-varint coded (0 marks a missing value), all columns of a level deflated together and
//! base64-encoded. Smooth series (times, moving averages) compress to about a byte a value.

use base64::Engine;
use flate2::Compression;
use flate2::write::DeflateEncoder;
use std::io::Write;

/// How a column's values become integers: `v * 10^decimals`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quant {
    pub decimals: i32,
}

const SIGNIFICANT: i32 = 6;
const MAX_DECIMALS: i32 = 10;

impl Quant {
    /// The fewest decimals that keep every value exactly (checked on a sample), but never more than
    /// six significant digits of the largest value.
    pub fn for_values(v: &[f64]) -> Quant {
        let max = v
            .iter()
            .filter(|x| x.is_finite())
            .fold(0.0f64, |m, x| m.max(x.abs()));
        if max == 0.0 {
            return Quant { decimals: 0 };
        }
        let sig = (SIGNIFICANT - 1 - max.log10().floor() as i32).clamp(-6, MAX_DECIMALS);
        let step = (v.len() / 20_000).max(1);
        let sample: Vec<f64> = v
            .iter()
            .step_by(step)
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        let exact = (0..=sig.max(0)).find(|&d| {
            let m = 10f64.powi(d);
            sample.iter().all(|x| {
                let y = x * m;
                (y - y.round()).abs() <= 1e-7 * y.abs().max(1.0)
            })
        });
        Quant {
            decimals: exact.map_or(sig, |d| d.min(sig)),
        }
    }

    fn factor(self) -> f64 {
        10f64.powi(self.decimals)
    }
}

fn varint(out: &mut Vec<u8>, mut u: u64) {
    while u >= 0x80 {
        out.push((u as u8 & 0x7f) | 0x80);
        u >>= 7;
    }
    out.push(u as u8);
}

/// Appends one column.
pub fn column(out: &mut Vec<u8>, v: &[f64], q: Quant) {
    let f = q.factor();
    let mut prev: i64 = 0;
    for x in v {
        if !x.is_finite() {
            out.push(0);
            continue;
        }
        // Bounded: six significant digits (or the column's own decimals) of a finite f64.
        let cur = (x * f).round() as i64;
        let d = cur.wrapping_sub(prev);
        let zig = ((d << 1) ^ (d >> 63)) as u64;
        varint(out, zig + 1);
        prev = cur;
    }
}

/// Deflated and base64-encoded.
pub fn pack(raw: &[u8]) -> String {
    let mut enc = DeflateEncoder::new(Vec::with_capacity(raw.len() / 3), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(raw);
    let deflated = enc.finish().unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(deflated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder the page runs, in Rust, to check the format round-trips.
    fn decode(bytes: &[u8], n: usize, q: Quant) -> Vec<f64> {
        let mut p = 0;
        let mut prev = 0i64;
        let mut out = Vec::new();
        for _ in 0..n {
            let (mut u, mut shift) = (0u64, 0);
            loop {
                let b = bytes[p];
                p += 1;
                u |= u64::from(b & 0x7f) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    break;
                }
            }
            if u == 0 {
                out.push(f64::NAN);
                continue;
            }
            let z = u - 1;
            let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
            prev += d;
            out.push(prev as f64 / q.factor());
        }
        out
    }

    #[test]
    fn decimals_follow_the_data() {
        assert_eq!(Quant::for_values(&[1.10234, 1.1, 1.2]).decimals, 5);
        assert_eq!(Quant::for_values(&[1200.0, 15.0]).decimals, 0);
        // Full-precision floats get six significant digits.
        assert_eq!(Quant::for_values(&[57.123456789, 3.3]).decimals, 4);
        assert_eq!(Quant::for_values(&[f64::NAN]).decimals, 0);
    }

    #[test]
    fn round_trip_with_gaps() {
        let v = [f64::NAN, 1.10234, 1.1, -3.5, f64::NAN, 1.2];
        let q = Quant::for_values(&v);
        let mut raw = Vec::new();
        column(&mut raw, &v, q);
        let back = decode(&raw, v.len(), q);
        for (a, b) in v.iter().zip(&back) {
            assert!(a.is_nan() && b.is_nan() || (a - b).abs() < 1e-12, "{a} {b}");
        }
    }
}
