//! Host-service mode: IB reached through another `ktrdrd` (the *IB host*) that owns the gateway
//! connection, enforces pacing for everyone it serves, and keeps its own store of what it fetched.
//!
//! A load here works out which range this daemon lacks (from its own store, as an in-process load
//! would), asks the IB host to load that range into its store (an `ib_load` operation there, whose
//! progress is relayed into this one, pacing waits included), then copies the range from the IB
//! host's store into this one in one atomic merge. Cancelling here cancels the operation there.
//! `ib status|test|contract|head` are answered by the IB host. See [`crate::peer`] for how the IB
//! host is reached (its socket, SSH-forwarded from another machine).

use super::load::LoadParams;
use crate::data::DataManager;
use crate::ops::OpHandle;
use crate::peer::{Peer, parse_url, remote_failure};
use ktrdr_market::{Bar, Bars};
use ktrdr_protocol::model::{HealthStatus, IbStatusReport, LoadMode, OpState, Progress, RowLimit};
use ktrdr_protocol::{ErrorKind, Reply, Request, Response, WireError};
use std::sync::Arc;
use std::time::Duration;

/// How long the IB host may stay silent while following its load: it reports progress at least at
/// every segment and pacing wait, so minutes of silence mean it is stuck.
const WATCH_PATIENCE: Duration = Duration::from_secs(300);

pub struct Host {
    peer: Peer,
}

fn iso(ms: i64) -> String {
    ktrdr_market::time::format_iso(ms)
}

fn unexpected(what: &str) -> WireError {
    WireError::internal(format!("the IB host answered {what} unexpectedly"))
}

impl Host {
    pub fn new(url: &str, timeout: Duration) -> Result<Host, String> {
        Ok(Host {
            peer: Peer::new(parse_url(url)?, timeout),
        })
    }

    pub fn url(&self) -> String {
        self.peer.url()
    }

    /// One request answered by the IB host, passed through unchanged.
    pub async fn forward(&self, req: &Request) -> Result<Reply, WireError> {
        self.peer.call(req).await
    }

    /// The IB host's connection status, as seen from here; an unreachable host is reported in
    /// `last_error`, not as a failure, so `ib status` always says why IB is not available.
    pub async fn status(&self) -> IbStatusReport {
        match self.peer.call(&Request::IbStatus).await {
            Ok(Reply::IbStatus(mut r)) => {
                r.endpoint = format!("{} (its gateway: {})", self.url(), r.endpoint);
                r.mode = "host_service".into();
                r
            }
            Ok(_) => self.down(unexpected("ib status").message),
            Err(e) => self.down(e.message),
        }
    }

    fn down(&self, why: String) -> IbStatusReport {
        IbStatusReport {
            mode: "host_service".into(),
            endpoint: self.url(),
            client_id: 0,
            connected: false,
            server_version: None,
            connected_since_ms: None,
            connect_attempts: 0,
            reconnects: 0,
            last_error: Some(why),
            last_error_ms: Some(crate::time::now_ms()),
            pacing_budget_left: 0,
            pacing_max: 0,
            pacing_window_secs: 0.0,
            requests: 0,
            errors: 0,
            pacing_waits: 0,
            pacing_violations: 0,
            bars_received: 0,
        }
    }

    pub async fn health(&self) -> (HealthStatus, String) {
        let r = self.status().await;
        match (&r.last_error, r.connected) {
            (_, true) => (
                HealthStatus::Ok,
                format!("IB host {} connected to its gateway", self.url()),
            ),
            (Some(e), false) => (HealthStatus::Degraded, format!("IB host: {e}")),
            (None, false) => (
                HealthStatus::Degraded,
                format!("IB host {} is not connected to its gateway", self.url()),
            ),
        }
    }

