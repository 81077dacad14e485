//! Requests and the frames that answer them.
//!
//! After the handshake the client sends one [`Request`] and reads [`Response`] frames until a terminal
//! one ([`Response::Reply`] or [`Response::Error`]); then it may send the next request.

use crate::backtest::*;
use crate::error::WireError;
use crate::model::*;
use crate::strategy::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Ping {
        payload: u64,
    },
    Health,
    Status,
    Config,
    Stats,
    Shutdown,
    OpsList {
        state: Option<OpState>,
        kind: Option<String>,
        limit: u32,
    },
    OpsShow {
        id: u64,
    },
    /// Streams [`Response::Update`] until the operation ends, then its final record.
    OpsWatch {
        id: u64,
    },
    OpsCancel {
        id: u64,
    },
    /// A diagnostic operation that sleeps in `steps` steps over `seconds`; `fail_at` makes it fail at
    /// that step. With `follow` the answer streams like [`Request::OpsWatch`].
    OpsDemo {
        seconds: f64,
        steps: u32,
        fail_at: Option<u32>,
        follow: bool,
    },
    /// Every series in the data directory.
    DataList,
    /// Streams [`Response::Bars`] chunks, then [`Reply::DataBars`]. Bounds: `start` inclusive, `end`
    /// exclusive; an `end` that is a plain date includes that whole day.
    DataShow {
        symbol: String,
        timeframe: String,
        start: Option<String>,
        end: Option<String>,
        rows: RowLimit,
    },
    DataRange {
        symbol: String,
        timeframe: String,
    },
    DataValidate {
        symbol: String,
        timeframe: String,
        repair: bool,
    },
    /// Merges the bars of a file on the daemon's machine (an absolute path) into a series.
    DataImport {
        path: String,
        symbol: String,
        timeframe: String,
        /// Zone of naive timestamps in the file (IANA name or `±HH:MM`); UTC when absent.
        timezone: Option<String>,
    },
    /// Writes a series (or a window of it) to an absolute path on the daemon's machine.
    DataExport {
        symbol: String,
        timeframe: String,
        start: Option<String>,
        end: Option<String>,
        format: ExportFormat,
        output: String,
    },
    /// Streams the series aggregated to a coarser timeframe like [`Request::DataShow`]; with `save`
    /// also stores it as its own series.
    DataResample {
        symbol: String,
        from: String,
        to: String,
        start: Option<String>,
        end: Option<String>,
        rows: RowLimit,
        save: bool,
    },
    /// Starts an `ib_load` operation fetching bars from IB into the store; with `follow` the answer
    /// streams like [`Request::OpsWatch`]. `start`/`end` are UTC dates or times.
    DataLoad {
        symbol: String,
        timeframe: String,
        mode: LoadMode,
        start: Option<String>,
        end: Option<String>,
        follow: bool,
    },
    /// The IB connection: state, server version, pacing budget, last error.
    IbStatus,
    /// One cheap round trip to IB (connecting first if needed).
    IbTest,
    /// The contract IB resolves a symbol to.
    IbContract {
        symbol: String,
    },
    /// The earliest bar IB has for a symbol.
    IbHead {
        symbol: String,
        timeframe: String,
    },
    /// Every strategy file (`*.yaml`, `*.yml`) in a directory on the daemon's machine, validated.
    StrategiesList {
        dir: String,
    },
    /// Validates and resolves a strategy file (an absolute path on the daemon's machine).
    StrategyShow {
        path: String,
    },
    /// The indicator registry: names, parameters with defaults, outputs, warm-up.
    IndicatorsList,
    /// Computes indicators (`rsi:period=14`, `macd`, ...) over a series; computed on the whole
    /// series so the window's first rows are past warm-up, then cut to the window.
    IndicatorsCompute {
        symbol: String,
        timeframe: String,
        indicators: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        rows: RowLimit,
    },
    /// The fuzzy membership columns of a strategy file's sets over a series.
    FuzzyCompute {
        symbol: String,
        timeframe: String,
        strategy: String,
        start: Option<String>,
        end: Option<String>,
        rows: RowLimit,
    },
    /// Starts a `training` operation: the strategy's text (read by the client), trained on stored
    /// bars; `symbols` / `timeframes` replace the strategy's lists, `device` is auto|cpu|cuda[:N].
    /// With `follow` the answer streams like [`Request::OpsWatch`].
    Train {
        strategy_yaml: String,
        strategy_path: String,
        symbols: Option<Vec<String>>,
        timeframes: Option<Vec<String>>,
        start: Option<String>,
        end: Option<String>,
        device: Option<String>,
        follow: bool,
    },
    /// Every stored model, newest first per strategy.
    ModelsList,
    /// One model (`STRATEGY/SYMBOLS_TF_vN`, or `STRATEGY` for its latest): metadata and metrics.
    ModelsShow {
        name: String,
    },
    ModelsDelete {
        name: String,
    },
    /// A model's files (weights, strategy, features, metrics, metadata), for a daemon that
    /// delegates trainings here to copy the result into its own store.
    ModelExport {
        name: String,
    },
    /// The model's signal and class probabilities at the last bar at or before `at` (UTC; the
    /// newest bar when absent).
    Predict {
        model: String,
        symbol: String,
        timeframe: String,
        at: Option<String>,
    },
    /// Starts a `backtest` operation replaying a stored model over stored bars from `start` to
    /// `end` (UTC; indicators warm up on the bars before `start`). Costs and sizing default to the
    /// engine's documented defaults. With `follow` the answer streams like [`Request::OpsWatch`].
    Backtest {
        model: String,
        symbol: String,
        timeframe: String,
        start: Option<String>,
        end: Option<String>,
        capital: Option<f64>,
        commission: Option<f64>,
        slippage: Option<f64>,
        position_fraction: Option<f64>,
        allow_short: bool,
        follow: bool,
    },
    /// A finished backtest's summary; optionally its trades, its equity curve (streamed as
    /// [`Response::Equity`] chunks before the reply) and a chart.
    BacktestShow {
        id: u64,
        trades: bool,
        equity: bool,
        plot: Option<PlotFormat>,
    },
}

