//! Keep-up-to-date historical data: the one IB request behind a live subscription.
//!
//! IB answers `reqHistoricalData` with `keepUpToDate = 1` with the bars of the requested duration
//! (the last one still forming), the window, then updates of the current bar every few seconds
//! until cancelled. A bar is closed only when an update with a newer time arrives. This module
//! turns the ibapi subscription into [`Update`]s; what is closed is decided by the caller
//! (`crate::live::stream`).

use super::gateway::{Failure, Gateway, Resolved};
use ibapi::market_data::TradingHours;
use ibapi::market_data::historical::{BarTimestamp, Duration as IbDuration, HistoricalBarUpdate};
use ibapi::prelude::StreamExt;
use ibapi::subscriptions::SubscriptionItem;
use ktrdr_ib::segments;
use ktrdr_market::{Bar, Timeframe};
use ktrdr_protocol::WireError;
use std::sync::atomic::Ordering;

pub type Subscription = ibapi::subscriptions::r#async::Subscription<HistoricalBarUpdate>;

/// What a keep-up-to-date subscription delivers.
#[derive(Debug)]
pub enum Update {
    /// The initial bars, oldest first; the last may still be forming.
    Initial(Vec<Bar>),
    /// The current bar as it stands now (repeated and revised until a newer one appears).
    Bar(Bar),
}

/// How far back the initial answer reaches: far enough to bridge the time between a gap fill and
/// the stream's start (or a short reconnect), within what IB serves in one request.
pub fn initial_span(tf: Timeframe) -> IbDuration {
    let secs = tf.duration_ms() / 1000;
    if secs < 86_400 {
        // Intraday: IB takes up to 86,400 S; at least 10 bars.
        IbDuration::seconds((secs * 10).clamp(3_600, 86_400) as i32)
    } else if secs == 86_400 {
        IbDuration::days(10)
    } else {
        IbDuration::weeks(10)
    }
}

fn bar(b: &ibapi::market_data::historical::Bar) -> Bar {
    let ts = match b.date {
        BarTimestamp::DateTime(dt) => dt.unix_timestamp() * 1000,
        BarTimestamp::Date(d) => d.midnight().assume_utc().unix_timestamp() * 1000,
    };
    Bar {
        ts,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
        volume: b.volume,
    }
}

impl Gateway {
    /// Opens a keep-up-to-date subscription for the contract's bars. Paced like any historical
    /// request (IB counts it as one).
    pub async fn stream(&self, r: &Resolved, tf: Timeframe) -> Result<Subscription, Failure> {
        let wts = r.what_to_show();
        let contract = format!("{}|{}|{wts}", r.symbol, r.contract.exchange);
        let span = initial_span(tf);
        let ask = super::pacing::Ask {
            identity: format!("{contract}|stream|{span}|{}", segments::bar_size(tf)),
            contract,
            bid_ask: wts == ibapi::market_data::historical::WhatToShow::BidAsk,
        };
        self.pacing
            .acquire(&ask, |_| {
                self.counters.pacing_waits.fetch_add(1, Ordering::Relaxed);
            })
            .await;
        let client = self.client().await.map_err(Failure::Connection)?;
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let what = format!("{} {tf} live bars", r.symbol);
        let sent = client
            .historical_data(&r.contract, segments::bar_size(tf))
            .what_to_show(wts)
            .trading_hours(TradingHours::Extended)
            .duration(span)
            .stream();
        match tokio::time::timeout(self.config().request_timeout, sent).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                Err(self.classify(&what, e))
            }
            Err(_) => Err(Failure::Fatal(WireError::new(
                ktrdr_protocol::ErrorKind::Timeout,
                format!("IB did not accept the request for {what} in time"),
            ))),
        }
    }

    /// The next update of a subscription: `Ok(None)` for items that carry no bar (the window,
    /// notices), `Err` when the stream ended or failed (a drop is classified as a connection
    /// failure, which also marks the gateway down).
    pub async fn next_update(
        &self,
        sub: &mut Subscription,
        what: &str,
    ) -> Result<Option<Update>, Failure> {
        match sub.next().await {
            Some(Ok(SubscriptionItem::Data(HistoricalBarUpdate::Historical(d)))) => {
                let bars: Vec<Bar> = d.bars.iter().map(bar).collect();
                self.counters
                    .bars_received
                    .fetch_add(bars.len() as u64, Ordering::Relaxed);
                Ok(Some(Update::Initial(bars)))
            }
            Some(Ok(SubscriptionItem::Data(HistoricalBarUpdate::Update(b)))) => {
                Ok(Some(Update::Bar(bar(&b))))
            }
            Some(Ok(SubscriptionItem::Data(HistoricalBarUpdate::End { .. }))) => Ok(None),
            Some(Ok(SubscriptionItem::Notice(n))) if n.code == ibapi::SUBSCRIPTION_LAG_CODE => {
                // ibapi's buffer for the stream overflowed and dropped updates: bars may be
                // missing, so the stream is requested again (and the gap filled) instead.
                Err(Failure::Connection(WireError::unavailable(format!(
                    "the daemon fell behind the IB stream of {what} ({}); requesting it again",
                    n.message
                ))))
            }
            Some(Ok(SubscriptionItem::Notice(n))) => {
                tracing::info!(what, code = n.code, message = %n.message, "IB notice on a live stream");
                Ok(None)
            }
            Some(Err(e)) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                Err(self.classify(what, e))
            }
            None => {
                // The subscription ended: with reconnects off, that is the connection going away
                // (or IB ending the request); either way it is requested again, and the next
                // `client()` sees the dead connection and marks the gateway down.
                Err(Failure::Connection(WireError::new(
                    ktrdr_protocol::ErrorKind::Connection,
                    format!("the IB stream of {what} ended"),
                )))
            }
        }
    }
}
