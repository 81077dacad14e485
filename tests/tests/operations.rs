//! End-to-end tests of operations: start, follow, detach, watch, cancel, queue, restart.

use ktrdr_tests::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn start_detached(d: &Daemon, seconds: &str, steps: &str) -> u64 {
    let v = d.ctl_json(&[
        "ops",
        "demo",
        "--seconds",
        seconds,
        "--steps",
        steps,
        "--detach",
    ]);
    v["id"].as_u64().expect("operation id")
}

fn state(d: &Daemon, id: u64) -> String {
    d.ctl_json(&["ops", "show", &id.to_string()])["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn foreground_follow_streams_json_lines_and_ends_with_the_result() {
    let d = Daemon::start();
    let out = d.ctl(&["--json", "ops", "demo", "--seconds", "0.4", "--steps", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(lines.len() >= 2, "{lines:?}");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l["event"] == "update")
    );
    let last = &lines[lines.len() - 1];
    assert_eq!(last["event"], "final");
    assert_eq!(last["operation"]["state"], "completed");
    assert_eq!(last["operation"]["result"]["steps"], 4);
    assert_eq!(last["operation"]["params"]["seconds"], 0.4);
    assert_eq!(last["operation"]["progress"]["percent"], 100.0);
}

#[test]
fn detach_then_reattach_with_two_watchers() {
    let d = Daemon::start();
    let id = start_detached(&d, "1.0", "10");
    let watch = || {
        Command::new(ktrdrctl_bin())
            .arg("--socket")
            .arg(&d.socket)
            .args(["--json", "ops", "watch", &id.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (watch(), watch());
    for w in [a, b] {
        let out = w.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["operation"]["state"], "completed");
        assert_eq!(last["operation"]["id"].as_u64(), Some(id));
        assert!(
            text.lines().count() >= 2,
            "each watcher saw progress: {text}"
        );
    }
    // Watching a finished operation answers at once with its record.
    let v = d.ctl(&["--json", "ops", "watch", &id.to_string()]);
    assert!(v.status.success());
}

#[test]
fn cancel_a_running_operation_and_a_finished_one() {
    let d = Daemon::start();
    let id = start_detached(&d, "30", "300");
    assert!(eventually(Duration::from_secs(5), || state(&d, id) == "running"));
    let watcher = Command::new(ktrdrctl_bin())
        .arg("--socket")
        .arg(&d.socket)
        .args(["ops", "watch", &id.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let v = d.ctl_json(&["ops", "cancel", &id.to_string()]);
    assert_eq!(v["state"], "cancelled", "{v}");
    assert_eq!(v["error"]["kind"], "cancelled");
    let out = watcher.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(7),
        "watcher exits with the cancelled code: {}",
        stderr(&out)
    );

    let again = d.ctl(&["ops", "cancel", &id.to_string()]);
    assert_eq!(again.status.code(), Some(6));
    assert!(
        stderr(&again).contains("already cancelled"),
        "{}",
        stderr(&again)
    );

    let missing = d.ctl(&["ops", "cancel", "999999"]);
    assert_eq!(missing.status.code(), Some(5));
}

#[test]
fn excess_operations_queue_in_order_with_positions() {
    let d = Daemon::start_with(&[("KTRDR_OPS_LIMITS", "demo=1")]);
    let first = start_detached(&d, "30", "300");
    let second = start_detached(&d, "0.2", "2");
    let third = start_detached(&d, "0.2", "2");
    let list = d.ctl_json(&["ops", "list", "--kind", "demo"]);
    let find = |id: u64| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(find(first)["state"], "running");
    assert_eq!(find(second)["state"], "pending");
    assert_eq!(find(second)["queue_position"], 1);
    assert_eq!(find(third)["queue_position"], 2);
    let pending = d.ctl_json(&["ops", "list", "--state", "pending"]);
    assert_eq!(pending["total"], 2);

    // Cancelling a queued job removes it from the queue; the next one moves up.
    let v = d.ctl_json(&["ops", "cancel", &second.to_string()]);
    assert_eq!(v["state"], "cancelled");
    assert_eq!(
        d.ctl_json(&["ops", "show", &third.to_string()])["queue_position"],
        1
    );

    // When the running one ends, the queue runs in order.
    d.ctl_json(&["ops", "cancel", &first.to_string()]);
    assert!(eventually(Duration::from_secs(10), || state(&d, third) == "completed"));
    let stats = d.ctl_json(&["stats"]);
    let ops = stats["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "operations")
        .unwrap()
        .clone();
    assert_eq!(ops["counters"]["cancelled"], 2);
    assert_eq!(ops["counters"]["completed"], 1);
}

#[test]
fn sigkill_mid_operation_marks_it_interrupted_and_keeps_history() {
    let mut d = Daemon::start();
    let done = start_detached(&d, "0.1", "1");
    assert!(eventually(Duration::from_secs(5), || state(&d, done) == "completed"));
    let failed = d.ctl(&[
        "ops",
        "demo",
        "--seconds",
        "0.1",
        "--steps",
        "2",
        "--fail-at",
        "1",
    ]);
    assert_eq!(failed.status.code(), Some(10));
    let long = start_detached(&d, "60", "600");
    assert!(eventually(Duration::from_secs(5), || state(&d, long) == "running"));

    d.signal(libc::SIGKILL);
    d.wait_exit(Duration::from_secs(5));
    d.spawn();

    let rec = d.ctl_json(&["ops", "show", &long.to_string()]);
    assert_eq!(rec["state"], "interrupted", "{rec}");
    assert!(
        rec["error"]["message"]
            .as_str()
            .unwrap()
            .contains("daemon stopped")
    );
    assert_eq!(state(&d, done), "completed");
    let list = d.ctl_json(&["ops", "list"]);
    assert_eq!(list["total"], 3);
    let states: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["interrupted", "failed", "completed"]);
    // New ids never reuse old ones.
    let next = start_detached(&d, "0", "1");
    assert!(next > long);
}

#[test]
fn ctrl_c_while_following_detaches_and_the_job_keeps_running() {
    let d = Daemon::start();
    let mut child = Command::new(ktrdrctl_bin())
        .arg("--socket")
        .arg(&d.socket)
        .args(["--json", "ops", "demo", "--seconds", "2", "--steps", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    let id = first["operation"]["id"].as_u64().unwrap();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let last: serde_json::Value = serde_json::from_str(rest.last().unwrap()).unwrap();
    assert_eq!(last["event"], "detached");
    assert_eq!(last["operation_id"].as_u64(), Some(id));
    assert!(eventually(Duration::from_secs(10), || state(&d, id) == "completed"));
}

#[test]
fn failed_operation_reports_its_error_kind_and_exit_code() {
    let d = Daemon::start();
    let out = d.ctl(&[
        "ops",
        "demo",
        "--seconds",
        "0.2",
        "--steps",
        "4",
        "--fail-at",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(10));
    assert!(
        stderr(&out).contains("demo failure requested at step 2"),
        "{}",
        stderr(&out)
    );
    let human = d.ctl(&["ops", "list"]);
    assert!(stdout(&human).contains("failed"));
}

#[test]
fn graceful_stop_cancels_running_operations_and_records_it() {
    let mut d = Daemon::start();
    let id = start_detached(&d, "60", "600");
    assert!(eventually(Duration::from_secs(5), || state(&d, id) == "running"));
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(Duration::from_secs(15)).code(), Some(0));
    d.spawn();
    let rec = d.ctl_json(&["ops", "show", &id.to_string()]);
    assert_eq!(rec["state"], "cancelled", "{rec}");
}
