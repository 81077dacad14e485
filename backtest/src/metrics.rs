//! Metrics from an equity curve and trades. Returns are per bar; annualisation uses
//! `periods_per_year` (bars per year for this timeframe and market), never a fixed 252.
//!
//! Every reported number is finite (JSON has no infinities): a ratio without a denominator is 0, and
//! an extrapolation that overflows (a tiny range annualised) is reported as 0 too.

use serde::{Deserialize, Serialize};

use crate::trade::Trade;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub start_equity: f64,
    pub end_equity: f64,
    pub total_return: f64,
    pub annual_return: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    /// Largest peak-to-trough fall as a fraction of the peak, in [0, 1].
    pub max_drawdown: f64,
    /// Longest time under a previous peak (until recovery, or the end), in bars and in ms.
    pub max_drawdown_bars: usize,
    pub max_drawdown_ms: i64,
    pub calmar: f64,
    pub trades: usize,
    pub win_rate: f64,
    /// `gross_profit / gross_loss`; 0 when there is no losing trade (see `gross_loss`).
    pub profit_factor: f64,
    /// Mean pnl of the winning trades (> 0), 0 without any.
    pub avg_win: f64,
    /// Mean pnl of the losing trades, as a negative amount of money; 0 without any.
    pub avg_loss: f64,
    pub avg_holding_bars: f64,
    pub avg_holding_ms: f64,
    /// Fraction of bars with a position open at the close.
    pub exposure: f64,
    pub total_commission: f64,
    pub total_slippage: f64,
    pub periods_per_year: f64,
    /// Sum of the winning trades' pnl (>= 0).
    pub gross_profit: f64,
    /// Sum of the losing trades' |pnl| (>= 0). With `gross_profit` it tells "no losses" (profit
    /// factor 0, gross_loss 0) from "no wins" (profit factor 0, gross_profit 0).
    pub gross_loss: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyHold {
    pub equity: Vec<f64>,
    pub total_return: f64,
    pub annual_return: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub max_drawdown: f64,
}

const DAY_MS: f64 = 86_400_000.0;
/// A Julian year: the mean calendar year, leap days included.
pub const YEAR_MS: f64 = 365.25 * DAY_MS;
/// Below this span the bars are too few to say how a market trades over a year (a holiday week
/// would skew it), so the calendar count is used.
const MIN_OBSERVED_SPAN_MS: f64 = 30.0 * DAY_MS;

/// Bars per year for bars at `ts` of `bar_ms` each: observed from the bars' density when they span
/// long enough (so a 24x5 forex hour and a 6.5-hour stock day both come out right), else the
/// calendar count `year / bar_ms`. A non-positive `bar_ms` with too short a span gives 0, which
/// [`crate::Config::validate`] refuses.
pub fn periods_per_year(ts: &[i64], bar_ms: i64) -> f64 {
    if let (Some(&first), Some(&last)) = (ts.first(), ts.last()) {
        let span = (last as f64) - (first as f64);
        if span >= MIN_OBSERVED_SPAN_MS {
            return (ts.len() - 1) as f64 / (span / YEAR_MS);
        }
    }
    if bar_ms > 0 {
        YEAR_MS / bar_ms as f64
    } else {
        0.0
    }
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// What the equity curve alone says, shared by the strategy and buy-and-hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Curve {
    pub total_return: f64,
    pub annual_return: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub max_drawdown: f64,
    pub max_drawdown_bars: usize,
    pub max_drawdown_ms: i64,
}

/// `start` is the capital before bar 0 (the first peak); `ts` has one entry per `equity` value.
pub(crate) fn curve(start: f64, equity: &[f64], ts: &[i64], ppy: f64) -> Curve {
    let n = equity.len();
    let end = equity.last().copied().unwrap_or(start);
    let total_return = end / start - 1.0;
    let annual_return = if n < 2 {
        0.0
    } else if 1.0 + total_return <= 0.0 {
        // Everything lost (a short can lose more than the account): no real root.
        -1.0
    } else {
        finite((1.0 + total_return).powf(ppy / (n - 1) as f64) - 1.0)
    };

    // One pass, nothing collected: at a million bars a returns vector is 8 MB of fresh pages to
    // fault in, and each pass costs a division per bar. The variance comes from sums shifted by the
    // first return, which keeps the subtraction below well conditioned (returns hover near it).
    let count = n.saturating_sub(1);
    let m = count as f64;
    let (mut sum, mut shifted, mut shifted_sq, mut downside_sq) = (0.0, 0.0, 0.0, 0.0);
    let mut shift = None;
    for w in equity.windows(2) {
        // A bar after equity hit zero or below has no meaningful return: the account is bust.
        let r = if w[0] > 0.0 { w[1] / w[0] - 1.0 } else { 0.0 };
        let k = *shift.get_or_insert(r);
        sum += r;
        shifted += r - k;
        shifted_sq += (r - k) * (r - k);
        downside_sq += r.min(0.0) * r.min(0.0);
    }
    let mean = if count == 0 { 0.0 } else { sum / m };
    let std = if count < 2 {
        0.0
    } else {
        ((shifted_sq - shifted * shifted / m) / (m - 1.0))
            .max(0.0)
            .sqrt()
    };
    let downside = if count == 0 {
        0.0
    } else {
        (downside_sq / m).sqrt()
    };
    let root = ppy.sqrt();
    let volatility = finite(std * root);
    let sharpe = if std > 0.0 {
        finite(mean / std * root)
    } else {
        0.0
    };
    let sortino = if downside > 0.0 {
        finite(mean / downside * root)
    } else {
        0.0
    };

    let mut peak = start;
    let mut peak_i = 0usize;
    let mut under = false;
    let mut max_drawdown = 0.0f64;
    let mut max_drawdown_bars = 0usize;
    let mut max_drawdown_ms = 0i64;
    let mut stretch = |from: usize, to: usize| {
        max_drawdown_bars = max_drawdown_bars.max(to - from);
        max_drawdown_ms = max_drawdown_ms.max(ts[to] - ts[from]);
    };
    for (i, &e) in equity.iter().enumerate() {
        if e >= peak {
            if under {
                stretch(peak_i, i);
                under = false;
            }
            peak = e;
            peak_i = i;
        } else {
            under = true;
            // peak >= start > 0. Clamped: a short can take equity below zero.
            max_drawdown = max_drawdown.max(((peak - e) / peak).min(1.0));
        }
    }
    if under {
        stretch(peak_i, n - 1);
    }
    Curve {
        total_return,
        annual_return,
        volatility,
        sharpe,
        sortino,
        max_drawdown,
        max_drawdown_bars,
        max_drawdown_ms,
    }
}

