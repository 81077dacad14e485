//! Against a real one-node Slurm cluster (scripts/slurm-cluster.sh, as root): a 4-task array run
//! to completion, a running task requeued and run again, an array cancelled, a submission to an
//! unknown partition rejected, and a submission with slurmctld stopped.
//!
//! Needs root and the packages of scripts/system-deps.sh; without them the test fails (a skipped
//! test would hide that nothing was checked). Slurm's ports are fixed, so everything is one test
//! function: one cluster at a time.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ktrdr_slurm::{ExitCode, JobState, Slurm, SlurmError, Submission, TaskState};

/// A running cluster in a temporary directory, stopped when dropped (also when a test panics,
/// after printing the ends of its logs).
struct Cluster {
    script: PathBuf,
    conf: PathBuf,
    running: bool,
    // Last: removed after the daemons are stopped.
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slurm-cluster.sh");
        let dir = tempfile::Builder::new()
            .prefix("ktrdr-slurm-")
            .tempdir()
            .unwrap();
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{} start failed:\n{stderr}",
            script.display()
        );
        let conf = stdout
            .trim()
            .strip_prefix("export SLURM_CONF=")
            .unwrap_or_else(|| panic!("unexpected output of start: {stdout:?}"));
        Cluster {
            script,
            conf: PathBuf::from(conf),
            running: true,
            dir,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn stop(&mut self) {
        if !self.running {
            return;
        }
        self.running = false;
        let status = Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!("slurm-cluster.sh stop failed: {status:?}");
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for log in ["slurmctld.log", "slurmd.log"] {
                let text = fs::read_to_string(self.path().join(log)).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(25).collect();
                eprintln!("---- end of {log}");
                for line in tail.iter().rev() {
                    eprintln!("{line}");
                }
            }
        }
        self.stop();
    }
}

/// Fails (never skips) when the test cannot run here, saying what to do.
fn require_root_and_slurm() {
    let uid = Command::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "the Slurm cluster test must run as root (it starts slurmctld, slurmd and munged); \
         CI runs it as root"
    );
    // Without a slurm.conf the commands are installed but unconfigured: that is fine here.
    if let Err(e @ SlurmError::NotInstalled { .. }) = Slurm::new().check() {
        panic!("{e}\nrun `bash scripts/system-deps.sh` as root first");
    }
    for daemon in [
        "/usr/sbin/slurmctld",
        "/usr/sbin/slurmd",
        "/usr/sbin/munged",
    ] {
        assert!(
            Path::new(daemon).exists(),
            "{daemon} is missing: run `bash scripts/system-deps.sh` as root first"
        );
    }
}

/// Each start appends "start JOB_ID RESTART_COUNT" to results/task-INDEX.txt, then the task
/// sleeps SLEEP seconds (default 1 to 3, by index) and writes results/done-INDEX.txt.
const TASK_SCRIPT: &str = r#"#!/bin/bash
set -eu
i=$SLURM_ARRAY_TASK_ID
echo "start $SLURM_JOB_ID ${SLURM_RESTART_COUNT:-0}" >> "$RESULTS/task-$i.txt"
sleep "${SLEEP:-$(( i % 3 + 1 ))}"
echo done > "$RESULTS/done-$i.txt"
"#;

fn submission(dir: &Path, name: &str, last: u32, env: Vec<(String, String)>) -> Submission {
    Submission {
        job_name: name.into(),
        script: dir.join("task.sh"),
        array: (0..=last).collect(),
        max_running: None,
        partition: None,
        account: None,
        time_limit: Some("10:00".into()),
        cpus_per_task: Some(1),
        mem: None,
        gres: None,
        output: dir.join("logs/%A_%a.log").to_string_lossy().into_owned(),
        requeue: true,
        extra_args: vec![format!("--chdir={}", dir.display())],
        env,
    }
}

