//! What to run after installing or before uninstalling: systemctl or launchctl command lines. They
//! are printed, and run only when asked (`--enable`, `--disable`), so an install never changes what
//! is running behind the user's back.

use super::layout::{AGENT_LABEL, Item, Layout, Target};
use ktrdr_protocol::{ErrorKind, WireError};
use std::process::{Command, Stdio};

pub type Cmd = Vec<String>;

pub struct Plan {
    pub heading: &'static str,
    pub commands: Vec<Cmd>,
    pub notes: Vec<String>,
}

pub struct Uninstall {
    /// Stops and disables the service; must run while the unit files still exist.
    pub before: Vec<Cmd>,
    pub after: Plan,
}

fn cmd(words: &[&str]) -> Cmd {
    words.iter().map(|w| w.to_string()).collect()
}

fn gui_domain() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("gui/{}", unsafe { libc::getuid() })
}

pub fn after_install(layout: &Layout) -> Plan {
    let zsh = format!(
        "zsh completions need `fpath=({} $fpath)` before `compinit` in ~/.zshrc",
        layout.zsh_dir.display()
    );
    match layout.target {
        Target::SystemdUser => Plan {
            heading: "Next, run:",
            commands: vec![
                cmd(&["systemctl", "--user", "daemon-reload"]),
                cmd(&["systemctl", "--user", "enable", "--now", "ktrdrd.socket"]),
            ],
            notes: vec![
                "the first ktrdrctl command then starts ktrdrd; `systemctl --user enable ktrdrd.service` starts it at login as well".into(),
                "`loginctl enable-linger` keeps it running while you are logged out".into(),
                "logs: `journalctl --user -u ktrdrd`".into(),
                zsh,
            ],
        },
        Target::SystemdSystem => Plan {
            heading: "Next, as root, run:",
            commands: vec![
                cmd(&["systemd-sysusers"]),
                cmd(&["systemctl", "daemon-reload"]),
                cmd(&["systemctl", "enable", "--now", "ktrdrd.socket"]),
            ],
            notes: vec![
                "only the ktrdr user and root may talk to it: `sudo -u ktrdr ktrdrctl --socket /run/ktrdr/ktrdrd.sock health`".into(),
                "logs: `journalctl -u ktrdrd`".into(),
                zsh,
            ],
        },
        Target::Launchd => {
            let plist = layout.path_of(Item::Agent).map(|p| p.display().to_string()).unwrap_or_default();
            let socket = layout.root.join("Library/Application Support/ktrdr/run/ktrdrd.sock");
            let mut notes = vec![
                format!(
                    "the agent listens on {}, ktrdrctl's default on macOS; no KTRDR_SOCKET needed",
                    shell_word(&socket.display().to_string())
                ),
                format!("to reload after a reinstall: `launchctl bootout {}/{AGENT_LABEL}` first", gui_domain()),
                format!("logs: {}", layout.root.join("Library/Logs/ktrdr/ktrdrd.log").display()),
                zsh,
            ];
            // sun_path is 104 bytes on macOS; a longer socket path cannot be bound at all.
            if socket.as_os_str().len() >= 104 {
                notes.insert(0, format!("warning: {} is too long for a Unix socket on macOS; set a shorter KTRDR_SOCKET in the plist", socket.display()));
            }
            Plan {
                heading: "Next, run:",
                commands: vec![cmd(&["launchctl", "bootstrap", &gui_domain(), &plist])],
                notes,
            }
        }
    }
}

/// `disabled`: whether `before` was run, so launchd's bootout need not be suggested again.
pub fn uninstall(layout: &Layout, disabled: bool) -> Uninstall {
    match layout.target {
        Target::SystemdUser => Uninstall {
            before: vec![cmd(&["systemctl", "--user", "disable", "--now", "ktrdrd.socket", "ktrdrd.service"])],
            after: Plan {
                heading: "Next, run:",
                commands: vec![cmd(&["systemctl", "--user", "daemon-reload"])],
                notes: Vec::new(),
            },
        },
        Target::SystemdSystem => Uninstall {
            before: vec![cmd(&["systemctl", "disable", "--now", "ktrdrd.socket", "ktrdrd.service"])],
            after: Plan {
                heading: "Next, as root, run:",
                commands: vec![cmd(&["systemctl", "daemon-reload"])],
                notes: vec!["the ktrdr user and /var/lib/ktrdr are kept (`userdel ktrdr`, `rm -r /var/lib/ktrdr`)".into()],
            },
        },
        Target::Launchd => {
            let bootout = cmd(&["launchctl", "bootout", &format!("{}/{AGENT_LABEL}", gui_domain())]);
            Uninstall {
                // launchd unloads by label, so this also works once the plist is gone.
                after: Plan {
                    heading: "Next, if the agent is loaded, run:",
                    commands: if disabled { Vec::new() } else { vec![bootout.clone()] },
                    notes: Vec::new(),
                },
                before: vec![bootout],
            }
        }
    }
}

/// Runs one command, its output on stderr so that `--json` keeps stdout to one document.
pub fn run(command: &Cmd) -> Result<(), WireError> {
    let line = shell_line(command);
    let (program, args) = command
        .split_first()
        .ok_or_else(|| WireError::internal("empty command"))?;
    eprintln!("ktrdrctl: running `{line}`");
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| {
            WireError::not_found(format!("cannot run {program}: {e}"))
                .with_hint("run the printed commands yourself")
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(WireError::new(
            ErrorKind::Unavailable,
            format!("`{line}` failed ({status})"),
        )
        .with_hint("the files are in place; run the command yourself to see why"))
    }
}

pub fn shell_line(command: &Cmd) -> String {
    command
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quoted for a POSIX shell when it holds anything beyond a conservative safe set.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("gui/501"), "gui/501");
        assert_eq!(shell_word("/Users/a b/it's"), r"'/Users/a b/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
