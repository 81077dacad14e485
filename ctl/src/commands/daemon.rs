//! `daemon stop`.

use crate::client::Client;
use crate::output::print_json;
use clap::{Args, Subcommand};
use ktrdr_protocol::{Reply, Request, WireError};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see crate::cli::Command
pub enum DaemonCommand {
    /// Stop the daemon gracefully (as SIGTERM does).
    Stop,
    /// Write service files (systemd or launchd), completions and man page (no daemon needed).
    Install(InstallArgs),
    /// Remove what `daemon install` wrote, keeping data and logs (no daemon needed).
    Uninstall(UninstallArgs),
}

// Where `daemon install` and `daemon uninstall` work. A plain comment: a doc comment here would
// become the about text of both commands once their arguments are deferred (see crate::cli::Command).
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

pub async fn stop(c: &mut Client, json: bool) -> Result<(), WireError> {
    let pid = c.daemon_pid;
    match c.call(&Request::Shutdown).await? {
        Reply::Stopping => {
            if json {
                print_json(&serde_json::json!({"stopping": true, "pid": pid}))
            } else {
                println!("ktrdrd (pid {pid}) is stopping");
                Ok(())
            }
        }
        other => Err(WireError::internal(format!("unexpected reply: {other:?}"))),
    }
}
