//! The sweep file as written, read key by key so that every problem is reported with its place
//! (serde's derive stops at the first one), and unknown keys are refused (a typo such as `gird:`
//! must not silently run the base strategy).

use crate::problems::Problems;
use crate::tree::Node;
use crate::windows::{self, WalkForward};
use ktrdr_market::Timeframe;
use ktrdr_protocol::sweep::{RankBy, Span, WindowSpec};
use serde::{Deserialize, Serialize};

const KEYS: [&str; 10] = [
    "name",
    "strategy",
    "grid",
    "sets",
    "symbols",
    "timeframes",
    "evaluation",
    "backtest",
    "rank_by",
    "max_parallel",
];

/// Backtest settings for every cell's test window; `None` keeps the engine's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BacktestSpec {
    pub capital: Option<f64>,
    pub commission: Option<f64>,
    pub slippage: Option<f64>,
    pub position_fraction: Option<f64>,
    pub allow_short: bool,
}

impl BacktestSpec {
    /// Writes the settings given onto `cfg`.
    pub fn apply(&self, cfg: &mut ktrdr_backtest::Config) {
        let fields = [
            (self.capital, &mut cfg.capital),
            (self.commission, &mut cfg.commission),
            (self.slippage, &mut cfg.slippage),
            (self.position_fraction, &mut cfg.position_fraction),
        ];
        for (value, slot) in fields {
            if let Some(v) = value {
                *slot = v;
            }
        }
        cfg.allow_short = self.allow_short;
    }
}

/// Where the parameter sets come from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Sets {
    /// Neither `grid` nor `sets`: the base strategy alone.
    Base,
    /// Paths with their candidates, in the order written.
    Grid(Vec<(String, Vec<Node>)>),
    /// Explicit sets, each a list of (path, value).
    List(Vec<Vec<(String, Node)>>),
}

/// A sweep file read. Fields with problems hold placeholders; the problems say what was wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sweep {
    pub name: String,
    pub strategy: String,
    pub sets: Sets,
    pub symbols: Option<Vec<String>>,
    pub timeframes: Option<Vec<String>>,
    pub windows: Vec<WindowSpec>,
    pub backtest: BacktestSpec,
    pub rank_by: RankBy,
    pub max_parallel: Option<usize>,
}

/// Reads `doc`, recording every problem in `p`. `max_windows` bounds the walk-forward expansion.
pub(crate) fn read(doc: &Node, max_windows: usize, p: &mut Problems) -> Sweep {
    let mut sweep = Sweep {
        name: String::new(),
        strategy: String::new(),
        sets: Sets::Base,
        symbols: None,
        timeframes: None,
        windows: Vec::new(),
        backtest: BacktestSpec::default(),
        rank_by: RankBy::default(),
        max_parallel: None,
    };
    let Node::Map(entries) = doc else {
        p.at("sweep", format!("must be a mapping, not {}", doc.kind()));
        return sweep;
    };
    for (k, _) in entries {
        if !KEYS.contains(&k.as_str()) {
            p.at(k, format!("unknown key (known: {})", KEYS.join(", ")));
        }
    }
    match doc.get("name") {
        Some(Node::String(s)) if valid_name(s) => sweep.name = s.clone(),
        Some(Node::String(s)) => p.at(
            "name",
            format!("{s:?}: use 1 to 64 letters, digits, '_', '.' or '-'"),
        ),
        Some(other) => p.at("name", format!("must be a string, not {}", other.kind())),
        None => p.at("name", "missing"),
    }
    match doc.get("strategy") {
        Some(Node::String(s)) if !s.trim().is_empty() => sweep.strategy = s.clone(),
        Some(Node::String(_)) => p.at("strategy", "is empty"),
        Some(other) => p.at("strategy", format!("must be a path, not {}", other.kind())),
        None => p.at(
            "strategy",
            "missing: the path of the strategy file to sweep",
        ),
    }
    sweep.sets = read_sets(doc.get("grid"), doc.get("sets"), p);
    sweep.symbols = doc
        .get("symbols")
        .map(|n| names(n, "symbols", p, |s| check_symbol(s).map(|()| s.to_string())));
    sweep.timeframes = doc.get("timeframes").map(|n| {
        names(n, "timeframes", p, |s| {
            s.parse::<Timeframe>()
                .map(|tf| tf.as_str().to_string())
                .map_err(|e| format!("{e} (known: {})", Timeframe::names()))
        })
    });
    match doc.get("evaluation") {
        Some(ev) => sweep.windows = read_evaluation(ev, max_windows, p),
        None => p.at(
            "evaluation",
            "missing: give walk_forward: {from, to, train, test, step} or split: {train: [a, b], test: [c, d]}",
        ),
    }
    if let Some(bt) = doc.get("backtest") {
        sweep.backtest = read_backtest(bt, p);
    }
    match doc.get("rank_by") {
        None => {}
        Some(Node::String(s)) => match s.parse::<RankBy>() {
            Ok(r) => sweep.rank_by = r,
            Err(e) => p.at("rank_by", e),
        },
        Some(other) => p.at("rank_by", format!("must be a word, not {}", other.kind())),
    }
    match doc.get("max_parallel") {
        None => {}
        Some(Node::Number(n)) if n.as_u64().is_some_and(|v| v >= 1) => {
            sweep.max_parallel = n.as_u64().and_then(|v| usize::try_from(v).ok());
        }
        Some(other) => p.at(
            "max_parallel",
            format!(
                "must be a whole number of 1 or more, not {}",
                describe(other)
            ),
        ),
    }
    sweep
}

