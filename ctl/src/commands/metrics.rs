//! `stats --format prometheus`: the daemon's metrics as Prometheus text, for node-exporter's
//! textfile collector when no HTTP port is wanted. The daemon renders the text (the same bytes
//! its `/metrics` listener serves), so ktrdrctl needs no metrics library and prints it as is.

use crate::client::Client;
use ktrdr_protocol::{Reply, Request, WireError};

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// `table` (or one JSON document with --json), or `prometheus`: the text exposition format
    /// (what the metrics.listen endpoint serves; passes `promtool check metrics`).
    #[arg(long, value_enum, default_value_t = StatsFormat::Table)]
    pub format: StatsFormat,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatsFormat {
    Table,
    Prometheus,
}

pub async fn stats(c: &mut Client, json: bool, args: StatsArgs) -> Result<(), WireError> {
    match args.format {
        StatsFormat::Table => super::system::stats(c, json).await,
        StatsFormat::Prometheus => {
            let reply = c.call(&Request::Metrics).await?;
            let Reply::Metrics(m) = reply else {
                return Err(WireError::internal(format!(
                    "unexpected reply from the daemon: {reply:?}"
                )));
            };
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(m.text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| WireError::internal(format!("cannot write the metrics: {e}")))
        }
    }
}
