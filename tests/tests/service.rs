//! Service management end to end (issue 9): the units and agent that `ktrdrctl daemon install`
//! renders, checked by the real tools (systemd-analyze, systemd-sysusers, plistutil, python's
//! plistlib); ktrdrd started by systemd-socket-activate; sd_notify datagrams read from a socket the
//! test owns. No systemd manager is needed.
//!
//! The tools come from `scripts/system-deps.sh`. A missing tool fails the test: a skipped test
//! would pass in CI while checking nothing.

use ktrdr_tests::{ctl_at, eventually, ktrdrctl_bin, ktrdrd_bin, stderr, stdout};
use serde_json::Value;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The tool's path on PATH, or a failure saying how to get it.
fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run `bash scripts/system-deps.sh` first")
        })
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("ktrdr-svc")
        .tempdir()
        .expect("tempdir")
}

/// `ktrdrctl ARGS` pointed at a socket nothing listens on: local commands must not need a daemon.
fn ctl_local(dir: &Path, args: &[&str]) -> Output {
    ctl_at(&dir.join("no-daemon.sock"), args)
}

/// `ktrdrctl --json ARGS` at `socket`, asserted to succeed and print one JSON document.
fn ctl_json_at(socket: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ctl_at(socket, &all);
    ok(&format!("ktrdrctl {args:?}"), &out);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(&out)))
}

fn ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed with {}\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// `systemd-analyze verify` exits 0 on unknown keys and bad values (it only warns), so its stderr must
/// be empty too. MANPATH lets it check `Documentation=man:ktrdrctl(1)` against the installed page.
fn verify_units(user: bool, manpath: &Path, units: &[PathBuf], runtime_dir: &Path) {
    let mut cmd = Command::new(require_tool("systemd-analyze"));
    if user {
        cmd.arg("--user");
    }
    cmd.arg("verify")
        .args(units)
        .env("MANPATH", manpath)
        .env("XDG_RUNTIME_DIR", runtime_dir);
    let out = run(&mut cmd);
    ok("systemd-analyze verify", &out);
    assert!(
        stderr(&out).trim().is_empty(),
        "systemd-analyze verify warned:\n{}",
        stderr(&out)
    );
}

fn exec_start(unit: &Path) -> String {
    let text = std::fs::read_to_string(unit).expect("read unit");
    text.lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart= line")
        .to_string()
}

