//! `ping`: the cheapest round trip, for liveness checks and latency benchmarks.

use ktrdr_protocol::Reply;

pub fn run(payload: u64) -> Reply {
    Reply::Pong { payload }
}