/// The strategy's metrics. `exposure` is computed by the engine (it knows the position per bar).
pub(crate) fn compute(
    start: f64,
    equity: &[f64],
    ts: &[i64],
    trades: &[Trade],
    exposure: f64,
    ppy: f64,
) -> Metrics {
    let c = curve(start, equity, ts, ppy);
    let count = trades.len();
    let wins = trades.iter().filter(|t| t.pnl > 0.0).count();
    let losses = trades.iter().filter(|t| t.pnl < 0.0).count();
    let gross_profit: f64 = trades.iter().map(|t| t.pnl.max(0.0)).sum();
    let gross_loss: f64 = trades.iter().map(|t| (-t.pnl).max(0.0)).sum();
    let per = |sum: f64, k: usize| if k == 0 { 0.0 } else { sum / k as f64 };
    Metrics {
        start_equity: start,
        end_equity: equity.last().copied().unwrap_or(start),
        total_return: c.total_return,
        annual_return: c.annual_return,
        volatility: c.volatility,
        sharpe: c.sharpe,
        sortino: c.sortino,
        max_drawdown: c.max_drawdown,
        max_drawdown_bars: c.max_drawdown_bars,
        max_drawdown_ms: c.max_drawdown_ms,
        calmar: if c.max_drawdown > 0.0 {
            finite(c.annual_return / c.max_drawdown)
        } else {
            0.0
        },
        trades: count,
        win_rate: per(wins as f64, count),
        profit_factor: if gross_loss > 0.0 {
            finite(gross_profit / gross_loss)
        } else {
            0.0
        },
        avg_win: per(gross_profit, wins),
        avg_loss: -per(gross_loss, losses),
        avg_holding_bars: per(trades.iter().map(|t| t.bars_held as f64).sum(), count),
        avg_holding_ms: per(
            trades.iter().map(|t| (t.exit_ms - t.entry_ms) as f64).sum(),
            count,
        ),
        exposure,
        total_commission: trades.iter().map(|t| t.commission).sum(),
        total_slippage: trades.iter().map(|t| t.slippage).sum(),
        periods_per_year: ppy,
        gross_profit,
        gross_loss,
    }
}

