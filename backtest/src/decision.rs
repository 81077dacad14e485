//! Probabilities -> an action at one bar. Class order is the model's: 0 BUY, 1 HOLD, 2 SELL.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Buy,
    Hold,
    Sell,
}

impl Action {
    /// Index in the model's class order (0 BUY, 1 HOLD, 2 SELL); also the slot in
    /// [`crate::Outcome::actions`].
    pub fn index(self) -> usize {
        match self {
            Action::Buy => 0,
            Action::Hold => 1,
            Action::Sell => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    Flat,
    Long,
    Short,
}

/// Whether `action` taken in `position` would trade. BUY while long, SELL while short and (long-only)
/// SELL while flat leave the position as it is.
pub fn changes_position(action: Action, position: Position, allow_short: bool) -> bool {
    match (action, position) {
        (Action::Hold, _) | (Action::Buy, Position::Long) | (Action::Sell, Position::Short) => {
            false
        }
        (Action::Sell, Position::Flat) => allow_short,
        _ => true,
    }
}

/// The action the strategy takes at a bar. `probs` with any NaN (features still warming up) is HOLD.
/// `bars_since_last` is None before the first acted signal.
pub fn decide(
    probs: [f32; 3],
    position: Position,
    bars_since_last: Option<usize>,
    cfg: &crate::Config,
) -> Action {
    if probs.iter().any(|p| p.is_nan()) {
        return Action::Hold;
    }
    // Ties go to the lower class index (numpy's argmax), so the Python reference agrees.
    let mut best = 0;
    for k in 1..3 {
        if probs[k] > probs[best] {
            best = k;
        }
    }
    if f64::from(probs[best]) < cfg.confidence_threshold {
        return Action::Hold;
    }
    let signal = [Action::Buy, Action::Hold, Action::Sell][best];
    if signal == Action::Hold {
        return Action::Hold;
    }
    if !changes_position(signal, position, cfg.allow_short) {
        // Without position awareness the redundant signal is still reported (the engine ignores it).
        return if cfg.position_awareness {
            Action::Hold
        } else {
            signal
        };
    }
    match bars_since_last {
        Some(bars) if bars < cfg.min_signal_separation => Action::Hold,
        _ => signal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    const BUY: [f32; 3] = [0.8, 0.1, 0.1];
    const SELL: [f32; 3] = [0.1, 0.1, 0.8];

    fn cfg() -> Config {
        Config {
            confidence_threshold: 0.6,
            min_signal_separation: 4,
            ..Config::default()
        }
    }

    #[test]
    fn nan_row_is_hold() {
        let c = cfg();
        assert_eq!(
            decide([f32::NAN, 0.0, 0.0], Position::Flat, None, &c),
            Action::Hold
        );
        assert_eq!(
            decide([0.9, 0.05, f32::NAN], Position::Flat, None, &c),
            Action::Hold
        );
    }

    #[test]
    fn threshold_is_inclusive_and_applies_to_the_top_class() {
        let c = cfg();
        // 0.59 < 0.6: HOLD; 0.6 (as f32, 0.60000002) >= 0.6: BUY.
        assert_eq!(
            decide([0.59, 0.21, 0.2], Position::Flat, None, &c),
            Action::Hold
        );
        assert_eq!(
            decide([0.6, 0.2, 0.2], Position::Flat, None, &c),
            Action::Buy
        );
        let zero = Config {
            confidence_threshold: 0.0,
            ..cfg()
        };
        assert_eq!(
            decide([0.2, 0.3, 0.5], Position::Long, None, &zero),
            Action::Sell
        );
        assert_eq!(
            decide([0.2, 0.5, 0.3], Position::Long, None, &zero),
            Action::Hold
        );
    }

    #[test]
    fn ties_go_to_the_lower_class() {
        let c = Config {
            confidence_threshold: 0.0,
            ..cfg()
        };
        assert_eq!(
            decide([0.4, 0.2, 0.4], Position::Short, None, &c),
            Action::Buy
        );
        assert_eq!(
            decide([0.2, 0.4, 0.4], Position::Long, None, &c),
            Action::Hold
        );
    }

    #[test]
    fn position_awareness() {
        let aware = cfg();
        assert_eq!(decide(BUY, Position::Long, None, &aware), Action::Hold);
        assert_eq!(decide(BUY, Position::Flat, None, &aware), Action::Buy);
        assert_eq!(decide(SELL, Position::Long, None, &aware), Action::Sell);
        // Long-only: nothing to sell when flat.
        assert_eq!(decide(SELL, Position::Flat, None, &aware), Action::Hold);
        let short = Config {
            allow_short: true,
            ..cfg()
        };
        assert_eq!(decide(SELL, Position::Flat, None, &short), Action::Sell);
        assert_eq!(decide(SELL, Position::Short, None, &short), Action::Hold);
        assert_eq!(decide(BUY, Position::Short, None, &short), Action::Buy);

        // Unaware: the redundant signal is reported, and separation does not apply to it because
        // it changes nothing.
        let unaware = Config {
            position_awareness: false,
            ..cfg()
        };
        assert_eq!(decide(BUY, Position::Long, Some(0), &unaware), Action::Buy);
        assert_eq!(
            decide(SELL, Position::Flat, Some(0), &unaware),
            Action::Sell
        );
    }

    #[test]
    fn min_separation_counts_bars_since_the_last_acted_signal() {
        let c = cfg(); // separation 4
        assert_eq!(decide(SELL, Position::Long, Some(3), &c), Action::Hold);
        assert_eq!(decide(SELL, Position::Long, Some(4), &c), Action::Sell);
        assert_eq!(decide(BUY, Position::Flat, None, &c), Action::Buy);
        let none = Config {
            min_signal_separation: 0,
            ..cfg()
        };
        assert_eq!(decide(BUY, Position::Flat, Some(0), &none), Action::Buy);
    }

    #[test]
    fn changes_position_table() {
        use Action::*;
        use Position::*;
        assert!(!changes_position(Hold, Flat, true));
        assert!(changes_position(Buy, Flat, false));
        assert!(changes_position(Buy, Short, true));
        assert!(!changes_position(Buy, Long, true));
        assert!(changes_position(Sell, Long, false));
        assert!(!changes_position(Sell, Flat, false));
        assert!(changes_position(Sell, Flat, true));
        assert!(!changes_position(Sell, Short, true));
    }
}
