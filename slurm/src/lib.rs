//! Job arrays on a Slurm cluster, through Slurm's own command-line tools.
//!
//! Slurm is the scheduler most research clusters run, and a job array is its unit for "the same
//! program over N parameter sets": one `sbatch --array=0-N%M script`, after which every task runs
//! the script with its index in `SLURM_ARRAY_TASK_ID`. This crate submits such arrays, follows
//! their tasks, cancels and requeues them, by running `sbatch`, `squeue --json`, `scontrol` and
//! `scancel` on a login node. There is no slurmrestd or libslurm binding: the commands are what
//! every cluster has, they carry the user's credentials (munge) themselves, and their output
//! formats are documented.
//!
//! The pure parts are apart from the process calls, so they can be tested on captured output:
//! - [`submit`]: a [`Submission`] and the sbatch arguments it becomes; `sbatch --parsable`'s reply.
//! - [`queue`]: `squeue --json` into one [`TaskState`] per task.
//! - [`show`]: `scontrol show job -o` into a [`JobInfo`] (how a finished task ended).
//! - [`state`]: [`JobState`] and [`ExitCode`], as Slurm names them.
//! - [`version`]: `sbatch --version`.
//!
//! [`Slurm`] (in `client`) runs the commands, synchronously, with a timeout; errors are
//! [`SlurmError`].
//!
//! ```no_run
//! use ktrdr_slurm::{Slurm, Submission};
//!
//! let slurm = Slurm::with_conf("/etc/slurm/slurm.conf");
//! slurm.check()?; // NotInstalled, with a hint, when sbatch is missing
//! let id = slurm.submit(&Submission {
//!     job_name: "sweep".into(),
//!     script: "/shared/run/task.sh".into(),
//!     array: (0..100).collect(),
//!     max_running: Some(8),
//!     partition: None,
//!     account: None,
//!     time_limit: Some("1:00:00".into()),
//!     cpus_per_task: Some(2),
//!     mem: Some("4G".into()),
//!     gres: None,
//!     output: "/shared/run/logs/%A_%a.log".into(),
//!     requeue: true,
//!     extra_args: vec![],
//!     env: vec![("RUN_DIR".into(), "/shared/run".into())],
//! })?;
//! let running = slurm.queue(id)?.iter().filter(|t| !t.state.is_finished()).count();
//! # Ok::<(), ktrdr_slurm::SlurmError>(())
//! ```
//!
//! What Slurm 22.05 (Debian 12) does that callers must know, seen on a real cluster:
//! - `squeue --json` ignores `-j`/`-t`/`-p`/`-u` and lists every job slurmctld knows, finished ones
//!   included (COMPLETED, CANCELLED, FAILED with their exit status) until `MinJobAge` (default
//!   300 s) has passed; plain `squeue` hides finished jobs. [`Slurm::queue`] filters by array.
//! - Tasks waiting to start are one aggregate record (`array_task_string` "2-5%2"); each task gets
//!   a record, and its own job id, when it starts. [`parse_queue`] expands the aggregate.
//! - `scontrol requeue ARRAY_TASK` on a running task: COMPLETING with `restart_cnt` already
//!   raised, then PENDING with reason BeginTime: it is eligible again only `cred_expire` + 1 s later
//!   (AuthInfo, default 120 s), and then waits its turn behind the array's throttle. The rerun
//!   gets SLURM_RESTART_COUNT; its output appends to the same file with `--open-mode=append`.
//! - `scancel` exits 0 and prints nothing for an unknown or finished job.
//! - With slurmctld down, the commands fail after ~9 s ("Unable to contact slurm controller"),
//!   except `squeue --json`, which exits 0 with an `errors` entry ("Unspecified error").
//! - Without slurmdbd there is no `sacct`: a finished task should leave its own result file.
//!
//! `scripts/slurm-cluster.sh start DIR` (as root) runs a one-node cluster for tests.

pub mod client;
pub mod error;
pub mod queue;
mod run;
pub mod show;
pub mod state;
pub mod submit;
pub mod version;

pub use client::Slurm;
pub use error::{Result, SlurmError};
pub use queue::{TaskState, expand_task_string, parse_queue};
pub use show::{JobInfo, parse_show_job};
pub use state::{ExitCode, JobState};
pub use submit::{JobId, Submission, parse_parsable};
pub use version::Version;
