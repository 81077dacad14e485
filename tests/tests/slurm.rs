//! Sweeps through a real one-node Slurm cluster (Debian's slurmctld, slurmd and munge, installed by
//! scripts/system-deps.sh, started here by scripts/slurm-cluster.sh): the cells run as one job
//! array of `ktrdrd job run` tasks, and
//! - the ranking equals the same sweep run by the local executor;
//! - a task requeued in the middle of its training (`scontrol requeue`) resumes from its checkpoint;
//! - `sweep cancel` leaves no job in `squeue`;
//! - an unknown partition, or no Slurm at all, is a clear error before any cell starts.
//!
//! One test function: Slurm's ports are fixed, so one cluster at a time.

use ktrdr_tests::sweeps::{last_json_line, write_sweep};
use ktrdr_tests::{Daemon, eventually, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Cluster {
    dir: tempfile::TempDir,
    conf: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slurm-cluster.sh")
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::Builder::new()
            .prefix("ktrdr-slurm")
            .tempdir()
            .unwrap();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("run slurm-cluster.sh");
        assert!(
            out.status.success(),
            "the test cluster did not start (run scripts/system-deps.sh as root first): {}",
            stderr(&out)
        );
        let conf = dir.path().join("slurm.conf");
        assert!(stdout(&out).contains("SLURM_CONF="), "{}", stdout(&out));
        Cluster { dir, conf }
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SLURM_CONF", &self.conf);
        c
    }

    /// Every job id squeue lists.
    fn queued(&self) -> String {
        let out = self
            .cmd("squeue")
            .args(["-h", "-o", "%i %T"])
            .output()
            .unwrap();
        stdout(&out)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

fn daemon(c: &Cluster, extra: &[(&str, &str)]) -> Daemon {
    let conf = c.conf.display().to_string();
    let mut env = vec![
        ("SLURM_CONF", conf.as_str()),
        ("KTRDR_SLURM_POLL_SECS", "1"),
    ];
    env.extend_from_slice(extra);
    let d = Daemon::start_with(&env);
    d.import_eurusd_hourly();
    d
}

fn run(d: &Daemon, file: &str, executor: &str) -> Value {
    let out = d.ctl(&["--json", "sweep", "run", file, "--executor", executor]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), d.log_text());
    let last = last_json_line(&stdout(&out));
    assert_eq!(last["operation"]["state"], "completed", "{last}");
    last
}

fn ranking(v: &Value) -> Vec<(String, String, f64, f64, u64, u64)> {
    v["sweep"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["label"].as_str().unwrap().to_string(),
                r["timeframe"].as_str().unwrap().to_string(),
                r["mean"].as_f64().unwrap_or(f64::NAN),
                r["worst"].as_f64().unwrap_or(f64::NAN),
                r["windows"].as_u64().unwrap(),
                r["trades"].as_u64().unwrap(),
            )
        })
        .collect()
}

const SIX_CELLS: &str = "grid:\n  indicators.rsi.period: [7, 14, 21]\nsymbols: [EURUSD]\ntimeframes: [1h]\nevaluation:\n  walk_forward: {from: 2017-05-01, to: 2017-11-01, train: 90d, test: 30d, step: 60d}\nrank_by: return\n";

