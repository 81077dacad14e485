//! `daemon install`, `daemon uninstall`, `completions` and `man`: commands that work on this machine
//! only and never connect to the daemon, so they run before (and without) any daemon.
//!
//! - [`layout`]: which files go where, per target (systemd user, systemd system-wide, launchd).
//! - [`render`]: the unit and plist templates with the real binary path filled in.
//! - [`generated`]: shell completions and the man page, from the clap definitions.
//! - [`files`]: writing and removing files, reporting what changed.
//! - [`steps`]: the systemctl/launchctl commands to run next (printed, or run with --enable).

mod files;
mod generated;
mod layout;
mod render;
mod steps;

use crate::commands::daemon::{InstallArgs, TargetArgs, UninstallArgs};
use crate::output::print_json;
use files::Change;
use ktrdr_protocol::{ErrorKind, WireError};
use layout::{Layout, Target};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// `cli` is the whole command line's definition (`cli::Cli::command()`), which completions and the
/// man page are generated from.
pub fn completions(cli: &clap::Command, shell: clap_complete::Shell) -> Result<(), WireError> {
    write_stdout(&generated::completion(cli, shell))
}

pub fn man(cli: &clap::Command) -> Result<(), WireError> {
    write_stdout(&generated::man_page(cli)?)
}

pub fn install(args: &InstallArgs, json: bool, cli: &clap::Command) -> Result<(), WireError> {
    let t = &args.target;
    let target = Target::choose(t.systemd, t.launchd, t.system, t.prefix.is_some())?;
    let layout = Layout::new(target, t.prefix.as_deref(), &|k| std::env::var_os(k))?;
    let ktrdrd = locate_ktrdrd(args.bin_dir.as_deref())?;
    if target == Target::SystemdSystem {
        reject_hidden_from_system_service(&ktrdrd)?;
    }

    let mut changes = Vec::new();
    for dir in &layout.dirs {
        changes.push((files::ensure_dir(dir, t.dry_run)?, dir.clone()));
    }
    for (item, path) in &layout.files {
        let contents = render::item(*item, &ktrdrd, &layout, cli)?;
        changes.push((files::write(path, &contents, t.dry_run)?, path.clone()));
    }

    let plan = steps::after_install(&layout);
    if args.enable {
        for cmd in &plan.commands {
            steps::run(cmd)?;
        }
    }
    let title = format!(
        "{} ktrdrd as {} (ExecStart {})",
        if t.dry_run {
            "Would install"
        } else {
            "Installed"
        },
        target.describe(),
        ktrdrd.display()
    );
    print_report(
        json,
        &Report {
            action: "install",
            title: &title,
            target,
            t,
            changes: &changes,
            plan: &plan,
            ran: args.enable,
        },
    )
}

pub fn uninstall(args: &UninstallArgs, json: bool) -> Result<(), WireError> {
    let t = &args.target;
    let target = Target::choose(t.systemd, t.launchd, t.system, t.prefix.is_some())?;
    let layout = Layout::new(target, t.prefix.as_deref(), &|k| std::env::var_os(k))?;
    let plan = steps::uninstall(&layout, args.disable);

    if args.disable {
        for cmd in &plan.before {
            // Failing to stop what is not loaded is fine; the enablement check below catches the rest.
            if let Err(e) = steps::run(cmd) {
                eprintln!("ktrdrctl: warning: {}", e.message);
            }
        }
    }
    // Removing unit files under an enabled unit leaves dangling symlinks that `systemctl disable`
    // can no longer clean up, so refuse instead.
    if let Some(link) = layout
        .enabled_links
        .iter()
        .find(|l| l.symlink_metadata().is_ok())
    {
        let hint = plan
            .before
            .first()
            .map(steps::shell_line)
            .unwrap_or_default();
        return Err(
            WireError::conflict(format!("ktrdrd is still enabled ({})", link.display()))
                .with_hint(format!("run `{hint}` first, or pass --disable")),
        );
    }

    let mut changes = Vec::new();
    for (_, path) in &layout.files {
        changes.push((files::remove(path, t.dry_run)?, path.clone()));
    }
    let title = format!(
        "{} ktrdrd as {}; data, state and logs are kept",
        if t.dry_run {
            "Would uninstall"
        } else {
            "Uninstalled"
        },
        target.describe()
    );
    print_report(
        json,
        &Report {
            action: "uninstall",
            title: &title,
            target,
            t,
            changes: &changes,
            plan: &plan.after,
            ran: false,
        },
    )
}

