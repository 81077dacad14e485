//! Oscillators: RSI, Stochastic, Williams %R, CCI, rate of change, momentum.

use super::{Args, Inputs};
use crate::series::{
    self, CHUNK, RollingSum, nan, rolling_max, rolling_min, scannable, wilder, window_extremes, zip,
};
use crate::source::typical_price;

/// Wilder's RSI as 100 * avg_gain / (avg_gain + avg_loss), which equals 100 - 100 / (1 + RS) and is
/// defined (50) when the window is flat.
pub fn rsi(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let x = a.source.column(inp);
    if x.iter().any(|v| v.is_nan()) {
        return vec![rsi_columns(&x, n)];
    }
    vec![rsi_fused(&x, n)]
}

fn rsi_value(g: f64, l: f64) -> f64 {
    if g + l == 0.0 {
        50.0
    } else {
        100.0 * g / (g + l)
    }
}

/// The general form, built from [`wilder`] columns; handles NaN inside the series.
fn rsi_columns(x: &[f64], n: usize) -> Vec<f64> {
    let (mut gain, mut loss) = (nan(x.len()), nan(x.len()));
    for i in 1..x.len() {
        let d = x[i] - x[i - 1];
        // `f64::max` would turn a NaN change into 0: keep it undefined.
        if !d.is_nan() {
            gain[i] = d.max(0.0);
            loss[i] = (-d).max(0.0);
        }
    }
    zip(&wilder(&gain, n), &wilder(&loss, n), rsi_value)
}

/// The same arithmetic in one pass and one column, for series without NaN (the usual case): the
/// pipeline is bound by writing fresh memory, so four fewer columns matter more than the loop.
fn rsi_fused(x: &[f64], n: usize) -> Vec<f64> {
    let len = x.len();
    let mut out = Vec::with_capacity(len);
    if len <= n {
        out.resize(len, f64::NAN);
        return out;
    }
    out.resize(n, f64::NAN);
    let (mut g, mut l) = (0.0, 0.0);
    for i in 1..=n {
        let d = x[i] - x[i - 1];
        g += d.max(0.0);
        l += (-d).max(0.0);
    }
    let (mut g, mut l) = (g / n as f64, l / n as f64);
    out.push(rsi_value(g, l));
    let alpha = 1.0 / n as f64;
    // Into the spare capacity: a `push` per row has a growth path (a call), around which the
    // compiler keeps the averages in memory, on the recursions' dependency chains.
    for (o, i) in out.spare_capacity_mut()[..len - n - 1]
        .iter_mut()
        .zip(n + 1..)
    {
        let d = x[i] - x[i - 1];
        g = (1.0 - alpha) * g + alpha * d.max(0.0);
        l = (1.0 - alpha) * l + alpha * (-d).max(0.0);
        o.write(rsi_value(g, l));
    }
    // SAFETY: the capacity is `len`; the first `n + 1` values were pushed and the loop above
    // initialised the remaining `len - n - 1`.
    unsafe { out.set_len(len) };
    out
}

/// Where the close sits in the high-low range of the window, 0..1, or `flat` when the range is
/// empty (NaN where the window is undefined), handed to `then` in order, a run of rows at a time,
/// for it to append one output per row. Without NaN the window extremes are taken a chunk of rows
/// at a time and only the output column is written.
fn range_position(
    inp: &Inputs,
    n: usize,
    flat: f64,
    mut then: impl FnMut(&[f64], &mut Vec<f64>),
) -> Vec<f64> {
    let position = |c: f64, hh: f64, ll: f64| {
        let r = hh - ll;
        if r.is_nan() {
            f64::NAN
        } else if r == 0.0 {
            flat
        } else {
            (c - ll) / r
        }
    };
    let len = inp.len();
    if !(scannable(inp.high, n) && scannable(inp.low, n)) {
        let (hh, ll) = (rolling_max(inp.high, n), rolling_min(inp.low, n));
        let p: Vec<f64> = (0..len)
            .map(|i| position(inp.close[i], hh[i], ll[i]))
            .collect();
        let mut out = Vec::with_capacity(len);
        then(&p, &mut out);
        return out;
    }
    let mut out = Vec::with_capacity(len);
    let warm = (n - 1).min(len);
    then(&vec![f64::NAN; warm], &mut out);
    let (mut hh, mut ll, mut p) = ([0.0; CHUNK], [0.0; CHUNK], [0.0; CHUNK]);
    let mut s = warm;
    while s < len {
        let rows = CHUNK.min(len - s);
        window_extremes::<true>(inp.high, n, s, &mut hh[..rows]);
        window_extremes::<false>(inp.low, n, s, &mut ll[..rows]);
        let c = &inp.close[s..s + rows];
        for (((p, &c), &h), &l) in p[..rows].iter_mut().zip(c).zip(&hh).zip(&ll) {
            *p = position(c, h, l);
        }
        then(&p[..rows], &mut out);
        s += rows;
    }
    out
}

pub fn stochastic(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let k = stochastic_k(inp, a);
    let d = series::sma(&k, a.period(1));
    vec![k, d]
}

/// %K alone (output 0) when %D is not wanted.
pub fn stochastic_one(inp: &Inputs, a: &Args, output: usize) -> Option<Vec<f64>> {
    (output == 0).then(|| stochastic_k(inp, a))
}

/// The SMA of 100 * the range position, smoothed as the positions come: the unsmoothed column is
/// never built.
fn stochastic_k(inp: &Inputs, a: &Args) -> Vec<f64> {
    let smooth = a.period(2);
    let (mut sum, k) = (RollingSum::new(smooth), smooth as f64);
    range_position(inp, a.period(0), 0.5, |p, out| {
        sum.extend(p.iter().map(|&p| p * 100.0), out, |s| s / k)
    })
}

pub fn williams_r(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    vec![range_position(inp, a.period(0), 0.5, |p, out| {
        out.extend(p.iter().map(|&p| 100.0 * (p - 1.0)))
    })]
}

pub fn cci(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let tp = typical_price(inp);
    let mean = series::sma(&tp, n);
    let mut out = nan(tp.len());
    for i in 0..tp.len() {
        if mean[i].is_nan() {
            continue;
        }
        let m = mean[i];
        let md = tp[i + 1 - n..=i].iter().map(|v| (v - m).abs()).sum::<f64>() / n as f64;
        out[i] = if md == 0.0 {
            0.0
        } else {
            (tp[i] - m) / (0.015 * md)
        };
    }
    vec![out]
}

pub fn roc(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let x = a.source.column(inp);
    vec![against_past(&x, a.period(0), |v, p| {
        if p == 0.0 {
            f64::NAN
        } else {
            100.0 * (v - p) / p
        }
    })]
}

pub fn momentum(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let x = a.source.column(inp);
    vec![against_past(&x, a.period(0), |v, p| v - p)]
}

/// `f(x[i], x[i - k])`, NaN for the first `k` rows.
fn against_past(x: &[f64], k: usize, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| if i < k { f64::NAN } else { f(x[i], x[i - k]) })
        .collect()
}

#[cfg(test)]
pub(super) fn rsi_both(x: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    (rsi_columns(x, n), rsi_fused(x, n))
}
