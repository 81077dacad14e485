//! The readers on output captured from a real Slurm 22.05.8 cluster (tests/fixtures/capture.sh:
//! a blocker job holding both CPUs, then array 2 = `--array=0-5%2` whose task 0 is requeued while
//! running, then array 8 = `--array=0-9%1` cancelled with task 0 running, then job 10 exiting 0
//! and job 11 exiting 3; last, squeue with slurmctld stopped).

use ktrdr_slurm::{
    ExitCode, JobState, SlurmError, TaskState, parse_queue, parse_show_job, show::JobInfo,
};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn queue(name: &str) -> Vec<TaskState> {
    parse_queue(&fixture(name)).unwrap()
}

/// task, job id, state, reason, restarts.
type Row<'a> = (Option<u32>, Option<u64>, JobState, &'a str, u32);

fn of_array(tasks: &[TaskState], array_job: u64) -> Vec<Row<'_>> {
    tasks
        .iter()
        .filter(|t| t.array_job == array_job)
        .map(|t| {
            (
                t.task,
                t.job_id,
                t.state.clone(),
                t.reason.as_str(),
                t.restarts,
            )
        })
        .collect()
}

fn show(name: &str) -> JobInfo {
    let mut records = parse_show_job(&fixture(name)).unwrap();
    assert_eq!(records.len(), 1, "{name}");
    records.remove(0)
}

#[test]
fn a_waiting_array_is_one_record_expanded_to_its_tasks() {
    let tasks = queue("squeue-pending-array.json");
    // The blocker: a plain job, its own "array" of one with no task index.
    assert_eq!(
        of_array(&tasks, 1),
        [(None, Some(1), JobState::Running, "None", 0)]
    );
    let pending: Vec<_> = (0..=5)
        .map(|i| (Some(i), None, JobState::Pending, "None", 0))
        .collect();
    assert_eq!(of_array(&tasks, 2), pending);
}

#[test]
fn started_tasks_get_their_own_records_and_job_ids() {
    let tasks = queue("squeue-running-array.json");
    let limit = "JobArrayTaskLimit";
    assert_eq!(
        of_array(&tasks, 2),
        [
            (Some(0), Some(3), JobState::Running, "None", 0),
            (Some(1), Some(4), JobState::Running, "None", 0),
            (Some(2), None, JobState::Pending, limit, 0),
            (Some(3), None, JobState::Pending, limit, 0),
            (Some(4), None, JobState::Pending, limit, 0),
            (Some(5), None, JobState::Pending, limit, 0),
        ]
    );
    // The cancelled blocker is still listed (finished jobs stay for MinJobAge) with SIGTERM.
    let blocker = &of_array(&tasks, 1)[0];
    assert_eq!(blocker.2, JobState::Cancelled);
    let blocker = tasks.iter().find(|t| t.array_job == 1).unwrap();
    assert_eq!(
        blocker.exit_code,
        Some(ExitCode {
            code: 0,
            signal: 15
        })
    );
    assert_eq!(blocker.slurm_id(), "1");
    assert_eq!(
        tasks
            .iter()
            .find(|t| t.job_id == Some(4))
            .unwrap()
            .slurm_id(),
        "2_1"
    );
}

#[test]
fn a_requeued_task_completes_pends_then_runs_again_with_its_restart_count() {
    let first = |name| {
        queue(name)
            .into_iter()
            .find(|t| t.array_job == 2 && t.task == Some(0))
            .unwrap()
    };
    let just_after = first("squeue-requeue-just-after.json");
    assert_eq!(
        (just_after.state, just_after.restarts),
        (JobState::Completing, 1)
    );
    let pending = first("squeue-requeued-pending.json");
    assert_eq!(
        (pending.state, pending.reason.as_str(), pending.restarts),
        (JobState::Pending, "BeginTime", 1)
    );
    let rerun = first("squeue-requeued-running.json");
    assert_eq!(
        (rerun.state, rerun.restarts, rerun.job_id),
        (JobState::Running, 1, Some(3))
    );

    let info = show("scontrol-requeued-pending.txt");
    assert_eq!(
        (info.job_id, info.array_job, info.array_task.as_deref()),
        (3, Some(2), Some("0"))
    );
    assert_eq!(
        (info.state.clone(), info.reason.as_str(), info.restarts),
        (JobState::Pending, "BeginTime", 1)
    );
    assert!(info.matches("2_0") && info.matches("3") && !info.matches("2_1"));
}

