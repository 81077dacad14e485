//! The command line, as clap derive types. Also used to generate completions and the man page.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ktrdrctl",
    version,
    about = "Talks to the ktrdrd daemon over its local socket",
    after_help = "Exit codes: 0 ok, 2 bad input, 3 daemon not running / connection, 4 timeout, \
5 not found, 6 conflict, 7 cancelled, 8 unavailable, 9 configuration, 10 internal, \
11 incompatible versions, 12 check found problems (data validate), 130 detached by Ctrl-C. \
See docs/cli.md."
)]
pub struct Cli {
    /// Socket path (default: $KTRDR_SOCKET, else $XDG_RUNTIME_DIR/ktrdr/ktrdrd.sock).
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print one JSON document on stdout (JSON lines for streams) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for the daemon to connect and answer.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
    #[command(subcommand)]
    pub command: Command,
}

/// Every command group below (`DaemonCommand`, `OpsCommand`, `DataCommand`, ...) is marked
/// `#[command(defer = true)]`: its subcommands' arguments are added only when that subcommand is
/// parsed, or when help, completions or the man page build the whole tree. Building clap's full tree
/// on every start was most of `ktrdrctl`'s own start-up work (~250 KiB of heap faulted in); see
/// docs/benchmarks.md, "Client start-up". Not on this enum itself: then `help backtest <TAB>` would
/// lose `show`, as clap builds its `help` subtree before expanding deferred parts.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Daemon version, uptime, pid and every service's health.
    Health,
    /// Each service's configuration: mode, endpoint, environment read.
    Status,
    /// Every daemon setting, its value and its source (default, file, env, flag).
    Config,
    /// Request counts, errors, latency percentiles and counters per service.
    Stats,
    /// One round trip to the daemon.
    Ping,
    /// Control the daemon process, or install it as a service.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Long-running operations: list, show, watch, cancel.
    #[command(subcommand)]
    Ops(OpsCommand),
    /// Market data: list, show, range, validate, import, export, resample.
    #[command(subcommand)]
    Data(crate::commands::data::DataCommand),
    /// Interactive Brokers: connection status, a test round trip, contracts, earliest bars.
    #[command(subcommand)]
    Ib(crate::commands::ib::IbCommand),
    /// Strategy files: list a directory, validate one, show what it resolves to.
    #[command(subcommand)]
    Strategies(crate::commands::strategy::StrategiesCommand),
    /// Technical indicators: the catalogue, and computing them over a stored series.
    #[command(subcommand)]
    Indicators(crate::commands::strategy::IndicatorsCommand),
    /// Fuzzy membership columns of a strategy over a stored series.
    #[command(subcommand)]
    Fuzzy(crate::commands::strategy::FuzzyCommand),
    /// Train a strategy's model in the daemon (a `training` operation), following its progress.
    Train(crate::commands::training::TrainArgs),
    /// Stored models: list, show, delete.
    #[command(subcommand)]
    Models(crate::commands::training::ModelsCommand),
    /// A model's signal, confidence and class probabilities at a bar.
    Predict(crate::commands::training::PredictArgs),
    /// Replay a model over stored bars with costs (a `backtest` operation), or `backtest show ID`.
    Backtest(crate::commands::backtest::BacktestCommand),
    /// Print shell completions on stdout (no daemon needed).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout (no daemon needed).
    Man,
}

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum DaemonCommand {
    /// Stop the daemon gracefully (as SIGTERM does).
    Stop,
    /// Write service files (systemd or launchd), completions and man page (no daemon needed).
    Install(InstallArgs),
    /// Remove what `daemon install` wrote, keeping data and logs (no daemon needed).
    Uninstall(UninstallArgs),
}

// Where `daemon install` and `daemon uninstall` work. A plain comment: a doc comment here would
// become the about text of both commands once their arguments are deferred (see cli::Command).
#[derive(Args, Debug, Clone)]
pub struct TargetArgs {
    /// systemd units (the default on Linux).
    #[arg(long, conflicts_with = "launchd")]
    pub systemd: bool,
    /// A launchd agent (the default on macOS).
    #[arg(long)]
    pub launchd: bool,
    /// System-wide systemd units running as a dedicated `ktrdr` user, under /etc (needs root).
    #[arg(long, conflicts_with = "launchd")]
    pub system: bool,
    /// Work under DIR instead of $HOME (or / with --system), ignoring XDG_* variables. For packaging
    /// and tests.
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
    /// Print what would change and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug, Clone)]
pub struct InstallArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Directory holding ktrdrd (default: the directory of this ktrdrctl).
    #[arg(long, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// Also run the printed systemctl/launchctl commands to load and start the service.
    #[arg(long, conflicts_with_all = ["prefix", "dry_run"])]
    pub enable: bool,
}

#[derive(Args, Debug, Clone)]
pub struct UninstallArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// First stop and disable the service with systemctl/launchctl.
    #[arg(long, conflicts_with_all = ["prefix", "dry_run"])]
    pub disable: bool,
}

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum OpsCommand {
    /// List operations, newest first.
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// demo, ib_load, data_import, training or backtest.
        #[arg(long, value_parser = parse_op_kind)]
        kind: Option<ktrdr_protocol::operation::OpKind>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one operation.
    Show { id: u64 },
    /// Follow an operation's progress until it ends.
    Watch { id: u64 },
    /// Cancel a pending or running operation.
    Cancel { id: u64 },
    /// Start a diagnostic operation that sleeps (to try progress, cancel and queueing).
    Demo {
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, default_value_t = 10)]
        steps: u32,
        /// Fail at this step.
        #[arg(long)]
        fail_at: Option<u32>,
        #[command(flatten)]
        follow: FollowArgs,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct FollowArgs {
    /// Print the operation id and return at once instead of following its progress.
    #[arg(long)]
    pub detach: bool,
}

fn parse_op_kind(s: &str) -> Result<ktrdr_protocol::operation::OpKind, String> {
    s.parse()
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum StateArg {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    Interrupted,
}

impl StateArg {
    pub fn to_state(self) -> ktrdr_protocol::model::OpState {
        use ktrdr_protocol::model::OpState;
        match self {
            StateArg::Pending => OpState::Pending,
            StateArg::Running => OpState::Running,
            StateArg::Completed => OpState::Completed,
            StateArg::Failed => OpState::Failed,
            StateArg::Cancelled => OpState::Cancelled,
            StateArg::Interrupted => OpState::Interrupted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    /// Deferred arguments must not change what help shows: a doc comment on a flattened `Args` type
    /// would replace the command's about text once its arguments are added late.
    #[test]
    fn deferred_commands_keep_their_about_text() {
        let mut cmd = Cli::command();
        cmd.build();
        let about = |path: &[&str]| {
            let mut c = &cmd;
            for p in path {
                c = c.find_subcommand(p).expect(p);
            }
            c.get_about().map(|a| a.to_string()).unwrap_or_default()
        };
        assert!(about(&["daemon", "install"]).starts_with("Write service files"));
        assert!(about(&["daemon", "uninstall"]).starts_with("Remove what"));
        assert!(about(&["data", "show"]).starts_with("Print bars of a series"));
        // Built in full: deferred arguments are there.
        let show = cmd
            .find_subcommand("data")
            .unwrap()
            .find_subcommand("show")
            .unwrap();
        assert!(show.get_arguments().any(|a| a.get_id() == "tail"));
        // The `help` subtree knows nested subcommands (`help backtest show` completes).
        let help = cmd.find_subcommand("help").unwrap();
        assert!(
            help.find_subcommand("backtest")
                .unwrap()
                .find_subcommand("show")
                .is_some()
        );
    }
}
