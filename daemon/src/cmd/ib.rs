//! `ib status|test|contract|head` and `data load`. Whether IB is reached here or through an IB
//! host is the `ib` service's business, not the handler's.

use super::{Conn, Streamed, ops};
use crate::context::Daemon;
use ktrdr_protocol::Reply;
use ktrdr_protocol::WireError;
use ktrdr_protocol::request::{DataLoad, IbContract, IbHead};
use std::sync::Arc;

pub async fn status(ctx: &Daemon) -> Reply {
    Reply::IbStatus(ctx.ib.status().await)
}

pub async fn test(ctx: &Daemon) -> Result<Reply, WireError> {
    ctx.ib.test().await
}

pub async fn contract(ctx: &Daemon, req: IbContract) -> Result<Reply, WireError> {
    ctx.ib.contract(req).await
}

pub async fn head(ctx: &Daemon, req: IbHead) -> Result<Reply, WireError> {
    ctx.ib.head(req).await
}

pub async fn data_load(ctx: &Arc<Daemon>, req: DataLoad, conn: &mut Conn) -> Streamed {
    let follow = req.follow;
    ops::started(ctx, ctx.ib.load(req).await, follow, conn).await
}
