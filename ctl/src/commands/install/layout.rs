//! Which files `daemon install` writes where. Paths follow each platform's conventions: systemd's
//! user unit directory under `$XDG_CONFIG_HOME`, completions and the man page under the XDG data
//! directory (or /usr/local/share system-wide), the agent under ~/Library/LaunchAgents.

use ktrdr_protocol::{ErrorKind, WireError};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    SystemdUser,
    SystemdSystem,
    Launchd,
}

impl Target {
    /// The flags' choice, else the platform's service manager. Without `--prefix` a target must
    /// match the platform; with it, any target can be rendered anywhere (packaging, tests).
    pub fn choose(
        systemd: bool,
        launchd: bool,
        system: bool,
        prefixed: bool,
    ) -> Result<Target, WireError> {
        let on_macos = cfg!(target_os = "macos");
        let launchd = launchd || (!systemd && !system && on_macos);
        if !prefixed && launchd != on_macos {
            let (what, platform) = if launchd {
                ("launchd agents", "macOS")
            } else {
                ("systemd units", "Linux")
            };
            return Err(
                WireError::validation(format!("{what} are only used on {platform}"))
                    .with_hint("pass --prefix DIR to render them into a directory anyway"),
            );
        }
        Ok(match (launchd, system) {
            (true, _) => Target::Launchd,
            (false, true) => Target::SystemdSystem,
            (false, false) => Target::SystemdUser,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Target::SystemdUser => "systemd-user",
            Target::SystemdSystem => "systemd-system",
            Target::Launchd => "launchd",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Target::SystemdUser => "a systemd user service",
            Target::SystemdSystem => "a system-wide systemd service",
            Target::Launchd => "a launchd agent",
        }
    }
}

/// A file `daemon install` writes and `daemon uninstall` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Service,
    Socket,
    Sysusers,
    Agent,
    Bash,
    Zsh,
    Fish,
    Man,
}

pub struct Layout {
    pub target: Target,
    /// `$HOME` or `--prefix` for the user targets, `/` or `--prefix` system-wide.
    pub root: PathBuf,
    pub files: Vec<(Item, PathBuf)>,
    /// Directories the service needs before it first starts: the sandbox's ReadWritePaths= (which
    /// ProtectHome=read-only would stop ktrdrd from creating) or launchd's log directory.
    pub dirs: Vec<PathBuf>,
    /// Symlinks `systemctl enable` creates; uninstalling under them would leave them dangling.
    pub enabled_links: Vec<PathBuf>,
    /// Where zsh completions go, for the fpath hint.
    pub zsh_dir: PathBuf,
}

pub const AGENT_LABEL: &str = "com.ktrdr.ktrdrd";

impl Layout {
    pub fn new(
        target: Target,
        prefix: Option<&Path>,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Layout, WireError> {
        let prefix = match prefix {
            Some(p) => Some(std::path::absolute(p).map_err(|e| {
                WireError::validation(format!("bad --prefix {}: {e}", p.display()))
            })?),
            None => None,
        };
        if target == Target::SystemdSystem {
            return Ok(Self::system(prefix.unwrap_or_else(|| PathBuf::from("/"))));
        }
        let roots = match prefix {
            Some(home) => UserDirs::under(home),
            None => UserDirs::from_env(env)?,
        };
        Ok(Self::user(target, roots))
    }

    fn system(root: PathBuf) -> Layout {
        let units = root.join("etc/systemd/system");
        let share = root.join("usr/local/share");
        let zsh_dir = share.join("zsh/site-functions");
        Layout {
            target: Target::SystemdSystem,
            files: vec![
                (Item::Service, units.join("ktrdrd.service")),
                (Item::Socket, units.join("ktrdrd.socket")),
                (Item::Sysusers, root.join("etc/sysusers.d/ktrdr.conf")),
                (
                    Item::Bash,
                    share.join("bash-completion/completions/ktrdrctl"),
                ),
                (Item::Zsh, zsh_dir.join("_ktrdrctl")),
                (
                    Item::Fish,
                    share.join("fish/vendor_completions.d/ktrdrctl.fish"),
                ),
                (Item::Man, share.join("man/man1/ktrdrctl.1")),
            ],
            dirs: Vec::new(),
            enabled_links: vec![
                units.join("sockets.target.wants/ktrdrd.socket"),
                units.join("multi-user.target.wants/ktrdrd.service"),
            ],
            zsh_dir,
            root,
        }
    }

    fn user(target: Target, d: UserDirs) -> Layout {
        let zsh_dir = d.data.join("zsh/site-functions");
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        let mut enabled_links = Vec::new();
        if target == Target::Launchd {
            files.push((
                Item::Agent,
                d.home
                    .join(format!("Library/LaunchAgents/{AGENT_LABEL}.plist")),
            ));
            dirs.push(d.home.join("Library/Logs/ktrdr"));
        } else {
            let units = d.config.join("systemd/user");
            files.push((Item::Service, units.join("ktrdrd.service")));
            files.push((Item::Socket, units.join("ktrdrd.socket")));
            // The unit pins these (not XDG_*), so they are created from $HOME as well.
            dirs.push(d.home.join(".local/share/ktrdr"));
            dirs.push(d.home.join(".local/state/ktrdr"));
            enabled_links.push(units.join("sockets.target.wants/ktrdrd.socket"));
            enabled_links.push(units.join("default.target.wants/ktrdrd.service"));
        }
        files.extend([
            (
                Item::Bash,
                d.data.join("bash-completion/completions/ktrdrctl"),
            ),
            (Item::Zsh, zsh_dir.join("_ktrdrctl")),
            (Item::Fish, d.config.join("fish/completions/ktrdrctl.fish")),
            (Item::Man, d.data.join("man/man1/ktrdrctl.1")),
        ]);
        Layout {
            target,
            root: d.home,
            files,
            dirs,
            enabled_links,
            zsh_dir,
        }
    }

    pub fn path_of(&self, item: Item) -> Option<&Path> {
        self.files
            .iter()
            .find(|(i, _)| *i == item)
            .map(|(_, p)| p.as_path())
    }
}

/// A user's home and XDG base directories.
struct UserDirs {
    home: PathBuf,
    config: PathBuf,
    data: PathBuf,
}

impl UserDirs {
    fn under(home: PathBuf) -> UserDirs {
        UserDirs {
            config: home.join(".config"),
            data: home.join(".local/share"),
            home,
        }
    }