/// `[A-Za-z0-9_.-]{1,64}`: safe in file names and URLs.
fn valid_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn check_symbol(s: &str) -> Result<(), String> {
    if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{s:?} is not a symbol"));
    }
    Ok(())
}

/// A value for messages: JSON text when short.
fn describe(n: &Node) -> String {
    match n.to_json() {
        Ok(text) if text.len() <= 40 => text,
        _ => n.kind().to_string(),
    }
}

fn read_sets(grid: Option<&Node>, sets: Option<&Node>, p: &mut Problems) -> Sets {
    match (grid, sets) {
        (None, None) => Sets::Base,
        (Some(_), Some(_)) => {
            p.at("grid", "give either grid or sets, not both");
            Sets::Base
        }
        (Some(Node::Map(entries)), None) => {
            if entries.is_empty() {
                p.at("grid", "is empty (leave it out to run the base strategy)");
            }
            let mut out = Vec::new();
            for (path, cands) in entries {
                let place = format!("grid: {path}");
                match cands {
                    Node::Seq(items) if items.is_empty() => p.at(&place, "no candidates"),
                    Node::Seq(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if items[..i].contains(item) {
                                p.at(&place, format!("{} is listed twice", describe(item)));
                            }
                        }
                        out.push((path.clone(), items.clone()));
                    }
                    other => p.at(
                        &place,
                        format!(
                            "must be a list of candidates, not {} (write [{}] for one value)",
                            other.kind(),
                            describe(other)
                        ),
                    ),
                }
            }
            Sets::Grid(out)
        }
        (Some(other), None) => {
            p.at(
                "grid",
                format!(
                    "must be a mapping of path: [candidates], not {}",
                    other.kind()
                ),
            );
            Sets::Base
        }
        (None, Some(Node::Seq(items))) => {
            if items.is_empty() {
                p.at("sets", "is empty (leave it out to run the base strategy)");
            }
            let mut out: Vec<Vec<(String, Node)>> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Node::Map(entries) => {
                        if let Some(j) = out.iter().position(|s| s == entries) {
                            p.at(format!("sets[{i}]"), format!("the same as sets[{j}]"));
                        }
                        out.push(entries.clone());
                    }
                    other => {
                        p.at(
                            format!("sets[{i}]"),
                            format!("must be a mapping of path: value, not {}", other.kind()),
                        );
                        out.push(Vec::new());
                    }
                }
            }
            Sets::List(out)
        }
        (None, Some(other)) => {
            p.at(
                "sets",
                format!("must be a list of mappings, not {}", other.kind()),
            );
            Sets::Base
        }
    }
}

/// A list of names, or one name; each checked by `check`, duplicates refused.
fn names(
    n: &Node,
    key: &str,
    p: &mut Problems,
    check: impl Fn(&str) -> Result<String, String>,
) -> Vec<String> {
    let items: Vec<&Node> = match n {
        Node::Seq(items) => items.iter().collect(),
        one => vec![one],
    };
    if items.is_empty() {
        p.at(key, "is empty (leave it out to use the strategy's)");
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let place = format!("{key}[{i}]");
        match item {
            Node::String(s) => match check(s) {
                Ok(v) if out.contains(&v) => p.at(&place, format!("{v} is listed twice")),
                Ok(v) => out.push(v),
                Err(e) => p.at(&place, e),
            },
            other => p.at(&place, format!("must be a string, not {}", other.kind())),
        }
    }
    out
}

