//! Reads `squeue --json` into one [`TaskState`] per array task (pure: text in, values out).
//!
//! The document is Slurm 22.05's OpenAPI v0.0.38 dump: `{"meta": ..., "errors": [...], "jobs": [...]}`
//! with, per job, `job_id`, `array_job_id` (0 for a job outside an array), `array_task_id` (null
//! for the record that stands for an array's not-yet-started tasks), `array_task_string` (those
//! tasks, e.g. `"2-5%2"`: ranges, then the `%N` throttle), `job_state`, `state_reason`,
//! `restart_cnt` and `exit_code` (a raw wait status). Later Slurm versions write some numbers as
//! `{"set": .., "number": ..}` and `job_state` as a list; both forms are read, so a newer cluster
//! does not fail on them.
//!
//! What 22.05 does that a reader must know (seen on a real cluster; fixtures in tests/fixtures):
//! - `squeue --json` ignores `-j`, `-t`, `-p` and `-u`: it always lists every job slurmctld knows.
//!   [`Slurm::queue`](crate::Slurm::queue) filters by array job itself.
//! - Finished jobs stay in that list (COMPLETED, CANCELLED, FAILED, ...) until `MinJobAge`
//!   (default 300 s) has passed, unlike plain `squeue`, which hides them.
//! - With slurmctld unreachable it exits 0 with an entry in `errors` and no jobs.

use serde::Deserialize;

use crate::error::{Result, SlurmError};
use crate::state::{ExitCode, JobState};

/// One array task (or one job outside any array) as `squeue --json` last reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    /// The array's job id (what `sbatch --parsable` printed); a plain job's own id.
    pub array_job: u64,
    /// The task index; `None` only for a job that is not part of an array.
    pub task: Option<u32>,
    /// The task's own job id, once Slurm gave it one (a task waiting inside the array's aggregate
    /// record has none yet: `None`). It is in the job's environment as SLURM_JOB_ID.
    pub job_id: Option<u64>,
    pub state: JobState,
    /// Why it waits or ended ("None", "Resources", "JobArrayTaskLimit", "BeginTime",
    /// "NonZeroExitCode", ...).
    pub reason: String,
    /// How often Slurm restarted it (requeue, node failure, preemption).
    pub restarts: u32,
    /// How the script ended, meaningful once [`JobState::is_finished`].
    pub exit_code: Option<ExitCode>,
}

impl TaskState {
    /// Slurm's name for the task, as `scontrol` and `scancel` take it: `ARRAY_TASK` or `JOB`.
    pub fn slurm_id(&self) -> String {
        match self.task {
            Some(task) => format!("{}_{task}", self.array_job),
            None => self.array_job.to_string(),
        }
    }
}

/// The most tasks one aggregate record may expand to. Slurm's own limit (MaxArraySize) is at most
/// 4 000 001; anything past this is a misread, not a real array.
const MAX_EXPANDED_TASKS: u64 = 4_000_001;

/// Reads a whole `squeue --json` document into its tasks, sorted by array job then task.
/// A non-empty `errors` list is [`SlurmError::Reported`].
pub fn parse_queue(json: &str) -> Result<Vec<TaskState>> {
    let doc: Document = serde_json::from_str(json).map_err(|e| SlurmError::Parse {
        what: "squeue --json output",
        detail: e.to_string(),
    })?;
    if !doc.errors.is_empty() {
        let errors = doc
            .errors
            .iter()
            .map(ErrorEntry::describe)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(SlurmError::Reported {
            command: "squeue --json".into(),
            errors,
        });
    }
    let mut tasks = Vec::with_capacity(doc.jobs.len());
    for record in doc.jobs {
        record.push_tasks(&mut tasks)?;
    }
    tasks.sort_by_key(|t| (t.array_job, t.task));
    Ok(tasks)
}

/// Expands an array task list as Slurm prints it (`"0-5"`, `"2,4-7%2"`, `"0-10:2"`) into indices.
pub fn expand_task_string(text: &str) -> Result<Vec<u32>> {
    let bad = |detail: String| SlurmError::Parse {
        what: "an array task list",
        detail,
    };
    // The throttle ("%2") says how many run at once, not which.
    let list = text.split('%').next().unwrap_or("").trim();
    let mut out = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (range, step) = match part.split_once(':') {
            Some((range, step)) => (range, step.parse::<u32>().ok().filter(|s| *s > 0)),
            None => (part, Some(1)),
        };
        let step = step.ok_or_else(|| bad(format!("bad step in {part:?} of {text:?}")))?;
        let (first, last) = match range.split_once('-') {
            Some((a, b)) => (a.parse::<u32>(), b.parse::<u32>()),
            None => (range.parse::<u32>(), range.parse::<u32>()),
        };
        let (Ok(first), Ok(last)) = (first, last) else {
            return Err(bad(format!("{part:?} in {text:?} is not N, N-M or N-M:S")));
        };
        if first > last {
            return Err(bad(format!("{part:?} in {text:?} runs backwards")));
        }
        let count = u64::from(last - first) / u64::from(step) + 1;
        if out.len() as u64 + count > MAX_EXPANDED_TASKS {
            return Err(bad(format!(
                "{text:?} covers more than {MAX_EXPANDED_TASKS} tasks"
            )));
        }
        out.extend((first..=last).step_by(step as usize));
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
    #[serde(default)]
    jobs: Vec<Record>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    description: String,
    #[serde(default)]
    error: String,
    #[serde(default)]
    source: String,
}

