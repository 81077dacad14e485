//! Atomic file replacement, one implementation for `ktrdrd` and `ktrdrctl`.
//!
//! [`write_atomic`] writes a whole file under a hidden temporary name in the target's directory
//! (`.NAME.tmp-XXXXXX`), through a buffer whose final flush is checked, fsyncs it, renames it over
//! the target and fsyncs the directory. Readers, and the next start after a crash, see the old file
//! or the new one, never part of one. On an error the temporary is removed and the target is as it
//! was (except after a failed directory fsync, see [`write_atomic`]). Only a crash can leave a
//! temporary behind; [`is_temporary`] recognises them so their owner can remove them at start.
//!
//! Depends on `tempfile` and std only: `ktrdrctl` links it and must stay small.

use std::fs::{File, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// What every temporary's name contains, after a leading `.` and (part of) the target's name.
pub const TEMP_MARKER: &str = ".tmp-";

/// Big enough that serializers writing a few bytes at a time cost few system calls.
const BUFFER_BYTES: usize = 1 << 16;

/// Leaves room in a 255-byte file name for the marker and tempfile's random suffix.
const MAX_NAME_PART: usize = 128;

/// Whether a directory entry is a temporary of an interrupted write (or another hidden `.tmp-`
/// name, which the stores treat alike).
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(TEMP_MARKER)
}

/// Replaces `target` with what `write` produces, atomically and durably (see the crate
/// documentation). The file is created with mode 0o666 less the umask, as `File::create` would.
///
/// `write` gets a buffered writer; it need not flush. An error from `write`, from the final flush
/// (a full disk usually shows here), the fsync or the rename removes the temporary and leaves the
/// target untouched. An error from the directory fsync comes after the rename: the new content is in
/// place but may not survive a power loss.
pub fn write_atomic<F>(target: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    write_atomic_mode(target, 0o666, write)
}

/// [`write_atomic`] creating the file with `mode` (less the umask) instead of 0o666.
pub fn write_atomic_mode<F>(target: &Path, mode: u32, write: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} does not name a file", target.display()),
        )
    })?;
    let name = name.to_string_lossy();
    let mut cut = name.len().min(MAX_NAME_PART);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{}{TEMP_MARKER}", &name[..cut]))
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| context(&format!("create a temporary file in {}", dir.display()), e))?;
    let mut out = BufWriter::with_capacity(BUFFER_BYTES, tmp);
    write(&mut out)?;
    // `into_inner` flushes and reports a failed flush; dropping the BufWriter instead would swallow
    // it, and a full disk would then give a truncated file renamed into place as complete.
    let tmp = out
        .into_inner()
        .map_err(|e| context("flush", e.into_error()))?;
    tmp.as_file().sync_all().map_err(|e| context("fsync", e))?;
    tmp.persist(target)
        .map_err(|e| context("rename", e.error))?;
    sync_dir(dir)
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    let synced = File::open(dir).and_then(|d| d.sync_all());
    match synced {
        // Some filesystems cannot sync a directory at all; there is nothing more to wait for.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(context(
            &format!(
                "renamed into place, but fsync of {} failed (the change may not survive a crash)",
                dir.display()
            ),
            e,
        )),
        Ok(()) => Ok(()),
    }
}

