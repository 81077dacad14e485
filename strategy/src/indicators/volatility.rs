//! Volatility and channel indicators: Bollinger Bands, ATR, Donchian, Keltner.

use super::{Args, Inputs};
use crate::series::{
    self, CHUNK, has_nan, nan, rolling_max, rolling_min, true_range, wilder, window_mean_std, zip,
};

/// Each window's mean and deviation in two passes over the window (see
/// [`crate::series::rolling_mean_std`], whose arithmetic this repeats), the five outputs written in
/// one pass. Without NaN, windows are summed a chunk of rows at a time (the same bits, vectorised).
pub fn bbands(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let (n, k) = (a.period(0), a.num(1));
    let x = a.source.column(inp);
    let len = x.len();
    if n == 0 || has_nan(&x) {
        let mut cols: [Vec<f64>; 5] = std::array::from_fn(|_| nan(len));
        for i in n.max(1) - 1..len {
            let w = &x[i + 1 - n..=i];
            let m = w.iter().sum::<f64>() / n as f64;
            if m.is_nan() {
                continue;
            }
            let ss: f64 = w.iter().map(|v| (v - m) * (v - m)).sum();
            let row = bands(x[i], m, (ss / n as f64).sqrt(), k);
            for (c, v) in cols.iter_mut().zip(row) {
                c[i] = v;
            }
        }
        return cols.into();
    }
    let mut cols: [Vec<f64>; 5] = std::array::from_fn(|_| {
        let mut c = Vec::with_capacity(len);
        c.resize((n - 1).min(len), f64::NAN);
        c
    });
    bollinger_chunks(&x, n, |i, m, sd| {
        for (c, v) in cols.iter_mut().zip(bands(x[i], m, sd, k)) {
            c.push(v);
        }
    });
    cols.into()
}

/// Only %B (output 4), the one a feature pipeline usually reads: one column instead of five.
pub fn bbands_one(inp: &Inputs, a: &Args, output: usize) -> Option<Vec<f64>> {
    let (n, k) = (a.period(0), a.num(1));
    let x = a.source.column(inp);
    if output != 4 || n == 0 || has_nan(&x) {
        return None;
    }
    let mut out = Vec::with_capacity(x.len());
    out.resize((n - 1).min(x.len()), f64::NAN);
    bollinger_chunks(&x, n, |i, m, sd| out.push(bands(x[i], m, sd, k)[4]));
    Some(out)
}

/// Calls `row(i, mean, sd)` for every row from `n - 1` on, in order (NaN-free `x`, `n >= 1`).
fn bollinger_chunks(x: &[f64], n: usize, mut row: impl FnMut(usize, f64, f64)) {
    let (mut mean, mut sd) = ([0.0; CHUNK], [0.0; CHUNK]);
    let mut s = n - 1;
    while s < x.len() {
        let rows = CHUNK.min(x.len() - s);
        window_mean_std(x, n, s, &mut mean[..rows], &mut sd[..rows]);
        for j in 0..rows {
            row(s + j, mean[j], sd[j]);
        }
        s += rows;
    }
}

/// middle, upper, lower, width, %B of one row.
#[inline(always)]
fn bands(x: f64, m: f64, sd: f64, k: f64) -> [f64; 5] {
    let (upper, lower) = (m + k * sd, m - k * sd);
    let band = upper - lower;
    let pb = if band == 0.0 { 0.5 } else { (x - lower) / band };
    [m, upper, lower, band / m, pb]
}

/// Wilder's average of the true range. Without NaN, one pass computing the true range as it goes
/// (the same arithmetic as [`true_range`] then [`wilder`], one column instead of two).
pub fn atr(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let (h, l, c) = (inp.high, inp.low, inp.close);
    if has_nan(h) || has_nan(l) || has_nan(c) {
        return vec![wilder(&true_range(h, l, c), n)];
    }
    let len = c.len();
    let mut out = Vec::with_capacity(len);
    // The first bar has no true range, so the seed is the mean of bars 1..=n, placed at row n.
    if len <= n {
        out.resize(len, f64::NAN);
        return vec![out];
    }
    out.resize(n, f64::NAN);
    let tr = |i: usize| {
        let pc = c[i - 1];
        (h[i] - l[i]).max((h[i] - pc).abs()).max((l[i] - pc).abs())
    };
    let mut prev = (1..=n).map(tr).sum::<f64>() / n as f64;
    out.push(prev);
    let alpha = 1.0 / n as f64;
    // Into the spare capacity: a `push` per row has a growth path (a call), around which the
    // compiler keeps `prev` in memory, on the recursion's dependency chain.
    for (o, i) in out.spare_capacity_mut()[..len - n - 1]
        .iter_mut()
        .zip(n + 1..)
    {
        prev = (1.0 - alpha) * prev + alpha * tr(i);
        o.write(prev);
    }
    // SAFETY: the capacity is `len`; the first `n + 1` values were pushed and the loop above
    // initialised the remaining `len - n - 1`.
    unsafe { out.set_len(len) };
    vec![out]
}

pub fn donchian(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let upper = rolling_max(inp.high, n);
    let lower = rolling_min(inp.low, n);
    vec![zip(&upper, &lower, |u, l| (u + l) / 2.0), upper, lower]
}

pub fn keltner(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let mid = series::ema(inp.close, a.period(0));
    let atr = wilder(&true_range(inp.high, inp.low, inp.close), a.period(1));
    let k = a.num(2);
    let upper = zip(&mid, &atr, |m, r| m + k * r);
    let lower = zip(&mid, &atr, |m, r| m - k * r);
    vec![mid, upper, lower]
}
