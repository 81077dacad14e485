//! One client connection: peer check, handshake, then requests one after another until the client
//! leaves, goes idle too long, misbehaves, or the daemon shuts down.

use crate::cmd::{self, Conn};
use crate::context::Daemon;
use crate::shutdown::Signal;
use interprocess::local_socket::traits::StreamCommon as _;
use interprocess::os::unix::uds_local_socket::tokio::Stream;
use ktrdr_protocol::handshake::{ClientHello, HelloStatus, ServerHello};
use ktrdr_protocol::{
    Connection, PROTOCOL_VERSION, ProtocolError, Request, Response, WireError, codec,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;

pub async fn handle(ctx: Arc<Daemon>, stream: Stream, mut shutdown: Signal) {
    let counters = &ctx.system.connections;
    let peer = stream.peer_creds().ok();
    let mut conn: Conn = Connection::new(stream);

    // SO_PEERCRED: only our own user (or root) may talk to us, whatever the file mode says.
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let peer_uid = peer.and_then(|p| p.euid());
    if peer_uid != Some(me) && peer_uid != Some(0) {
        counters.refused.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(?peer_uid, "refused a connection from another user");
        let _ = send_hello(
            &mut conn,
            HelloStatus::Forbidden,
            "peer uid differs from the daemon's",
        )
        .await;
        return;
    }

    conn.set_max_frame_len(ktrdr_protocol::frame::HANDSHAKE_MAX_FRAME_LEN);
    let hello = match tokio::time::timeout(ctx.config.handshake_timeout, conn.read_frame()).await {
        Err(_) => {
            counters.protocol_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("client sent no handshake in time; closing");
            return;
        }
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            counters.protocol_errors.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(error = %e, "bad frame during handshake");
            return;
        }
        Ok(Ok(Some(bytes))) => match ClientHello::parse(&bytes) {
            Ok(h) => h,
            Err(e) => {
                counters.protocol_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "bad handshake");
                let _ = send_hello(&mut conn, HelloStatus::Incompatible, &e.to_string()).await;
                return;
            }
        },
    };
    if hello.protocol != PROTOCOL_VERSION {
        counters.protocol_errors.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(client_protocol = hello.protocol, client_version = %hello.software, "client speaks another protocol version");
        let text = format!(
            "ktrdrd {} speaks protocol {PROTOCOL_VERSION}, the client ({}) speaks {}; install matching versions",
            ktrdr_protocol::SOFTWARE_VERSION,
            hello.software,
            hello.protocol
        );
        let _ = send_hello(&mut conn, HelloStatus::Incompatible, &text).await;
        return;
    }
    if shutdown.is_fired() {
        let _ = send_hello(&mut conn, HelloStatus::ShuttingDown, "stopping").await;
        return;
    }
    if send_hello(&mut conn, HelloStatus::Ok, ktrdr_protocol::SOFTWARE_VERSION)
        .await
        .is_err()
    {
        return;
    }
    conn.set_max_frame_len(ktrdr_protocol::frame::MAX_FRAME_LEN);

    loop {
        let frame = tokio::select! {
            f = tokio::time::timeout(ctx.config.idle_timeout, conn.read_frame()) => f,
            _ = shutdown.fired() => return,
        };
        let bytes = match frame {
            Err(_) => return, // idle
            Ok(Ok(None)) => return,
            Ok(Ok(Some(bytes))) => bytes,
            Ok(Err(e)) => {
                counters.protocol_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "closing connection after a bad frame");
                if matches!(e, ProtocolError::FrameTooLarge(_)) {
                    let _ = conn
                        .write(&Response::Error(WireError::validation(e.to_string())))
                        .await;
                }
                return;
            }
        };
        let req: Request = match codec::decode(&bytes) {
            Ok(r) => r,
            Err(e) => {
                counters.protocol_errors.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(error = %e, "malformed request");
                let err = WireError::validation(format!("malformed request: {e}")).with_hint(
                    "client and daemon may be different builds; check `ktrdrctl --version`",
                );
                let _ = conn.write(&Response::Error(err)).await;
                return;
            }
        };
        tracing::trace!(?req, "request");
        if let Err(e) = cmd::dispatch(&ctx, req, &mut conn).await {
            tracing::debug!(error = %e, "client went away while being answered");
            return;
        }
    }
}

async fn send_hello(conn: &mut Conn, status: HelloStatus, text: &str) -> Result<(), ProtocolError> {
    let hello = ServerHello {
        protocol: PROTOCOL_VERSION,
        status,
        pid: std::process::id(),
        text: text.to_string(),
    };
    conn.write_frame(hello.to_bytes()).await
}

/// Answers a connection over the limit with a `Busy` hello and closes it.
pub async fn refuse_busy(stream: Stream) {
    let mut conn: Conn = Connection::new(stream);
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        send_hello(
            &mut conn,
            HelloStatus::Busy,
            "too many connections; retry shortly",
        ),
    )
    .await;
}
