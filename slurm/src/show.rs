//! Reads `scontrol show job -o` (one line of `Key=Value` fields per job record; pure).
//!
//! This is how a caller learns how a task ended: slurmctld keeps a finished job for `MinJobAge`
//! (300 s by default) and `scontrol show job -o ARRAY_TASK` then still answers with
//! `JobState=COMPLETED ... ExitCode=0:0`. Without slurmdbd there is no `sacct` to ask later, so a
//! task should also leave its own result file.
//!
//! Values are separated by blanks and may themselves contain blanks (a `Command=` with arguments):
//! a blank-separated word that does not look like `Key=...` is joined to the value before it.

use std::collections::BTreeMap;

use crate::error::{Result, SlurmError};
use crate::state::{ExitCode, JobState};

/// One job record from `scontrol show job -o`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobInfo {
    /// `JobId=`: the record's own job id (a task's, or the array's aggregate record's).
    pub job_id: u64,
    /// `ArrayJobId=`, for a task of an array.
    pub array_job: Option<u64>,
    /// `ArrayTaskId=`: one index, or for the record of the array's waiting tasks a list such as
    /// `"4-5%2"` (see [`crate::queue::expand_task_string`]).
    pub array_task: Option<String>,
    pub state: JobState,
    pub reason: String,
    /// `ExitCode=CODE:SIGNAL`.
    pub exit_code: ExitCode,
    /// `Restarts=`.
    pub restarts: u32,
    /// Every field as printed, for what this struct does not name (`StdOut`, `NodeList`, ...).
    pub fields: BTreeMap<String, String>,
}

impl JobInfo {
    /// A field by its `scontrol` name, e.g. `info.field("StdOut")`.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// Whether this record is the job or task `spec` names: `"JOB"` (matched against `JobId`) or
    /// `"ARRAY_TASK"` (against `ArrayJobId` and `ArrayTaskId`).
    pub fn matches(&self, spec: &str) -> bool {
        match spec.split_once('_') {
            Some((array, task)) => {
                array.parse().ok() == self.array_job && self.array_task.as_deref() == Some(task)
            }
            None => spec.parse().ok() == Some(self.job_id),
        }
    }
}

/// Splits one `-o` line into its fields, keeping their order.
pub fn parse_fields(line: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for word in line.split_whitespace() {
        match word.split_once('=') {
            Some((key, value)) if looks_like_key(key) => {
                fields.push((key.to_string(), value.to_string()));
            }
            _ => match fields.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(word);
                }
                // A line that does not start with a field is not a job record.
                None => return Vec::new(),
            },
        }
    }
    fields
}

/// Slurm's keys: letters first, then letters, digits and the `_:/` of `AllocNode:Sid`,
/// `CPUs/Task` and `MCS_label`.
fn looks_like_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '/'))
}

/// Reads every job record of `scontrol show job -o` output (one per line; an array's id gives one
/// line per task record).
pub fn parse_show_job(text: &str) -> Result<Vec<JobInfo>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Result<JobInfo> {
    let bad = |detail: String| SlurmError::Parse {
        what: "scontrol show job output",
        detail,
    };
    let fields: BTreeMap<String, String> = parse_fields(line).into_iter().collect();
    let get = |key: &str| fields.get(key).map(String::as_str);
    let job_id = get("JobId")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad(format!("no JobId in {line:?}")))?;
    let state = get("JobState")
        .map(JobState::parse)
        .ok_or_else(|| bad(format!("no JobState in {line:?}")))?;
    let exit_code = match get("ExitCode") {
        Some(text) => ExitCode::parse(text).ok_or_else(|| bad(format!("ExitCode={text}")))?,
        None => ExitCode::default(),
    };
    Ok(JobInfo {
        job_id,
        array_job: get("ArrayJobId").and_then(|v| v.parse().ok()),
        array_task: get("ArrayTaskId").map(str::to_string),
        state,
        reason: get("Reason").unwrap_or_default().to_string(),
        exit_code,
        restarts: get("Restarts").and_then(|v| v.parse().ok()).unwrap_or(0),
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_with_blanks_are_kept_whole() {
        let fields = parse_fields("JobId=5 Command=/bin/run --fast now WorkDir=/tmp Power=");
        assert_eq!(
            fields,
            vec![
                ("JobId".into(), "5".into()),
                ("Command".into(), "/bin/run --fast now".into()),
                ("WorkDir".into(), "/tmp".into()),
                ("Power".into(), "".into()),
            ]
        );
    }

    #[test]
    fn odd_keys_and_values_with_equals() {
        let fields = parse_fields("AllocNode:Sid=localhost:6077 CPUs/Task=1 TRES=cpu=1,mem=2M");
        assert_eq!(fields[0], ("AllocNode:Sid".into(), "localhost:6077".into()));
        assert_eq!(fields[1], ("CPUs/Task".into(), "1".into()));
        assert_eq!(fields[2], ("TRES".into(), "cpu=1,mem=2M".into()));
    }

    #[test]
    fn an_error_line_is_not_a_record() {
        assert!(parse_fields("slurm_load_jobs error: Invalid job id specified").is_empty());
        assert!(parse_show_job("slurm_load_jobs error: Invalid job id specified").is_err());
    }
}
