//! The `strategy` service's work: strategy files read and validated, the indicator catalogue, and
//! indicator and fuzzy columns of the pure `ktrdr-strategy` pipeline over stored series. Files are
//! read and columns computed on blocking threads, never on the runtime.

use crate::blocking;
use crate::data::input::{self, SeriesKey};
use crate::service::strategy::{StrategyCounters, StrategyService};
use ktrdr_market::Bars;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::RowLimit;
use ktrdr_protocol::request::{FuzzyCompute, IndicatorsCompute, StrategiesList, StrategyShow};
use ktrdr_protocol::strategy::{
    ColumnTable, FuzzySetInfo, IndicatorCatalog, IndicatorInfo, IndicatorParamInfo, StrategyIssue,
    StrategyList, StrategyReport,
};
use ktrdr_strategy::config::{self, Issue, Strategy};
use ktrdr_strategy::features::fuzzy_columns;
use ktrdr_strategy::indicators::{Indicator, registry};
use ktrdr_strategy::labels::LabelConfig;
use ktrdr_strategy::params::ParamValue;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Computed values in one reply stay well under the 16 MiB frame cap.
const MAX_VALUES: usize = 1_500_000;

fn issues(v: &[Issue]) -> Vec<StrategyIssue> {
    v.iter()
        .map(|i| StrategyIssue {
            path: i.path.clone(),
            message: i.message.clone(),
        })
        .collect()
}

fn labels_text(l: &LabelConfig) -> String {
    match l {
        LabelConfig::ZigZag { threshold } => format!("zigzag (threshold {threshold})"),
        LabelConfig::ForwardReturn { periods, threshold } => {
            format!("forward_return ({periods} bars, threshold {threshold})")
        }
    }
}

fn resolved(path: &str, s: &Strategy) -> StrategyReport {
    StrategyReport {
        path: path.to_string(),
        name: s.name().to_string(),
        valid: true,
        errors: Vec::new(),
        warnings: issues(&s.warnings),
        indicators: s
            .indicators
            .iter()
            .flat_map(|i| i.indicator.output_names())
            .collect(),
        fuzzy_sets: s
            .fuzzy
            .iter()
            .map(|f| FuzzySetInfo {
                column: f.column(),
                input: s.output_name(f),
                membership: f.membership.to_string(),
            })
            .collect(),
        timeframes: s.timeframes.iter().map(|t| t.to_string()).collect(),
        lookback: s.lookback as u32,
        labels: labels_text(&s.labels),
        features: s.feature_names(),
    }
}

/// A file's report: resolved when valid, its problems otherwise. Only an unreadable file is an error.
fn report(path: &str, text: &str) -> StrategyReport {
    let failed = |name: String, errors: Vec<StrategyIssue>, warnings| StrategyReport {
        path: path.to_string(),
        name,
        valid: false,
        errors,
        warnings,
        indicators: Vec::new(),
        fuzzy_sets: Vec::new(),
        timeframes: Vec::new(),
        lookback: 0,
        labels: String::new(),
        features: Vec::new(),
    };
    match config::parse(text) {
        Err(e) => failed(
            String::new(),
            vec![StrategyIssue {
                path: String::new(),
                message: e.to_string(),
            }],
            Vec::new(),
        ),
        Ok(file) => {
            let name = file.name.clone();
            match config::validate(file) {
                Ok(s) => resolved(path, &s),
                Err(r) => failed(name, issues(&r.errors), issues(&r.warnings)),
            }
        }
    }
}

pub(crate) fn read(path: &str) -> Result<String, WireError> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return Err(WireError::validation(format!(
            "{path} is not an absolute path"
        )));
    }
    std::fs::read_to_string(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => WireError::not_found(format!("no strategy file {path}")),
        _ => WireError::validation(format!("cannot read {path}: {e}")),
    })
}