fn changes(report: &Value) -> Vec<(String, String)> {
    report["files"]
        .as_array()
        .expect("files array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or("").to_string(),
                f["change"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn user_units_install_verify_and_uninstall() {
    let tmp = tempdir();
    let home = tmp.path().join("home");
    let run_dir = tmp.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();
    let prefix = home.to_str().unwrap();

    let report = ctl_json_at(
        &tmp.path().join("no-daemon.sock"),
        &["daemon", "install", "--systemd", "--prefix", prefix],
    );
    assert_eq!(report["target"], "systemd-user");
    let units = home.join(".config/systemd/user");
    let (service, socket) = (units.join("ktrdrd.service"), units.join("ktrdrd.socket"));
    for f in [&service, &socket] {
        assert!(f.is_file(), "{} not written; report: {report}", f.display());
    }
    for f in [
        ".local/share/bash-completion/completions/ktrdrctl",
        ".local/share/zsh/site-functions/_ktrdrctl",
        ".config/fish/completions/ktrdrctl.fish",
        ".local/share/man/man1/ktrdrctl.1",
    ] {
        let text = std::fs::read_to_string(home.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(text.contains("ktrdrctl"), "{f} does not mention ktrdrctl");
    }
    // The sandbox's ReadWritePaths= must exist before the first start.
    assert!(home.join(".local/share/ktrdr").is_dir() && home.join(".local/state/ktrdr").is_dir());
    assert_eq!(exec_start(&service), ktrdrd_bin().display().to_string());
    let commands = report["commands"].to_string();
    assert!(
        commands.contains("systemctl --user enable --now ktrdrd.socket"),
        "{commands}"
    );

    verify_units(
        true,
        &home.join(".local/share/man"),
        &[service.clone(), socket.clone()],
        &run_dir,
    );

    // A second install changes nothing.
    let again = ctl_json_at(
        &tmp.path().join("no-daemon.sock"),
        &["daemon", "install", "--systemd", "--prefix", prefix],
    );
    assert!(
        changes(&again).iter().all(|(_, c)| c == "unchanged"),
        "{again}"
    );

    // Uninstalling under an enabled unit would leave dangling symlinks: refused with a hint.
    let wants = units.join("sockets.target.wants");
    std::fs::create_dir_all(&wants).unwrap();
    std::os::unix::fs::symlink(&socket, wants.join("ktrdrd.socket")).unwrap();
    let refused = ctl_local(
        tmp.path(),
        &["daemon", "uninstall", "--systemd", "--prefix", prefix],
    );
    assert_eq!(refused.status.code(), Some(6), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("systemctl --user disable --now"),
        "{}",
        stderr(&refused)
    );
    assert!(
        service.exists(),
        "a refused uninstall must not remove anything"
    );

    std::fs::remove_file(wants.join("ktrdrd.socket")).unwrap();
    let dry = ctl_json_at(
        &tmp.path().join("no-daemon.sock"),
        &[
            "daemon",
            "uninstall",
            "--systemd",
            "--prefix",
            prefix,
            "--dry-run",
        ],
    );
    assert!(
        changes(&dry).iter().all(|(_, c)| c == "would remove"),
        "{dry}"
    );
    assert!(service.exists(), "--dry-run must not remove anything");
    let gone = ctl_json_at(
        &tmp.path().join("no-daemon.sock"),
        &["daemon", "uninstall", "--systemd", "--prefix", prefix],
    );
    assert!(changes(&gone).iter().all(|(_, c)| c == "removed"), "{gone}");
    assert!(
        !service.exists()
            && !socket.exists()
            && !home.join(".local/share/man/man1/ktrdrctl.1").exists()
    );
    assert!(
        home.join(".local/share/ktrdr").is_dir(),
        "uninstall must keep the data directory"
    );
}

#[test]
fn system_units_verify_with_the_real_binary() {
    let tmp = tempdir();
    // ProtectHome=yes hides /home from the system-wide service, so install refuses a ktrdrd there;
    // a link outside any home works wherever the checkout lives.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(ktrdrd_bin(), bin.join("ktrdrd")).unwrap();
    let root = tmp.path().join("root");
    let run_dir = tmp.path().join("run");
    std::fs::create_dir_all(&run_dir).unwrap();

    let out = ctl_local(
        tmp.path(),
        &[
            "daemon",
            "install",
            "--systemd",
            "--system",
            "--prefix",
            root.to_str().unwrap(),
            "--bin-dir",
            bin.to_str().unwrap(),
        ],
    );
    ok("daemon install --system", &out);
    let units = root.join("etc/systemd/system");
    let service = units.join("ktrdrd.service");
    assert_eq!(
        exec_start(&service),
        bin.join("ktrdrd").display().to_string()
    );
    verify_units(
        false,
        &root.join("usr/local/share/man"),
        &[service, units.join("ktrdrd.socket")],
        &run_dir,
    );

    // The sysusers entry is read by the real parser (no change to this machine's users).
    let out = run(Command::new(require_tool("systemd-sysusers"))
        .arg(format!("--root={}", root.display()))
        .arg("--dry-run"));
    ok("systemd-sysusers --dry-run", &out);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("Creating user 'ktrdr'"), "{all}");
    assert!(
        !all.contains("ktrdr.conf:"),
        "systemd-sysusers complained: {all}"
    );
}

#[test]
fn install_explains_a_missing_daemon_binary() {
    let tmp = tempdir();
    let out = ctl_local(
        tmp.path(),
        &[
            "daemon",
            "install",
            "--systemd",
            "--prefix",
            tmp.path().to_str().unwrap(),
            "--bin-dir",
            tmp.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("ktrdrd not found") && stderr(&out).contains("hint: "),
        "{}",
        stderr(&out)
    );
    assert!(
        !tmp.path().join(".config").exists(),
        "nothing may be written when ktrdrd is missing"
    );
}

/// Kills the process on drop so a failed assertion leaves nothing running.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    fn wait_exit(&mut self, log: &Path) -> std::process::ExitStatus {
        let mut status = None;
        let exited = eventually(Duration::from_secs(20), || {
            status = self.0.try_wait().ok().flatten();
            status.is_some()
        });
        assert!(exited, "ktrdrd did not exit; log:\n{}", read(log));
        status.expect("exit status")
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("log file")
}

/// systemd-socket-activate binds `listen`, and on the first connection execs ktrdrd with the socket
/// as fd 3. It passes no environment but what `-E` names.
fn socket_activated(tmp: &Path, listen: &Path, configured: &Path) -> (Proc, PathBuf) {
    let log = tmp.join("ktrdrd.log");
    let child = Command::new(require_tool("systemd-socket-activate"))
        .arg("-l")
        .arg(listen)
        .arg("-E")
        .arg("KTRDR_LOG=debug")
        .arg("-E")
        .arg(format!("XDG_CONFIG_HOME={}", tmp.join("config").display()))
        .arg(ktrdrd_bin())
        .arg("--socket")
        .arg(configured)
        .arg("--data-dir")
        .arg(tmp.join("data"))
        .arg("--state-dir")
        .arg(tmp.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file(&log))
        .spawn()
        .expect("spawn systemd-socket-activate");
    let proc = Proc(child);
    assert!(
        eventually(Duration::from_secs(10), || listen.exists()),
        "systemd-socket-activate did not bind {}; log:\n{}",
        listen.display(),
        read(&log)
    );
    (proc, log)
}

fn system_setting(status: &Value, key: &str) -> String {
    status["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "system"))
        .and_then(|s| s["settings"][key].as_str())
        .unwrap_or_else(|| panic!("no system setting {key} in {status}"))
        .to_string()
}

#[test]
fn socket_activation_serves_the_inherited_socket_and_leaves_it_in_place() {
    let tmp = tempdir();
    let socket = tmp.path().join("act").join("ktrdrd.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let (mut proc, log) = socket_activated(tmp.path(), &socket, &socket);

    // The first connection waits in the backlog while ktrdrd starts: it must be answered.
    let health = ctl_json_at(&socket, &["health"]);
    assert_eq!(
        health["pid"].as_u64(),
        Some(u64::from(proc.0.id())),
        "{health}"
    );
    let status = ctl_json_at(&socket, &["status"]);
    assert_eq!(system_setting(&status, "socket_activation"), "yes");

    let out = ctl_at(&socket, &["daemon", "stop"]);
    ok("daemon stop", &out);
    let status = proc.wait_exit(&log);
    assert!(
        status.success(),
        "ktrdrd exited with {status}; log:\n{}",
        read(&log)
    );
    // The service manager owns the socket; the daemon must not unlink it.
    let meta = std::fs::symlink_metadata(&socket)
        .unwrap_or_else(|e| panic!("activated socket was removed ({e}); log:\n{}", read(&log)));
    assert!(meta.file_type().is_socket());
    assert!(
        read(&log).contains("activated=true"),
        "log:\n{}",
        read(&log)
    );
}

#[test]
fn socket_activation_wins_over_the_configured_path() {
    let tmp = tempdir();
    let socket = tmp.path().join("act").join("ktrdrd.sock");
    std::fs::create_dir_all(socket.parent().unwrap()).unwrap();
    let configured = tmp.path().join("elsewhere").join("ktrdrd.sock");
    let (mut proc, log) = socket_activated(tmp.path(), &socket, &configured);

    let status = ctl_json_at(&socket, &["status"]);
    let system = status["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "system"))
        .cloned();
    let endpoint = system.map(|s| s["endpoint"].clone()).unwrap_or_default();
    assert_eq!(endpoint, format!("unix:{}", socket.display()), "{status}");
    assert!(
        !configured.exists(),
        "ktrdrd bound its configured path as well"
    );

    // SIGTERM, as systemd stops a service.
    // SAFETY: signalling our own child.
    unsafe { libc::kill(proc.0.id() as i32, libc::SIGTERM) };
    assert!(proc.wait_exit(&log).success(), "log:\n{}", read(&log));
    assert!(
        socket.exists(),
        "activated socket was removed; log:\n{}",
        read(&log)
    );
}

/// Collects every datagram sent to a notify socket, on a thread: the daemon's sends block once the
/// socket's small queue (net.unix.max_dgram_qlen) is full.
struct NotifySocket {
    path: PathBuf,
    messages: Arc<Mutex<Vec<String>>>,
}

impl NotifySocket {
    fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).expect("bind notify socket");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&messages);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 4096];
            // Ends when the test process does; recv errors only if the socket is gone.
            while let Ok(n) = sock.recv(&mut buf) {
                sink.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        });
        NotifySocket { path, messages }
    }

    /// Every `KEY=value` line received so far, in order.
    fn lines(&self) -> Vec<String> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .flat_map(|m| m.lines().map(str::to_string).collect::<Vec<_>>())
            .collect()
    }

    fn count(&self, line: &str) -> usize {
        self.lines().iter().filter(|l| *l == line).count()
    }

    fn wait_for(&self, what: &str, log: &Path, mut f: impl FnMut(&[String]) -> bool) {
        let seen = eventually(Duration::from_secs(10), || f(&self.lines()));
        assert!(
            seen,
            "no {what} on NOTIFY_SOCKET; got {:?}; log:\n{}",
            self.lines(),
            read(log)
        );
    }
}

