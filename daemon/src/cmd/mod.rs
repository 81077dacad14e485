//! One file per request kind. Each takes the shared [`Daemon`] and returns a reply or a typed error;
//! streaming commands also write non-terminal frames to the connection as they go.

mod backtest;
mod config;
mod data;
mod health;
mod ib;
mod ops;
mod ping;
mod stats;
mod status;
mod stop;
mod strategy;
mod training;

use crate::context::Daemon;
use interprocess::os::unix::uds_local_socket::tokio::Stream;
use ktrdr_protocol::{Connection, ProtocolError, Reply, Request, Response, WireError};
use std::sync::Arc;

pub type Conn = Connection<Stream>;

/// Answers one request: any streamed frames, then exactly one terminal frame.
pub async fn dispatch(
    ctx: &Arc<Daemon>,
    req: Request,
    conn: &mut Conn,
) -> Result<(), ProtocolError> {
    let service = ctx.service(req.service());
    let mut guard = service.map(|s| s.metrics().start());
    let result: Result<Reply, WireError> = match req {
        Request::Ping { payload } => Ok(ping::run(payload)),
        Request::Health => Ok(health::run(ctx).await),
        Request::Status => Ok(status::run(ctx)),
        Request::Config => Ok(config::run(ctx)),
        Request::Stats => Ok(stats::run(ctx)),
        Request::Shutdown => Ok(stop::run(ctx)),
        Request::OpsList { state, kind, limit } => ops::list(ctx, state, kind, limit).await,
        Request::OpsShow { id } => ops::show(ctx, id).await,
        Request::OpsCancel { id } => ops::cancel(ctx, id).await,
        Request::OpsWatch { id } => ops::watch(ctx, id, conn).await?,
        Request::OpsDemo {
            seconds,
            steps,
            fail_at,
            follow,
        } => ops::demo(ctx, seconds, steps, fail_at, follow, conn).await?,
        Request::DataList => data::list(ctx).await,
        Request::DataShow {
            symbol,
            timeframe,
            start,
            end,
            rows,
        } => {
            data::show(
                ctx,
                &symbol,
                &timeframe,
                start.as_deref(),
                end.as_deref(),
                rows,
                conn,
            )
            .await?
        }
        Request::DataRange { symbol, timeframe } => data::range(ctx, &symbol, &timeframe).await,
        Request::DataValidate {
            symbol,
            timeframe,
            repair,
        } => data::validate(ctx, &symbol, &timeframe, repair).await,
        Request::DataImport {
            path,
            symbol,
            timeframe,
            timezone,
        } => data::import(ctx, &path, &symbol, &timeframe, timezone.as_deref()).await,
        Request::DataExport {
            symbol,
            timeframe,
            start,
            end,
            format,
            output,
        } => {
            data::export(
                ctx,
                &symbol,
                &timeframe,
                start.as_deref(),
                end.as_deref(),
                format,
                &output,
            )
            .await
        }
        Request::DataResample {
            symbol,
            from,
            to,
            start,
            end,
            rows,
            save,
        } => {
            data::resample(
                ctx,
                &symbol,
                &from,
                &to,
                start.as_deref(),
                end.as_deref(),
                rows,
                save,
                conn,
            )
            .await?
        }
        Request::DataLoad {
            symbol,
            timeframe,
            mode,
            start,
            end,
            follow,
        } => {
            ib::data_load(
                ctx,
                &symbol,
                &timeframe,
                mode,
                start.as_deref(),
                end.as_deref(),
                follow,
                conn,
            )
            .await?
        }
        Request::Train {
            strategy_yaml,
            strategy_path,
            symbols,
            timeframes,
            start,
            end,
            device,
            follow,
        } => {
            let args = training::TrainArgs {
                strategy_yaml,
                strategy_path,
                symbols,
                timeframes,
                start,
                end,
                device,
                follow,
            };
            training::train(ctx, args, conn).await?
        }
        Request::ModelsList => training::list(ctx).await,
        Request::ModelsShow { name } => training::show(ctx, name).await,
        Request::ModelsDelete { name } => training::delete(ctx, name).await,
        Request::ModelExport { name } => training::export(ctx, name).await,
        Request::Predict {
            model,
            symbol,
            timeframe,
            at,
        } => training::predict(ctx, model, &symbol, &timeframe, at.as_deref()).await,
        Request::Backtest {
            model,
            symbol,
            timeframe,
            start,
            end,
            capital,
            commission,
            slippage,
            position_fraction,
            allow_short,
            follow,
        } => {
            let args = backtest::BacktestArgs {
                model,
                symbol,
                timeframe,
                start,
                end,
                overrides: crate::backtest::job::Overrides {
                    capital,
                    commission,
                    slippage,
                    position_fraction,
                    allow_short,
                },
                follow,
            };
            backtest::backtest(ctx, args, conn).await?
        }
        Request::BacktestShow {
            id,
            trades,
            equity,
            plot,
        } => backtest::show(ctx, id, trades, equity, plot, conn).await?,
        Request::IbStatus => Ok(ib::status(ctx).await),
        Request::IbTest => ib::test(ctx).await,
        Request::IbContract { symbol } => ib::contract(ctx, &symbol).await,
        Request::IbHead { symbol, timeframe } => ib::head(ctx, &symbol, &timeframe).await,
        Request::StrategiesList { dir } => strategy::list(ctx, dir).await,
        Request::StrategyShow { path } => strategy::show(ctx, path).await,
        Request::IndicatorsList => Ok(strategy::catalog()),
        Request::IndicatorsCompute {
            symbol,
            timeframe,
            indicators,
            start,
            end,
            rows,
        } => {
            let (s, e) = (start.as_deref(), end.as_deref());
            strategy::compute_indicators(ctx, &symbol, &timeframe, indicators, s, e, rows).await
        }
        Request::FuzzyCompute {
            symbol,
            timeframe,
            strategy: file,
            start,
            end,
            rows,
        } => {
            let (s, e) = (start.as_deref(), end.as_deref());
            strategy::compute_fuzzy(ctx, &symbol, &timeframe, file, s, e, rows).await
        }
    };
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
