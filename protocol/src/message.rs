//! Requests and the frames that answer them.
//!
//! After the handshake the client sends one [`Request`] and reads [`Response`] frames until a terminal
//! one ([`Response::Reply`] or [`Response::Error`]); then it may send the next request.

use crate::error::WireError;
use crate::model::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Ping {
        payload: u64,
    },
    Health,
    Status,
    Config,
    Stats,
    Shutdown,
    OpsList {
        state: Option<OpState>,
        kind: Option<String>,
        limit: u32,
    },
    OpsShow {
        id: u64,
    },
    /// Streams [`Response::Update`] until the operation ends, then its final record.
    OpsWatch {
        id: u64,
    },
    OpsCancel {
        id: u64,
    },
    /// A diagnostic operation that sleeps in `steps` steps over `seconds`; `fail_at` makes it fail at
    /// that step. With `follow` the answer streams like [`Request::OpsWatch`].
    OpsDemo {
        seconds: f64,
        steps: u32,
        fail_at: Option<u32>,
        follow: bool,
    },
}

impl Request {
    /// The service that answers this request, for statistics.
    pub fn service(&self) -> &'static str {
        match self {
            Request::Ping { .. }
            | Request::Health
            | Request::Status
            | Request::Config
            | Request::Stats
            | Request::Shutdown => "system",
            Request::OpsList { .. }
            | Request::OpsShow { .. }
            | Request::OpsWatch { .. }
            | Request::OpsCancel { .. }
            | Request::OpsDemo { .. } => "operations",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Pong { payload: u64 },
    Health(HealthReport),
    Status(StatusReport),
    Config(ConfigReport),
    Stats(StatsReport),
    Stopping,
    Operation(OperationRecord),
    Operations(OperationList),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Non-terminal: a snapshot of a followed operation.
    Update(OperationRecord),
    /// Terminal: success.
    Reply(Reply),
    /// Terminal: a typed failure.
    Error(WireError),
}

impl Response {
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Response::Update(_))
    }
}
