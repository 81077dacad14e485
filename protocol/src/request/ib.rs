use serde::{Deserialize, Serialize};

/// The contract IB resolves a symbol to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IbContract {
    pub symbol: String,
}

/// The earliest bar IB has for a symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IbHead {
    pub symbol: String,
    pub timeframe: String,
}
