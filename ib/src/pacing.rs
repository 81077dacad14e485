//! IB's historical-data pacing rules, enforced by the daemon because neither IB Gateway (it answers
//! with error 162 and may stall the session) nor ibapi enforces them:
//!
//! - at most 60 requests in any 10 minutes;
//! - no identical request (same contract, end, duration, bar size, what-to-show) within 15 s;
//! - at most 6 requests for the same contract, exchange and what-to-show within 2 s;
//! - a BID_ASK request counts twice.
//!
//! [`Pacer`] is pure (time is passed in), so the rules are unit-tested without sleeping;
//! [`Pacing`] wraps it for the daemon, shared by every client's loads.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Extra width of every enforced window: 2% (12 s of IB's 10 minutes, 40 ms of its 2 s)...
pub const SAFETY_MARGIN: f64 = 0.02;
/// ... plus a fixed allowance for delivery jitter (scheduling, the network), which does not shrink
/// with the window: it matters only for the scaled-down windows of tests and benchmarks, where 2%
/// of a 20 ms window is less than one preempted time slice.
pub const JITTER_ALLOWANCE: Duration = Duration::from_millis(5);

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub window: Duration,
    pub max_in_window: u32,
    pub identical_gap: Duration,
    pub contract_window: Duration,
    pub max_per_contract: u32,
}

impl Rules {
    pub const IB: Rules = Rules {
        window: Duration::from_secs(600),
        max_in_window: 60,
        identical_gap: Duration::from_secs(15),
        contract_window: Duration::from_secs(2),
        max_per_contract: 6,
    };

    /// The rules the daemon enforces: IB's, with every window multiplied by `scale` (counts
    /// unchanged; 0 turns pacing off) and widened by [`SAFETY_MARGIN`] and [`JITTER_ALLOWANCE`].
    /// IB measures its windows on
    /// its side, after network and scheduling delays the daemon cannot see; a request sent exactly
    /// one window after another may arrive a little less than a window after it.
    pub fn scaled(scale: f64) -> Rules {
        if scale <= 0.0 || !scale.is_finite() {
            return Rules {
                window: Duration::ZERO,
                identical_gap: Duration::ZERO,
                contract_window: Duration::ZERO,
                ..Self::IB
            };
        }
        let s = |d: Duration| d.mul_f64(scale * (1.0 + SAFETY_MARGIN)) + JITTER_ALLOWANCE;
        Rules {
            window: s(Self::IB.window),
            identical_gap: s(Self::IB.identical_gap),
            contract_window: s(Self::IB.contract_window),
            ..Self::IB
        }
    }

    pub fn is_off(&self) -> bool {
        self.window.is_zero() && self.identical_gap.is_zero() && self.contract_window.is_zero()
    }
}

/// What the rules compare about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Contract, exchange and what-to-show.
    pub contract: String,
    /// Everything that makes two requests identical.
    pub identity: String,
    pub bid_ask: bool,
}

impl Ask {
    fn weight(&self) -> u32 {
        if self.bid_ask { 2 } else { 1 }
    }
}

#[derive(Debug, Clone)]
struct Sent {
    at: Instant,
    contract: String,
    identity: String,
    weight: u32,
}

#[derive(Debug)]
pub struct Pacer {
    rules: Rules,
    sent: VecDeque<Sent>,
}

impl Pacer {
    pub fn new(rules: Rules) -> Pacer {
        Pacer {
            rules,
            sent: VecDeque::new(),
        }
    }

    pub fn rules(&self) -> Rules {
        self.rules
    }

    fn forget_before(&mut self, now: Instant) {
        let keep = self
            .rules
            .window
            .max(self.rules.identical_gap)
            .max(self.rules.contract_window);
        while let Some(s) = self.sent.front() {
            if now.saturating_duration_since(s.at) >= keep {
                self.sent.pop_front();
            } else {
                break;
            }
        }
    }

    /// How long `ask` must wait before it may be sent at `now` (zero: send now).
    pub fn wait(&mut self, now: Instant, ask: &Ask) -> Duration {
        if self.rules.is_off() {
            return Duration::ZERO;
        }
        self.forget_before(now);
        let r = self.rules;
        let w = ask.weight();
        let mut wait = Duration::ZERO;
        let mut later = |until: Instant| {
            wait = wait.max(until.saturating_duration_since(now));
        };
        // Rolling window: find the request whose expiry brings the total low enough.
        wait_for_room(
            &self.sent,
            now,
            r.window,
            r.max_in_window,
            w,
            |_| true,
            &mut later,
        );
        wait_for_room(
            &self.sent,
            now,
            r.contract_window,
            r.max_per_contract,
            w,
            |s| s.contract == ask.contract,
            &mut later,
        );
        if let Some(s) = self.sent.iter().rev().find(|s| s.identity == ask.identity) {
            later(s.at + r.identical_gap);
        }
        wait
    }

    pub fn record(&mut self, now: Instant, ask: &Ask) {
        if self.rules.is_off() {
            return;
        }
        self.sent.push_back(Sent {
            at: now,
            contract: ask.contract.clone(),
            identity: ask.identity.clone(),
            weight: ask.weight(),
        });
    }

    /// Requests (BID_ASK counted twice) still available in the current 10-minute window.
    pub fn budget_left(&mut self, now: Instant) -> u32 {
        if self.rules.is_off() {
            return self.rules.max_in_window;
        }
        self.forget_before(now);
        let used: u32 = self
            .sent
            .iter()
            .filter(|s| now.saturating_duration_since(s.at) < self.rules.window)
            .map(|s| s.weight)
            .sum();
        self.rules.max_in_window.saturating_sub(used)
    }
}