impl ErrorEntry {
    fn describe(&self) -> String {
        let parts: Vec<&str> = [&self.source, &self.description, &self.error]
            .into_iter()
            .map(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        parts.join(": ")
    }
}

#[derive(Deserialize)]
struct Record {
    job_id: Number,
    #[serde(default)]
    array_job_id: Option<Number>,
    #[serde(default)]
    array_task_id: Option<Number>,
    #[serde(default)]
    array_task_string: Option<String>,
    job_state: StateField,
    #[serde(default)]
    state_reason: Option<String>,
    #[serde(default)]
    restart_cnt: Option<Number>,
    #[serde(default)]
    exit_code: Option<serde_json::Value>,
}

/// A count as 22.05 writes it (`3`), or as later versions do (`{"set": true, "number": 3}`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Plain(u64),
    Optional {
        #[serde(default = "yes")]
        set: bool,
        #[serde(default)]
        number: u64,
    },
}

fn yes() -> bool {
    true
}

impl Number {
    fn get(&self) -> Option<u64> {
        match *self {
            Number::Plain(n) => Some(n),
            Number::Optional { set, number } => set.then_some(number),
        }
    }
}

/// `"RUNNING"` (22.05) or `["RUNNING", "COMPLETING"]` (later: base state first, then flags).
#[derive(Deserialize)]
#[serde(untagged)]
enum StateField {
    One(String),
    Many(Vec<String>),
}

impl StateField {
    fn state(&self) -> JobState {
        match self {
            StateField::One(name) => JobState::parse(name),
            StateField::Many(names) => {
                // A completing or requeued job is reported by its flag, as 22.05 does.
                let flag = names
                    .iter()
                    .skip(1)
                    .map(|n| JobState::parse(n))
                    .find(|s| matches!(s, JobState::Completing | JobState::Requeued));
                flag.unwrap_or_else(|| JobState::parse(names.first().map_or("", |s| s)))
            }
        }
    }
}

impl Record {
    fn push_tasks(self, out: &mut Vec<TaskState>) -> Result<()> {
        let job_id = self.job_id.get().ok_or_else(|| SlurmError::Parse {
            what: "squeue --json output",
            detail: "a job without job_id".into(),
        })?;
        let array_job = self
            .array_job_id
            .as_ref()
            .and_then(Number::get)
            .unwrap_or(0);
        let state = self.job_state.state();
        let reason = self.state_reason.unwrap_or_default();
        let restarts = self
            .restart_cnt
            .as_ref()
            .and_then(Number::get)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
        let exit_code = self
            .exit_code
            .as_ref()
            .and_then(serde_json::Value::as_i64)
            .map(ExitCode::from_wait_status);
        let task = |array_job, task, job_id| TaskState {
            array_job,
            task,
            job_id,
            state: state.clone(),
            reason: reason.clone(),
            restarts,
            exit_code,
        };

        if array_job == 0 {
            out.push(task(job_id, None, Some(job_id)));
            return Ok(());
        }
        let index = self.array_task_id.as_ref().and_then(Number::get);
        match index {
            Some(index) => {
                let index = u32::try_from(index).map_err(|_| SlurmError::Parse {
                    what: "squeue --json output",
                    detail: format!("array_task_id {index} of job {job_id} is out of range"),
                })?;
                out.push(task(array_job, Some(index), Some(job_id)));
            }
            None => {
                let list = self.array_task_string.unwrap_or_default();
                for index in expand_task_string(&list)? {
                    out.push(task(array_job, Some(index), None));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_strings() {
        assert_eq!(expand_task_string("0-5").unwrap(), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(expand_task_string("2-5%2").unwrap(), vec![2, 3, 4, 5]);
        assert_eq!(expand_task_string("0,3-4,9").unwrap(), vec![0, 3, 4, 9]);
        assert_eq!(expand_task_string("0-10:5").unwrap(), vec![0, 5, 10]);
        assert_eq!(expand_task_string("7").unwrap(), vec![7]);
        assert_eq!(expand_task_string("").unwrap(), Vec::<u32>::new());
        assert!(expand_task_string("5-2").is_err());
        assert!(expand_task_string("0-4:0").is_err());
        assert!(expand_task_string("a-b").is_err());
        assert!(expand_task_string("0-4294967295").is_err());
    }

    #[test]
    fn later_versions_number_and_state_forms() {
        let json = r#"{"errors": [], "jobs": [
            {"job_id": 12, "array_job_id": {"set": true, "number": 11},
             "array_task_id": {"set": true, "number": 1}, "array_task_string": "",
             "job_state": ["RUNNING", "COMPLETING"], "state_reason": "None",
             "restart_cnt": {"set": true, "number": 2}},
            {"job_id": 11, "array_job_id": {"set": true, "number": 11},
             "array_task_id": {"set": false, "number": 0}, "array_task_string": "2-3",
             "job_state": ["PENDING"], "state_reason": "Resources"}
        ]}"#;
        let tasks = parse_queue(json).unwrap();
        let summary: Vec<_> = tasks
            .iter()
            .map(|t| (t.task, t.job_id, t.state.clone(), t.restarts))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Some(1), Some(12), JobState::Completing, 2),
                (Some(2), None, JobState::Pending, 0),
                (Some(3), None, JobState::Pending, 0),
            ]
        );
    }

    #[test]
    fn not_json_is_a_parse_error() {
        assert!(matches!(
            parse_queue("squeue: error: something"),
            Err(SlurmError::Parse { .. })
        ));
    }
}