/// The whole capital bought at bar 0's open (slippage and commission included, so the commission
/// comes out of the capital), marked at each close, sold at the last close with costs.
/// `open`/`close` are non-empty and of equal length (the engine validated them).
pub(crate) fn buy_hold(
    open: &[f64],
    close: &[f64],
    ts: &[i64],
    capital: f64,
    commission: f64,
    slippage: f64,
    ppy: f64,
) -> BuyHold {
    let buy = open[0] * (1.0 + slippage);
    let quantity = capital / (buy * (1.0 + commission));
    let cash = capital - quantity * buy - commission * buy * quantity;
    let mut equity: Vec<f64> = close.iter().map(|c| cash + quantity * c).collect();
    if let (Some(last), Some(&c)) = (equity.last_mut(), close.last()) {
        let sell = c * (1.0 - slippage);
        *last = cash + quantity * sell - commission * sell * quantity;
    }
    let c = curve(capital, &equity, ts, ppy);
    BuyHold {
        equity,
        total_return: c.total_return,
        annual_return: c.annual_return,
        volatility: c.volatility,
        sharpe: c.sharpe,
        max_drawdown: c.max_drawdown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;
    const D: i64 = 86_400_000;

    fn near(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} != {b}");
    }

    #[test]
    fn curve_by_hand() {
        // 100 -> 110 -> 99 -> 108.9: returns +0.1, -0.1, +0.1.
        // mean 0.1/3 = 0.0333...; deviations 1/15, -2/15, 1/15; sample variance
        // (1 + 4 + 1)/225 / 2 = 1/75, std 0.11547005383792516. ppy 4, sqrt 2.
        // volatility 0.2309401076758503; sharpe (1/30)/(1/sqrt 75)*2 = 0.5773502691896258.
        // downside sqrt(0.01 / 3) = 0.05773502691896258; sortino (1/30)/0.0577...*2 = 1.1547005383792517.
        // Peak 110 at bar 1, 99 is 10% under; 108.9 never recovers: 2 bars, 2 hours.
        let eq = [100.0, 110.0, 99.0, 108.9];
        let ts = [0, H, 2 * H, 3 * H];
        let c = curve(100.0, &eq, &ts, 4.0);
        near(c.total_return, 0.089);
        near(c.annual_return, 1.089f64.powf(4.0 / 3.0) - 1.0);
        near(c.volatility, 0.2309401076758503);
        near(c.sharpe, 0.5773502691896258);
        near(c.sortino, 1.1547005383792517);
        near(c.max_drawdown, 0.1);
        assert_eq!((c.max_drawdown_bars, c.max_drawdown_ms), (2, 2 * H));
    }

    #[test]
    fn longest_stretch_under_water_ends_at_recovery() {
        // Peaks: 10 (bar 0) until 10 again at bar 3: 3 bars; then 12 at bar 4, 11 at bar 5 to the
        // end (bar 6): 2 bars. The deepest fall is 2/12 at bar 6, not the longest stretch.
        let eq = [10.0, 9.5, 9.8, 10.0, 12.0, 11.0, 10.0];
        let ts: Vec<i64> = (0..7).map(|i| i * D).collect();
        let c = curve(10.0, &eq, &ts, 252.0);
        assert_eq!((c.max_drawdown_bars, c.max_drawdown_ms), (3, 3 * D));
        near(c.max_drawdown, 2.0 / 12.0);
    }

    #[test]
    fn degenerate_curves_are_zero_not_nan() {
        let one = curve(100.0, &[100.0], &[0], 252.0);
        assert_eq!(
            (one.annual_return, one.volatility, one.sharpe, one.sortino),
            (0.0, 0.0, 0.0, 0.0)
        );
        // Only gains: no downside, sortino 0. Annualising 2 bars at a million a year overflows: 0.
        let up = curve(100.0, &[100.0, 200.0], &[0, 1], 1e6);
        assert_eq!((up.sortino, up.annual_return), (0.0, 0.0));
        // A blown-up short: equity below zero clamps the drawdown at 1 and the annual return at -1.
        let bust = curve(100.0, &[100.0, -20.0, -30.0], &[0, 1, 2], 252.0);
        assert_eq!((bust.max_drawdown, bust.annual_return), (1.0, -1.0));
        assert!(bust.sharpe.is_finite());
    }

    /// Bar open times from `start` (ms) every `step` over `days`, kept where `open(ts)` says.
    fn bars(days: i64, step: i64, open: impl Fn(i64) -> bool) -> Vec<i64> {
        (0..days * D / step)
            .map(|i| i * step)
            .filter(|&t| open(t))
            .collect()
    }

    /// Day of week with 0 = Monday; the epoch (1970-01-01) was a Thursday.
    fn weekday(ms: i64) -> i64 {
        (ms / D + 3) % 7
    }

    #[test]
    fn forex_hours_are_about_6200_a_year() {
        // 24x5: Sunday 22:00 to Friday 22:00 UTC is 120 hours a week; 120 * 365.25 / 7 = 6261.4.
        let fx = bars(364, H, |t| {
            let (d, h) = (weekday(t), (t % D) / H);
            match d {
                4 => h < 22,
                5 => false,
                6 => h >= 22,
                _ => true,
            }
        });
        let ppy = periods_per_year(&fx, H);
        assert!((ppy - 6261.4).abs() < 0.01 * 6261.4, "{ppy}");
    }

    #[test]
    fn stock_days_are_about_261_a_year() {
        // Weekdays only (no holidays here): 5 * 365.25 / 7 = 260.9.
        let days = bars(728, D, |t| weekday(t) < 5);
        let ppy = periods_per_year(&days, D);
        assert!((ppy - 260.9).abs() < 0.01 * 260.9, "{ppy}");
        // Seven 1h bars a weekday (09:30 .. 15:30 opens): 7 * 260.9 = 1826.
        let hours = bars(728, H / 2, |t| {
            let half = (t % D) / (H / 2);
            weekday(t) < 5 && (19..=31).contains(&half) && half % 2 == 1
        });
        let ppy = periods_per_year(&hours, H);
        assert!((ppy - 1826.3).abs() < 0.01 * 1826.3, "{ppy}");
    }

    #[test]
    fn short_spans_use_the_calendar() {
        let week: Vec<i64> = (0..100).map(|i| i * H).collect();
        near(periods_per_year(&week, H), 8766.0);
        near(periods_per_year(&[], D), 365.25);
        assert_eq!(periods_per_year(&[0, 1], 0), 0.0);
    }
}
