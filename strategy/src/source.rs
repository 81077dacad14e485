//! Which price column an indicator reads: one of the bar's columns or a typical-price blend.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::indicators::Inputs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    Open,
    High,
    Low,
    #[default]
    Close,
    Volume,
    /// (high + low) / 2
    Hl2,
    /// (high + low + close) / 3, the typical price
    Hlc3,
    /// (open + high + low + close) / 4
    Ohlc4,
}

impl Source {
    pub const ALL: [Source; 8] = [
        Source::Open,
        Source::High,
        Source::Low,
        Source::Close,
        Source::Volume,
        Source::Hl2,
        Source::Hlc3,
        Source::Ohlc4,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Open => "open",
            Source::High => "high",
            Source::Low => "low",
            Source::Close => "close",
            Source::Volume => "volume",
            Source::Hl2 => "hl2",
            Source::Hlc3 => "hlc3",
            Source::Ohlc4 => "ohlc4",
        }
    }

    pub fn names() -> String {
        Self::ALL.map(Source::as_str).join(", ")
    }

    pub fn column<'a>(self, inp: &Inputs<'a>) -> Cow<'a, [f64]> {
        let n = inp.close.len();
        match self {
            Source::Open => Cow::Borrowed(inp.open),
            Source::High => Cow::Borrowed(inp.high),
            Source::Low => Cow::Borrowed(inp.low),
            Source::Close => Cow::Borrowed(inp.close),
            Source::Volume => Cow::Borrowed(inp.volume),
            Source::Hl2 => Cow::Owned((0..n).map(|i| (inp.high[i] + inp.low[i]) / 2.0).collect()),
            Source::Hlc3 => Cow::Owned(typical_price(inp)),
            Source::Ohlc4 => Cow::Owned(
                (0..n)
                    .map(|i| (inp.open[i] + inp.high[i] + inp.low[i] + inp.close[i]) / 4.0)
                    .collect(),
            ),
        }
    }
}

pub fn typical_price(inp: &Inputs) -> Vec<f64> {
    (0..inp.close.len())
        .map(|i| (inp.high[i] + inp.low[i] + inp.close[i]) / 3.0)
        .collect()
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Source {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let lower = s.trim().to_ascii_lowercase();
        Source::ALL
            .into_iter()
            .find(|src| src.as_str() == lower)
            .ok_or_else(|| format!("unknown source {s:?} (expected one of {})", Source::names()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_reads_its_column_or_blend() {
        let (open, high, low, close, volume) =
            ([1.0, 2.0], [4.0, 6.0], [0.0, 1.0], [3.0, 5.0], [7.0, 8.0]);
        let inp = Inputs {
            open: &open,
            high: &high,
            low: &low,
            close: &close,
            volume: &volume,
        };
        let col = |s: Source| s.column(&inp).into_owned();
        assert_eq!(col(Source::Open), open);
        assert_eq!(col(Source::High), high);
        assert_eq!(col(Source::Low), low);
        assert_eq!(col(Source::Close), close);
        assert_eq!(col(Source::Volume), volume);
        assert_eq!(col(Source::Hl2), [2.0, 3.5]);
        assert_eq!(col(Source::Hlc3), [7.0 / 3.0, 4.0]);
        assert_eq!(col(Source::Ohlc4), [2.0, 3.5]);
        // Plain columns are borrowed, not copied.
        assert!(matches!(Source::Close.column(&inp), Cow::Borrowed(_)));
    }

    #[test]
    fn names_parse_back_case_insensitively() {
        for s in Source::ALL {
            assert_eq!(s.to_string().parse::<Source>(), Ok(s));
            assert_eq!(
                format!(" {} ", s.as_str().to_uppercase()).parse::<Source>(),
                Ok(s)
            );
        }
        assert_eq!(Source::default(), Source::Close);
        assert_eq!(
            "mid".parse::<Source>(),
            Err("unknown source \"mid\" (expected one of open, high, low, close, volume, hl2, hlc3, ohlc4)".into())
        );
    }
}
