//! The store's own errors. They become the wire's [`WireError`] (kind `internal`, with a hint on
//! what to do) only at the crate's edge, so the store itself knows nothing of requests.

use ktrdr_protocol::WireError;
use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot list {dir}: {source}")]
    List { dir: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Stat { path: PathBuf, source: io::Error },
    /// A stored file that does not decode as bars.
    #[error("cannot read {path}: {message}")]
    Decode { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{0} vanished right after it was written")]
    Vanished(PathBuf),
}

impl StoreError {
    /// What the user can do about it, where there is something.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            StoreError::List { .. } => Some("is KTRDR_DATA_DIR readable?"),
            StoreError::Decode { .. } => Some("fix or remove the file, or re-import the series"),
            StoreError::Write { source, .. }
                if matches!(
                    source.kind(),
                    io::ErrorKind::StorageFull
                        | io::ErrorKind::QuotaExceeded
                        | io::ErrorKind::FileTooLarge
                        | io::ErrorKind::PermissionDenied
                        | io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                Some("is the directory writable and not full?")
            }
            _ => None,
        }
    }
}

impl From<StoreError> for WireError {
    fn from(e: StoreError) -> WireError {
        let hint = e.hint();
        let w = WireError::internal(e.to_string());
        match hint {
            Some(h) => w.with_hint(h),
            None => w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_says_so_and_other_write_errors_do_not() {
        let full = StoreError::Write {
            path: "/d/X_1h.parquet".into(),
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        let w = WireError::from(full);
        assert_eq!(w.kind, ktrdr_protocol::ErrorKind::Internal);
        assert!(w.message.contains("/d/X_1h.parquet"), "{w:?}");
        assert_eq!(
            w.hint.as_deref(),
            Some("is the directory writable and not full?")
        );
        let other = StoreError::Write {
            path: "/d/X".into(),
            source: io::Error::other("boom"),
        };
        assert_eq!(WireError::from(other).hint, None);
        let bad = StoreError::Decode {
            path: "/d/X_1h.csv".into(),
            message: "no close column".into(),
        };
        assert!(WireError::from(bad).hint.unwrap().contains("re-import"));
    }
}
