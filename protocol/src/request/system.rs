use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ping {
    /// Echoed in the reply, so a client can match answers to pings.
    pub payload: u64,
}
