//! IB loads as a [`Delegable`] service: in this daemon through its own gateway connection, or
//! through an *IB host* (`USE_IB_HOST_SERVICE`: another ktrdrd that owns the gateway connection,
//! enforces pacing for everyone it serves, and keeps its own store of what it fetched).
//!
//! A delegated load works out which range this daemon lacks (from its own store, as an in-process
//! load would), has the IB host load that range into its store (an `ib_load` operation there; the
//! adapter relays its progress, pacing waits included, and forwards a cancel), then copies the
//! range from the IB host's store into this one in one atomic merge.

use super::Gateway;
use super::load::{self, LoadParams};
use crate::data::DataManager;
use crate::host::{Delegable, HostOutcome, HostService, Remote};
use crate::ops::OpHandle;
use ktrdr_market::time::format_iso;
use ktrdr_market::{Bar, Bars};
use ktrdr_protocol::model::{LoadMode, Progress, RowLimit};
use ktrdr_protocol::operation::{LoadSummary, OpResult};
use ktrdr_protocol::request::{DataLoad, DataShow, IbHead};
use ktrdr_protocol::{ErrorKind, Reply, Request, Response, WireError};
use std::sync::Arc;
use std::time::Duration;

/// Loads from IB into the store.
pub struct IbLoads {
    pub gateway: Arc<Gateway>,
    pub data: Arc<DataManager>,
}

/// A delegated load: the client's parameters and the range this daemon lacks.
pub struct Missing {
    start: i64,
    end: i64,
}

impl IbLoads {
    /// The range this daemon lacks, by the same rules as an in-process load; `None` for the start
    /// when IB's earliest bar is wanted.
    async fn missing(&self, p: &LoadParams) -> Result<(Option<i64>, i64), WireError> {
        let stored = match self.data.load(&p.key).await {
            Ok(l) => l.bars.first_ts().zip(l.bars.last_ts()),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let end = p.end.unwrap_or_else(|| crate::time::now_ms() as i64);
        Ok(match p.mode {
            LoadMode::Tail => (stored.map(|s| s.1).or(p.start), end),
            LoadMode::Backfill => (p.start, stored.map(|s| s.0).unwrap_or(end)),
            LoadMode::Full | LoadMode::Local => (p.start, end),
        })
    }

    fn summary(&self, p: &LoadParams, host: &HostService) -> LoadSummary {
        LoadSummary {
            symbol: p.key.symbol.clone(),
            timeframe: p.key.timeframe.to_string(),
            mode: p.mode.as_str().into(),
            host_service: Some(host.url()),
            ..LoadSummary::default()
        }
    }

    /// The range's bars from the IB host's store.
    async fn copy(
        &self,
        host: &HostService,
        p: &LoadParams,
        m: &Missing,
    ) -> Result<Bars, WireError> {
        let req = Request::DataShow(DataShow {
            symbol: p.key.symbol.clone(),
            timeframe: p.key.timeframe.to_string(),
            start: Some(format_iso(m.start)),
            end: Some(format_iso(m.end)),
            rows: RowLimit::All,
        });
        let mut bars = Bars::new();
        let result = host
            .stream(&req, IbLoads::PATIENCE, |f| {
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
            Ok(_) => Err(host.unexpected("data show")),
            Err(e) => Err(e),
        }
    }
}

/// The job of a delegated load, carried from [`Delegable::remote_request`] to
/// [`Delegable::bring_back`].
pub struct LoadJob {
    pub params: LoadParams,
    missing: Option<Missing>,
}

impl LoadJob {
    pub fn new(params: LoadParams) -> LoadJob {
        LoadJob {
            params,
            missing: None,
        }
    }
}

impl Delegable for IbLoads {
    type Job = LoadJob;
    /// The IB host reports progress at least at every segment and pacing wait, so minutes of
    /// silence mean it is stuck.
    const PATIENCE: Duration = Duration::from_secs(300);

    async fn run_local(
        self: Arc<Self>,
        job: Self::Job,
        h: OpHandle,
    ) -> Result<OpResult, WireError> {
        let p = job.params;
        load::run(p, Arc::clone(&self.gateway), Arc::clone(&self.data), h).await
    }

    async fn remote_request(
        self: Arc<Self>,
        host: Arc<HostService>,
        job: &mut Self::Job,
        h: OpHandle,
    ) -> Result<Remote, WireError> {
        let p = job.params.clone();
        if p.mode == LoadMode::Local {
            // `local` never leaves this daemon.
            return self.run_local(LoadJob::new(p), h).await.map(Remote::Done);
        }
        let (start, end) = self.missing(&p).await?;
        let start = match start {
            Some(s) => s,
            None => {
                h.progress(Progress {
                    message: "asking the IB host for the earliest available bar".into(),
                    ..Progress::default()
                });
                let req = Request::IbHead(IbHead {
                    symbol: p.key.symbol.clone(),
                    timeframe: p.key.timeframe.to_string(),
                });
                match host.call(&req).await? {
                    Reply::IbHead(hd) => p.key.timeframe.bucket_start(hd.head_ms),
                    _ => return Err(host.unexpected("ib head")),
                }
            }
        };
        if start >= end {
            return Ok(Remote::Done(OpResult::IbLoad(LoadSummary {
                note: Some("nothing to load: the range is already stored".into()),
                ..self.summary(&p, &host)
            })));
        }
        job.missing = Some(Missing { start, end });
        // `full` within [start, end): the IB host fetches only what its own store lacks there.
        Ok(Remote::Start(Request::DataLoad(DataLoad {
            symbol: p.key.symbol.clone(),
            timeframe: p.key.timeframe.to_string(),
            mode: LoadMode::Full,
            start: Some(format_iso(start)),
            end: Some(format_iso(end)),
            follow: false,
        })))
    }

    async fn bring_back(
        self: Arc<Self>,
        host: Arc<HostService>,
        job: Self::Job,
        remote: HostOutcome,
        h: OpHandle,
    ) -> Result<OpResult, WireError> {
        let LoadJob { params: p, missing } = job;
        let Some(m) = missing else {
            return Err(WireError::internal("a delegated load lost its range"));
        };
        host.copying(
            &h,
            format!("{} .. {}", format_iso(m.start), format_iso(m.end)),
        );
        let bars = self.copy(&host, &p, &m).await?;
        let n = bars.len();
        let (stats, rows) = if n == 0 {
            (Default::default(), 0)
        } else {
            self.data.merge(&p.key, bars).await?
        };
        let after = self.data.load(&p.key).await.ok();
        let host_result = match remote.result {
            OpResult::IbLoad(r) => Some(Box::new(r)),
            _ => return Err(host.unexpected("data load's result")),
        };
        Ok(OpResult::IbLoad(LoadSummary {
            host_operation: Some(remote.id),
            host_result,
            bars_received: n as u64,
            added: stats.added as u64,
            replaced: stats.replaced as u64,
            rows_after: after.as_ref().map_or(rows, |l| l.bars.len()) as u64,
            first_ms: after.as_ref().and_then(|l| l.bars.first_ts()),
            last_ms: after.as_ref().and_then(|l| l.bars.last_ts()),
            ..self.summary(&p, &host)
        }))
    }
}
