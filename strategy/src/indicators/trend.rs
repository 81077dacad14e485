//! Trend-following indicators: moving averages, MACD, ADX, Aroon, Parabolic SAR, SuperTrend, Ichimoku.

use super::{Args, Inputs};
use crate::series::{self, nan, rolling_arg_extreme, rolling_max, rolling_min, shift, wilder, zip};

pub fn sma(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    vec![series::sma(&a.source.column(inp), a.period(0))]
}

pub fn ema(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    vec![series::ema(&a.source.column(inp), a.period(0))]
}

pub fn macd(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let x = a.source.column(inp);
    let fast = series::ema(&x, a.period(0));
    let slow = series::ema(&x, a.period(1));
    let line = zip(&fast, &slow, |f, s| f - s);
    let signal = series::ema(&line, a.period(2));
    let hist = zip(&line, &signal, |l, s| l - s);
    vec![line, signal, hist]
}

/// The MACD line alone (output 0) for a NaN-free source: both EMAs in one pass, one column written
/// instead of five, with the arithmetic of [`series::ema`] (seeds the means of the first `n`
/// values, at row `n - 1`).
pub fn macd_one(inp: &Inputs, a: &Args, output: usize) -> Option<Vec<f64>> {
    let x = a.source.column(inp);
    let (nf, ns) = (a.period(0), a.period(1));
    if output != 0 || series::has_nan(&x) || nf == 0 || nf > ns {
        return None;
    }
    let len = x.len();
    let mut out = Vec::with_capacity(len);
    if len < ns {
        out.resize(len, f64::NAN);
        return Some(out);
    }
    let (af, as_) = (2.0 / (nf as f64 + 1.0), 2.0 / (ns as f64 + 1.0));
    let mut fast = x[..nf].iter().sum::<f64>() / nf as f64;
    for &v in &x[nf..ns] {
        fast = (1.0 - af) * fast + af * v;
    }
    let mut slow = x[..ns].iter().sum::<f64>() / ns as f64;
    out.resize(ns - 1, f64::NAN);
    out.push(fast - slow);
    // Into the spare capacity: a `push` per row has a growth path (a call), around which the
    // compiler keeps the averages in memory, on the recursions' dependency chains.
    for (o, &v) in out.spare_capacity_mut()[..len - ns]
        .iter_mut()
        .zip(&x[ns..])
    {
        fast = (1.0 - af) * fast + af * v;
        slow = (1.0 - as_) * slow + as_ * v;
        o.write(fast - slow);
    }
    // SAFETY: the capacity is `len`; the first `ns` values were pushed and the loop above
    // initialised the remaining `len - ns`.
    unsafe { out.set_len(len) };
    Some(out)
}

/// Wilder's directional movement: +DM when the high rose more than the low fell, -DM the reverse.
pub fn adx(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let has_nan = |x: &[f64]| x.iter().any(|v| v.is_nan());
    if has_nan(inp.high) || has_nan(inp.low) || has_nan(inp.close) {
        adx_columns(inp, n)
    } else {
        adx_fused(inp, n, true)
    }
}

/// ADX alone (output 0), without writing +DI and -DI.
pub fn adx_one(inp: &Inputs, a: &Args, output: usize) -> Option<Vec<f64>> {
    let has_nan = series::has_nan;
    if output != 0 || has_nan(inp.high) || has_nan(inp.low) || has_nan(inp.close) {
        return None;
    }
    adx_fused(inp, a.period(0), false).into_iter().next()
}

#[inline(always)]
fn directional_movement(h: &[f64], l: &[f64], i: usize) -> (f64, f64) {
    let up = h[i] - h[i - 1];
    let down = l[i - 1] - l[i];
    if up.is_nan() || down.is_nan() {
        return (f64::NAN, f64::NAN);
    }
    (
        if up > down && up > 0.0 { up } else { 0.0 },
        if down > up && down > 0.0 { down } else { 0.0 },
    )
}

