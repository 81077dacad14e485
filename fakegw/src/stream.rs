//! Keep-up-to-date subscriptions (historical data with `keepUpToDate = 1`) played from the
//! library at a scripted speed.
//!
//! A real gateway answers such a request with the bars of the requested duration (the last one
//! still forming), the window (HistoricalDataEnd), then, every few seconds, an update
//! (HistoricalDataUpdate, id 90) of the *current* bar: the same bar again and again, revised as
//! trades arrive, until a bar with a newer time appears. Only then is the previous bar closed;
//! nothing says so explicitly. The fake does the same against a virtual [`Clock`]: each tick it
//! sends the bar the clock is in, partially built (its open, and high, low, close and volume
//! grown in proportion to the time elapsed in it), repeated while the clock stays in it; when the
//! clock passes into a later bar it first sends the final values of every bar it passed, in order,
//! so a client that stores "the last update before a newer time" stores exactly the library's bar.

use crate::Shared;
use crate::bars::{self, Bar};
use crate::proto::{self, id};
use crate::server::Out;
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use tokio::sync::mpsc;

/// The outcome logged for a keep-up-to-date request.
pub const STREAMING: &str = "streaming";

/// A virtual clock: `base` seconds at `since`, running `speed` times real time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: f64,
    since: Instant,
    speed: f64,
}

impl Clock {
    pub fn new(base: f64, speed: f64) -> Clock {
        Clock {
            base,
            since: Instant::now(),
            speed: speed.max(0.0),
        }
    }

    pub fn now_f64(&self) -> f64 {
        self.base + self.since.elapsed().as_secs_f64() * self.speed
    }

    pub fn now(&self) -> i64 {
        self.now_f64().floor() as i64
    }
}

/// One bar a subscription closed: its open time and when the update that closed it was sent.
#[derive(Debug, Clone)]
pub struct ClosedBar {
    pub symbol: String,
    pub bar_size: String,
    pub ts: i64,
    pub sent: SystemTime,
}

/// The bar at `b.ts` as it looks `elapsed` seconds into its `span`: what IB shows for a forming
/// bar. At or past the span it is the bar itself.
pub fn forming(b: &Bar, elapsed: i64, span: i64) -> Bar {
    if elapsed >= span || span <= 0 {
        return *b;
    }
    let f = (elapsed.max(0) as f64 + 1.0) / (span as f64 + 1.0);
    let close = b.open + (b.close - b.open) * f;
    Bar {
        ts: b.ts,
        open: b.open,
        high: (b.open + (b.high - b.open) * f).max(close),
        low: (b.open - (b.open - b.low) * f).min(close),
        close,
        volume: (b.volume * f).floor(),
    }
}

pub fn wire_bar(b: &Bar, daily: bool) -> proto::HistoricalDataBar {
    proto::HistoricalDataBar {
        date: Some(if daily {
            bars::format_date(b.ts)
        } else {
            b.ts.to_string()
        }),
        open: Some(b.open),
        high: Some(b.high),
        low: Some(b.low),
        close: Some(b.close),
        volume: Some(format!("{}", b.volume)),
        wap: Some(format!("{}", (b.high + b.low + b.close) / 3.0)),
        bar_count: Some(1),
    }
}

fn update(rid: i32, b: &Bar, daily: bool) -> Out {
    Out::Frame(crate::wire::message(
        id::OUT_HISTORICAL_DATA_UPDATE,
        &proto::HistoricalDataUpdate {
            req_id: Some(rid),
            historical_data_bar: Some(wire_bar(b, daily)),
        },
    ))
}

/// Removes the subscription from the running set however its task ends (cancel, connection
/// closed, task aborted with its connection).
struct Running<'a> {
    shared: &'a Shared,
    key: (u64, i32),
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.shared.lock().active_streams.remove(&self.key);
    }
}

/// What a streaming request needs to play.
pub(crate) struct Request {
    pub conn: u64,
    pub rid: i32,
    pub symbol: String,
    pub tf: &'static str,
    pub bar_size: String,
    pub span: i64,
    /// The bar the initial answer ended with (still forming), if any.
    pub last: Option<i64>,
}

/// Plays updates until the client cancels or the connection ends (the task is then dropped).
pub(crate) async fn play(req: Request, shared: Arc<Shared>, tx: mpsc::UnboundedSender<Out>) {
    let key = (req.conn, req.rid);
    shared.lock().active_streams.insert(key);
    let _running = Running {
        shared: &shared,
        key,
    };
    let daily = bars::is_daily(req.tf);
    // The newest bar sent so far: a newer one closes it.
    let mut current = req.last;
    loop {
        let tick = {
            let st = shared.lock();
            if st.cancelled_streams.contains(&key) {
                return;
            }
            st.stream_tick
        };
        tokio::time::sleep(tick).await;
        let mut frames = Vec::new();
        {
            let mut st = shared.lock();
            if st.streams_paused {
                continue;
            }
            let now = st.now();
            let Some(series) = st.library.get(&req.symbol, req.tf) else {
                continue;
            };
            // Bars from the current one up to the clock: the passed ones final, the last forming.
            let from = current.unwrap_or(i64::MIN);
            let upto: Vec<Bar> = series
                .bars()
                .iter()
                .filter(|b| b.ts >= from && b.ts <= now)
                .copied()
                .collect();
            let Some(newest) = upto.last().copied() else {
                continue;
            };
            let sent_at = SystemTime::now();
            for b in &upto[..upto.len() - 1] {
                frames.push(update(req.rid, b, daily));
            }
            frames.push(update(
                req.rid,
                &forming(&newest, now - newest.ts, req.span),
                daily,
            ));
            // Every bar before the newest is closed by this batch.
            for b in &upto[..upto.len() - 1] {
                st.closed.push(ClosedBar {
                    symbol: req.symbol.clone(),
                    bar_size: req.bar_size.clone(),
                    ts: b.ts,
                    sent: sent_at,
                });
            }
            st.bars_sent += upto.len() as u64;
            current = Some(newest.ts);
        }
        for f in frames {
            if tx.send(f).is_err() {
                return;
            }
        }
    }
}
