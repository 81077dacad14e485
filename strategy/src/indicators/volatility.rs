//! Volatility and channel indicators: Bollinger Bands, ATR, Donchian, Keltner.

use super::{Args, Inputs};
use crate::series::{self, nan, rolling_max, rolling_min, true_range, wilder, zip};

/// One pass writing the five outputs, with each window's mean and deviation taken in two passes
/// over the window (see [`crate::series::rolling_mean_std`], whose arithmetic this repeats).
pub fn bbands(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let (n, k) = (a.period(0), a.num(1));
    let x = a.source.column(inp);
    let len = x.len();
    let mut cols: [Vec<f64>; 5] = std::array::from_fn(|_| nan(len));
    for i in n.max(1) - 1..len {
        let w = &x[i + 1 - n..=i];
        let m = w.iter().sum::<f64>() / n as f64;
        if m.is_nan() {
            continue;
        }
        let ss: f64 = w.iter().map(|v| (v - m) * (v - m)).sum();
        let sd = (ss / n as f64).sqrt();
        let (upper, lower) = (m + k * sd, m - k * sd);
        let band = upper - lower;
        cols[0][i] = m;
        cols[1][i] = upper;
        cols[2][i] = lower;
        cols[3][i] = band / m;
        cols[4][i] = if band == 0.0 {
            0.5
        } else {
            (x[i] - lower) / band
        };
    }
    cols.into()
}

pub fn atr(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    vec![wilder(
        &true_range(inp.high, inp.low, inp.close),
        a.period(0),
    )]
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
