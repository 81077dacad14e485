//! Requests and the frames that answer them.
//!
//! After the handshake the client sends one [`Request`] and reads [`Response`] frames until a terminal
//! one ([`Response::Reply`] or [`Response::Error`]); then it may send the next request.

use crate::backtest::*;
use crate::chart::*;
use crate::error::WireError;
use crate::live::*;
use crate::model::*;
use crate::request::*;
use crate::strategy::*;
use crate::sweep::SweepReport;
use serde::{Deserialize, Serialize};

/// One request; each variant carries its command's struct from [`crate::request`], handed whole
/// to the daemon's handler for it. Its name in snake case (`ops_demo`) is [`Request::kind`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
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
    /// Every metric in the Prometheus text exposition format (`stats --format prometheus`).
    Metrics,
    DataSubscribe(Subscribe),
    DataUnsubscribe(Subscribe),
    DataSubscriptions,
    /// Streams [`Response::Bars`] (one chunk per stored batch) until the client leaves.
    DataFollow(Follow),
    /// Streams [`Response::Signal`] until the client leaves.
    PredictFollow(PredictFollow),
    /// Streams [`Response::File`] chunks, then [`Reply::Chart`].
    Chart(Chart),
    /// A backtest's HTML report; answered like [`Request::Chart`].
    BacktestHtml(BacktestHtml),
    /// Resumes an interrupted operation; answered like [`Request::OpsShow`] (or streamed).
    OpsResume(OpsResume),
    SweepRun(SweepRun),
    SweepShow(SweepShow),
    /// Cancels the sweep and every cell of it.
    SweepCancel(OpRef),
    /// Sweeps, newest first.
    SweepList,
}

