//! `data load`: historical bars from IB into the store, as an operation (kind `ib_load`).
//!
//! The range comes from the mode and what is stored (see `ktrdr_ib::plan`); `local` never touches
//! IB. The range is split into segments IB serves in one answer; each is paced and fetched, and
//! fetched segments are written in batches (see `ktrdr_ib::batch`): when enough bars are pending or
//! the oldest has waited long enough, before any long wait, and whatever ends the load (success,
//! failure, cancel). So a load that fails or is cancelled keeps what it fetched, and because the
//! plan grows the stored series from its edge, a rerun starts where it stopped.

use super::gateway::{Failure, Gateway, Resolved};
use crate::data::DataManager;
use crate::data::input::SeriesKey;
use crate::ops::OpHandle;
use ktrdr_ib::batch::{Batch, Policy};
use ktrdr_ib::plan;
use ktrdr_ib::segments::Segment;
use ktrdr_protocol::WireError;
use ktrdr_protocol::model::{LoadMode, Progress};
use ktrdr_protocol::operation::{LoadSummary, OpParams, OpResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Pacing violations in a row before a segment is given up.
const MAX_PACING_RETRIES: u32 = 6;
/// Connection failures in a row before a segment is given up (about a minute with the backoff).
const MAX_CONNECTION_RETRIES: u32 = 7;

#[derive(Debug, Clone)]
pub struct LoadParams {
    pub key: SeriesKey,
    pub mode: LoadMode,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl LoadParams {
    /// The operation's recorded parameters.
    pub fn record(&self) -> OpParams {
        OpParams::IbLoad(ktrdr_protocol::operation::LoadParams {
            symbol: self.key.symbol.clone(),
            timeframe: self.key.timeframe.to_string(),
            mode: self.mode,
            start_ms: self.start,
            end_ms: self.end,
        })
    }
}

struct Tally {
    done: u64,
    total: u64,
    bars: u64,
    added: u64,
    replaced: u64,
    rows: u64,
    /// Bars written to the store so far, and in how many writes.
    stored: u64,
    writes: u64,
    /// Every wait for the pacing rules, including those before attempts that then failed.
    pacing_wait: Duration,
    retries: u64,
    violations: u64,
    /// Back-off after pacing violations, and waits for the connection to come back: a load's
    /// summary accounts for every second it spent not fetching.
    violation_backoff: Duration,
    reconnect_wait: Duration,
}

/// Fetched bars on their way to the store.
struct Sink<'a> {
    data: &'a Arc<DataManager>,
    key: &'a SeriesKey,
    batch: Batch,
}

impl Sink<'_> {
    /// Writes everything pending in one merge (one rewrite of the series file).
    async fn flush(&mut self, t: &mut Tally) -> Result<(), WireError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let bars = self.batch.take();
        let n = bars.len() as u64;
        let (stats, rows) = self.data.merge(self.key, bars).await?;
        t.added += stats.added as u64;
        t.replaced += stats.replaced as u64;
        t.rows = rows as u64;
        t.stored += n;
        t.writes += 1;
        Ok(())
    }
}

fn progress(h: &OpHandle, t: &Tally, message: String) {
    let percent = if t.total == 0 {
        0.0
    } else {
        t.done as f64 * 100.0 / t.total as f64
    };
    h.progress(Progress {
        percent,
        step: t.done,
        steps: t.total,
        message,
        items: t.bars,
        eta_secs: None,
    });
}

/// Waits `d` unless the operation is cancelled first.
async fn pause(h: &OpHandle, d: Duration) -> Result<(), WireError> {
    tokio::select! {
        _ = tokio::time::sleep(d) => Ok(()),
        _ = h.cancelled() => Err(WireError::cancelled("cancelled by request")),
    }
}

/// Runs `f` unless the operation is cancelled first (dropping an IB fetch cancels it at IB).
async fn or_cancel<T>(h: &OpHandle, f: impl Future<Output = T>) -> Result<T, WireError> {
    tokio::select! {
        v = f => Ok(v),
        _ = h.cancelled() => Err(WireError::cancelled("cancelled by request")),
    }
}