fn context(what: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// For tests of code that writes through this crate, here and in its users (feature `testing`).
#[cfg(any(test, feature = "testing"))]
pub mod testing {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::process::Command;

    /// The test `name` (libtest's name, without the crate) of the calling test binary, run again
    /// in a child process whose file size limit is `limit` bytes: writes past it fail (EFBIG) much
    /// like on a full disk, without root and without limiting the multi-threaded test process.
    /// Returns false in the parent after checking the child passed; true in the child, which then
    /// runs the test body under the limit.
    pub fn under_file_size_limit(name: &str, limit: u64) -> bool {
        const CHILD: &str = "KTRDR_ATOMICFILE_FSIZE_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            // SAFETY: plain system calls on this process; SIGXFSZ ignored makes an oversized write
            // fail with EFBIG instead of killing the process.
            unsafe {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
            }
            return true;
        }
        let out = Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "child failed:\n{text}");
        assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
        false
    }

    /// A tmpfs of `bytes` mounted on a fresh directory (root only), unmounted on drop: a real full
    /// filesystem. `None`, with the reason printed, where mounting is not permitted; the
    /// file-size-limit harness above covers the same paths without root.
    pub struct Tmpfs {
        dir: tempfile::TempDir,
    }

    impl Tmpfs {
        pub fn mount(bytes: u64) -> Option<Tmpfs> {
            let dir = tempfile::tempdir().ok()?;
            let path = CString::new(dir.path().as_os_str().as_bytes()).ok()?;
            let opts = CString::new(format!("size={bytes}")).ok()?;
            // SAFETY: NUL-terminated strings that outlive the call.
            let rc = unsafe {
                libc::mount(
                    c"tmpfs".as_ptr(),
                    path.as_ptr(),
                    c"tmpfs".as_ptr(),
                    0,
                    opts.as_ptr().cast(),
                )
            };
            if rc != 0 {
                eprintln!(
                    "skipped: cannot mount a tmpfs here ({}); the file-size-limit test covers the same path",
                    std::io::Error::last_os_error()
                );
                return None;
            }
            Some(Tmpfs { dir })
        }

        pub fn path(&self) -> &Path {
            self.dir.path()
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            if let Ok(path) = CString::new(self.dir.path().as_os_str().as_bytes()) {
                // SAFETY: a NUL-terminated path; MNT_DETACH so a still-open file cannot keep it busy.
                unsafe {
                    libc::umount2(path.as_ptr(), libc::MNT_DETACH);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_target_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        std::fs::write(&target, b"old").unwrap();
        write_atomic(&target, |w| w.write_all(b"new content")).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"new content");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn an_error_from_the_writer_keeps_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        std::fs::write(&target, b"old").unwrap();
        let e = write_atomic(&target, |w| {
            w.write_all(&[b'x'; 3 * BUFFER_BYTES])?;
            Err(io::Error::other("encoder gave up"))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "encoder gave up");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn a_long_name_works_and_a_path_without_a_file_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let long = "n".repeat(250);
        let target = dir.path().join(&long);
        write_atomic(&target, |w| w.write_all(b"1")).unwrap();
        assert_eq!(names(dir.path()), [long]);
        assert!(write_atomic(Path::new("/"), |w| w.write_all(b"1")).is_err());
    }

    #[test]
    fn modes_are_those_of_file_create_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain");
        File::create(&plain).unwrap();
        let ours = dir.path().join("ours");
        write_atomic(&ours, |w| w.write_all(b"1")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&ours), mode(&plain));
        let private = dir.path().join("private");
        write_atomic_mode(&private, 0o600, |w| w.write_all(b"1")).unwrap();
        assert_eq!(mode(&private), 0o600);
    }

    #[test]
    fn temporaries_are_recognised() {
        assert!(is_temporary(".a.json.tmp-x1Y2z3"));
        assert!(is_temporary(".tmp-strategy-1-2-3"));
        assert!(!is_temporary("a.json"));
        assert!(!is_temporary("a.tmp-1"));
    }

    #[test]
    fn a_failed_final_flush_is_an_error_and_leaves_the_old_file() {
        if !testing::under_file_size_limit(
            "tests::a_failed_final_flush_is_an_error_and_leaves_the_old_file",
            4096,
        ) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        std::fs::write(&target, b"old").unwrap();
        // Less than the buffer: every byte reaches the file in the final flush only.
        let e = write_atomic(&target, |w| w.write_all(&[b'x'; 10_000])).unwrap_err();
        assert!(e.to_string().starts_with("flush: "), "{e}");
        assert_eq!(std::fs::read(&target).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["a.json"]);
    }

    #[test]
    fn a_full_filesystem_is_an_error_and_leaves_the_old_file() {
        let Some(fs) = testing::Tmpfs::mount(64 << 10) else {
            return;
        };
        let target = fs.path().join("a.json");
        std::fs::write(&target, b"old").unwrap();
        std::fs::write(fs.path().join("filler"), vec![0u8; 48 << 10]).unwrap();
        for size in [30 << 10, 200 << 10] {
            let e = write_atomic(&target, |w| w.write_all(&vec![b'x'; size])).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::StorageFull, "{size}: {e}");
            assert_eq!(std::fs::read(&target).unwrap(), b"old");
            assert_eq!(names(fs.path()), ["a.json", "filler"]);
        }
    }
}
