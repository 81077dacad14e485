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
}

impl OpKind {
    pub const ALL: [OpKind; 5] = [
        OpKind::Demo,
        OpKind::IbLoad,
        OpKind::DataImport,
        OpKind::Training,
        OpKind::Backtest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Demo => "demo",
            OpKind::IbLoad => "ib_load",
            OpKind::DataImport => "data_import",
            OpKind::Training => "training",
            OpKind::Backtest => "backtest",
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
    /// Time spent waiting for IB's pacing rules before requests.
    pub pacing_wait_secs: f64,
    pub retries: u64,
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
                    $wire::Tagged::from(self).serialize(s)
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
            #[derive(Serialize, Deserialize)]
            pub enum Tagged {
                $($variant($ty),)*
            }
            impl From<&$name> for Tagged {
                fn from(v: &$name) -> Self {
                    match v.clone() {
                        $($name::$variant(x) => Tagged::$variant(x),)*
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
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};
    use crate::model::{OpState, OperationRecord, Progress};

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
