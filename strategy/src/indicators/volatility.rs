//! Volatility and channel indicators: Bollinger Bands, ATR, Donchian, Keltner.

use super::{Args, Inputs};
use crate::series::{self, rolling_max, rolling_mean_std, rolling_min, true_range, wilder, zip};

pub fn bbands(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let (n, k) = (a.period(0), a.num(1));
    let x = a.source.column(inp);
    let (mid, sd) = rolling_mean_std(&x, n);
    let upper = zip(&mid, &sd, |m, s| m + k * s);
    let lower = zip(&mid, &sd, |m, s| m - k * s);
    let width = zip(&zip(&upper, &lower, |u, l| u - l), &mid, |w, m| w / m);
    let percent_b = (0..x.len())
        .map(|i| {
            let w = upper[i] - lower[i];
            if w == 0.0 { 0.5 } else { (x[i] - lower[i]) / w }
        })
        .collect();
    vec![mid, upper, lower, width, percent_b]
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
