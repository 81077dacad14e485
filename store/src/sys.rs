//! The store's platform-specific system calls, each beside its fallback, so that the macOS
//! (launchd) build never names a Linux-only item. The daemon is portable Unix otherwise: the peer
//! check goes through `interprocess` (SO_PEERCRED on Linux, LOCAL_PEERCRED on macOS) and sd_notify
//! is a no-op without `NOTIFY_SOCKET`.
//!
//! No Apple target can be built here, so the fallbacks are type-checked on Linux instead, by
//! compiling the crate as if it were not on Linux (`scripts/check-nonlinux.sh`):
//! `cargo rustc -p ktrdr-store --lib --profile check -- --cfg ktrdr_nonlinux`.

/// Advises the kernel to back the whole 2 MiB pages inside `buf` with transparent huge pages, so a
/// freshly allocated buffer of many MiB costs a few page faults instead of thousands. Advice only:
/// it never changes the contents; without THP, and off Linux, nothing happens.
#[cfg(all(target_os = "linux", not(ktrdr_nonlinux)))]
pub fn advise_huge_pages<T>(buf: &[T]) {
    const HUGE: usize = 2 << 20;
    let start = buf.as_ptr() as usize;
    let lo = start.next_multiple_of(HUGE);
    let hi = (start + std::mem::size_of_val(buf)) & !(HUGE - 1);
    if hi > lo {
        // SAFETY: [lo, hi) lies inside `buf`, which is live for the call; MADV_HUGEPAGE changes
        // how the kernel backs those pages, never their contents or validity.
        unsafe {
            libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE);
        }
    }
}

/// Off Linux there are no transparent huge pages to ask for (macOS has no `MADV_HUGEPAGE`).
#[cfg(not(all(target_os = "linux", not(ktrdr_nonlinux))))]
pub fn advise_huge_pages<T>(_buf: &[T]) {}

#[cfg(test)]
mod tests {
    #[test]
    fn advice_leaves_the_contents_alone() {
        let v: Vec<u64> = (0..1_000_000).collect();
        super::advise_huge_pages(&v);
        super::advise_huge_pages::<u8>(&[]);
        assert!(v.iter().enumerate().all(|(i, &x)| x == i as u64));
    }
}
