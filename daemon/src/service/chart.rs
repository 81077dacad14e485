//! The `chart` service: price charts of stored series and backtest reports, drawn here (the
//! client only writes the bytes). Columns come from the data service's bars, the strategy
//! pipeline and saved backtest results (`crate::chart`); `ktrdr-plot` draws them; everything
//! CPU-heavy runs on a blocking thread. The interactive pages inline the charting script found at
//! the `chart.js_dir` setting.

use super::metrics::RequestMetrics;
use super::{BoxFuture, Service};
use crate::backtest::{Detail, Results};
use crate::blocking;
use crate::chart::{self, Backtested, Library};
use crate::config::Section;
use crate::data::DataManager;
use crate::data::input::{self, Window};
use crate::ops::Registry;
use ktrdr_plot::{BarStyle, Extras, Format, PriceChart};
use ktrdr_protocol::WireError;
use ktrdr_protocol::chart::{CandleStyle, ChartFormat, ChartSummary};
use ktrdr_protocol::model::{HealthStatus, ServiceHealth, ServiceInfo};
use ktrdr_protocol::request::{BacktestHtml, Chart};
use ktrdr_strategy::config;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct ChartCounters {
    pub images: AtomicU64,
    pub pages: AtomicU64,
    pub reports: AtomicU64,
    pub bars_drawn: AtomicU64,
    pub bytes: AtomicU64,
}

pub struct ChartService {
    data: Arc<DataManager>,
    results: Arc<Results>,
    registry: Arc<Registry>,
    js_dir: PathBuf,
    pub counters: Arc<ChartCounters>,
    metrics: RequestMetrics,
}

/// A drawn file and what is in it.
pub struct Drawn {
    pub bytes: Vec<u8>,
    pub summary: ChartSummary,
}

fn style(s: CandleStyle) -> BarStyle {
    match s {
        CandleStyle::Candles => BarStyle::Candles,
        CandleStyle::Ohlc => BarStyle::Ohlc,
    }
}

fn summary(c: &PriceChart, symbol: &str, timeframe: &str, format: ChartFormat) -> ChartSummary {
    let mut series: Vec<String> = c.overlays.iter().map(|l| l.name.clone()).collect();
    for p in &c.panes {
        match &p.kind {
            ktrdr_plot::PaneKind::Lines(v) | ktrdr_plot::PaneKind::Heat(v) => {
                series.extend(v.iter().map(|l| l.name.clone()))
            }
            ktrdr_plot::PaneKind::Position(_) => series.push(p.title.clone()),
            ktrdr_plot::PaneKind::Drawdown(l) => series.push(l.name.clone()),
        }
    }
    ChartSummary {
        symbol: symbol.to_string(),
        timeframe: timeframe.to_string(),
        format,
        bytes: 0,
        bars: c.len() as u64,
        first_ms: c.ts.first().copied().unwrap_or_default(),
        last_ms: c.ts.last().copied().unwrap_or_default(),
        panes: c.pane_titles(),
        series,
        markers: c.markers.len() as u64,
    }
}

impl ChartService {
    pub fn new(
        data: Arc<DataManager>,
        results: Arc<Results>,
        registry: Arc<Registry>,
        js_dir: PathBuf,
    ) -> Self {
        ChartService {
            data,
            results,
            registry,
            js_dir,
            counters: Arc::new(ChartCounters::default()),
            metrics: RequestMetrics::new(),
        }
    }

    /// A finished backtest's saved results.
    async fn backtest(&self, id: u64) -> Result<Detail, WireError> {
        let rec = self.registry.get(id).await?;
        super::backtest::finished(&rec)?;
        let results = Arc::clone(&self.results);
        blocking::run("reading backtest results", move || results.load(id)).await
    }

    async fn library(&self) -> Result<Library, WireError> {
        let dir = self.js_dir.clone();
        blocking::run("reading the charting script", move || Library::load(&dir)).await
    }

    pub async fn chart(&self, req: Chart) -> Result<Drawn, WireError> {
        let key = input::key(&req.symbol, &req.timeframe)?;
        let indicators = req
            .indicators
            .iter()
            .map(|s| crate::strategy::parse_spec(s))
            .collect::<Result<Vec<_>, _>>()?;
        if req.fuzzy.is_some() && req.strategy.is_none() {
            return Err(WireError::validation("--fuzzy needs --strategy FILE")
                .with_hint("the fuzzy sets are the strategy file's"));
        }
        let strategy = match req.strategy.clone() {
            None => None,
            Some(path) => Some(
                blocking::run("reading a strategy", move || {
                    let text = crate::strategy::read(&path)?;
                    config::load(&text).map_err(|e| {
                        WireError::validation(format!("{path}: {e}"))
                            .with_hint("`ktrdrctl strategies validate FILE` lists every problem")
                    })
                })
                .await?,
            ),
        };
        let detail = match req.backtest {
            Some(id) => Some(self.backtest(id).await?),
            None => None,
        };
        let window = match (&req.start, &req.end, &detail) {
            // A backtest's chart defaults to the bars it replayed.
            (None, None, Some(d)) => Window {
                start: Some(d.summary.first_ms),
                end: Some(d.summary.last_ms + 1),
            },
            _ => input::window(req.start.as_deref(), req.end.as_deref())?,
        };
        let library = match req.format {
            ChartFormat::Html => Some(self.library().await?),
            _ => None,
        };
        let (bars, r) = self.data.window(&key, window).await?;
        let (symbol, timeframe) = (key.symbol.clone(), key.timeframe.to_string());
        let counters = Arc::clone(&self.counters);
        blocking::run("drawing a chart", move || {
            let width = req.width.unwrap_or(match req.format {
                ChartFormat::Html => chart::DEFAULT_HTML_WIDTH,
                _ => chart::DEFAULT_WIDTH,
            });
            let c = chart::build(chart::Inputs {
                symbol: &symbol,
                timeframe: &timeframe,
                bars: &bars,
                window: r,
                indicators,
                strategy,
                fuzzy: req.fuzzy.clone(),
                backtest: detail.as_ref().map(|detail| Backtested { detail }),
                style: style(req.style),
                width,
                height: req.height,
            })?;
            let mut summary = summary(&c, &symbol, &timeframe, req.format);
            let bytes = draw(&c, req.format, library.as_ref(), &Extras::default())?;
            summary.bytes = bytes.len() as u64;
            count(&counters, &summary, false);
            Ok(Drawn { bytes, summary })
        })
        .await
    }

