//! `ib status|test|contract|head` and `data load`.

use super::Conn;
use crate::context::Daemon;
use crate::data::input;
use crate::ib::load::{self, LoadParams};
use ktrdr_protocol::model::{IbContractInfo, IbHeadInfo, IbTestReport, LoadMode};
use ktrdr_protocol::{ProtocolError, Reply, Request, WireError};
use std::sync::Arc;
use std::time::Instant;

pub async fn status(ctx: &Daemon) -> Reply {
    match &ctx.ib.host {
        Some(host) => Reply::IbStatus(host.status().await),
        None => Reply::IbStatus(ctx.ib.report()),
    }
}

pub async fn test(ctx: &Daemon) -> Result<Reply, WireError> {
    if let Some(host) = &ctx.ib.host {
        return host.forward(&Request::IbTest).await;
    }
    let gw = &ctx.ib.gateway;
    let t0 = Instant::now();
    let server_time_ms = gw.server_time().await.map_err(|f| f.into_wire())?;
    Ok(Reply::IbTest(IbTestReport {
        endpoint: gw.config().address(),
        server_version: gw.status().server_version,
        server_time_ms,
        round_trip_ms: t0.elapsed().as_secs_f64() * 1000.0,
    }))
}

pub async fn contract(ctx: &Daemon, symbol: &str) -> Result<Reply, WireError> {
    let symbol = input::symbol(symbol)?;
    if let Some(host) = &ctx.ib.host {
        return host.forward(&Request::IbContract { symbol }).await;
    }
    let r = ctx
        .ib
        .gateway
        .resolve(&symbol)
        .await
        .map_err(|f| f.into_wire())?;
    let c = &r.contract;
    Ok(Reply::IbContract(IbContractInfo {
        symbol: symbol.clone(),
        kind: r.spec.kind().into(),
        con_id: c.contract_id,
        ib_symbol: c.symbol.to_string(),
        sec_type: c.security_type.to_string(),
        exchange: c.exchange.to_string(),
        primary_exchange: c.primary_exchange.to_string(),
        currency: c.currency.to_string(),
        local_symbol: c.local_symbol.clone(),
        long_name: r.long_name.clone(),
        what_to_show: r.what_to_show().to_string(),
    }))
}

pub async fn head(ctx: &Daemon, symbol: &str, tf: &str) -> Result<Reply, WireError> {
    let key = input::key(symbol, tf)?;
    if let Some(host) = &ctx.ib.host {
        return host
            .forward(&Request::IbHead {
                symbol: key.symbol,
                timeframe: key.timeframe.to_string(),
            })
            .await;
    }
    let gw = &ctx.ib.gateway;
    let r = gw.resolve(&key.symbol).await.map_err(|f| f.into_wire())?;
    let head_ms = gw.head(&r).await.map_err(|f| f.into_wire())?;
    Ok(Reply::IbHead(IbHeadInfo {
        symbol: key.symbol,
        timeframe: key.timeframe.to_string(),
        what_to_show: r.what_to_show().to_string(),
        head_ms,
    }))
}

#[allow(clippy::too_many_arguments)]
pub async fn data_load(
    ctx: &Arc<Daemon>,
    symbol: &str,
    tf: &str,
    mode: LoadMode,
    start: Option<&str>,
    end: Option<&str>,
    follow: bool,
    conn: &mut Conn,
) -> Result<Result<Reply, WireError>, ProtocolError> {
    let prepared = (|| {
        let key = input::key(symbol, tf)?;
        let w = input::window(start, end)?;
        Ok::<_, WireError>(LoadParams {
            key,
            mode,
            start: w.start,
            end: w.end,
        })
    })();
    let params = match prepared {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let json = params.to_json();
    let (gw, data) = (Arc::clone(&ctx.ib.gateway), Arc::clone(&ctx.data.manager));
    let work: crate::ops::Work = match (&ctx.ib.host, mode) {
        (Some(host), m) if m != LoadMode::Local => {
            let host = Arc::clone(host);
            Box::new(move |h| Box::pin(async move { host.load(params, data, h).await }))
        }
        _ => Box::new(move |h| Box::pin(load::run(params, gw, data, h))),
    };
    let rec = match ctx
        .operations
        .registry
        .start("ib_load", "ib", json, work)
        .await
    {
        Ok(rec) => rec,
        Err(e) => return Ok(Err(e)),
    };
    if follow {
        super::ops::watch(ctx, rec.id, conn).await
    } else {
        Ok(Ok(Reply::Operation(rec)))
    }
}
