//! A job's state and exit code as Slurm names them, shared by the `squeue --json` reader
//! ([`crate::queue`]) and the `scontrol show job` reader ([`crate::show`]).

use std::fmt;

/// The state of a job or array task, from Slurm's state names (`squeue`'s `job_state`,
/// `scontrol`'s `JobState=`). Names this crate does not map keep their text in [`JobState::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobState {
    Pending,
    Running,
    Suspended,
    /// Ending: the program is gone and the node is cleaning up. A requeued task passes through it
    /// (with its restart count already raised) on its way back to [`JobState::Pending`].
    Completing,
    Completed,
    Failed,
    Timeout,
    Cancelled,
    Preempted,
    NodeFail,
    OutOfMemory,
    /// REQUEUED, REQUEUE_HOLD and REQUEUE_FED: on its way back to the queue (or held there).
    Requeued,
    Other(String),
}

/// Terminal states Slurm has beyond the named variants.
const OTHER_FINISHED: [&str; 4] = ["BOOT_FAIL", "DEADLINE", "REVOKED", "SPECIAL_EXIT"];

impl JobState {
    /// Reads a Slurm state name. Case is ignored, and so is anything after the first blank
    /// (`squeue -l` prints "CANCELLED by 0").
    pub fn parse(name: &str) -> JobState {
        let word = name.split_whitespace().next().unwrap_or("");
        match word.to_ascii_uppercase().as_str() {
            "PENDING" => JobState::Pending,
            "RUNNING" => JobState::Running,
            "SUSPENDED" => JobState::Suspended,
            "COMPLETING" => JobState::Completing,
            "COMPLETED" => JobState::Completed,
            "FAILED" => JobState::Failed,
            "TIMEOUT" => JobState::Timeout,
            "CANCELLED" => JobState::Cancelled,
            "PREEMPTED" => JobState::Preempted,
            "NODE_FAIL" => JobState::NodeFail,
            "OUT_OF_MEMORY" => JobState::OutOfMemory,
            "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" => JobState::Requeued,
            other => JobState::Other(other.to_string()),
        }
    }

    /// Slurm's name for the state.
    pub fn name(&self) -> &str {
        match self {
            JobState::Pending => "PENDING",
            JobState::Running => "RUNNING",
            JobState::Suspended => "SUSPENDED",
            JobState::Completing => "COMPLETING",
            JobState::Completed => "COMPLETED",
            JobState::Failed => "FAILED",
            JobState::Timeout => "TIMEOUT",
            JobState::Cancelled => "CANCELLED",
            JobState::Preempted => "PREEMPTED",
            JobState::NodeFail => "NODE_FAIL",
            JobState::OutOfMemory => "OUT_OF_MEMORY",
            JobState::Requeued => "REQUEUED",
            JobState::Other(name) => name,
        }
    }

    /// Whether the job has ended for good: it will not run (again) unless someone requeues it.
    /// [`JobState::Completing`] is not finished: a requeued task completes first, then pends.
    pub fn is_finished(&self) -> bool {
        match self {
            JobState::Completed
            | JobState::Failed
            | JobState::Timeout
            | JobState::Cancelled
            | JobState::Preempted
            | JobState::NodeFail
            | JobState::OutOfMemory => true,
            JobState::Other(name) => OTHER_FINISHED.contains(&name.as_str()),
            JobState::Pending
            | JobState::Running
            | JobState::Suspended
            | JobState::Completing
            | JobState::Requeued => false,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a job's batch script ended: `scontrol`'s `ExitCode=CODE:SIGNAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExitCode {
    /// The script's exit status (0 when it was killed by a signal).
    pub code: i32,
    /// The signal that killed it, 0 if none (15 for a cancelled task).
    pub signal: i32,
}

impl ExitCode {
    /// Reads `scontrol`'s `CODE:SIGNAL` ("0:0", "3:0", "0:15").
    pub fn parse(text: &str) -> Option<ExitCode> {
        let (code, signal) = text.trim().split_once(':')?;
        Some(ExitCode {
            code: code.parse().ok()?,
            signal: signal.parse().ok()?,
        })
    }

    /// From a raw wait status, which is what `squeue --json` (Slurm 22.05) puts in `exit_code`:
    /// 768 is exit status 3, 15 is SIGTERM.
    pub fn from_wait_status(status: i64) -> ExitCode {
        // The POSIX encoding (WEXITSTATUS / WTERMSIG); written out because it must also decode
        // statuses of processes that ran on another machine, not only this one's children.
        let status = status as i32;
        ExitCode {
            code: (status >> 8) & 0xff,
            signal: status & 0x7f,
        }
    }

    /// Whether the script exited 0 without a signal.
    pub fn success(&self) -> bool {
        self.code == 0 && self.signal == 0
    }
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.code, self.signal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_round_trip() {
        for name in [
            "PENDING",
            "RUNNING",
            "SUSPENDED",
            "COMPLETING",
            "COMPLETED",
            "FAILED",
            "TIMEOUT",
            "CANCELLED",
            "PREEMPTED",
            "NODE_FAIL",
            "OUT_OF_MEMORY",
            "REQUEUED",
            "BOOT_FAIL",
        ] {
            assert_eq!(JobState::parse(name).name(), name);
        }
    }

    #[test]
    fn requeue_variants_and_decorations() {
        assert_eq!(JobState::parse("REQUEUE_HOLD"), JobState::Requeued);
        assert_eq!(JobState::parse("REQUEUE_FED"), JobState::Requeued);
        assert_eq!(JobState::parse("CANCELLED by 0"), JobState::Cancelled);
        assert_eq!(JobState::parse("running"), JobState::Running);
        assert_eq!(
            JobState::parse("RESIZING"),
            JobState::Other("RESIZING".into())
        );
    }

    #[test]
    fn finished_states() {
        assert!(JobState::Completed.is_finished());
        assert!(JobState::Cancelled.is_finished());
        assert!(JobState::parse("BOOT_FAIL").is_finished());
        assert!(!JobState::Completing.is_finished());
        assert!(!JobState::Requeued.is_finished());
        assert!(!JobState::parse("CONFIGURING").is_finished());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(
            ExitCode::parse("3:0"),
            Some(ExitCode { code: 3, signal: 0 })
        );
        assert_eq!(
            ExitCode::parse("0:15"),
            Some(ExitCode {
                code: 0,
                signal: 15
            })
        );
        assert_eq!(ExitCode::parse("3"), None);
        assert_eq!(
            ExitCode::from_wait_status(768),
            ExitCode { code: 3, signal: 0 }
        );
        assert_eq!(
            ExitCode::from_wait_status(15),
            ExitCode {
                code: 0,
                signal: 15
            }
        );
        assert!(ExitCode::from_wait_status(0).success());
    }
}
