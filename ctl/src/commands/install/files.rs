//! Writing and removing the installed files. Writes are atomic (`ktrdr-atomicfile`), so a unit is
//! never seen half-written by a `daemon-reload` running at the same moment.

use ktrdr_protocol::{ErrorKind, WireError};
use std::fs::DirBuilder;
use std::io::ErrorKind as IoKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
    Removed,
    Absent,
}

impl Change {
    pub fn label(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Change::Created, false) => "created",
            (Change::Created, true) => "would create",
            (Change::Updated, false) => "updated",
            (Change::Updated, true) => "would update",
            (Change::Removed, false) => "removed",
            (Change::Removed, true) => "would remove",
            (Change::Unchanged, _) => "unchanged",
            (Change::Absent, _) => "absent",
        }
    }
}

pub fn write(path: &Path, contents: &[u8], dry_run: bool) -> Result<Change, WireError> {
    let change = match std::fs::read(path) {
        Ok(old) if old == contents => return Ok(Change::Unchanged),
        Ok(_) => Change::Updated,
        Err(e) if e.kind() == IoKind::NotFound => Change::Created,
        Err(e) => return Err(io_error("read", path, e)),
    };
    if dry_run {
        return Ok(change);
    }
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(|e| io_error("create", dir, e))?;
    ktrdr_atomicfile::write_atomic_mode(path, 0o644, |w| w.write_all(contents))
        .map_err(|e| io_error("write", path, e))?;
    Ok(change)
}

/// A private directory (0700): it will hold trading data, state or logs.
pub fn ensure_dir(path: &Path, dry_run: bool) -> Result<Change, WireError> {
    if path.is_dir() {
        return Ok(Change::Unchanged);
    }
    if !dry_run {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| io_error("create", path, e))?;
    }
    Ok(Change::Created)
}

pub fn remove(path: &Path, dry_run: bool) -> Result<Change, WireError> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == IoKind::NotFound => Ok(Change::Absent),
        Err(e) => Err(io_error("inspect", path, e)),
        Ok(_) if dry_run => Ok(Change::Removed),
        Ok(_) => match std::fs::remove_file(path) {
            Ok(()) => Ok(Change::Removed),
            Err(e) if e.kind() == IoKind::NotFound => Ok(Change::Absent),
            Err(e) => Err(io_error("remove", path, e)),
        },
    }
}

fn io_error(verb: &str, path: &Path, e: std::io::Error) -> WireError {
    let hint = if e.kind() == IoKind::PermissionDenied {
        "system-wide files need root (sudo); or pass --prefix DIR to write elsewhere"
    } else {
        "check the path and its parent directories"
    };
    WireError::new(
        ErrorKind::Configuration,
        format!("cannot {verb} {}: {e}", path.display()),
    )
    .with_hint(hint)
}