    /// `data load` through the IB host (any mode but `local`, which never leaves this daemon).
    pub async fn load(
        &self,
        p: LoadParams,
        data: Arc<DataManager>,
        h: OpHandle,
    ) -> Result<String, WireError> {
        let key = &p.key;
        let tf = key.timeframe;
        let stored = match data.load(key).await {
            Ok(l) => l.bars.first_ts().zip(l.bars.last_ts()),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let end = p.end.unwrap_or_else(|| crate::time::now_ms() as i64);
        // The range this daemon lacks, by the same rules as an in-process load.
        let (start, end) = match p.mode {
            LoadMode::Tail => (stored.map(|s| s.1).or(p.start), end),
            LoadMode::Backfill => (p.start, stored.map(|s| s.0).unwrap_or(end)),
            LoadMode::Full | LoadMode::Local => (p.start, end),
        };
        let start = match start {
            Some(s) => s,
            None => {
                h.progress(Progress {
                    message: "asking the IB host for the earliest available bar".into(),
                    ..Progress::default()
                });
                let req = Request::IbHead {
                    symbol: key.symbol.clone(),
                    timeframe: tf.to_string(),
                };
                match self.peer.call(&req).await? {
                    Reply::IbHead(hd) => tf.bucket_start(hd.head_ms),
                    _ => return Err(unexpected("ib head")),
                }
            }
        };
        let base = serde_json::json!({
            "symbol": key.symbol,
            "timeframe": tf.as_str(),
            "mode": p.mode.as_str(),
            "host_service": self.url(),
        });
        if start >= end {
            let mut r = base;
            r["bars_received"] = 0.into();
            r["note"] = "nothing to load: the range is already stored".into();
            return Ok(r.to_string());
        }
        let remote = self.remote_load(&p, start, end, &h).await?;
        h.check()?;
        h.progress(Progress {
            percent: 100.0,
            message: format!("copying {} .. {} from the IB host", iso(start), iso(end)),
            ..Progress::default()
        });
        let bars = self.copy(&p, start, end).await?;
        let n = bars.len();
        let (stats, rows) = if n == 0 {
            (Default::default(), 0)
        } else {
            data.merge(key, bars).await?
        };
        let after = data.load(key).await.ok();
        let mut r = base;
        r["host_operation"] = remote.0.into();
        r["host_result"] = remote.1;
        r["bars_received"] = (n as u64).into();
        r["added"] = (stats.added as u64).into();
        r["replaced"] = (stats.replaced as u64).into();
        r["rows_after"] = after.as_ref().map_or(rows, |l| l.bars.len()).into();
        r["first_ms"] = after.as_ref().and_then(|l| l.bars.first_ts()).into();
        r["last_ms"] = after.as_ref().and_then(|l| l.bars.last_ts()).into();
        Ok(r.to_string())
    }

    /// Starts the load on the IB host and follows it, relaying its progress; returns its id and
    /// result document.
    async fn remote_load(
        &self,
        p: &LoadParams,
        start: i64,
        end: i64,
        h: &OpHandle,
    ) -> Result<(u64, serde_json::Value), WireError> {
        // `full` within [start, end): the IB host fetches only what its own store lacks there.
        let req = Request::DataLoad {
            symbol: p.key.symbol.clone(),
            timeframe: p.key.timeframe.to_string(),
            mode: LoadMode::Full,
            start: Some(iso(start)),
            end: Some(iso(end)),
            follow: false,
        };
        let id = match self.peer.call(&req).await? {
            Reply::Operation(rec) => rec.id,
            _ => return Err(unexpected("data load")),
        };
        let rec = self
            .peer
            .follow_operation(id, "IB host", WATCH_PATIENCE, h)
            .await?;
        if rec.state != OpState::Completed {
            return Err(remote_failure(&self.peer, rec));
        }
        let result = rec
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or(serde_json::Value::Null);
        Ok((id, result))
    }

    /// The range's bars from the IB host's store.
    async fn copy(&self, p: &LoadParams, start: i64, end: i64) -> Result<Bars, WireError> {
        let req = Request::DataShow {
            symbol: p.key.symbol.clone(),
            timeframe: p.key.timeframe.to_string(),
            start: Some(iso(start)),
            end: Some(iso(end)),
            rows: RowLimit::All,
        };
        let mut bars = Bars::new();
        let result = self
            .peer
            .stream(&req, WATCH_PATIENCE, |f| {
                if let Response::Bars(c) = f {
                    for i in 0..c.ts.len() {
                        bars.push(Bar {
                            ts: c.ts[i],
                            open: c.open[i],
                            high: c.high[i],
                            low: c.low[i],
                            close: c.close[i],
                            volume: c.volume[i],
                        });
                    }
                }
            })
            .await;
        match result {
            Ok(Reply::DataBars(_)) => Ok(bars),
            // Nothing stored there for this range (IB had no data in it).
            Err(e) if e.kind == ErrorKind::NotFound => Ok(Bars::new()),
            Ok(_) => Err(unexpected("data show")),
            Err(e) => Err(e),
        }
    }
}
