//! The connection to the daemon: connect, handshake, one request, then its answer frames.

use ktrdr_protocol::{Connection, ErrorKind, ProtocolError, Request, Response, WireError};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixStream;

pub struct Client {
    conn: Connection<UnixStream>,
    timeout: Duration,
    pub daemon_pid: u32,
}

impl Client {
    pub async fn connect(path: &Path, timeout: Duration) -> Result<Client, WireError> {
        let stream = match tokio::time::timeout(timeout, UnixStream::connect(path)).await {
            Err(_) => return Err(timed_out(timeout, "connecting")),
            Ok(Err(e)) => return Err(connect_error(path.to_path_buf(), e)),
            Ok(Ok(s)) => s,
        };
        let mut conn = Connection::new(stream);
        let hello = match tokio::time::timeout(timeout, conn.client_handshake()).await {
            Err(_) => return Err(timed_out(timeout, "the handshake")),
            Ok(Err(e)) => return Err(e.to_wire()),
            Ok(Ok(h)) => h,
        };
        Ok(Client {
            conn,
            timeout,
            daemon_pid: hello.pid,
        })
    }

    pub async fn send(&mut self, req: &Request) -> Result<(), WireError> {
        self.conn.write(req).await.map_err(|e| e.to_wire())
    }

    /// The next answer frame. `patient` waits without a deadline (following a long job whose
    /// progress may be minutes apart); otherwise `--timeout` applies.
    pub async fn next(&mut self, patient: bool) -> Result<Response, WireError> {
        let read = self.conn.read::<Response>();
        let frame = if patient {
            read.await
        } else {
            match tokio::time::timeout(self.timeout, read).await {
                Err(_) => return Err(timed_out(self.timeout, "the answer")),
                Ok(r) => r,
            }
        };
        match frame {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(ProtocolError::Closed.to_wire()),
            Err(e) => Err(e.to_wire()),
        }
    }

    /// Sends a request and returns its single terminal answer.
    pub async fn call(&mut self, req: &Request) -> Result<ktrdr_protocol::Reply, WireError> {
        self.send(req).await?;
        loop {
            match self.next(false).await? {
                Response::Reply(r) => return Ok(r),
                Response::Error(e) => return Err(e),
                Response::Update(_)
                | Response::Bars(_)
                | Response::Equity(_)
                | Response::Signal(_)
                | Response::File(_) => continue,
            }
        }
    }
}

fn timed_out(after: Duration, what: &str) -> WireError {
    WireError::new(
        ErrorKind::Timeout,
        format!(
            "no answer from ktrdrd to {what} within {:.1}s",
            after.as_secs_f64()
        ),
    )
    .with_hint("the daemon may be overloaded or stuck; raise --timeout or check its log")
}

fn connect_error(path: PathBuf, e: std::io::Error) -> WireError {
    use std::io::ErrorKind as K;
    let p = path.display();
    match e.kind() {
        K::NotFound | K::ConnectionRefused => WireError::new(
            ErrorKind::Connection,
            format!("ktrdrd is not running (nothing listens on {p})"),
        )
        .with_hint("start it with `ktrdrd &` or `systemctl --user start ktrdrd`; if it listens elsewhere, pass --socket or set KTRDR_SOCKET"),
        K::PermissionDenied => WireError::new(
            ErrorKind::Connection,
            format!("permission denied connecting to {p}"),
        )
        .with_hint("the socket belongs to another user; run ktrdrctl as the daemon's user"),
        _ => WireError::new(ErrorKind::Connection, format!("cannot connect to {p}: {e}")),
    }
}
