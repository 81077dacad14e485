//! The task that keeps one subscription current.
//!
//! Each round: resolve the contract, open a keep-up-to-date request (paced like any historical
//! request), and read its initial bars. If the newest stored bar is older than the first of them,
//! the gap is filled first by a tail load (an `ib_load` operation, through the same pacing as every
//! load) ending at that first bar; only then are the initial bars and the updates that queued
//! meanwhile taken in. From there on a bar is closed when an update with a newer time arrives: the
//! closed bars are merged into the store in one atomic write per batch and then published to the
//! followers, so what a follower sees is always stored already, and the forming bar never is.
//!
//! A drop of the gateway, a failed request or a stall (see [`super::stall`]) ends the round; the
//! next one starts after the gateway's reconnect backoff (or a growing backoff of its own for other
//! failures) and begins again with the gap fill, so nothing closed meanwhile is missed.

use super::feed::Feed;
use crate::data::DataManager;
use crate::data::input::SeriesKey;
use crate::ib::Gateway;
use crate::ib::gateway::Failure;
use crate::ib::load::LoadParams;
use crate::ib::stream::Update;
use crate::ops::{Registry, Work};
use futures_util::FutureExt;
use ktrdr_market::{Bar, Bars, Calendar};
use ktrdr_protocol::live::{SubscriptionInfo, SubscriptionState};
use ktrdr_protocol::model::{LoadMode, OpState};
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::{ErrorKind, WireError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Status {
    pub state: SubscriptionState,
    pub last_bar_ms: Option<i64>,
    /// When the stream last stored a closed bar (or started, for the stall check).
    pub quiet_since: Instant,
    pub last_close: Option<Instant>,
    pub bars_stored: u64,
    pub gap_bars: u64,
    pub requests: u64,
    pub stalls: u64,
    pub last_error: Option<String>,
}

/// One subscription: its series, its feed, its state, and the switch that stops its task.
pub struct Sub {
    pub key: SeriesKey,
    pub since_ms: u64,
    pub feed: Feed,
    pub status: Mutex<Status>,
    pub stop: CancellationToken,
}

impl Sub {
    pub fn new(key: SeriesKey, since_ms: u64, last_stored: Option<i64>, capacity: usize) -> Sub {
        Sub {
            key,
            since_ms,
            feed: Feed::new(capacity, last_stored),
            status: Mutex::new(Status {
                state: SubscriptionState::Starting,
                last_bar_ms: last_stored,
                quiet_since: Instant::now(),
                last_close: None,
                bars_stored: 0,
                gap_bars: 0,
                requests: 0,
                stalls: 0,
                last_error: None,
            }),
            stop: CancellationToken::new(),
        }
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, s: SubscriptionState) {
        self.status().state = s;
    }

    pub fn info(&self) -> SubscriptionInfo {
        let st = self.status().clone();
        SubscriptionInfo {
            symbol: self.key.symbol.clone(),
            timeframe: self.key.timeframe.to_string(),
            state: st.state,
            since_ms: self.since_ms,
            last_bar_ms: st.last_bar_ms,
            last_bar_age_secs: st.last_close.map(|t| t.elapsed().as_secs_f64()),
            bars_stored: st.bars_stored,
            gap_bars: st.gap_bars,
            requests: st.requests,
            stalls: st.stalls,
            followers: self.feed.followers() as u64,
            last_error: st.last_error,
        }
    }
}

/// What a subscription task needs from the daemon.
#[derive(Clone)]
pub struct Env {
    pub gateway: Arc<Gateway>,
    pub data: Arc<DataManager>,
    pub registry: Arc<Registry>,
    pub stall_bars: usize,
    /// Test knob (debug builds): the quiet time that counts as stalled, instead of
    /// `stall_bars` timeframes.
    pub stall_after: Option<Duration>,
}

/// Why a round ended.
enum Ended {
    Stalled,
    Lost(WireError),
    Failed(WireError),
}

impl From<Failure> for Ended {
    fn from(f: Failure) -> Ended {
        match f {
            Failure::Connection(e) => Ended::Lost(e),
            Failure::Pacing(m) => Ended::Lost(WireError::unavailable(m)),
            Failure::NoData => Ended::Failed(WireError::not_found("IB returned no data")),
            Failure::Fatal(e) => Ended::Failed(e),
        }
    }
}

impl From<WireError> for Ended {
    fn from(e: WireError) -> Ended {
        match e.kind {
            ErrorKind::Connection | ErrorKind::Unavailable | ErrorKind::Timeout => Ended::Lost(e),
            _ => Ended::Failed(e),
        }
    }
}

/// Runs rounds until the subscription is stopped.
pub async fn run(sub: Arc<Sub>, env: Env) {
    let mut failures = 0u32;
    loop {
        let ended = tokio::select! {
            e = round(&sub, &env) => e,
            _ = sub.stop.cancelled() => return,
        };
        let wait = match ended {
            Ended::Stalled => {
                failures = 0;
                Duration::ZERO
            }
            Ended::Lost(e) => {
                failures = 0;
                tracing::warn!(series = %sub.key, error = %e.message, "live stream lost; reconnecting");
                let mut st = sub.status();
                st.state = SubscriptionState::Reconnecting;
                st.last_error = Some(e.message);
                env.gateway.retry_in().max(Duration::from_millis(250))
            }
            Ended::Failed(e) => {
                failures += 1;
                let d = Duration::from_secs(1 << (failures - 1).min(5)).min(BACKOFF_MAX);
                tracing::warn!(series = %sub.key, error = %e.message, retry_in_secs = d.as_secs(), "live stream failed");
                let mut st = sub.status();
                st.state = SubscriptionState::Failed;
                st.last_error = Some(e.message);
                d
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = sub.stop.cancelled() => return,
        }
    }
}

async fn last_stored(data: &Arc<DataManager>, key: &SeriesKey) -> Result<Option<i64>, WireError> {
    match data.load(key).await {
        Ok(l) => Ok(l.bars.last_ts()),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Stores `bars` (closed, sorted) in one atomic merge, then publishes what is new.
async fn store(sub: &Sub, env: &Env, bars: Vec<Bar>, gap: bool) -> Result<(), WireError> {
    let last = sub.feed.last();
    let mut b = Bars::with_capacity(bars.len());
    for x in bars.into_iter().filter(|x| last.is_none_or(|l| x.ts > l)) {
        b.push(x);
    }
    if b.is_empty() {
        return Ok(());
    }
    env.data.merge(&sub.key, b.clone()).await?;
    let n = sub.feed.publish(&b) as u64;
    let mut st = sub.status();
    st.last_bar_ms = sub.feed.last();
    if gap {
        st.gap_bars += n;
    } else {
        st.bars_stored += n;
        st.last_close = Some(Instant::now());
        st.state = SubscriptionState::Streaming;
    }
    st.quiet_since = Instant::now();
    Ok(())
}

/// Publishes the stored bars the feed has not carried yet, up to (excluding) `end`.
async fn publish_stored(sub: &Sub, env: &Env, end: i64) -> Result<(), WireError> {
    let (bars, r) = env
        .data
        .window(
            &sub.key,
            crate::data::input::Window {
                start: sub.feed.last().map(|l| l + 1),
                end: Some(end),
            },
        )
        .await?;
    if r.is_empty() {
        return Ok(());
    }
    let fresh = bars.slice(r);
    let n = sub.feed.publish(&fresh) as u64;
    let mut st = sub.status();
    st.gap_bars += n;
    st.last_bar_ms = sub.feed.last();
    Ok(())
}

/// Fills `(last stored, end)` with a tail load operation and waits for it.
async fn fill_gap(sub: &Sub, env: &Env, end: i64) -> Result<(), Ended> {
    let params = LoadParams {
        key: sub.key.clone(),
        mode: LoadMode::Tail,
        start: None,
        end: Some(end),
    };
    let record = params.record();
    let (gw, data) = (Arc::clone(&env.gateway), Arc::clone(&env.data));
    let work: Work = Box::new(move |h| Box::pin(crate::ib::load::run(params, gw, data, h)));
    let rec = env.registry.start(record, work).await?;
    tracing::info!(series = %sub.key, operation = rec.id, "filling the gap since the last stored bar");
    let done = match env.registry.subscribe(rec.id) {
        Some(mut rx) => {
            let r = rx
                .wait_for(|r| r.state.is_terminal())
                .await
                .map(|r| r.clone());
            match r {
                Ok(r) => r,
                Err(_) => env.registry.get(rec.id).await?,
            }
        }
        None => env.registry.get(rec.id).await?,
    };
    match done.state {
        OpState::Completed => {
            if let Some(OpResult::IbLoad(s)) = &done.result {
                tracing::info!(series = %sub.key, added = s.added, "gap filled");
            }
            publish_stored(sub, env, end).await.map_err(Ended::from)
        }
        _ => {
            // What the load stored before it failed is published; the rest is fetched next round.
            let _ = publish_stored(sub, env, end).await;
            Err(done
                .error
                .unwrap_or_else(|| {
                    WireError::internal(format!(
                        "gap fill operation {} ended {:?}",
                        done.id, done.state
                    ))
                })
                .into())
        }
    }
}

/// One request's life: gap fill, then closed bars until it ends.
async fn round(sub: &Sub, env: &Env) -> Ended {
    match streaming(sub, env).await {
        Ok(e) | Err(e) => e,
    }
}

async fn streaming(sub: &Sub, env: &Env) -> Result<Ended, Ended> {
    let gw = &env.gateway;
    let key = &sub.key;
    let tf = key.timeframe;
    let what = key.to_string();
    let resolved = gw.resolve(&key.symbol).await?;
    let mut s = gw.stream(&resolved, tf).await?;
    sub.status().requests += 1;
    // The initial bars: all closed but the last, which is forming.
    let initial = loop {
        match gw.next_update(&mut s, &what).await? {
            Some(Update::Initial(b)) => break b,
            Some(Update::Bar(b)) => break vec![b],
            None => continue,
        }
    };
    let mut forming: Option<Bar> = initial.last().copied();
    let closed: Vec<Bar> = initial[..initial.len().saturating_sub(1)].to_vec();
    if let Some(first) = initial.first() {
        let stored = last_stored(&env.data, key).await?;
        if stored.is_some_and(|l| l + tf.duration_ms() < first.ts) {
            sub.set_state(SubscriptionState::FillingGap);
            fill_gap(sub, env, first.ts).await?;
        }
    }
    store(sub, env, closed, true).await?;
    {
        // A stalled stream stays reported as such until a bar closes on the new request.
        let mut st = sub.status();
        if st.state != SubscriptionState::Stalled {
            st.state = SubscriptionState::Streaming;
        }
    }
    sub.status().quiet_since = Instant::now();
    let calendar = Calendar::for_symbol(&key.symbol);
    let check = match env.stall_after {
        Some(after) => (after / 4).max(Duration::from_millis(20)),
        None => Duration::from_millis((tf.duration_ms() / 4).clamp(100, 5_000) as u64),
    };
    let mut tick = tokio::time::interval(check);
    loop {
        let first = tokio::select! {
            u = gw.next_update(&mut s, &what) => u?,
            _ = tick.tick() => {
                let quiet = sub.status().quiet_since.elapsed().as_millis() as i64;
                let now = crate::time::now_ms() as i64;
                let stalled = match env.stall_after {
                    Some(after) => quiet >= after.as_millis() as i64
                        && super::stall::stalled(now, i64::MAX, tf, calendar, env.stall_bars),
                    None => super::stall::stalled(now, quiet, tf, calendar, env.stall_bars),
                };
                if stalled {
                    let mut st = sub.status();
                    st.stalls += 1;
                    st.state = SubscriptionState::Stalled;
                    st.last_error = Some(format!("no bar for {} s during market hours; requested again", quiet / 1000));
                    tracing::warn!(series = %key, quiet_secs = quiet / 1000, "live stream stalled; requesting it again");
                    return Ok(Ended::Stalled);
                }
                continue;
            }
        };
        // Everything already queued is taken in the same write.
        let mut updates = vec![first];
        while let Some(u) = gw.next_update(&mut s, &what).now_or_never() {
            updates.push(u?);
        }
        let mut closed = Vec::new();
        for u in updates.into_iter().flatten() {
            let b = match u {
                Update::Bar(b) => b,
                // A second initial answer would be a new request; not expected on one stream.
                Update::Initial(_) => continue,
            };
            match forming {
                Some(f) if b.ts > f.ts => {
                    closed.push(f);
                    forming = Some(b);
                }
                Some(f) if b.ts < f.ts => {}
                _ => forming = Some(b),
            }
        }
        if !closed.is_empty() {
            store(sub, env, closed, false).await?;
        }
    }
}
