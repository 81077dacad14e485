//! `status`: each service's configuration info (mode, endpoint, environment read).

use crate::context::Daemon;
use ktrdr_protocol::Reply;
use ktrdr_protocol::model::StatusReport;

pub fn run(ctx: &Daemon) -> Reply {
    Reply::Status(StatusReport {
        services: ctx.services().iter().map(|s| s.info()).collect(),
    })
}
