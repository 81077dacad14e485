//! The wire protocol spoken between `ktrdrd` and `ktrdrctl`.
//!
//! Layout:
//! - [`frame`]: the one framing rule (4-byte big-endian length prefix, hard size cap).
//! - [`codec`]: the one place that knows the payload encoding (bincode 2.0.1 + serde). Swapping the
//!   encoding touches this file and bumps [`PROTOCOL_VERSION`].
//! - [`handshake`]: the first exchange, in a fixed byte layout that does not depend on the payload
//!   encoding, so peers of different versions can always tell each other so.
//! - [`message`]: requests and the frames that answer them. One request is answered by zero or more
//!   non-terminal frames (progress, chunks) and exactly one terminal frame (a reply or an error).
//! - [`error`]: typed errors, their hints and the client's exit codes.
//! - [`request`]: every request as a struct of its own, one file per command group.
//! - [`model`]: the payload types (health, stats, configuration, operations).
//! - [`operation`]: operation kinds, and each kind's parameters and result as types.
//! - [`strategy`]: the payloads of the strategy, indicator and fuzzy commands.
//! - [`backtest`]: the payloads of `backtest` and `backtest show`.
//! - [`chart`]: the payloads of `chart` and `backtest show --report`.
//! - [`sweep`]: sweeps: parameter sets, walk-forward windows, cells, their metrics and ranking.
//! - [`connection`]: [`Connection`], framing plus encoding over any async byte stream.
//! - [`stored_model`]: what a stored model's metadata and metrics files hold.
//! - [`socket_path`]: where the daemon's socket lives, resolved the same way by both binaries.
//!
//! This crate must never depend on torch or anything heavy: `ktrdrctl` links it and has to start in
//! about a millisecond.

pub mod backtest;
pub mod chart;
pub mod codec;
pub mod connection;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod live;
pub mod message;
pub mod model;
pub mod operation;
pub mod request;
pub mod socket_path;
pub mod stored_model;
pub mod strategy;
pub mod sweep;

pub use connection::Connection;
pub use error::{ErrorKind, ProtocolError, WireError};
pub use message::{Reply, Request, Response};

/// Bumped on any incompatible change to the handshake, the framing, the encoding or a message.
pub const PROTOCOL_VERSION: u16 = 5;

/// Version of the crate, reported in the handshake for humans.
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");
