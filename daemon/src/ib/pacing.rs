//! The daemon's pacer: the pure [`Pacer`] of `ktrdr_ib::pacing` shared by every load behind a
//! lock, with waiting as an async sleep and a turn so a request that has waited is not overtaken.

use ktrdr_ib::pacing::Pacer;
pub use ktrdr_ib::pacing::{Ask, Rules};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The daemon's pacer, shared by every load. A caller waits its turn in [`Pacing::acquire`].
pub struct Pacing {
    inner: Mutex<Pacer>,
    /// Serialises waiters so a request that has waited is not overtaken by a newcomer.
    turn: tokio::sync::Mutex<()>,
}

impl Pacing {
    pub fn new(rules: Rules) -> Pacing {
        Pacing {
            inner: Mutex::new(Pacer::new(rules)),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pacer> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn rules(&self) -> Rules {
        self.lock().rules()
    }

    pub fn budget_left(&self) -> u32 {
        self.lock().budget_left(Instant::now())
    }

    /// How long `ask` would wait if sent now, without counting it; a lower bound when other loads
    /// are already waiting their turn.
    pub fn wait_hint(&self, ask: &Ask) -> Duration {
        self.lock().wait(Instant::now(), ask)
    }

    /// Waits until `ask` may be sent, then counts it as sent. `on_wait` hears each wait before it
    /// starts, so it can be shown as progress. Returns the total time waited.
    pub async fn acquire(&self, ask: &Ask, mut on_wait: impl FnMut(Duration)) -> Duration {
        let _turn = self.turn.lock().await;
        let mut waited = Duration::ZERO;
        loop {
            let now = Instant::now();
            let wait = {
                let mut p = self.lock();
                let w = p.wait(now, ask);
                if w.is_zero() {
                    p.record(now, ask);
                }
                w
            };
            if wait.is_zero() {
                return waited;
            }
            on_wait(wait);
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }
}
