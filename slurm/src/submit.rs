//! A job array submission as data, the `sbatch` arguments it becomes, and the reading of
//! `sbatch --parsable`'s answer (pure; [`Slurm::submit`](crate::Slurm::submit) runs it).

use std::path::PathBuf;

use crate::error::{Result, SlurmError};

/// A job id as Slurm numbers them; for an array, the array's id (what its tasks share as
/// SLURM_ARRAY_JOB_ID).
pub type JobId = u64;

/// One `sbatch` of a job array: the same script for the tasks `array` lists, each of which reads
/// its index from SLURM_ARRAY_TASK_ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// `--job-name`.
    pub job_name: String,
    /// The batch script; it must start with `#!`. Given as is to sbatch, so a relative path is
    /// relative to the caller's working directory (which is also the job's, unless `extra_args`
    /// has `--chdir`).
    pub script: PathBuf,
    /// The task indices (`--array=0-3,7,9-11`): any set, so a resumed sweep can submit just the
    /// cells it still needs under their own indices.
    pub array: Vec<u32>,
    /// At most this many tasks run at once (`%N`).
    pub max_running: Option<u32>,
    pub partition: Option<String>,
    pub account: Option<String>,
    /// `--time`, in Slurm's forms ("30", "1:00:00", "2-00:00:00").
    pub time_limit: Option<String>,
    pub cpus_per_task: Option<u32>,
    /// `--mem`, per node ("4G", "500M").
    pub mem: Option<String>,
    /// `--gres` ("gpu:1").
    pub gres: Option<String>,
    /// `--output` pattern; `%A` is the array's job id, `%a` the task index. Standard error goes
    /// to the same file.
    pub output: String,
    /// Whether Slurm may requeue a task (preemption, node failure, `scontrol requeue`).
    pub requeue: bool,
    /// More sbatch options, given before the script (e.g. `--signal=B:USR1@60`, `--chdir=DIR`).
    pub extra_args: Vec<String>,
    /// Variables for the tasks, on top of the submitting environment (`--export=ALL,K=V,...`).
    pub env: Vec<(String, String)>,
}

impl Submission {
    /// The submission as sbatch arguments (without the program name).
    ///
    /// Always `--parsable` (the reply is just the id), `--open-mode=append` (a requeued task
    /// appends to its log instead of truncating what its first run wrote) and an explicit
    /// `--requeue`/`--no-requeue`, so the cluster's JobRequeue default does not decide.
    pub fn sbatch_args(&self) -> Vec<String> {
        let mut array = format!("--array={}", array_spec(&self.array));
        if let Some(n) = self.max_running {
            array.push_str(&format!("%{n}"));
        }
        let mut args = vec![
            "--parsable".to_string(),
            format!("--job-name={}", self.job_name),
            array,
            format!("--output={}", self.output),
            "--open-mode=append".to_string(),
            if self.requeue {
                "--requeue"
            } else {
                "--no-requeue"
            }
            .to_string(),
        ];
        let optional = [
            ("--partition", &self.partition),
            ("--account", &self.account),
            ("--time", &self.time_limit),
            ("--mem", &self.mem),
            ("--gres", &self.gres),
        ];
        for (flag, value) in optional {
            if let Some(value) = value {
                args.push(format!("{flag}={value}"));
            }
        }
        if let Some(cpus) = self.cpus_per_task {
            args.push(format!("--cpus-per-task={cpus}"));
        }
        let mut export = "--export=ALL".to_string();
        for (key, value) in &self.env {
            export.push_str(&format!(",{key}={value}"));
        }
        args.push(export);
        args.extend(self.extra_args.iter().cloned());
        args.push(self.script.to_string_lossy().into_owned());
        args
    }

    /// Checks what sbatch would misread rather than refuse: a backwards range, a throttle of 0,
    /// and `env` entries `--export`'s comma-separated list cannot carry.
    pub fn validate(&self) -> Result<()> {
        let invalid = |msg: String| Err(SlurmError::InvalidSubmission(msg));
        if self.array.is_empty() {
            return invalid("the array has no task".into());
        }
        if self.max_running == Some(0) {
            return invalid("max_running must be at least 1".into());
        }
        if self.job_name.is_empty() {
            return invalid("the job name is empty".into());
        }
        for (key, value) in &self.env {
            let key_ok = key
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !key_ok {
                return invalid(format!("{key:?} is not an environment variable name"));
            }
            // sbatch splits --export at every comma; such a value has to reach the task another
            // way (a file the script reads, or the submitting environment with --export=ALL).
            if value.contains(',') || value.contains('\n') {
                return invalid(format!(
                    "the value of {key} contains a comma or newline, which --export cannot carry"
                ));
            }
        }
        Ok(())
    }
}

