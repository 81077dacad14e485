//! The accept loop and the graceful shutdown.
//!
//! Each connection runs in its own task. A semaphore bounds how many are open at once; a client over
//! the bound is told `busy` and closed rather than left waiting in the backlog. On shutdown the
//! listener closes first (new clients see "not running" at once), then operations are cancelled, then
//! open connections get the grace period to finish their current request.

use crate::context::Daemon;
use crate::handler;
use crate::listener::Bound;
use crate::shutdown::Signal;
use interprocess::local_socket::traits::tokio::Listener as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

pub async fn run(ctx: Arc<Daemon>, bound: Bound, mut shutdown: Signal) {
    let limit = Arc::new(Semaphore::new(ctx.config.max_connections));
    let tracker = TaskTracker::new();
    let counters = &ctx.system.connections;
    tracing::info!(socket = %bound.path.display(), activated = bound.activated, "listening");

    loop {
        tokio::select! {
            accepted = bound.listener.accept() => match accepted {
                Ok(stream) => {
                    counters.total.fetch_add(1, Ordering::Relaxed);
                    match Arc::clone(&limit).try_acquire_owned() {
                        Ok(permit) => {
                            let ctx = Arc::clone(&ctx);
                            let signal = shutdown.clone();
                            tracker.spawn(async move {
                                ctx.system.connections.open.fetch_add(1, Ordering::Relaxed);
                                handler::handle(Arc::clone(&ctx), stream, signal).await;
                                ctx.system.connections.open.fetch_sub(1, Ordering::Relaxed);
                                drop(permit);
                            });
                        }
                        Err(_) => {
                            counters.refused.fetch_add(1, Ordering::Relaxed);
                            tracker.spawn(handler::refuse_busy(stream));
                        }
                    }
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the listener stays usable.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.fired() => break,
        }
    }

    tracing::info!("shutting down: no longer accepting connections");
    crate::notify::stopping();
    bound.remove_socket_file();
    drop(bound);

    let grace = ctx.config.shutdown_grace;
    ctx.live.shutdown();
    ctx.operations.registry().shutdown(grace).await;
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!(
            open = tracker.len(),
            "connections still open after the grace period; closing them"
        );
    }
    tracing::info!("stopped");
}
