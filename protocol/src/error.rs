//! Typed errors. A [`WireError`] crosses the socket; the client turns its [`ErrorKind`] into one line
//! on stderr, a hint and a stable exit code (see `docs/cli.md`).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The daemon (or a gateway behind it) could not be reached.
    Connection,
    Timeout,
    Configuration,
    /// Bad input from the user: a flag, a symbol, a date.
    Validation,
    NotFound,
    /// The request clashes with the current state (a finished operation cancelled, a second daemon).
    Conflict,
    Cancelled,
    /// The service exists but cannot serve now (busy, shutting down, gateway down).
    Unavailable,
    Internal,
    /// Client and daemon speak different protocol versions.
    Incompatible,
    /// A follower of a live series read too slowly: its bounded buffer overflowed and it was
    /// dropped (resume with `--since`).
    FellBehind,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::Configuration,
        ErrorKind::Validation,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::Cancelled,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
        ErrorKind::Incompatible,
        ErrorKind::FellBehind,
    ];

    /// Exit codes are part of the CLI's contract with shell scripts: never renumber them.
    /// 2 is shared with clap's usage errors on purpose: both mean "your input was wrong".
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Validation => 2,
            ErrorKind::Connection => 3,
            ErrorKind::Timeout => 4,
            ErrorKind::NotFound => 5,
            ErrorKind::Conflict => 6,
            ErrorKind::Cancelled => 7,
            ErrorKind::Unavailable => 8,
            ErrorKind::Configuration => 9,
            ErrorKind::Internal => 10,
            ErrorKind::Incompatible => 11,
            // 12 is EXIT_CHECK_FAILED.
            ErrorKind::FellBehind => 13,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Configuration => "configuration",
            ErrorKind::Validation => "validation",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
            ErrorKind::Incompatible => "incompatible",
            ErrorKind::FellBehind => "fell_behind",
        }
    }
}

/// Exit code of a check that ran and found problems (`data validate`): not an error of the request,
/// so no [`ErrorKind`] has it, but part of the same contract with scripts: never renumbered.
pub const EXIT_CHECK_FAILED: i32 = 12;

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as it travels to the user: what kind, what happened, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl WireError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WireError {
            kind,
            message: message.into(),
            hint: None,
        }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Validation, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn cancelled(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Cancelled, message)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for WireError {}

/// Failures of the transport itself (as opposed to a typed answer from the daemon).
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {0} bytes exceeds the {max} byte limit", max = crate::frame::MAX_FRAME_LEN)]
    FrameTooLarge(usize),
    #[error("malformed message: {0}")]
    Decode(String),
    #[error("cannot encode message: {0}")]
    Encode(String),
    #[error("peer closed the connection")]
    Closed,
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// The daemon answered the handshake and said no, with a typed reason.
    #[error("{message}")]
    Refused {
        status: crate::handshake::HelloStatus,
        message: String,
    },
    #[error("timed out after {0:.1}s")]
    Timeout(f64),
}

