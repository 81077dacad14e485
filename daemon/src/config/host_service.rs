//! Where a delegable service (IB, training, backtest) does its work: here, or on a host service,
//! another `ktrdrd` reached through its Unix socket (possibly SSH-forwarded). `crate::peer` dials
//! the URL; it is parsed here so a bad URL is a configuration error at start-up.

use std::path::{Path, PathBuf};

/// Where a delegable service runs its work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceMode {
    /// In this daemon (for IB: its own gateway connection, reported as `in_process`).
    Local,
    /// On another ktrdrd; `url` is normalised to `unix:///absolute/path`.
    HostService { url: String },
}

impl ServiceMode {
    pub fn host_url(&self) -> Option<&str> {
        match self {
            ServiceMode::Local => None,
            ServiceMode::HostService { url } => Some(url),
        }
    }
}

/// `unix:///abs/path`, `unix:/abs/path` or a plain absolute path. HTTP URLs (the predecessor's
/// host services) are refused with what to do instead, never silently ignored.
pub fn parse_url(url: &str) -> Result<PathBuf, String> {
    let path = url
        .strip_prefix("unix://")
        .or_else(|| url.strip_prefix("unix:"))
        .unwrap_or(url);
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(format!(
            "{url}: host services are other ktrdrd daemons reached through their socket, not HTTP; use unix:///path/to/ktrdrd.sock (for another machine, forward its socket: ssh -NL /tmp/ib-host.sock:/run/user/UID/ktrdr/ktrdrd.sock HOST)"
        ));
    }
    let p = Path::new(path);
    if !p.is_absolute() {
        return Err(format!(
            "{url}: expected unix:///absolute/path/to/ktrdrd.sock"
        ));
    }
    Ok(p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("unix:///run/k/ktrdrd.sock").unwrap(),
            PathBuf::from("/run/k/ktrdrd.sock")
        );
        assert_eq!(
            parse_url("unix:/tmp/x.sock").unwrap(),
            PathBuf::from("/tmp/x.sock")
        );
        assert_eq!(
            parse_url("/tmp/x.sock").unwrap(),
            PathBuf::from("/tmp/x.sock")
        );
        let e = parse_url("http://localhost:8001").unwrap_err();
        assert!(e.contains("ssh -NL"), "{e}");
        assert!(parse_url("unix:relative.sock").is_err());
    }
}
