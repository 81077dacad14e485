//! The command line: the top of clap's derive types. Each command group's own types (its
//! subcommands and arguments) live in its module under `commands/`, which never reaches back here;
//! the completions and the man page are built from [`Cli`] by `main` and handed to the install
//! code.

use clap::{Parser, Subcommand};
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
    /// Request counts, errors, latency percentiles and counters per service (or Prometheus text).
    Stats(crate::commands::metrics::StatsArgs),
    /// A live view refreshed every second: operations, request rates, cache, IB pacing (q quits).
    Top(crate::commands::top::TopArgs),
    /// One round trip to the daemon.
    Ping,
    /// Control the daemon process, or install it as a service.
    #[command(subcommand)]
    Daemon(crate::commands::daemon::DaemonCommand),
    /// Long-running operations: list, show, watch, cancel.
    #[command(subcommand)]
    Ops(crate::commands::ops::OpsCommand),
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
    /// Sweeps: a grid of strategy parameters x symbols x timeframes x walk-forward windows,
    /// each cell trained and backtested out of sample, locally or on Slurm; ranked results.
    #[command(subcommand)]
    Sweep(crate::commands::sweep::SweepCommand),
    /// Draw a stored series (candles, volume, indicators, fuzzy strips, a backtest's trades) as
    /// PNG, SVG or one interactive HTML file.
    Chart(crate::commands::chart::ChartArgs),
    /// Print shell completions on stdout (no daemon needed).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout (no daemon needed).
    Man,
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
