//! Operations as types: their kinds, their parameters and their results, one struct per kind.
//!
//! On the wire (bincode) [`OpParams`] and [`OpResult`] are ordinary tagged enums. In JSON (the
//! `--json` output and the operations database) only the inner struct is written, because the
//! record's `kind` already says which one it is: `jq .result.epochs_run` keeps working, and records
//! written before these types existed still read back ([`OpParams::from_json`]).

use crate::backtest::BacktestSummary;
use crate::model::{ImportReport, LoadMode};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What an operation does. Each kind has its own queue and concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Demo,
    IbLoad,
    DataImport,
    Training,
    Backtest,
    Sweep,
    SweepCell,
}

impl OpKind {
    pub const ALL: [OpKind; 7] = [
        OpKind::Demo,
        OpKind::IbLoad,
        OpKind::DataImport,
        OpKind::Training,
        OpKind::Backtest,
        OpKind::Sweep,
        OpKind::SweepCell,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Demo => "demo",
            OpKind::IbLoad => "ib_load",
            OpKind::DataImport => "data_import",
            OpKind::Training => "training",
            OpKind::Backtest => "backtest",
            OpKind::Sweep => "sweep",
            OpKind::SweepCell => "sweep_cell",
        }
    }

    /// The service that runs operations of this kind.
    pub fn service(self) -> &'static str {
        match self {
            OpKind::Demo => "operations",
            OpKind::IbLoad => "ib",
            OpKind::DataImport => "data",
            OpKind::Training => "training",
            OpKind::Backtest => "backtest",
            OpKind::Sweep | OpKind::SweepCell => "sweep",
        }
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = OpKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown operation kind {s:?} (known: {})", known.join(", "))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoParams {
    pub seconds: f64,
    pub steps: u32,
    pub fail_at: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoResult {
    pub steps: u32,
    pub slept_secs: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadParams {
    pub symbol: String,
    pub timeframe: String,
    pub mode: LoadMode,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
}

/// What an `ib_load` did. Fields that only some paths fill (a local-mode load contacts nobody;
/// a load through an IB host reports the host's own summary) are `null` elsewhere.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
// Records stored before a field existed read back with its default.
#[serde(default)]
pub struct LoadSummary {
    pub symbol: String,
    pub timeframe: String,
    pub mode: String,
    /// The contract IB resolved (`SYMBOL SECTYPE EXCHANGE`).
    pub contract: Option<String>,
    pub segments: u64,
    pub bars_received: u64,
    pub added: u64,
    pub replaced: u64,
    /// Writes to the store (batched merges).
    pub writes: u64,
    pub rows_after: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Time spent waiting for IB's pacing rules before requests (every attempt's wait, retried
    /// ones included).
    pub pacing_wait_secs: f64,
    pub retries: u64,
    /// Pacing violations (IB error 162) this load received.
    pub pacing_violations: u64,
    /// Time spent backing off after those violations before retrying.
    pub violation_backoff_secs: f64,
    /// Time spent waiting for the gateway connection to come back.
    pub reconnect_wait_secs: f64,
    pub note: Option<String>,
    /// Set when the load ran on an IB host: its socket, its operation and its summary.
    pub host_service: Option<String>,
    pub host_operation: Option<u64>,
    pub host_result: Option<Box<LoadSummary>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportParams {
    pub path: String,
    pub symbol: String,
    pub timeframe: String,
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingParams {
    pub strategy: String,
    pub file: String,
    pub symbols: Vec<String>,
    pub timeframes: Vec<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    /// The resolved device (`cpu`, `cuda:0`), or what was asked of a training host.
    pub device: Option<String>,
    pub host_service: Option<String>,
    /// The strategy's text as trained, so `ops resume` can continue an interrupted training
    /// (absent in records written before resuming existed).
    #[serde(default)]
    pub strategy_yaml: Option<String>,
}

/// Samples in each part of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PartSizes {
    pub train: u64,
    pub validation: u64,
    pub test: u64,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
// Records stored before a field existed read back with its default.
#[serde(default)]
pub struct TrainingSummary {
    /// The model's name in this daemon's store.
    pub model: String,
    pub device: String,
    pub test_accuracy: f64,
    pub test_loss: Option<f64>,
    pub epochs_run: u32,
    pub best_epoch: u32,
    pub stopped_early: bool,
    pub samples: PartSizes,
    pub samples_per_sec: f64,
    pub train_secs: f64,
    pub parameters: u64,
    /// Set when the training ran on a training host: its socket, its operation and the model's
    /// name there.
    pub host_service: Option<String>,
    pub host_operation: Option<u64>,
    pub host_model: Option<String>,
    /// Set when the training continued from a checkpoint: the epochs it had already finished.
    pub resumed_from_epoch: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacktestParams {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub capital: Option<f64>,
    pub commission: Option<f64>,
    pub slippage: Option<f64>,
    pub position_fraction: Option<f64>,
    pub allow_short: bool,
    pub host_service: Option<String>,
}

macro_rules! by_kind {
    ($(#[$meta:meta])* $name:ident / $wire:ident { $($variant:ident($ty:ty)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $($variant($ty),)*
        }

        impl $name {
            pub fn kind(&self) -> OpKind {
                match self {
                    $($name::$variant(_) => OpKind::$variant,)*
                }
            }

            /// The inner struct as JSON (what the database stores and `--json` prints).
            pub fn to_json(&self) -> String {
                // Plain structs of numbers, strings and options: serializing them cannot fail.
                let r = match self {
                    $($name::$variant(v) => serde_json::to_string(v),)*
                };
                r.unwrap_or_else(|e| format!("{{\"unserializable\":\"{e}\"}}"))
            }

            /// Reads the inner struct of a record of kind `kind` back from JSON.
            pub fn from_json(kind: OpKind, json: &str) -> Result<Self, serde_json::Error> {
                Self::from_value(kind, serde_json::from_str(json)?)
            }

            pub fn from_value(kind: OpKind, v: serde_json::Value) -> Result<Self, serde_json::Error> {
                Ok(match kind {
                    $(OpKind::$variant => $name::$variant(serde_json::from_value(v)?),)*
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    match self {
                        $($name::$variant(v) => v.serialize(s),)*
                    }
                } else {
                    $wire::TaggedRef::from(self).serialize(s)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    // JSON carries no tag: the record's kind decides (see OperationRecord).
                    return Err(D::Error::custom(concat!(
                        stringify!($name),
                        " in JSON needs the operation's kind: use from_json"
                    )));
                }
                Ok($wire::Tagged::deserialize(d)?.into())
            }
        }

        /// The wire shape: externally tagged, so bincode can tell the variants apart.
        mod $wire {
            use super::*;
            #[derive(Deserialize)]
            pub enum Tagged {
                $($variant($ty),)*
            }
            /// The same shape, borrowed: a record is serialized at every progress update, and
            /// its parameters need not be cloned for that.
            #[derive(Serialize)]
            #[serde(rename = "Tagged")]
            pub enum TaggedRef<'a> {
                $($variant(&'a $ty),)*
            }
            impl<'a> From<&'a $name> for TaggedRef<'a> {
                fn from(v: &'a $name) -> Self {
                    match v {
                        $($name::$variant(x) => TaggedRef::$variant(x),)*
                    }
                }
            }
            impl From<Tagged> for $name {
                fn from(v: Tagged) -> Self {
                    match v {
                        $(Tagged::$variant(x) => $name::$variant(x),)*
                    }
                }
            }
        }
    };
}

by_kind!(
    /// An operation's parameters, one struct per kind.
    OpParams / params_wire {
        Demo(DemoParams),
        IbLoad(LoadParams),
        DataImport(ImportParams),
        Training(TrainingParams),
        Backtest(BacktestParams),
        Sweep(crate::sweep::SweepParams),
        SweepCell(crate::sweep::CellParams),
    }
);

by_kind!(
    /// A completed operation's result, one struct per kind.
    OpResult / result_wire {
        Demo(DemoResult),
        IbLoad(LoadSummary),
        DataImport(ImportReport),
        Training(TrainingSummary),
        Backtest(Box<BacktestSummary>),
        Sweep(crate::sweep::SweepSummary),
        SweepCell(crate::sweep::CellResult),
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};
    use crate::model::{OpState, OperationRecord, Progress};
    use crate::sweep::*;

    fn record(params: OpParams, result: Option<OpResult>) -> OperationRecord {
        OperationRecord {
            id: 7,
            kind: params.kind(),
            service: params.kind().service().into(),
            params,
            state: OpState::Completed,
            created_ms: 1,
            started_ms: Some(2),
            finished_ms: Some(3),
            progress: Progress::default(),
            queue_position: None,
            result,
            error: None,
        }
    }

    fn load_summary() -> LoadSummary {
        LoadSummary {
            symbol: "EURUSD".into(),
            timeframe: "1h".into(),
            mode: "tail".into(),
            bars_received: 12,
            host_result: Some(Box::new(LoadSummary {
                symbol: "EURUSD".into(),
                segments: 3,
                ..LoadSummary::default()
            })),
            ..LoadSummary::default()
        }
    }

    #[test]
    fn records_round_trip_on_the_wire_and_in_json() {
        let recs = [
            record(
                OpParams::Demo(DemoParams {
                    seconds: 1.5,
                    steps: 3,
                    fail_at: Some(2),
                }),
                Some(OpResult::Demo(DemoResult {
                    steps: 3,
                    slept_secs: 1.5,
                })),
            ),
            record(
                OpParams::IbLoad(LoadParams {
                    symbol: "EURUSD".into(),
                    timeframe: "1h".into(),
                    mode: LoadMode::Tail,
                    start_ms: None,
                    end_ms: Some(5),
                }),
                Some(OpResult::IbLoad(load_summary())),
            ),
            record(
                OpParams::Training(TrainingParams {
                    strategy: "s".into(),
                    file: "/s.yaml".into(),
                    symbols: vec!["A".into()],
                    timeframes: vec!["1h".into()],
                    start: None,
                    end: Some("2020-01-01".into()),
                    device: Some("cpu".into()),
                    host_service: None,
                    strategy_yaml: None,
                }),
                None,
            ),
        ];
        for rec in recs {
            let wire: OperationRecord = decode(&encode(&rec).unwrap()).unwrap();
            assert_eq!(wire, rec);
            let json = serde_json::to_string(&rec).unwrap();
            let back: OperationRecord = serde_json::from_str(&json).unwrap();
            assert_eq!(back, rec, "{json}");
        }
    }

    #[test]
    fn json_holds_the_inner_struct_without_a_tag() {
        let rec = record(
            OpParams::Demo(DemoParams {
                seconds: 5.0,
                steps: 10,
                fail_at: None,
            }),
            Some(OpResult::Demo(DemoResult {
                steps: 10,
                slept_secs: 5.0,
            })),
        );
        let v: serde_json::Value = serde_json::to_value(&rec).unwrap();
        assert_eq!(v["kind"], "demo");
        assert_eq!(v["params"]["steps"], 10);
        assert_eq!(v["params"]["fail_at"], serde_json::Value::Null);
        assert_eq!(v["result"]["slept_secs"], 5.0);
    }

    #[test]
    fn params_written_before_the_types_read_back() {
        // What daemons of protocol 2 stored for a load (no `null` fields for what was absent).
        let old =
            r#"{"symbol":"EURUSD","timeframe":"1h","mode":"tail","start_ms":null,"end_ms":null}"#;
        let p = OpParams::from_json(OpKind::IbLoad, old).unwrap();
        assert_eq!(p.kind(), OpKind::IbLoad);
        let old = r#"{"symbol":"EURUSD","timeframe":"1h","mode":"local","segments":0,"bars_received":0,"rows_after":5,"first_ms":1,"last_ms":2,"note":"local mode: IB was not contacted"}"#;
        let OpResult::IbLoad(r) = OpResult::from_json(OpKind::IbLoad, old).unwrap() else {
            panic!("wrong kind");
        };
        assert_eq!(r.rows_after, 5);
        assert_eq!(r.added, 0);
    }

    fn backtest_summary() -> BacktestSummary {
        use crate::backtest::{BacktestConfig, BuyHoldSummary, Metrics};
        BacktestSummary {
            id: 4,
            model: "s/EURUSD_1h_v2".into(),
            symbol: "EURUSD".into(),
            timeframe: "1h".into(),
            first_ms: 1_700_000_000_000,
            last_ms: 1_700_360_000_000,
            bars: 100,
            config: BacktestConfig::default(),
            metrics: Metrics {
                start_equity: 100_000.0,
                end_equity: 101_500.0,
                total_return: 0.015,
                annual_return: 0.2,
                volatility: 0.1,
                sharpe: 1.5,
                sortino: 2.0,
                max_drawdown: 0.03,
                max_drawdown_bars: 12,
                max_drawdown_ms: 43_200_000,
                calmar: 6.6,
                trades: 3,
                win_rate: 2.0 / 3.0,
                profit_factor: 2.5,
                avg_win: 800.0,
                avg_loss: -100.0,
                avg_holding_bars: 5.0,
                avg_holding_ms: 18_000_000.0,
                exposure: 0.15,
                total_commission: 30.0,
                total_slippage: 15.0,
                periods_per_year: 6240.0,
                gross_profit: 1600.0,
                gross_loss: 100.0,
            },
            buy_hold: BuyHoldSummary {
                total_return: 0.01,
                annual_return: 0.1,
                volatility: 0.12,
                sharpe: 0.8,
                max_drawdown: 0.05,
                end_equity: 101_000.0,
            },
            actions: [3, 90, 7],
            acted: 6,
            warnings: vec!["overlaps the training data".into()],
            host_service: Some("/run/host.sock".into()),
            host_operation: Some(17),
        }
    }

    /// Params and a result of every kind.
    fn every_kind() -> Vec<(OpParams, OpResult)> {
        vec![
            (
                OpParams::Demo(DemoParams {
                    seconds: 0.5,
                    steps: 5,
                    fail_at: None,
                }),
                OpResult::Demo(DemoResult {
                    steps: 5,
                    slept_secs: 0.5,
                }),
            ),
            (
                OpParams::IbLoad(LoadParams {
                    symbol: "AAPL".into(),
                    timeframe: "1d".into(),
                    mode: LoadMode::Full,
                    start_ms: Some(-86_400_000),
                    end_ms: None,
                }),
                OpResult::IbLoad(load_summary()),
            ),
            (
                OpParams::DataImport(ImportParams {
                    path: "/data/in.csv".into(),
                    symbol: "AAPL".into(),
                    timeframe: "1d".into(),
                    timezone: Some("+02:00".into()),
                }),
                OpResult::DataImport(ImportReport {
                    symbol: "AAPL".into(),
                    timeframe: "1d".into(),
                    source: "/data/in.csv".into(),
                    stored: "/data/AAPL_1d.csv".into(),
                    layout: "timestamp".into(),
                    timezone: "+02:00".into(),
                    rows_read: 10,
                    duplicates_in_file: 1,
                    rows_before: 5,
                    rows_after: 12,
                    added: 7,
                    replaced: 2,
                }),
            ),
            (
                OpParams::Training(TrainingParams {
                    strategy: "s".into(),
                    file: "/s.yaml".into(),
                    symbols: vec!["A".into(), "B".into()],
                    timeframes: vec!["1h".into(), "4h".into()],
                    start: Some("2020-01-01".into()),
                    end: None,
                    device: None,
                    host_service: Some("/run/train.sock".into()),
                    strategy_yaml: Some("name: s".into()),
                }),
                OpResult::Training(TrainingSummary {
                    model: "s/A-B_1h_v1".into(),
                    device: "cpu".into(),
                    test_accuracy: 0.55,
                    test_loss: Some(0.9),
                    epochs_run: 12,
                    best_epoch: 9,
                    stopped_early: true,
                    samples: PartSizes {
                        train: 700,
                        validation: 150,
                        test: 150,
                    },
                    samples_per_sec: 12_000.0,
                    train_secs: 3.5,
                    parameters: 1234,
                    host_service: None,
                    host_operation: Some(2),
                    host_model: Some("s/A-B_1h_v7".into()),
                    resumed_from_epoch: Some(3),
                }),
            ),
            (
                OpParams::Backtest(BacktestParams {
                    model: "s/EURUSD_1h_v2".into(),
                    symbol: "EURUSD".into(),
                    timeframe: "1h".into(),
                    start: None,
                    end: Some("2024-01-01".into()),
                    capital: Some(1e5),
                    commission: Some(0.0),
                    slippage: None,
                    position_fraction: Some(0.5),
                    allow_short: true,
                    host_service: None,
                }),
                OpResult::Backtest(Box::new(backtest_summary())),
            ),
            (
                OpParams::Sweep(SweepParams {
                    name: "g".into(),
                    file: "/s/g.yaml".into(),
                    strategy_file: "/s/s.yaml".into(),
                    executor: Executor::Slurm,
                    sets: 6,
                    symbols: vec!["EURUSD".into()],
                    timeframes: vec!["1h".into(), "4h".into()],
                    windows: 3,
                    cells: 36,
                    max_parallel: 2,
                    rank_by: RankBy::Calmar,
                    sweep_yaml: "name: g".into(),
                    strategy_yaml: "name: s".into(),
                }),
                OpResult::Sweep(SweepSummary {
                    cells: 36,
                    completed: 35,
                    failed: 1,
                    resumed: 2,
                    slurm_job: Some(12),
                    outcomes: vec![CellOutcome {
                        cell: 0,
                        state: crate::model::OpState::Completed,
                        operation: Some(13),
                        result: Some(cell_result()),
                        error: None,
                    }],
                    ..SweepSummary::default()
                }),
            ),
            (
                OpParams::SweepCell(CellParams {
                    sweep: 12,
                    cell: CellSpec {
                        index: 5,
                        set: 1,
                        symbol: "EURUSD".into(),
                        timeframe: "4h".into(),
                        window: 2,
                        train: Span {
                            start_ms: 0,
                            end_ms: 10,
                        },
                        test: Span {
                            start_ms: 10,
                            end_ms: 20,
                        },
                    },
                    label: "indicators.rsi.period=7".into(),
                    executor: Executor::Local,
                }),
                OpResult::SweepCell(cell_result()),
            ),
        ]
    }

    fn cell_result() -> CellResult {
        CellResult {
            model: "g-12-c5/EURUSD_4h_v1".into(),
            epochs_run: 9,
            resumed_from_epoch: Some(4),
            test_accuracy: 0.5,
            train_secs: 1.5,
            backtest_bars: 120,
            metrics: CellMetrics {
                total_return: 0.02,
                sharpe: 1.1,
                calmar: 0.7,
                max_drawdown: 0.03,
                trades: 4,
                win_rate: 0.5,
                buy_hold_return: -0.01,
            },
            ran_on: "local".into(),
        }
    }

    #[test]
    fn every_kind_round_trips_in_json_and_on_the_wire() {
        let all = every_kind();
        let kinds: Vec<OpKind> = all.iter().map(|(p, _)| p.kind()).collect();
        assert_eq!(kinds, OpKind::ALL, "one entry per kind, in order");
        for (params, result) in all {
            let kind = params.kind();
            assert_eq!(result.kind(), kind);

            // JSON: the inner struct alone, read back through the kind.
            let json = params.to_json();
            assert_eq!(json, serde_json::to_string(&params).unwrap());
            assert!(json.starts_with('{') && !json.contains(&format!("\"{kind:?}\"")));
            assert_eq!(OpParams::from_json(kind, &json).unwrap(), params);
            let json = result.to_json();
            assert_eq!(OpResult::from_json(kind, &json).unwrap(), result);

            // bincode: tagged, so it reads back without being told the kind.
            let back: OpParams = decode(&encode(&params).unwrap()).unwrap();
            assert_eq!(back, params);
            let back: OpResult = decode(&encode(&result).unwrap()).unwrap();
            assert_eq!(back, result);

            // And inside a whole record, both ways.
            let rec = record(params, Some(result));
            let wire: OperationRecord = decode(&encode(&rec).unwrap()).unwrap();
            assert_eq!(wire, rec);
            let json: OperationRecord =
                serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
            assert_eq!(json, rec);
        }
    }

    #[test]
    fn the_wire_tag_is_the_kind() {
        // On the wire the variant index is the kind's place in `OpKind::ALL`: reordering the
        // variants changes the protocol (and needs a PROTOCOL_VERSION bump).
        for (index, (params, result)) in every_kind().into_iter().enumerate() {
            assert_eq!(OpKind::ALL[index], params.kind());
            assert_eq!(encode(&params).unwrap()[0], index as u8);
            assert_eq!(encode(&result).unwrap()[0], index as u8);
        }
        // The wire shapes are externally tagged by the kind's variant name; in a self-describing
        // format that name reads back to the same value.
        for (params, result) in every_kind() {
            let tag = format!("{:?}", params.kind());
            let v = serde_json::to_value(params_wire::TaggedRef::from(&params)).unwrap();
            assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), [&tag]);
            let back: OpParams = serde_json::from_value::<params_wire::Tagged>(v)
                .unwrap()
                .into();
            assert_eq!(back, params);
            let v = serde_json::to_value(result_wire::TaggedRef::from(&result)).unwrap();
            assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), [&tag]);
            let back: OpResult = serde_json::from_value::<result_wire::Tagged>(v)
                .unwrap()
                .into();
            assert_eq!(back, result);
        }
    }

    #[test]
    fn json_of_another_kind_is_refused() {
        let json = OpParams::Demo(DemoParams {
            seconds: 1.0,
            steps: 1,
            fail_at: None,
        })
        .to_json();
        for kind in [
            OpKind::IbLoad,
            OpKind::DataImport,
            OpKind::Training,
            OpKind::Backtest,
        ] {
            assert!(OpParams::from_json(kind, &json).is_err(), "{kind}");
        }
        assert!(OpParams::from_json(OpKind::Demo, "not json").is_err());
        assert!(OpResult::from_json(OpKind::Training, "[1, 2]").is_err());
    }

    #[test]
    fn untagged_json_cannot_be_read_without_its_kind() {
        let e = serde_json::from_str::<OpParams>(r#"{"seconds":1.0,"steps":1,"fail_at":null}"#)
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("OpParams in JSON needs the operation's kind"),
            "{e}"
        );
        let e = serde_json::from_str::<OpResult>("{}").unwrap_err();
        assert!(e.to_string().contains("OpResult in JSON needs"), "{e}");
    }

    #[test]
    fn kinds_have_stable_names_and_services() {
        let expected = [
            (OpKind::Demo, "demo", "operations"),
            (OpKind::IbLoad, "ib_load", "ib"),
            (OpKind::DataImport, "data_import", "data"),
            (OpKind::Training, "training", "training"),
            (OpKind::Backtest, "backtest", "backtest"),
            (OpKind::Sweep, "sweep", "sweep"),
            (OpKind::SweepCell, "sweep_cell", "sweep"),
        ];
        assert_eq!(expected.len(), OpKind::ALL.len());
        for (kind, name, service) in expected {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(kind.service(), service);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
    }

    #[test]
    fn kinds_parse_and_name_their_service() {
        for k in OpKind::ALL {
            assert_eq!(k.as_str().parse::<OpKind>().unwrap(), k);
            assert!(!k.service().is_empty());
        }
        let e = "trainin".parse::<OpKind>().unwrap_err();
        assert!(e.contains("training"), "{e}");
    }
}
