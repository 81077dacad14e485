//! Every indicator against the pandas reference (scripts/reference_indicators.py) on the IB samples:
//! the same rows undefined (warm-up), and within 1e-6 relative error everywhere after.

mod common;

use common::{fixture, read_table, sample};
use ktrdr_strategy::Indicator;
use ktrdr_strategy::params::ParamValue;

/// Relative error, with an absolute floor of 1e-12 for values that are zero up to rounding (a MACD
/// histogram crossing zero, an EURUSD momentum of 0): relative error is meaningless there.
fn close_enough(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-6 * want.abs().max(1e-6)
}

fn cases() -> Vec<Indicator> {
    fixture("reference_cases.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap();
            let params: Vec<_> = words
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap();
                    (k.to_string(), ParamValue::Text(v.to_string()))
                })
                .collect();
            Indicator::new(name, &params).unwrap()
        })
        .collect()
}

fn check(sample_name: &str) {
    let bars = sample(sample_name);
    let table = read_table(&fixture(&format!("{sample_name}_reference.csv")));
    assert_eq!(
        table.ts,
        bars.ts(),
        "the fixture's rows are not the sample's bars; regenerate it"
    );
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for ind in cases() {
        for (name, got) in ind.output_names().into_iter().zip(ind.compute_bars(&bars)) {
            let Some(k) = table.names.iter().position(|n| *n == name) else {
                failures.push(format!("{name}: no reference column"));
                continue;
            };
            let want = &table.columns[k];
            let mut worst = (0.0f64, 0usize);
            for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
                if g.is_nan() != w.is_nan() {
                    failures.push(format!("{name} row {i}: got {g}, reference {w}"));
                    break;
                }
                if !w.is_nan() && !close_enough(g, w) {
                    let rel = (g - w).abs() / w.abs().max(1e-6);
                    if rel > worst.0 {
                        worst = (rel, i);
                    }
                }
            }
            if worst.0 > 0.0 {
                let i = worst.1;
                failures.push(format!(
                    "{name} row {i}: got {}, reference {} (relative error {:e})",
                    got[i], want[i], worst.0
                ));
            }
            checked.push(name);
        }
    }
    let missing: Vec<_> = table
        .names
        .iter()
        .filter(|n| !checked.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "reference columns nothing computed: {missing:?}"
    );
    assert!(
        failures.is_empty(),
        "{sample_name}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn eurusd_1h_matches_the_reference() {
    check("EURUSD_1h");
}

#[test]
fn aapl_1h_matches_the_reference() {
    check("AAPL_1h");
}

/// The forex sample has volume 0 throughout: volume indicators are undefined, not zero or infinite.
#[test]
fn eurusd_volume_indicators_are_undefined() {
    let bars = sample("EURUSD_1h");
    assert!(bars.volume().iter().all(|&v| v <= 0.0));
    for name in ["obv", "mfi", "vwap", "cmf"] {
        let col = &Indicator::new(name, &[]).unwrap().compute_bars(&bars)[0];
        assert!(col.iter().all(|v| v.is_nan()), "{name}");
    }
}