fn di(dm: f64, tr: f64) -> f64 {
    if tr == 0.0 { 0.0 } else { 100.0 * dm / tr }
}

fn dx(p: f64, m: f64) -> f64 {
    if p + m == 0.0 {
        0.0
    } else {
        100.0 * (p - m).abs() / (p + m)
    }
}

/// The general form, from [`wilder`] columns; handles NaN inside the series.
fn adx_columns(inp: &Inputs, n: usize) -> Vec<Vec<f64>> {
    let (h, l) = (inp.high, inp.low);
    let len = inp.len();
    let (mut pdm, mut mdm) = (nan(len), nan(len));
    for i in 1..len {
        (pdm[i], mdm[i]) = directional_movement(h, l, i);
    }
    let tr = wilder(&series::true_range(h, l, inp.close), n);
    let pdi = zip(&wilder(&pdm, n), &tr, di);
    let mdi = zip(&wilder(&mdm, n), &tr, di);
    let dxs = zip(&pdi, &mdi, dx);
    vec![wilder(&dxs, n), pdi, mdi]
}

/// The same arithmetic in one pass writing only the three outputs (ten columns fewer), for series
/// without NaN. Wilder seeds: TR/DM means over bars 1..=n at row n; ADX the mean of DX over rows
/// n..=2n-1 at row 2n-1.
/// With `all` false only ADX is written and the DI columns come back empty.
fn adx_fused(inp: &Inputs, n: usize, all: bool) -> Vec<Vec<f64>> {
    let (h, l, c) = (inp.high, inp.low, inp.close);
    let len = inp.len();
    let di_len = if all { len } else { 0 };
    let (mut pdi, mut mdi) = (nan(di_len), nan(di_len));
    if len <= n {
        return vec![nan(len), pdi, mdi];
    }
    // ADX is written front to back once, not filled with NaN first.
    let mut adx = Vec::with_capacity(len);
    adx.resize(n, f64::NAN);
    let alpha = 1.0 / n as f64;
    let tr = |i: usize| {
        (h[i] - l[i])
            .max((h[i] - c[i - 1]).abs())
            .max((l[i] - c[i - 1]).abs())
    };
    let (mut s_tr, mut s_p, mut s_m) = (0.0, 0.0, 0.0);
    for i in 1..=n {
        let (p, m) = directional_movement(h, l, i);
        s_tr += tr(i);
        s_p += p;
        s_m += m;
    }
    let k = n as f64;
    (s_tr, s_p, s_m) = (s_tr / k, s_p / k, s_m / k);
    let mut dx_sum = 0.0;
    let mut adx_now = f64::NAN;
    // Into the spare capacity: a `push` per row has a growth path (a call), around which the
    // compiler keeps the running averages in memory, on the recursions' dependency chains.
    for (o, i) in adx.spare_capacity_mut()[..len - n].iter_mut().zip(n..) {
        if i > n {
            let (p, m) = directional_movement(h, l, i);
            s_tr = (1.0 - alpha) * s_tr + alpha * tr(i);
            s_p = (1.0 - alpha) * s_p + alpha * p;
            s_m = (1.0 - alpha) * s_m + alpha * m;
        }
        let (pd, md) = (di(s_p, s_tr), di(s_m, s_tr));
        if all {
            (pdi[i], mdi[i]) = (pd, md);
        }
        let x = dx(pd, md);
        if i < 2 * n - 1 {
            dx_sum += x;
            o.write(f64::NAN);
            continue;
        }
        adx_now = if i == 2 * n - 1 {
            (dx_sum + x) / k
        } else {
            (1.0 - alpha) * adx_now + alpha * x
        };
        o.write(adx_now);
    }
    // SAFETY: the capacity is `len`; the first `n` values were pushed and the loop above
    // initialised the remaining `len - n`.
    unsafe { adx.set_len(len) };
    vec![adx, pdi, mdi]
}

#[cfg(test)]
pub(super) fn adx_both(inp: &Inputs, n: usize) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    (adx_columns(inp, n), adx_fused(inp, n, true))
}

