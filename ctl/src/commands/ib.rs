//! `ib status|test|contract|head` and `data load`. The IB connection lives in the daemon; these only
//! ask it, so `ktrdrctl` never links the IB client.

use crate::Failure;
use crate::client::Client;
use crate::commands::data::WindowArgs;
use crate::commands::ops;
use crate::output::{self, print_json, print_table, table, timestamp_ms};
use clap::{Subcommand, ValueEnum};
use ktrdr_protocol::model::LoadMode;
use ktrdr_protocol::request::{DataLoad, IbContract, IbHead};
use ktrdr_protocol::{Reply, Request, WireError};

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum IbCommand {
    /// The daemon's IB connection: state, server version, pacing budget left, last error.
    Status,
    /// One cheap round trip to IB (the gateway's clock), connecting first if needed.
    Test,
    /// The contract IB resolves a symbol to (stocks: AAPL; forex pairs: EURUSD).
    Contract { symbol: String },
    /// The earliest bar IB has for a symbol.
    Head { symbol: String, timeframe: String },
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ModeArg {
    /// From the last stored bar to --end (or now).
    Tail,
    /// From --start (or IB's earliest bar) to the first stored bar.
    Backfill,
    /// Backfill and tail.
    Full,
    /// Only what is stored; IB is never contacted.
    Local,
}

impl ModeArg {
    pub fn wire(self) -> LoadMode {
        match self {
            ModeArg::Tail => LoadMode::Tail,
            ModeArg::Backfill => LoadMode::Backfill,
            ModeArg::Full => LoadMode::Full,
            ModeArg::Local => LoadMode::Local,
        }
    }
}

fn unexpected(r: Reply) -> Failure {
    WireError::internal(format!("unexpected reply: {r:?}")).into()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

pub async fn run(c: &mut Client, json: bool, cmd: IbCommand) -> Result<(), Failure> {
    match cmd {
        IbCommand::Status => {
            let reply = c.call(&Request::IbStatus).await?;
            let Reply::IbStatus(s) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&s)?);
            }
            let mut t = table(&["field", "value"]);
            let mut row = |k: &str, v: String| {
                t.add_row(vec![k.to_string(), v]);
            };
            row("mode", s.mode.clone());
            row(
                "endpoint",
                format!("{} (client id {})", s.endpoint, s.client_id),
            );
            row(
                "connection",
                if s.connected {
                    format!(
                        "connected since {}",
                        s.connected_since_ms
                            .map(output::timestamp)
                            .unwrap_or_default()
                    )
                } else {
                    "disconnected".into()
                },
            );
            row("server version", opt(s.server_version));
            row(
                "last error",
                match (&s.last_error, s.last_error_ms) {
                    (Some(e), Some(at)) => format!("{e} ({})", output::timestamp(at)),
                    (Some(e), None) => e.clone(),
                    _ => "-".into(),
                },
            );
            row(
                "attempts / reconnects",
                format!("{} / {}", s.connect_attempts, s.reconnects),
            );
            row(
                "pacing budget",
                format!(
                    "{} of {} requests left in {:.0} s",
                    s.pacing_budget_left, s.pacing_max, s.pacing_window_secs
                ),
            );
            row(
                "requests",
                format!(
                    "{} ({} errors, {} pacing waits, {} violations, {} bars)",
                    s.requests, s.errors, s.pacing_waits, s.pacing_violations, s.bars_received
                ),
            );
            print_table(&t);
            Ok(())
        }
        IbCommand::Test => {
            let reply = c.call(&Request::IbTest).await?;
            let Reply::IbTest(r) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&r)?);
            }
            println!(
                "IB at {} answered in {:.1} ms (server version {}, server time {})",
                r.endpoint,
                r.round_trip_ms,
                opt(r.server_version),
                timestamp_ms(r.server_time_ms)
            );
            Ok(())
        }
        IbCommand::Contract { symbol } => {
            let reply = c.call(&Request::IbContract(IbContract { symbol })).await?;
            let Reply::IbContract(r) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&r)?);
            }
            let mut t = table(&["field", "value"]);
            for (k, v) in [
                ("symbol", r.symbol.clone()),
                ("kind", r.kind.clone()),
                ("con id", r.con_id.to_string()),
                ("IB symbol", r.ib_symbol.clone()),
                ("sec type", r.sec_type.clone()),
                ("exchange", r.exchange.clone()),
                ("primary exchange", r.primary_exchange.clone()),
                ("currency", r.currency.clone()),
                ("local symbol", r.local_symbol.clone()),
                ("name", r.long_name.clone()),
                ("what to show", r.what_to_show.clone()),
            ] {
                t.add_row(vec![k.to_string(), v]);
            }
            print_table(&t);
            Ok(())
        }
        IbCommand::Head { symbol, timeframe } => {
            let reply = c
                .call(&Request::IbHead(IbHead { symbol, timeframe }))
                .await?;
            let Reply::IbHead(r) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&r)?);
            }
            println!(
                "{} {}: IB's earliest {} bar is at {}",
                r.symbol,
                r.timeframe,
                r.what_to_show,
                timestamp_ms(r.head_ms)
            );
            Ok(())
        }
    }
}

/// `data load`: starts an `ib_load` operation and follows it (or prints its id with --detach).
pub async fn load(
    c: &mut Client,
    json: bool,
    symbol: String,
    timeframe: String,
    mode: ModeArg,
    window: WindowArgs,
    detach: bool,
) -> Result<(), Failure> {
    let req = Request::DataLoad(DataLoad {
        symbol,
        timeframe,
        mode: mode.wire(),
        start: window.start,
        end: window.end,
        follow: !detach,
    });
    if detach {
        return ops::detached(c, &req, json).await;
    }
    ops::follow(c, &req, json).await
}
