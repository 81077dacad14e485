//! Harness for the end-to-end tests: a real `ktrdrd` on a temporary socket, driven by the real
//! `ktrdrctl` binary. Nothing here mocks the daemon or the client.
//!
//! The binaries are found next to the test executable (`target/<profile>/`), so run
//! `cargo build --workspace` before `cargo test` (the project's test script does).

pub mod cdp;
pub mod sweeps;

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// `target/<profile>/`, derived from this test binary's path (`target/<profile>/deps/x-hash`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf();
    for name in ["ktrdrd", "ktrdrctl"] {
        assert!(
            dir.join(name).exists(),
            "{} not found in {}: run `cargo build --workspace` first",
            name,
            dir.display()
        );
    }
    dir
}

pub fn ktrdrd_bin() -> PathBuf {
    bin_dir().join("ktrdrd")
}

pub fn ktrdrctl_bin() -> PathBuf {
    bin_dir().join("ktrdrctl")
}

/// A daemon with its own temporary socket, data and state directories. Killed on drop.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub child: Option<Child>,
    pub log: PathBuf,
    extra_env: Vec<(String, String)>,
}

impl Daemon {
    pub fn start() -> Daemon {
        Self::start_with(&[])
    }

    /// Starts with extra environment (e.g. `KTRDR_OPS_LIMITS`) and waits until it answers.
    pub fn start_with(env: &[(&str, &str)]) -> Daemon {
        let mut d = Self::unstarted(env);
        d.spawn();
        d
    }

    /// Directories and paths chosen, nothing started: for tests that prepare the ground first.
    pub fn unstarted(env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("ktrdr-e2e")
            .tempdir()
            .expect("tempdir");
        let socket = dir.path().join("run").join("ktrdrd.sock");
        let log = dir.path().join("ktrdrd.log");
        Daemon {
            dir,
            socket,
            child: None,
            log,
            extra_env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The daemon command line for this instance, not yet started.
    pub fn command(&self) -> Command {
        self.command_at(&self.socket)
    }

    /// The same daemon command line, but on another socket path.
    pub fn command_at(&self, socket: &Path) -> Command {
        let mut cmd = Command::new(ktrdrd_bin());
        cmd.arg("--socket")
            .arg(socket)
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--state-dir")
            .arg(self.state_dir())
            .env_remove("KTRDR_SOCKET")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("KTRDR_LOG", "debug");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// (Re)starts the daemon process and waits for it to answer.
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn ktrdrd");
        self.child = Some(child);
        self.wait_ready();
    }

    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self.ctl(&["ping"]).status.success() {
                return;
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "ktrdrd exited early with {status}; log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "ktrdrd did not answer; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).expect("daemon running")
    }

    /// Imports a file of the shared samples (`shared("ktrdr-ib-samples/EURUSD_1h.csv")`) as
    /// `symbol` `timeframe`, asserting success.
    pub fn import_sample(&self, rel: &str, symbol: &str, timeframe: &str) {
        let path = shared(rel);
        let o = self.ctl(&[
            "data",
            "import",
            path.to_str().unwrap(),
            "--symbol",
            symbol,
            "--timeframe",
            timeframe,
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }

    /// Imports the EURUSD hourly sample of the PyPI package `backtesting` (`public/EURUSD.csv`,
    /// 2017-04 to 2018-02, New York times) as EURUSD 1h, asserting success.
    pub fn import_eurusd_hourly(&self) {
        let path = shared("public/EURUSD.csv");
        let o = self.ctl(&[
            "data",
            "import",
            path.to_str().unwrap(),
            "--symbol",
            "EURUSD",
            "--timeframe",
            "1h",
            "--timezone",
            "America/New_York",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }

    /// Runs `ktrdrctl --socket <ours> ARGS`.
    pub fn ctl(&self, args: &[&str]) -> Output {
        ctl_at(&self.socket, args)
    }

    /// Runs `ktrdrctl --json ARGS`, asserts success and parses stdout as one JSON document.
    pub fn ctl_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.ctl(&all);
        assert!(
            out.status.success(),
            "ktrdrctl {args:?} failed: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not one JSON document ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(self.pid() as i32, sig);
        }
    }

    /// Waits for the daemon process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("daemon running");
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "ktrdrd did not exit; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A raw connection for protocol-level abuse.
    pub fn raw(&self) -> UnixStream {
        let s = UnixStream::connect(&self.socket).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn ctl_at(socket: &Path, args: &[&str]) -> Output {
    Command::new(ktrdrctl_bin())
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("KTRDR_SOCKET")
        .stdin(Stdio::null())
        .output()
        .expect("run ktrdrctl")
}

/// The shared sample data, beside the repository (`../shared/data`).
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Reads until EOF or timeout; returns what was read.
pub fn read_all(s: &mut UnixStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf
}

/// Polls `f` until it returns true or the time runs out.
pub fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    f()
}

/// The path of a tool `scripts/system-deps.sh` installs; a missing one fails the test (a skipped
/// test would hide that the check never ran).
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run `bash scripts/system-deps.sh` first")
        })
}

/// A loopback TCP port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
