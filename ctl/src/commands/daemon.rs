//! `daemon stop`.

use crate::client::Client;
use crate::output::print_json;
use ktrdr_protocol::{Reply, Request, WireError};

pub async fn stop(c: &mut Client, json: bool) -> Result<(), WireError> {
    let pid = c.daemon_pid;
    match c.call(&Request::Shutdown).await? {
        Reply::Stopping => {
            if json {
                print_json(&serde_json::json!({"stopping": true, "pid": pid}))
            } else {
                println!("ktrdrd (pid {pid}) is stopping");
                Ok(())
            }
        }
        other => Err(WireError::internal(format!("unexpected reply: {other:?}"))),
    }
}
