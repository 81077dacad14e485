//! `ktrdrctl top` driven as a person would: in a real terminal (tmux, from
//! `scripts/system-deps.sh`), read with capture-pane, quit with `q` and with Ctrl-C; the terminal
//! must be back on its main screen afterwards and the exit status 0.

use ktrdr_tests::{Daemon, eventually, ktrdrctl_bin, require_tool, stderr};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

/// A tmux server of its own (`-L`), killed on drop.
struct Tmux {
    bin: PathBuf,
    socket: String,
}

impl Tmux {
    fn new(name: &str) -> Tmux {
        Tmux {
            bin: require_tool("tmux"),
            socket: format!("ktrdr-top-{name}-{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "top"]).stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn top_session(d: &Daemon, name: &str) -> Tmux {
    let t = Tmux::new(name);
    let ctl = ktrdrctl_bin();
    // Marks before and after, so the test sees the shell's screen come back and top's status.
    let script = format!(
        "echo before-top; '{}' --socket '{}' top; echo \"top exited $?\"; sleep 600",
        ctl.display(),
        d.socket.display()
    );
    let o = t.run(&[
        "new-session",
        "-d",
        "-s",
        "top",
        "-x",
        "110",
        "-y",
        "32",
        "sh",
        "-c",
        &script,
    ]);
    assert!(o.status.success(), "tmux: {}", stderr(&o));
    t
}

fn check_quits(key: &str) {
    let d = Daemon::start();
    let o = d.ctl(&[
        "ops",
        "demo",
        "--seconds",
        "60",
        "--steps",
        "60",
        "--detach",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = top_session(&d, key);
    let mut screen = String::new();
    let drawn = eventually(Duration::from_secs(20), || {
        screen = t.screen();
        screen.contains("Operations: 1 running") && screen.contains("slept step")
    });
    assert!(drawn, "top did not draw:\n{screen}");
    for want in [
        "ktrdrd pid",
        "demo",
        "slept step",
        "Requests",
        "system",
        "Bar cache",
        "pacing budget 60/60",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    // It refreshes: the request count of `operations` grows by one `ops list` per second.
    let before = screen.clone();
    assert!(
        eventually(Duration::from_secs(5), || t.screen() != before),
        "the screen never changed"
    );
    let o = t.run(&["send-keys", "-t", "top", key]);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = eventually(Duration::from_secs(10), || {
        screen = t.screen();
        screen.contains("top exited")
    });
    assert!(back, "top did not exit on {key}:\n{screen}");
    assert!(
        screen.contains("before-top"),
        "main screen restored:\n{screen}"
    );
    assert!(screen.contains("top exited 0"), "{screen}");
    assert!(
        !screen.contains("REQ/S"),
        "the alternate screen is gone:\n{screen}"
    );
}

#[test]
fn top_draws_refreshes_and_quits_on_q() {
    check_quits("q");
}

#[test]
fn top_quits_on_ctrl_c() {
    check_quits("C-c");
}
