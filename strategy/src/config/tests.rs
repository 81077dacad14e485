use super::*;

/// The predecessor's example, as the issue gives it.
pub const EXAMPLE: &str = r#"
name: rsi_mean_reversion
version: "2.0"
training_data: {symbols: {mode: multi_symbol, list: [EURUSD, GBPUSD]}, timeframes: {mode: multi_timeframe, list: [15m, 1h, 4h], base_timeframe: 15m}, history_required: 200}
indicators: [{name: rsi, period: 14, source: close}, {name: macd, fast_period: 12, slow_period: 26, signal_period: 9}]
fuzzy_sets: {rsi: {oversold: {type: triangular, parameters: [0, 20, 35]}, neutral: {type: triangular, parameters: [30, 50, 70]}, overbought: {type: triangular, parameters: [65, 80, 100]}}}
model: {type: mlp, architecture: {hidden_layers: [50, 25], activation: relu, dropout: 0.2}, features: {lookback_periods: 2}, training: {learning_rate: 0.001, batch_size: 32, epochs: 100, optimizer: adam, early_stopping: {patience: 10, min_delta: 0.0001}}}
decisions: {confidence_threshold: 0.6, position_awareness: true, filters: {min_signal_separation: 4}}
training: {labels: {source: zigzag, zigzag_threshold: 0.03}, data_split: {train: 0.7, validation: 0.15, test: 0.15}}
"#;

fn paths(r: &Report) -> Vec<&str> {
    r.errors.iter().map(|i| i.path.as_str()).collect()
}

fn invalid(yaml: &str) -> Report {
    match load(yaml) {
        Err(LoadError::Invalid(r)) => r,
        other => panic!("expected validation errors, got {other:?}"),
    }
}

#[test]
fn the_example_loads_with_its_values() {
    let s = load(EXAMPLE).unwrap();
    assert_eq!(s.name(), "rsi_mean_reversion");
    assert_eq!(s.indicators.len(), 2);
    assert_eq!(s.indicators[1].indicator.base_name(), "macd_12_26_9");
    assert_eq!(
        s.timeframes.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["15m", "1h", "4h"]
    );
    assert_eq!(s.lookback, 2);
    assert_eq!(s.fuzzy.len(), 3);
    assert_eq!(s.fuzzy[0].column(), "rsi_oversold");
    assert_eq!(s.file.model.training.early_stopping.patience, 10);
    // macd is declared but nothing fuzzifies it.
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].path, "indicators[1]");
    let names = s.feature_names();
    assert_eq!(names.len(), 3 * 3 * 3);
    assert_eq!(
        &names[..3],
        [
            "15m_rsi_oversold",
            "15m_rsi_oversold_lag_1",
            "15m_rsi_oversold_lag_2"
        ]
    );
}

#[test]
fn defaults_are_the_predecessors() {
    let s =
        load("name: x\nindicators: [{name: rsi}]\nfuzzy_sets: {rsi: {low: [0, 0, 30]}}\n").unwrap();
    let f = &s.file;
    assert_eq!(f.training_data.history_required, 200);
    assert_eq!(f.model.architecture.hidden_layers, [50, 25]);
    assert_eq!(f.model.training.batch_size, 32);
    assert_eq!(f.decisions.confidence_threshold, 0.6);
    assert_eq!(f.decisions.filters.min_signal_separation, 4);
    assert_eq!(s.lookback, 2);
    assert_eq!(
        s.labels,
        crate::labels::LabelConfig::ZigZag { threshold: 0.03 }
    );
    assert_eq!(s.split, crate::split::Split::new(0.7, 0.15, 0.15));
    assert_eq!(s.timeframes, [ktrdr_market::Timeframe::H1]);
    assert_eq!(
        s.feature_names(),
        ["rsi_low", "rsi_low_lag_1", "rsi_low_lag_2"]
    );
}

