//! The one host-service adapter: whether a service's jobs run in this daemon or on another
//! `ktrdrd` (its *host service*) is decided here, once, from configuration, for every service that
//! can delegate (IB loads, trainings, backtests).
//!
//! A delegable service implements [`Delegable`]: how to run a job here, which request starts the
//! same job on the host, and how to bring the host's result into this daemon (bars, a model, a
//! results file). Everything else is the adapter's: starting the operation there, relaying its
//! progress into the local operation, forwarding a cancel, waiting with the service's patience, and
//! turning a dead or refusing host into one typed error that names it. Adding a fourth delegable
//! service is an implementation of [`Delegable`] plus its `USE_X_HOST_SERVICE` settings
//! (`docs/architecture.md`, "Host services").

use crate::config::ServiceMode;
use crate::ops::{OpHandle, Work};
use crate::peer::{Peer, parse_url};
use ktrdr_protocol::model::{HealthStatus, OpState, OperationRecord, Progress};
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::{ErrorKind, Reply, Request, Response, WireError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Another `ktrdrd` that runs one service's jobs for this daemon.
pub struct HostService {
    peer: Peer,
    /// How this host is named in progress and errors ("IB host", "training host").
    label: &'static str,
}

/// What [`Delegable::remote_request`] decided.
pub enum Remote {
    /// Start this request on the host (its `follow` off) and follow the operation.
    Start(Request),
    /// Nothing to do there: this is the result.
    Done(OpResult),
}

/// A service whose operations can run here or on a host service.
pub trait Delegable: Send + Sync + 'static {
    /// Everything one operation needs, validated before the operation exists.
    type Job: Send + 'static;
    /// How long the host may stay silent while its operation runs (between progress updates).
    const PATIENCE: Duration;

    /// Runs the job in this daemon.
    fn run_local(
        self: Arc<Self>,
        job: Self::Job,
        h: OpHandle,
    ) -> impl Future<Output = Result<OpResult, WireError>> + Send;

    /// The request that runs the job on the host (it may ask the host first, e.g. what it has,
    /// and note in `job` what [`Delegable::bring_back`] will need).
    fn remote_request(
        self: Arc<Self>,
        host: Arc<HostService>,
        job: &mut Self::Job,
        h: OpHandle,
    ) -> impl Future<Output = Result<Remote, WireError>> + Send;

    /// Brings the result of the host's operation `remote` into this daemon and says what the
    /// local operation produced.
    fn bring_back(
        self: Arc<Self>,
        host: Arc<HostService>,
        job: Self::Job,
        remote: HostOutcome,
        h: OpHandle,
    ) -> impl Future<Output = Result<OpResult, WireError>> + Send;
}

/// A completed operation on the host.
pub struct HostOutcome {
    pub id: u64,
    pub result: OpResult,
}

/// A delegable service and, in host-service mode, its host.
pub struct Adapter<D: Delegable> {
    service: Arc<D>,
    host: Option<Arc<HostService>>,
}

impl<D: Delegable> Adapter<D> {
    /// `mode` was validated with the configuration, so a URL that does not parse here is a bug;
    /// it is logged and the service stays local rather than half-configured.
    pub fn new(
        service: Arc<D>,
        mode: &ServiceMode,
        label: &'static str,
        timeout: Duration,
    ) -> Self {
        let host = match mode {
            ServiceMode::Local => None,
            ServiceMode::HostService { url } => match HostService::new(label, url, timeout) {
                Ok(h) => Some(Arc::new(h)),
                Err(e) => {
                    tracing::error!(error = %e, label, "host service URL");
                    None
                }
            },
        };
        Adapter { service, host }
    }

    pub fn host(&self) -> Option<&Arc<HostService>> {
        self.host.as_ref()
    }

    /// The operation's work, here or on the host.
    pub fn work(&self, job: D::Job) -> Work {
        let service = Arc::clone(&self.service);
        let host = self.host.clone();
        Box::new(move |h| {
            Box::pin(async move {
                match host {
                    None => service.run_local(job, h).await,
                    Some(host) => delegate(service, host, job, h).await,
                }
            })
        })
    }

    /// A plain request answered by the host in host-service mode, or by `local` here.
    pub async fn answer<F>(
        &self,
        req: impl FnOnce() -> Request,
        local: F,
    ) -> Result<Reply, WireError>
    where
        F: Future<Output = Result<Reply, WireError>>,
    {
        match &self.host {
            Some(host) => host.call(&req()).await,
            None => local.await,
        }
    }
}

