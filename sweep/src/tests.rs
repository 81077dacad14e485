//! Whole-crate behaviour on the real example strategy: planning, cell strategies read back by the
//! strategy parser, and the problems a user sees.

use super::*;

const RSI: &str = include_str!("../../strategies/rsi_mean_reversion.yaml");

/// Three windows: 150 days each (train + test), steps of 30, in a 228-day range.
const WF3: &str = "evaluation:\n  walk_forward: {from: 2017-05-01, to: 2017-12-15, train: 120d, test: 30d, step: 30d}\n";

fn sweep(body: &str) -> String {
    format!("name: rsi-grid\nstrategy: ../strategies/rsi_mean_reversion.yaml\n{body}{WF3}")
}

fn problems(body: &str) -> Vec<String> {
    plan(&sweep(body), RSI).unwrap_err().0
}

#[test]
fn a_grid_expands_first_key_slowest_into_set_major_cells() {
    let p = plan(
        &sweep(
            "grid:\n  indicators.rsi.period: [7, 14, 21]\n  model.training.learning_rate: [0.001, 0.0003]\ntimeframes: [1h, 4h]\nrank_by: return\nmax_parallel: 2\n",
        ),
        RSI,
    )
    .unwrap();
    assert_eq!(p.name, "rsi-grid");
    assert_eq!(p.strategy_path, "../strategies/rsi_mean_reversion.yaml");
    let labels: Vec<&str> = p.sets.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "indicators.rsi.period=7, model.training.learning_rate=0.001",
            "indicators.rsi.period=7, model.training.learning_rate=0.0003",
            "indicators.rsi.period=14, model.training.learning_rate=0.001",
            "indicators.rsi.period=14, model.training.learning_rate=0.0003",
            "indicators.rsi.period=21, model.training.learning_rate=0.001",
            "indicators.rsi.period=21, model.training.learning_rate=0.0003",
        ]
    );
    assert_eq!(
        p.sets[3].overrides,
        [
            Override {
                path: "indicators.rsi.period".into(),
                value_json: "14".into()
            },
            Override {
                path: "model.training.learning_rate".into(),
                value_json: "0.0003".into()
            },
        ]
    );
    assert!(
        p.sets
            .iter()
            .enumerate()
            .all(|(i, s)| s.index as usize == i)
    );
    // Symbols from the strategy, timeframes from the sweep.
    assert_eq!(p.symbols, ["EURUSD"]);
    assert_eq!(p.timeframes, ["1h", "4h"]);
    assert_eq!(p.windows.len(), 3);
    assert_eq!(p.cells.len(), 36);
    for (i, c) in p.cells.iter().enumerate() {
        assert_eq!(c.index as usize, i);
        assert_eq!(c.set as usize, i / 6);
        assert_eq!(c.timeframe, ["1h", "4h"][(i / 3) % 2]);
        assert_eq!(c.window as usize, i % 3);
        assert_eq!(c.symbol, "EURUSD");
        let w = &p.windows[c.window as usize];
        assert_eq!((c.train, c.test), (w.train, w.test));
        assert_eq!(c.train.end_ms, c.test.start_ms);
    }
    assert_eq!(p.rank_by, RankBy::Return);
    assert_eq!(p.max_parallel, Some(2));
    assert_eq!(p.backtest, BacktestSpec::default());
}

#[test]
fn a_grid_candidate_may_be_a_list() {
    let p = plan(
        &sweep("grid:\n  fuzzy_sets.rsi.oversold.parameters: [[0, 20, 35], [0, 25, 40]]\nsymbols: [EURUSD, GBPUSD]\n"),
        RSI,
    )
    .unwrap();
    let labels: Vec<&str> = p.sets.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "fuzzy_sets.rsi.oversold.parameters=[0,20,35]",
            "fuzzy_sets.rsi.oversold.parameters=[0,25,40]",
        ]
    );
    assert_eq!(p.symbols, ["EURUSD", "GBPUSD"]);
    assert_eq!(p.timeframes, ["1h"]);
    assert_eq!(p.cells.len(), 2 * 2 * 3);
    assert_eq!(p.cells[3].symbol, "GBPUSD");
    assert_eq!(p.cells[6].set, 1);
}

#[test]
fn the_list_form_keeps_each_set_as_written() {
    let p = plan(
        &sweep(
            "sets:\n  - {indicators.rsi.period: 7, model.training.learning_rate: 0.001}\n  - {fuzzy_sets.rsi.oversold.parameters: [0, 25, 40]}\n  - {}\n",
        ),
        RSI,
    )
    .unwrap();
    let labels: Vec<&str> = p.sets.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "indicators.rsi.period=7, model.training.learning_rate=0.001",
            "fuzzy_sets.rsi.oversold.parameters=[0,25,40]",
            "base",
        ]
    );
    assert_eq!(p.cells.len(), 3 * 3);
}

