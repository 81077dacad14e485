//! Knobs for the end-to-end tests, not settings: debug builds (what `cargo test` builds and runs)
//! read them; a release `ktrdrd` compiles the reading out, so an installed daemon cannot be told
//! to misbehave by a stray variable. Not in `ktrdrctl config`, `status` or the docs.

use super::ConfigError;
use std::time::Duration;

/// Every variable read here.
pub const KNOBS: [&str; 2] = ["KTRDR_TEST_MODEL_SAVE_PAUSE_MS", "KTRDR_TEST_LIVE_STALL_MS"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestKnobs {
    /// A pause in the middle of every model save, so tests/tests/training.rs can kill the daemon
    /// there.
    pub model_save_pause: Option<Duration>,
    /// How long a live stream may be quiet before it counts as stalled, instead of
    /// `live.stall_bars` timeframes (minutes of wall time for the tests' 1m series).
    pub live_stall: Option<Duration>,
}

impl TestKnobs {
    #[cfg(debug_assertions)]
    pub fn load(env: &dyn Fn(&str) -> Option<String>) -> Result<TestKnobs, ConfigError> {
        let ms = |name: &str| -> Result<Option<Duration>, ConfigError> {
            match env(name) {
                None => Ok(None),
                Some(v) => Ok(Some(Duration::from_millis(v.parse().map_err(
                    |e: std::num::ParseIntError| ConfigError::Value {
                        name: name.into(),
                        value: v.clone(),
                        message: e.to_string(),
                    },
                )?))),
            }
        };
        Ok(TestKnobs {
            model_save_pause: ms(KNOBS[0])?,
            live_stall: ms(KNOBS[1])?,
        })
    }

    #[cfg(not(debug_assertions))]
    pub fn load(_env: &dyn Fn(&str) -> Option<String>) -> Result<TestKnobs, ConfigError> {
        Ok(TestKnobs::default())
    }
}
