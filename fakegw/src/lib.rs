//! A fake IB Gateway for tests and benchmarks: a TCP server on 127.0.0.1 that speaks the TWS wire
//! protocol the way the pinned `ibapi` 5.5 speaks it (the `API\0` handshake, the server-version
//! reply, StartApi, then protobuf frames with ids offset by 200), answering contract details, head
//! timestamps and historical bars from a [`bars::Library`], with scripted [`Faults`] and a
//! timestamped [`Logged`] request log for pacing assertions.
//!
//! It is a test tool: the daemon never depends on it.
//!
//! Modules: [`proto`] declares the protobuf messages from the documented field numbers, [`wire`]
//! frames them, [`bars`] holds the served series and the wire's date formats, [`server`] runs the
//! connections and answers.

pub mod bars;
pub mod proto;
pub mod server;
pub mod stream;
pub mod wire;

use bars::Library;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

pub use stream::{Clock, ClosedBar};

/// The highest server version the fake claims by default: the top of ibapi 5.5's range.
pub const DEFAULT_SERVER_VERSION: i32 = 226;

/// Scripted misbehaviour. Each counted fault fires that many times, then clears itself.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The next N historical requests get error 162 "Historical data request pacing violation".
    pub pacing_violations: u32,
    /// After answering N more historical requests, the connection is closed when the next one
    /// arrives (unanswered). Fires once.
    pub drop_after_requests: Option<u32>,
    /// The connection is closed instead of an answer that would take the bars sent on this
    /// gateway past N. Fires once.
    pub drop_after_bars: Option<u64>,
    /// Every answer waits this long first.
    pub delay: Duration,
    /// Symbols whose historical and head requests get 162 "HMDS query returned no data".
    pub no_data: BTreeSet<String>,
    /// Symbols answered with error 200 (no security definition) even if bars exist.
    pub unknown: BTreeSet<String>,
    /// Client ids refused with error 326 at StartApi, as if another session held them.
    pub clients_in_use: BTreeSet<i32>,
    /// Accept connections but never answer the handshake.
    pub silent_handshake: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Historical,
    HeadTimestamp,
    ContractDetails,
    CurrentTime,
    CancelHistorical,
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    pub conn: u64,
    pub kind: Kind,
    pub req_id: i32,
    /// Symbol as stored: `EURUSD` for a CASH contract EUR/USD.
    pub symbol: String,
    pub sec_type: String,
    pub exchange: String,
    pub what_to_show: String,
    pub end: String,
    pub duration: String,
    pub bar_size: String,
    /// `bars N`, `error CODE`, `dropped`.
    pub outcome: String,
}

impl Logged {
    /// What IB's "identical request" rule compares.
    pub fn identity(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}",
            self.symbol,
            self.sec_type,
            self.exchange,
            self.what_to_show,
            self.end,
            self.duration,
            self.bar_size
        )
    }
}

#[derive(Default)]
pub(crate) struct State {
    pub library: Library,
    pub faults: Faults,
    pub log: Vec<Logged>,
    pub active_clients: BTreeSet<i32>,
    pub connections: u64,
    pub bars_sent: u64,
    /// Historical requests answered since `drop_after_requests` was set.
    pub answered_since_fault: u32,
    pub server_version: i32,
    /// The replay clock: while set, "now" for every answer is this virtual time, and
    /// keep-up-to-date subscriptions stream the library's bars as it passes them.
    pub clock: Option<Clock>,
    /// How often a streaming subscription sends an update of its forming bar (real time).
    pub stream_tick: Duration,
    /// While set, streaming subscriptions send nothing (a stalled feed); the clock runs on.
    pub streams_paused: bool,
    /// Streaming subscriptions cancelled by the client: (connection, request id).
    pub cancelled_streams: BTreeSet<(u64, i32)>,
    /// Streaming subscriptions running: (connection, request id).
    pub active_streams: BTreeSet<(u64, i32)>,
    /// Every bar a subscription closed (sent an update with a newer time after it), in order.
    pub closed: Vec<ClosedBar>,
}