/// `ktrdrd` in `--bin-dir`, else beside the running `ktrdrctl`. The path is made absolute but symlinks
/// are kept, so a unit pointing at e.g. `/opt/ktrdr/current/bin` follows upgrades.
fn locate_ktrdrd(bin_dir: Option<&Path>) -> Result<PathBuf, WireError> {
    let dir = match bin_dir {
        Some(d) => std::path::absolute(d)
            .map_err(|e| WireError::validation(format!("bad --bin-dir {}: {e}", d.display())))?,
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .ok_or_else(|| {
                WireError::new(
                    ErrorKind::Configuration,
                    "cannot tell where this ktrdrctl is installed",
                )
                .with_hint("pass --bin-dir DIR, the directory that holds ktrdrd")
            })?,
    };
    let path = dir.join("ktrdrd");
    let hint = "install ktrdrd beside ktrdrctl (e.g. `cargo install --path daemon`), or pass --bin-dir DIR";
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(path),
        Ok(_) => Err(
            WireError::not_found(format!("{} is not an executable file", path.display()))
                .with_hint(hint),
        ),
        Err(e) => Err(
            WireError::not_found(format!("ktrdrd not found in {}: {e}", dir.display()))
                .with_hint(hint),
        ),
    }
}

/// ProtectHome=yes in the system-wide unit hides these trees from the service: it would fail with
/// 203/EXEC, so say so now.
fn reject_hidden_from_system_service(ktrdrd: &Path) -> Result<(), WireError> {
    let hidden = ["/home", "/root", "/run/user"]
        .iter()
        .find(|dir| ktrdrd.starts_with(dir));
    match hidden {
        Some(dir) => Err(WireError::validation(format!(
            "{} is under {dir}, which the system-wide service cannot see (ProtectHome=yes)",
            ktrdrd.display()
        ))
        .with_hint("copy ktrdrd and ktrdrctl to /usr/local/bin and pass --bin-dir /usr/local/bin")),
        None => Ok(()),
    }
}

/// What an install or uninstall did (or, with --dry-run, would do).
struct Report<'a> {
    action: &'a str,
    title: &'a str,
    target: Target,
    t: &'a TargetArgs,
    changes: &'a [(Change, PathBuf)],
    plan: &'a steps::Plan,
    /// The follow-up commands were run (--enable / --disable).
    ran: bool,
}

fn print_report(json: bool, r: &Report<'_>) -> Result<(), WireError> {
    let Report {
        action,
        title,
        target,
        t,
        changes,
        plan,
        ran,
    } = *r;
    let commands: Vec<String> = plan.commands.iter().map(steps::shell_line).collect();
    if json {
        return print_json(&serde_json::json!({
            "action": action,
            "target": target.as_str(),
            "dry_run": t.dry_run,
            "files": changes.iter().map(|(c, p)| serde_json::json!({
                "path": p.display().to_string(),
                "change": c.label(t.dry_run),
            })).collect::<Vec<_>>(),
            "commands": commands,
            "ran_commands": ran,
            "notes": plan.notes,
        }));
    }
    println!("{title}:");
    for (change, path) in changes {
        println!("  {:<14} {}", change.label(t.dry_run), path.display());
    }
    if !commands.is_empty() {
        println!("{}", if ran { "Ran:" } else { plan.heading });
        for c in &commands {
            println!("  {c}");
        }
    }
    for note in &plan.notes {
        println!("Note: {note}");
    }
    Ok(())
}

fn write_stdout(bytes: &[u8]) -> Result<(), WireError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // `ktrdrctl man | head` closing the pipe early is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(WireError::internal(format!("cannot write to stdout: {e}"))),
    }
}
