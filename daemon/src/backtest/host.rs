//! Backtests as a [`Delegable`] service: replayed here, or on a *backtest host*
//! (`USE_BACKTEST_HOST_SERVICE`: another ktrdrd, e.g. a bigger machine), whose results (summary,
//! trades and equity curves) are copied into this daemon's results under the local operation's id,
//! so `backtest show` here works on them like on any other.
//!
//! The backtest host replays a model from its own store over its own bars: make it the training
//! host too (the model is then there under the name `train` reported as `host_model`), or point
//! both daemons at one data directory.

use super::job::{self, Env, Job};
use super::results::Detail;
use crate::host::{Delegable, HostOutcome, HostService, Remote};
use crate::ops::OpHandle;
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::request::{Backtest, BacktestShow};
use ktrdr_protocol::{Reply, Request, Response, WireError};
use std::sync::Arc;
use std::time::Duration;

pub struct Backtester {
    pub env: Env,
}

/// One backtest: what runs here (`local`: the model resolved in this store; absent in
/// host-service mode, where the host resolves it) and the request a backtest host is sent.
pub struct BacktestJob {
    pub local: Option<Job>,
    pub request: Backtest,
}

impl Delegable for Backtester {
    type Job = BacktestJob;
    /// Scoring a long range is one step without progress updates on the host.
    const PATIENCE: Duration = Duration::from_secs(3600);

    async fn run_local(
        self: Arc<Self>,
        job: BacktestJob,
        h: OpHandle,
    ) -> Result<OpResult, WireError> {
        let Some(local) = job.local else {
            return Err(WireError::internal("a local backtest without a model"));
        };
        job::replay(local, &self.env, &h).await
    }

    async fn remote_request(
        self: Arc<Self>,
        _host: Arc<HostService>,
        job: &mut BacktestJob,
        _h: OpHandle,
    ) -> Result<Remote, WireError> {
        Ok(Remote::Start(Request::Backtest(Backtest {
            follow: false,
            ..job.request.clone()
        })))
    }

    async fn bring_back(
        self: Arc<Self>,
        host: Arc<HostService>,
        _job: BacktestJob,
        remote: HostOutcome,
        h: OpHandle,
    ) -> Result<OpResult, WireError> {
        host.copying(&h, format!("the results of backtest {}", remote.id));
        let req = Request::BacktestShow(BacktestShow {
            id: remote.id,
            trades: true,
            equity: true,
            plot: None,
        });
        let (mut ts, mut close, mut equity, mut buy_hold) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let reply = host
            .stream(&req, Self::PATIENCE, |f| {
                if let Response::Equity(c) = f {
                    ts.extend_from_slice(&c.ts);
                    close.extend_from_slice(&c.close);
                    equity.extend_from_slice(&c.equity);
                    buy_hold.extend_from_slice(&c.buy_hold);
                }
            })
            .await?;
        let Reply::Backtest(report) = reply else {
            return Err(host.unexpected("backtest show"));
        };
        let mut summary = report.summary;
        if ts.len() as u64 != summary.bars || equity.len() != ts.len() {
            return Err(host.unexpected(&format!(
                "backtest show with {} equity rows for {} bars",
                ts.len(),
                summary.bars
            )));
        }
        summary.id = h.id();
        summary.host_service = Some(host.url());
        summary.host_operation = Some(remote.id);
        let detail = Detail {
            summary,
            ts,
            close,
            equity,
            buy_hold,
            trades: report.trades.unwrap_or_default(),
        };
        h.check()?;
        Ok(OpResult::Backtest(Box::new(
            job::keep(&self.env, detail).await?,
        )))
    }
}
