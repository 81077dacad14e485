//! The predecessor's example strategy, and a multi-timeframe variant, from YAML to a feature matrix
//! and a split dataset on the EURUSD 1h sample.

mod common;

use common::sample;
use ktrdr_market::Timeframe;
use ktrdr_market::resample::resample;
use ktrdr_strategy::dataset::prepare;
use ktrdr_strategy::features::build;
use ktrdr_strategy::labels::Label;
use ktrdr_strategy::load;

/// The example from the issue, verbatim.
const EXAMPLE: &str = r#"
name: rsi_mean_reversion
version: "2.0"
training_data: {symbols: {mode: multi_symbol, list: [EURUSD, GBPUSD]}, timeframes: {mode: multi_timeframe, list: [15m, 1h, 4h], base_timeframe: 15m}, history_required: 200}
indicators: [{name: rsi, period: 14, source: close}, {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}]
fuzzy_sets: {rsi: {oversold: {type: triangular, parameters: [0, 20, 35]}, neutral: {type: triangular, parameters: [30, 50, 70]}, overbought: {type: triangular, parameters: [65, 80, 100]}}}
model: {type: mlp, architecture: {hidden_layers: [50, 25], activation: relu, dropout: 0.2}, features: {lookback_periods: 2}, training: {learning_rate: 0.001, batch_size: 32, epochs: 100, optimizer: adam, early_stopping: {patience: 10, min_delta: 0.0001}}}
decisions: {confidence_threshold: 0.6, position_awareness: true, filters: {min_signal_separation: 4}}
training: {labels: {source: zigzag, zigzag_threshold: 0.03}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

const EXAMPLE_TIMEFRAMES: &str =
    "timeframes: {mode: multi_timeframe, list: [15m, 1h, 4h], base_timeframe: 15m}";

#[test]
fn the_example_builds_features_on_eurusd_1h() {
    let full = load(EXAMPLE).unwrap();
    assert_eq!(full.base_timeframe(), Timeframe::M15);
    // The sample is 1h only: the same strategy read as a single-timeframe 1h one.
    let yaml = EXAMPLE.replace(
        EXAMPLE_TIMEFRAMES,
        "timeframes: {mode: single_timeframe, list: [1h]}",
    );
    let s = load(&yaml).unwrap();
    let bars = sample("EURUSD_1h");
    let m = build(&s, &[(Timeframe::H1, &bars)]).unwrap();
    assert_eq!(m.rows(), bars.len());
    assert_eq!(m.names, s.feature_names());
    assert_eq!(m.names.len(), 9);
    assert_eq!(m.names[0], "rsi_oversold");
    let complete = m.complete_rows();
    // RSI(14) is defined from row 14; two lags make row 16 the first complete one.
    assert_eq!(complete.first(), Some(&16));
    assert_eq!(complete.len(), bars.len() - 16);
    for c in &m.columns {
        assert!(c[16..].iter().all(|v| (0.0..=1.0).contains(v)));
    }
    let d = prepare(&s, &[(Timeframe::H1, &bars)]).unwrap();
    assert!(d.rows.len() > 2000, "{} usable rows", d.rows.len());
    assert!(d.rows.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(d.split.test.end, d.rows.len());
    let count = |l: Label| d.rows.iter().filter(|&&i| d.labels[i] == Some(l)).count();
    assert!(count(Label::Buy) > 0 && count(Label::Sell) > 0 && count(Label::Hold) > 0);
}

#[test]
fn a_multi_timeframe_variant_builds_features_on_eurusd_1h() {
    let yaml = EXAMPLE
        .replace(
            EXAMPLE_TIMEFRAMES,
            "timeframes: {mode: multi_timeframe, list: [1h, 4h, 1d], base_timeframe: 1h}",
        )
        .replace(
            "fuzzy_sets: {",
            "fuzzy_sets: {macd: {rising: {type: gaussian, parameters: [0.001, 0.001]}, falling: {type: gaussian, parameters: [-0.001, 0.001]}}, ",
        );
    let s = load(&yaml).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let h1 = sample("EURUSD_1h");
    let h4 = resample(&h1, Timeframe::H1, Timeframe::H4).unwrap();
    let d1 = resample(&h1, Timeframe::H1, Timeframe::D1).unwrap();
    let m = build(
        &s,
        &[
            (Timeframe::H1, &h1),
            (Timeframe::H4, &h4),
            (Timeframe::D1, &d1),
        ],
    )
    .unwrap();
    assert_eq!(m.names.len(), 3 * 5 * 3);
    assert_eq!(m.names[0], "1h_macd_rising");
    assert!(m.names.contains(&"1d_rsi_oversold_lag_2".to_string()));
    // Daily RSI(14) needs 15 closed days: about three weeks of hourly rows before a complete one.
    let first = *m.complete_rows().first().unwrap();
    assert!(
        first > 14 * 24 && first < 30 * 24,
        "first complete row {first}"
    );
    assert!(m.complete_rows().len() > 1500);
}
