//! The opt-in `/metrics` listener (`metrics.listen`), for a Prometheus server to scrape.
//!
//! hyper 1's HTTP/1 server with hyper-util's tokio glue: the smallest well-kept HTTP server that
//! runs on the daemon's own runtime (axum would bring tower and a router for one path; a
//! hand-written HTTP parser is exactly what the rules ask not to write). `GET /metrics` (and
//! `HEAD`) answer the text of [`super::render`]; every other path is 404, every other method 405.
//! Off unless configured; it binds only the address written in the setting (loopback in the
//! documented example), and serves no data or control: the Unix socket stays the only way in.

use super::{CONTENT_TYPE, render};
use crate::context::Daemon;
use crate::shutdown::Signal;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_TYPE as CONTENT_TYPE_HEADER};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A client that has not sent its request headers by then is closed.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the listener; called at start-up, so a taken or invalid address stops the daemon with
/// a clear error instead of a daemon that silently exports nothing.
pub fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let std_listener = std::net::TcpListener::bind(addr)?;
    std_listener.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(std_listener)
}

/// Serves scrapes until shutdown.
pub async fn serve(listener: tokio::net::TcpListener, daemon: Arc<Daemon>, mut shutdown: Signal) {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(address = %addr, "serving metrics on http://{addr}/metrics");
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let daemon = Arc::clone(&daemon);
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let daemon = Arc::clone(&daemon);
                            async move { Ok::<_, Infallible>(answer(&daemon, &req)) }
                        });
                        let served = hyper::server::conn::http1::Builder::new()
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEADER_TIMEOUT)
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                        if let Err(e) = served {
                            tracing::debug!(error = %e, "metrics connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.fired() => break,
        }
    }
}

fn answer(daemon: &Arc<Daemon>, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *r.status_mut() = status;
        r
    };
    if req.uri().path() != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "not found; metrics are at /metrics\n",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET\n");
        r.headers_mut()
            .insert(ALLOW, hyper::header::HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let mut r = Response::new(Full::new(Bytes::from(render(daemon))));
    r.headers_mut().insert(
        CONTENT_TYPE_HEADER,
        hyper::header::HeaderValue::from_static(CONTENT_TYPE),
    );
    r
}
