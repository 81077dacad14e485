//! The subscriptions, persisted as one JSON document in the state directory, replaced atomically
//! on every change, so a daemon that restarts (or crashes) resumes exactly the list it had.

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub symbol: String,
    pub timeframe: String,
    pub since_ms: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Document {
    subscriptions: Vec<Saved>,
}

/// The saved list; none when the file does not exist yet.
pub fn read(path: &Path) -> Result<Vec<Saved>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<Document>(&bytes)
            .map(|d| d.subscriptions)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

pub fn write(path: &Path, subs: &[Saved]) -> std::io::Result<()> {
    let doc = Document {
        subscriptions: subs.to_vec(),
    };
    let text = serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?;
    ktrdr_atomicfile::write_atomic(path, |w| w.write_all(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("subscriptions.json");
        assert_eq!(read(&p).unwrap(), Vec::new());
        let subs = vec![Saved {
            symbol: "EURUSD".into(),
            timeframe: "1m".into(),
            since_ms: 5,
        }];
        write(&p, &subs).unwrap();
        assert_eq!(read(&p).unwrap(), subs);
        std::fs::write(&p, b"{not json").unwrap();
        assert!(read(&p).unwrap_err().contains("subscriptions.json"));
    }
}
