use crate::model::{ExportFormat, LoadMode, RowLimit};
use serde::{Deserialize, Serialize};

/// One stored series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesRef {
    pub symbol: String,
    pub timeframe: String,
}

/// Streams `Response::Bars` chunks, then `Reply::DataBars`. Bounds: `start` inclusive, `end`
/// exclusive; an `end` that is a plain date includes that whole day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataShow {
    pub symbol: String,
    pub timeframe: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub rows: RowLimit,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataValidate {
    pub symbol: String,
    pub timeframe: String,
    pub repair: bool,
}

/// Merges the bars of a file on the daemon's machine (an absolute path) into a series, as a
/// `data_import` operation; with `follow` the answer streams like `OpsWatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataImport {
    pub path: String,
    pub symbol: String,
    pub timeframe: String,
    /// Zone of naive timestamps in the file (IANA name or `±HH:MM`); UTC when absent.
    pub timezone: Option<String>,
    pub follow: bool,
}

/// Writes a series (or a window of it) to an absolute path on the daemon's machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataExport {
    pub symbol: String,
    pub timeframe: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub format: ExportFormat,
    pub output: String,
}

/// Streams the series aggregated to a coarser timeframe like [`DataShow`]; with `save` also
/// stores it as its own series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataResample {
    pub symbol: String,
    pub from: String,
    pub to: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub rows: RowLimit,
    pub save: bool,
}

/// Starts an `ib_load` operation fetching bars from IB into the store; with `follow` the answer
/// streams like `OpsWatch`. `start`/`end` are UTC dates or times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataLoad {
    pub symbol: String,
    pub timeframe: String,
    pub mode: LoadMode,
    pub start: Option<String>,
    pub end: Option<String>,
    pub follow: bool,
}