/// ktrdrd under `sh`, which sets WATCHDOG_PID to its own pid and then execs ktrdrd: the pid stays the
/// same, exactly as systemd sets it for the main process.
fn notified_daemon(
    tmp: &Path,
    notify: &NotifySocket,
    watchdog_pid: Option<&str>,
) -> (Proc, PathBuf, PathBuf) {
    let socket = tmp.join("run").join("ktrdrd.sock");
    let log = tmp.join("ktrdrd.log");
    let script = match watchdog_pid {
        None => r#"export WATCHDOG_PID=$$; exec "$0" "$@""#.to_string(),
        Some(pid) => format!(r#"export WATCHDOG_PID={pid}; exec "$0" "$@""#),
    };
    let child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(ktrdrd_bin())
        .arg("--socket")
        .arg(&socket)
        .arg("--data-dir")
        .arg(tmp.join("data"))
        .arg("--state-dir")
        .arg(tmp.join("state"))
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .env_remove("KTRDR_SOCKET")
        .env("XDG_CONFIG_HOME", tmp.join("config"))
        .env("KTRDR_LOG", "debug")
        .env("NOTIFY_SOCKET", &notify.path)
        .env("WATCHDOG_USEC", "200000")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file(&log))
        .spawn()
        .expect("spawn ktrdrd");
    (Proc(child), socket, log)
}

