use crate::model::OpState;
use crate::operation::OpKind;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpsList {
    pub state: Option<OpState>,
    pub kind: Option<OpKind>,
    pub limit: u32,
}

/// One operation by id (`ops show`, `ops cancel`, `ops watch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRef {
    pub id: u64,
}

/// A diagnostic operation that sleeps in `steps` steps over `seconds`; `fail_at` makes it fail at
/// that step. With `follow` the answer streams like `OpsWatch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpsDemo {
    pub seconds: f64,
    pub steps: u32,
    pub fail_at: Option<u32>,
    pub follow: bool,
}