pub fn aroon(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let score = |idx: Vec<Option<usize>>| -> Vec<f64> {
        idx.iter()
            .enumerate()
            .map(|(i, j)| j.map_or(f64::NAN, |j| 100.0 * (n - (i - j)) as f64 / n as f64))
            .collect()
    };
    let up = score(rolling_arg_extreme(inp.high, n + 1, true));
    let down = score(rolling_arg_extreme(inp.low, n + 1, false));
    vec![zip(&up, &down, |u, d| u - d), up, down]
}

/// Wilder's Parabolic SAR. The first trend is up when close[1] >= close[0]; the SAR starts at the
/// first bar's low (up) or high (down) with that bar's high (low) as the extreme point.
pub fn psar(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let (step, max_step) = (a.num(0), a.num(1));
    let (h, l, c) = (inp.high, inp.low, inp.close);
    let len = inp.len();
    let mut out = nan(len);
    if len < 2 {
        return vec![out];
    }
    let mut up = c[1] >= c[0];
    let mut sar = if up { l[0] } else { h[0] };
    let mut ep = if up { h[0] } else { l[0] };
    let mut af = step;
    for i in 1..len {
        sar += af * (ep - sar);
        if up {
            sar = sar.min(l[i - 1]);
            if i >= 2 {
                sar = sar.min(l[i - 2]);
            }
            if l[i] < sar {
                up = false;
                sar = ep;
                ep = l[i];
                af = step;
            } else if h[i] > ep {
                ep = h[i];
                af = (af + step).min(max_step);
            }
        } else {
            sar = sar.max(h[i - 1]);
            if i >= 2 {
                sar = sar.max(h[i - 2]);
            }
            if h[i] > sar {
                up = true;
                sar = ep;
                ep = h[i];
                af = step;
            } else if l[i] < ep {
                ep = l[i];
                af = (af + step).min(max_step);
            }
        }
        out[i] = sar;
    }
    vec![out]
}

/// SuperTrend: bands around hl2 that only tighten while the trend lasts; the line is the lower band in
/// an up trend and the upper band in a down trend. The first defined row starts an up trend.
pub fn supertrend(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let (n, m) = (a.period(0), a.num(1));
    let (h, l, c) = (inp.high, inp.low, inp.close);
    let len = inp.len();
    let atr = wilder(&series::true_range(h, l, c), n);
    let (mut line, mut dir) = (nan(len), nan(len));
    let mut state: Option<(f64, f64, f64)> = None; // (final upper, final lower, direction)
    for i in 0..len {
        if atr[i].is_nan() {
            continue;
        }
        let mid = (h[i] + l[i]) / 2.0;
        let (bu, bl) = (mid + m * atr[i], mid - m * atr[i]);
        let (fu, fl, d) = match state {
            None => (bu, bl, 1.0),
            Some((pu, pl, pd)) => {
                let fu = if bu < pu || c[i - 1] > pu { bu } else { pu };
                let fl = if bl > pl || c[i - 1] < pl { bl } else { pl };
                let d = if c[i] > pu {
                    1.0
                } else if c[i] < pl {
                    -1.0
                } else {
                    pd
                };
                (fu, fl, d)
            }
        };
        state = Some((fu, fl, d));
        line[i] = if d > 0.0 { fl } else { fu };
        dir[i] = d;
    }
    vec![line, dir]
}

pub fn ichimoku(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let (h, l) = (inp.high, inp.low);
    let mid = |n: usize| zip(&rolling_max(h, n), &rolling_min(l, n), |u, d| (u + d) / 2.0);
    let tenkan = mid(a.period(0));
    let kijun = mid(a.period(1));
    let disp = a.period(3);
    let senkou_a = shift(&zip(&tenkan, &kijun, |t, k| (t + k) / 2.0), disp);
    let senkou_b = shift(&mid(a.period(2)), disp);
    vec![tenkan, kijun, senkou_a, senkou_b]
}
