//! `ktrdrctl`: a thin client. It resolves the socket, connects, sends one request and prints the
//! answer. It must stay cheap to start: no heavy dependencies, a current-thread runtime, no torch.
//!
//! - [`cli`]: the command line (clap derive).
//! - [`client`]: connect, handshake, request, answer frames; connection errors made readable.
//! - [`commands`]: one file per command group.
//! - [`output`]: tables, JSON, times.

mod cli;
mod client;
mod commands;
mod describe;
mod output;

use clap::Parser;
use cli::{Cli, Command};
use commands::daemon::DaemonCommand;
use commands::ops::OpsCommand;
use ktrdr_protocol::{ErrorKind, WireError};
use std::process::ExitCode;
use std::time::Duration;

/// Why a command did not succeed.
pub enum Failure {
    Error(WireError),
    /// Ctrl-C while following an operation: it keeps running.
    Detached(u64),
    /// A check ran and found problems (its report is already printed): why, for stderr.
    CheckFailed(String),
}

impl From<WireError> for Failure {
    fn from(e: WireError) -> Self {
        Failure::Error(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    // Local commands never connect, so they work with no daemon running (and need no runtime).
    if let Some(result) = run_local(&cli) {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report(Failure::Error(e), json),
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report(
                Failure::Error(WireError::internal(format!("cannot start: {e}"))),
                json,
            );
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => report(f, json),
    }
}

/// Commands that only touch this machine: service files, completions, the man page.
fn run_local(cli: &Cli) -> Option<Result<(), WireError>> {
    use clap::CommandFactory;
    use commands::install;
    // Built only for these commands: the whole tree is what start-up avoids (see cli::Command).
    let whole = || Cli::command();
    match &cli.command {
        Command::Completions { shell } => Some(install::completions(&whole(), *shell)),
        Command::Man => Some(install::man(&whole())),
        Command::Daemon(DaemonCommand::Install(args)) => {
            Some(install::install(args, cli.json, &whole()))
        }
        Command::Daemon(DaemonCommand::Uninstall(args)) => Some(install::uninstall(args, cli.json)),
        _ => None,
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    if !(cli.timeout.is_finite() && cli.timeout > 0.0 && cli.timeout <= 86_400.0) {
        return Err(WireError::validation(format!(
            "--timeout must be between 0 and 86400 seconds, got {}",
            cli.timeout
        ))
        .into());
    }
    let timeout = Duration::from_secs_f64(cli.timeout);
    let (socket, _) = ktrdr_protocol::socket_path::resolve(cli.socket.clone());
    let mut c = client::Client::connect(&socket, timeout).await?;
    let json = cli.json;
    use commands::{daemon, ops, system};
    match cli.command {
        Command::Health => system::health(&mut c, json).await?,
        Command::Status => system::status(&mut c, json).await?,
        Command::Config => system::config(&mut c, json).await?,
        Command::Stats(args) => commands::metrics::stats(&mut c, json, args).await?,
        Command::Top(args) => commands::top::run(c, args).await?,
        Command::Ping => system::ping(&mut c, json).await?,
        Command::Daemon(DaemonCommand::Stop) => daemon::stop(&mut c, json).await?,
        // Handled by `run_local` before any connection is made.
        Command::Completions { .. }
        | Command::Man
        | Command::Daemon(DaemonCommand::Install(_) | DaemonCommand::Uninstall(_)) => {}
        Command::Data(cmd) => commands::data::run(&mut c, json, cmd).await?,
        Command::Strategies(cmd) => commands::strategy::strategies(&mut c, json, cmd).await?,
        Command::Indicators(cmd) => commands::strategy::indicators(&mut c, json, cmd).await?,
        Command::Fuzzy(cmd) => commands::strategy::fuzzy(&mut c, json, cmd).await?,
        Command::Ib(cmd) => commands::ib::run(&mut c, json, cmd).await?,
        Command::Train(args) => commands::training::train(&mut c, json, args).await?,
        Command::Models(cmd) => commands::training::models(&mut c, json, cmd).await?,
        Command::Predict(args) => commands::training::predict(&mut c, json, args).await?,
        Command::Backtest(cmd) => commands::backtest::run(&mut c, json, cmd).await?,
        Command::Chart(args) => commands::chart::chart(&mut c, json, args).await?,
        Command::Sweep(cmd) => commands::sweep::run(&mut c, json, cmd).await?,
        Command::Ops(cmd) => match cmd {
            OpsCommand::List { state, kind, limit } => {
                ops::list(&mut c, json, state.map(|s| s.to_state()), kind, limit).await?
            }
            OpsCommand::Show { id } => ops::show(&mut c, json, id).await?,
            OpsCommand::Watch { id } => ops::watch(&mut c, json, id).await?,
            OpsCommand::Cancel { id } => ops::cancel(&mut c, json, id).await?,
            OpsCommand::Resume { id, follow } => {
                ops::resume(&mut c, json, id, follow.detach).await?
            }
            OpsCommand::Demo {
                seconds,
                steps,
                fail_at,
                follow,
            } => ops::demo(&mut c, json, seconds, steps, fail_at, follow.detach).await?,
        },
    }
    Ok(())
}

/// One line on stderr, a hint, and the documented exit code. With `--json` the error is also one JSON
/// document on stdout, so scripts that parse stdout always get JSON.
fn report(f: Failure, json: bool) -> ExitCode {
    match f {
        Failure::Detached(id) => {
            if id == 0 {
                eprintln!("ktrdrctl: interrupted");
            } else {
                eprintln!("ktrdrctl: detached from operation {id}; it keeps running in the daemon");
                eprintln!(
                    "  hint: `ktrdrctl ops watch {id}` to follow it again, `ktrdrctl ops cancel {id}` to stop it"
                );
            }
            if json {
                output::print_json_line(
                    &serde_json::json!({"event": "detached", "operation_id": id}),
                );
            }
            ExitCode::from(130)
        }
        Failure::CheckFailed(why) => {
            // Not an error document: with --json, stdout already holds the report.
            eprintln!("ktrdrctl: {why}");
            ExitCode::from(ktrdr_protocol::error::EXIT_CHECK_FAILED as u8)
        }
        Failure::Error(e) => {
            eprintln!("ktrdrctl: {}: {}", kind_label(e.kind), e.message);
            if let Some(h) = &e.hint {
                eprintln!("  hint: {h}");
            }
            if json {
                output::print_json_line(&serde_json::json!({"error": e}));
            }
            ExitCode::from(e.kind.exit_code() as u8)
        }
    }
}

fn kind_label(k: ErrorKind) -> &'static str {
    match k {
        ErrorKind::Connection => "connection error",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Configuration => "configuration error",
        ErrorKind::Validation => "invalid input",
        ErrorKind::NotFound => "not found",
        ErrorKind::Conflict => "conflict",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Unavailable => "unavailable",
        ErrorKind::Internal => "internal error",
        ErrorKind::Incompatible => "incompatible versions",
        ErrorKind::FellBehind => "fell behind",
    }
}
