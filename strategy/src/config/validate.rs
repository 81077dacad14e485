//! Checks a parsed strategy file and resolves it into a [`Strategy`]: indicators with their
//! parameters, fuzzy sets bound to indicator outputs, timeframes, labels and the split. Every problem
//! is collected with its path in the file (`indicators[1].fast_period`,
//! `fuzzy_sets.rsi.oversold.parameters`) so an author fixes them all in one pass.

use std::fmt;

use ktrdr_market::Timeframe;

use super::model::StrategyFile;
use crate::fuzzy::Membership;
use crate::indicators::{Indicator, find};
use crate::labels::LabelConfig;
use crate::split::Split;

/// One problem (or warning) and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Everything wrong with a file (errors) and everything suspicious (warnings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
}

impl Report {
    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }

    fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "error: {e}")?;
        }
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

/// An indicator as the strategy uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyIndicator {
    /// `feature_id` if given, else the name as written.
    pub id: String,
    pub indicator: Indicator,
}

/// A fuzzy set bound to one indicator output.
#[derive(Debug, Clone, PartialEq)]
pub struct FuzzyFeature {
    /// The key under `fuzzy_sets` (`rsi`).
    pub key: String,
    pub set: String,
    /// Index into [`Strategy::indicators`] and into that indicator's outputs.
    pub indicator: usize,
    pub output: usize,
    pub membership: Membership,
}

impl FuzzyFeature {
    /// `{key}_{set}`, e.g. `rsi_oversold`.
    pub fn column(&self) -> String {
        format!("{}_{}", self.key, self.set)
    }
}

/// A valid strategy, resolved.
#[derive(Debug, Clone)]
pub struct Strategy {
    pub file: StrategyFile,
    pub indicators: Vec<StrategyIndicator>,
    pub fuzzy: Vec<FuzzyFeature>,
    /// Every timeframe, finest (the base) first.
    pub timeframes: Vec<Timeframe>,
    pub lookback: usize,
    pub labels: LabelConfig,
    pub split: Split,
    pub warnings: Vec<Issue>,
}

impl Strategy {
    pub fn name(&self) -> &str {
        &self.file.name
    }

    pub fn base_timeframe(&self) -> Timeframe {
        self.timeframes[0]
    }

    pub fn is_multi_timeframe(&self) -> bool {
        self.timeframes.len() > 1
    }

    /// The feature matrix's columns in order: per timeframe (base first; prefixed `{tf}_` when there
    /// are several), each fuzzy column followed by its lags.
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        for tf in &self.timeframes {
            for f in &self.fuzzy {
                let col = self.column_name(*tf, &f.column());
                for k in 1..=self.lookback {
                    names.push(format!("{col}_lag_{k}"));
                }
                names.insert(names.len() - self.lookback, col);
            }
        }
        names
    }

    pub(crate) fn column_name(&self, tf: Timeframe, col: &str) -> String {
        if self.is_multi_timeframe() {
            format!("{tf}_{col}")
        } else {
            col.to_string()
        }
    }

    /// The output column an indicator-output pair is computed into, e.g. `macd_12_26_9.signal`.
    pub fn output_name(&self, f: &FuzzyFeature) -> String {
        self.indicators[f.indicator].indicator.output_names()[f.output].clone()
    }
}

/// Resolves `file`, or reports every error (with the warnings found on the way).
pub fn validate(file: StrategyFile) -> Result<Strategy, Report> {
    let mut r = Report::default();
    if file.name.trim().is_empty() {
        r.error("name", "must not be empty");
    }
    let indicators = check_indicators(&file, &mut r);
    let fuzzy = check_fuzzy(&file, &indicators, &mut r);
    for (i, slot) in indicators.iter().enumerate() {
        if let Some(ind) = slot
            && !fuzzy.iter().any(|f| f.indicator == i)
        {
            r.warn(
                format!("indicators[{i}]"),
                format!(
                    "{} is computed but no fuzzy set uses it",
                    ind.indicator.base_name()
                ),
            );
        }
    }
    let timeframes = check_timeframes(&file, &mut r);
    let lookback = check_numbers(&file, &mut r);
    let labels = check_labels(&file, &mut r);
    let split = check_split(&file, &mut r);
    if !r.errors.is_empty() {
        return Err(r);
    }
    let (Some(timeframes), Some(labels), Some(split)) = (timeframes, labels, split) else {
        r.error("", "internal: a check failed without reporting why");
        return Err(r);
    };
    Ok(Strategy {
        indicators: indicators.into_iter().flatten().collect(),
        fuzzy,
        timeframes,
        lookback,
        labels,
        split,
        warnings: r.warnings,
        file,
    })
}