#[test]
fn without_grid_or_sets_the_base_strategy_runs_alone() {
    let p = plan(&sweep(""), RSI).unwrap();
    assert_eq!(p.sets.len(), 1);
    assert_eq!(p.sets[0].label, "base");
    assert!(p.sets[0].overrides.is_empty());
    assert_eq!((p.symbols.len(), p.timeframes.len()), (1, 1));
    assert_eq!(p.cells.len(), 3);
}

#[test]
fn default_symbols_and_timeframes_follow_the_strategy_spellings() {
    let strategy = RSI.replace(
        "  symbols: {mode: single_symbol, list: [EURUSD]}\n  timeframes: {mode: single_timeframe, list: [1h], base_timeframe: 1h}\n",
        "  symbols: {symbol: USDJPY}\n  timeframes: {base_timeframe: 4H}\n",
    );
    assert_ne!(strategy, RSI);
    let p = plan(&sweep(""), &strategy).unwrap();
    assert_eq!(p.symbols, ["USDJPY"]);
    assert_eq!(p.timeframes, ["4h"]);
    let strategy = RSI.replace("  symbols: {mode: single_symbol, list: [EURUSD]}\n", "");
    assert_eq!(
        plan(&sweep(""), &strategy).unwrap_err().0,
        ["symbols: none given, and the strategy's training_data lists none"]
    );
    assert!(plan(&sweep("symbols: [X]\n"), &strategy).is_ok());
}

#[test]
fn cell_strategies_load_with_the_strategy_parser() {
    let set = ParamSet {
        index: 4,
        label: "x".into(),
        overrides: vec![
            Override {
                path: "indicators.rsi.period".into(),
                value_json: "7".into(),
            },
            Override {
                path: "fuzzy_sets.rsi.oversold.parameters".into(),
                value_json: "[0,25,40]".into(),
            },
            Override {
                path: "model.training.seed".into(),
                value_json: "7".into(),
            },
        ],
    };
    let text = cell_strategy(RSI, &set, "rsi-grid-s4").unwrap();
    let cell = ktrdr_strategy::load(&text).unwrap();
    let base = ktrdr_strategy::load(RSI).unwrap();
    assert_eq!(cell.name(), "rsi-grid-s4");
    let period = |s: &ktrdr_strategy::Strategy, i: usize, key: &str| {
        s.file.indicators[i].params.get(key).cloned()
    };
    assert_eq!(
        period(&cell, 0, "period"),
        Some(ktrdr_strategy::params::ParamValue::Int(7))
    );
    // Only the rsi period changed.
    assert_eq!(period(&cell, 0, "source"), period(&base, 0, "source"));
    for key in ["fast_period", "slow_period", "signal_period"] {
        assert_eq!(period(&cell, 1, key), period(&base, 1, key), "{key}");
    }
    let oversold = cell
        .file
        .fuzzy_sets
        .get("rsi")
        .unwrap()
        .get("oversold")
        .unwrap();
    assert_eq!(oversold.parameters(), [0.0, 25.0, 40.0]);
    assert_eq!(oversold.kind(), "triangular");
    let neutral = cell
        .file
        .fuzzy_sets
        .get("rsi")
        .unwrap()
        .get("neutral")
        .unwrap();
    assert_eq!(neutral.parameters(), [30.0, 50.0, 70.0]);
    // The features keep the base strategy's order (the fuzzy sets as written, not sorted).
    assert_eq!(cell.feature_names(), base.feature_names());
    // The strategy parser does not read the seed; the training options read it from the text.
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["model"]["training"]["seed"], 7);
    assert_eq!(json["model"]["training"]["learning_rate"], 0.001);
    assert_eq!(json["training_data"]["symbols"]["list"][0], "EURUSD");
    assert_eq!(json["version"], "2.0");
}

#[test]
fn the_planned_sets_build_loadable_cell_strategies() {
    let p = plan(
        &sweep(
            "grid:\n  indicators.macd.fast_period: [8, 12]\n  fuzzy_sets.rsi.oversold.parameters: [[0, 20, 35], [0, 25, 40]]\n  model.training.weight_decay: [0, 0.01]\n",
        ),
        RSI,
    )
    .unwrap();
    assert_eq!(p.sets.len(), 8);
    for set in &p.sets {
        let name = format!("{}-s{}", p.name, set.index);
        let text = cell_strategy(RSI, set, &name).unwrap();
        let s = ktrdr_strategy::load(&text).unwrap();
        assert_eq!(s.name(), name);
    }
    let base = ParamSet {
        index: 0,
        label: "base".into(),
        overrides: Vec::new(),
    };
    let text = cell_strategy(RSI, &base, "b").unwrap();
    assert_eq!(
        ktrdr_strategy::load(&text).unwrap().feature_names(),
        ktrdr_strategy::load(RSI).unwrap().feature_names()
    );
}

