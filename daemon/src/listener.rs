//! Getting a listening socket: bound by us, or inherited from systemd socket activation.
//!
//! Binding is guarded by a lock file next to the socket (`ktrdrd.sock.lock`, holding the owner's pid),
//! so two daemons started at once cannot both decide a socket is stale and race to replace it. The
//! socket file gets mode 0600 before `bind` (interprocess's `mode`, an fchmod on the unbound socket)
//! and sits in a directory created 0700. On shutdown the file is unlinked only if we created it and it
//! is still the same inode: a socket-activated or replaced socket is never removed.

use interprocess::local_socket::ListenerOptions;
use interprocess::local_socket::prelude::*;
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use interprocess::os::unix::uds_local_socket::tokio::Listener;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("another ktrdrd{pid} is already serving {path}")]
    AlreadyRunning { path: PathBuf, pid: String },
    #[error("{path} exists and is not a socket; refusing to replace it")]
    NotASocket { path: PathBuf },
    #[error("cannot prepare socket directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot bind {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("socket activation: {0}")]
    Activation(String),
}

pub struct Bound {
    pub listener: Listener,
    pub path: PathBuf,
    /// True when systemd (or another manager) passed us the socket.
    pub activated: bool,
    /// (dev, ino) of the file we bound; `None` if we did not create it.
    created: Option<(u64, u64)>,
    _lock: Option<File>,
}

impl Bound {
    /// Removes the socket file if it is still the one we created.
    pub fn remove_socket_file(&self) {
        let Some((dev, ino)) = self.created else {
            return;
        };
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.dev() == dev && m.ino() == ino => {
                if let Err(e) = std::fs::remove_file(&self.path) {
                    tracing::warn!(path = %self.path.display(), error = %e, "could not remove socket file");
                }
            }
            Ok(_) => {
                tracing::warn!(path = %self.path.display(), "socket file was replaced by someone else; leaving it")
            }
            Err(_) => {}
        }
    }
}

/// Takes the socket passed by the service manager (LISTEN_FDS/LISTEN_PID), if any. Call it before
/// any other thread exists: `listenfd` clears those variables from the environment, which is only
/// sound while the process is single-threaded.
pub fn take_inherited() -> Result<Option<OwnedFd>, BindError> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Ok(None);
    }
    let std_listener = fds
        .take_unix_listener(0)
        .map_err(|e| BindError::Activation(format!("fd 3 is not a listening Unix socket: {e}")))?
        .ok_or_else(|| BindError::Activation("LISTEN_FDS set but fd 3 was already taken".into()))?;
    Ok(Some(std_listener.into()))
}

/// Adopts an inherited listening socket into the runtime. Never unlinks it later.
pub fn adopt(fd: OwnedFd, path: &Path) -> Result<Bound, BindError> {
    let listener = Listener::try_from(fd)
        .map_err(|e| BindError::Activation(format!("cannot adopt fd 3: {e}")))?;
    // The manager's socket may be at another path than our configuration says; report what we have.
    let actual = listener
        .inner()
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    Ok(Bound {
        listener,
        path: actual,
        activated: true,
        created: None,
        _lock: None,
    })
}

pub fn bind(path: &Path) -> Result<Bound, BindError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.exists() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| BindError::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
    }
    warn_if_shared(dir);

    let lock_path = lock_path(path);
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|source| BindError::Dir {
            path: lock_path.clone(),
            source,
        })?;
    if lock.try_lock().is_err() {
        let mut pid = String::new();
        let _ = lock.read_to_string(&mut pid);
        let pid = pid.trim();
        return Err(BindError::AlreadyRunning {
            path: path.to_path_buf(),
            pid: if pid.is_empty() {
                String::new()
            } else {
                format!(" (pid {pid})")
            },
        });
    }
    let _ = lock.set_len(0);
    let _ = lock.rewind();
    let _ = write!(lock, "{}", std::process::id());

    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            // We hold the lock, so no ktrdrd owns this file; but some other process might listen on it.
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(BindError::AlreadyRunning {
                    path: path.to_path_buf(),
                    pid: " (or another program)".into(),
                });
            }
            tracing::warn!(path = %path.display(), "removing stale socket left by a previous daemon");
            std::fs::remove_file(path).map_err(|source| BindError::Bind {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(_) => {
            return Err(BindError::NotASocket {
                path: path.to_path_buf(),
            });
        }
        Err(_) => {}
    }

    let name = path
        .to_fs_name::<interprocess::local_socket::GenericFilePath>()
        .map_err(|source| BindError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
    let listener = ListenerOptions::new()
        .name(name)
        .mode(0o600)
        .reclaim_name(false)
        .create_tokio_as::<Listener>()
        .map_err(|source| BindError::Bind {
            path: path.to_path_buf(),
            source,
        })?;
    let meta = std::fs::symlink_metadata(path).map_err(|source| BindError::Bind {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.permissions().mode() & 0o777 != 0o600 {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(Bound {
        listener,
        path: path.to_path_buf(),
        activated: false,
        created: Some((meta.dev(), meta.ino())),
        _lock: Some(lock),
    })
}

fn lock_path(socket: &Path) -> PathBuf {
    let mut s = socket.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// A socket in a directory others can write to could be replaced under us; say so.
fn warn_if_shared(dir: &Path) {
    if let Ok(m) = std::fs::metadata(dir) {
        let mode = m.permissions().mode();
        let sticky = mode & 0o1000 != 0;
        if mode & 0o022 != 0 && !sticky {
            tracing::warn!(dir = %dir.display(), mode = format!("{:o}", mode & 0o7777), "socket directory is writable by others");
        }
    }
}