impl State {
    /// Seconds since the epoch: the replay clock's when set, else the wall clock.
    pub fn now(&self) -> i64 {
        match &self.clock {
            Some(c) => c.now(),
            None => server::now_secs(),
        }
    }
}

pub(crate) struct Shared {
    pub state: Mutex<State>,
    /// Flipped to end every open connection (kept listening) or the whole server.
    pub kill_connections: watch::Sender<u64>,
    pub shutdown: watch::Sender<bool>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake gateway. Stopped on drop.
pub struct FakeGateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl FakeGateway {
    /// Listens on an ephemeral loopback port. Must run inside a tokio runtime.
    pub async fn start(library: Library) -> std::io::Result<FakeGateway> {
        Self::start_on(0, library).await
    }

    /// Listens on a given loopback port (0: ephemeral), e.g. to come back where a stopped fake was.
    pub async fn start_on(port: u16, library: Library) -> std::io::Result<FakeGateway> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (kill_connections, _) = watch::channel(0u64);
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                library,
                server_version: DEFAULT_SERVER_VERSION,
                stream_tick: Duration::from_millis(20),
                ..State::default()
            }),
            kill_connections,
            shutdown,
        });
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared)));
        Ok(FakeGateway {
            addr,
            shared,
            task: Some(task),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Changes the scripted faults; takes effect for the next request.
    pub fn faults(&self, f: impl FnOnce(&mut Faults)) {
        let mut st = self.shared.lock();
        f(&mut st.faults);
        st.answered_since_fault = 0;
    }

    /// The server version answered in the handshake (clamped into the client's range).
    pub fn set_server_version(&self, v: i32) {
        self.shared.lock().server_version = v;
    }

    pub fn library(&self, f: impl FnOnce(&mut Library)) {
        f(&mut self.shared.lock().library);
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.shared.lock().log.clear();
    }

    /// Historical requests logged so far.
    pub fn historical(&self) -> Vec<Logged> {
        self.log()
            .into_iter()
            .filter(|l| l.kind == Kind::Historical)
            .collect()
    }

    /// Connections accepted since start.
    pub fn connections(&self) -> u64 {
        self.shared.lock().connections
    }

    pub fn bars_sent(&self) -> u64 {
        self.shared.lock().bars_sent
    }

    /// Starts (or moves) the replay clock: virtual time `at` (Unix seconds) now, running `speed`
    /// times faster than real time. Streaming subscriptions then play the library's bars as the
    /// clock passes them, and every answer treats the clock's time as now.
    pub fn replay(&self, at: i64, speed: f64) {
        self.shared.lock().clock = Some(Clock::new(at as f64, speed));
    }

    /// Changes the replay clock's speed from its current time on (0 stops the clock).
    pub fn set_speed(&self, speed: f64) {
        let mut st = self.shared.lock();
        if let Some(c) = st.clock.as_mut() {
            *c = Clock::new(c.now_f64(), speed);
        }
    }

    /// The gateway's current time (Unix seconds): the replay clock's when set.
    pub fn now(&self) -> i64 {
        self.shared.lock().now()
    }

    /// Real time between two updates of a streaming subscription.
    pub fn set_stream_tick(&self, tick: Duration) {
        self.shared.lock().stream_tick = tick;
    }

    /// Stalls (true) or resumes (false) every streaming subscription; the clock runs on.
    pub fn pause_streams(&self, paused: bool) {
        self.shared.lock().streams_paused = paused;
    }

    /// The bars subscriptions closed so far, in order, with when the closing update was sent.
    pub fn closed(&self) -> Vec<ClosedBar> {
        self.shared.lock().closed.clone()
    }

    /// Streaming subscriptions running now (not cancelled, connection open).
    pub fn streaming(&self) -> usize {
        self.shared.lock().active_streams.len()
    }

    /// Closes every open connection, as a gateway restart or a network cut would; keeps listening.
    pub fn drop_connections(&self) {
        self.shared.kill_connections.send_modify(|n| *n += 1);
    }

    /// Stops listening and closes every connection. The port is free again when this returns.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}
