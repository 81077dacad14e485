//! `config`: every setting, its value and where it came from.

use crate::context::Daemon;
use ktrdr_protocol::Reply;

pub fn run(ctx: &Daemon) -> Reply {
    Reply::Config(ctx.config.report())
}
