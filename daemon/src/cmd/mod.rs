//! One file per request kind. Each takes the shared [`Daemon`] and returns a reply or a typed error;
//! streaming commands also write non-terminal frames to the connection as they go.

mod backtest;
mod chart;
mod config;
mod data;
mod health;
mod ib;
mod live;
mod ops;
mod ping;
mod stats;
mod status;
mod stop;
mod strategy;
mod sweep;
mod training;

use crate::context::Daemon;
use interprocess::os::unix::uds_local_socket::tokio::Stream;
use ktrdr_protocol::{Connection, ProtocolError, Reply, Request, Response, WireError};
use std::sync::Arc;

pub type Conn = Connection<Stream>;

/// What a handler that writes frames of its own returns: a broken connection (outer), or the
/// terminal answer (inner).
pub type Streamed = Result<Result<Reply, WireError>, ProtocolError>;

/// Answers one request: any streamed frames, then exactly one terminal frame. Its log events
/// carry the service and request kind (the `request` span).
pub async fn dispatch(
    ctx: &Arc<Daemon>,
    req: Request,
    conn: &mut Conn,
) -> Result<(), ProtocolError> {
    use tracing::Instrument as _;
    let span = tracing::info_span!("request", service = req.service(), request = req.kind());
    answer(ctx, req, conn).instrument(span).await
}

async fn answer(ctx: &Arc<Daemon>, req: Request, conn: &mut Conn) -> Result<(), ProtocolError> {
    let service = ctx.service(req.service());
    let mut guard = service.map(|s| s.metrics().start());
    let timing = ctx.requests.start(req.service(), req.kind());
    let result: Result<Reply, WireError> = match req {
        Request::Ping(r) => Ok(ping::run(r)),
        Request::Health => Ok(health::run(ctx).await),
        Request::Status => Ok(status::run(ctx)),
        Request::Config => Ok(config::run(ctx)),
        Request::Stats => Ok(stats::run(ctx)),
        Request::Shutdown => Ok(stop::run(ctx)),
        Request::OpsList(r) => ops::list(ctx, r).await,
        Request::OpsShow(r) => ops::show(ctx, r).await,
        Request::OpsCancel(r) => ops::cancel(ctx, r).await,
        Request::OpsWatch(r) => ops::watch(ctx, r, conn).await?,
        Request::OpsDemo(r) => ops::demo(ctx, r, conn).await?,
        Request::DataList => data::list(ctx).await,
        Request::DataShow(r) => data::show(ctx, r, conn).await?,
        Request::DataRange(r) => data::range(ctx, r).await,
        Request::DataValidate(r) => data::validate(ctx, r).await,
        Request::DataImport(r) => data::import(ctx, r, conn).await?,
        Request::DataExport(r) => data::export(ctx, r).await,
        Request::DataResample(r) => data::resample(ctx, r, conn).await?,
        Request::DataLoad(r) => ib::data_load(ctx, r, conn).await?,
        Request::IbStatus => Ok(ib::status(ctx).await),
        Request::IbTest => ib::test(ctx).await,
        Request::IbContract(r) => ib::contract(ctx, r).await,
        Request::IbHead(r) => ib::head(ctx, r).await,
        Request::StrategiesList(r) => strategy::list(ctx, r).await,
        Request::StrategyShow(r) => strategy::show(ctx, r).await,
        Request::IndicatorsList => Ok(strategy::catalog()),
        Request::IndicatorsCompute(r) => strategy::compute_indicators(ctx, r).await,
        Request::FuzzyCompute(r) => strategy::compute_fuzzy(ctx, r).await,
        Request::Train(r) => training::train(ctx, r, conn).await?,
        Request::ModelsList => training::list(ctx).await,
        Request::ModelsShow(r) => training::show(ctx, r).await,
        Request::ModelsDelete(r) => training::delete(ctx, r).await,
        Request::ModelExport(r) => training::export(ctx, r).await,
        Request::Predict(r) => training::predict(ctx, r).await,
        Request::Backtest(r) => backtest::backtest(ctx, r, conn).await?,
        Request::BacktestShow(r) => backtest::show(ctx, r, conn).await?,
        Request::Metrics => Ok(stats::metrics(ctx)),
        Request::DataSubscribe(r) => live::subscribe(ctx, r).await,
        Request::DataUnsubscribe(r) => live::unsubscribe(ctx, r).await,
        Request::DataSubscriptions => Ok(live::subscriptions(ctx)),
        Request::DataFollow(r) => live::follow(ctx, r, conn).await?,
        Request::PredictFollow(r) => live::predict_follow(ctx, r, conn).await?,
        Request::Chart(r) => chart::chart(ctx, r, conn).await?,
        Request::BacktestHtml(r) => chart::backtest_html(ctx, r, conn).await?,
        Request::OpsResume(r) => ops::resume(ctx, r, conn).await?,
        Request::SweepRun(r) => sweep::run(ctx, r, conn).await?,
        Request::SweepShow(r) => sweep::show(ctx, r).await,
        Request::SweepCancel(r) => sweep::cancel(ctx, r).await,
        Request::SweepList => sweep::list(ctx).await,
    };
    let error = result.as_ref().err().map(|e| e.kind);
    timing.finish(error);
    tracing::debug!(error = error.map(|k| k.as_str()), "answered");
    let frame = match result {
        Ok(reply) => Response::Reply(reply),
        Err(e) => {
            if let Some(g) = guard.as_mut() {
                g.failed();
            }
            Response::Error(e)
        }
    };
    conn.write(&frame).await
}
