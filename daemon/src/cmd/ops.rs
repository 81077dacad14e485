//! `ops list|show|watch|cancel|demo|resume`, and how every command that starts an operation
//! answers.

use super::{Conn, Streamed};
use crate::context::Daemon;
use ktrdr_protocol::model::OperationRecord;
use ktrdr_protocol::operation::{OpKind, OpParams};
use ktrdr_protocol::request::{OpRef, OpsDemo, OpsList, OpsResume};
use ktrdr_protocol::{Reply, Response, WireError};

pub async fn list(ctx: &Daemon, req: OpsList) -> Result<Reply, WireError> {
    ctx.operations.list(req).await.map(Reply::Operations)
}

pub async fn show(ctx: &Daemon, req: OpRef) -> Result<Reply, WireError> {
    ctx.operations.get(req.id).await.map(Reply::Operation)
}

pub async fn cancel(ctx: &Daemon, req: OpRef) -> Result<Reply, WireError> {
    ctx.operations.cancel(req.id).await.map(Reply::Operation)
}

/// Streams snapshots until the operation ends; the terminal frame is its final record. A client that
/// goes away only ends the watch, never the operation.
pub async fn watch(ctx: &Daemon, req: OpRef, conn: &mut Conn) -> Streamed {
    let id = req.id;
    let Some(mut rx) = ctx.operations.subscribe(id) else {
        return Ok(ctx.operations.get(id).await.map(Reply::Operation));
    };
    loop {
        let rec = rx.borrow_and_update().clone();
        if rec.state.is_terminal() {
            return Ok(Ok(Reply::Operation(rec)));
        }
        conn.write(&Response::Update(rec)).await?;
        if rx.changed().await.is_err() {
            // The registry dropped the channel after persisting the outcome.
            return Ok(ctx.operations.get(id).await.map(Reply::Operation));
        }
    }
}

/// Resumes an interrupted operation through the service of its kind (the record's typed kind
/// says which; only trainings and sweeps keep what a resume needs).
pub async fn resume(ctx: &Daemon, req: OpsResume, conn: &mut Conn) -> Streamed {
    let resumed = match ctx.operations.get(req.id).await {
        Err(e) => Err(e),
        Ok(rec) => match (&rec.params, rec.kind) {
            (_, OpKind::Training) => ctx.training.resume(rec).await,
            (_, OpKind::Sweep) => ctx.sweep.resume(rec).await,
            (OpParams::SweepCell(p), _) => Err(WireError::conflict(format!(
                "operation {} is a cell of sweep {}; cells resume with their sweep",
                rec.id, p.sweep
            ))
            .with_hint(format!("`ktrdrctl ops resume {}`", p.sweep))),
            (_, kind) => Err(WireError::conflict(format!(
                "{kind} operations cannot be resumed; only trainings and sweeps keep checkpoints"
            ))
            .with_hint("start it again")),
        },
    };
    started(ctx, resumed, req.follow, conn).await
}

pub async fn demo(ctx: &Daemon, req: OpsDemo, conn: &mut Conn) -> Streamed {
    let follow = req.follow;
    started(ctx, ctx.operations.demo(req).await, follow, conn).await
}

/// The answer of every command that starts an operation: its record, or with `follow` its
/// progress until it ends.
pub async fn started(
    ctx: &Daemon,
    started: Result<OperationRecord, WireError>,
    follow: bool,
    conn: &mut Conn,
) -> Streamed {
    match started {
        Err(e) => Ok(Err(e)),
        Ok(rec) if follow => watch(ctx, OpRef { id: rec.id }, conn).await,
        Ok(rec) => Ok(Ok(Reply::Operation(rec))),
    }
}