impl Request {
    /// The service that answers this request, for statistics.
    pub fn service(&self) -> &'static str {
        match self {
            Request::Ping { .. }
            | Request::Health
            | Request::Status
            | Request::Config
            | Request::Stats
            | Request::Shutdown => "system",
            Request::OpsList { .. }
            | Request::OpsShow { .. }
            | Request::OpsWatch { .. }
            | Request::OpsCancel { .. }
            | Request::OpsDemo { .. } => "operations",
            Request::DataList
            | Request::DataShow { .. }
            | Request::DataRange { .. }
            | Request::DataValidate { .. }
            | Request::DataImport { .. }
            | Request::DataExport { .. }
            | Request::DataResample { .. } => "data",
            Request::DataLoad { .. }
            | Request::IbStatus
            | Request::IbTest
            | Request::IbContract { .. }
            | Request::IbHead { .. } => "ib",
            // Computations on stored series and files beside them: counted with the data service.
            Request::StrategiesList { .. }
            | Request::StrategyShow { .. }
            | Request::IndicatorsList
            | Request::IndicatorsCompute { .. }
            | Request::FuzzyCompute { .. } => "strategy",
            Request::Train { .. }
            | Request::ModelsList
            | Request::ModelsShow { .. }
            | Request::ModelsDelete { .. }
            | Request::ModelExport { .. }
            | Request::Predict { .. } => "training",
            Request::Backtest { .. } | Request::BacktestShow { .. } => "backtest",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Pong {
        payload: u64,
    },
    Health(HealthReport),
    Status(StatusReport),
    Config(ConfigReport),
    Stats(StatsReport),
    Stopping,
    Operation(OperationRecord),
    Operations(OperationList),
    DataList(SeriesList),
    DataRange(SeriesRange),
    /// Ends a stream of [`Response::Bars`].
    DataBars(BarsSummary),
    DataValidation(ValidationReport),
    DataImported(ImportReport),
    DataExported(ExportReport),
    IbStatus(IbStatusReport),
    IbTest(IbTestReport),
    IbContract(IbContractInfo),
    IbHead(IbHeadInfo),
    Strategies(StrategyList),
    Strategy(StrategyReport),
    Indicators(IndicatorCatalog),
    Columns(ColumnTable),
    Models(ModelList),
    Model(ModelDetail),
    ModelDeleted(ModelInfo),
    Prediction(PredictionReport),
    Backtest(Box<BacktestReport>),
    ModelBundle(Box<ModelBundle>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Non-terminal: a snapshot of a followed operation.
    Update(OperationRecord),
    /// Non-terminal: the next rows of a bar series, in time order.
    Bars(BarChunk),
    /// Non-terminal: the next rows of a backtest's equity curve.
    Equity(EquityChunk),
    /// Terminal: success.
    Reply(Reply),
    /// Terminal: a typed failure.
    Error(WireError),
}

impl Response {
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            Response::Update(_) | Response::Bars(_) | Response::Equity(_)
        )
    }
}
