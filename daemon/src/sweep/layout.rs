//! The files of a sweep, under `<shared_dir>/<sweep id>/` (`slurm.shared_dir`, by default
//! `<state_dir>/sweeps`):
//!
//! ```text
//! slurm_jobs           the array jobs submitted for it, one id per line, oldest first
//! worker.sh            the script every array task runs
//! cells/<index>/spec.json        what the task runs (ktrdrd job run SPEC)
//! cells/<index>/checkpoint.ckpt  the training's state after its last finished epoch
//! cells/<index>/progress.json    the task's latest progress
//! cells/<index>/result.json      the cell's result: present means done
//! cells/<index>/task.log         the task's stdout and stderr (Slurm)
//! ```
//!
//! Local cells use the same directories (no spec, script or log), so a resumed sweep finds its
//! finished cells and its checkpoints the same way whichever executor ran them. Every file is
//! written atomically: a reader (this daemon, another node) sees a whole file or none.

use ktrdr_protocol::WireError;
use ktrdr_protocol::model::Progress;
use ktrdr_protocol::sweep::CellResult;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct SweepDir {
    pub root: PathBuf,
}

impl SweepDir {
    pub fn new(shared: &Path, sweep: u64) -> SweepDir {
        SweepDir {
            root: shared.join(sweep.to_string()),
        }
    }

    pub fn cell(&self, index: u32) -> CellDir {
        CellDir {
            dir: self.root.join("cells").join(index.to_string()),
        }
    }

    pub fn script(&self) -> PathBuf {
        self.root.join("worker.sh")
    }

    fn jobs_file(&self) -> PathBuf {
        self.root.join("slurm_jobs")
    }

    /// The array jobs this sweep submitted, oldest first (a resumed sweep submits the cells
    /// its earlier arrays no longer hold).
    pub fn slurm_jobs(&self) -> Vec<u64> {
        std::fs::read_to_string(self.jobs_file())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    }

    /// The newest array job.
    pub fn slurm_job(&self) -> Option<u64> {
        self.slurm_jobs().last().copied()
    }

    pub fn add_slurm_job(&self, job: u64) -> Result<(), WireError> {
        let mut jobs = self.slurm_jobs();
        jobs.push(job);
        let text: Vec<String> = jobs.iter().map(u64::to_string).collect();
        write(
            &self.jobs_file(),
            format!("{}\n", text.join("\n")).as_bytes(),
        )
    }
}

#[derive(Debug, Clone)]
pub struct CellDir {
    pub dir: PathBuf,
}

impl CellDir {
    pub fn spec(&self) -> PathBuf {
        self.dir.join("spec.json")
    }
    pub fn checkpoint(&self) -> PathBuf {
        self.dir.join("checkpoint.ckpt")
    }
    pub fn progress_file(&self) -> PathBuf {
        self.dir.join("progress.json")
    }
    pub fn result_file(&self) -> PathBuf {
        self.dir.join("result.json")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("task.log")
    }

    pub fn create(&self) -> Result<(), WireError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io(&self.dir, e))
    }

    /// The cell's result, if it finished. A file that cannot be read back is an error, never
    /// taken for "not done" (that would train the cell again).
    pub fn result(&self) -> Result<Option<CellResult>, WireError> {
        read_json(
            &self.result_file(),
            Some("remove it to run that cell again"),
        )
    }

    pub fn write_result(&self, r: &CellResult) -> Result<(), WireError> {
        write_json(&self.result_file(), r)
    }

    pub fn progress(&self) -> Option<Progress> {
        read_json(&self.progress_file(), None).ok().flatten()
    }

    pub fn write_progress(&self, p: &Progress) -> Result<(), WireError> {
        write_json(&self.progress_file(), p)
    }

    /// The last lines of the task's log, for an error message.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        all[all.len().saturating_sub(lines)..].join(" | ")
    }
}

/// The file's value, `None` when it does not exist; a file that does not read back is an error
/// (with `damaged_hint`, when there is something to do about it).
pub fn read_json<T: DeserializeOwned>(
    path: &Path,
    damaged_hint: Option<&str>,
) -> Result<Option<T>, WireError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            let err = WireError::internal(format!("{} is damaged: {e}", path.display()));
            match damaged_hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, e)),
    }
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WireError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| WireError::internal(format!("cannot encode {}: {e}", path.display())))?;
    write(path, &bytes)
}

pub fn write(path: &Path, bytes: &[u8]) -> Result<(), WireError> {
    ktrdr_atomicfile::write_atomic(path, |w| w.write_all(bytes)).map_err(|e| io(path, e))
}

fn io(path: &Path, e: std::io::Error) -> WireError {
    let err = WireError::internal(format!("{}: {e}", path.display()));
    if e.raw_os_error() == Some(libc::ENOSPC) {
        err.with_hint("the disk is full: free space, then resume the sweep")
    } else {
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_round_trip_and_damage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let sweep = SweepDir::new(dir.path(), 7);
        let cell = sweep.cell(3);
        assert!(cell.dir.ends_with("7/cells/3"));
        cell.create().unwrap();
        assert_eq!(cell.result().unwrap(), None);
        let r = CellResult {
            model: "m/EURUSD_1h_v1".into(),
            epochs_run: 4,
            ..CellResult::default()
        };
        cell.write_result(&r).unwrap();
        assert_eq!(cell.result().unwrap(), Some(r));
        std::fs::write(cell.result_file(), b"{\"model\": ").unwrap();
        let e = cell.result().unwrap_err();
        assert!(e.message.contains("damaged"), "{e:?}");
        assert_eq!(sweep.slurm_job(), None);
        std::fs::create_dir_all(&sweep.root).unwrap();
        sweep.add_slurm_job(42).unwrap();
        sweep.add_slurm_job(43).unwrap();
        assert_eq!(sweep.slurm_jobs(), vec![42, 43]);
        assert_eq!(sweep.slurm_job(), Some(43));
    }
}
