//! CPU-heavy or file-bound work off the async runtime: one helper, so every such call reports a
//! panicking task the same way (a typed internal error naming the work) instead of each module
//! inventing its own message.

use ktrdr_protocol::WireError;

/// Runs `f` on tokio's blocking pool; `what` names the work in the error if it panics.
pub async fn run<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, WireError> + Send + 'static,
) -> Result<T, WireError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WireError::internal(format!("{what} failed: {e}")))?
}
