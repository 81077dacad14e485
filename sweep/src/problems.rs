//! The one error type: every problem found in a sweep, each naming its place, so a user fixes a
//! sweep file in one round instead of one typo per run.

/// Every problem found, one per line when displayed, each starting with its place
/// (`grid: indicators.rsi.perod: no key "perod" ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct Problems(pub Vec<String>);

impl Problems {
    pub(crate) fn new() -> Problems {
        Problems(Vec::new())
    }

    /// Records `message` at `place`.
    pub(crate) fn at(&mut self, place: impl AsRef<str>, message: impl AsRef<str>) {
        self.0
            .push(format!("{}: {}", place.as_ref(), message.as_ref()));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was recorded.
    pub(crate) fn or_ok<T>(self, value: T) -> Result<T, Problems> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}
