//! `backtest` (start a backtest operation) and `backtest show` (its saved results; the equity
//! curve streams in frames).

use super::{Conn, Streamed, ops};
use crate::context::Daemon;
use ktrdr_protocol::backtest::{BacktestReport, EquityChunk};
use ktrdr_protocol::request::{Backtest, BacktestShow};
use ktrdr_protocol::{Reply, Response};

/// Rows per equity frame: ~2.6 MB, far under the frame cap however long the backtest.
const EQUITY_CHUNK: usize = 65_536;

pub async fn backtest(ctx: &Daemon, req: Backtest, conn: &mut Conn) -> Streamed {
    let follow = req.follow;
    ops::started(ctx, ctx.backtest.start(req).await, follow, conn).await
}

pub async fn show(ctx: &Daemon, req: BacktestShow, conn: &mut Conn) -> Streamed {
    let shown = match ctx.backtest.show(&req).await {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    let detail = shown.detail;
    if req.equity {
        let n = detail.ts.len();
        let mut at = 0;
        while at < n {
            let end = (at + EQUITY_CHUNK).min(n);
            conn.write(&Response::Equity(EquityChunk {
                ts: detail.ts[at..end].to_vec(),
                close: detail.close[at..end].to_vec(),
                equity: detail.equity[at..end].to_vec(),
                buy_hold: detail.buy_hold[at..end].to_vec(),
            }))
            .await?;
            at = end;
        }
    }
    Ok(Ok(Reply::Backtest(Box::new(BacktestReport {
        summary: detail.summary,
        trades: req.trades.then_some(detail.trades),
        plot: shown.chart,
    }))))
}