/// Retries `f` through connection losses (waiting out the gateway's reconnect backoff) and, when
/// `pacing` is set, through pacing violations.
async fn with_retries<T, F, Fut>(
    gw: &Gateway,
    h: &OpHandle,
    t: &mut Tally,
    sink: &mut Sink<'_>,
    what: &str,
    mut f: F,
) -> Result<T, WireError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let (mut pacing, mut conn) = (0u32, 0u32);
    loop {
        match or_cancel(h, f()).await? {
            Ok(v) => return Ok(v),
            Err(Failure::Pacing(m)) if pacing < MAX_PACING_RETRIES => {
                pacing += 1;
                t.retries += 1;
                gw.counters.segment_retries.fetch_add(1, Ordering::Relaxed);
                // Back off a full identical-request gap, doubling: IB resets its counters slowly.
                let base = gw
                    .pacing
                    .rules()
                    .identical_gap
                    .max(Duration::from_millis(50));
                let d = base * (1 << (pacing - 1).min(4));
                tracing::warn!(what, message = %m, retry_in_secs = d.as_secs_f64(), "IB pacing violation");
                progress(
                    h,
                    t,
                    format!(
                        "IB pacing violation on {what}; retrying in {:.1} s",
                        d.as_secs_f64()
                    ),
                );
                sink.flush(t).await?;
                t.violations += 1;
                pause(h, d).await?;
                t.violation_backoff += d;
                gw.counters.add_violation_backoff(d);
            }
            Err(Failure::Connection(e)) if conn < MAX_CONNECTION_RETRIES && gw.has_connected() => {
                conn += 1;
                t.retries += 1;
                gw.counters.segment_retries.fetch_add(1, Ordering::Relaxed);
                let d = gw.retry_in().max(Duration::from_millis(200));
                progress(
                    h,
                    t,
                    format!(
                        "IB connection lost ({}); reconnecting in {:.1} s",
                        e.message,
                        d.as_secs_f64()
                    ),
                );
                sink.flush(t).await?;
                pause(h, d).await?;
                t.reconnect_wait += d;
            }
            Err(f) => return Err(f.into_wire()),
        }
    }
}