/// One slot per written indicator (`None` where it is invalid), so indices stay the file's.
fn check_indicators(file: &StrategyFile, r: &mut Report) -> Vec<Option<StrategyIndicator>> {
    let mut out: Vec<Option<StrategyIndicator>> = Vec::new();
    for (i, spec) in file.indicators.iter().enumerate() {
        let given: Vec<_> = spec
            .params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        match Indicator::new(&spec.name, &given) {
            Ok(indicator) => {
                let id = spec.feature_id.clone().unwrap_or_else(|| spec.name.clone());
                let base = indicator.base_name();
                if let Some(j) = out
                    .iter()
                    .position(|o| o.as_ref().is_some_and(|o| o.indicator.base_name() == base))
                {
                    r.error(
                        format!("indicators[{i}]"),
                        format!("computes {base} again (as indicators[{j}] does)"),
                    );
                }
                if spec.feature_id.is_some()
                    && let Some(j) = out
                        .iter()
                        .position(|o| o.as_ref().is_some_and(|o| o.id == id))
                {
                    r.error(
                        format!("indicators[{i}].feature_id"),
                        format!("{id:?} is already the id of indicators[{j}]"),
                    );
                }
                out.push(Some(StrategyIndicator { id, indicator }));
            }
            Err(problems) => {
                for p in problems {
                    let path = match (&p.param, find(&spec.name)) {
                        (Some(param), _) => format!("indicators[{i}].{param}"),
                        (None, None) => format!("indicators[{i}].name"),
                        (None, Some(_)) => format!("indicators[{i}]"),
                    };
                    r.error(path, p.message);
                }
                out.push(None);
            }
        }
    }
    out
}

