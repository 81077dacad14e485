//! One broadcast per subscription: the closed bars it stored, in batches (one per store write),
//! in time order, each bar once. Followers subscribe to it; a follower that is more than the
//! channel's capacity behind loses its place (tokio's broadcast drops the oldest for it alone)
//! and is told so, while the stream and the other followers go on unaffected.
//!
//! The broadcast is tokio's (`tokio::sync::broadcast`): bounded, lagging receivers detected per
//! receiver, senders never wait. Nothing hand-written would do better.

use ktrdr_market::Bars;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

pub type Batch = Arc<Bars>;

pub struct Feed {
    tx: broadcast::Sender<Batch>,
    /// Open time of the newest bar published: a later batch only carries newer bars.
    last: Mutex<Option<i64>>,
}

impl Feed {
    pub fn new(capacity: usize, last_stored: Option<i64>) -> Feed {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Feed {
            tx,
            last: Mutex::new(last_stored),
        }
    }

    pub fn last(&self) -> Option<i64> {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes the bars of `bars` newer than the last published (already stored); returns how
    /// many that was.
    pub fn publish(&self, bars: &Bars) -> usize {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let from = match *last {
            Some(l) => bars.ts().partition_point(|&t| t <= l),
            None => 0,
        };
        if from >= bars.len() {
            return 0;
        }
        let fresh = if from == 0 {
            bars.clone()
        } else {
            bars.slice(from..bars.len())
        };
        *last = fresh.last_ts();
        let n = fresh.len();
        // No receiver is not an error: nobody follows right now.
        let _ = self.tx.send(Arc::new(fresh));
        n
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Batch> {
        self.tx.subscribe()
    }

    pub fn followers(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_market::Bar;

    fn bars(ts: &[i64]) -> Bars {
        let mut b = Bars::new();
        for &t in ts {
            b.push(Bar {
                ts: t,
                open: 1.0,
                high: 1.0,
                low: 1.0,
                close: 1.0,
                volume: 1.0,
            });
        }
        b
    }

    #[test]
    fn each_bar_is_published_once_and_a_slow_receiver_lags_alone() {
        let f = Feed::new(2, Some(10));
        let mut fast = f.subscribe();
        let mut slow = f.subscribe();
        assert_eq!(f.publish(&bars(&[5, 10, 20])), 1);
        assert_eq!(fast.try_recv().unwrap().ts(), &[20]);
        assert_eq!(f.publish(&bars(&[20])), 0);
        assert_eq!(f.publish(&bars(&[30])), 1);
        assert_eq!(fast.try_recv().unwrap().ts(), &[30]);
        assert_eq!(f.publish(&bars(&[40, 50])), 2);
        assert_eq!(fast.try_recv().unwrap().ts(), &[40, 50]);
        assert!(matches!(
            slow.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(1))
        ));
        assert_eq!(f.last(), Some(50));
        assert_eq!(f.followers(), 2);
    }
}
