//! Payload types. They are also the `--json` schema of `ktrdrctl` (documented in `docs/cli.md`), so
//! fields are only ever added, never renamed. No serde attributes that change the shape per value
//! (`untagged`, `flatten`, `skip_serializing_if`): bincode needs the same shape every time.

use crate::error::WireError;
use crate::operation::{OpKind, OpParams, OpResult};
use crate::stored_model::{Metrics, ModelMetadata};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Degraded,
    Down,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceHealth {
    pub name: String,
    pub status: HealthStatus,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    pub daemon_version: String,
    pub protocol: u16,
    pub pid: u32,
    pub started_at_ms: u64,
    pub uptime_secs: f64,
    pub socket: String,
    pub status: HealthStatus,
    pub services: Vec<ServiceHealth>,
}

/// An environment variable a service consulted, and what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
}

/// Where a service does its work: here in the daemon, or delegated to a host service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub name: String,
    pub mode: String,
    pub endpoint: Option<String>,
    pub env: Vec<EnvVar>,
    pub settings: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub services: Vec<ServiceInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
    /// `default`, `file`, `env` or `flag`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigReport {
    pub config_file: Option<String>,
    pub settings: Vec<Setting>,
}

/// Latency percentiles in microseconds over the daemon's lifetime.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceStats {
    pub name: String,
    pub requests: u64,
    pub errors: u64,
    pub in_flight: u64,
    pub latency: Latency,
    /// Service-specific counters (cache hits, operations started, ...).
    pub counters: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsReport {
    pub uptime_secs: f64,
    pub connections_total: u64,
    pub connections_open: u64,
    pub connections_refused: u64,
    pub protocol_errors: u64,
    pub services: Vec<ServiceStats>,
}

/// Every metric of the daemon in the Prometheus text exposition format (version 0.0.4), rendered
/// by the daemon (the same bytes its `/metrics` listener serves), so `ktrdrctl` only prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsText {
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpState {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// Was running when the daemon died; found so at the next start.
    Interrupted,
}

impl OpState {
    pub const ALL: [OpState; 6] = [
        OpState::Pending,
        OpState::Running,
        OpState::Completed,
        OpState::Failed,
        OpState::Cancelled,
        OpState::Interrupted,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OpState::Pending => "pending",
            OpState::Running => "running",
            OpState::Completed => "completed",
            OpState::Failed => "failed",
            OpState::Cancelled => "cancelled",
            OpState::Interrupted => "interrupted",
        }
    }
    pub fn parse(s: &str) -> Option<OpState> {
        OpState::ALL.into_iter().find(|st| st.as_str() == s)
    }
    pub fn is_terminal(self) -> bool {
        !matches!(self, OpState::Pending | OpState::Running)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub percent: f64,
    pub step: u64,
    pub steps: u64,
    pub message: String,
    pub items: u64,
    pub eta_secs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OperationRecord {
    pub id: u64,
    pub kind: OpKind,
    pub service: String,
    pub params: OpParams,
    pub state: OpState,
    pub created_ms: u64,
    pub started_ms: Option<u64>,
    pub finished_ms: Option<u64>,
    pub progress: Progress,
    /// 1-based place in its kind's queue while pending.
    pub queue_position: Option<u32>,
    /// Once completed.
    pub result: Option<OpResult>,
    pub error: Option<WireError>,
}

/// On the wire every field is typed; in JSON `params` and `result` are the untagged inner structs,
/// read back through the record's `kind`.
impl<'de> Deserialize<'de> for OperationRecord {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        #[derive(Deserialize)]
        struct Shape<P, R> {
            id: u64,
            kind: OpKind,
            service: String,
            params: P,
            state: OpState,
            created_ms: u64,
            started_ms: Option<u64>,
            finished_ms: Option<u64>,
            progress: Progress,
            queue_position: Option<u32>,
            result: Option<R>,
            error: Option<WireError>,
        }
        type Typed = (OpParams, Option<OpResult>);
        impl<P, R> Shape<P, R> {
            fn into_record(
                self,
                typed: impl FnOnce(OpKind, P, Option<R>) -> Result<Typed, String>,
            ) -> Result<OperationRecord, String> {
                let (params, result) = typed(self.kind, self.params, self.result)?;
                Ok(OperationRecord {
                    id: self.id,
                    kind: self.kind,
                    service: self.service,
                    params,
                    state: self.state,
                    created_ms: self.created_ms,
                    started_ms: self.started_ms,
                    finished_ms: self.finished_ms,
                    progress: self.progress,
                    queue_position: self.queue_position,
                    result,
                    error: self.error,
                })
            }
        }
        let record = if d.is_human_readable() {
            Shape::<serde_json::Value, serde_json::Value>::deserialize(d)?.into_record(
                |kind, p, r| {
                    let params = OpParams::from_value(kind, p).map_err(|e| e.to_string())?;
                    let result = r
                        .map(|r| OpResult::from_value(kind, r))
                        .transpose()
                        .map_err(|e| e.to_string())?;
                    Ok((params, result))
                },
            )
        } else {
            Shape::<OpParams, OpResult>::deserialize(d)?.into_record(|_, p, r| Ok((p, r)))
        };
        record.map_err(D::Error::custom)
    }
}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationList {
    /// How many records match, before the limit.
    pub total: u64,
    pub items: Vec<OperationRecord>,
}

