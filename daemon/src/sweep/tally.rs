//! A sweep's count of its cells (done, running, failed), published as the sweep operation's
//! progress: what `sweep run`'s progress bar shows.

use crate::ops::OpHandle;
use ktrdr_protocol::model::Progress;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    done: u32,
    running: u32,
    failed: u32,
    cancelled: u32,
}

pub struct Tally {
    h: OpHandle,
    total: u32,
    /// Cells already done when this run started (a resumed sweep): the ETA is measured on the
    /// cells this run finishes.
    done_before: u32,
    started: Instant,
    counts: Mutex<Counts>,
}

pub enum End {
    Completed,
    Failed,
    Cancelled,
}

impl Tally {
    pub fn new(h: OpHandle, total: u32, done_before: u32) -> Tally {
        let t = Tally {
            h,
            total,
            done_before,
            started: Instant::now(),
            counts: Mutex::new(Counts {
                done: done_before,
                ..Counts::default()
            }),
        };
        t.publish(|_| {});
        t
    }

    pub fn started(&self) {
        self.publish(|c| c.running += 1);
    }

    pub fn finished(&self, end: End, was_running: bool) {
        self.publish(|c| {
            if was_running {
                c.running = c.running.saturating_sub(1);
            }
            match end {
                End::Completed => c.done += 1,
                End::Failed => c.failed += 1,
                End::Cancelled => c.cancelled += 1,
            }
        });
    }

    fn publish(&self, change: impl FnOnce(&mut Counts)) {
        let c = {
            let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            change(&mut c);
            *c
        };
        let finished = c.done + c.failed + c.cancelled;
        let ran = c.done.saturating_sub(self.done_before) + c.failed;
        let left = self.total.saturating_sub(finished);
        let eta = (ran > 0 && left > 0)
            .then(|| self.started.elapsed().as_secs_f64() / f64::from(ran) * f64::from(left));
        let mut message = format!(
            "{}/{} cells done, {} running, {} failed",
            c.done, self.total, c.running, c.failed
        );
        if c.cancelled > 0 {
            message.push_str(&format!(", {} cancelled", c.cancelled));
        }
        self.h.progress(Progress {
            percent: 100.0 * f64::from(finished) / f64::from(self.total.max(1)),
            step: u64::from(finished),
            steps: u64::from(self.total),
            message,
            items: u64::from(c.done),
            eta_secs: eta,
        });
    }
}
