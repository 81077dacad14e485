//! Strategy files: the predecessor's YAML format ([`model`]), parsed from a string, and resolved
//! by [`validate`](validate::validate) into a [`Strategy`].

pub mod model;
pub mod ordered;
pub mod validate;

pub use model::StrategyFile;
pub use validate::{FuzzyFeature, Issue, Report, Strategy, StrategyIndicator, validate};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// Not YAML, or the wrong shape for a strategy (a string where a list belongs, ...).
    #[error("cannot read the strategy: {0}")]
    Syntax(String),
    #[error("the strategy has {} error(s):\n{}", .0.errors.len(), .0)]
    Invalid(Report),
}

/// Parses a strategy file's text without checking its meaning.
pub fn parse(yaml: &str) -> Result<StrategyFile, LoadError> {
    serde_saphyr::from_str(yaml).map_err(|e| LoadError::Syntax(e.to_string()))
}

/// Parses and validates.
pub fn load(yaml: &str) -> Result<Strategy, LoadError> {
    validate(parse(yaml)?).map_err(LoadError::Invalid)
}

#[cfg(test)]
mod tests;
