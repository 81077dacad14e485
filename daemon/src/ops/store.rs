//! Operation records in SQLite (rusqlite, bundled).
//!
//! Why SQLite: one file, crash-safe transactions, and SQL for `ops list --state --kind` with paging,
//! from a library that has been hardened for decades. The database runs in WAL mode with
//! `synchronous=FULL`: every committed transition is on disk before the call returns, so a kill -9 (or
//! a power cut) at any moment loses no finished record and never leaves a torn database.
//!
//! Only state transitions are written (created, started, finished, and progress at most every few
//! seconds), never every progress tick: persistence costs no more than a handful of fsyncs per job.

use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{OpState, OperationList, OperationRecord, Progress};
use ktrdr_protocol::operation::{OpKind, OpParams, OpResult};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::path::Path;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

#[derive(Debug, thiserror::Error)]
#[error("operations database: {0}")]
pub struct StoreError(String);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<StoreError> for WireError {
    fn from(e: StoreError) -> Self {
        WireError::internal(e.to_string()).with_hint("check the disk holding the state directory")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS operations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    service     TEXT NOT NULL,
    params      TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    started_ms  INTEGER,
    finished_ms INTEGER,
    progress    TEXT NOT NULL,
    result      TEXT,
    error       TEXT
);
CREATE INDEX IF NOT EXISTS operations_state ON operations(state);
CREATE INDEX IF NOT EXISTS operations_kind ON operations(kind);
";

impl Store {
    /// Opens (creating if needed) and marks every record left pending or running by a previous daemon
    /// as interrupted. Returns how many were marked.
    pub fn open(path: &Path) -> Result<(Store, usize), StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError(format!("integrity check failed: {check}")));
        }
        let interrupted = conn.execute(
            "UPDATE operations SET state = 'interrupted', finished_ms = ?1,
                 error = ?2 WHERE state IN ('pending', 'running')",
            params![
                crate::time::now_ms() as i64,
                json(
                    &WireError::new(
                        ktrdr_protocol::ErrorKind::Unavailable,
                        "the daemon stopped while this operation was pending or running",
                    )
                    .with_hint("resume a training with `ktrdrctl ops resume ID` (sweeps resume by themselves); start other operations again")
                )
            ],
        )?;
        Ok((
            Store {
                conn: Arc::new(Mutex::new(conn)),
            },
            interrupted,
        ))
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError("lock poisoned".into()))?;
        f(&conn).map_err(StoreError::from)
    }

    /// Inserts a new record and returns its id. Ids are never reused, even after pruning.
    pub fn insert(&self, rec: &OperationRecord) -> Result<u64, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO operations (kind, service, params, state, created_ms, progress)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    rec.kind.as_str(),
                    rec.service,
                    rec.params.to_json(),
                    rec.state.as_str(),
                    rec.created_ms as i64,
                    json(&rec.progress)
                ],
            )?;
            Ok(c.last_insert_rowid() as u64)
        })
    }

    pub fn update(&self, rec: &OperationRecord) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE operations SET state = ?2, started_ms = ?3, finished_ms = ?4, progress = ?5,
                     result = ?6, error = ?7 WHERE id = ?1",
                params![
                    rec.id as i64,
                    rec.state.as_str(),
                    rec.started_ms.map(|v| v as i64),
                    rec.finished_ms.map(|v| v as i64),
                    json(&rec.progress),
                    rec.result.as_ref().map(|r| r.to_json()),
                    rec.error.as_ref().map(json),
                ],
            )?;
            Ok(())
        })
    }

    pub fn get(&self, id: u64) -> Result<Option<OperationRecord>, StoreError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM operations WHERE id = ?1"),
                [id as i64],
                row,
            )
            .optional()
        })
    }

    pub fn list(
        &self,
        state: Option<OpState>,
        kind: Option<OpKind>,
        limit: u32,
    ) -> Result<OperationList, StoreError> {
        self.with(|c| {
            let state = state.map(|s| s.as_str());
            let kind = kind.map(|k| k.as_str());
            let filter = "(?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2)";
            let total: i64 = c.query_row(
                &format!("SELECT COUNT(*) FROM operations WHERE {filter}"),
                params![state, kind],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM operations WHERE {filter} ORDER BY id DESC LIMIT ?3"
            ))?;
            let items = stmt
                .query_map(params![state, kind, limit as i64], row)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(OperationList {
                total: total as u64,
                items,
            })
        })
    }

    /// Deletes the oldest finished records beyond `keep`. Returns how many went.
    pub fn prune(&self, keep: usize) -> Result<usize, StoreError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM operations WHERE state NOT IN ('pending', 'running') AND id NOT IN (
                     SELECT id FROM operations WHERE state NOT IN ('pending', 'running')
                     ORDER BY id DESC LIMIT ?1)",
                [keep as i64],
            )
        })
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        self.with(|c| {
            c.query_row("SELECT COUNT(*) FROM operations", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .map(|n| n as u64)
    }
}

const COLUMNS: &str = "id, kind, service, params, state, created_ms, started_ms, finished_ms, progress, result, error";

fn row(r: &Row<'_>) -> Result<OperationRecord, rusqlite::Error> {
    let id = r.get::<_, i64>(0)? as u64;
    let kind: String = r.get(1)?;
    let params: String = r.get(3)?;
    let state: String = r.get(4)?;
    let progress: String = r.get(8)?;
    let result: Option<String> = r.get(9)?;
    let error: Option<String> = r.get(10)?;
    // A record this daemon cannot read is reported as damaged, naming it, rather than dropped.
    let damaged = |what: String| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("operation {id}: {what}").into(),
        )
    };
    let kind: OpKind = kind.parse().map_err(damaged)?;
    let params = OpParams::from_json(kind, &params).map_err(|e| damaged(format!("params: {e}")))?;
    let result = result
        .map(|r| OpResult::from_json(kind, &r))
        .transpose()
        .map_err(|e| damaged(format!("result: {e}")))?;
    Ok(OperationRecord {
        id,
        kind,
        service: r.get(2)?,
        params,
        state: OpState::parse(&state).unwrap_or(OpState::Interrupted),
        created_ms: r.get::<_, i64>(5)? as u64,
        started_ms: r.get::<_, Option<i64>>(6)?.map(|v| v as u64),
        finished_ms: r.get::<_, Option<i64>>(7)?.map(|v| v as u64),
        progress: serde_json::from_str::<Progress>(&progress).unwrap_or_default(),
        queue_position: None,
        result,
        error: error.and_then(|e| serde_json::from_str(&e).ok()),
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}
