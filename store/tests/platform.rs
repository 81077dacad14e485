//! The macOS (launchd) build depends on Linux-only calls staying in `src/sys.rs`, each beside its
//! fallback: a `libc::madvise` / `MADV_*` named anywhere else compiles only on Linux (it once sat
//! unguarded in the CSV fast path). No Apple target can be built here, so this checks the rule on
//! the source; `scripts/check-nonlinux.sh` type-checks the fallbacks themselves.

use std::path::Path;

#[test]
fn linux_only_calls_stay_in_sys_rs() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut files = 0;
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "rs") || p.ends_with("sys.rs") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        for (n, line) in text.lines().enumerate() {
            if ["libc::madvise", "libc::MADV_", "MAP_HUGETLB", "/proc/"]
                .iter()
                .any(|item| line.contains(item))
            {
                found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        files >= 5,
        "the store's sources were not found in {}",
        src.display()
    );
    assert!(
        found.is_empty(),
        "Linux-only calls outside sys.rs:\n{}",
        found.join("\n")
    );
}
