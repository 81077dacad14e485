//! Backtest settings and their defaults (documented in docs/backtest.md).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Starting cash. Default 100,000.
    pub capital: f64,
    /// Commission as a fraction of each fill's notional (entry and exit). Default 0.001.
    pub commission: f64,
    /// Slippage as a fraction of the fill price, always against us. Default 0.0005.
    pub slippage: f64,
    /// Fraction of equity (marked at the decision bar's close) committed when a position opens.
    /// Default 0.25. Quantities are fractional (no lot rounding).
    pub position_fraction: f64,
    /// Long-only (default, as the predecessor) or long/short.
    pub allow_short: bool,
    /// Below this top-class probability the decision is HOLD. From the strategy's
    /// `decisions.confidence_threshold`; default 0.6.
    pub confidence_threshold: f64,
    /// BUY while long (or SELL while short) is HOLD. Default true.
    pub position_awareness: bool,
    /// An acted signal needs at least this many bars after the previous acted one. Default 4.
    pub min_signal_separation: usize,
    /// Bars per year, for annualising returns, volatility, Sharpe and Sortino. Use
    /// [`crate::metrics::periods_per_year`] to derive it from the bars and their timeframe.
    pub periods_per_year: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capital: 100_000.0,
            commission: 0.001,
            slippage: 0.0005,
            position_fraction: 0.25,
            allow_short: false,
            confidence_threshold: 0.6,
            position_awareness: true,
            min_signal_separation: 4,
            periods_per_year: 252.0,
        }
    }
}

impl Config {
    /// Refuses settings the engine cannot give a meaning to (see docs/backtest.md, "Engine").
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, message: &str| {
            Err(ConfigError::Invalid {
                field,
                message: message.to_string(),
            })
        };
        if !(self.capital > 0.0 && self.capital.is_finite()) {
            return invalid("capital", &format!("must be > 0, got {}", self.capital));
        }
        // Ten percent of a fill is already absurd; anything above means a percent was given as a
        // whole number (0.1 meant, 10 typed).
        for (field, v) in [("commission", self.commission), ("slippage", self.slippage)] {
            if !(0.0..0.1).contains(&v) {
                return invalid(field, &format!("must be in [0, 0.1), got {v}"));
            }
        }
        if !(self.position_fraction > 0.0 && self.position_fraction <= 1.0) {
            return invalid(
                "position_fraction",
                &format!("must be in (0, 1], got {}", self.position_fraction),
            );
        }
        if !(0.0..=1.0).contains(&self.confidence_threshold) {
            return invalid(
                "confidence_threshold",
                &format!("must be in [0, 1], got {}", self.confidence_threshold),
            );
        }
        if !(self.periods_per_year > 0.0 && self.periods_per_year.is_finite()) {
            return invalid(
                "periods_per_year",
                &format!("must be > 0, got {}", self.periods_per_year),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("columns have different lengths: {0}")]
    Lengths(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(cfg: Config) -> Option<&'static str> {
        match cfg.validate() {
            Err(ConfigError::Invalid { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn each_bound_is_checked() {
        let d = Config::default;
        let cases = [
            (
                Config {
                    capital: 0.0,
                    ..d()
                },
                "capital",
            ),
            (
                Config {
                    capital: f64::NAN,
                    ..d()
                },
                "capital",
            ),
            (
                Config {
                    commission: -0.001,
                    ..d()
                },
                "commission",
            ),
            (
                Config {
                    commission: 0.1,
                    ..d()
                },
                "commission",
            ),
            (
                Config {
                    slippage: 0.5,
                    ..d()
                },
                "slippage",
            ),
            (
                Config {
                    position_fraction: 0.0,
                    ..d()
                },
                "position_fraction",
            ),
            (
                Config {
                    position_fraction: 1.01,
                    ..d()
                },
                "position_fraction",
            ),
            (
                Config {
                    confidence_threshold: 1.5,
                    ..d()
                },
                "confidence_threshold",
            ),
            (
                Config {
                    periods_per_year: 0.0,
                    ..d()
                },
                "periods_per_year",
            ),
        ];
        for (cfg, field) in cases {
            assert_eq!(field_of(cfg), Some(field));
        }
        let edges = Config {
            commission: 0.0,
            slippage: 0.0999,
            position_fraction: 1.0,
            confidence_threshold: 1.0,
            ..d()
        };
        assert_eq!(edges.validate(), Ok(()));
    }
}
