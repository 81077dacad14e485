//! [`Slurm`]: the real commands (`sbatch`, `squeue`, `scontrol`, `scancel`, `sinfo`) run one at
//! a time, synchronously, their output handed to the pure readers of the other modules and their
//! failures turned into [`SlurmError`]s.
//!
//! Every call starts one process and waits for it, at most [`Slurm::DEFAULT_TIMEOUT`] unless set
//! otherwise: with slurmctld up, a call takes milliseconds; with it down, Slurm's clients retry
//! for about 9 s before failing ([`SlurmError::Unreachable`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Result, SlurmError};
use crate::queue::{TaskState, parse_queue};
use crate::run::{Output, Runner, describe};
use crate::show::{JobInfo, parse_show_job};
use crate::submit::{JobId, Submission, parse_parsable};
use crate::version::Version;

/// What Slurm's clients print when slurmctld does not answer.
const UNREACHABLE: &str = "Unable to contact slurm controller";
/// What they print (as fatal errors) when they find no slurm.conf, or cannot parse it.
const NO_CONFIG: [&str; 2] = [
    "Could not establish a configuration source",
    "Unable to process configuration file",
];
/// What they print for a job slurmctld does not know.
const INVALID_JOB: &str = "Invalid job id specified";

/// A handle on one cluster's commands: the environment they run with (SLURM_CONF names the
/// cluster) and where they are installed.
#[derive(Debug, Clone)]
pub struct Slurm {
    /// Set for every command, on top of this process's environment (e.g. SLURM_CONF).
    env: Vec<(String, String)>,
    /// Where the commands are; `None` looks them up on PATH.
    bin_dir: Option<PathBuf>,
    timeout: Duration,
}

impl Default for Slurm {
    fn default() -> Self {
        Slurm::new()
    }
}