#[test]
fn every_problem_is_reported_with_its_path() {
    let r = invalid(
        r#"
name: broken
indicators:
  - {name: rsi, period: 0}
  - {name: macd, fast_period: 30, slow_period: 26}
  - {name: hologram}
  - {name: sma, period: 10}
fuzzy_sets:
  rsi: {oversold: {type: triangular, parameters: [30, 20, 10]}}
  volume_ratio: {high: [1, 2, 3]}
  sma: {wide: {type: gaussian, parameters: [0, 0]}, odd: {type: bell, parameters: [1]}}
  macd: {flat: {type: trapezoidal, parameters: [0, 1, 2]}}
training: {labels: {source: zigzag, zigzag_threshold: 0.03}, data_split: {train: 0.7, validation: 0.2, test: 0.2}}
"#,
    );
    let p = paths(&r);
    for want in [
        "indicators[0].period",
        "indicators[1].fast_period",
        "indicators[2].name",
        "fuzzy_sets.rsi.oversold.parameters",
        "fuzzy_sets.volume_ratio",
        "fuzzy_sets.sma.wide.parameters",
        "fuzzy_sets.sma.odd.type",
        "fuzzy_sets.macd.flat.parameters",
        "training.data_split",
    ] {
        assert!(p.contains(&want), "missing {want} in {r}");
    }
    assert_eq!(p.len(), 9, "{r}");
}

#[test]
fn unused_indicator_is_a_warning() {
    let s = load(
        "name: x\nindicators: [{name: rsi}, {name: atr, period: 10}]\nfuzzy_sets: {rsi: {low: [0, 0, 30]}}\n",
    )
    .unwrap();
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].path, "indicators[1]");
    assert!(s.warnings[0].message.contains("atr_10"));
}

#[test]
fn keys_resolve_by_id_output_name_and_sub_output() {
    let s = load(
        r#"
name: keys
indicators:
  - {name: rsi, period: 7, feature_id: fast_rsi}
  - {name: rsi, period: 21}
  - {name: macd}
fuzzy_sets:
  fast_rsi: {low: [0, 0, 30]}
  rsi_21: {low: [0, 0, 30]}
  macd.signal: {up: {type: gaussian, parameters: [0, 0.001]}}
  macd_12_26_9.hist: {up: {type: gaussian, parameters: [0, 0.001]}}
"#,
    )
    .unwrap();
    let targets: Vec<_> = s.fuzzy.iter().map(|f| s.output_name(f)).collect();
    assert_eq!(
        targets,
        [
            "rsi_7",
            "rsi_21",
            "macd_12_26_9.signal",
            "macd_12_26_9.hist"
        ]
    );
    let r = invalid(
        "name: x\nindicators: [{name: rsi, period: 7}, {name: rsi, period: 21}]\nfuzzy_sets: {rsi: {low: [0, 0, 30]}}\n",
    );
    assert!(r.errors[0].message.contains("several"), "{r}");
}

#[test]
fn timeframe_and_number_problems() {
    let r = invalid(
        r#"
name: x
training_data: {timeframes: {mode: multi_timeframe, list: [1h, 7h, 4h], base_timeframe: 4h}}
indicators: [{name: rsi}]
fuzzy_sets: {rsi: {low: [0, 0, 30]}}
model: {features: {lookback_periods: -1}, training: {epochs: 0}}
decisions: {confidence_threshold: 2}
training: {labels: {source: magic}}
"#,
    );
    let p = paths(&r);
    for want in [
        "training_data.timeframes.list[1]",
        "training_data.timeframes.base_timeframe",
        "model.features.lookback_periods",
        "model.training.epochs",
        "decisions.confidence_threshold",
        "training.labels.source",
    ] {
        assert!(p.contains(&want), "missing {want} in {r}");
    }
}

#[test]
fn syntax_errors_are_not_panics() {
    assert!(matches!(load("name: [unclosed"), Err(LoadError::Syntax(_))));
    assert!(matches!(load("indicators: 5"), Err(LoadError::Syntax(_))));
    assert!(matches!(load(""), Err(LoadError::Syntax(_))));
}