impl StrategyService {
    pub async fn show(&self, req: StrategyShow) -> Result<StrategyReport, WireError> {
        let c = Arc::clone(&self.counters);
        let path = req.path;
        blocking::run("reading a strategy", move || {
            let r = report(&path, &read(&path)?);
            c.files_checked.fetch_add(1, Ordering::Relaxed);
            Ok(r)
        })
        .await
    }

    pub async fn list(&self, req: StrategiesList) -> Result<StrategyList, WireError> {
        let c = Arc::clone(&self.counters);
        let dir = req.dir;
        blocking::run("listing strategies", move || {
            let d = Path::new(&dir);
            let entries = std::fs::read_dir(d).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    WireError::not_found(format!("no strategy directory {dir}"))
                }
                _ => WireError::validation(format!("cannot list {dir}: {e}")),
            })?;
            let mut files: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
                .collect();
            files.sort();
            let strategies = files
                .iter()
                .map(|p| {
                    let path = p.display().to_string();
                    match std::fs::read_to_string(p) {
                        Ok(text) => report(&path, &text),
                        Err(e) => report(&path, &format!("unreadable: {e}: [")),
                    }
                })
                .collect::<Vec<_>>();
            c.files_checked
                .fetch_add(strategies.len() as u64, Ordering::Relaxed);
            Ok(StrategyList { dir, strategies })
        })
        .await
    }
}

pub fn catalog() -> IndicatorCatalog {
    let indicators = registry()
        .iter()
        .map(|d| {
            let mut params: Vec<IndicatorParamInfo> = d
                .params
                .iter()
                .map(|p| IndicatorParamInfo {
                    name: p.name.to_string(),
                    kind: p.kind.as_str().to_string(),
                    default: format!("{}", p.default),
                    doc: p.doc.to_string(),
                })
                .collect();
            if d.takes_source {
                params.push(IndicatorParamInfo {
                    name: "source".into(),
                    kind: "source".into(),
                    default: "close".into(),
                    doc: format!("one of {}", ktrdr_strategy::source::Source::names()),
                });
            }
            let outputs = Indicator::new(d.name, &[])
                .map(|i| i.output_names())
                .unwrap_or_default();
            IndicatorInfo {
                name: d.name.to_string(),
                aliases: d.aliases.iter().map(|a| a.to_string()).collect(),
                title: d.title.to_string(),
                params,
                outputs,
                warmup: d.warmup.to_string(),
                uses_volume: d.uses_volume,
            }
        })
        .collect();
    IndicatorCatalog { indicators }
}

/// `rsi:period=14,source=hl2` -> an indicator, or every problem with it.
pub(crate) fn parse_spec(spec: &str) -> Result<Indicator, WireError> {
    let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let mut given = Vec::new();
    for kv in rest.split(',').filter(|s| !s.trim().is_empty()) {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(WireError::validation(format!(
                "{spec}: expected key=value, got {kv:?}"
            ))
            .with_hint("e.g. --indicator rsi:period=14 or --indicator macd:fast_period=8,slow_period=21"));
        };
        given.push((k.trim().to_string(), ParamValue::Text(v.trim().to_string())));
    }
    Indicator::new(name.trim(), &given).map_err(|problems| {
        let text: Vec<String> = problems
            .iter()
            .map(|p| match &p.param {
                Some(param) => format!("{param}: {}", p.message),
                None => p.message.clone(),
            })
            .collect();
        WireError::validation(format!("{spec}: {}", text.join("; ")))
            .with_hint("`ktrdrctl indicators list` shows every indicator and its parameters")
    })
}