/// Polls the array until `done` holds for its tasks, or fails with the last answer.
fn wait_for(
    slurm: &Slurm,
    id: u64,
    within: Duration,
    what: &str,
    done: impl Fn(&[TaskState]) -> bool,
) -> Vec<TaskState> {
    let deadline = Instant::now() + within;
    loop {
        let tasks = slurm.queue(id).unwrap();
        if done(&tasks) {
            return tasks;
        }
        assert!(
            Instant::now() < deadline,
            "array {id}: not {what} within {within:?}; last: {tasks:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn job_arrays_on_a_real_cluster() {
    require_root_and_slurm();

    let started = Instant::now();
    let mut cluster = Cluster::start();
    eprintln!("cluster up in {:?}", started.elapsed());
    let dir = cluster.path().to_path_buf();
    let results = dir.join("results");
    fs::create_dir_all(&results).unwrap();
    fs::create_dir_all(dir.join("logs")).unwrap();
    fs::write(dir.join("task.sh"), TASK_SCRIPT).unwrap();
    let results_env = ("RESULTS".to_string(), results.display().to_string());

    let slurm = Slurm::with_conf(&cluster.conf);
    let version = slurm.check().unwrap();
    assert!(version.major >= 22, "{version:?}");
    assert_eq!(slurm.partitions().unwrap(), ["debug", "batch"]);
    let garbage = dir.join("garbage.conf");
    fs::write(&garbage, "not a slurm.conf\n").unwrap();
    match Slurm::with_conf(&garbage).check() {
        Err(SlurmError::NoConfig { detail, .. }) => {
            assert!(
                detail.contains("Unable to process configuration file"),
                "{detail}"
            )
        }
        other => panic!("expected NoConfig, got {other:?}"),
    }

    // A 4-task array, followed until every task has finished.
    let started = Instant::now();
    let id = slurm
        .submit(&submission(&dir, "four", 3, vec![results_env.clone()]))
        .unwrap();
    let tasks = wait_for(&slurm, id, Duration::from_secs(60), "finished", |t| {
        t.len() == 4 && t.iter().all(|t| t.state.is_finished())
    });
    eprintln!("4-task array {id} done in {:?}", started.elapsed());
    for (i, task) in tasks.iter().enumerate() {
        assert_eq!(task.task, Some(i as u32));
        assert_eq!(task.state, JobState::Completed, "{task:?}");
        assert_eq!(task.exit_code, Some(ExitCode::default()));
        assert_eq!(task.restarts, 0);
        let job_id = task.job_id.expect("a finished task has its own job id");
        assert_eq!(
            lines(&results.join(format!("task-{i}.txt"))),
            [format!("start {job_id} 0")]
        );
        assert!(results.join(format!("done-{i}.txt")).exists());
        assert!(dir.join(format!("logs/{id}_{i}.log")).exists());
    }
    let info = slurm
        .show(&format!("{id}_2"))
        .unwrap()
        .expect("kept for MinJobAge");
    assert_eq!(
        (info.state, info.exit_code),
        (JobState::Completed, ExitCode::default())
    );

    // A long array: requeue a running task; it runs again, appending to the same files.
    let long_results = dir.join("results-long");
    fs::create_dir_all(&long_results).unwrap();
    let long_env = vec![
        ("RESULTS".to_string(), long_results.display().to_string()),
        ("SLEEP".into(), "300".into()),
    ];
    let long = slurm
        .submit(&submission(&dir, "long", 1, long_env))
        .unwrap();
    wait_for(&slurm, long, Duration::from_secs(30), "running", |t| {
        t.iter()
            .any(|t| t.task == Some(0) && t.state == JobState::Running)
    });
    let task0 = long_results.join("task-0.txt");
    // Running in slurmctld's eyes may come a moment before the script's first line.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines(&task0).is_empty() {
        assert!(
            Instant::now() < deadline,
            "task {long}_0 runs but wrote nothing"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let requeued_at = Instant::now();
    slurm.requeue(&format!("{long}_0")).unwrap();
    let after = slurm.queue(long).unwrap();
    let task = after.iter().find(|t| t.task == Some(0)).unwrap();
    assert_eq!(task.restarts, 1, "{task:?}");
    assert!(
        matches!(
            task.state,
            JobState::Completing | JobState::Pending | JobState::Requeued
        ),
        "{task:?}"
    );
    let rerun = wait_for(&slurm, long, Duration::from_secs(60), "rerun", |t| {
        t.iter()
            .any(|t| t.task == Some(0) && t.state == JobState::Running && t.restarts == 1)
    });
    eprintln!(
        "requeued task running again after {:?}",
        requeued_at.elapsed()
    );
    let job0 = rerun[0].job_id.unwrap();
    // Each task keeps its job id across restarts; the rerun sees SLURM_RESTART_COUNT=1.
    let deadline = Instant::now() + Duration::from_secs(10);
    while lines(&task0).len() < 2 {
        assert!(Instant::now() < deadline, "{:?}", lines(&task0));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        lines(&task0),
        [format!("start {job0} 0"), format!("start {job0} 1")]
    );
    let info = slurm.show(&format!("{long}_0")).unwrap().unwrap();
    assert_eq!((info.state, info.restarts), (JobState::Running, 1));
    match slurm.requeue("999999") {
        Err(SlurmError::UnknownJob(job)) => assert_eq!(job, "999999"),
        other => panic!("expected UnknownJob, got {other:?}"),
    }

    // Cancel the array: every task ends as CANCELLED, none is left to run.
    slurm.cancel(long).unwrap();
    let cancelled = wait_for(&slurm, long, Duration::from_secs(60), "cancelled", |t| {
        t.len() == 2 && t.iter().all(|t| t.state.is_finished())
    });
    assert!(
        cancelled.iter().all(|t| t.state == JobState::Cancelled),
        "{cancelled:?}"
    );
    let info = slurm.show(&format!("{long}_1")).unwrap().unwrap();
    assert_eq!(
        (info.state, info.exit_code.signal),
        (JobState::Cancelled, 15)
    );
    // scancel says nothing for a job that has already ended.
    slurm.cancel(long).unwrap();
    assert_eq!(slurm.show("999999").unwrap(), None);

    // slurmctld refuses an unknown partition; sbatch's reason comes back.
    let mut bad = submission(&dir, "bad", 0, vec![results_env]);
    bad.partition = Some("nosuch".into());
    match slurm.submit(&bad) {
        Err(SlurmError::Rejected(message)) => {
            assert!(
                message.contains("Invalid partition name specified"),
                "{message}"
            )
        }
        other => panic!("expected Rejected, got {other:?}"),
    }

    // With slurmctld stopped, a submission fails as Unreachable (after sbatch's ~9 s of retries).
    cluster.stop();
    match slurm.submit(&submission(&dir, "late", 0, vec![])) {
        Err(SlurmError::Unreachable { stderr, .. }) => {
            assert!(
                stderr.contains("Unable to contact slurm controller"),
                "{stderr}"
            )
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}
