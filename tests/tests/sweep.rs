//! Sweeps end to end, local executor: the real ktrdrd trains and backtests every cell of a
//! walk-forward sweep on the EURUSD hourly sample; `sweep show` ranks them; a sweep with problems
//! is refused whole before anything runs; a kill -9 in the middle loses nothing and retrains
//! nothing from scratch; `sweep cancel` stops every cell. The Slurm executor: `tests/slurm.rs`.

use ktrdr_tests::sweeps::{last_json_line, strategy, write_sweep};
use ktrdr_tests::{Daemon, eventually, stderr, stdout};
use serde_json::Value;
use std::time::Duration;

fn daemon_with_eurusd(env: &[(&str, &str)]) -> Daemon {
    let d = Daemon::start_with(env);
    d.import_eurusd_hourly();
    let o = d.ctl(&["data", "resample", "EURUSD", "1h", "4h", "--save"]);
    assert!(o.status.success(), "{}", stderr(&o));
    d
}

/// 3 RSI periods, 1h, 2 walk-forward windows: 6 cells.
const SIX_CELLS: &str = "grid:\n  indicators.rsi.period: [7, 14, 21]\nsymbols: [EURUSD]\ntimeframes: [1h]\nevaluation:\n  walk_forward: {from: 2017-05-01, to: 2017-11-01, train: 90d, test: 30d, step: 60d}\n";