    /// A backtest's report: its price chart with trades, equity and drawdown, and its tables.
    pub async fn backtest_html(&self, req: BacktestHtml) -> Result<Drawn, WireError> {
        let detail = self.backtest(req.id).await?;
        let library = self.library().await?;
        let key = input::key(&detail.summary.symbol, &detail.summary.timeframe)?;
        let window = Window {
            start: Some(detail.summary.first_ms),
            end: Some(detail.summary.last_ms + 1),
        };
        let (bars, r) = self.data.window(&key, window).await?;
        let counters = Arc::clone(&self.counters);
        blocking::run("drawing a backtest report", move || {
            let s = &detail.summary;
            let c = chart::build(chart::Inputs {
                symbol: &s.symbol,
                timeframe: &s.timeframe,
                bars: &bars,
                window: r,
                indicators: Vec::new(),
                strategy: None,
                fuzzy: None,
                backtest: Some(Backtested { detail: &detail }),
                style: BarStyle::Candles,
                width: chart::DEFAULT_HTML_WIDTH,
                height: None,
            })?;
            let (before, after) = chart::tables(&detail);
            let mut summary = summary(&c, &s.symbol, &s.timeframe, ChartFormat::Html);
            let bytes = draw(
                &c,
                ChartFormat::Html,
                Some(&library),
                &Extras { before, after },
            )?;
            summary.bytes = bytes.len() as u64;
            count(&counters, &summary, true);
            Ok(Drawn { bytes, summary })
        })
        .await
    }
}

fn draw(
    c: &PriceChart,
    format: ChartFormat,
    library: Option<&Library>,
    extras: &Extras,
) -> Result<Vec<u8>, WireError> {
    let drawn = match (format, library) {
        (ChartFormat::Png, _) => ktrdr_plot::render_price(c, Format::Png),
        (ChartFormat::Svg, _) => ktrdr_plot::render_price(c, Format::Svg),
        (ChartFormat::Html, Some(lib)) => ktrdr_plot::render_html(c, &lib.plot(), extras),
        (ChartFormat::Html, None) => {
            return Err(WireError::internal("an HTML chart without its script"));
        }
    };
    drawn.map_err(chart::plot_error)
}

fn count(c: &ChartCounters, s: &ChartSummary, report: bool) {
    let kind = match (s.format, report) {
        (_, true) => &c.reports,
        (ChartFormat::Html, false) => &c.pages,
        _ => &c.images,
    };
    kind.fetch_add(1, Ordering::Relaxed);
    c.bars_drawn.fetch_add(s.bars, Ordering::Relaxed);
    c.bytes.fetch_add(s.bytes, Ordering::Relaxed);
}

impl Service for ChartService {
    fn name(&self) -> &'static str {
        "chart"
    }

    fn info(&self) -> ServiceInfo {
        let mut settings = BTreeMap::new();
        settings.insert("js_dir".into(), self.js_dir.display().to_string());
        settings.insert("formats".into(), "png, svg, html".into());
        ServiceInfo {
            name: self.name().into(),
            mode: "local".into(),
            endpoint: Some("in-process (ktrdr-plot)".into()),
            env: Section::Chart.env(),
            settings,
        }
    }

    fn health(&self) -> BoxFuture<'_, ServiceHealth> {
        Box::pin(async move {
            // Images never need the script; only interactive pages do, and a missing script is a
            // set-up step to take, not a fault of the daemon: the status stays ok, the detail says.
            let script = self
                .js_dir
                .join("lightweight-charts.standalone.production.js");
            let (status, detail) = if script.is_file() {
                (
                    HealthStatus::Ok,
                    format!(
                        "png, svg and html; charting script in {}",
                        self.js_dir.display()
                    ),
                )
            } else {
                (
                    HealthStatus::Ok,
                    format!(
                        "png and svg only: no charting script in {} (run scripts/fetch-charts-js.sh)",
                        self.js_dir.display()
                    ),
                )
            };
            ServiceHealth {
                name: self.name().into(),
                status,
                detail,
            }
        })
    }

    fn metrics(&self) -> &RequestMetrics {
        &self.metrics
    }

    fn counters(&self) -> BTreeMap<String, u64> {
        let c = &self.counters;
        super::metrics::read_counters(&[
            ("images", &c.images),
            ("pages", &c.pages),
            ("reports", &c.reports),
            ("bars_drawn", &c.bars_drawn),
            ("bytes", &c.bytes),
        ])
    }
}