impl Request {
    /// The request's name (`ping`, `ops_demo`, `data_show`): the `request` label of the
    /// daemon's metrics and the field of its log events.
    pub fn kind(&self) -> &'static str {
        self.into()
    }

    /// The service that answers this request, for statistics.
    pub fn service(&self) -> &'static str {
        match self {
            Request::Ping(_)
            | Request::Health
            | Request::Status
            | Request::Config
            | Request::Stats
            | Request::Shutdown
            | Request::Metrics => "system",
            Request::OpsList(_)
            | Request::OpsShow(_)
            | Request::OpsWatch(_)
            | Request::OpsCancel(_)
            | Request::OpsDemo(_)
            | Request::OpsResume(_) => "operations",
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
            Request::DataSubscribe(_)
            | Request::DataUnsubscribe(_)
            | Request::DataSubscriptions
            | Request::DataFollow(_)
            | Request::PredictFollow(_) => "live",
            Request::Chart(_) | Request::BacktestHtml(_) => "chart",
            Request::SweepRun(_)
            | Request::SweepShow(_)
            | Request::SweepCancel(_)
            | Request::SweepList => "sweep",
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
    Metrics(MetricsText),
    Subscription(SubscriptionInfo),
    Subscriptions(SubscriptionList),
    /// Ends a stream of [`Response::File`].
    Chart(ChartSummary),
    Sweep(Box<SweepReport>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Non-terminal: a snapshot of a followed operation.
    Update(OperationRecord),
    /// Non-terminal: the next rows of a bar series, in time order.
    Bars(BarChunk),
    /// Non-terminal: the next rows of a backtest's equity curve.
    Equity(EquityChunk),
    /// Non-terminal: a model's signal at a newly closed bar (`predict --follow`).
    Signal(SignalLine),
    /// Non-terminal: the next bytes of a drawn chart.
    File(FileChunk),
    /// Terminal: success.
    Reply(Reply),
    /// Terminal: a typed failure.
    Error(WireError),
}

impl Response {
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            Response::Update(_)
                | Response::Bars(_)
                | Response::Equity(_)
                | Response::Signal(_)
                | Response::File(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};
    use crate::model::{ExportFormat, LoadMode, RowLimit};
    use crate::operation::{DemoParams, OpParams};
    use std::collections::HashSet;
    use std::mem::discriminant;

    fn series() -> (String, String) {
        ("EURUSD".into(), "1h".into())
    }

    /// Every request, with the service that answers it.
    fn every_request() -> Vec<(Request, &'static str)> {
        let (symbol, timeframe) = series();
        let op = OpRef { id: 3 };
        let model = ModelRef {
            name: "s/EURUSD_1h_v1".into(),
        };
        vec![
            (Request::Ping(Ping { payload: 1 }), "system"),
            (Request::Health, "system"),
            (Request::Status, "system"),
            (Request::Config, "system"),
            (Request::Stats, "system"),
            (Request::Shutdown, "system"),
            (Request::Metrics, "system"),
            (
                Request::OpsList(OpsList {
                    state: Some(crate::model::OpState::Running),
                    kind: Some(crate::operation::OpKind::Training),
                    limit: 20,
                }),
                "operations",
            ),
            (Request::OpsShow(op), "operations"),
            (Request::OpsWatch(op), "operations"),
            (Request::OpsCancel(op), "operations"),
            (
                Request::OpsDemo(OpsDemo {
                    seconds: 1.0,
                    steps: 4,
                    fail_at: Some(2),
                    follow: true,
                }),
                "operations",
            ),
            (Request::DataList, "data"),
            (
                Request::DataShow(DataShow {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    start: Some("2024-01-01".into()),
                    end: None,
                    rows: RowLimit::Tail(5),
                }),
                "data",
            ),
            (
                Request::DataRange(SeriesRef {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                }),
                "data",
            ),
            (
                Request::DataValidate(DataValidate {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    repair: true,
                }),
                "data",
            ),
            (
                Request::DataImport(DataImport {
                    path: "/tmp/x.csv".into(),
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    timezone: Some("America/New_York".into()),
                    follow: false,
                }),
                "data",
            ),
            (
                Request::DataExport(DataExport {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    start: None,
                    end: Some("2024-02-01".into()),
                    format: ExportFormat::Parquet,
                    output: "/tmp/x.parquet".into(),
                }),
                "data",
            ),
            (
                Request::DataResample(DataResample {
                    symbol: symbol.clone(),
                    from: "1h".into(),
                    to: "1d".into(),
                    start: None,
                    end: None,
                    rows: RowLimit::Head(10),
                    save: true,
                }),
                "data",
            ),
            (
                Request::DataLoad(DataLoad {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    mode: LoadMode::Backfill,
                    start: Some("2020-01-01".into()),
                    end: None,
                    follow: true,
                }),
                "ib",
            ),
            (Request::IbStatus, "ib"),
            (Request::IbTest, "ib"),
            (
                Request::IbContract(IbContract {
                    symbol: symbol.clone(),
                }),
                "ib",
            ),
            (
                Request::IbHead(IbHead {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                }),
                "ib",
            ),
            (
                Request::StrategiesList(StrategiesList {
                    dir: "/strategies".into(),
                }),
                "strategy",
            ),
            (
                Request::StrategyShow(StrategyShow {
                    path: "/strategies/s.yaml".into(),
                }),
                "strategy",
            ),
            (Request::IndicatorsList, "strategy"),
            (
                Request::IndicatorsCompute(IndicatorsCompute {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    indicators: vec!["rsi:period=14".into(), "macd".into()],
                    start: None,
                    end: None,
                    rows: RowLimit::All,
                }),
                "strategy",
            ),
            (
                Request::FuzzyCompute(FuzzyCompute {
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    strategy: "/strategies/s.yaml".into(),
                    start: None,
                    end: None,
                    rows: RowLimit::All,
                }),
                "strategy",
            ),
            (
                Request::Train(Train {
                    strategy_yaml: "name: s\n".into(),
                    strategy_path: "/strategies/s.yaml".into(),
                    symbols: Some(vec![symbol.clone()]),
                    timeframes: None,
                    start: None,
                    end: None,
                    device: Some("cpu".into()),
                    follow: true,
                }),
                "training",
            ),
            (Request::ModelsList, "training"),
            (Request::ModelsShow(model.clone()), "training"),
            (Request::ModelsDelete(model.clone()), "training"),
            (Request::ModelExport(model.clone()), "training"),
            (
                Request::Predict(Predict {
                    model: model.name.clone(),
                    symbol: symbol.clone(),
                    timeframe: timeframe.clone(),
                    at: Some("2024-03-01T12:00:00Z".into()),
                }),
                "training",
            ),
            (
                Request::Backtest(Backtest {
                    model: model.name.clone(),
                    symbol,
                    timeframe,
                    start: None,
                    end: None,
                    capital: Some(50_000.0),
                    commission: None,
                    slippage: Some(0.001),
                    position_fraction: None,
                    allow_short: true,
                    follow: false,
                }),
                "backtest",
            ),
            (
                Request::BacktestShow(BacktestShow {
                    id: 9,
                    trades: true,
                    equity: false,
                    plot: Some(PlotFormat::Svg),
                }),
                "backtest",
            ),
            (
                Request::DataSubscribe(Subscribe {
                    symbol: "EURUSD".into(),
                    timeframe: "1m".into(),
                }),
                "live",
            ),
            (
                Request::DataUnsubscribe(Subscribe {
                    symbol: "EURUSD".into(),
                    timeframe: "1m".into(),
                }),
                "live",
            ),
            (Request::DataSubscriptions, "live"),
            (
                Request::DataFollow(Follow {
                    symbol: "EURUSD".into(),
                    timeframe: "1m".into(),
                    since: Some("2024-01-02".into()),
                }),
                "live",
            ),
            (
                Request::PredictFollow(PredictFollow {
                    model: "s".into(),
                    symbol: "EURUSD".into(),
                    timeframe: "1m".into(),
                    since: None,
                }),
                "live",
            ),
            (
                Request::Chart(Chart {
                    symbol: "EURUSD".into(),
                    timeframe: "1h".into(),
                    start: Some("2024-01-01".into()),
                    end: None,
                    indicators: vec!["sma:period=20".into(), "rsi".into()],
                    strategy: Some("/strategies/s.yaml".into()),
                    fuzzy: Some("rsi_14".into()),
                    backtest: Some(9),
                    style: CandleStyle::Ohlc,
                    format: ChartFormat::Html,
                    width: Some(1600),
                    height: None,
                }),
                "chart",
            ),
            (Request::BacktestHtml(BacktestHtml { id: 9 }), "chart"),
            (
                Request::OpsResume(OpsResume {
                    id: 3,
                    follow: true,
                }),
                "operations",
            ),
            (
                Request::SweepRun(SweepRun {
                    sweep_yaml: "name: g".into(),
                    sweep_path: "/s/g.yaml".into(),
                    strategy_yaml: "name: s".into(),
                    strategy_path: "/s/s.yaml".into(),
                    executor: Some(crate::sweep::Executor::Slurm),
                    follow: false,
                }),
                "sweep",
            ),
            (
                Request::SweepShow(SweepShow {
                    id: 4,
                    by: Some(crate::sweep::RankBy::Calmar),
                }),
                "sweep",
            ),
            (Request::SweepCancel(op), "sweep"),
            (Request::SweepList, "sweep"),
        ]
    }

    /// Does not compile when a variant is added: add it to [`every_request`] too.
    fn variant_count_guard(r: &Request) -> usize {
        match r {
            Request::Ping(_)
            | Request::Health
            | Request::Status
            | Request::Config
            | Request::Stats
            | Request::Shutdown
            | Request::OpsList(_)
            | Request::OpsShow(_)
            | Request::OpsWatch(_)
            | Request::OpsCancel(_)
            | Request::OpsDemo(_)
            | Request::DataList
            | Request::DataShow(_)
            | Request::DataRange(_)
            | Request::DataValidate(_)
            | Request::DataImport(_)
            | Request::DataExport(_)
            | Request::DataResample(_)
            | Request::DataLoad(_)
            | Request::IbStatus
            | Request::IbTest
            | Request::IbContract(_)
            | Request::IbHead(_)
            | Request::StrategiesList(_)
            | Request::StrategyShow(_)
            | Request::IndicatorsList
            | Request::IndicatorsCompute(_)
            | Request::FuzzyCompute(_)
            | Request::Train(_)
            | Request::ModelsList
            | Request::ModelsShow(_)
            | Request::ModelsDelete(_)
            | Request::ModelExport(_)
            | Request::Predict(_)
            | Request::Backtest(_)
            | Request::BacktestShow(_)
            | Request::Metrics
            | Request::DataSubscribe(_)
            | Request::DataUnsubscribe(_)
            | Request::DataSubscriptions
            | Request::DataFollow(_)
            | Request::PredictFollow(_)
            | Request::Chart(_)
            | Request::BacktestHtml(_)
            | Request::OpsResume(_)
            | Request::SweepRun(_)
            | Request::SweepShow(_)
            | Request::SweepCancel(_)
            | Request::SweepList => 49,
        }
    }

    #[test]
    fn every_request_names_its_service() {
        let all = every_request();
        let variants: HashSet<_> = all.iter().map(|(r, _)| discriminant(r)).collect();
        assert_eq!(variants.len(), all.len(), "a variant is listed twice");
        assert_eq!(variants.len(), variant_count_guard(&all[0].0));
        for (req, service) in &all {
            assert_eq!(req.service(), *service, "{req:?}");
        }
    }

    #[test]
    fn request_kinds_are_distinct_snake_case_names() {
        let kinds: HashSet<&str> = every_request().iter().map(|(r, _)| r.kind()).collect();
        assert_eq!(kinds.len(), every_request().len());
        assert!(kinds.contains("ops_demo") && kinds.contains("ping") && kinds.contains("metrics"));
        assert!(
            kinds
                .iter()
                .all(|k| k.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        );
    }

    #[test]
    fn every_request_round_trips_on_the_wire() {
        for (req, _) in every_request() {
            let back: Request = decode(&encode(&req).unwrap()).unwrap();
            assert_eq!(back, req);
        }
    }

    #[test]
    fn only_replies_and_errors_end_an_answer() {
        let record = crate::model::OperationRecord {
            id: 1,
            kind: crate::operation::OpKind::Demo,
            service: "operations".into(),
            params: OpParams::Demo(DemoParams {
                seconds: 1.0,
                steps: 1,
                fail_at: None,
            }),
            state: crate::model::OpState::Running,
            created_ms: 0,
            started_ms: Some(1),
            finished_ms: None,
            progress: Default::default(),
            queue_position: None,
            result: None,
            error: None,
        };
        let equity = EquityChunk {
            ts: vec![1, 2],
            close: vec![1.0, 1.1],
            equity: vec![100.0, 101.0],
            buy_hold: vec![100.0, 110.0],
        };
        let non_terminal = [
            Response::Update(record),
            Response::Bars(BarChunk::default()),
            Response::Equity(equity),
            Response::File(FileChunk {
                bytes: b"<html>".to_vec(),
            }),
        ];
        let terminal = [
            Response::Reply(Reply::Stopping),
            Response::Reply(Reply::Pong { payload: 5 }),
            Response::Error(WireError::cancelled("cancelled by the user")),
        ];
        for r in non_terminal {
            assert!(!r.is_terminal(), "{r:?}");
            let back: Response = decode(&encode(&r).unwrap()).unwrap();
            assert_eq!(back, r);
        }
        for r in terminal {
            assert!(r.is_terminal(), "{r:?}");
            let back: Response = decode(&encode(&r).unwrap()).unwrap();
            assert_eq!(back, r);
        }
    }
}
