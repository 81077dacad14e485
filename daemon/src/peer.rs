//! A connection from this daemon to another `ktrdrd` acting as a host service (see [`crate::host`]),
//! spoken in the same protocol as `ktrdrctl` speaks.
//!
//! The endpoint is that daemon's Unix socket (`unix:///path/ktrdrd.sock`). A daemon on another
//! machine is reached by forwarding its socket over SSH (`ssh -NL /local.sock:/remote.sock host`):
//! the transport is then encrypted and authenticated by SSH, and the remote daemon's own peer-uid
//! check still applies to the forwarded connection. HTTP URLs (the predecessor's host services)
//! are refused at configuration time with that advice (`crate::config::host_service`).
//!
//! One connection per call: a local connect and handshake cost well under a millisecond, and it
//! keeps concurrent loads from queueing behind each other on one stream.

// Re-exported for the host adapters: the URL is parsed with the configuration, which must not
// depend on this module (it depends on `ops`, which depends on the configuration).
pub use crate::config::parse_url;
use crate::ops::OpHandle;
use ktrdr_protocol::model::OperationRecord;
use ktrdr_protocol::request::OpRef;
use ktrdr_protocol::{Connection, ErrorKind, ProtocolError, Reply, Request, Response, WireError};
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::UnixStream;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    path: PathBuf,
    timeout: Duration,
}

impl Peer {
    pub fn new(path: PathBuf, timeout: Duration) -> Peer {
        Peer { path, timeout }
    }

    pub fn url(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> WireError {
        WireError::new(
            ErrorKind::Connection,
            format!("the host service at {} is unreachable: {why}", self.url()),
        )
        .with_hint(
            "start ktrdrd there (or its SSH socket forward), or unset the host-service variables",
        )
    }

    async fn connect(&self) -> Result<Connection<UnixStream>, WireError> {
        let stream = tokio::time::timeout(self.timeout, UnixStream::connect(&self.path))
            .await
            .map_err(|_| self.unreachable("connecting timed out"))?
            .map_err(|e| self.unreachable(e))?;
        let mut conn = Connection::new(stream);
        match tokio::time::timeout(self.timeout, conn.client_handshake()).await {
            Err(_) => Err(self.unreachable("no handshake")),
            Ok(Err(e @ (ProtocolError::Handshake(_) | ProtocolError::Refused { .. }))) => {
                let mut w = e.to_wire();
                w.message = format!(
                    "the host service at {} refused us: {}",
                    self.url(),
                    w.message
                );
                Err(w)
            }
            Ok(Err(e)) => Err(self.unreachable(e)),
            Ok(Ok(_)) => Ok(conn),
        }
    }

    /// Sends `req`; non-terminal frames (progress, bar chunks) go to `on_frame` as they arrive;
    /// returns the terminal answer. Each frame must arrive within `patience`.
    pub async fn stream(
        &self,
        req: &Request,
        patience: Duration,
        mut on_frame: impl FnMut(Response),
    ) -> Result<Reply, WireError> {
        let mut conn = self.connect().await?;
        conn.write(req).await.map_err(|e| self.unreachable(e))?;
        loop {
            let frame = tokio::time::timeout(patience, conn.read::<Response>())
                .await
                .map_err(|_| {
                    WireError::new(
                        ErrorKind::Timeout,
                        format!(
                            "the host service at {} did not answer within {:.0}s",
                            self.url(),
                            patience.as_secs_f64()
                        ),
                    )
                })?
                .map_err(|e| self.unreachable(e))?;
            match frame {
                None => return Err(self.unreachable("it closed the connection")),
                Some(Response::Reply(r)) => return Ok(r),
                Some(Response::Error(e)) => return Err(e),
                Some(other) => on_frame(other),
            }
        }
    }

    pub async fn call(&self, req: &Request) -> Result<Reply, WireError> {
        self.stream(req, self.timeout, |_| {}).await
    }

    /// Follows operation `id` on the peer to its end, relaying its progress into `h` (messages
    /// prefixed with `label`); cancelling `h` cancels it there. Returns the final record, whatever
    /// its state. `patience` bounds the silence between two updates.
    pub async fn follow_operation(
        &self,
        id: u64,
        label: &str,
        patience: Duration,
        h: &OpHandle,
    ) -> Result<OperationRecord, WireError> {
        let relay = |f: Response| {
            if let Response::Update(rec) = f {
                let mut p = rec.progress;
                p.message = format!("{label} op {id}: {}", p.message);
                h.progress(p);
            }
        };
        let req = Request::OpsWatch(OpRef { id });
        let watch = self.stream(&req, patience, relay);
        let last = tokio::select! {
            r = watch => r?,
            _ = h.cancelled() => {
                if let Err(e) = self.call(&Request::OpsCancel(OpRef { id })).await {
                    tracing::warn!(error = %e.message, id, "could not cancel the operation on the host service");
                }
                return Err(WireError::cancelled(format!(
                    "cancelled by request (operation {id} on {} cancelled too)",
                    self.url()
                )));
            }
        };
        match last {
            Reply::Operation(rec) => Ok(rec),
            _ => Err(WireError::internal(format!(
                "{} answered ops watch unexpectedly",
                self.url()
            ))),
        }
    }
}
