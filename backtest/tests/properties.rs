//! Properties over random prices, probabilities and settings: the accounting invariant, no
//! look-ahead, and bounded metrics.

use ktrdr_backtest::{Config, Outcome, Prices, Side, run};
use proptest::prelude::*;

const H: i64 = 3_600_000;

#[derive(Debug, Clone)]
struct Series {
    ts: Vec<i64>,
    open: Vec<f64>,
    close: Vec<f64>,
    probs: Vec<[f32; 3]>,
}

impl Series {
    fn prices(&self) -> Prices<'_> {
        Prices {
            ts: &self.ts,
            open: &self.open,
            high: &self.close,
            low: &self.open,
            close: &self.close,
        }
    }
    fn run(&self, cfg: &Config) -> Outcome {
        match run(self.prices(), &self.probs, cfg) {
            Ok(out) => out,
            Err(e) => panic!("valid input refused: {e}"),
        }
    }
}

/// A bar: gap from the previous close to the open, move from open to close, and a probability row
/// (NaN for about one bar in eight, as while features warm up).
fn bar() -> impl Strategy<Value = (f64, f64, [f32; 3])> {
    let row = prop_oneof![
        1 => Just([f32::NAN; 3]),
        7 => (0.0f32..1.0, 0.0f32..1.0, 0.0f32..1.0).prop_map(|(a, b, c)| {
            let s = a + b + c + 1e-6;
            [a / s, b / s, c / s]
        }),
    ];
    (-0.02f64..0.02, -0.08f64..0.08, row)
}

fn series(bars: Vec<(f64, f64, [f32; 3])>, start: f64) -> Series {
    let mut s = Series {
        ts: Vec::new(),
        open: Vec::new(),
        close: Vec::new(),
        probs: Vec::new(),
    };
    let mut last = start;
    for (i, (gap, step, row)) in bars.into_iter().enumerate() {
        let open = last * (1.0 + gap);
        last = open * (1.0 + step);
        s.ts.push(i as i64 * H);
        s.open.push(open);
        s.close.push(last);
        s.probs.push(row);
    }
    s
}

fn config() -> impl Strategy<Value = Config> {
    (
        any::<bool>(),
        any::<bool>(),
        0usize..6,
        0.0f64..0.7,
        0.05f64..=1.0,
        0.0f64..0.01,
        0.0f64..0.01,
    )
        .prop_map(
            |(allow_short, position_awareness, sep, threshold, fraction, commission, slippage)| {
                Config {
                    capital: 50_000.0,
                    commission,
                    slippage,
                    position_fraction: fraction,
                    allow_short,
                    confidence_threshold: threshold,
                    position_awareness,
                    min_signal_separation: sep,
                    periods_per_year: 6_200.0,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn end_equity_is_capital_plus_trade_pnl(
        bars in prop::collection::vec(bar(), 1..80),
        cfg in config(),
    ) {
        let s = series(bars, 100.0);
        let out = s.run(&cfg);
        let pnl: f64 = out.trades.iter().map(|t| t.pnl).sum();
        let end = out.metrics.end_equity;
        // Rounding grows with the money moved, not with the (possibly tiny) difference.
        let moved: f64 = out.trades.iter().map(|t| t.quantity * (t.entry_price + t.exit_price)).sum();
        prop_assert!((end - (cfg.capital + pnl)).abs() <= 1e-9 * (cfg.capital + moved),
            "end {end} vs capital + pnl {}", cfg.capital + pnl);
        prop_assert_eq!(out.equity.len(), s.close.len());
        prop_assert_eq!(out.equity.last().copied(), Some(end));
        prop_assert_eq!(out.actions.iter().sum::<usize>(), s.close.len());
        // Every acted decision fills at least once; a trade needs at least one.
        prop_assert!(out.trades.len() <= out.acted + 1);
        for t in &out.trades {
            prop_assert!(t.exit_index >= t.entry_index && t.quantity > 0.0);
            prop_assert!(t.commission >= 0.0 && t.slippage >= 0.0);
        }
        if !cfg.allow_short {
            prop_assert!(out.trades.iter().all(|t| t.side == Side::Long));
        }
    }

    #[test]
    fn metrics_stay_in_range_and_serialise(
        bars in prop::collection::vec(bar(), 1..80),
        cfg in config(),
    ) {
        let s = series(bars, 100.0);
        let out = s.run(&cfg);
        let m = &out.metrics;
        prop_assert!((0.0..=1.0).contains(&m.max_drawdown));
        prop_assert!((0.0..=1.0).contains(&out.buy_hold.max_drawdown));
        prop_assert!((0.0..=1.0).contains(&m.exposure));
        prop_assert!((0.0..=1.0).contains(&m.win_rate));
        prop_assert!(m.max_drawdown_bars < s.close.len());
        // Every number must be finite, or JSON readers get null where a number was promised.
        let json = serde_json::to_string(&out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Outcome = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // serde_json's default parser may be off in the last bit; only the shape must survive.
        prop_assert_eq!(back.trades.len(), out.trades.len());
        prop_assert_eq!(back.equity.len(), out.equity.len());
    }

    #[test]
    fn later_bars_do_not_change_the_past(
        bars in prop::collection::vec(bar(), 2..60),
        other in prop::collection::vec(bar(), 60),
        cut in 0usize..60,
        cfg in config(),
    ) {
        let s = series(bars, 100.0);
        let n = s.close.len();
        let t = cut % n;
        // Same bars up to and including t; everything after t replaced (other prices, other probs).
        let mut alt = series(other, 80.0);
        alt.ts = s.ts.clone();
        alt.open.truncate(n);
        alt.close.truncate(n);
        alt.probs.truncate(n);
        alt.open[..=t].copy_from_slice(&s.open[..=t]);
        alt.close[..=t].copy_from_slice(&s.close[..=t]);
        alt.probs[..=t].copy_from_slice(&s.probs[..=t]);

        let (a, b) = (s.run(&cfg), alt.run(&cfg));
        if t + 1 < n {
            // The last bar's value includes the final close, which differs only if t is not last.
            prop_assert_eq!(&a.equity[..=t], &b.equity[..=t]);
        }
        let closed = |o: &Outcome| o.trades.iter().filter(|x| x.exit_index <= t && x.exit_index < n - 1).cloned().collect::<Vec<_>>();
        prop_assert_eq!(closed(&a), closed(&b));
        let entered = |o: &Outcome| o.trades.iter().filter(|x| x.entry_index <= t)
            .map(|x| (x.side, x.entry_index, x.entry_ms, x.entry_price, x.quantity)).collect::<Vec<_>>();
        let (ea, eb) = (entered(&a), entered(&b));
        prop_assert_eq!(ea, eb);
        // What fills at t+1's open was decided at t's close: whether it happens and on which side
        // cannot depend on bar t+1 (only its price can). This is what catches a decision that
        // peeks at the next row of probabilities.
        let decided = |o: &Outcome| {
            let mut fills: Vec<(usize, bool)> = o.trades.iter()
                .flat_map(|x| [(x.entry_index, x.side == Side::Long), (x.exit_index, x.side != Side::Long)])
                .filter(|&(i, _)| i <= t + 1 && i < n - 1)
                .collect();
            fills.sort_unstable();
            fills
        };
        prop_assert_eq!(decided(&a), decided(&b));
    }
}