#[test]
fn sd_notify_readiness_watchdog_and_stopping() {
    let tmp = tempdir();
    let notify = NotifySocket::bind(tmp.path());
    let (mut proc, socket, log) = notified_daemon(tmp.path(), &notify, None);

    notify.wait_for("READY=1", &log, |l| l.iter().any(|l| l == "READY=1"));
    let expected_status = format!("STATUS=serving on {}", socket.display());
    assert!(
        notify.lines().contains(&expected_status),
        "{:?}",
        notify.lines()
    );
    // READY=1 is sent once the socket is bound: a client can connect at once.
    ok("ping after READY=1", &ctl_at(&socket, &["ping"]));

    // WATCHDOG_USEC=200000 means a ping every 100 ms; several prove it repeats.
    notify.wait_for("3 x WATCHDOG=1", &log, |l| {
        l.iter().filter(|l| *l == "WATCHDOG=1").count() >= 3
    });

    ok("daemon stop", &ctl_at(&socket, &["daemon", "stop"]));
    notify.wait_for("STOPPING=1", &log, |l| l.iter().any(|l| l == "STOPPING=1"));
    assert!(proc.wait_exit(&log).success(), "log:\n{}", read(&log));
    let lines = notify.lines();
    let ready = lines.iter().position(|l| l == "READY=1");
    let stopping = lines.iter().position(|l| l == "STOPPING=1");
    assert!(
        ready < stopping,
        "READY=1 must come before STOPPING=1: {lines:?}"
    );
}

#[test]
fn watchdog_pings_only_when_watchdog_pid_names_the_daemon() {
    let tmp = tempdir();
    let notify = NotifySocket::bind(tmp.path());
    // pid 1 is never ours: the watchdog belongs to another process, so ktrdrd must not ping.
    let (mut proc, socket, log) = notified_daemon(tmp.path(), &notify, Some("1"));
    notify.wait_for("READY=1", &log, |l| l.iter().any(|l| l == "READY=1"));
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(notify.count("WATCHDOG=1"), 0, "{:?}", notify.lines());
    ok("daemon stop", &ctl_at(&socket, &["daemon", "stop"]));
    assert!(proc.wait_exit(&log).success(), "log:\n{}", read(&log));
}

