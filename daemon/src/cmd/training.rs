//! `train`, `models list|show|delete`, the model export a delegating daemon uses, and `predict`.

use super::{Conn, Streamed, ops};
use crate::context::Daemon;
use ktrdr_protocol::request::{ModelRef, Predict, Train};
use ktrdr_protocol::{Reply, WireError};

pub async fn train(ctx: &Daemon, req: Train, conn: &mut Conn) -> Streamed {
    let follow = req.follow;
    ops::started(ctx, ctx.training.train(req).await, follow, conn).await
}

pub async fn list(ctx: &Daemon) -> Result<Reply, WireError> {
    ctx.training.list().await.map(Reply::Models)
}

pub async fn show(ctx: &Daemon, req: ModelRef) -> Result<Reply, WireError> {
    ctx.training
        .show(req)
        .await
        .map(|d| Reply::Model(Box::new(d)))
}

pub async fn delete(ctx: &Daemon, req: ModelRef) -> Result<Reply, WireError> {
    ctx.training.delete(req).await.map(Reply::ModelDeleted)
}

pub async fn export(ctx: &Daemon, req: ModelRef) -> Result<Reply, WireError> {
    ctx.training
        .export(req)
        .await
        .map(|b| Reply::ModelBundle(Box::new(b)))
}

pub async fn predict(ctx: &Daemon, req: Predict) -> Result<Reply, WireError> {
    ctx.training.predict(req).await.map(Reply::Prediction)
}
