//! Live series: subscriptions the daemon keeps current from IB, and the signal lines of
//! `predict --follow`.

use serde::{Deserialize, Serialize};

/// Where a subscription's stream stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionState {
    /// Waiting for its first connection (or after being added).
    Starting,
    /// Loading the bars missed since the last stored one (a tail load).
    FillingGap,
    /// Receiving updates; closed bars are stored as they close.
    Streaming,
    /// No bar for two timeframes during market hours: re-requested.
    Stalled,
    /// The gateway is gone: waits for it, then fills the gap and streams again.
    Reconnecting,
    /// The last attempt failed (e.g. IB does not know the symbol); retried after a backoff.
    Failed,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Starting => "starting",
            SubscriptionState::FillingGap => "filling_gap",
            SubscriptionState::Streaming => "streaming",
            SubscriptionState::Stalled => "stalled",
            SubscriptionState::Reconnecting => "reconnecting",
            SubscriptionState::Failed => "failed",
        }
    }
}

impl std::fmt::Display for SubscriptionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One subscription as `data subscriptions` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionInfo {
    pub symbol: String,
    pub timeframe: String,
    pub state: SubscriptionState,
    /// When it was added (Unix ms).
    pub since_ms: u64,
    /// Open time of the newest stored bar (Unix ms).
    pub last_bar_ms: Option<i64>,
    /// Seconds since the newest closed bar was stored by this subscription (None before the first).
    pub last_bar_age_secs: Option<f64>,
    /// Closed bars stored by the stream since the daemon started (gap fills not included).
    pub bars_stored: u64,
    /// Bars the gap fills (tail loads) added since the daemon started.
    pub gap_bars: u64,
    /// How often the stream was (re)requested since the daemon started.
    pub requests: u64,
    /// Stalls detected since the daemon started.
    pub stalls: u64,
    /// Clients following it now (`data follow`, `predict --follow`).
    pub followers: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionList {
    pub subscriptions: Vec<SubscriptionInfo>,
    /// The file they persist in.
    pub path: String,
}

/// A model's signal at one closed bar (`predict --follow`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalLine {
    pub model: String,
    pub symbol: String,
    pub timeframe: String,
    /// Open time of the closed bar (Unix ms).
    pub bar_ms: i64,
    /// The most probable class: `BUY`, `HOLD` or `SELL`; `HOLD` while features warm up.
    pub signal: String,
    pub confidence: f64,
    /// BUY, HOLD, SELL (NaN while features warm up).
    pub probabilities: Vec<f64>,
    /// What the backtest engine decides at this bar with the strategy's rules (confidence
    /// threshold, position awareness, signal separation, long only), starting flat at the first
    /// bar followed: `BUY`, `HOLD` or `SELL`.
    pub action: String,
    /// Whether `action` changes the position (a backtest would fill it at the next bar's open).
    pub acted: bool,
}
