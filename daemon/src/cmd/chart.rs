//! `chart` and `backtest show --report`: the drawn file streams in chunks (a page of a long series
//! can exceed one frame), then its summary ends the answer.

use super::{Conn, Streamed};
use crate::context::Daemon;
use crate::service::chart::Drawn;
use ktrdr_protocol::chart::FileChunk;
use ktrdr_protocol::request::{BacktestHtml, Chart};
use ktrdr_protocol::{Reply, Response, WireError};

/// Bytes per frame: far under the frame cap.
const CHUNK: usize = 4 << 20;

pub async fn chart(ctx: &Daemon, req: Chart, conn: &mut Conn) -> Streamed {
    send(ctx.chart.chart(req).await, conn).await
}

pub async fn backtest_html(ctx: &Daemon, req: BacktestHtml, conn: &mut Conn) -> Streamed {
    send(ctx.chart.backtest_html(req).await, conn).await
}

async fn send(drawn: Result<Drawn, WireError>, conn: &mut Conn) -> Streamed {
    let drawn = match drawn {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    for part in drawn.bytes.chunks(CHUNK) {
        conn.write(&Response::File(FileChunk {
            bytes: part.to_vec(),
        }))
        .await?;
    }
    Ok(Ok(Reply::Chart(drawn.summary)))
}
