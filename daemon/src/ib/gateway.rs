//! [`Gateway`]: the daemon's one connection to TWS / IB Gateway, shared by every client.
//!
//! The predecessor opened a connection per command and corrupted gateway sessions; here one
//! `ibapi::Client` lives as long as the daemon. It connects lazily (at the first IB request, so a
//! daemon without IB starts and serves local data), and after a failure or a drop it waits a
//! growing backoff (1, 2, 4 ... 30 s) before the next attempt, so a dead gateway is not hammered.
//!
//! ibapi's own reconnect is turned off (`max_reconnect_attempts(0)`): it would silently re-send
//! in-flight requests with new ids, which counts against IB pacing behind the daemon's back. A drop
//! surfaces at once and the daemon decides what to retry. Every call is bounded by a timeout:
//! ibapi waits forever on connect, the handshake and contract details.

use crate::config::{IbConfig, ServiceMode};
use crate::time::now_ms;
use ibapi::Client;
use ibapi::contracts::Contract;
use ibapi::market_data::TradingHours;
use ibapi::market_data::historical::BarTimestamp;
use ktrdr_ib::contract::Spec;
use ktrdr_ib::segments::{self, Segment};
use ktrdr_market::{Bar, Bars, Timeframe};
use ktrdr_protocol::{ErrorKind, WireError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Why an IB request did not return bars, as a load must tell them apart.
#[derive(Debug)]
pub enum Failure {
    /// Error 162 with a pacing text: back off and retry the same segment.
    Pacing(String),
    /// Error 162 "HMDS query returned no data": an empty segment (a weekend, a holiday).
    NoData,
    /// The connection is gone (or never came up): retry after reconnecting.
    Connection(WireError),
    /// Anything else: the load fails with this error.
    Fatal(WireError),
}

impl Failure {
    pub fn into_wire(self) -> WireError {
        match self {
            Failure::Pacing(m) => WireError::unavailable(format!("IB pacing violation: {m}")),
            Failure::NoData => WireError::not_found("IB returned no data"),
            Failure::Connection(e) | Failure::Fatal(e) => e,
        }
    }
}

/// A contract as IB resolved it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub symbol: String,
    pub spec: Spec,
    pub contract: Contract,
    pub long_name: String,
}

