//! systemd integration: readiness, status lines, watchdog pings and stopping notice, sent to
//! `$NOTIFY_SOCKET` when it is set and silently skipped otherwise (so the daemon behaves the same
//! without systemd).

use sd_notify::NotifyState;
use std::time::Duration;

fn send(states: &[NotifyState<'_>]) {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "sd_notify failed");
    }
}

pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
}

/// The ping interval when systemd's watchdog is on for this process (WATCHDOG_USEC, and WATCHDOG_PID
/// naming us if set): half the timeout, as sd_watchdog_enabled(3) advises.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
        .map(|d| d / 2)
        .filter(|d| !d.is_zero())
}

pub fn watchdog_ping() {
    send(&[NotifyState::Watchdog]);
}
