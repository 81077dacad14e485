//! Where the daemon's socket is. Both binaries resolve it the same way:
//! `--socket PATH`, else `$KTRDR_SOCKET`, else `$XDG_RUNTIME_DIR/ktrdr/ktrdrd.sock`, else
//! `$TMPDIR/ktrdr-<uid>/ktrdrd.sock` (a per-user directory the daemon creates with mode 0700); on
//! macOS `~/Library/Application Support/ktrdr/run/ktrdrd.sock` instead, where the LaunchAgent puts it.

use std::path::PathBuf;

pub const ENV_SOCKET: &str = "KTRDR_SOCKET";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    RuntimeDir,
    TempDir,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::RuntimeDir | Source::TempDir => "default",
        }
    }
}

pub fn resolve(flag: Option<PathBuf>) -> (PathBuf, Source) {
    if let Some(p) = flag {
        return (p, Source::Flag);
    }
    if let Some(p) = std::env::var_os(ENV_SOCKET).filter(|v| !v.is_empty()) {
        return (PathBuf::from(p), Source::Env);
    }
    let runtime = std::env::var("XDG_RUNTIME_DIR").ok();
    let source = if runtime.as_deref().is_some_and(|d| !d.is_empty()) {
        Source::RuntimeDir
    } else {
        Source::TempDir
    };
    (default_path(runtime), source)
}

/// The default socket path given the value of `XDG_RUNTIME_DIR`.
pub fn default_path(xdg_runtime_dir: Option<String>) -> PathBuf {
    match xdg_runtime_dir.filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("ktrdr").join("ktrdrd.sock"),
        None => fallback_path(),
    }
}

/// macOS has no XDG_RUNTIME_DIR, and a LaunchAgent may see another $TMPDIR than a login shell; the
/// per-user Application Support directory is the one both agree on (and `launchd/` uses).
#[cfg(target_os = "macos")]
fn fallback_path() -> PathBuf {
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => PathBuf::from(home).join("Library/Application Support/ktrdr/run/ktrdrd.sock"),
        None => temp_fallback(),
    }
}

#[cfg(not(target_os = "macos"))]
fn fallback_path() -> PathBuf {
    temp_fallback()
}

fn temp_fallback() -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir()
        .join(format!("ktrdr-{uid}"))
        .join("ktrdrd.sock")
}
