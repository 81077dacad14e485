//! A debounced watch of the data directory. A file changed by someone else (a sync job, an editor,
//! the predecessor's downloader) drops its series from the cache at once rather than at its next
//! read, freeing the memory; the cache's stamp check is what guarantees a read never serves stale bars.

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use std::path::Path;
use std::time::Duration;

/// Events for one path are coalesced over this long: a large copy is one event, not hundreds.
const DEBOUNCE: Duration = Duration::from_millis(250);

pub type Watcher = Debouncer<RecommendedWatcher>;

/// Watches `dir` (not recursively) and calls `on_change` with each changed path, on the watcher's
/// own thread. Dropping the returned value stops the watch.
pub fn start(dir: &Path, on_change: impl Fn(&Path) + Send + 'static) -> Result<Watcher, String> {
    let mut debouncer = new_debouncer(DEBOUNCE, move |res: DebounceEventResult| match res {
        Ok(events) => {
            for ev in events {
                on_change(&ev.path);
            }
        }
        Err(e) => tracing::warn!(error = %e, "data directory watch error"),
    })
    .map_err(|e| e.to_string())?;
    debouncer
        .watcher()
        .watch(dir, RecursiveMode::NonRecursive)
        .map_err(|e| format!("cannot watch {}: {e}", dir.display()))?;
    Ok(debouncer)
}

/// The file name of a watched path, for matching it to a series.
pub fn file_name(p: &Path) -> Option<String> {
    p.file_name().and_then(|n| n.to_str()).map(str::to_string)
}