#[test]
fn cell_strategy_reports_bad_overrides() {
    let set = ParamSet {
        index: 1,
        label: "bad".into(),
        overrides: vec![
            Override {
                path: "indicators.ema.period".into(),
                value_json: "7".into(),
            },
            Override {
                path: "indicators.rsi.period".into(),
                value_json: "{not json".into(),
            },
        ],
    };
    let e = cell_strategy(RSI, &set, "x").unwrap_err();
    assert_eq!(e.0.len(), 2, "{e}");
    assert!(e.0[0].starts_with("set 1 (bad): indicators.ema.period: no element named \"ema\""));
    assert!(e.0[1].contains("not JSON"), "{e}");
}

#[test]
fn every_bad_path_is_reported_at_once() {
    let p = problems(
        "grid:\n  indicators.rsi.perod: [7]\n  indicators.ema.period: [1]\n  fuzzy_sets.rsi.oversold.paramters: [[0, 1, 2]]\n  model.training.seed: [1, 2]\n  model.architecture.seed: [1]\n",
    );
    assert_eq!(
        p,
        [
            "grid: indicators.rsi.perod: no key \"perod\" in indicators[rsi] (keys: name, period, source)",
            "grid: indicators.ema.period: no element named \"ema\" (names: rsi, macd) in indicators",
            "grid: fuzzy_sets.rsi.oversold.paramters: no key \"paramters\" in fuzzy_sets.rsi.oversold (keys: type, parameters)",
            "grid: model.architecture.seed: no key \"seed\" in model.architecture (keys: hidden_layers, activation, dropout)",
        ]
    );
    let p = problems(
        "sets:\n  - {indicators.rsi.perod: 7}\n  - {indicators.rsi.period: 7, decisions.treshold: 1}\nrank_by: best\n",
    );
    assert_eq!(p.len(), 3, "{p:#?}");
    assert!(p[0].starts_with("rank_by: "), "{p:#?}");
    assert!(
        p[1].starts_with("sets[0]: indicators.rsi.perod: no key"),
        "{p:#?}"
    );
    assert!(p[2].starts_with("sets[1]: decisions.treshold: no key \"treshold\" in decisions"));
}

#[test]
fn problems_display_one_per_line() {
    let e = plan(
        "name: x\nstrategy: s\ngird: {a: [1]}\nevaluation: {split: {train: [2017-01-01, 2017-02-01], test: [2017-02-01, 2017-03-01]}}\nrankby: sharpe\n",
        RSI,
    )
    .unwrap_err();
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("gird: unknown key (known: name, strategy, grid, sets,"));
    assert!(lines[1].starts_with("rankby: unknown key"));
}

#[test]
fn unreadable_texts_are_problems_too() {
    let e = plan("name: [", RSI).unwrap_err();
    assert!(e.0[0].starts_with("sweep: cannot read the YAML"), "{e}");
    let e = plan(&sweep("grid: {indicators.rsi.period: [7]}\n"), "a: [").unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert!(e.0[0].starts_with("strategy: cannot read"), "{e}");
    let e = plan("- 1\n", RSI).unwrap_err();
    assert_eq!(e.0, ["sweep: must be a mapping, not a list"]);
}

#[test]
fn the_split_form_plans_one_window() {
    let p = plan(
        "name: one\nstrategy: s.yaml\nevaluation:\n  split: {train: [2017-05-01, 2017-11-01], test: [2017-11-01T00:00:00Z, 2018-02-01]}\n",
        RSI,
    )
    .unwrap();
    assert_eq!(p.windows.len(), 1);
    assert_eq!(p.cells.len(), 1);
    assert_eq!(p.cells[0].train.end_ms, p.cells[0].test.start_ms);
    assert_eq!(p.cells[0].test.end_ms, 1_517_443_200_000);
}

#[test]
fn too_many_cells_is_refused_before_expanding() {
    let cands: Vec<String> = (0..400).map(|i| i.to_string()).collect();
    let list = cands.join(", ");
    let e = plan(
        &sweep(&format!(
            "grid:\n  indicators.rsi.period: [{list}]\n  indicators.macd.fast_period: [{list}]\n"
        )),
        RSI,
    )
    .unwrap_err();
    assert_eq!(e.0, [format!("grid: more than {MAX_CELLS} combinations")]);
    let e = plan(
        "name: x\nstrategy: s\nevaluation: {walk_forward: {from: 2000-01-01, to: 2030-01-01, train: 1h, test: 1h, step: 1h}}\n",
        RSI,
    )
    .unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    assert!(e.0[0].contains(&format!("over {MAX_CELLS} windows")), "{e}");
}

#[test]
fn strategy_path_is_read_alone_and_its_absence_is_explained() {
    assert_eq!(
        crate::strategy_path("name: g\nstrategy: ../strategies/s.yaml\ngird: {}\n").unwrap(),
        "../strategies/s.yaml"
    );
    let e = crate::strategy_path("name: g\n").unwrap_err();
    assert!(e.to_string().contains("strategy: missing"), "{e}");
    assert!(crate::strategy_path("name: [").is_err());
}
