//! Requests and the frames that answer them.
//!
//! After the handshake the client sends one [`Request`] and reads [`Response`] frames until a terminal
//! one ([`Response::Reply`] or [`Response::Error`]); then it may send the next request.

use crate::backtest::*;
use crate::error::WireError;
use crate::model::*;
use crate::request::*;
use crate::strategy::*;
use serde::{Deserialize, Serialize};

/// One request; each variant carries its command's struct from [`crate::request`], handed whole
/// to the daemon's handler for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Ping(Ping),
    Health,
    Status,
    Config,
    Stats,
    Shutdown,
    OpsList(OpsList),
    OpsShow(OpRef),
    /// Streams [`Response::Update`] until the operation ends, then its final record.
    OpsWatch(OpRef),
    OpsCancel(OpRef),
    OpsDemo(OpsDemo),
    /// Every series in the data directory.
    DataList,
    DataShow(DataShow),
    DataRange(SeriesRef),
    DataValidate(DataValidate),
    DataImport(DataImport),
    DataExport(DataExport),
    DataResample(DataResample),
    DataLoad(DataLoad),
    /// The IB connection: state, server version, pacing budget, last error.
    IbStatus,
    /// One cheap round trip to IB (connecting first if needed).
    IbTest,
    IbContract(IbContract),
    IbHead(IbHead),
    StrategiesList(StrategiesList),
    StrategyShow(StrategyShow),
    /// The indicator registry: names, parameters with defaults, outputs, warm-up.
    IndicatorsList,
    IndicatorsCompute(IndicatorsCompute),
    FuzzyCompute(FuzzyCompute),
    Train(Train),
    /// Every stored model, newest first per strategy.
    ModelsList,
    ModelsShow(ModelRef),
    ModelsDelete(ModelRef),
    /// A model's files (weights, strategy, features, metrics, metadata), for a daemon that
    /// delegates trainings here to copy the result into its own store.
    ModelExport(ModelRef),
    Predict(Predict),
    Backtest(Backtest),
    BacktestShow(BacktestShow),
}

impl Request {
    /// The service that answers this request, for statistics.
    pub fn service(&self) -> &'static str {
        match self {
            Request::Ping(_)
            | Request::Health
            | Request::Status
            | Request::Config
            | Request::Stats
            | Request::Shutdown => "system",
            Request::OpsList(_)
            | Request::OpsShow(_)
            | Request::OpsWatch(_)
            | Request::OpsCancel(_)
            | Request::OpsDemo(_) => "operations",
            Request::DataList
            | Request::DataShow(_)
            | Request::DataRange(_)
            | Request::DataValidate(_)
            | Request::DataImport(_)
            | Request::DataExport(_)
            | Request::DataResample(_) => "data",
            Request::DataLoad(_)
            | Request::IbStatus
            | Request::IbTest
            | Request::IbContract(_)
            | Request::IbHead(_) => "ib",
            Request::StrategiesList(_)
            | Request::StrategyShow(_)
            | Request::IndicatorsList
            | Request::IndicatorsCompute(_)
            | Request::FuzzyCompute(_) => "strategy",
            Request::Train(_)
            | Request::ModelsList
            | Request::ModelsShow(_)
            | Request::ModelsDelete(_)
            | Request::ModelExport(_)
            | Request::Predict(_) => "training",
            Request::Backtest(_) | Request::BacktestShow(_) => "backtest",
        }
    }
}

// A reply is built once per request and moved once into its frame: its size on the stack costs
// nothing measurable, and boxing the operation record would touch every caller for no gain.
#[allow(clippy::large_enum_variant)]
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
    Model(Box<ModelDetail>),
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
