//! The engine on short scripted series whose every number is worked out by hand in the comments.

use ktrdr_backtest::{Config, ConfigError, Prices, Side, run};

const H: i64 = 3_600_000;
const B: [f32; 3] = [0.8, 0.1, 0.1];
const O: [f32; 3] = [0.1, 0.8, 0.1]; // HOLD
const S: [f32; 3] = [0.1, 0.1, 0.8];

fn close_to(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

macro_rules! near {
    ($a:expr, $b:expr) => {{
        let (a, b): (f64, f64) = ($a, $b);
        assert!(close_to(a, b), "{} = {a}, expected {b}", stringify!($a));
    }};
}

struct Bars {
    ts: Vec<i64>,
    open: Vec<f64>,
    close: Vec<f64>,
}

impl Bars {
    fn new(open: &[f64], close: &[f64]) -> Bars {
        Bars {
            ts: (0..open.len() as i64).map(|i| i * H).collect(),
            open: open.to_vec(),
            close: close.to_vec(),
        }
    }
    fn prices(&self) -> Prices<'_> {
        // high/low play no part in the rules; any equal-length column does.
        Prices {
            ts: &self.ts,
            open: &self.open,
            high: &self.close,
            low: &self.open,
            close: &self.close,
        }
    }
}

fn scripted_cfg() -> Config {
    Config {
        capital: 10_100.0,
        commission: 0.001,
        slippage: 0.01,
        position_fraction: 0.5,
        allow_short: false,
        confidence_threshold: 0.6,
        position_awareness: true,
        min_signal_separation: 0,
        periods_per_year: 252.0,
    }
}

