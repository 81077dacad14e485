//! `data list|show|range|validate|import|export|resample`. Bars stream as [`Response::Bars`] chunks
//! of [`CHUNK_ROWS`] rows, then one summary reply, so neither side ever holds a whole large answer
//! in one frame.

use super::{Conn, Streamed, ops};
use crate::context::Daemon;
use ktrdr_market::Bars;
use ktrdr_protocol::model::{BarChunk, BarsSummary, RowLimit};
use ktrdr_protocol::request::{
    DataExport, DataImport, DataResample, DataShow, DataValidate, SeriesRef,
};
use ktrdr_protocol::{ProtocolError, Reply, Response, WireError};
use std::ops::Range;

/// About 49 bytes a bar once encoded: 4096 rows is ~200 KiB, under `frame::CHUNK_TARGET_LEN`.
pub const CHUNK_ROWS: usize = 4096;

pub async fn list(ctx: &Daemon) -> Result<Reply, WireError> {
    ctx.data.list().await.map(Reply::DataList)
}

pub async fn range(ctx: &Daemon, req: SeriesRef) -> Result<Reply, WireError> {
    ctx.data.range(req).await.map(Reply::DataRange)
}

pub async fn show(ctx: &Daemon, req: DataShow, conn: &mut Conn) -> Streamed {
    let window = ctx
        .data
        .window(
            &req.symbol,
            &req.timeframe,
            req.start.as_deref(),
            req.end.as_deref(),
        )
        .await;
    let (key, bars, r) = match window {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let summary = stream(ctx, &bars, r, req.rows, conn).await?;
    Ok(Ok(Reply::DataBars(BarsSummary {
        symbol: key.symbol,
        timeframe: key.timeframe.to_string(),
        saved_to: None,
        ..summary
    })))
}

pub async fn resample(ctx: &Daemon, req: DataResample, conn: &mut Conn) -> Streamed {
    let (key, bars, saved_to) = match ctx.data.resample(&req).await {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let summary = stream(ctx, &bars, 0..bars.len(), req.rows, conn).await?;
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
    let r = rows.cut(r);
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
    ctx.data.streamed(r.len());
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

pub async fn validate(ctx: &Daemon, req: DataValidate) -> Result<Reply, WireError> {
    ctx.data.validate(req).await.map(Reply::DataValidation)
}

pub async fn import(ctx: &Daemon, req: DataImport, conn: &mut Conn) -> Streamed {
    let follow = req.follow;
    ops::started(ctx, ctx.data.import(req).await, follow, conn).await
}

pub async fn export(ctx: &Daemon, req: DataExport) -> Result<Reply, WireError> {
    ctx.data.export(req).await.map(Reply::DataExported)
}
