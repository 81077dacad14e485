//! Oscillators: RSI, Stochastic, Williams %R, CCI, rate of change, momentum.

use super::{Args, Inputs};
use crate::series::{self, nan, rolling_max, rolling_min, shift, wilder, zip};
use crate::source::typical_price;

/// Wilder's RSI as 100 * avg_gain / (avg_gain + avg_loss), which equals 100 - 100 / (1 + RS) and is
/// defined (50) when the window is flat.
pub fn rsi(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let n = a.period(0);
    let x = a.source.column(inp);
    let (mut gain, mut loss) = (nan(x.len()), nan(x.len()));
    for i in 1..x.len() {
        let d = x[i] - x[i - 1];
        gain[i] = d.max(0.0);
        loss[i] = (-d).max(0.0);
    }
    let out = zip(&wilder(&gain, n), &wilder(&loss, n), |g, l| {
        if g + l == 0.0 {
            50.0
        } else {
            100.0 * g / (g + l)
        }
    });
    vec![out]
}

/// Where the close sits in the high-low range of the window, 0..1, or `flat` when the range is empty.
fn range_position(inp: &Inputs, n: usize, flat: f64) -> Vec<f64> {
    let hh = rolling_max(inp.high, n);
    let ll = rolling_min(inp.low, n);
    (0..inp.len())
        .map(|i| {
            let r = hh[i] - ll[i];
            if r.is_nan() {
                f64::NAN
            } else if r == 0.0 {
                flat
            } else {
                (inp.close[i] - ll[i]) / r
            }
        })
        .collect()
}

pub fn stochastic(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let raw: Vec<f64> = range_position(inp, a.period(0), 0.5)
        .iter()
        .map(|p| 100.0 * p)
        .collect();
    let k = series::sma(&raw, a.period(2));
    let d = series::sma(&k, a.period(1));
    vec![k, d]
}

pub fn williams_r(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let pos = range_position(inp, a.period(0), 0.5);
    vec![pos.iter().map(|p| 100.0 * (p - 1.0)).collect()]
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
    let past = shift(&x, a.period(0));
    vec![zip(&x, &past, |v, p| {
        if p == 0.0 {
            f64::NAN
        } else {
            100.0 * (v - p) / p
        }
    })]
}

pub fn momentum(inp: &Inputs, a: &Args) -> Vec<Vec<f64>> {
    let x = a.source.column(inp);
    let past = shift(&x, a.period(0));
    vec![zip(&x, &past, |v, p| v - p)]
}