/// The plist as JSON, read by python's plistlib after libplist's plistutil has converted it to the
/// binary format and back (plistutil 2.2 exits 0 even on a parse error, so its output is checked).
fn parse_plist(path: &Path, scratch: &Path) -> Value {
    let plistutil = require_tool("plistutil");
    let bin = scratch.join("agent.bplist");
    let out = run(Command::new(&plistutil)
        .arg("-i")
        .arg(path)
        .arg("-o")
        .arg(&bin));
    ok("plistutil", &out);
    let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
    assert!(
        size > 0 && !stdout(&out).contains("ERROR") && !stderr(&out).contains("ERROR"),
        "plistutil cannot parse {}: {}{}",
        path.display(),
        stdout(&out),
        stderr(&out)
    );
    let plistlib = |file: &Path| -> Value {
        let script =
            "import json, plistlib, sys\nprint(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))";
        let out = run(Command::new(require_tool("python3"))
            .arg("-c")
            .arg(script)
            .arg(file));
        ok("python3 plistlib", &out);
        serde_json::from_slice(&out.stdout).expect("plistlib JSON")
    };
    let parsed = plistlib(path);
    assert_eq!(
        parsed,
        plistlib(&bin),
        "libplist and plistlib read {} differently",
        path.display()
    );
    parsed
}

fn assert_agent_keys(agent: &Value) {
    assert_eq!(agent["Label"], "com.ktrdr.ktrdrd", "{agent}");
    assert_eq!(agent["RunAtLoad"], true);
    assert_eq!(agent["KeepAlive"]["SuccessfulExit"], false);
    assert_eq!(agent["ProcessType"], "Background");
    assert_eq!(agent["EnvironmentVariables"]["KTRDR_LOG"], "info");
    for key in ["StandardOutPath", "StandardErrorPath"] {
        assert!(
            agent[key]
                .as_str()
                .is_some_and(|p| p.ends_with("/Library/Logs/ktrdr/ktrdrd.log")),
            "{key}: {agent}"
        );
    }
    let socket = agent["EnvironmentVariables"]["KTRDR_SOCKET"]
        .as_str()
        .unwrap_or("");
    assert!(
        socket.ends_with("/Library/Application Support/ktrdr/run/ktrdrd.sock"),
        "{agent}"
    );
    assert_eq!(
        agent["ProgramArguments"].as_array().map(Vec::len),
        Some(1),
        "{agent}"
    );
}

#[test]
fn launchd_agent_template_and_rendered_plist_are_valid() {
    let tmp = tempdir();
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../launchd/com.ktrdr.ktrdrd.plist");
    assert_agent_keys(&parse_plist(&template, tmp.path()));

    let home = tmp.path().join("home");
    let out = ctl_local(
        tmp.path(),
        &[
            "daemon",
            "install",
            "--launchd",
            "--prefix",
            home.to_str().unwrap(),
        ],
    );
    ok("daemon install --launchd", &out);
    assert!(
        stdout(&out).contains("launchctl bootstrap gui/"),
        "{}",
        stdout(&out)
    );
    let plist = home.join("Library/LaunchAgents/com.ktrdr.ktrdrd.plist");
    let agent = parse_plist(&plist, tmp.path());
    assert_agent_keys(&agent);
    assert_eq!(
        agent["ProgramArguments"][0],
        ktrdrd_bin().display().to_string()
    );
    // launchd expands neither ~ nor $HOME: every path must be absolute and under the chosen home.
    let home_str = home.display().to_string();
    assert!(
        agent["StandardErrorPath"]
            .as_str()
            .is_some_and(|p| p.starts_with(&home_str)),
        "{agent}"
    );
    assert!(
        home.join("Library/Logs/ktrdr").is_dir(),
        "launchd needs the log directory to exist"
    );
    assert!(
        !read(&plist).contains("@@"),
        "placeholder left in {}",
        plist.display()
    );
}

#[test]
fn completions_and_man_page_need_no_daemon() {
    let tmp = tempdir();
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["completions", "fish"],
        &["man"],
    ] {
        let out = ctl_local(tmp.path(), args);
        ok(&format!("ktrdrctl {args:?}"), &out);
        let text = stdout(&out);
        assert!(
            text.len() > 200 && text.contains("ktrdrctl"),
            "ktrdrctl {args:?} printed: {text}"
        );
        // Completions come from the real command line, so they know every command group.
        assert!(
            text.contains("daemon") && text.contains("ops"),
            "ktrdrctl {args:?} misses commands"
        );
    }
    let man = stdout(&ctl_local(tmp.path(), &["man"]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH ktrdrctl"),
        "not roff: {}",
        &man[..man.len().min(200)]
    );
    assert!(ktrdrctl_bin().exists());
}
