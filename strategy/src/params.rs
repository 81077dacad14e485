//! Parameter values as written in a strategy file or on a command line, before an indicator's
//! definition gives them a meaning. Kept loosely typed so that a wrong type is a validation problem
//! with a path, reported alongside every other problem, rather than a parse error that stops at the
//! first one.

use serde::Deserialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl ParamValue {
    /// The value as a number: numbers as they are, text if it parses (command lines give text).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            ParamValue::Text(t) => t.trim().parse().ok(),
            ParamValue::Bool(_) => None,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            ParamValue::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Text(t) => write!(f, "{t:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_text_and_flags_convert_as_documented() {
        assert_eq!(ParamValue::Int(14).as_f64(), Some(14.0));
        assert_eq!(ParamValue::Float(0.5).as_f64(), Some(0.5));
        assert_eq!(ParamValue::Text(" 2.5 ".into()).as_f64(), Some(2.5));
        assert_eq!(ParamValue::Text("close".into()).as_f64(), None);
        assert_eq!(ParamValue::Bool(true).as_f64(), None);
        assert_eq!(ParamValue::Text("close".into()).as_text(), Some("close"));
        assert_eq!(ParamValue::Int(1).as_text(), None);
        // Text is quoted in messages so that "14" and 14 are told apart.
        let shown: Vec<String> = [
            ParamValue::Bool(false),
            ParamValue::Int(-3),
            ParamValue::Float(0.25),
            ParamValue::Text("14".into()),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(shown, ["false", "-3", "0.25", "\"14\""]);
    }
}
