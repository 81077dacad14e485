//! Fetched segments waiting to be written. Every write of a series rewrites its whole file, so a
//! load that wrote each segment at once cost O(segments × series size); a load instead collects
//! segments and writes them together once enough bars are pending or the oldest has waited long
//! enough. Time is passed in, so the policy is tested without sleeping.

use ktrdr_market::Bars;
use std::time::{Duration, Instant};

/// When pending bars are due for a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Bars pending that make a write due (1: every segment is written as it arrives).
    pub max_bars: usize,
    /// Age of the oldest pending segment that makes a write due.
    pub max_age: Duration,
}

#[derive(Debug)]
pub struct Batch {
    policy: Policy,
    segments: Vec<Bars>,
    bars: usize,
    /// When the oldest pending segment arrived.
    since: Option<Instant>,
}

impl Batch {
    pub fn new(policy: Policy) -> Batch {
        Batch {
            policy,
            segments: Vec::new(),
            bars: 0,
            since: None,
        }
    }

    /// Adds one fetched segment (an empty one is nothing to write and is not kept).
    pub fn push(&mut self, now: Instant, bars: Bars) {
        if bars.is_empty() {
            return;
        }
        self.bars += bars.len();
        self.since.get_or_insert(now);
        self.segments.push(bars);
    }

    pub fn pending(&self) -> usize {
        self.bars
    }

    pub fn is_empty(&self) -> bool {
        self.bars == 0
    }

    pub fn due(&self, now: Instant) -> bool {
        match self.since {
            None => false,
            Some(since) => {
                self.bars >= self.policy.max_bars
                    || now.saturating_duration_since(since) >= self.policy.max_age
            }
        }
    }

    /// Whether a wait of `d` would hold pending bars in memory longer than the policy allows; they
    /// are written before such a wait rather than after it.
    pub fn worth_writing_before(&self, d: Duration) -> bool {
        !self.is_empty() && d >= self.policy.max_age
    }

    /// Everything pending as one series in time order, leaving the batch empty. Segments never
    /// overlap (each holds only its own `[start, end)`), so ordering them by first bar orders all.
    pub fn take(&mut self) -> Bars {
        let mut segments = std::mem::take(&mut self.segments);
        segments.sort_by_key(|s| s.first_ts());
        let mut out = Bars::with_capacity(self.bars);
        for s in &segments {
            for b in s.iter() {
                out.push(b);
            }
        }
        self.bars = 0;
        self.since = None;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_market::bars::Bar;

    fn seg(from: i64, n: i64) -> Bars {
        Bars::from_bars((from..from + n).map(|ts| Bar {
            ts,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: ts as f64,
        }))
    }

    const POLICY: Policy = Policy {
        max_bars: 100,
        max_age: Duration::from_secs(1),
    };

    #[test]
    fn due_on_count_or_age_of_the_oldest_segment() {
        let t0 = Instant::now();
        let mut b = Batch::new(POLICY);
        assert!(!b.due(t0 + Duration::from_secs(60)), "nothing pending");
        b.push(t0, seg(0, 60));
        assert!(!b.due(t0));
        b.push(t0 + Duration::from_millis(900), seg(60, 39));
        assert!(!b.due(t0 + Duration::from_millis(900)));
        // The age counts from the oldest segment, not the newest.
        assert!(b.due(t0 + Duration::from_secs(1)));
        b.push(t0 + Duration::from_millis(950), seg(99, 1));
        assert!(b.due(t0 + Duration::from_millis(950)), "100 bars pending");
        assert_eq!(b.take().len(), 100);
        assert!(!b.due(t0 + Duration::from_secs(5)), "the age restarts");
    }

    #[test]
    fn empty_segments_are_not_pending() {
        let t0 = Instant::now();
        let mut b = Batch::new(POLICY);
        b.push(t0, Bars::new());
        assert!(b.is_empty());
        assert!(!b.due(t0 + Duration::from_secs(5)));
        assert!(!b.worth_writing_before(Duration::from_secs(60)));
        b.push(t0, seg(0, 1));
        assert!(b.worth_writing_before(Duration::from_secs(1)));
        assert!(!b.worth_writing_before(Duration::from_millis(999)));
    }

    #[test]
    fn one_bar_policy_writes_every_segment() {
        let t0 = Instant::now();
        let mut b = Batch::new(Policy {
            max_bars: 1,
            ..POLICY
        });
        b.push(t0, seg(0, 1));
        assert!(b.due(t0));
    }

    #[test]
    fn take_returns_segments_fetched_newest_first_in_time_order() {
        let t0 = Instant::now();
        let mut b = Batch::new(POLICY);
        for from in [20, 10, 0] {
            b.push(t0, seg(from, 10));
        }
        assert_eq!(b.pending(), 30);
        let all = b.take();
        assert!(all.is_normal());
        assert_eq!(all.ts(), (0..30).collect::<Vec<i64>>().as_slice());
        assert!(b.is_empty());
        assert_eq!(b.pending(), 0);
    }
}