fn read_evaluation(ev: &Node, max_windows: usize, p: &mut Problems) -> Vec<WindowSpec> {
    let Node::Map(entries) = ev else {
        p.at(
            "evaluation",
            format!("must be a mapping, not {}", ev.kind()),
        );
        return Vec::new();
    };
    for (k, _) in entries {
        if k != "walk_forward" && k != "split" {
            p.at(
                format!("evaluation.{k}"),
                "unknown key (known: walk_forward, split)",
            );
        }
    }
    let result = match (ev.get("walk_forward"), ev.get("split")) {
        (Some(_), Some(_)) => {
            p.at("evaluation", "give either walk_forward or split, not both");
            return Vec::new();
        }
        (None, None) => {
            p.at("evaluation", "give walk_forward or split");
            return Vec::new();
        }
        (Some(wf), None) => read_walk_forward(wf, p).map(|wf| {
            windows::walk_forward(wf, max_windows).map_err(|e| ("evaluation.walk_forward", e))
        }),
        (None, Some(split)) => read_split(split, p)
            .map(|(train, test)| windows::split(train, test).map_err(|e| ("evaluation.split", e))),
    };
    match result {
        Some(Ok(w)) => w,
        Some(Err((place, e))) => {
            p.at(place, e);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Checks a mapping's keys against `known`; `None` (with a problem) when it is not a mapping.
fn mapping<'a>(
    n: &'a Node,
    place: &str,
    known: &[&str],
    p: &mut Problems,
) -> Option<&'a [(String, Node)]> {
    let Node::Map(entries) = n else {
        p.at(place, format!("must be a mapping, not {}", n.kind()));
        return None;
    };
    for (k, _) in entries {
        if !known.contains(&k.as_str()) {
            p.at(
                format!("{place}.{k}"),
                format!("unknown key (known: {})", known.join(", ")),
            );
        }
    }
    Some(entries)
}

fn text_field<T>(
    n: &Node,
    place: &str,
    key: &str,
    p: &mut Problems,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Option<T> {
    let place = format!("{place}.{key}");
    match n.get(key) {
        Some(Node::String(s)) => parse(s).map_err(|e| p.at(&place, e)).ok(),
        Some(other) => {
            p.at(&place, format!("must be text, not {}", describe(other)));
            None
        }
        None => {
            p.at(&place, "missing");
            None
        }
    }
}

fn read_walk_forward(n: &Node, p: &mut Problems) -> Option<WalkForward> {
    let place = "evaluation.walk_forward";
    mapping(n, place, &["from", "to", "train", "test", "step"], p)?;
    let from = text_field(n, place, "from", p, windows::parse_date);
    let to = text_field(n, place, "to", p, windows::parse_date);
    let train = text_field(n, place, "train", p, windows::parse_duration);
    let test = text_field(n, place, "test", p, windows::parse_duration);
    let step = text_field(n, place, "step", p, windows::parse_duration);
    Some(WalkForward {
        from: from?,
        to: to?,
        train: train?,
        test: test?,
        step: step?,
    })
}

fn read_split(n: &Node, p: &mut Problems) -> Option<(Span, Span)> {
    let place = "evaluation.split";
    mapping(n, place, &["train", "test"], p)?;
    let mut span = |key: &str| -> Option<Span> {
        let place = format!("{place}.{key}");
        match n.get(key) {
            Some(Node::Seq(items)) if items.len() == 2 => {
                let mut ends = items.iter().enumerate().map(|(i, item)| match item {
                    Node::String(s) => windows::parse_date(s)
                        .map_err(|e| p.at(format!("{place}[{i}]"), e))
                        .ok(),
                    other => {
                        p.at(
                            format!("{place}[{i}]"),
                            format!("must be a date, not {}", describe(other)),
                        );
                        None
                    }
                });
                let start = ends.next().flatten();
                let end = ends.next().flatten();
                Some(Span {
                    start_ms: start?,
                    end_ms: end?,
                })
            }
            Some(other) => {
                p.at(
                    &place,
                    format!("must be [start, end], not {}", describe(other)),
                );
                None
            }
            None => {
                p.at(&place, "missing");
                None
            }
        }
    };
    let train = span("train");
    let test = span("test");
    Some((train?, test?))
}

fn read_backtest(n: &Node, p: &mut Problems) -> BacktestSpec {
    let mut spec = BacktestSpec::default();
    let known = [
        "capital",
        "commission",
        "slippage",
        "position_fraction",
        "allow_short",
    ];
    if mapping(n, "backtest", &known, p).is_none() {
        return spec;
    }
    let mut number = |key: &str, set: &mut dyn FnMut(&mut ktrdr_backtest::Config, f64)| {
        let place = format!("backtest.{key}");
        match n.get(key) {
            None => None,
            Some(Node::Number(v)) => {
                let v = v.as_f64()?;
                // The engine's own checks, one field at a time so each problem is reported.
                let mut cfg = ktrdr_backtest::Config::default();
                set(&mut cfg, v);
                match cfg.validate() {
                    Ok(()) => Some(v),
                    Err(ktrdr_backtest::ConfigError::Invalid { message, .. }) => {
                        p.at(&place, message);
                        None
                    }
                    Err(e) => {
                        p.at(&place, e.to_string());
                        None
                    }
                }
            }
            Some(other) => {
                p.at(&place, format!("must be a number, not {}", describe(other)));
                None
            }
        }
    };
    spec.capital = number("capital", &mut |c, v| c.capital = v);
    spec.commission = number("commission", &mut |c, v| c.commission = v);
    spec.slippage = number("slippage", &mut |c, v| c.slippage = v);
    spec.position_fraction = number("position_fraction", &mut |c, v| c.position_fraction = v);
    match n.get("allow_short") {
        None => {}
        Some(Node::Bool(b)) => spec.allow_short = *b,
        Some(other) => p.at(
            "backtest.allow_short",
            format!("must be true or false, not {}", describe(other)),
        ),
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> (Sweep, Vec<String>) {
        let mut p = Problems::new();
        let s = read(&Node::from_yaml(text).unwrap(), 1000, &mut p);
        (s, p.0)
    }

    const WF: &str = "evaluation: {walk_forward: {from: 2017-05-01, to: 2018-02-01, train: 120d, test: 30d, step: 30d}}\n";

    #[test]
    fn a_full_file() {
        let (s, p) = read_text(&format!(
            "name: rsi-grid\nstrategy: ../s.yaml\ngrid: {{b.c: [1, 2], a: [[0, 1]]}}\nsymbols: EURUSD\ntimeframes: [1H, daily]\n{WF}backtest: {{capital: 5000, allow_short: true}}\nrank_by: calmar\nmax_parallel: 3\n"
        ));
        assert_eq!(p, Vec::<String>::new());
        assert_eq!(s.name, "rsi-grid");
        assert_eq!(s.strategy, "../s.yaml");
        let Sets::Grid(g) = &s.sets else { panic!() };
        assert_eq!(g[0].0, "b.c");
        assert_eq!(g[1].0, "a");
        assert_eq!(g[1].1.len(), 1);
        assert_eq!(s.symbols, Some(vec!["EURUSD".to_string()]));
        assert_eq!(s.timeframes, Some(vec!["1h".to_string(), "1d".to_string()]));
        assert_eq!(s.windows.len(), 5);
        assert_eq!(s.backtest.capital, Some(5000.0));
        assert_eq!(s.backtest.commission, None);
        assert!(s.backtest.allow_short);
        assert_eq!(s.rank_by, RankBy::Calmar);
        assert_eq!(s.max_parallel, Some(3));
    }

    #[test]
    fn every_problem_is_reported_with_its_place() {
        let (_, p) = read_text(
            "name: 'bad name'\ngird: {a: [1]}\nsymbols: [EURUSD, EURUSD, 3]\ntimeframes: [2h]\nevaluation: {walk_forward: {from: 2017-05-01, to: 2017-02-30, train: 0d, test: 30, extra: 1}}\nbacktest: {capital: -1, commission: 0.5, slip: 0}\nrank_by: sortino\nmax_parallel: 0\n",
        );
        let want = [
            "gird: unknown key",
            "name: \"bad name\"",
            "strategy: missing",
            "symbols[1]: EURUSD is listed twice",
            "symbols[2]: must be a string",
            "timeframes[0]: ",
            "evaluation.walk_forward.extra: unknown key",
            "evaluation.walk_forward.to: ",
            "evaluation.walk_forward.train: \"0d\": must be positive",
            "evaluation.walk_forward.test: must be text, not 30",
            "evaluation.walk_forward.step: missing",
            "backtest.slip: unknown key",
            "backtest.capital: must be > 0",
            "backtest.commission: must be in [0, 0.1)",
            "rank_by: \"sortino\" is not one of",
            "max_parallel: must be a whole number of 1 or more, not 0",
        ];
        for w in want {
            assert!(p.iter().any(|x| x.starts_with(w)), "{w:?} not in {p:#?}");
        }
        assert_eq!(p.len(), want.len(), "{p:#?}");
    }

    #[test]
    fn grid_and_sets_shapes() {
        let (_, p) = read_text(&format!(
            "name: x\nstrategy: s\ngrid: {{a: 7, b: [], c: [1, 1]}}\n{WF}"
        ));
        assert_eq!(
            p,
            [
                "grid: a: must be a list of candidates, not a number (write [7] for one value)",
                "grid: b: no candidates",
                "grid: c: 1 is listed twice",
            ]
        );
        let (_, p) = read_text(&format!(
            "name: x\nstrategy: s\ngrid: {{a: [1]}}\nsets: []\n{WF}"
        ));
        assert_eq!(p, ["grid: give either grid or sets, not both"]);
        let (s, p) = read_text(&format!(
            "name: x\nstrategy: s\nsets: [{{a: 1}}, 3, {{a: 1}}]\n{WF}"
        ));
        assert_eq!(
            p,
            [
                "sets[1]: must be a mapping of path: value, not a number",
                "sets[2]: the same as sets[0]",
            ]
        );
        assert!(matches!(s.sets, Sets::List(ref l) if l.len() == 3));
        let (s, p) = read_text(&format!("name: x\nstrategy: s\n{WF}"));
        assert!(p.is_empty());
        assert_eq!(s.sets, Sets::Base);
    }

    #[test]
    fn evaluation_forms() {
        let (s, p) = read_text(
            "name: x\nstrategy: s\nevaluation: {split: {train: [2017-05-01, 2017-11-01], test: [2017-11-01, 2018-02-01]}}\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.windows.len(), 1);
        let (_, p) = read_text(
            "name: x\nstrategy: s\nevaluation: {split: {train: [2017-05-01, 2017-12-01], test: [2017-11-01, 2018-02-31]}}\n",
        );
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("evaluation.split.test[1]: "), "{p:?}");
        let (_, p) = read_text(
            "name: x\nstrategy: s\nevaluation: {split: {train: [2017-05-01, 2017-12-01], test: [2017-11-01, 2018-02-01]}}\n",
        );
        assert_eq!(
            p,
            ["evaluation.split: the train range must end by the start of the test range"]
        );
        let (_, p) =
            read_text("name: x\nstrategy: s\nevaluation: {split: {train: 1, test: [a]}}\n");
        assert_eq!(p.len(), 2, "{p:?}");
        let (_, p) = read_text(
            "name: x\nstrategy: s\nevaluation: {walk_forward: {from: 2017-05-01, to: 2017-06-01, train: 30d, test: 30d, step: 30d}}\n",
        );
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("evaluation.walk_forward: the range"),
            "{p:?}"
        );
        assert!(p[0].contains("too short"), "{p:?}");
        let (_, p) = read_text("name: x\nstrategy: s\nevaluation: {}\n");
        assert_eq!(p, ["evaluation: give walk_forward or split"]);
        let (_, p) = read_text("name: x\nstrategy: s\n");
        assert!(p[0].starts_with("evaluation: missing"), "{p:?}");
    }

    #[test]
    fn backtest_spec_applies_onto_the_engine_config() {
        let spec = BacktestSpec {
            capital: Some(5000.0),
            position_fraction: Some(1.0),
            allow_short: true,
            ..BacktestSpec::default()
        };
        let mut cfg = ktrdr_backtest::Config::default();
        spec.apply(&mut cfg);
        assert_eq!(cfg.capital, 5000.0);
        assert_eq!(cfg.position_fraction, 1.0);
        assert_eq!(cfg.commission, ktrdr_backtest::Config::default().commission);
        assert!(cfg.allow_short);
    }
}
