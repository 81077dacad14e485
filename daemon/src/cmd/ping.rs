//! `ping`: the cheapest round trip, for liveness checks and latency benchmarks.

use ktrdr_protocol::Reply;
use ktrdr_protocol::request::Ping;

pub fn run(req: Ping) -> Reply {
    Reply::Pong {
        payload: req.payload,
    }
}