/// Task indices as sbatch's `--array` list: sorted, duplicates dropped, runs as ranges
/// (`[0, 1, 2, 5, 7, 8]` -> `0-2,5,7-8`).
pub fn array_spec(indices: &[u32]) -> String {
    let mut v = indices.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// Reads the job id from `sbatch --parsable` output: `123`, or `123;cluster` on a federation.
/// The id is on the last non-empty line.
pub fn parse_parsable(stdout: &str) -> Result<JobId> {
    let line = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("");
    let id = line.split(';').next().unwrap_or("").trim();
    id.parse().map_err(|_| SlurmError::Parse {
        what: "sbatch --parsable output",
        detail: format!("expected a job id, got {stdout:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Submission {
        Submission {
            job_name: "sweep".into(),
            script: "/data/run.sh".into(),
            array: (0..=9).collect(),
            max_running: None,
            partition: None,
            account: None,
            time_limit: None,
            cpus_per_task: None,
            mem: None,
            gres: None,
            output: "/data/logs/%A_%a.log".into(),
            requeue: false,
            extra_args: vec![],
            env: vec![],
        }
    }

    #[test]
    fn minimal_arguments() {
        assert_eq!(
            minimal().sbatch_args(),
            [
                "--parsable",
                "--job-name=sweep",
                "--array=0-9",
                "--output=/data/logs/%A_%a.log",
                "--open-mode=append",
                "--no-requeue",
                "--export=ALL",
                "/data/run.sh",
            ]
        );
    }

    #[test]
    fn every_option() {
        let s = Submission {
            max_running: Some(4),
            partition: Some("gpu".into()),
            account: Some("lab".into()),
            time_limit: Some("1:00:00".into()),
            cpus_per_task: Some(2),
            mem: Some("4G".into()),
            gres: Some("gpu:1".into()),
            requeue: true,
            extra_args: vec!["--signal=B:USR1@60".into()],
            env: vec![
                ("KTRDR_RUN".into(), "/data/r1".into()),
                ("SEED".into(), "7".into()),
            ],
            ..minimal()
        };
        assert_eq!(
            s.sbatch_args(),
            [
                "--parsable",
                "--job-name=sweep",
                "--array=0-9%4",
                "--output=/data/logs/%A_%a.log",
                "--open-mode=append",
                "--requeue",
                "--partition=gpu",
                "--account=lab",
                "--time=1:00:00",
                "--mem=4G",
                "--gres=gpu:1",
                "--cpus-per-task=2",
                "--export=ALL,KTRDR_RUN=/data/r1,SEED=7",
                "--signal=B:USR1@60",
                "/data/run.sh",
            ]
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn array_lists_become_ranges() {
        assert_eq!(array_spec(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(array_spec(&[9, 3, 3, 4]), "3-4,9");
        assert_eq!(array_spec(&[4]), "4");
        let s = Submission {
            array: vec![1, 2, 3, 6],
            max_running: Some(2),
            ..minimal()
        };
        assert!(s.sbatch_args().contains(&"--array=1-3,6%2".to_string()));
    }

    #[test]
    fn validation() {
        let empty = Submission {
            array: vec![],
            ..minimal()
        };
        assert!(empty.validate().is_err());
        let zero = Submission {
            max_running: Some(0),
            ..minimal()
        };
        assert!(zero.validate().is_err());
        let comma = Submission {
            env: vec![("LIST".into(), "a,b".into())],
            ..minimal()
        };
        assert!(comma.validate().is_err());
        let key = Submission {
            env: vec![("A=B".into(), "x".into())],
            ..minimal()
        };
        assert!(key.validate().is_err());
    }

    #[test]
    fn parsable_answers() {
        assert_eq!(parse_parsable("123\n").unwrap(), 123);
        assert_eq!(parse_parsable("123;cluster\n").unwrap(), 123);
        assert_eq!(parse_parsable("  42  ").unwrap(), 42);
        assert!(parse_parsable("").is_err());
        assert!(parse_parsable("Submitted batch job 5").is_err());
    }
}
