//! Runs one Slurm command to completion, with a deadline.
//!
//! Slurm's clients answer in milliseconds when slurmctld is up, but retry for about 9 s per
//! attempt when it is not (`scontrol show job` makes two attempts: 18 s), and could hang on a
//! wedged controller. std has no wait-with-timeout, and the crate keeps to serde and thiserror (no
//! `wait-timeout`/tokio), so this polls `try_wait` while two threads drain stdout and stderr (a
//! full pipe would otherwise block the child forever), and kills the command at the deadline.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Result, SlurmError};

/// What a finished command left.
pub(crate) struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// How to run Slurm's commands: where they are, what environment they get, how long they may take.
pub(crate) struct Runner<'a> {
    pub bin_dir: Option<&'a PathBuf>,
    pub env: &'a [(String, String)],
    pub timeout: Duration,
}

impl Runner<'_> {
    /// Runs `program args...`; a non-zero exit is not an error here (callers read stderr).
    pub fn run(&self, program: &str, args: &[&str]) -> Result<Output> {
        let command = describe(program, args);
        let path = match self.bin_dir {
            Some(dir) => dir.join(program),
            None => PathBuf::from(program),
        };
        let mut child = Command::new(&path)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    SlurmError::NotInstalled {
                        program: program.to_string(),
                        searched: self.bin_dir.map(|d| d.display().to_string()),
                    }
                } else {
                    SlurmError::Io {
                        command: command.clone(),
                        source,
                    }
                }
            })?;
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());

        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        let status = loop {
            let polled = child.try_wait().map_err(|source| SlurmError::Io {
                command: command.clone(),
                source,
            })?;
            if let Some(status) = polled {
                break status;
            }
            if started.elapsed() >= self.timeout {
                // Already exited between the poll and here is fine: kill then fails harmlessly.
                let _ = child.kill();
                let _ = child.wait();
                // The reader threads end when the pipes close; they are not joined, so a
                // grandchild holding a pipe open cannot hang the caller.
                return Err(SlurmError::TimedOut {
                    command,
                    timeout: self.timeout,
                });
            }
            thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        };
        Ok(Output {
            status,
            stdout: join(stdout),
            stderr: join(stderr),
        })
    }
}

fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error leaves what was read so far, which is all there is to report.
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

fn join(handle: thread::JoinHandle<Vec<u8>>) -> String {
    let bytes = handle.join().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The command line as a person would type it, for error messages.
pub(crate) fn describe(program: &str, args: &[&str]) -> String {
    std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ")
}
