//! `sweep run|show|cancel|list`.

use super::{Conn, Streamed, ops};
use crate::context::Daemon;
use ktrdr_protocol::request::{OpRef, SweepRun, SweepShow};
use ktrdr_protocol::{Reply, WireError};

pub async fn run(ctx: &Daemon, req: SweepRun, conn: &mut Conn) -> Streamed {
    let follow = req.follow;
    ops::started(ctx, ctx.sweep.run(req).await, follow, conn).await
}

pub async fn show(ctx: &Daemon, req: SweepShow) -> Result<Reply, WireError> {
    ctx.sweep.show(req).await.map(|r| Reply::Sweep(Box::new(r)))
}

pub async fn cancel(ctx: &Daemon, req: OpRef) -> Result<Reply, WireError> {
    ctx.sweep.cancel(req.id).await.map(Reply::Operation)
}

pub async fn list(ctx: &Daemon) -> Result<Reply, WireError> {
    ctx.sweep.list().await.map(Reply::Operations)
}
