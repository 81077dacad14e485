//! `ktrdrd`: parses flags, loads configuration, sets up logging and the runtime, serves until
//! SIGTERM, SIGINT or `ktrdrctl daemon stop`.

use clap::Parser;
use ktrdr_daemon::app;
use ktrdr_daemon::config::{Config, Flags};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ktrdrd",
    version,
    about = "The ktrdr daemon: holds data, connections and models; answers ktrdrctl"
)]
struct Args {
    /// Configuration file (default: $XDG_CONFIG_HOME/ktrdr/ktrdrd.toml if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Socket path (default: $KTRDR_SOCKET, else $XDG_RUNTIME_DIR/ktrdr/ktrdrd.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Data directory (bars, models).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// State directory (operations database).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Log filter, e.g. `info` or `ktrdr_daemon=debug` (default: $KTRDR_LOG, else info).
    #[arg(long, value_name = "FILTER")]
    log: Option<String>,
    /// Log format: human (default) or json (one JSON object per event; $KTRDR_LOG_FORMAT).
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Print the resolved configuration and exit.
    #[arg(long)]
    print_config: bool,
    /// Print the configuration reference (docs/configuration.md, as Markdown) and exit.
    #[arg(long)]
    print_config_docs: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// One-shot work without a socket or a daemon (what a sweep's Slurm tasks run).
    #[command(subcommand)]
    Job(JobCommand),
}

#[derive(clap::Subcommand, Debug)]
enum JobCommand {
    /// Run one sweep cell from its spec.json (written by the daemon that submitted the sweep):
    /// train with checkpoints, backtest, write the result; exit.
    Run {
        /// The cell's spec.json, on the shared filesystem.
        spec: PathBuf,
        /// Log filter (default: info).
        #[arg(long, value_name = "FILTER", default_value = "info")]
        log: String,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Job(JobCommand::Run { spec, log })) = &args.command {
        ktrdr_daemon::telemetry::logging::init(
            log,
            ktrdr_daemon::telemetry::logging::LogFormat::Human,
            false,
        );
        return match ktrdr_daemon::sweep::worker::run(spec) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e.kind, &e.message, e.hint.as_deref()),
        };
    }
    if args.print_config_docs {
        print!("{}", ktrdr_daemon::config::docs::markdown());
        return ExitCode::SUCCESS;
    }
    let flags = Flags {
        config: args.config,
        socket: args.socket,
        data_dir: args.data_dir,
        state_dir: args.state_dir,
        log: args.log,
        log_format: args.log_format,
    };
    let config = match Config::load(flags) {
        Ok(c) => c,
        Err(e) => {
            return fail(
                ktrdr_protocol::ErrorKind::Configuration,
                &e.to_string(),
                None,
            );
        }
    };
    if args.print_config {
        for s in &config.settings {
            println!("{} = {}  ({})", s.key, s.value, s.source);
        }
        return ExitCode::SUCCESS;
    }
    // journald stamps and colours lines itself, and reads priorities from a `<N>` prefix.
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    ktrdr_daemon::telemetry::logging::init(&config.log, config.log_format, journald);

    // Before the runtime's threads exist: taking it edits the environment.
    let inherited = match ktrdr_daemon::listener::take_inherited() {
        Ok(fd) => fd,
        Err(e) => {
            return fail(
                ktrdr_protocol::ErrorKind::Configuration,
                &e.to_string(),
                Some("check the service manager's socket unit"),
            );
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(
                ktrdr_protocol::ErrorKind::Internal,
                &format!("cannot start runtime: {e}"),
                None,
            );
        }
    };
    runtime.block_on(async move {
        let prepared = match app::prepare(config, inherited) {
            Ok(p) => p,
            Err(e) => return fail(e.kind, &e.message, e.hint.as_deref()),
        };
        let trigger = prepared.daemon.shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            trigger.fire();
        });
        app::serve(prepared).await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(
            "cannot install signal handlers; stop the daemon with `ktrdrctl daemon stop`"
        );
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}

fn fail(kind: ktrdr_protocol::ErrorKind, message: &str, hint: Option<&str>) -> ExitCode {
    eprintln!("ktrdrd: error: {message}");
    if let Some(h) = hint {
        eprintln!("  hint: {h}");
    }
    ExitCode::from(kind.exit_code() as u8)
}
