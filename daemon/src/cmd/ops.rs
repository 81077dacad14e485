//! `ops list|show|watch|cancel|demo`.

use super::Conn;
use crate::context::Daemon;
use crate::ops::demo::{self, DemoParams};
use ktrdr_protocol::model::OpState;
use ktrdr_protocol::{ProtocolError, Reply, Response, WireError};
use std::sync::Arc;

pub async fn list(
    ctx: &Daemon,
    state: Option<OpState>,
    kind: Option<String>,
    limit: u32,
) -> Result<Reply, WireError> {
    let limit = limit.clamp(1, 10_000);
    ctx.operations
        .registry
        .list(state, kind, limit)
        .await
        .map(Reply::Operations)
}

pub async fn show(ctx: &Daemon, id: u64) -> Result<Reply, WireError> {
    ctx.operations.registry.get(id).await.map(Reply::Operation)
}

pub async fn cancel(ctx: &Daemon, id: u64) -> Result<Reply, WireError> {
    ctx.operations
        .registry
        .cancel(id)
        .await
        .map(Reply::Operation)
}

/// Streams snapshots until the operation ends; the terminal frame is its final record. A client that
/// goes away only ends the watch, never the operation.
pub async fn watch(
    ctx: &Daemon,
    id: u64,
    conn: &mut Conn,
) -> Result<Result<Reply, WireError>, ProtocolError> {
    let registry = &ctx.operations.registry;
    let Some(mut rx) = registry.subscribe(id) else {
        return Ok(registry.get(id).await.map(Reply::Operation));
    };
    loop {
        let rec = rx.borrow_and_update().clone();
        if rec.state.is_terminal() {
            return Ok(Ok(Reply::Operation(rec)));
        }
        conn.write(&Response::Update(rec)).await?;
        if rx.changed().await.is_err() {
            // The registry dropped the channel after persisting the outcome.
            return Ok(registry.get(id).await.map(Reply::Operation));
        }
    }
}

pub async fn demo(
    ctx: &Arc<Daemon>,
    seconds: f64,
    steps: u32,
    fail_at: Option<u32>,
    follow: bool,
    conn: &mut Conn,
) -> Result<Result<Reply, WireError>, ProtocolError> {
    let params = DemoParams {
        seconds,
        steps,
        fail_at,
    };
    if let Err(e) = params.validate() {
        return Ok(Err(e));
    }
    let json = params.to_json();
    let work: crate::ops::Work = Box::new(move |h| Box::pin(demo::run(params, h)));
    let rec = match ctx
        .operations
        .registry
        .start("demo", "operations", json, work)
        .await
    {
        Ok(rec) => rec,
        Err(e) => return Ok(Err(e)),
    };
    if follow {
        watch(ctx, rec.id, conn).await
    } else {
        Ok(Ok(Reply::Operation(rec)))
    }
}
