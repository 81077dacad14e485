//! The one error type of the crate: what went wrong running or reading a Slurm command, worded so a
//! user can act on it (install the tools, start or reach slurmctld, fix the submission).

use std::time::Duration;

/// Everything the crate can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The command is not on PATH (or not in the configured `bin_dir`).
    #[error(
        "`{program}` not found{where_}: install Slurm's client commands (Debian: \
         `apt-get install slurm-client`; in this repository, as root: scripts/system-deps.sh)",
        where_ = match .searched { Some(dir) => format!(" in {dir}"), None => " on PATH".to_string() }
    )]
    NotInstalled {
        program: String,
        /// The directory looked in, when one was configured.
        searched: Option<String>,
    },

    /// The commands have no slurm.conf: SLURM_CONF names a missing file (Slurm would retry
    /// reading it for 60 s), or neither it nor /etc/slurm/slurm.conf nor a configless DNS record
    /// exists, or the file does not parse.
    #[error(
        "`{command}` has no usable Slurm configuration: {detail} (set SLURM_CONF to the \
         cluster's slurm.conf; without it Slurm reads /etc/slurm/slurm.conf or asks DNS for a \
         configless controller)"
    )]
    NoConfig { command: String, detail: String },

    /// The command could not talk to slurmctld.
    #[error(
        "`{command}` cannot reach slurmctld: {stderr} (is it running? `scontrol ping` tells; \
         SLURM_CONF must name the cluster's slurm.conf)"
    )]
    Unreachable { command: String, stderr: String },

    /// slurmctld refused a submission; the message is sbatch's, e.g. "Batch job submission
    /// failed: Invalid partition name specified".
    #[error("Slurm rejected the submission: {0}")]
    Rejected(String),

    /// A submission that cannot be expressed as sbatch arguments (checked before running sbatch).
    #[error("invalid submission: {0}")]
    InvalidSubmission(String),

    /// slurmctld does not know this job (never existed, or finished longer ago than MinJobAge).
    #[error("Slurm does not know job {0} (finished more than MinJobAge ago, or a wrong id)")]
    UnknownJob(String),

    /// `squeue --json` answered (exit status 0) with a non-empty `errors` list. Slurm 22.05 does
    /// this, with only "Unspecified error", when slurmctld is not reachable.
    #[error(
        "`{command}` reported: {errors} (with Slurm 22.05 this is usually an unreachable \
         slurmctld: check `scontrol ping` and SLURM_CONF)"
    )]
    Reported { command: String, errors: String },

    /// The command ran and failed for another reason.
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },

    /// The command did not finish in time and was killed.
    #[error(
        "`{command}` did not finish within {timeout:?} and was killed (slurmctld overloaded or \
         unreachable? `scontrol ping` tells)"
    )]
    TimedOut { command: String, timeout: Duration },

    /// The command could not be started or its output not read.
    #[error("could not run `{command}`: {source}")]
    Io {
        command: String,
        #[source]
        source: std::io::Error,
    },

    /// The command's output is not what this crate understands.
    #[error("cannot read {what}: {detail}")]
    Parse { what: &'static str, detail: String },
}

/// The crate's result type.
pub type Result<T, E = SlurmError> = std::result::Result<T, E>;
