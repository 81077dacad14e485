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

/// A valid file with the top-level entries in `lines` (one per line) replacing its own: each case
/// below breaks exactly one rule.
fn with(lines: &str) -> String {
    let mut file: Vec<String> = [
        "name: x",
        "training_data: {timeframes: {list: [1h]}}",
        "indicators: [{name: rsi}]",
        "fuzzy_sets: {rsi: {low: [0, 0, 30]}}",
        "model: {}",
        "decisions: {}",
        "training: {}",
    ]
    .map(String::from)
    .to_vec();
    for line in lines.lines() {
        let key = format!("{}:", line.split(':').next().unwrap_or(""));
        match file.iter_mut().find(|l| l.starts_with(&key)) {
            Some(l) => *l = line.to_string(),
            None => file.push(line.to_string()),
        }
    }
    file.join("\n")
}

#[test]
fn each_rule_reports_its_own_path_and_reason() {
    let cases = [
        ("name: '  '", "name", "must not be empty"),
        (
            "indicators: [{name: rsi}, {name: rsi, period: 14}]",
            "indicators[1]",
            "computes rsi_14 again (as indicators[0] does)",
        ),
        (
            "indicators: [{name: rsi, feature_id: a}, {name: atr, feature_id: a}]",
            "indicators[1].feature_id",
            "\"a\" is already the id of indicators[0]",
        ),
        (
            "fuzzy_sets: {rsi.nope: {low: [0, 0, 30]}}",
            "fuzzy_sets.rsi.nope",
            "rsi has no output \"nope\"",
        ),
        (
            "fuzzy_sets: {stoch: {low: [0, 0, 30]}}",
            "fuzzy_sets.stoch",
            "no indicator \"stoch\" is declared (declared: rsi)",
        ),
        (
            "fuzzy_sets: {rsi: {}}",
            "fuzzy_sets.rsi",
            "declares no sets",
        ),
        (
            "fuzzy_sets: {}",
            "fuzzy_sets",
            "no fuzzy sets: the model would have no features",
        ),
        (
            "training_data: {timeframes: {list: [1h, 1h]}}",
            "training_data.timeframes.list[1]",
            "1h is listed twice",
        ),
        (
            "training_data: {timeframes: {list: [1h], base_timeframe: 4h}}",
            "training_data.timeframes.base_timeframe",
            "4h is not in the list",
        ),
        (
            "training_data: {timeframes: {list: [1h], base_timeframe: 7h}}",
            "training_data.timeframes.base_timeframe",
            "unknown timeframe \"7h\"",
        ),
        (
            "training_data: {timeframes: {timeframe: 2d}}",
            "training_data.timeframes.timeframe",
            "unknown timeframe \"2d\" (known: 1m, 5m",
        ),
        (
            "training_data: {timeframes: {mode: both, list: [1h]}}",
            "training_data.timeframes.mode",
            "must be single_timeframe or multi_timeframe",
        ),
        (
            "training_data: {timeframes: {mode: single_timeframe, list: [1h, 4h]}}",
            "training_data.timeframes.list",
            "single_timeframe mode lists several timeframes",
        ),
        (
            "training_data: {history_required: -1}",
            "training_data.history_required",
            "must not be negative",
        ),
        (
            "model: {architecture: {hidden_layers: [8, 0]}}",
            "model.architecture.hidden_layers[1]",
            "must be at least 1",
        ),
        (
            "model: {architecture: {dropout: 1.0}}",
            "model.architecture.dropout",
            "must be in [0, 1)",
        ),
        (
            "model: {training: {learning_rate: 0}}",
            "model.training.learning_rate",
            "must be greater than 0",
        ),
        (
            "model: {training: {batch_size: 0}}",
            "model.training.batch_size",
            "must be at least 1",
        ),
        (
            "model: {training: {early_stopping: {patience: -1}}}",
            "model.training.early_stopping.patience",
            "must not be negative",
        ),
        (
            "decisions: {filters: {min_signal_separation: -2}}",
            "decisions.filters.min_signal_separation",
            "must not be negative",
        ),
        (
            "training: {labels: {source: zigzag, zigzag_threshold: 1.5}}",
            "training.labels.zigzag_threshold",
            "must be in (0, 1)",
        ),
        (
            "training: {labels: {source: forward_return, forward_periods: 0}}",
            "training.labels.forward_periods",
            "must be at least 1",
        ),
        (
            "training: {labels: {source: forward_return, forward_periods: 3, return_threshold: -0.1}}",
            "training.labels.return_threshold",
            "must not be negative",
        ),
        (
            "training: {data_split: {train: 0, validation: 0.5, test: 0.5}}",
            "training.data_split.train",
            "must be greater than 0",
        ),
        (
            "training: {data_split: {train: 1.5, validation: -0.25, test: -0.25}}",
            "training.data_split.validation",
            "must be in [0, 1]",
        ),
    ];
    for (line, path, reason) in cases {
        let r = invalid(&with(line));
        assert!(
            r.errors
                .iter()
                .any(|e| e.path == path && e.message.contains(reason)),
            "{line}: want {path}: {reason}; got\n{r}"
        );
    }
}

#[test]
fn two_keys_naming_one_column_are_refused() {
    // Columns are `{key}_{set}`, so key `a` with set `b_c` and key `a_b` with set `c` collide.
    let r = invalid(&with(
        "indicators: [{name: rsi, feature_id: a}, {name: atr, feature_id: a_b}]\nfuzzy_sets: {a: {b_c: [0, 0, 30]}, a_b: {c: [0, 0, 1]}}",
    ));
    assert_eq!(paths(&r), ["fuzzy_sets.a_b.c"], "{r}");
    assert_eq!(r.errors[0].message, "column a_b_c is produced twice");
}

#[test]
fn forward_return_labels_and_single_timeframe_load() {
    let s = load(&with(
        "training: {labels: {source: forward_return, forward_periods: 4, return_threshold: 0.002}}",
    ))
    .unwrap();
    assert_eq!(
        s.labels,
        crate::labels::LabelConfig::ForwardReturn {
            periods: 4,
            threshold: 0.002
        }
    );
    let s = load(&with(
        "training_data: {timeframes: {mode: single_timeframe, timeframe: 4h}}",
    ))
    .unwrap();
    assert_eq!(s.timeframes, [ktrdr_market::Timeframe::H4]);
}

#[test]
fn reports_print_errors_then_warnings_with_paths() {
    let err = load(&with(
        "indicators: [{name: rsi}, {name: atr}, {name: rsi, period: 14}]",
    ))
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(
            "the strategy has 2 error(s):\nerror: indicators[2]: computes rsi_14 again"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nwarning: indicators[1]: atr_14 is computed but no fuzzy set uses it\n"),
        "{text}"
    );
}
