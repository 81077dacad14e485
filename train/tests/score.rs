//! No look-ahead through the whole decision path a backtest uses: features (indicators, fuzzy sets,
//! lags, coarser timeframes aligned onto the base), the stored network, and the engine. Bars after
//! a time t are altered; every probability and every equity value up to t must stay bit-identical.

use ktrdr_backtest::{Config, Prices, engine};
use ktrdr_market::resample::resample;
use ktrdr_market::{Bars, Timeframe};
use ktrdr_train::ModelStore;
use ktrdr_train::pipeline;
use ktrdr_train::score::score;
use std::sync::Arc;
use tch::Device;

/// Many indicators (including ones with long recursions) on two timeframes.
const STRATEGY: &str = r#"
name: lookahead
training_data: {symbols: {list: [SINE]}, timeframes: {list: [1h, 4h]}}
indicators:
  - {name: rsi, period: 14, source: close}
  - {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}
  - {name: atr, period: 14}
  - {name: roc, period: 1, source: close}
fuzzy_sets:
  rsi: {low: {type: triangular, parameters: [0, 30, 50]}, high: {type: triangular, parameters: [50, 70, 100]}}
  macd: {neg: {type: triangular, parameters: [-3, -1, 0]}, pos: {type: triangular, parameters: [0, 1, 3]}}
  atr: {calm: {type: trapezoidal, parameters: [0, 0, 0.3, 0.6]}, wild: {type: trapezoidal, parameters: [0.3, 0.6, 5, 6]}}
  roc: {up: {type: gaussian, parameters: [0.5, 0.5]}, down: {type: gaussian, parameters: [-0.5, 0.5]}}
model: {type: mlp, architecture: {hidden_layers: [16, 8], activation: relu, dropout: 0.0}, features: {lookback_periods: 2}, training: {learning_rate: 0.01, batch_size: 64, epochs: 2, optimizer: adam, seed: 3}}
decisions: {confidence_threshold: 0.34, position_awareness: true, filters: {min_signal_separation: 2}}
training: {labels: {source: zigzag, zigzag_threshold: 0.02}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

fn noisy_sine(n: usize, seed: u64) -> Bars {
    let mut x = seed | 1;
    let mut noise = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 10_000) as f64 / 10_000.0 - 0.5
    };
    let t0 = 1_600_000_000_000i64 - 1_600_000_000_000i64 % 14_400_000;
    let (mut ts, mut o, mut h, mut l, mut c, mut v) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut prev: f64 = 100.0;
    for i in 0..n {
        let close = 100.0 * (1.0 + 0.05 * (i as f64 / 40.0).sin()) + noise();
        ts.push(t0 + i as i64 * 3_600_000);
        o.push(prev);
        c.push(close);
        h.push(prev.max(close) + 0.2);
        l.push(prev.min(close) - 0.2);
        v.push(1000.0 + 100.0 * noise());
        prev = close;
    }
    Bars::from_columns(ts, o, h, l, c, v).unwrap()
}

/// `bars` with every bar after index `t` replaced by a different random path.
fn altered_after(bars: &Bars, t: usize, seed: u64) -> Bars {
    let other = noisy_sine(bars.len(), seed);
    let pick = |a: &[f64], b: &[f64]| -> Vec<f64> {
        a.iter()
            .zip(b)
            .enumerate()
            .map(|(i, (x, y))| if i <= t { *x } else { y * 1.3 })
            .collect()
    };
    let (o, c) = (
        pick(bars.open(), other.open()),
        pick(bars.close(), other.close()),
    );
    let h: Vec<f64> = pick(bars.high(), other.high())
        .iter()
        .zip(o.iter().zip(&c))
        .map(|(h, (o, c))| h.max(o.max(*c)))
        .collect();
    let l: Vec<f64> = pick(bars.low(), other.low())
        .iter()
        .zip(o.iter().zip(&c))
        .map(|(l, (o, c))| l.min(o.min(*c)))
        .collect();
    Bars::from_columns(
        bars.ts().to_vec(),
        o,
        h,
        l,
        c,
        pick(bars.volume(), other.volume()),
    )
    .unwrap()
}

fn series(base: &Bars) -> Vec<(Timeframe, Arc<Bars>)> {
    let coarse = resample(base, Timeframe::H1, Timeframe::H4).unwrap();
    vec![
        (Timeframe::H1, Arc::new(base.clone())),
        (Timeframe::H4, Arc::new(coarse)),
    ]
}

#[test]
fn altering_bars_after_t_changes_nothing_up_to_t() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::new(dir.path());
    let bars = noisy_sine(2000, 11);
    let plan = pipeline::plan(STRATEGY, None, None).unwrap();
    let out = pipeline::run(
        &plan,
        &[("SINE".to_string(), series(&bars))],
        Device::Cpu,
        &store,
        &mut |_| {},
        &|| false,
    )
    .unwrap();
    let name = out.metadata.name;
    let full = score(
        &store,
        &name,
        "SINE",
        &series(&bars),
        &mut |_, _| {},
        &|| false,
    )
    .unwrap();
    let first = full.first_defined.expect("features become defined");
    let cfg = Config {
        confidence_threshold: full.rules.confidence_threshold,
        min_signal_separation: full.rules.min_signal_separation,
        periods_per_year: 6000.0,
        ..Config::default()
    };
    let prices = |b: &Bars| -> (Vec<i64>, [Vec<f64>; 4]) {
        (
            b.ts().to_vec(),
            [
                b.open().to_vec(),
                b.high().to_vec(),
                b.low().to_vec(),
                b.close().to_vec(),
            ],
        )
    };
    let run = |b: &Bars, probs: &[[f32; 3]]| {
        let (ts, [o, h, l, c]) = prices(b);
        engine::run(
            Prices {
                ts: &ts,
                open: &o,
                high: &h,
                low: &l,
                close: &c,
            },
            probs,
            &cfg,
        )
        .unwrap()
    };
    let base_outcome = run(&bars, &full.probs);
    assert!(
        base_outcome.acted > 0,
        "the model acts, so decisions are really compared"
    );
    // Mid-4h-bar times too (t % 4 != 3), where a coarse bar that has not closed must stay unseen.
    for (k, t) in [first + 1, first + 2, 777, 1001, 1502, 1998]
        .into_iter()
        .enumerate()
    {
        let changed = altered_after(&bars, t, 100 + k as u64);
        let again = score(
            &store,
            &name,
            "SINE",
            &series(&changed),
            &mut |_, _| {},
            &|| false,
        )
        .unwrap();
        for i in 0..=t {
            let (a, b) = (full.probs[i], again.probs[i]);
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "t = {t}: probabilities at bar {i} changed: {a:?} -> {b:?}"
            );
        }
        assert_ne!(
            full.probs[t + 1..],
            again.probs[t + 1..],
            "t = {t}: the alteration reached the model"
        );
        let o = run(&changed, &again.probs);
        for i in 0..t {
            // Equity at bar i's close: bar t's close may already hold a fill at t's open... which
            // was decided at t-1, so everything before t is fixed.
            assert_eq!(
                base_outcome.equity[i].to_bits(),
                o.equity[i].to_bits(),
                "t = {t}: equity at {i}"
            );
        }
        let entered = |trades: &[ktrdr_backtest::Trade]| -> Vec<(usize, i64)> {
            trades
                .iter()
                .filter(|tr| tr.entry_index <= t)
                .map(|tr| (tr.entry_index, tr.entry_price.to_bits() as i64))
                .collect()
        };
        assert_eq!(
            entered(&base_outcome.trades),
            entered(&o.trades),
            "t = {t}: entries up to t"
        );
    }
}