impl Slurm {
    /// How long one command may run before it is killed.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// The commands on PATH, with this process's environment (so SLURM_CONF, if set, applies).
    pub fn new() -> Slurm {
        Slurm {
            env: Vec::new(),
            bin_dir: None,
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// The commands on PATH, for the cluster whose slurm.conf is `conf`.
    pub fn with_conf(conf: impl AsRef<Path>) -> Slurm {
        Slurm::new().env("SLURM_CONF", conf.as_ref().to_string_lossy())
    }

    /// Sets a variable for every command (a later value for the same key wins).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Slurm {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    /// Runs the commands from `dir` instead of PATH (e.g. `/opt/slurm/bin`).
    pub fn bin_dir(mut self, dir: impl Into<PathBuf>) -> Slurm {
        self.bin_dir = Some(dir.into());
        self
    }

    /// How long one command may run before it is killed ([`SlurmError::TimedOut`]).
    pub fn timeout(mut self, timeout: Duration) -> Slurm {
        self.timeout = timeout;
        self
    }

    /// Whether the client commands are installed and configured, and which version (`sbatch
    /// --version`; needs no running slurmctld, but like every Slurm command a slurm.conf). A
    /// missing `sbatch` is [`SlurmError::NotInstalled`], a missing configuration
    /// [`SlurmError::NoConfig`].
    pub fn check(&self) -> Result<Version> {
        let out = self.run_ok("sbatch", &["--version"], None)?;
        Version::parse(&out.stdout)
    }

    /// The cluster's partition names, in sinfo's order (`sinfo -h -o %R`).
    pub fn partitions(&self) -> Result<Vec<String>> {
        let out = self.run_ok("sinfo", &["-h", "-o", "%R"], None)?;
        let mut names: Vec<String> = Vec::new();
        for name in out.stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
            // sinfo prints a partition once per distinct line of its other fields; %R alone
            // should not repeat, but a partition with nodes in several states may.
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        Ok(names)
    }

    /// Submits a job array; returns its job id. A submission slurmctld refuses (unknown
    /// partition, limits, bad options) is [`SlurmError::Rejected`] with sbatch's message.
    pub fn submit(&self, submission: &Submission) -> Result<JobId> {
        submission.validate()?;
        let args = submission.sbatch_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run("sbatch", &args)?;
        if !out.status.success() {
            if out.stderr.contains(UNREACHABLE) {
                return Err(SlurmError::Unreachable {
                    command: describe("sbatch", &args),
                    stderr: one_line("sbatch", &out.stderr),
                });
            }
            return Err(SlurmError::Rejected(one_line("sbatch", &out.stderr)));
        }
        parse_parsable(&out.stdout)
    }

    /// The tasks of one array (or one plain job), sorted by index, from `squeue --json`.
    ///
    /// Finished tasks are included while slurmctld still keeps them (`MinJobAge`, default 300 s)
    /// with their final state; after that the array is simply absent (an empty list). A task not
    /// yet started appears with `job_id: None`, expanded from the array's aggregate record.
    pub fn queue(&self, array_job: JobId) -> Result<Vec<TaskState>> {
        let id = array_job.to_string();
        // Slurm 22.05 ignores -j with --json and lists every job; later versions honour it, which
        // is cheaper on a busy cluster, and then answer "Invalid job id" for a purged job.
        let args = ["--json", "-j", id.as_str()];
        let out = self.run("squeue", &args)?;
        if !out.status.success() {
            if out.stderr.contains(INVALID_JOB) {
                return Ok(Vec::new());
            }
            return Err(failure("squeue", &args, &out, None));
        }
        let mut tasks = parse_queue(&out.stdout)?;
        tasks.retain(|t| t.array_job == array_job);
        Ok(tasks)
    }

    /// The record of one job or task (`"JOB"` or `"ARRAY_TASK"`) from `scontrol show job -o`;
    /// `None` once slurmctld has forgotten it (MinJobAge after it ended) or for an unknown id.
    pub fn show(&self, job: &str) -> Result<Option<JobInfo>> {
        let args = ["show", "job", "-o", job];
        let out = self.run("scontrol", &args)?;
        if !out.status.success() {
            if out.stderr.contains(INVALID_JOB) || out.stdout.contains(INVALID_JOB) {
                return Ok(None);
            }
            return Err(failure("scontrol", &args, &out, Some(job)));
        }
        let mut records = parse_show_job(&out.stdout)?;
        if let Some(at) = records.iter().position(|r| r.matches(job)) {
            return Ok(Some(records.swap_remove(at)));
        }
        match records.len() {
            0 => Ok(None),
            1 => Ok(records.pop()),
            n => Err(SlurmError::Parse {
                what: "scontrol show job output",
                detail: format!("{n} records for {job}, none of them with that id"),
            }),
        }
    }

    /// Cancels every task of an array (`scancel ID`). Cancelling a finished or unknown job is
    /// not an error: scancel itself exits 0 and says nothing for those.
    pub fn cancel(&self, array_job: JobId) -> Result<()> {
        let id = array_job.to_string();
        self.run_ok("scancel", &[id.as_str()], Some(&id))?;
        Ok(())
    }

    /// Cancels one task of an array (`scancel ARRAY_TASK`).
    pub fn cancel_task(&self, task: &str) -> Result<()> {
        self.run_ok("scancel", &[task], Some(task))?;
        Ok(())
    }

    /// Puts a running (or finished) job or task (`"ARRAY_TASK"`) back in the queue
    /// (`scontrol requeue`). Its restart count goes up at once; it becomes eligible again only
    /// after AuthInfo's `cred_expire` + 1 s (default 121 s). Requeueing a task that is still
    /// pending fails ("Job is pending execution").
    pub fn requeue(&self, job: &str) -> Result<()> {
        self.run_ok("scontrol", &["requeue", job], Some(job))?;
        Ok(())
    }

    fn runner(&self) -> Runner<'_> {
        Runner {
            bin_dir: self.bin_dir.as_ref(),
            env: &self.env,
            timeout: self.timeout,
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output> {
        // Slurm retries a missing SLURM_CONF for 60 s before giving up: say so at once instead.
        let conf = match self.env.iter().rev().find(|(k, _)| k == "SLURM_CONF") {
            Some((_, v)) => Some(PathBuf::from(v)),
            None => std::env::var_os("SLURM_CONF").map(PathBuf::from),
        };
        if let Some(conf) = conf
            && !conf.is_file()
        {
            return Err(SlurmError::NoConfig {
                command: describe(program, args),
                detail: format!("SLURM_CONF={} does not exist", conf.display()),
            });
        }
        let out = self.runner().run(program, args)?;
        if !out.status.success()
            && let Some(fatal) = NO_CONFIG.iter().find(|m| out.stderr.contains(*m))
        {
            return Err(SlurmError::NoConfig {
                command: describe(program, args),
                // The line that says it; the lines before it are Slurm's attempts (DNS, ...).
                detail: out
                    .stderr
                    .lines()
                    .find(|l| l.contains(*fatal))
                    .map_or_else(|| fatal.to_string(), |l| one_line(program, l)),
            });
        }
        Ok(out)
    }

    /// Runs a command whose non-zero exit is always an error.
    fn run_ok(&self, program: &str, args: &[&str], job: Option<&str>) -> Result<Output> {
        let out = self.run(program, args)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(failure(program, args, &out, job))
        }
    }
}

/// The error for a command that exited non-zero, by what it printed.
fn failure(program: &str, args: &[&str], out: &Output, job: Option<&str>) -> SlurmError {
    let command = describe(program, args);
    let stderr = one_line(program, &out.stderr);
    if stderr.contains(UNREACHABLE) {
        return SlurmError::Unreachable { command, stderr };
    }
    if let Some(job) = job
        && stderr.contains(INVALID_JOB)
    {
        return SlurmError::UnknownJob(job.to_string());
    }
    let status = match out.status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    };
    SlurmError::Failed {
        command,
        status,
        stderr,
    }
}

/// A command's stderr as one line (errors reach the user as one line): its lines without their
/// `PROGRAM: error: ` / `PROGRAM: fatal: ` prefixes, joined with "; ".
fn one_line(program: &str, stderr: &str) -> String {
    let (error, fatal) = (format!("{program}: error: "), format!("{program}: fatal: "));
    let lines: Vec<&str> = stderr
        .lines()
        .map(|l| l.trim())
        .map(|l| {
            l.strip_prefix(error.as_str())
                .or_else(|| l.strip_prefix(fatal.as_str()))
                .unwrap_or(l)
        })
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        format!("{program} failed without a message")
    } else {
        lines.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line_without_prefixes() {
        // What sbatch printed for `-p nosuch` on the test cluster.
        let stderr = include_str!("../tests/fixtures/sbatch-unknown-partition.stderr");
        assert_eq!(
            one_line("sbatch", stderr),
            "invalid partition specified: nosuch; \
             Batch job submission failed: Invalid partition name specified"
        );
        assert_eq!(one_line("sbatch", ""), "sbatch failed without a message");
        assert_eq!(
            one_line("squeue", "squeue: error: a\nsqueue: fatal: b\n"),
            "a; b"
        );
    }

    #[test]
    fn a_missing_command_is_not_installed() {
        // Any existing file passes the SLURM_CONF check, whatever the caller's environment says.
        let slurm = Slurm::with_conf(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .bin_dir("/nonexistent-slurm-bin");
        match slurm.check() {
            Err(SlurmError::NotInstalled { program, searched }) => {
                assert_eq!(program, "sbatch");
                assert_eq!(searched.as_deref(), Some("/nonexistent-slurm-bin"));
            }
            other => panic!("expected NotInstalled, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_slurm_conf_fails_at_once() {
        let slurm = Slurm::with_conf("/nonexistent/slurm.conf");
        match slurm.queue(1) {
            Err(SlurmError::NoConfig { detail, .. }) => {
                assert!(detail.contains("/nonexistent/slurm.conf"), "{detail}")
            }
            other => panic!("expected NoConfig, got {other:?}"),
        }
    }

    #[test]
    fn later_env_values_replace_earlier_ones() {
        let slurm = Slurm::with_conf("/a/slurm.conf").env("SLURM_CONF", "/b/slurm.conf");
        assert_eq!(
            slurm.env,
            vec![("SLURM_CONF".to_string(), "/b/slurm.conf".to_string())]
        );
    }
}