#[test]
fn scripted_long_only_round_trips() {
    let bars = Bars::new(
        &[100.0, 100.0, 104.0, 120.0, 100.0, 90.0, 93.0, 96.0],
        &[100.0, 102.0, 110.0, 115.0, 98.0, 92.0, 95.0, 100.0],
    );
    //           t0 t1 t2 t3 t4 t5 t6 t7 (t7's SELL has no next bar: ignored)
    let probs = [B, O, S, B, S, O, B, S];
    let out = run(bars.prices(), &probs, &scripted_cfg()).unwrap();

    // Trade 1: BUY at t0 fills at t1's open 100 * 1.01 = 101. Quantity 0.5 * 10100 / 101 = 50.
    // Entry commission 0.001 * 101 * 50 = 5.05; cash 10100 - 5050 - 5.05 = 5044.95.
    // SELL at t2 fills at t3's open 120 * 0.99 = 118.8; commission 0.001 * 118.8 * 50 = 5.94.
    // pnl = 50 * (118.8 - 101) - 5.05 - 5.94 = 890 - 10.99 = 879.01; cash 10979.01.
    // Slippage 50 * 100 * 0.01 + 50 * 120 * 0.01 = 110. return 879.01 / (50 * 101) = 0.174061386...
    let t = &out.trades[0];
    assert_eq!(t.side, Side::Long);
    assert_eq!((t.entry_index, t.exit_index, t.bars_held), (1, 3, 2));
    assert_eq!((t.entry_ms, t.exit_ms), (H, 3 * H));
    near!(t.entry_price, 101.0);
    near!(t.exit_price, 118.8);
    near!(t.quantity, 50.0);
    near!(t.commission, 10.99);
    near!(t.slippage, 110.0);
    near!(t.pnl, 879.01);
    near!(t.return_pct, 879.01 / 5050.0);

    // Trade 2: BUY at t3 (flat, separation 0) fills at t4's open 100 * 1.01 = 101, sized on t3's
    // equity 10979.01: quantity 5489.505 / 101 = 54.35153465346535, entry commission 5.489505,
    // cash 10979.01 - 5489.505 - 5.489505 = 5484.015495.
    // t4 close 98: equity 5484.015495 + 54.35153465346535 * 98 = 10810.465891039605.
    // SELL at t4 fills at t5's open 90 * 0.99 = 89.1: commission 0.001 * 89.1 * q = 4.842721737623763.
    // pnl = q * (89.1 - 101) - 5.489505 - 4.842721737623763 = -657.1154891138617; cash
    // 10979.01 - 657.1154891138617 = 10321.894510886139. Slippage q * (100 + 90) * 0.01.
    let t = &out.trades[1];
    assert_eq!((t.entry_index, t.exit_index), (4, 5));
    near!(t.quantity, 54.35153465346535);
    near!(t.commission, 5.489505 + 4.842721737623763);
    near!(t.slippage, 54.35153465346535 * 1.9);
    near!(t.pnl, -657.1154891138617);
    near!(
        t.return_pct,
        -657.1154891138617 / (54.35153465346535 * 101.0)
    );

    // Trade 3: BUY at t6 fills at t7's open 96 * 1.01 = 96.96; quantity 0.5 * 10321.894510886139 /
    // 96.96 = 53.227591330889744, commission 5.1609472554430695. Still open after the loop: closed
    // at t7's close 100 * 0.99 = 99, commission 0.001 * 99 * q = 5.269531541758085.
    // pnl = q * (99 - 96.96) - 5.1609... - 5.2695... = 98.15380751781424.
    let t = &out.trades[2];
    assert_eq!((t.entry_index, t.exit_index, t.bars_held), (7, 7, 0));
    near!(t.entry_price, 96.96);
    near!(t.exit_price, 99.0);
    near!(t.quantity, 53.227591330889744);
    near!(t.commission, 10.430478797201154);
    near!(t.slippage, 53.227591330889744 * (96.0 + 100.0) * 0.01);
    near!(t.pnl, 98.15380751781424);
    assert_eq!(out.trades.len(), 3);

    // Equity at each close: t0 cash; t1, t2 cash 5044.95 + 50 * close; t3 flat 10979.01;
    // t4 marked above; t5, t6 flat; t7 after the final close: 10100 + sum(pnl) = 10420.048318403955.
    let expected = [
        10_100.0,
        10_144.95,
        10_544.95,
        10_979.01,
        10_810.465891039605,
        10_321.894510886139,
        10_321.894510886139,
        10_420.048318403955,
    ];
    assert_eq!(out.equity.len(), expected.len());
    for (got, want) in out.equity.iter().zip(expected) {
        near!(*got, want);
    }

    let m = &out.metrics;
    // 10420.048318403955 / 10100 - 1.
    near!(m.total_return, 0.03168795231722332);
    // Peak 10979.01 at t3, trough 10321.894510886139 at t5: (10979.01 - 10321.8945...) / 10979.01.
    near!(m.max_drawdown, 0.05985198019801979);
    // Under the t3 peak until the end (t7 10420.05 < 10979.01): 4 bars, 4 hours.
    assert_eq!((m.max_drawdown_bars, m.max_drawdown_ms), (4, 4 * H));
    // Two winners of three; positions held at the closes of t1, t2, t4, t7: 4 of 8 bars.
    near!(m.win_rate, 2.0 / 3.0);
    near!(m.exposure, 0.5);
    near!(m.gross_profit, 879.01 + 98.15380751781424);
    near!(m.gross_loss, 657.1154891138617);
    near!(
        m.profit_factor,
        (879.01 + 98.15380751781424) / 657.1154891138617
    );
    near!(m.avg_win, (879.01 + 98.15380751781424) / 2.0);
    near!(m.avg_loss, -657.1154891138617);
    near!(m.avg_holding_bars, (2.0 + 1.0 + 0.0) / 3.0);
    near!(m.avg_holding_ms, 3.0 * H as f64 / 3.0);
    near!(
        m.total_commission,
        10.99 + 10.332226737623763 + 10.430478797201154
    );
    near!(m.end_equity, 10_420.048318403955);
    // (1 + 0.0316879...)^(252 / 7) - 1.
    near!(
        m.annual_return,
        1.031_687_952_317_223_3_f64.powf(36.0) - 1.0
    );
    near!(m.calmar, m.annual_return / 0.05985198019801979);

    // Per-bar actions t0..t7: B H S B S H B S; acted: every one but t7's.
    assert_eq!(out.actions, [3, 2, 3]);
    assert_eq!(out.acted, 5);
}