#[test]
fn a_cancelled_array_lists_every_task_as_cancelled() {
    let tasks = queue("squeue-cancelled-array.json");
    let array = of_array(&tasks, 8);
    assert_eq!(array.len(), 10);
    assert_eq!(array[0], (Some(0), Some(9), JobState::Cancelled, "None", 0));
    for (i, task) in array.iter().enumerate().skip(1) {
        assert_eq!(
            *task,
            (
                Some(i as u32),
                None,
                JobState::Cancelled,
                "JobArrayTaskLimit",
                0
            )
        );
    }
    assert!(
        tasks
            .iter()
            .filter(|t| t.array_job == 8)
            .all(|t| t.state.is_finished())
    );

    let running = show("scontrol-cancelled-running-task.txt");
    assert_eq!(
        (running.state, running.exit_code),
        (
            JobState::Cancelled,
            ExitCode {
                code: 0,
                signal: 15
            }
        )
    );
    // A task that never started, asked for by ARRAY_TASK: the aggregate's id with that index.
    let never = show("scontrol-cancelled-pending-tasks.txt");
    assert_eq!((never.job_id, never.array_task.as_deref()), (8, Some("5")));
    assert!(never.matches("8_5"));
    assert_eq!(never.state, JobState::Cancelled);
}

#[test]
fn finished_jobs_keep_state_and_exit_status() {
    let tasks = queue("squeue-finished-single.json");
    let done = tasks.iter().find(|t| t.array_job == 10).unwrap();
    assert_eq!(
        (done.state.clone(), done.exit_code),
        (JobState::Completed, Some(ExitCode::default()))
    );
    let failed = tasks.iter().find(|t| t.array_job == 11).unwrap();
    assert_eq!(
        (
            failed.state.clone(),
            failed.reason.as_str(),
            failed.exit_code
        ),
        (
            JobState::Failed,
            "NonZeroExitCode",
            Some(ExitCode { code: 3, signal: 0 })
        )
    );

    let completed = show("scontrol-completed.txt");
    assert_eq!(
        (completed.job_id, completed.array_job, completed.state),
        (10, None, JobState::Completed)
    );
    assert!(completed.exit_code.success());
    let failed = show("scontrol-failed.txt");
    assert_eq!(
        (failed.state.clone(), failed.exit_code.code),
        (JobState::Failed, 3)
    );
    assert_eq!(failed.field("Partition"), Some("debug"));
}

#[test]
fn the_pending_aggregate_in_scontrol_keeps_its_task_list() {
    let info = show("scontrol-pending-array.txt");
    assert_eq!(
        (info.job_id, info.array_task.as_deref()),
        (2, Some("0-5%2"))
    );
    assert_eq!(
        ktrdr_slurm::expand_task_string(info.array_task.as_deref().unwrap()).unwrap(),
        [0, 1, 2, 3, 4, 5]
    );
}

#[test]
fn errors_in_the_document_are_reported() {
    // squeue --json with slurmctld stopped: exit status 0, the failure only in "errors".
    let json = fixture("squeue-unreachable.json");
    match parse_queue(&json) {
        Err(SlurmError::Reported { errors, .. }) => assert_eq!(
            errors,
            "slurm_load_jobs: Failed while looking for jobs: Unspecified error"
        ),
        other => panic!("expected Reported, got {other:?}"),
    }
}
