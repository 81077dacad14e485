//! Volume indicators: OBV, MFI, rolling VWAP, Chaikin money flow.
//!
//! Forex feeds report volume 0 or -1 ("unknown"). Any volume that is not a finite positive number
//! counts as none; where a window (or, for OBV, the history so far) has no volume at all the output is
//! NaN. Whether a window has volume is an exact integer count, not a float sum that could be 1e-17.

use super::{Args, Inputs};
use crate::series::{nan, rolling_count, rolling_sum};
use crate::source::typical_price;

fn clean(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

fn has_volume(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

pub fn obv(inp: &Inputs, _: &Args) -> Vec<Vec<f64>> {
    let (c, v) = (inp.close, inp.volume);
    let mut out = nan(c.len());
    let (mut total, mut seen) = (0.0, false);
    for i in 0..c.len() {
        seen |= has_volume(v[i]);
        if i > 0 {
            let d = c[i] - c[i - 1];
            let sign = if d > 0.0 {
                1.0
            } else if d < 0.0 {
                -1.0
            } else {
                0.0
            };
            total += sign * clean(v[i]);
        }
        if seen {
            out[i] = total;
        }
    }
    vec![out]
}

/// Money flow over the last `period` typical-price changes (so the first defined row is `period`).
pub fn mfi(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let tp = typical_price(inp);
    let len = tp.len();
    let (mut pos, mut neg, mut vol) = (nan(len), nan(len), nan(len));
    for i in 1..len {
        let flow = tp[i] * clean(inp.volume[i]);
        pos[i] = if tp[i] > tp[i - 1] { flow } else { 0.0 };
        neg[i] = if tp[i] < tp[i - 1] { flow } else { 0.0 };
        vol[i] = clean(inp.volume[i]);
    }
    let (ps, ns) = (rolling_sum(&pos, n), rolling_sum(&neg, n));
    let counts = rolling_count(&vol, n, |v| v > 0.0);
    let out = (0..len)
        .map(|i| {
            if ps[i].is_nan() || counts[i] == 0 {
                f64::NAN
            } else if ps[i] + ns[i] == 0.0 {
                50.0
            } else {
                100.0 * ps[i] / (ps[i] + ns[i])
            }
        })
        .collect();
    vec![out]
}

/// `sum(weighted) / sum(volume)` over windows of `n`, NaN where the window has no volume.
fn volume_weighted(weighted: &[f64], volume: &[f64], n: usize) -> Vec<f64> {
    let vol: Vec<f64> = volume.iter().map(|&v| clean(v)).collect();
    let (ws, vs) = (rolling_sum(weighted, n), rolling_sum(&vol, n));
    let counts = rolling_count(volume, n, has_volume);
    (0..vol.len())
        .map(|i| {
            if ws[i].is_nan() || counts[i] == 0 {
                f64::NAN
            } else {
                ws[i] / vs[i]
            }
        })
        .collect()
}

pub fn vwap(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let tp = typical_price(inp);
    let weighted: Vec<f64> = tp
        .iter()
        .zip(inp.volume)
        .map(|(&p, &v)| p * clean(v))
        .collect();
    vec![volume_weighted(&weighted, inp.volume, a.period(0))]
}

pub fn cmf(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let weighted: Vec<f64> = (0..inp.len())
        .map(|i| {
            let (h, l, c) = (inp.high[i], inp.low[i], inp.close[i]);
            let mult = if h == l {
                0.0
            } else {
                ((c - l) - (h - c)) / (h - l)
            };
            mult * clean(inp.volume[i])
        })
        .collect();
    vec![volume_weighted(&weighted, inp.volume, a.period(0))]
}