async fn delegate<D: Delegable>(
    service: Arc<D>,
    host: Arc<HostService>,
    mut job: D::Job,
    h: OpHandle,
) -> Result<OpResult, WireError> {
    let req = match Arc::clone(&service)
        .remote_request(Arc::clone(&host), &mut job, h.clone())
        .await?
    {
        Remote::Done(r) => return Ok(r),
        Remote::Start(req) => req,
    };
    let remote = host.run_operation(&req, D::PATIENCE, &h).await?;
    h.check()?;
    service.bring_back(host, job, remote, h).await
}

impl HostService {
    pub fn new(label: &'static str, url: &str, timeout: Duration) -> Result<HostService, String> {
        Ok(HostService {
            peer: Peer::new(parse_url(url)?, timeout),
            label,
        })
    }

    pub fn url(&self) -> String {
        self.peer.url()
    }

    /// One request, answered by the host unchanged.
    pub async fn call(&self, req: &Request) -> Result<Reply, WireError> {
        self.peer.call(req).await
    }

    /// One request whose non-terminal frames (bar or equity chunks) go to `on_frame`.
    pub async fn stream(
        &self,
        req: &Request,
        patience: Duration,
        on_frame: impl FnMut(Response),
    ) -> Result<Reply, WireError> {
        self.peer.stream(req, patience, on_frame).await
    }

    /// The host answered `what` with a reply of the wrong type: a version skew or a bug there.
    pub fn unexpected(&self, what: &str) -> WireError {
        WireError::internal(format!(
            "the {} at {} answered {what} unexpectedly",
            self.label,
            self.url()
        ))
    }

    /// Starts an operation there with `req` and follows it to its end, relaying its progress into
    /// `h`; cancelling `h` cancels it there. Anything but completion is an error naming the host.
    pub async fn run_operation(
        &self,
        req: &Request,
        patience: Duration,
        h: &OpHandle,
    ) -> Result<HostOutcome, WireError> {
        // The host checks the request (its models, its bars) before it starts anything; its
        // refusal is told as coming from there.
        let started = self.call(req).await.map_err(|mut e| {
            if e.kind != ErrorKind::Connection {
                e.message = format!("the {} at {}: {}", self.label, self.url(), e.message);
            }
            e
        })?;
        let id = match started {
            Reply::Operation(rec) => rec.id,
            _ => return Err(self.unexpected("the request to start an operation")),
        };
        let rec = self
            .peer
            .follow_operation(id, self.label, patience, h)
            .await?;
        if rec.state != OpState::Completed {
            return Err(self.failure(rec));
        }
        match rec.result {
            Some(result) => Ok(HostOutcome { id, result }),
            None => Err(self.unexpected("a completed operation without a result")),
        }
    }

    /// The error of an operation there that did not complete, naming where it ran.
    fn failure(&self, rec: OperationRecord) -> WireError {
        let mut e = rec.error.unwrap_or_else(|| {
            WireError::internal(format!("the operation ended {}", rec.state.as_str()))
        });
        e.message = format!("{}, operation {}: {}", self.url(), rec.id, e.message);
        e
    }

    /// Reachable, and how the host's own `service` describes its health.
    pub async fn health(&self, service: &str) -> (HealthStatus, String) {
        match self.call(&Request::Health).await {
            Ok(Reply::Health(r)) => match r.services.iter().find(|s| s.name == service) {
                Some(s) => (
                    s.status,
                    format!(
                        "{} {} (pid {}): {}",
                        self.label,
                        self.url(),
                        r.pid,
                        s.detail
                    ),
                ),
                None => (
                    HealthStatus::Degraded,
                    format!("{} {} has no {service} service", self.label, self.url()),
                ),
            },
            Ok(_) => (HealthStatus::Degraded, self.unexpected("health").message),
            Err(e) => (HealthStatus::Degraded, e.message),
        }
    }

    /// A progress line on the local operation while the result is copied here.
    pub fn copying(&self, h: &OpHandle, what: impl std::fmt::Display) {
        h.progress(Progress {
            percent: 100.0,
            message: format!("copying {what} from the {}", self.label),
            ..Progress::default()
        });
    }
}
