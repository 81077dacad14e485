//! The shutdown signal. One [`Trigger`] starts it (SIGTERM, SIGINT or `daemon stop`); every task holds
//! a [`Signal`] and stops taking new work when it fires.

use tokio::sync::watch;

#[derive(Clone)]
pub struct Trigger(watch::Sender<bool>);

#[derive(Clone)]
pub struct Signal(watch::Receiver<bool>);

pub fn channel() -> (Trigger, Signal) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Signal(rx))
}

impl Trigger {
    pub fn fire(&self) {
        self.0.send_replace(true);
    }
    pub fn signal(&self) -> Signal {
        Signal(self.0.subscribe())
    }
}

impl Signal {
    pub fn is_fired(&self) -> bool {
        *self.0.borrow()
    }
    /// Resolves once shutdown has started (at once if it already has).
    pub async fn fired(&mut self) {
        // An error means the trigger is gone, which only happens when the daemon is ending anyway.
        let _ = self.0.wait_for(|v| *v).await;
    }
}