    fn from_env(env: &dyn Fn(&str) -> Option<OsString>) -> Result<UserDirs, WireError> {
        let home = env("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .ok_or_else(|| {
                WireError::new(
                    ErrorKind::Configuration,
                    "HOME is not set to an absolute path",
                )
                .with_hint("set HOME, or pass --prefix DIR")
            })?;
        // The XDG spec says relative values are invalid and must be ignored.
        let xdg = |var: &str, fallback: &str| {
            env(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(fallback))
        };
        Ok(UserDirs {
            config: xdg("XDG_CONFIG_HOME", ".config"),
            data: xdg("XDG_DATA_HOME", ".local/share"),
            home,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn user_units_follow_xdg_but_prefix_ignores_it() {
        let vars = [
            ("HOME", "/h"),
            ("XDG_CONFIG_HOME", "/cfg"),
            ("XDG_DATA_HOME", "relative"),
        ];
        let l = Layout::new(Target::SystemdUser, None, &env(&vars)).unwrap();
        assert_eq!(
            l.path_of(Item::Service),
            Some(Path::new("/cfg/systemd/user/ktrdrd.service"))
        );
        assert_eq!(
            l.path_of(Item::Man),
            Some(Path::new("/h/.local/share/man/man1/ktrdrctl.1"))
        );
        let l = Layout::new(Target::SystemdUser, Some(Path::new("/p")), &env(&vars)).unwrap();
        assert_eq!(
            l.path_of(Item::Service),
            Some(Path::new("/p/.config/systemd/user/ktrdrd.service"))
        );
    }

    #[test]
    fn missing_home_is_a_configuration_error() {
        let err = Layout::new(Target::Launchd, None, &env(&[])).err().unwrap();
        assert_eq!(err.kind, ErrorKind::Configuration);
    }

    #[test]
    fn system_layout_lives_under_etc_and_usr_local() {
        let l = Layout::new(Target::SystemdSystem, Some(Path::new("/r")), &env(&[])).unwrap();
        assert_eq!(
            l.path_of(Item::Sysusers),
            Some(Path::new("/r/etc/sysusers.d/ktrdr.conf"))
        );
        assert_eq!(
            l.path_of(Item::Man),
            Some(Path::new("/r/usr/local/share/man/man1/ktrdrctl.1"))
        );
    }

    #[test]
    fn target_must_match_platform_unless_prefixed() {
        let native_is_launchd = cfg!(target_os = "macos");
        assert!(Target::choose(false, !native_is_launchd, false, false).is_err());
        assert!(Target::choose(false, !native_is_launchd, false, true).is_ok());
        let t = Target::choose(false, false, false, false).unwrap();
        assert_eq!(t == Target::Launchd, native_is_launchd);
    }
}
