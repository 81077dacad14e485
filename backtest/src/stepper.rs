//! The engine's decisions one bar at a time, for live signals: the same rules as
//! [`crate::engine::run`] (decide on a bar's probabilities, fill at the next bar, position from the
//! fills), without prices or money. A decision that changes the position is taken to fill, as the
//! engine does unless the account is bust.

use crate::decision::{changes_position, decide};
use crate::{Action, Config, Position};

#[derive(Debug, Clone)]
pub struct Stepper {
    cfg: Config,
    position: Position,
    pending: Option<Action>,
    last_acted: Option<usize>,
    t: usize,
}

impl Stepper {
    /// Starts flat, as a backtest does at its first bar.
    pub fn new(cfg: Config) -> Stepper {
        Stepper {
            cfg,
            position: Position::Flat,
            pending: None,
            last_acted: None,
            t: 0,
        }
    }

    /// The position after `action` fills from `position` (what `Book::execute` does).
    fn after(&self, action: Action, position: Position) -> Position {
        match (action, position) {
            (Action::Buy, Position::Flat | Position::Short) => Position::Long,
            (Action::Sell, Position::Flat | Position::Long) if self.cfg.allow_short => {
                Position::Short
            }
            (Action::Sell, Position::Long) => Position::Flat,
            (Action::Buy, _) | (Action::Sell, _) | (Action::Hold, _) => position,
        }
    }

    /// The action at the next bar, and whether it changes the position (fills at the bar after).
    pub fn step(&mut self, probs: [f32; 3]) -> (Action, bool) {
        if let Some(a) = self.pending.take() {
            self.position = self.after(a, self.position);
        }
        let t = self.t;
        self.t += 1;
        let action = decide(
            probs,
            self.position,
            self.last_acted.map(|s| t - s),
            &self.cfg,
        );
        let acts = changes_position(action, self.position, self.cfg.allow_short);
        if acts {
            self.pending = Some(action);
            self.last_acted = Some(t);
        }
        (action, acts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Prices, run};

    /// Stepping bar by bar gives the engine's action counts and a fill after every acted bar.
    #[test]
    fn steps_agree_with_the_engine() {
        let n = 400;
        let probs: Vec<[f32; 3]> = (0..n)
            .map(|i| {
                let x = ((i * 37) % 100) as f32 / 100.0;
                let y = ((i * 53) % 100) as f32 / 100.0;
                let (b, s) = (x * (1.0 - y), y * (1.0 - x));
                [b, 1.0 - b - s, s]
            })
            .collect();
        let ts: Vec<i64> = (0..n as i64).map(|i| i * 60_000).collect();
        let px: Vec<f64> = (0..n).map(|i| 100.0 + (i % 7) as f64).collect();
        for (allow_short, sep, aware) in [(false, 0, true), (true, 3, true), (false, 2, false)] {
            let cfg = Config {
                confidence_threshold: 0.4,
                allow_short,
                min_signal_separation: sep,
                position_awareness: aware,
                ..Config::default()
            };
            let out = run(
                Prices {
                    ts: &ts,
                    open: &px,
                    high: &px,
                    low: &px,
                    close: &px,
                },
                &probs,
                &cfg,
            )
            .unwrap();
            let mut s = Stepper::new(cfg.clone());
            let mut counts = [0usize; 3];
            let mut acted = Vec::new();
            for (t, p) in probs.iter().enumerate() {
                let (a, acts) = s.step(*p);
                counts[a.index()] += 1;
                if acts && t + 1 < n {
                    acted.push(t);
                }
            }
            assert_eq!(counts, out.actions);
            assert_eq!(acted.len(), out.acted);
            for tr in &out.trades {
                assert!(acted.contains(&(tr.entry_index - 1)), "{tr:?}");
            }
        }
    }
}