/// How many rows of a window to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowLimit {
    All,
    /// The first N.
    Head(u64),
    /// The last N.
    Tail(u64),
}

impl RowLimit {
    /// The rows of `r` this limit keeps.
    pub fn cut(self, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let n = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        match self {
            RowLimit::All => r,
            RowLimit::Head(k) => r.start..r.end.min(r.start.saturating_add(n(k))),
            RowLimit::Tail(k) => r.end.saturating_sub(n(k)).max(r.start)..r.end,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// The predecessor's layout: `timestamp,open,high,low,close,volume`, `YYYY-MM-DD HH:MM:SS+00:00`.
    Csv,
    Parquet,
    /// One JSON object per line, ISO-8601 UTC timestamps.
    Jsonl,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Jsonl => "jsonl",
        }
    }
}

/// One stored series: a `SYMBOL_TIMEFRAME.csv` or `.parquet` file in the data directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesInfo {
    pub symbol: String,
    pub timeframe: String,
    /// `csv` or `parquet`.
    pub format: String,
    pub path: String,
    pub bytes: u64,
    pub modified_ms: u64,
    /// Held in the daemon's memory right now.
    pub cached: bool,
    /// Known only for cached series (listing never parses files).
    pub rows: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesList {
    pub data_dir: String,
    pub series: Vec<SeriesInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesRange {
    pub symbol: String,
    pub timeframe: String,
    pub path: String,
    pub rows: u64,
    /// Open time of the first and last bar, Unix milliseconds UTC.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
}

/// Columns of consecutive bars; open times in Unix milliseconds UTC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BarChunk {
    pub ts: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl BarChunk {
    pub fn len(&self) -> usize {
        self.ts.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BarsSummary {
    pub symbol: String,
    pub timeframe: String,
    /// Rows streamed before this summary.
    pub rows_sent: u64,
    /// Rows inside the requested window, before `--rows`/`--tail`.
    pub rows_in_window: u64,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Where a resample was stored, when asked to.
    pub saved_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    pub kind: String,
    pub ts_ms: i64,
    pub row: u64,
    pub detail: String,
    /// For a gap: how many expected bars are missing.
    pub missing: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepairChange {
    pub ts_ms: i64,
    /// Row in the series before the repair.
    pub row: u64,
    /// `moved`, `dropped` or `set`.
    pub action: String,
    /// `row`, `high`, `low` or `volume`.
    pub field: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub symbol: String,
    pub timeframe: String,
    /// The trading calendar gaps were judged by: `us_equity`, `forex_24x5` or `continuous`.
    pub calendar: String,
    pub rows: u64,
    /// Issues per kind, over the whole series.
    pub counts: BTreeMap<String, u64>,
    /// The first issues in series order (see `issues_truncated`).
    pub issues: Vec<QualityIssue>,
    pub issues_truncated: bool,
    pub repaired: bool,
    pub changes: Vec<RepairChange>,
    pub changes_total: u64,
    pub rows_after: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub symbol: String,
    pub timeframe: String,
    pub source: String,
    pub stored: String,
    /// `timestamp` (the predecessor's header) or `index` (pandas' unnamed index column).
    pub layout: String,
    pub timezone: String,
    pub rows_read: u64,
    /// Rows of the file dropped because another row had the same timestamp (the later one wins).
    pub duplicates_in_file: u64,
    pub rows_before: u64,
    pub rows_after: u64,
    pub added: u64,
    pub replaced: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportReport {
    pub symbol: String,
    pub timeframe: String,
    pub path: String,
    pub format: String,
    pub rows: u64,
    pub bytes: u64,
}

/// Which part of history a `data load` fetches from IB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// From the last stored bar to `end` (or now).
    Tail,
    /// From `start` (or IB's earliest bar) to the first stored bar.
    Backfill,
    /// Both.
    Full,
    /// Only what is stored; IB is never contacted.
    Local,
}

impl LoadMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadMode::Tail => "tail",
            LoadMode::Backfill => "backfill",
            LoadMode::Full => "full",
            LoadMode::Local => "local",
        }
    }
}

/// The daemon's IB connection as `ib status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbStatusReport {
    /// `in_process` or `host_service`.
    pub mode: String,
    /// `host:port` of the gateway, or the host-service URL.
    pub endpoint: String,
    pub client_id: i32,
    pub connected: bool,
    pub server_version: Option<i32>,
    pub connected_since_ms: Option<u64>,
    pub connect_attempts: u64,
    pub reconnects: u64,
    pub last_error: Option<String>,
    pub last_error_ms: Option<u64>,
    /// Historical requests left in the current 10-minute pacing window (BID_ASK counts twice).
    pub pacing_budget_left: u32,
    pub pacing_max: u32,
    pub pacing_window_secs: f64,
    pub requests: u64,
    pub errors: u64,
    pub pacing_waits: u64,
    pub pacing_violations: u64,
    pub bars_received: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbTestReport {
    pub endpoint: String,
    pub server_version: Option<i32>,
    /// The gateway's clock, Unix milliseconds.
    pub server_time_ms: i64,
    pub round_trip_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbContractInfo {
    pub symbol: String,
    /// `stock` or `forex`.
    pub kind: String,
    pub con_id: i32,
    pub ib_symbol: String,
    pub sec_type: String,
    pub exchange: String,
    pub primary_exchange: String,
    pub currency: String,
    pub local_symbol: String,
    pub long_name: String,
    /// What historical loads ask for: `TRADES` or `MIDPOINT`.
    pub what_to_show: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IbHeadInfo {
    pub symbol: String,
    pub timeframe: String,
    pub what_to_show: String,
    /// The earliest bar IB has, Unix milliseconds.
    pub head_ms: i64,
}

/// A stored model, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// `STRATEGY/SYMBOLS_TF_vN`.
    pub name: String,
    pub strategy: String,
    pub symbols: Vec<String>,
    pub timeframe: String,
    pub version: u32,
    pub latest: bool,
    pub created_ms: i64,
    pub device: String,
    pub torch_version: String,
    pub parameters: u64,
    pub test_accuracy: f64,
    pub train_secs: f64,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelList {
    pub dir: String,
    pub models: Vec<ModelInfo>,
}

/// One model in full: its metadata and metrics files, typed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelDetail {
    pub info: ModelInfo,
    pub features: Vec<String>,
    pub metadata: ModelMetadata,
    pub metrics: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionReport {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    /// Open time of the bar whose features were used, Unix milliseconds.
    pub bar_ms: i64,
    /// `BUY`, `HOLD` or `SELL`: the most probable class.
    pub signal: String,
    pub confidence: f64,
    /// BUY, HOLD, SELL.
    pub probabilities: Vec<f64>,
    /// The strategy's `decisions.confidence_threshold`; below it a trader would hold.
    pub confidence_threshold: f64,
}

/// A stored model's files, to copy it from a training host into another daemon's store. The
/// metrics travel as the file's own JSON text, copied byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelBundle {
    pub metadata: ModelMetadata,
    pub weights: Vec<u8>,
    pub strategy_yaml: String,
    pub features: Vec<String>,
    pub metrics_json: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::{DemoParams, DemoResult};
    use proptest::prelude::*;

    #[test]
    fn op_states_parse_their_names() {
        let names = [
            "pending",
            "running",
            "completed",
            "failed",
            "cancelled",
            "interrupted",
        ];
        for (state, name) in OpState::ALL.into_iter().zip(names) {
            assert_eq!(state.as_str(), name);
            assert_eq!(OpState::parse(name), Some(state));
            // The database and `--json` spell it the same way.
            assert_eq!(serde_json::to_value(state).unwrap(), name);
        }
        assert_eq!(OpState::parse("Running"), None);
        assert_eq!(OpState::parse(""), None);
    }

    #[test]
    fn only_pending_and_running_are_unfinished() {
        let unfinished: Vec<OpState> = OpState::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .collect();
        assert_eq!(unfinished, [OpState::Pending, OpState::Running]);
    }

    #[test]
    fn row_limits_cut_a_window() {
        assert_eq!(RowLimit::All.cut(10..20), 10..20);
        assert_eq!(RowLimit::Head(3).cut(10..20), 10..13);
        assert_eq!(RowLimit::Tail(3).cut(10..20), 17..20);
        // Asking for more than there is keeps the whole window.
        assert_eq!(RowLimit::Head(50).cut(10..20), 10..20);
        assert_eq!(RowLimit::Tail(50).cut(10..20), 10..20);
        assert_eq!(RowLimit::Head(0).cut(10..20), 10..10);
        assert_eq!(RowLimit::Tail(0).cut(10..20), 20..20);
        // No overflow at the extremes.
        assert_eq!(RowLimit::Head(u64::MAX).cut(5..usize::MAX), 5..usize::MAX);
        assert_eq!(RowLimit::Tail(u64::MAX).cut(5..usize::MAX), 5..usize::MAX);
        assert_eq!(RowLimit::Head(2).cut(7..7), 7..7);
    }

    proptest! {
        #[test]
        fn a_cut_is_the_first_or_last_rows_of_the_window(
            start in 0usize..1000,
            len in 0usize..1000,
            k in any::<u64>(),
        ) {
            let r = start..start + len;
            let want = usize::try_from(k).unwrap_or(usize::MAX).min(len);
            let head = RowLimit::Head(k).cut(r.clone());
            prop_assert_eq!(head.start, r.start);
            prop_assert_eq!(head.len(), want);
            let tail = RowLimit::Tail(k).cut(r.clone());
            prop_assert_eq!(tail.end, r.end);
            prop_assert_eq!(tail.len(), want);
            prop_assert_eq!(RowLimit::All.cut(r.clone()), r);
        }
    }

    #[test]
    fn export_formats_and_load_modes_are_named_as_in_json() {
        for f in [
            ExportFormat::Csv,
            ExportFormat::Parquet,
            ExportFormat::Jsonl,
        ] {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        assert_eq!(ExportFormat::Jsonl.as_str(), "jsonl");
        for m in [
            LoadMode::Tail,
            LoadMode::Backfill,
            LoadMode::Full,
            LoadMode::Local,
        ] {
            assert_eq!(serde_json::to_value(m).unwrap(), m.as_str());
        }
        assert_eq!(LoadMode::Backfill.as_str(), "backfill");
    }

    #[test]
    fn a_bar_chunk_is_as_long_as_its_timestamps() {
        let mut c = BarChunk::default();
        assert!(c.is_empty());
        assert_eq!(c.len(), 0);
        c.ts = vec![1, 2, 3];
        c.close = vec![1.0, 2.0, 3.0];
        assert!(!c.is_empty());
        assert_eq!(c.len(), 3);
    }

    fn demo_record() -> OperationRecord {
        OperationRecord {
            id: 11,
            kind: OpKind::Demo,
            service: "operations".into(),
            params: OpParams::Demo(DemoParams {
                seconds: 2.0,
                steps: 2,
                fail_at: None,
            }),
            state: OpState::Completed,
            created_ms: 1,
            started_ms: Some(2),
            finished_ms: Some(3),
            progress: Progress {
                percent: 100.0,
                step: 2,
                steps: 2,
                message: "done".into(),
                items: 0,
                eta_secs: None,
            },
            queue_position: None,
            result: Some(OpResult::Demo(DemoResult {
                steps: 2,
                slept_secs: 2.0,
            })),
            error: None,
        }
    }

    #[test]
    fn json_records_are_read_through_their_kind() {
        let mut v = serde_json::to_value(demo_record()).unwrap();
        let back: OperationRecord = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(back, demo_record());

        // A result that does not fit the kind is refused, not read as some other kind.
        v["result"] = serde_json::json!({ "model": "m" });
        let e = serde_json::from_value::<OperationRecord>(v.clone()).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");

        // So are params.
        let mut v = serde_json::to_value(demo_record()).unwrap();
        v["kind"] = "training".into();
        let e = serde_json::from_value::<OperationRecord>(v).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");

        // No result yet, and a failed one, read back too.
        let mut failed = demo_record();
        failed.state = OpState::Failed;
        failed.result = None;
        failed.error = Some(WireError::internal("boom").with_hint("see the log"));
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            serde_json::from_str::<OperationRecord>(&json).unwrap(),
            failed
        );
        let wire: OperationRecord =
            crate::codec::decode(&crate::codec::encode(&failed).unwrap()).unwrap();
        assert_eq!(wire, failed);
    }

    #[test]
    fn a_truncated_record_on_the_wire_is_a_decode_error() {
        let bytes = crate::codec::encode(&demo_record()).unwrap();
        let cut = &bytes[..bytes.len() - 3];
        assert!(matches!(
            crate::codec::decode::<OperationRecord>(cut),
            Err(crate::ProtocolError::Decode(_))
        ));
    }
}
