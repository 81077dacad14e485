//! The daemon's one pattern, checked on its source: handlers (`src/cmd/`) call service methods
//! only, never a service's manager, store, peer or registry, and no function in the workspace needs
//! a `too_many_arguments` allowance (requests travel as structs). A test rather than a review note,
//! so a shortcut taken under pressure fails CI instead of eroding the layering.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn handlers_reach_services_only_through_their_methods() {
    let fields = [
        ".manager",
        ".store",
        ".host",
        ".peer",
        ".registry",
        ".results",
        ".gateway",
        ".cache",
    ];
    let mut found = Vec::new();
    let files = sources(&src().join("cmd"));
    assert!(files.len() >= 10, "the handlers were not found: {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for field in fields {
                // `.store(` is an atomic store, not the model store field.
                let hit = code.match_indices(field).any(|(i, _)| {
                    let rest = &code[i + field.len()..];
                    !rest.starts_with(|c: char| c == '(' || c == '_' || c.is_alphanumeric())
                });
                if hit {
                    found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "handlers touching internals:\n{}",
        found.join("\n")
    );
}

/// Across the workspace, not only the daemon: a function that wants that many arguments wants a
/// struct (ktrdrctl's install report and the fake gateway's request log had one each).
#[test]
fn no_function_needs_too_many_arguments() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut crates = 0;
    let mut found = Vec::new();
    for e in std::fs::read_dir(&root).unwrap() {
        let dir = e.unwrap().path();
        if !dir.join("Cargo.toml").is_file() || !dir.join("src").is_dir() {
            continue;
        }
        crates += 1;
        for f in sources(&dir.join("src")) {
            if std::fs::read_to_string(&f)
                .unwrap()
                .contains(concat!("too_many", "_arguments"))
            {
                found.push(f.display().to_string());
            }
        }
    }
    assert!(
        crates >= 10,
        "the workspace's crates were not found under {}",
        root.display()
    );
    assert!(found.is_empty(), "{found:?}");
}
