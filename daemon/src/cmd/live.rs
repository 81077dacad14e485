//! `data subscribe|unsubscribe|subscriptions|follow` and `predict --follow`. Following streams
//! until the client leaves (noticed at once: its end of the socket is watched), the subscription
//! goes away, or the follower falls behind.

use super::data::CHUNK_ROWS;
use super::{Conn, Streamed};
use crate::context::Daemon;
use ktrdr_market::Bars;
use ktrdr_protocol::model::BarChunk;
use ktrdr_protocol::request::{Follow, PredictFollow, Subscribe};
use ktrdr_protocol::{ErrorKind, ProtocolError, Reply, Response, WireError};
use std::ops::Range;

pub async fn subscribe(ctx: &Daemon, req: Subscribe) -> Result<Reply, WireError> {
    ctx.live.subscribe(req).await.map(Reply::Subscription)
}

pub async fn unsubscribe(ctx: &Daemon, req: Subscribe) -> Result<Reply, WireError> {
    ctx.live.unsubscribe(req).await.map(Reply::Subscription)
}

pub fn subscriptions(ctx: &Daemon) -> Reply {
    Reply::Subscriptions(ctx.live.subscriptions())
}

fn chunk(bars: &Bars, r: Range<usize>) -> BarChunk {
    BarChunk {
        ts: bars.ts()[r.clone()].to_vec(),
        open: bars.open()[r.clone()].to_vec(),
        high: bars.high()[r.clone()].to_vec(),
        low: bars.low()[r.clone()].to_vec(),
        close: bars.close()[r.clone()].to_vec(),
        volume: bars.volume()[r].to_vec(),
    }
}

async fn send_bars(conn: &mut Conn, bars: &Bars, r: Range<usize>) -> Result<(), ProtocolError> {
    let mut at = r.start;
    while at < r.end {
        let end = (at + CHUNK_ROWS).min(r.end);
        conn.write(&Response::Bars(chunk(bars, at..end))).await?;
        at = end;
    }
    Ok(())
}

/// The client's end: it sends nothing while following, so any frame or the close ends it.
async fn client_left(conn: &mut Conn) -> ProtocolError {
    match conn.read_frame().await {
        Ok(None) | Ok(Some(_)) => ProtocolError::Closed,
        Err(e) => e,
    }
}

fn ended(ctx: &Daemon, e: WireError) -> Streamed {
    if e.kind == ErrorKind::FellBehind {
        ctx.live.fell_behind();
    }
    Ok(Err(e))
}

pub async fn follow(ctx: &Daemon, req: Follow, conn: &mut Conn) -> Streamed {
    let mut f = match ctx.live.follow(req).await {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    if let Some((bars, r)) = f.history.take() {
        ctx.live.followed(r.len(), 0);
        send_bars(conn, &bars, r).await?;
    }
    loop {
        let next = tokio::select! {
            n = f.next() => n,
            e = client_left(conn) => return Err(e),
        };
        match next {
            Ok(bars) => {
                ctx.live.followed(bars.len(), 0);
                send_bars(conn, &bars, 0..bars.len()).await?;
            }
            Err(e) => return ended(ctx, e),
        }
    }
}

pub async fn predict_follow(ctx: &Daemon, req: PredictFollow, conn: &mut Conn) -> Streamed {
    let mut s = match ctx.live.predict_follow(req).await {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let mut pending: Option<Bars> = s.follower.history.take().map(|(b, r)| b.slice(r));
    loop {
        let bars = match pending.take() {
            Some(b) => b,
            None => {
                let next = tokio::select! {
                    n = s.follower.next() => n,
                    e = client_left(conn) => return Err(e),
                };
                match next {
                    Ok(b) => b,
                    Err(e) => return ended(ctx, e),
                }
            }
        };
        let lines = match s.of(&bars).await {
            Ok(l) => l,
            Err(e) => return Ok(Err(e)),
        };
        ctx.live.followed(0, lines.len());
        for l in lines {
            conn.write(&Response::Signal(l)).await?;
        }
    }
}
