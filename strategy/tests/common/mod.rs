//! Reading the shared IB sample bars for tests. They live beside the repository in
//! ../shared/data/ktrdr-ib-samples and are never copied into it.

#![allow(dead_code)]

use std::path::PathBuf;

use ktrdr_market::Bars;
use ktrdr_market::time::parse_utc;

pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ktrdr-ib-samples")
}

/// The sample `name` (e.g. `EURUSD_1h`) as bars; panics with where it looked if it is missing.
pub fn sample(name: &str) -> Bars {
    let path = samples_dir().join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the sample bars {} ({e}); the shared data directory must sit beside the \
             repository (../shared/data relative to its root)",
            path.display()
        )
    });
    let mut cols: (Vec<i64>, [Vec<f64>; 5]) = (Vec::new(), Default::default());
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut f = line.split(',');
        let ts = parse_utc(f.next().unwrap()).unwrap().ms();
        cols.0.push(ts);
        for c in cols.1.iter_mut() {
            c.push(f.next().unwrap().parse().unwrap());
        }
    }
    let [o, h, l, c, v] = cols.1;
    Bars::from_columns(cols.0, o, h, l, c, v).unwrap()
}

/// A fixture CSV with a `ts` column and numeric columns; empty cells are NaN.
pub struct Table {
    pub ts: Vec<i64>,
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
}

pub fn read_table(text: &str) -> Table {
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    let names = header[1..].to_vec();
    let mut t = Table {
        ts: Vec::new(),
        columns: vec![Vec::new(); names.len()],
        names,
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let mut f = line.split(',');
        t.ts.push(f.next().unwrap().parse().unwrap());
        for c in t.columns.iter_mut() {
            let cell = f.next().unwrap();
            c.push(if cell.is_empty() {
                f64::NAN
            } else {
                cell.parse().unwrap()
            });
        }
    }
    t
}

pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
