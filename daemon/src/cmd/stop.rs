//! `daemon stop`: starts the same graceful shutdown as SIGTERM. The reply is written before the
//! listener closes, so the client learns the stop was accepted.

use crate::context::Daemon;
use ktrdr_protocol::Reply;

pub fn run(ctx: &Daemon) -> Reply {
    tracing::info!("shutdown requested by a client");
    ctx.shutdown.fire();
    Reply::Stopping
}