fn cell_ops(d: &Daemon) -> Vec<Value> {
    d.ctl_json(&["ops", "list", "--kind", "sweep_cell", "--limit", "1000"])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_local_walk_forward_sweep_is_ranked_and_shown_as_csv() {
    let d = daemon_with_eurusd(&[]);
    let file = write_sweep(&d, "wf", 4, SIX_CELLS);
    let out = d.ctl(&["--json", "sweep", "run", &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    let last = last_json_line(&stdout(&out));
    assert_eq!(last["event"], "final");
    let rec = &last["operation"];
    assert_eq!(rec["state"], "completed", "{rec}");
    assert_eq!(rec["result"]["cells"], 6);
    assert_eq!(rec["result"]["completed"], 6);
    let id = rec["id"].as_u64().unwrap().to_string();

    // Ranked per parameter set, the two windows aggregated.
    let show = d.ctl_json(&["sweep", "show", &id, "--by", "return"]);
    let rows = show["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{show}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["rank"], i as u64 + 1);
        assert_eq!(r["windows"], 2);
        assert_eq!(r["missing_windows"], 0);
    }
    let means: Vec<f64> = rows.iter().map(|r| r["mean"].as_f64().unwrap()).collect();
    assert!(
        means.windows(2).all(|w| w[0] >= w[1]),
        "best first: {means:?}"
    );
    // The mean is the mean of the set's windows' out-of-sample returns.
    let outcomes = show["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 6);
    let cells = show["cells"].as_array().unwrap();
    let best_set = rows[0]["set"].as_u64().unwrap();
    let returns: Vec<f64> = cells
        .iter()
        .filter(|c| c["set"] == best_set)
        .map(|c| {
            let o = outcomes.iter().find(|o| o["cell"] == c["index"]).unwrap();
            o["result"]["metrics"]["total_return"].as_f64().unwrap()
        })
        .collect();
    assert_eq!(returns.len(), 2);
    assert!((means[0] - (returns[0] + returns[1]) / 2.0).abs() < 1e-12);
    // Test windows follow their train windows, never overlapping.
    for c in cells {
        assert!(
            c["train"]["end_ms"].as_i64() <= c["test"]["start_ms"].as_i64(),
            "{c}"
        );
    }
    for o in outcomes {
        assert_eq!(o["state"], "completed", "{o}");
        assert!(o["result"]["backtest_bars"].as_u64().unwrap() > 100, "{o}");
        assert_eq!(o["result"]["ran_on"], "local");
    }
    // Every cell was an operation of its own, and saved its own model.
    assert_eq!(cell_ops(&d).len(), 6);
    let models = d.ctl_json(&["models", "list"])["models"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(models.len(), 6, "one model per cell");

    let csv = d.ctl(&["sweep", "show", &id, "--format", "csv"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let text = stdout(&csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("rank,set,label,"), "{text}");
    assert!(lines[1].contains("indicators.rsi.period="), "{text}");

    let table = d.ctl(&["sweep", "show", &id, "--cells"]);
    assert!(table.status.success());
    let t = stdout(&table);
    assert!(
        t.contains("RANK") && t.contains("WINDOWS") && t.contains("RAN ON"),
        "{t}"
    );
    let list = d.ctl_json(&["sweep", "list"]);
    assert_eq!(list["items"][0]["id"].as_u64().unwrap().to_string(), id);
}

#[test]
fn a_sweep_with_problems_is_refused_whole_before_anything_runs() {
    let d = daemon_with_eurusd(&[]);
    let body = "grid:\n  indicators.rsi.perod: [7, 14]\n  model.training.learning_rat: [0.1]\nsymbols: [EURUSD]\ntimeframes: [1h, 1d]\nevaluation:\n  walk_forward: {from: 2017-05-01, to: 2017-11-01, train: 90d, test: 30d, step: 60d}\n";
    let file = write_sweep(&d, "bad", 2, body);
    let out = d.ctl(&["sweep", "run", &file]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("perod"), "{err}");
    assert!(err.contains("learning_rat"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Paths are checked first; once they are right, the missing daily bars are reported.
    let body = "grid:\n  indicators.rsi.period: [7, 14]\nsymbols: [EURUSD]\ntimeframes: [1h, 1d]\nevaluation:\n  walk_forward: {from: 2016-05-01, to: 2017-11-01, train: 90d, test: 30d, step: 60d}\n";
    let file = write_sweep(&d, "bad2", 2, body);
    let out = d.ctl(&["sweep", "run", &file]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("EURUSD 1d"), "{err}");
    assert!(err.contains("do not cover"), "the 2016 windows: {err}");
    assert!(err.contains("nothing was started"), "{err}");
    let list = d.ctl_json(&["sweep", "list"]);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    assert!(cell_ops(&d).is_empty());
}

/// kill -9 of the daemon while a cell trains: at the next start the sweep goes on by itself;
/// finished cells are kept, the interrupted one continues from its checkpoint, none trains twice
/// from scratch, and no result is lost or duplicated.
#[test]
fn kill_9_in_the_middle_of_a_sweep_resumes_it_from_checkpoints() {
    let mut d = daemon_with_eurusd(&[("KTRDR_SWEEPS_MAX_PARALLEL", "1")]);
    let body = "grid:\n  indicators.rsi.period: [7, 14]\nsymbols: [EURUSD]\ntimeframes: [1h]\nevaluation:\n  walk_forward: {from: 2017-05-01, to: 2017-10-01, train: 90d, test: 30d, step: 30d}\n";
    let file = write_sweep(&d, "kill", 60, body);
    let started = d.ctl_json(&["sweep", "run", &file, "--detach"]);
    let id = started["id"].as_u64().unwrap();
    // Wait until one cell is done and the next has finished a few epochs (checkpoints).
    let mut interrupted = 0;
    assert!(
        eventually(Duration::from_secs(120), || {
            let ops = cell_ops(&d);
            let done = ops.iter().filter(|o| o["state"] == "completed").count();
            let deep = ops.iter().find(|o| {
                o["state"] == "running" && o["progress"]["step"].as_u64().unwrap_or(0) >= 6
            });
            if let (true, Some(o)) = (done >= 1, deep) {
                interrupted = o["id"].as_u64().unwrap();
                true
            } else {
                false
            }
        }),
        "no cell got far enough; log:\n{}",
        d.log_text()
    );
    d.signal(libc::SIGKILL);
    d.wait_exit(Duration::from_secs(10));
    d.spawn();
    let id_s = id.to_string();
    let watched = d.ctl(&["--json", "ops", "watch", &id_s]);
    assert!(
        watched.status.success(),
        "{}\n{}",
        stderr(&watched),
        d.log_text()
    );
    let last = last_json_line(&stdout(&watched));
    let rec = &last["operation"];
    assert_eq!(rec["state"], "completed", "{rec}");
    let result = &rec["result"];
    assert_eq!(result["completed"], 4, "{result}");
    assert!(result["resumed"].as_u64().unwrap() >= 1, "{result}");
    // The interrupted cell continued under its own id, from a checkpoint.
    let outcomes = result["outcomes"].as_array().unwrap();
    let o = outcomes
        .iter()
        .find(|o| o["operation"].as_u64() == Some(interrupted))
        .unwrap_or_else(|| panic!("cell op {interrupted} not in {result}"));
    let resumed = o["result"]["resumed_from_epoch"].as_u64().unwrap();
    assert!(resumed >= 5, "{o}");
    assert_eq!(o["result"]["epochs_run"], 60);
    // One operation and one model per cell: nothing trained twice, nothing duplicated.
    let ops = cell_ops(&d);
    assert_eq!(ops.len(), 4, "{ops:?}");
    assert!(ops.iter().all(|o| o["state"] == "completed"));
    let models = d.ctl_json(&["models", "list"])["models"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(models.len(), 4, "{models:?}");
    assert!(
        d.log_text()
            .contains("resuming a sweep: finished cells are kept")
    );
    // Finished: no checkpoint is left behind.
    let ckpts: Vec<_> = walk(&d.state_dir())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    assert!(ckpts.is_empty(), "{ckpts:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                todo.extend(rd.flatten().map(|e| e.path()));
            }
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn sweep_cancel_stops_every_cell_and_removes_checkpoints() {
    let d = daemon_with_eurusd(&[("KTRDR_SWEEPS_MAX_PARALLEL", "2")]);
    let file = write_sweep(&d, "cancel", 400, SIX_CELLS);
    let started = d.ctl_json(&["sweep", "run", &file, "--detach"]);
    let id = started["id"].as_u64().unwrap().to_string();
    assert!(eventually(Duration::from_secs(60), || {
        cell_ops(&d)
            .iter()
            .filter(|o| o["state"] == "running" && o["progress"]["step"].as_u64().unwrap_or(0) >= 2)
            .count()
            == 2
    }));
    let out = d.ctl(&["sweep", "cancel", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(eventually(Duration::from_secs(20), || {
        d.ctl_json(&["ops", "show", &id])["state"] == "cancelled"
    }));
    let ops = cell_ops(&d);
    assert_eq!(
        ops.len(),
        2,
        "cells not started never became operations: {ops:?}"
    );
    assert!(ops.iter().all(|o| o["state"] == "cancelled"), "{ops:?}");
    let ckpts: Vec<_> = walk(&d.state_dir())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ckpt"))
        .collect();
    assert!(ckpts.is_empty(), "{ckpts:?}");
    // Ranked on what finished (nothing): every row says its windows are missing.
    let show = d.ctl_json(&["sweep", "show", &id]);
    assert!(
        show["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["windows"] == 0)
    );
}

/// `ops resume` continues an interrupted training from its checkpoint, and (CPU, fixed seed) it
/// ends where an uninterrupted training of the same strategy ends.
#[test]
fn an_interrupted_training_resumes_to_the_same_model() {
    let mut d = daemon_with_eurusd(&[]);
    let strategy = strategy(80);
    let path = d.dir.path().join("t.yaml");
    std::fs::write(&path, strategy).unwrap();
    let p = path.display().to_string();
    let args = [
        "train",
        p.as_str(),
        "--start",
        "2017-05-01",
        "--end",
        "2017-08-01",
    ];
    let mut followed = vec!["--json"];
    followed.extend_from_slice(&args);
    let out = d.ctl(&followed);
    assert!(out.status.success(), "{}", stderr(&out));
    let full = last_json_line(&stdout(&out))["operation"]["result"].clone();
    let mut detached = args.to_vec();
    detached.push("--detach");
    let started = d.ctl_json(&detached);
    let id = started["id"].as_u64().unwrap().to_string();
    assert!(eventually(Duration::from_secs(60), || {
        let r = d.ctl_json(&["ops", "show", &id]);
        r["progress"]["step"].as_u64().unwrap_or(0) >= 10
    }));
    d.signal(libc::SIGKILL);
    d.wait_exit(Duration::from_secs(10));
    d.spawn();
    assert_eq!(d.ctl_json(&["ops", "show", &id])["state"], "interrupted");
    let out = d.ctl(&["--json", "ops", "resume", &id]);
    assert!(out.status.success(), "{}\n{}", stderr(&out), d.log_text());
    let last = last_json_line(&stdout(&out));
    let r = &last["operation"]["result"];
    assert!(r["resumed_from_epoch"].as_u64().unwrap() >= 9, "{r}");
    assert_eq!(r["epochs_run"], 80);
    for key in ["test_accuracy", "test_loss", "best_epoch"] {
        assert_eq!(
            r[key], full[key],
            "{key}: resumed {r} vs uninterrupted {full}"
        );
    }
    assert_eq!(full["resumed_from_epoch"], Value::Null);
    // Resuming twice is refused.
    let again = d.ctl(&["ops", "resume", &id]);
    assert_eq!(again.status.code(), Some(6), "{}", stderr(&again));
}

/// A graceful stop (SIGTERM) interrupts a training instead of cancelling it, keeps its checkpoint,
/// and `ops resume` continues it after the restart.
#[test]
fn a_graceful_stop_leaves_a_training_resumable() {
    let mut d = daemon_with_eurusd(&[]);
    let strategy = strategy(80);
    let path = d.dir.path().join("t.yaml");
    std::fs::write(&path, strategy).unwrap();
    let p = path.display().to_string();
    let started = d.ctl_json(&[
        "train",
        &p,
        "--start",
        "2017-05-01",
        "--end",
        "2017-08-01",
        "--detach",
    ]);
    let id = started["id"].as_u64().unwrap().to_string();
    assert!(eventually(Duration::from_secs(60), || {
        d.ctl_json(&["ops", "show", &id])["progress"]["step"]
            .as_u64()
            .unwrap_or(0)
            >= 5
    }));
    d.signal(libc::SIGTERM);
    d.wait_exit(Duration::from_secs(30));
    let ckpt = d
        .state_dir()
        .join("checkpoints")
        .join(format!("training-{id}.ckpt"));
    assert!(ckpt.is_file(), "the checkpoint is kept for the resume");
    d.spawn();
    let rec = d.ctl_json(&["ops", "show", &id]);
    assert_eq!(rec["state"], "interrupted", "{rec}");
    assert!(
        rec["error"]["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("ops resume"),
        "{rec}"
    );
    let out = d.ctl(&["--json", "ops", "resume", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = &last_json_line(&stdout(&out))["operation"]["result"];
    assert!(r["resumed_from_epoch"].as_u64().unwrap() >= 4, "{r}");
    assert!(!ckpt.exists(), "removed once the training completed");
}

/// `ktrdrd job run` without its spec, or with a damaged one: one clear line and an exit code.
#[test]
fn a_worker_without_a_usable_spec_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("cells/0/spec.json");
    let out = std::process::Command::new(ktrdr_tests::ktrdrd_bin())
        .args(["job", "run"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("no job spec at"), "{}", stderr(&out));
    let damaged = dir.path().join("spec.json");
    std::fs::write(&damaged, "{\"job\": ").unwrap();
    let out = std::process::Command::new(ktrdr_tests::ktrdrd_bin())
        .args(["job", "run"])
        .arg(&damaged)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(stderr(&out).contains("is damaged"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}