/// The window's rows, cut to `rows`, of columns computed over the whole series.
fn table(
    key: &SeriesKey,
    bars: &Bars,
    r: std::ops::Range<usize>,
    rows: RowLimit,
    names: Vec<String>,
    columns: Vec<Vec<f64>>,
) -> Result<ColumnTable, WireError> {
    let in_window = r.len();
    let r = rows.cut(r);
    if r.len() * (names.len() + 1) > MAX_VALUES {
        return Err(WireError::validation(format!(
            "{} rows x {} columns is too much for one answer",
            r.len(),
            names.len()
        ))
        .with_hint("narrow it with --start/--end, --rows N or --tail N"));
    }
    Ok(ColumnTable {
        symbol: key.symbol.clone(),
        timeframe: key.timeframe.to_string(),
        ts: bars.ts()[r.clone()].to_vec(),
        names,
        columns: columns.into_iter().map(|c| c[r.clone()].to_vec()).collect(),
        rows_in_window: in_window as u64,
    })
}

impl StrategyService {
    pub async fn compute_indicators(
        &self,
        req: IndicatorsCompute,
    ) -> Result<ColumnTable, WireError> {
        if req.indicators.is_empty() {
            return Err(WireError::validation("no indicator given")
                .with_hint("e.g. --indicator rsi:period=14 --indicator macd"));
        }
        let inds = req
            .indicators
            .iter()
            .map(|s| parse_spec(s))
            .collect::<Result<Vec<_>, _>>()?;
        let at = Wanted {
            symbol: &req.symbol,
            timeframe: &req.timeframe,
            start: &req.start,
            end: &req.end,
            rows: req.rows,
        };
        self.columns(at, "computing indicators", move |bars, c| {
            let inp = ktrdr_strategy::indicators::Inputs::from_bars(bars);
            let (mut names, mut columns) = (Vec::new(), Vec::new());
            for ind in &inds {
                names.extend(ind.output_names());
                columns.extend(ind.compute(&inp));
            }
            c.indicator_columns
                .fetch_add(columns.len() as u64, Ordering::Relaxed);
            (names, columns)
        })
        .await
    }

    pub async fn compute_fuzzy(&self, req: FuzzyCompute) -> Result<ColumnTable, WireError> {
        let strategy_path = req.strategy.clone();
        let strategy = blocking::run("reading a strategy", move || {
            let text = read(&strategy_path)?;
            config::load(&text).map_err(|e| {
                WireError::validation(format!("{strategy_path}: {e}"))
                    .with_hint("`ktrdrctl strategies validate FILE` lists every problem")
            })
        })
        .await?;
        let at = Wanted {
            symbol: &req.symbol,
            timeframe: &req.timeframe,
            start: &req.start,
            end: &req.end,
            rows: req.rows,
        };
        self.columns(at, "computing fuzzy memberships", move |bars, c| {
            let (names, columns): (Vec<_>, Vec<_>) =
                fuzzy_columns(&strategy, bars).into_iter().unzip();
            c.fuzzy_columns
                .fetch_add(columns.len() as u64, Ordering::Relaxed);
            (names, columns)
        })
        .await
    }

    /// Columns computed by `compute` over the whole series (so the window's first rows are past
    /// warm-up) on a blocking thread, then cut to the window and its row limit.
    async fn columns(
        &self,
        at: Wanted<'_>,
        what: &'static str,
        compute: impl FnOnce(&Bars, &StrategyCounters) -> (Vec<String>, Vec<Vec<f64>>) + Send + 'static,
    ) -> Result<ColumnTable, WireError> {
        let key = input::key(at.symbol, at.timeframe)?;
        let w = input::window(at.start.as_deref(), at.end.as_deref())?;
        let (bars, r) = self.data.window(&key, w).await?;
        let c = Arc::clone(&self.counters);
        let rows = at.rows;
        blocking::run(what, move || {
            let (names, columns) = compute(&bars, &c);
            c.rows_computed
                .fetch_add(bars.len() as u64, Ordering::Relaxed);
            table(&key, &bars, r, rows, names, columns)
        })
        .await
    }
}

/// Which rows of which series a column request wants.
struct Wanted<'a> {
    symbol: &'a str,
    timeframe: &'a str,
    start: &'a Option<String>,
    end: &'a Option<String>,
    rows: RowLimit,
}