impl ProtocolError {
    /// How a transport failure is reported to a user.
    pub fn to_wire(&self) -> WireError {
        match self {
            ProtocolError::Timeout(_) => WireError::new(ErrorKind::Timeout, self.to_string())
                .with_hint("the daemon is busy or stuck; raise --timeout or check `journalctl --user -u ktrdrd`"),
            ProtocolError::Closed | ProtocolError::Io(_) => WireError::new(
                ErrorKind::Connection,
                format!("lost the connection to ktrdrd: {self}"),
            )
            .with_hint("the daemon may have stopped or restarted; check its log"),
            ProtocolError::Handshake(_) => WireError::new(ErrorKind::Incompatible, self.to_string()),
            ProtocolError::Refused { status, message } => {
                use crate::handshake::HelloStatus;
                let (kind, hint) = match status {
                    HelloStatus::Busy | HelloStatus::ShuttingDown => {
                        (ErrorKind::Unavailable, "retry in a moment")
                    }
                    HelloStatus::Forbidden => {
                        (ErrorKind::Connection, "the daemon only serves its own user")
                    }
                    HelloStatus::Ok | HelloStatus::Incompatible => (
                        ErrorKind::Incompatible,
                        "install ktrdrctl and ktrdrd from the same build, then restart the daemon",
                    ),
                };
                WireError::new(kind, message.clone()).with_hint(hint)
            }
            _ => WireError::new(ErrorKind::Internal, self.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn refusals_are_classified_by_their_status() {
        use crate::handshake::HelloStatus;
        let kind = |status| {
            ProtocolError::Refused {
                status,
                message: "whatever the text says".into(),
            }
            .to_wire()
            .kind
        };
        assert_eq!(kind(HelloStatus::Busy), ErrorKind::Unavailable);
        assert_eq!(kind(HelloStatus::ShuttingDown), ErrorKind::Unavailable);
        assert_eq!(kind(HelloStatus::Forbidden), ErrorKind::Connection);
        assert_eq!(kind(HelloStatus::Incompatible), ErrorKind::Incompatible);
    }

    #[test]
    fn kinds_have_stable_names_and_exit_codes() {
        // Both are a contract with scripts (`--json` output and `$?`); see docs/cli.md.
        let expected = [
            (ErrorKind::Connection, "connection", 3),
            (ErrorKind::Timeout, "timeout", 4),
            (ErrorKind::Configuration, "configuration", 9),
            (ErrorKind::Validation, "validation", 2),
            (ErrorKind::NotFound, "not_found", 5),
            (ErrorKind::Conflict, "conflict", 6),
            (ErrorKind::Cancelled, "cancelled", 7),
            (ErrorKind::Unavailable, "unavailable", 8),
            (ErrorKind::Internal, "internal", 10),
            (ErrorKind::Incompatible, "incompatible", 11),
            (ErrorKind::FellBehind, "fell_behind", 13),
        ];
        assert_eq!(expected.len(), ErrorKind::ALL.len());
        for (kind, name, code) in expected {
            assert_eq!(kind.as_str(), name);
            assert_eq!(kind.to_string(), name);
            assert_eq!(kind.exit_code(), code, "{name}");
            // serde spells it the same way.
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
            let back: ErrorKind = serde_json::from_value(name.into()).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn wire_error_constructors_set_their_kind() {
        let made = [
            (WireError::validation("v"), ErrorKind::Validation),
            (WireError::not_found("v"), ErrorKind::NotFound),
            (WireError::conflict("v"), ErrorKind::Conflict),
            (WireError::unavailable("v"), ErrorKind::Unavailable),
            (WireError::internal("v"), ErrorKind::Internal),
            (WireError::cancelled("v"), ErrorKind::Cancelled),
            (WireError::new(ErrorKind::Timeout, "v"), ErrorKind::Timeout),
        ];
        for (e, kind) in made {
            assert_eq!(e.kind, kind);
            assert_eq!(e.message, "v");
            assert_eq!(e.hint, None);
        }
    }

    #[test]
    fn wire_error_displays_its_message_only() {
        let e = WireError::not_found("no series EURUSD 1h").with_hint("run `ktrdrctl data list`");
        assert_eq!(e.hint.as_deref(), Some("run `ktrdrctl data list`"));
        assert_eq!(e.to_string(), "no series EURUSD 1h");
        let boxed: Box<dyn std::error::Error> = Box::new(e.clone());
        assert_eq!(boxed.to_string(), e.message);
        let back: WireError = crate::codec::decode(&crate::codec::encode(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn transport_failures_become_user_errors() {
        let e = ProtocolError::Timeout(2.5).to_wire();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert_eq!(e.message, "timed out after 2.5s");
        assert!(e.hint.unwrap().contains("--timeout"));

        let e = ProtocolError::Closed.to_wire();
        assert_eq!(e.kind, ErrorKind::Connection);
        assert_eq!(
            e.message,
            "lost the connection to ktrdrd: peer closed the connection"
        );
        assert!(e.hint.is_some());

        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "pipe");
        let e = ProtocolError::from(io).to_wire();
        assert_eq!(e.kind, ErrorKind::Connection);
        assert_eq!(e.message, "lost the connection to ktrdrd: i/o error: pipe");

        let e = ProtocolError::Handshake("bad magic".into()).to_wire();
        assert_eq!(e.kind, ErrorKind::Incompatible);
        assert_eq!(e.message, "handshake failed: bad magic");
        assert_eq!(e.hint, None);

        let internal = [
            (
                ProtocolError::FrameTooLarge(20_000_000),
                "frame of 20000000 bytes exceeds the 16777216 byte limit",
            ),
            (ProtocolError::Decode("x".into()), "malformed message: x"),
            (
                ProtocolError::Encode("y".into()),
                "cannot encode message: y",
            ),
        ];
        for (p, text) in internal {
            let e = p.to_wire();
            assert_eq!(e.kind, ErrorKind::Internal);
            assert_eq!(e.message, text);
            assert_eq!(e.hint, None);
        }
    }

    #[test]
    fn refusals_keep_their_message_and_get_a_hint() {
        use crate::handshake::HelloStatus;
        for status in [
            HelloStatus::Ok,
            HelloStatus::Incompatible,
            HelloStatus::Busy,
            HelloStatus::Forbidden,
            HelloStatus::ShuttingDown,
        ] {
            let e = ProtocolError::Refused {
                status,
                message: "the daemon's words".into(),
            };
            assert_eq!(e.to_string(), "the daemon's words");
            let w = e.to_wire();
            assert_eq!(w.message, "the daemon's words");
            assert!(w.hint.is_some_and(|h| !h.is_empty()), "{status:?}");
        }
        let ok = ProtocolError::Refused {
            status: HelloStatus::Ok,
            message: String::new(),
        };
        assert_eq!(ok.to_wire().kind, ErrorKind::Incompatible);
    }

    #[test]
    fn exit_codes_are_distinct_and_nonzero() {
        let codes: HashSet<i32> = ErrorKind::ALL.iter().map(|k| k.exit_code()).collect();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert!(!codes.contains(&0) && !codes.contains(&1));
        assert!(!codes.contains(&EXIT_CHECK_FAILED));
    }
}