/// Within `window` before `now`, requests matching `pick` weigh at most `max - weight`, or the
/// wait lasts until enough of the oldest of them expire.
fn wait_for_room(
    sent: &VecDeque<Sent>,
    now: Instant,
    window: Duration,
    max: u32,
    weight: u32,
    pick: impl Fn(&Sent) -> bool,
    later: &mut impl FnMut(Instant),
) {
    if window.is_zero() {
        return;
    }
    let live: Vec<&Sent> = sent
        .iter()
        .filter(|s| pick(s) && now.saturating_duration_since(s.at) < window)
        .collect();
    let mut used: u32 = live.iter().map(|s| s.weight).sum();
    if used + weight <= max {
        return;
    }
    for s in live {
        used = used.saturating_sub(s.weight);
        if used + weight <= max {
            later(s.at + window);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(contract: &str, id: &str) -> Ask {
        Ask {
            contract: contract.into(),
            identity: format!("{contract}|{id}"),
            bid_ask: false,
        }
    }

    /// Sends as soon as allowed and returns the send times, in seconds from the start.
    fn run(rules: Rules, asks: &[Ask]) -> Vec<f64> {
        let t0 = Instant::now();
        let mut p = Pacer::new(rules);
        let mut now = t0;
        let mut out = Vec::new();
        for a in asks {
            now += p.wait(now, a);
            assert!(p.wait(now, a).is_zero());
            p.record(now, a);
            out.push((now - t0).as_secs_f64());
        }
        out
    }

    #[test]
    fn sixty_per_ten_minutes() {
        let asks: Vec<Ask> = (0..130)
            .map(|i| ask(&format!("C{}", i % 30), &i.to_string()))
            .collect();
        let t = run(Rules::IB, &asks);
        // Any 61 consecutive sends span at least 10 minutes.
        for w in t.windows(61) {
            assert!(w[60] - w[0] >= 600.0 - 1e-9, "{w:?}");
        }
        assert!((t[60] - 600.0).abs() < 1e-6, "{}", t[60]);
    }

    #[test]
    fn six_per_contract_in_two_seconds() {
        let asks: Vec<Ask> = (0..20).map(|i| ask("AAPL", &i.to_string())).collect();
        let t = run(Rules::IB, &asks);
        for w in t.windows(7) {
            assert!(w[6] - w[0] >= 2.0 - 1e-9, "{w:?}");
        }
        assert_eq!(t[5], 0.0);
        assert!((t[6] - 2.0).abs() < 1e-9);
    }

    #[test]
    fn identical_requests_fifteen_seconds_apart() {
        let a = ask("AAPL", "same");
        let t = run(Rules::IB, &[a.clone(), ask("AAPL", "other"), a]);
        assert_eq!(t[1], 0.0);
        assert!((t[2] - 15.0).abs() < 1e-9);
    }

    #[test]
    fn bid_ask_counts_double() {
        let mut asks: Vec<Ask> = (0..3).map(|i| ask("EURUSD", &i.to_string())).collect();
        for a in &mut asks {
            a.bid_ask = true;
        }
        asks.push(ask("EURUSD", "x"));
        // 3 BID_ASK = 6 units: the fourth request waits for the contract window.
        let t = run(Rules::IB, &asks);
        assert!((t[3] - 2.0).abs() < 1e-9, "{t:?}");
        let mut p = Pacer::new(Rules::IB);
        let now = Instant::now();
        p.record(now, &asks[0]);
        assert_eq!(p.budget_left(now), 58);
    }

    #[test]
    fn scaled_and_off() {
        let r = Rules::scaled(0.01);
        assert_eq!(
            r.window,
            Duration::from_secs(6).mul_f64(1.0 + SAFETY_MARGIN) + JITTER_ALLOWANCE
        );
        assert_eq!(r.max_in_window, 60);
        let asks: Vec<Ask> = (0..100).map(|i| ask("X", &i.to_string())).collect();
        assert!(run(Rules::scaled(0.0), &asks).iter().all(|t| *t == 0.0));
    }

    #[test]
    fn the_budget_counts_bid_ask_twice_and_refills_after_the_window() {
        let t0 = Instant::now();
        let mut p = Pacer::new(Rules::IB);
        assert_eq!(p.rules(), Rules::IB);
        assert_eq!(p.budget_left(t0), Rules::IB.max_in_window);
        p.record(t0, &ask("A", "1"));
        let mut bid_ask = ask("B", "1");
        bid_ask.bid_ask = true;
        p.record(t0, &bid_ask);
        assert_eq!(p.budget_left(t0), Rules::IB.max_in_window - 3);
        let later = t0 + Rules::IB.window + Duration::from_secs(1);
        assert_eq!(p.budget_left(later), Rules::IB.max_in_window);
    }

    #[test]
    fn pacing_off_never_waits_and_reports_a_full_budget() {
        for scale in [0.0, -1.0, f64::NAN] {
            let rules = Rules::scaled(scale);
            assert!(rules.is_off(), "{scale}");
            let t0 = Instant::now();
            let mut p = Pacer::new(rules);
            for i in 0..500 {
                let a = ask("A", "same");
                assert!(p.wait(t0, &a).is_zero(), "request {i}");
                p.record(t0, &a);
            }
            assert_eq!(p.budget_left(t0), rules.max_in_window);
        }
        assert!(!Rules::scaled(1.0).is_off());
    }
}