/// What a fuzzy key names: an indicator output by feature id, output name (`rsi_14`,
/// `macd_12_26_9.signal`), or the indicator's name when only one indicator has it; `{that}.{sub}`
/// selects a sub-output.
fn resolve_key(key: &str, inds: &[Option<StrategyIndicator>]) -> Result<(usize, usize), String> {
    let valid = || {
        inds.iter()
            .enumerate()
            .filter_map(|(i, o)| o.as_ref().map(|o| (i, o)))
    };
    if let Some(hit) = valid().find_map(|(i, o)| {
        o.indicator
            .output_names()
            .iter()
            .position(|n| n == key)
            .map(|k| (i, k))
    }) {
        return Ok(hit);
    }
    let (head, sub) = match key.rsplit_once('.') {
        Some((h, s)) => (h, Some(s)),
        None => (key, None),
    };
    let by_id: Vec<usize> = valid()
        .filter(|(_, o)| o.id == head)
        .map(|(i, _)| i)
        .collect();
    let candidates = if by_id.is_empty() {
        let def = find(head);
        valid()
            .filter(|(_, o)| def.is_some_and(|d| d == o.indicator.def()))
            .map(|(i, _)| i)
            .collect()
    } else {
        by_id
    };
    let i = match candidates.as_slice() {
        [i] => *i,
        [] => {
            return Err(format!(
                "no indicator {head:?} is declared (declared: {})",
                valid()
                    .map(|(_, o)| o.id.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        _ => {
            return Err(format!(
                "{head:?} matches several indicators; give each a feature_id and use it here"
            ));
        }
    };
    let ind = &inds[i].as_ref().map(|o| &o.indicator);
    let Some(ind) = ind else {
        return Err("internal: resolved an invalid indicator".into());
    };
    match sub {
        None => Ok((i, 0)),
        Some(s) => match ind.def().outputs.iter().position(|o| *o == s) {
            Some(k) => Ok((i, k + 1)),
            None => Err(format!(
                "{} has no output {s:?} (outputs: {})",
                ind.def().name,
                ind.def().outputs.join(", ")
            )),
        },
    }
}

fn check_fuzzy(
    file: &StrategyFile,
    inds: &[Option<StrategyIndicator>],
    r: &mut Report,
) -> Vec<FuzzyFeature> {
    let mut out = Vec::new();
    let all_resolved = inds.iter().all(Option::is_some);
    for (key, sets) in file.fuzzy_sets.iter() {
        let target = match resolve_key(key, inds) {
            Ok(t) => Some(t),
            // An indicator that failed validation may be the one meant; say so only once.
            Err(_) if !all_resolved && find(key.split('.').next().unwrap_or(key)).is_some() => None,
            Err(why) => {
                r.error(format!("fuzzy_sets.{key}"), why);
                None
            }
        };
        if sets.is_empty() {
            r.error(format!("fuzzy_sets.{key}"), "declares no sets");
        }
        for (set, spec) in sets.iter() {
            let path = format!("fuzzy_sets.{key}.{set}");
            match Membership::new(spec.kind(), spec.parameters()) {
                Ok(membership) => {
                    if let Some((indicator, output)) = target {
                        out.push(FuzzyFeature {
                            key: key.to_string(),
                            set: set.to_string(),
                            indicator,
                            output,
                            membership,
                        });
                    }
                }
                Err(why) if why.starts_with("unknown membership") => {
                    r.error(format!("{path}.type"), why)
                }
                Err(why) => r.error(format!("{path}.parameters"), why),
            }
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for f in &out {
        let c = f.column();
        if seen.contains(&c) {
            r.error(
                format!("fuzzy_sets.{}.{}", f.key, f.set),
                format!("column {c} is produced twice"),
            );
        }
        seen.push(c);
    }
    if file.fuzzy_sets.is_empty() {
        r.error(
            "fuzzy_sets",
            "no fuzzy sets: the model would have no features",
        );
    }
    out
}

fn check_timeframes(file: &StrategyFile, r: &mut Report) -> Option<Vec<Timeframe>> {
    let spec = &file.training_data.timeframes;
    let mut list: Vec<(String, &str)> = spec
        .list
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("training_data.timeframes.list[{i}]"), t.as_str()))
        .collect();
    if let Some(t) = &spec.timeframe {
        list.push(("training_data.timeframes.timeframe".into(), t));
    }
    let mut tfs = Vec::new();
    for (path, t) in &list {
        match t.parse::<Timeframe>() {
            Ok(tf) if tfs.contains(&tf) => r.error(path, format!("{tf} is listed twice")),
            Ok(tf) => tfs.push(tf),
            Err(e) => r.error(path, format!("{e} (known: {})", Timeframe::names())),
        }
    }
    if list.is_empty() {
        tfs.push(Timeframe::H1);
    }
    tfs.sort();
    if let Some(base) = &spec.base_timeframe {
        let path = "training_data.timeframes.base_timeframe";
        match base.parse::<Timeframe>() {
            Ok(b) if tfs.first() != Some(&b) && tfs.contains(&b) => r.error(
                path,
                format!(
                    "{b} is not the finest listed timeframe; coarser ones are aligned onto the base"
                ),
            ),
            Ok(b) if !tfs.contains(&b) => r.error(path, format!("{b} is not in the list")),
            Ok(_) => {}
            Err(e) => r.error(path, e.to_string()),
        }
    }
    let mode_multi = spec.mode.as_deref() == Some("multi_timeframe");
    if spec.mode.is_some() && !mode_multi && spec.mode.as_deref() != Some("single_timeframe") {
        r.error(
            "training_data.timeframes.mode",
            "must be single_timeframe or multi_timeframe",
        );
    }
    if spec.mode.as_deref() == Some("single_timeframe") && tfs.len() > 1 {
        r.error(
            "training_data.timeframes.list",
            "single_timeframe mode lists several timeframes",
        );
    }
    if file.training_data.history_required < 0 {
        r.error("training_data.history_required", "must not be negative");
    }
    Some(tfs)
}

/// Range checks on plain numbers; returns the lookback.
fn check_numbers(file: &StrategyFile, r: &mut Report) -> usize {
    let m = &file.model;
    let lookback = m.features.lookback_periods;
    if lookback < 0 {
        r.error("model.features.lookback_periods", "must not be negative");
    }
    for (i, h) in m.architecture.hidden_layers.iter().enumerate() {
        if *h < 1 {
            r.error(
                format!("model.architecture.hidden_layers[{i}]"),
                "must be at least 1",
            );
        }
    }
    if !(0.0..1.0).contains(&m.architecture.dropout) {
        r.error("model.architecture.dropout", "must be in [0, 1)");
    }
    let t = &m.training;
    if t.learning_rate.is_nan() || t.learning_rate <= 0.0 {
        r.error("model.training.learning_rate", "must be greater than 0");
    }
    if t.batch_size < 1 {
        r.error("model.training.batch_size", "must be at least 1");
    }
    if t.epochs < 1 {
        r.error("model.training.epochs", "must be at least 1");
    }
    if t.early_stopping.patience < 0 {
        r.error(
            "model.training.early_stopping.patience",
            "must not be negative",
        );
    }
    let d = &file.decisions;
    if !(0.0..=1.0).contains(&d.confidence_threshold) {
        r.error("decisions.confidence_threshold", "must be in [0, 1]");
    }
    if d.filters.min_signal_separation < 0 {
        r.error(
            "decisions.filters.min_signal_separation",
            "must not be negative",
        );
    }
    lookback.max(0) as usize
}

fn check_labels(file: &StrategyFile, r: &mut Report) -> Option<LabelConfig> {
    let l = &file.training.labels;
    match l.source.as_str() {
        "zigzag" => {
            if l.zigzag_threshold > 0.0 && l.zigzag_threshold < 1.0 {
                return Some(LabelConfig::ZigZag {
                    threshold: l.zigzag_threshold,
                });
            }
            r.error(
                "training.labels.zigzag_threshold",
                "must be in (0, 1), e.g. 0.03 for 3 %",
            );
        }
        "forward_return" => {
            let mut ok = true;
            if l.forward_periods < 1 {
                r.error("training.labels.forward_periods", "must be at least 1");
                ok = false;
            }
            if l.return_threshold.is_nan() || l.return_threshold < 0.0 {
                r.error("training.labels.return_threshold", "must not be negative");
                ok = false;
            }
            if ok {
                return Some(LabelConfig::ForwardReturn {
                    periods: l.forward_periods as usize,
                    threshold: l.return_threshold,
                });
            }
        }
        other => r.error(
            "training.labels.source",
            format!("unknown label source {other:?} (expected zigzag or forward_return)"),
        ),
    }
    None
}

fn check_split(file: &StrategyFile, r: &mut Report) -> Option<Split> {
    let s = &file.training.data_split;
    let mut ok = true;
    for (name, v) in [
        ("train", s.train),
        ("validation", s.validation),
        ("test", s.test),
    ] {
        if !(0.0..=1.0).contains(&v) {
            r.error(format!("training.data_split.{name}"), "must be in [0, 1]");
            ok = false;
        }
    }
    let sum = s.train + s.validation + s.test;
    if (sum - 1.0).abs() > 1e-9 {
        r.error(
            "training.data_split",
            format!("train + validation + test must sum to 1, got {sum}"),
        );
        ok = false;
    }
    if s.train <= 0.0 {
        r.error("training.data_split.train", "must be greater than 0");
        ok = false;
    }
    ok.then(|| Split::new(s.train, s.validation, s.test))
}