impl Resolved {
    pub fn what_to_show(&self) -> ibapi::market_data::historical::WhatToShow {
        self.spec.what_to_show()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Status {
    pub connected: bool,
    pub server_version: Option<i32>,
    pub connected_since_ms: Option<u64>,
    pub last_error: Option<String>,
    pub last_error_ms: Option<u64>,
    pub attempts: u64,
    /// Successful connections after the first: how often the daemon had to come back.
    pub reconnects: u64,
    failures: u32,
    retry_at: Option<Instant>,
    ever_connected: bool,
}

#[derive(Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub bars_received: AtomicU64,
    pub pacing_waits: AtomicU64,
    pub pacing_violations: AtomicU64,
    pub segment_retries: AtomicU64,
    /// Microseconds waited for the pacing rules, and backing off after violations.
    pub pacing_wait_us: AtomicU64,
    pub violation_backoff_us: AtomicU64,
}

impl Counters {
    pub fn add_pacing_wait(&self, d: Duration) {
        self.pacing_wait_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn add_violation_backoff(&self, d: Duration) {
        self.violation_backoff_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

pub struct Gateway {
    cfg: IbConfig,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
    status: Mutex<Status>,
    contracts: Mutex<HashMap<String, Resolved>>,
    heads: Mutex<HashMap<String, i64>>,
    pub pacing: super::pacing::Pacing,
    pub counters: Counters,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Gateway {
    pub fn new(cfg: IbConfig) -> Arc<Gateway> {
        let rules = super::pacing::Rules::scaled(cfg.pacing_scale);
        Arc::new(Gateway {
            cfg,
            client: tokio::sync::Mutex::new(None),
            status: Mutex::new(Status::default()),
            contracts: Mutex::new(HashMap::new()),
            heads: Mutex::new(HashMap::new()),
            pacing: super::pacing::Pacing::new(rules),
            counters: Counters::default(),
        })
    }

    pub fn config(&self) -> &IbConfig {
        &self.cfg
    }

    pub fn status(&self) -> Status {
        lock(&self.status).clone()
    }

    /// Whether a connection ever came up: a load only waits for reconnects to a gateway that was
    /// there, and fails at once (with the reason) when IB was never reachable.
    pub fn has_connected(&self) -> bool {
        lock(&self.status).ever_connected
    }

    /// Time until the next connection attempt is allowed (zero: now).
    pub fn retry_in(&self) -> Duration {
        lock(&self.status)
            .retry_at
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or_default()
    }

    fn record_error(&self, msg: &str) {
        let mut st = lock(&self.status);
        st.last_error = Some(msg.to_string());
        st.last_error_ms = Some(now_ms());
    }

    fn mark_down(&self, why: &str) {
        let mut st = lock(&self.status);
        if st.connected {
            tracing::warn!(reason = why, "IB connection lost");
        }
        st.connected = false;
        st.connected_since_ms = None;
        st.last_error = Some(why.to_string());
        st.last_error_ms = Some(now_ms());
    }

    /// The live client, connecting first if there is none and the backoff allows.
    pub async fn client(&self) -> Result<Arc<Client>, WireError> {
        // In host-service mode every IB request goes to the IB host (`crate::host`); a path that
        // reaches the gateway here anyway must not open a second connection behind its back.
        if let ServiceMode::HostService { url } = &self.cfg.mode {
            return Err(WireError::internal(format!(
                "this daemon reaches IB through the IB host {url} and never connects to a gateway itself"
            ))
            .with_hint("unset USE_IB_HOST_SERVICE to let ktrdrd connect to TWS / IB Gateway itself"));
        }
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref() {
            if c.is_connected() {
                return Ok(Arc::clone(c));
            }
            *slot = None;
            self.mark_down("the gateway closed the connection");
        }
        let wait = self.retry_in();
        if !wait.is_zero() {
            let last = self.status().last_error.unwrap_or_default();
            return Err(WireError::unavailable(format!(
                "IB Gateway at {} is not connected ({last}); next attempt in {:.1} s",
                self.cfg.address(),
                wait.as_secs_f64()
            )));
        }
        lock(&self.status).attempts += 1;
        let builder = Client::builder()
            .address(self.cfg.address())
            .client_id(self.cfg.client_id)
            .max_reconnect_attempts(0)
            .one_shot_timeout(self.cfg.request_timeout);
        let outcome = tokio::time::timeout(self.cfg.connect_timeout, builder.connect()).await;
        match outcome {
            Ok(Ok(client)) => {
                let client = Arc::new(client);
                let mut st = lock(&self.status);
                if st.ever_connected {
                    st.reconnects += 1;
                }
                st.ever_connected = true;
                st.connected = true;
                st.server_version = Some(client.server_version());
                st.connected_since_ms = Some(now_ms());
                st.failures = 0;
                st.retry_at = None;
                tracing::info!(address = %self.cfg.address(), server_version = client.server_version(), "connected to IB");
                *slot = Some(Arc::clone(&client));
                Ok(client)
            }
            Ok(Err(e)) => Err(self.connect_failed(connect_error(&self.cfg, e))),
            Err(_) => Err(self.connect_failed(
                WireError::new(
                    ErrorKind::Timeout,
                    format!(
                        "IB Gateway at {} did not complete the connection within {:.1} s",
                        self.cfg.address(),
                        self.cfg.connect_timeout.as_secs_f64()
                    ),
                )
                .with_hint("is the gateway logged in (not at a dialog) with the API enabled?"),
            )),
        }
    }

    fn connect_failed(&self, e: WireError) -> WireError {
        let mut st = lock(&self.status);
        st.connected = false;
        st.failures += 1;
        let backoff = Duration::from_secs(1 << (st.failures - 1).min(5)).min(BACKOFF_MAX);
        st.retry_at = Some(Instant::now() + backoff);
        st.last_error = Some(e.message.clone());
        st.last_error_ms = Some(now_ms());
        tracing::warn!(error = %e.message, retry_in_secs = backoff.as_secs(), "IB connect failed");
        e
    }

    /// Runs one request on the shared client with the request timeout, classifying failures.
    async fn call<T, F, Fut>(&self, what: &str, f: F) -> Result<T, Failure>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, ibapi::Error>>,
    {
        let client = self.client().await.map_err(|e| match e.kind {
            ErrorKind::Conflict | ErrorKind::Configuration => Failure::Fatal(e),
            _ => Failure::Connection(e),
        })?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let out = tokio::time::timeout(self.cfg.request_timeout, f(client)).await;
        let failure = match out {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => self.classify(what, e),
            Err(_) => Failure::Fatal(WireError::new(
                ErrorKind::Timeout,
                format!(
                    "IB did not answer {what} within {:.0} s",
                    self.cfg.request_timeout.as_secs_f64()
                ),
            )),
        };
        if !matches!(failure, Failure::NoData) {
            self.counters.errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Failure::Connection(e) | Failure::Fatal(e) = &failure {
            self.record_error(&e.message);
        }
        Err(failure)
    }

    pub(crate) fn classify(&self, what: &str, e: ibapi::Error) -> Failure {
        use ibapi::Error as E;
        match e {
            E::Notice(n) if n.code == 162 && n.message.to_ascii_lowercase().contains("pacing") => {
                self.counters
                    .pacing_violations
                    .fetch_add(1, Ordering::Relaxed);
                Failure::Pacing(n.message)
            }
            E::Notice(n) if n.code == 162 && n.message.contains("no data") => Failure::NoData,
            E::Notice(n) if n.code == 200 => Failure::Fatal(
                WireError::not_found(format!("IB knows no contract for {what}: {}", n.message))
                    .with_hint("stocks are SYMBOL (SMART, USD); forex pairs are written EURUSD"),
            ),
            E::Notice(n) => Failure::Fatal(WireError::unavailable(format!(
                "IB error {} on {what}: {}",
                n.code, n.message
            ))),
            E::ConnectionFailed
            | E::ConnectionReset
            | E::Shutdown
            | E::EndOfStream
            | E::UnexpectedEndOfStream
            | E::Io(_) => {
                let msg = format!("IB connection lost during {what}: {e}");
                self.mark_down(&msg);
                Failure::Connection(WireError::new(ErrorKind::Connection, msg))
            }
            E::Timeout => Failure::Fatal(WireError::new(
                ErrorKind::Timeout,
                format!("IB did not answer {what} in time"),
            )),
            other => Failure::Fatal(WireError::internal(format!("IB {what}: {other}"))),
        }
    }

    /// The contract for a stored symbol, from the cache or IB.
    pub async fn resolve(&self, symbol: &str) -> Result<Resolved, Failure> {
        if let Some(r) = lock(&self.contracts).get(symbol) {
            return Ok(r.clone());
        }
        let spec = Spec::of(symbol);
        let query = spec.contract();
        let what = format!("contract details for {symbol}");
        let details = self
            .call(&what, |c| async move { c.contract_details(&query).await })
            .await?;
        let Some(first) = details.into_iter().next() else {
            return Err(Failure::Fatal(WireError::not_found(format!(
                "IB returned no contract for {symbol}"
            ))));
        };
        let r = Resolved {
            symbol: symbol.to_string(),
            spec,
            contract: first.contract,
            long_name: first.long_name,
        };
        lock(&self.contracts).insert(symbol.to_string(), r.clone());
        Ok(r)
    }

    /// The earliest bar IB has for the contract (Unix ms), from the cache or IB.
    pub async fn head(&self, r: &Resolved) -> Result<i64, Failure> {
        let key = format!("{}|{}", r.symbol, r.what_to_show());
        if let Some(h) = lock(&self.heads).get(&key) {
            return Ok(*h);
        }
        let (contract, wts) = (r.contract.clone(), r.what_to_show());
        let what = format!("the head timestamp of {}", r.symbol);
        let t = self
            .call(&what, |c| async move {
                c.head_timestamp(&contract, wts, TradingHours::Extended)
                    .await
            })
            .await?;
        let ms = t.unix_timestamp() * 1000;
        lock(&self.heads).insert(key, ms);
        Ok(ms)
    }

    /// A cheap round trip: the gateway's clock.
    pub async fn server_time(&self) -> Result<i64, Failure> {
        let t = self
            .call("the server time", |c| async move { c.server_time().await })
            .await?;
        Ok(t.unix_timestamp() * 1000)
    }

    /// What the pacing rules compare for one segment request.
    pub fn ask(r: &Resolved, tf: Timeframe, seg: &Segment) -> super::pacing::Ask {
        let wts = r.what_to_show();
        let contract = format!("{}|{}|{wts}", r.symbol, r.contract.exchange);
        super::pacing::Ask {
            identity: format!(
                "{contract}|{}|{}|{}",
                seg.end,
                seg.duration(),
                segments::bar_size(tf)
            ),
            contract,
            bid_ask: wts == ibapi::market_data::historical::WhatToShow::BidAsk,
        }
    }

    /// One segment's bars, `[seg.start, seg.end)`, sorted. The caller has paced the request.
    pub async fn bars(&self, r: &Resolved, tf: Timeframe, seg: Segment) -> Result<Bars, Failure> {
        let end = time::OffsetDateTime::from_unix_timestamp(seg.end.div_euclid(1000))
            .map_err(|e| Failure::Fatal(WireError::validation(format!("end time: {e}"))))?;
        let (contract, wts) = (r.contract.clone(), r.what_to_show());
        let what = format!("{} {tf} bars", r.symbol);
        let data = match self
            .call(&what, |c| async move {
                c.historical_data(&contract, segments::bar_size(tf))
                    .what_to_show(wts)
                    .trading_hours(TradingHours::Extended)
                    .duration(seg.duration())
                    .ending(end)
                    .fetch()
                    .await
            })
            .await
        {
            Ok(d) => d,
            Err(Failure::NoData) => return Ok(Bars::new()),
            Err(f) => return Err(f),
        };
        let mut bars = Bars::with_capacity(data.bars.len());
        for b in &data.bars {
            let ts = match b.date {
                BarTimestamp::DateTime(dt) => dt.unix_timestamp() * 1000,
                BarTimestamp::Date(d) => d.midnight().assume_utc().unix_timestamp() * 1000,
            };
            if ts >= seg.start && ts < seg.end {
                bars.push(Bar {
                    ts,
                    open: b.open,
                    high: b.high,
                    low: b.low,
                    close: b.close,
                    volume: b.volume,
                });
            }
        }
        bars.normalize();
        self.counters
            .bars_received
            .fetch_add(bars.len() as u64, Ordering::Relaxed);
        Ok(bars)
    }
}

fn connect_error(cfg: &IbConfig, e: ibapi::Error) -> WireError {
    let at = cfg.address();
    match e {
        ibapi::Error::ClientIdInUse { client_id } => WireError::new(
            ErrorKind::Conflict,
            format!("IB Gateway at {at} refused client id {client_id}: it is already in use"),
        )
        .with_hint(
            "another program (or another ktrdrd) holds that id; set IB_CLIENT_ID to a free one",
        ),
        ibapi::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            WireError::new(
                ErrorKind::Connection,
                format!("nothing accepts connections at {at} (connection refused)"),
            )
            .with_hint("start TWS / IB Gateway with the API enabled, or set IB_HOST / IB_PORT")
        }
        ibapi::Error::ServerVersion(want, got, _) => WireError::new(
            ErrorKind::Incompatible,
            format!("IB Gateway at {at} speaks server version {got}; ktrdrd needs {want} or later"),
        )
        .with_hint("upgrade TWS / IB Gateway (see docs/ib.md)"),
        other => WireError::new(
            ErrorKind::Connection,
            format!("cannot connect to IB Gateway at {at}: {other}"),
        ),
    }
}