pub async fn run(
    p: LoadParams,
    gw: Arc<Gateway>,
    data: Arc<DataManager>,
    h: OpHandle,
) -> Result<OpResult, WireError> {
    let key = p.key.clone();
    let stored = match data.load(&key).await {
        Ok(l) => l.bars.first_ts().zip(l.bars.last_ts()),
        Err(e) if e.kind == ktrdr_protocol::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut t = Tally {
        done: 0,
        total: 0,
        bars: 0,
        added: 0,
        replaced: 0,
        rows: 0,
        stored: 0,
        writes: 0,
        pacing_wait: Duration::ZERO,
        retries: 0,
        violations: 0,
        violation_backoff: Duration::ZERO,
        reconnect_wait: Duration::ZERO,
    };
    if p.mode == LoadMode::Local {
        let rows = data.load(&key).await.map(|l| l.bars.len()).unwrap_or(0);
        return Ok(OpResult::IbLoad(LoadSummary {
            symbol: key.symbol,
            timeframe: key.timeframe.to_string(),
            mode: LoadMode::Local.as_str().into(),
            rows_after: rows as u64,
            first_ms: stored.map(|s| s.0),
            last_ms: stored.map(|s| s.1),
            note: Some("local mode: IB was not contacted".into()),
            ..LoadSummary::default()
        }));
    }
    let cfg = gw.config();
    let mut sink = Sink {
        data: &data,
        key: &key,
        batch: Batch::new(Policy {
            max_bars: cfg.flush_bars,
            max_age: cfg.flush_after,
        }),
    };
    let fetched = fetch(&p, stored, &gw, &h, &mut t, &mut sink).await;
    // Whatever ended the fetching, what arrived is stored, so a rerun resumes after it.
    let flushed = sink.flush(&mut t).await;
    let resolved = match (fetched, flushed) {
        (Ok(r), Ok(())) => r,
        (Err(e), Ok(())) => return Err(e),
        (Ok(_), Err(e)) => return Err(e),
        (Err(mut e), Err(lost)) => {
            tracing::error!(error = %lost.message, "fetched IB bars could not be stored");
            e.message = format!(
                "{}; the bars fetched since the last write could not be stored either: {}",
                e.message, lost.message
            );
            return Err(e);
        }
    };
    progress(
        &h,
        &t,
        format!(
            "{} bars received, {} stored in {} writes",
            t.bars, t.stored, t.writes
        ),
    );
    let after = data.load(&key).await.ok();
    let c = &resolved.contract;
    Ok(OpResult::IbLoad(LoadSummary {
        symbol: key.symbol,
        timeframe: key.timeframe.to_string(),
        mode: p.mode.as_str().into(),
        contract: Some(format!("{} {} {}", c.symbol, c.security_type, c.exchange)),
        segments: t.total,
        bars_received: t.bars,
        added: t.added,
        replaced: t.replaced,
        writes: t.writes,
        rows_after: after.as_ref().map_or(0, |l| l.bars.len() as u64),
        first_ms: after.as_ref().and_then(|l| l.bars.first_ts()),
        last_ms: after.as_ref().and_then(|l| l.bars.last_ts()),
        pacing_wait_secs: t.pacing_wait.as_secs_f64(),
        retries: t.retries,
        pacing_violations: t.violations,
        violation_backoff_secs: t.violation_backoff.as_secs_f64(),
        reconnect_wait_secs: t.reconnect_wait.as_secs_f64(),
        ..LoadSummary::default()
    }))
}

/// Resolves the contract, plans the segments and fetches them into `sink`, writing batches as
/// they fall due. What is still pending when this returns is the caller's to write.
async fn fetch(
    p: &LoadParams,
    stored: Option<(i64, i64)>,
    gw: &Arc<Gateway>,
    h: &OpHandle,
    t: &mut Tally,
    sink: &mut Sink<'_>,
) -> Result<Resolved, WireError> {
    let key = &p.key;
    progress(
        h,
        t,
        format!("resolving the IB contract for {}", key.symbol),
    );
    let sym = key.symbol.clone();
    let resolved: Resolved =
        with_retries(gw, h, t, sink, "contract details", || gw.resolve(&sym)).await?;
    let end = p.end.unwrap_or_else(|| crate::time::now_ms() as i64);
    let needs_head = p.start.is_none();
    let head = if needs_head {
        progress(h, t, "asking IB for the earliest available bar".into());
        Some(with_retries(gw, h, t, sink, "head timestamp", || gw.head(&resolved)).await?)
    } else {
        None
    };
    // Never ask for bars before IB has any: such requests only burn pacing budget.
    let start = match (p.start, head) {
        (Some(s), _) => s,
        (None, Some(hd)) => key.timeframe.bucket_start(hd),
        (None, None) => end,
    };
    let plan: Vec<Segment> = plan::plan(p.mode, key.timeframe, stored, start, end);
    t.total = plan.len() as u64;
    progress(h, t, format!("{} segments to fetch", plan.len()));
    for seg in plan {
        h.check()?;
        let ask = Gateway::ask(&resolved, key.timeframe, &seg);
        // Pending bars are not held in memory through a long pacing wait.
        if sink.batch.worth_writing_before(gw.pacing.wait_hint(&ask)) {
            sink.flush(t).await?;
        }
        let (done, total, bars_so_far) = (t.done, t.total, t.bars);
        let tf = key.timeframe;
        // Summed over every attempt: a wait before an attempt that then hit a violation was
        // still waited (it used to be dropped with the failed attempt's result).
        let waited_us = Arc::new(AtomicU64::new(0));
        let bars = with_retries(gw, h, t, sink, "a segment", || {
            let ask = ask.clone();
            let (gw, h, resolved) = (Arc::clone(gw), h.clone(), resolved.clone());
            let waited_us = Arc::clone(&waited_us);
            async move {
                let waited = gw
                    .pacing
                    .acquire(&ask, |d| {
                        gw.counters.pacing_waits.fetch_add(1, Ordering::Relaxed);
                        h.progress(Progress {
                            percent: if total == 0 {
                                0.0
                            } else {
                                done as f64 * 100.0 / total as f64
                            },
                            step: done,
                            steps: total,
                            message: format!(
                                "waiting {:.0} s for IB pacing",
                                d.as_secs_f64().ceil()
                            ),
                            items: bars_so_far,
                            eta_secs: None,
                        });
                    })
                    .await;
                gw.counters.add_pacing_wait(waited);
                waited_us.fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
                gw.bars(&resolved, tf, seg).await
            }
        })
        .await;
        t.pacing_wait += Duration::from_micros(waited_us.load(Ordering::Relaxed));
        let bars = bars?;
        let n = bars.len() as u64;
        sink.batch.push(Instant::now(), bars);
        if sink.batch.due(Instant::now()) {
            sink.flush(t).await?;
        }
        t.done += 1;
        t.bars += n;
        progress(
            h,
            t,
            format!(
                "segment {}/{} ({} .. {}): {n} bars; {} stored",
                t.done,
                t.total,
                ktrdr_market::time::format_iso(seg.start),
                ktrdr_market::time::format_iso(seg.end),
                t.stored
            ),
        );
    }
    Ok(resolved)
}
