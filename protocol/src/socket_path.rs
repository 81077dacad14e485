//! Where the daemon's socket is. Both binaries resolve it the same way:
//! `--socket PATH`, else `$KTRDR_SOCKET`, else `$XDG_RUNTIME_DIR/ktrdr/ktrdrd.sock`, else
//! `$TMPDIR/ktrdr-<uid>/ktrdrd.sock` (a per-user directory the daemon creates with mode 0700); on
//! macOS `~/Library/Application Support/ktrdr/run/ktrdrd.sock` instead, where the LaunchAgent puts it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

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
    resolve_with(flag, |name| std::env::var_os(name))
}

/// [`resolve`] with the environment read through `var`, so tests need not change the process's.
fn resolve_with(
    flag: Option<PathBuf>,
    var: impl Fn(&str) -> Option<OsString>,
) -> (PathBuf, Source) {
    if let Some(p) = flag {
        return (p, Source::Flag);
    }
    if let Some(p) = var(ENV_SOCKET).filter(|v| !v.is_empty()) {
        return (PathBuf::from(p), Source::Env);
    }
    // Like `std::env::var(..).ok()`: a value that is not UTF-8 counts as unset.
    let runtime = var("XDG_RUNTIME_DIR").and_then(|v| v.into_string().ok());
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
    temp_fallback_in(&std::env::temp_dir())
}

/// The per-user socket path under the temporary directory `tmp`.
fn temp_fallback_in(tmp: &Path) -> PathBuf {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    tmp.join(format!("ktrdr-{uid}")).join("ktrdrd.sock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// An environment of the given variables and nothing else.
    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |name| vars.get(name).cloned()
    }

    const ALL: &[(&str, &str)] = &[
        ("KTRDR_SOCKET", "/env/k.sock"),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
    ];

    #[test]
    fn the_flag_wins_over_everything() {
        let (path, source) = resolve_with(Some("/flag/k.sock".into()), env(ALL));
        assert_eq!(path, PathBuf::from("/flag/k.sock"));
        assert_eq!(source, Source::Flag);
        assert_eq!(source.as_str(), "flag");
    }

    #[test]
    fn ktrdr_socket_comes_next() {
        let (path, source) = resolve_with(None, env(ALL));
        assert_eq!(path, PathBuf::from("/env/k.sock"));
        assert_eq!(source, Source::Env);
        assert_eq!(source.as_str(), "env");
    }

    #[test]
    fn then_the_runtime_dir() {
        let vars = [("KTRDR_SOCKET", ""), ("XDG_RUNTIME_DIR", "/run/user/1000")];
        for vars in [&vars[..], &vars[1..]] {
            let (path, source) = resolve_with(None, env(vars));
            assert_eq!(path, PathBuf::from("/run/user/1000/ktrdr/ktrdrd.sock"));
            assert_eq!(source, Source::RuntimeDir);
            assert_eq!(source.as_str(), "default");
        }
    }

    #[test]
    fn then_the_temporary_directory() {
        for vars in [
            &[][..],
            &[("XDG_RUNTIME_DIR", ""), ("KTRDR_SOCKET", "")][..],
        ] {
            let (path, source) = resolve_with(None, env(vars));
            assert_eq!(path, fallback_path());
            assert_eq!(source, Source::TempDir);
            assert_eq!(source.as_str(), "default");
        }
    }

    #[test]
    fn a_runtime_dir_that_is_not_utf8_counts_as_unset() {
        use std::os::unix::ffi::OsStringExt;
        let var = |name: &str| {
            (name == "XDG_RUNTIME_DIR").then(|| OsString::from_vec(b"/run/\xff".to_vec()))
        };
        assert_eq!(resolve_with(None, var), (fallback_path(), Source::TempDir));
    }

    #[test]
    fn default_path_follows_the_runtime_dir() {
        assert_eq!(
            default_path(Some("/run/user/7".into())),
            PathBuf::from("/run/user/7/ktrdr/ktrdrd.sock")
        );
        assert_eq!(default_path(Some(String::new())), fallback_path());
        assert_eq!(default_path(None), fallback_path());
    }

    #[test]
    #[cfg(not(target_os = "macos"))]
    fn the_fallback_is_a_per_user_directory_under_tmpdir() {
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        assert_eq!(
            temp_fallback_in(Path::new("/var/tmp")),
            PathBuf::from(format!("/var/tmp/ktrdr-{uid}/ktrdrd.sock"))
        );
        // The process's TMPDIR (read, never changed here).
        assert_eq!(fallback_path(), temp_fallback_in(&std::env::temp_dir()));
    }

    #[test]
    fn resolve_reads_the_process_environment() {
        assert_eq!(
            resolve(Some("/x.sock".into())),
            (PathBuf::from("/x.sock"), Source::Flag)
        );
        assert_eq!(resolve(None), resolve_with(None, |n| std::env::var_os(n)));
    }
}
