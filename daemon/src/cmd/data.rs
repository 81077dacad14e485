//! `data list|show|range|validate|import|export|resample`. Bars stream as [`Response::Bars`] chunks
//! of [`CHUNK_ROWS`] rows, then one summary reply, so neither side ever holds a whole large answer
//! in one frame.

use super::Conn;
use crate::context::Daemon;
use crate::data::input::{self, Window};
use ktrdr_market::Bars;
use ktrdr_protocol::model::{BarChunk, BarsSummary, ExportFormat, RowLimit};
use ktrdr_protocol::{ProtocolError, Reply, Response, WireError};
use std::ops::Range;
use std::sync::atomic::Ordering;

/// About 49 bytes a bar once encoded: 4096 rows is ~200 KiB, under `frame::CHUNK_TARGET_LEN`.
pub const CHUNK_ROWS: usize = 4096;

type Streamed = Result<Result<Reply, WireError>, ProtocolError>;

pub async fn list(ctx: &Daemon) -> Result<Reply, WireError> {
    ctx.data.manager.list().await.map(Reply::DataList)
}

pub async fn range(ctx: &Daemon, symbol: &str, tf: &str) -> Result<Reply, WireError> {
    ctx.data
        .manager
        .range(symbol, tf)
        .await
        .map(Reply::DataRange)
}

pub async fn show(
    ctx: &Daemon,
    symbol: &str,
    tf: &str,
    start: Option<&str>,
    end: Option<&str>,
    rows: RowLimit,
    conn: &mut Conn,
) -> Streamed {
    let prepared = async {
        let key = input::key(symbol, tf)?;
        let w = input::window(start, end)?;
        let (bars, r) = ctx.data.manager.window(&key, w).await?;
        Ok::<_, WireError>((key, bars, r))
    }
    .await;
    let (key, bars, r) = match prepared {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let summary = stream(ctx, &bars, r, rows, conn).await?;
    Ok(Ok(Reply::DataBars(BarsSummary {
        symbol: key.symbol,
        timeframe: key.timeframe.to_string(),
        saved_to: None,
        ..summary
    })))
}

#[allow(clippy::too_many_arguments)]
pub async fn resample(
    ctx: &Daemon,
    symbol: &str,
    from: &str,
    to: &str,
    start: Option<&str>,
    end: Option<&str>,
    rows: RowLimit,
    save: bool,
    conn: &mut Conn,
) -> Streamed {
    let prepared = async {
        let w: Window = input::window(start, end)?;
        ctx.data.manager.resample(symbol, from, to, w, save).await
    }
    .await;
    let (key, bars, saved_to) = match prepared {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let summary = stream(ctx, &bars, 0..bars.len(), rows, conn).await?;
    Ok(Ok(Reply::DataBars(BarsSummary {
        symbol: key.symbol,
        timeframe: key.timeframe.to_string(),
        saved_to,
        ..summary
    })))
}

/// Sends the rows of `r` (cut to `rows`) in chunks; returns the counts for the summary.
async fn stream(
    ctx: &Daemon,
    bars: &Bars,
    r: Range<usize>,
    rows: RowLimit,
    conn: &mut Conn,
) -> Result<BarsSummary, ProtocolError> {
    let in_window = r.len();
    let r = match rows {
        RowLimit::All => r,
        RowLimit::Head(n) => r.start..r.end.min(r.start.saturating_add(n as usize)),
        RowLimit::Tail(n) => r.end.saturating_sub(n as usize).max(r.start)..r.end,
    };
    let mut at = r.start;
    while at < r.end {
        let end = (at + CHUNK_ROWS).min(r.end);
        let chunk = BarChunk {
            ts: bars.ts()[at..end].to_vec(),
            open: bars.open()[at..end].to_vec(),
            high: bars.high()[at..end].to_vec(),
            low: bars.low()[at..end].to_vec(),
            close: bars.close()[at..end].to_vec(),
            volume: bars.volume()[at..end].to_vec(),
        };
        conn.write(&Response::Bars(chunk)).await?;
        at = end;
    }
    ctx.data
        .manager
        .counters
        .bars_streamed
        .fetch_add(r.len() as u64, Ordering::Relaxed);
    Ok(BarsSummary {
        symbol: String::new(),
        timeframe: String::new(),
        rows_sent: r.len() as u64,
        rows_in_window: in_window as u64,
        first_ms: bars.ts().get(r.start).copied().filter(|_| !r.is_empty()),
        last_ms: r
            .end
            .checked_sub(1)
            .and_then(|i| bars.ts().get(i).copied())
            .filter(|_| !r.is_empty()),
        saved_to: None,
    })
}

pub async fn validate(
    ctx: &Daemon,
    symbol: &str,
    tf: &str,
    repair: bool,
) -> Result<Reply, WireError> {
    ctx.data
        .manager
        .validate(symbol, tf, repair)
        .await
        .map(Reply::DataValidation)
}

pub async fn import(
    ctx: &Daemon,
    path: &str,
    symbol: &str,
    tf: &str,
    timezone: Option<&str>,
) -> Result<Reply, WireError> {
    ctx.data
        .manager
        .import(path, symbol, tf, timezone)
        .await
        .map(Reply::DataImported)
}

pub async fn export(
    ctx: &Daemon,
    symbol: &str,
    tf: &str,
    start: Option<&str>,
    end: Option<&str>,
    format: ExportFormat,
    output: &str,
) -> Result<Reply, WireError> {
    ctx.data
        .manager
        .export(symbol, tf, start, end, format, output)
        .await
        .map(Reply::DataExported)
}
