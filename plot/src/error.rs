use thiserror::Error;

/// Why a chart could not be rendered. Input errors are distinct from rendering failures so the
/// daemon can tell the client "your request was wrong" apart from "the renderer broke".
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PlotError {
    #[error("nothing to plot: the series are empty")]
    Empty,
    #[error("series lengths disagree: {0}")]
    Lengths(String),
    #[error("invalid chart input: {0}")]
    Invalid(String),
    #[error("rendering failed: {0}")]
    Render(String),
}