#[test]
fn no_trades_keeps_equity_flat() {
    let bars = Bars::new(&[10.0, 11.0, 9.0, 12.0], &[11.0, 9.0, 12.0, 10.0]);
    let probs = [O, [f32::NAN; 3], O, O];
    let out = run(bars.prices(), &probs, &scripted_cfg()).unwrap();
    assert!(out.trades.is_empty());
    assert_eq!(out.equity, vec![10_100.0; 4]);
    let m = &out.metrics;
    assert_eq!(
        (
            m.total_return,
            m.sharpe,
            m.sortino,
            m.max_drawdown,
            m.exposure
        ),
        (0.0, 0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!((m.trades, m.win_rate, m.profit_factor), (0, 0.0, 0.0));
    assert_eq!(out.actions, [0, 4, 0]);
    assert_eq!(out.acted, 0);
}

#[test]
fn always_in_enters_at_bar_one_and_closes_at_the_last_close() {
    let cfg = Config {
        commission: 0.0,
        slippage: 0.0,
        position_fraction: 1.0,
        capital: 1_000.0,
        ..scripted_cfg()
    };
    let bars = Bars::new(&[50.0, 40.0, 45.0, 60.0], &[45.0, 42.0, 55.0, 50.0]);
    let out = run(bars.prices(), &[B; 4], &cfg).unwrap();
    // Enters at t1's open 40 with 1000 / 40 = 25 units; t1 42 -> 1050, t2 55 -> 1375; closed at t3's
    // close 50 -> 1250, pnl 25 * 10 = 250.
    assert_eq!(out.trades.len(), 1);
    let t = &out.trades[0];
    assert_eq!((t.entry_index, t.exit_index), (1, 3));
    near!(t.quantity, 25.0);
    near!(t.pnl, 250.0);
    assert_eq!(out.equity, vec![1_000.0, 1_050.0, 1_375.0, 1_250.0]);
    // Later BUYs while long are HOLD (awareness): one BUY at t0, then three HOLDs.
    assert_eq!(out.actions, [1, 3, 0]);
    near!(out.metrics.exposure, 0.75);
    // Peak 1375 at t2, 1250 at t3: (1375 - 1250) / 1375.
    near!(out.metrics.max_drawdown, 125.0 / 1375.0);
    near!(out.metrics.total_return, 0.25);

    // Buy-and-hold (no costs): 1000 / 50 = 20 units at t0's open, marked 20 * close.
    assert_eq!(out.buy_hold.equity, vec![900.0, 840.0, 1_100.0, 1_000.0]);
    near!(out.buy_hold.total_return, 0.0);
    // Peak starts at the capital 1000; 840 is the low before 1100: 160 / 1000.
    near!(out.buy_hold.max_drawdown, 0.16);
}

#[test]
fn buy_hold_pays_both_costs() {
    let cfg = Config {
        capital: 1_000.0,
        commission: 0.01,
        slippage: 0.02,
        ..scripted_cfg()
    };
    let bars = Bars::new(&[100.0, 100.0], &[100.0, 110.0]);
    let out = run(bars.prices(), &[O, O], &cfg).unwrap();
    // Buy at 100 * 1.02 = 102; q = 1000 / (102 * 1.01) = 9.706853038245001; cash 0.
    // t0: q * 100 = 970.6853038245001. t1: sell at 110 * 0.98 = 107.8, less 1%:
    // q * 107.8 * 0.99 = q * 106.722 = 1035.934769947583.
    let q = 1_000.0 / (102.0 * 1.01);
    near!(q, 9.706_853_038_245);
    near!(out.buy_hold.equity[0], 970.6853038245001);
    near!(out.buy_hold.equity[1], 1035.934769947583);
    near!(out.buy_hold.total_return, 0.035934769947583);
}

#[test]
fn threshold_turns_weak_signals_into_hold() {
    let bars = Bars::new(&[10.0; 4], &[10.0; 4]);
    let weak = [0.55, 0.25, 0.2];
    let out = run(bars.prices(), &[weak; 4], &scripted_cfg()).unwrap();
    assert_eq!((out.trades.len(), out.actions), (0, [0, 4, 0]));
    let lower = Config {
        confidence_threshold: 0.5,
        ..scripted_cfg()
    };
    let out = run(bars.prices(), &[weak; 4], &lower).unwrap();
    assert_eq!((out.trades.len(), out.actions[0]), (1, 1));
}

#[test]
fn position_awareness_on_and_off() {
    let bars = Bars::new(&[10.0; 6], &[10.0; 6]);
    let probs = [B, B, B, S, S, O];
    let aware = run(bars.prices(), &probs, &scripted_cfg()).unwrap();
    // BUY t0 (fill t1), BUYs at t1, t2 while long -> HOLD, SELL t3 (fill t4), SELL t4 while flat
    // (long-only) -> HOLD.
    assert_eq!(aware.actions, [1, 4, 1]);
    assert_eq!(aware.acted, 2);
    assert_eq!(aware.trades.len(), 1);
    assert_eq!(
        (aware.trades[0].entry_index, aware.trades[0].exit_index),
        (1, 4)
    );

    let unaware = Config {
        position_awareness: false,
        ..scripted_cfg()
    };
    let out = run(bars.prices(), &probs, &unaware).unwrap();
    // The redundant signals stay BUY/SELL but change nothing: same trade, same fills.
    assert_eq!(out.actions, [3, 1, 2]);
    assert_eq!(out.acted, 2);
    assert_eq!(out.trades, aware.trades);
}

#[test]
fn min_separation_delays_the_exit() {
    let bars = Bars::new(&[10.0; 8], &[10.0; 8]);
    let cfg = Config {
        min_signal_separation: 3,
        ..scripted_cfg()
    };
    let probs = [B, S, S, S, S, O, O, O];
    let out = run(bars.prices(), &probs, &cfg).unwrap();
    // Acted BUY at t0. SELL at t1 (1 bar since), t2 (2) -> HOLD; t3 (3 >= 3) acts, fills at t4.
    assert_eq!(out.actions, [1, 6, 1]);
    assert_eq!(out.trades.len(), 1);
    assert_eq!(
        (out.trades[0].entry_index, out.trades[0].exit_index),
        (1, 4)
    );
}

#[test]
fn long_short_reversals() {
    let cfg = Config {
        capital: 10_000.0,
        commission: 0.001,
        slippage: 0.0,
        position_fraction: 0.5,
        allow_short: true,
        min_signal_separation: 0,
        ..scripted_cfg()
    };
    let bars = Bars::new(
        &[100.0, 100.0, 110.0, 100.0, 90.0],
        &[100.0, 105.0, 108.0, 95.0, 92.0],
    );
    let out = run(bars.prices(), &[S, B, S, O, O], &cfg).unwrap();
    assert_eq!(out.trades.len(), 3);
    let sides: Vec<Side> = out.trades.iter().map(|t| t.side).collect();
    assert_eq!(sides, [Side::Short, Side::Long, Side::Short]);

    // SELL from flat at t0: short 5000 / 100 = 50 at t1's open, commission 5; cash 14995.
    // t1 close 105: equity 14995 - 50 * 105 = 9745.
    // BUY at t1 -> t2 open 110: cover (50 * 110 + 5.5 = 5505.5; cash 9489.5), pnl
    // 50 * (100 - 110) - 5 - 5.5 = -510.5; then long 0.5 * 9745 / 110 = 44.29545454545455,
    // commission 4.8725, cash 9489.5 - 4872.5 - 4.8725 = 4612.1275; t2 equity at 108: 9396.03659090909.
    // SELL at t2 -> t3 open 100: pnl 44.295... * (100 - 110) - 4.8725 - 4.4295... = -452.25659090909096;
    // then short 0.5 * 9396.03659090909 / 100 = 46.980182954545455; t3 equity at 95: 9267.44630556818.
    // Closed at t4's close 92: pnl q * 8 - 4.698... - 4.322... = 366.82126850909094; end 9404.0646776.
    let t = &out.trades;
    assert_eq!((t[0].entry_index, t[0].exit_index), (1, 2));
    assert_eq!((t[1].entry_index, t[1].exit_index), (2, 3));
    assert_eq!((t[2].entry_index, t[2].exit_index), (3, 4));
    near!(t[0].quantity, 50.0);
    near!(t[0].pnl, -510.5);
    near!(t[1].quantity, 44.29545454545455);
    near!(t[1].pnl, -452.25659090909096);
    near!(t[2].quantity, 46.980182954545455);
    near!(t[2].pnl, 366.82126850909094);
    let expected = [
        10_000.0,
        9_745.0,
        9_396.03659090909,
        9_267.44630556818,
        9_404.0646776,
    ];
    for (got, want) in out.equity.iter().zip(expected) {
        near!(*got, want);
    }
    assert_eq!(out.acted, 3);
    near!(out.metrics.exposure, 1.0 - 1.0 / 5.0);
}

#[test]
fn long_only_sell_closes_without_shorting() {
    let bars = Bars::new(&[10.0; 5], &[10.0; 5]);
    let out = run(bars.prices(), &[B, S, O, O, O], &scripted_cfg()).unwrap();
    assert_eq!(out.trades.len(), 1);
    // Flat from t2 on: exposure 1 bar (t1) of 5.
    near!(out.metrics.exposure, 0.2);
}

#[test]
fn refuses_bad_inputs() {
    let bars = Bars::new(&[10.0; 3], &[10.0; 3]);
    assert!(matches!(
        run(bars.prices(), &[O; 2], &scripted_cfg()),
        Err(ConfigError::Lengths(_))
    ));
    let empty = Bars::new(&[], &[]);
    assert!(matches!(
        run(empty.prices(), &[], &scripted_cfg()),
        Err(ConfigError::Lengths(_))
    ));
    let mut unsorted = Bars::new(&[10.0; 3], &[10.0; 3]);
    unsorted.ts[2] = unsorted.ts[1];
    assert!(matches!(
        run(unsorted.prices(), &[O; 3], &scripted_cfg()),
        Err(ConfigError::Invalid { field: "ts", .. })
    ));
    let zero = Bars::new(&[10.0, 0.0, 10.0], &[10.0; 3]);
    assert!(matches!(
        run(zero.prices(), &[O; 3], &scripted_cfg()),
        Err(ConfigError::Invalid { field: "open", .. })
    ));
    let bad = Config {
        slippage: 0.2,
        ..scripted_cfg()
    };
    assert!(matches!(
        run(bars.prices(), &[O; 3], &bad),
        Err(ConfigError::Invalid {
            field: "slippage",
            ..
        })
    ));
}

#[test]
fn outcome_round_trips_through_json() {
    // Only winners: the profit factor has no denominator and must still be a JSON number.
    let bars = Bars::new(&[10.0, 10.0, 20.0], &[10.0, 20.0, 20.0]);
    let out = run(bars.prices(), &[B, O, O], &scripted_cfg()).unwrap();
    assert_eq!(out.metrics.trades, 1);
    assert_eq!(out.metrics.gross_loss, 0.0);
    assert_eq!(out.metrics.profit_factor, 0.0);
    assert!(out.metrics.gross_profit > 0.0);
    let json = serde_json::to_string(&out).unwrap();
    let back: ktrdr_backtest::Outcome = serde_json::from_str(&json).unwrap();
    // serde_json's default parser may be off in the last bit; the shape and values come back.
    assert_eq!(back.trades.len(), 1);
    assert_eq!(back.metrics.profit_factor, 0.0);
    near!(back.metrics.end_equity, out.metrics.end_equity);
    near!(back.metrics.gross_profit, out.metrics.gross_profit);
}