#[test]
fn sweeps_run_through_a_real_slurm_cluster() {
    let cluster = Cluster::start();
    let mut d = daemon(&cluster, &[("KTRDR_SLURM_PARTITION", "debug")]);

    // 1. The same 6-cell sweep locally and through Slurm: the same ranking.
    let file = write_sweep(&d, "six", 4, SIX_CELLS);
    let local = run(&d, &file, "local");
    let slurm = run(&d, &file, "slurm");
    assert_eq!(ranking(&slurm), ranking(&local));
    let result = &slurm["operation"]["result"];
    assert_eq!(result["completed"], 6, "{result}");
    assert!(result["slurm_job"].as_u64().is_some(), "{result}");
    for o in result["outcomes"].as_array().unwrap() {
        let on = o["result"]["ran_on"].as_str().unwrap();
        assert!(on.starts_with("slurm ") && on.contains(" on "), "{on}");
    }
    assert!(
        eventually(Duration::from_secs(10), || cluster
            .queued()
            .trim()
            .is_empty()),
        "{}",
        cluster.queued()
    );

    // 2. A task requeued in the middle of its training continues from its checkpoint.
    let one = "sets:\n  - {indicators.rsi.period: 9}\nsymbols: [EURUSD]\ntimeframes: [1h]\nevaluation:\n  split: {train: [2017-05-01, 2017-08-01], test: [2017-08-01, 2017-09-01]}\n";
    let file = write_sweep(&d, "requeue", 150, one);
    let started = d.ctl_json(&["sweep", "run", &file, "--executor", "slurm", "--detach"]);
    let id = started["id"].as_u64().unwrap().to_string();
    let cell_running = |min_epoch: u64| {
        let ops = d.ctl_json(&["ops", "list", "--kind", "sweep_cell", "--limit", "1"]);
        let o = &ops["items"][0];
        o["state"] == "running" && o["progress"]["step"].as_u64().unwrap_or(0) >= min_epoch
    };
    assert!(
        eventually(Duration::from_secs(120), || cell_running(8)),
        "the task never got to epoch 8; log:\n{}",
        d.log_text()
    );
    let shown = d.ctl_json(&["sweep", "show", &id]);
    let job = shown["record"]["progress"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let array =
        std::fs::read_to_string(d.state_dir().join("sweeps").join(&id).join("slurm_jobs")).unwrap();
    let array = array.lines().last().unwrap().trim().to_string();
    let requeue = cluster
        .cmd("scontrol")
        .args(["requeue", &format!("{array}_0")])
        .output()
        .unwrap();
    assert!(requeue.status.success(), "{} ({job})", stderr(&requeue));
    let watched = d.ctl(&["--json", "ops", "watch", &id]);
    assert!(
        watched.status.success(),
        "{}\n{}",
        stderr(&watched),
        d.log_text()
    );
    let last = last_json_line(&stdout(&watched));
    let r = &last["operation"]["result"]["outcomes"][0]["result"];
    assert!(r["resumed_from_epoch"].as_u64().unwrap_or(0) >= 7, "{last}");
    assert_eq!(r["epochs_run"], 150, "{r}");
    let log = std::fs::read_to_string(
        d.state_dir()
            .join("sweeps")
            .join(&id)
            .join("cells")
            .join("0")
            .join("task.log"),
    )
    .unwrap();
    assert_eq!(log.matches("cell starting").count(), 2, "{log}");
    assert!(log.contains("resumed from its checkpoint"), "{log}");

    // 3. sweep cancel: every cell cancelled, nothing left in squeue.
    let file = write_sweep(&d, "cancel", 2000, SIX_CELLS);
    let started = d.ctl_json(&["sweep", "run", &file, "--executor", "slurm", "--detach"]);
    let id = started["id"].as_u64().unwrap().to_string();
    assert!(
        eventually(Duration::from_secs(60), || cluster
            .queued()
            .contains("RUNNING")),
        "{}",
        cluster.queued()
    );
    let out = d.ctl(&["sweep", "cancel", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(eventually(Duration::from_secs(30), || {
        d.ctl_json(&["ops", "show", &id])["state"] == "cancelled"
    }));
    assert!(
        eventually(Duration::from_secs(20), || cluster
            .queued()
            .trim()
            .is_empty()),
        "left in squeue: {}",
        cluster.queued()
    );

    // 4. Problems before anything is submitted: an unknown partition, no Slurm at all.
    d.signal(libc::SIGTERM);
    d.wait_exit(Duration::from_secs(20));
    let bad = daemon(&cluster, &[("KTRDR_SLURM_PARTITION", "nope")]);
    let file = write_sweep(&bad, "bad", 2, SIX_CELLS);
    let out = bad.ctl(&["sweep", "run", &file, "--executor", "slurm"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no partition \"nope\""),
        "{}",
        stderr(&out)
    );
    let none = Daemon::start_with(&[("PATH", "/nonexistent")]);
    none.import_eurusd_hourly();
    let file = write_sweep(&none, "none", 2, SIX_CELLS);
    let out = none.ctl(&["sweep", "run", &file, "--executor", "slurm"]);
    assert_eq!(out.status.code(), Some(8), "{}", stderr(&out));
    assert!(stderr(&out).contains("sbatch"), "{}", stderr(&out));
    assert_eq!(
        none.ctl_json(&["sweep", "list"])["items"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}
