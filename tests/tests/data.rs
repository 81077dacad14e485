//! End-to-end tests of the `data` service: a real ktrdrd over a data directory holding copies of the
//! shared sample files, driven by the real ktrdrctl.
//!
//! Window semantics under test: `--start` is inclusive, `--end` exclusive, and a plain-date `--end`
//! includes that whole day.

use ktrdr_tests::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A daemon whose data directory holds copies of the given IB sample files.
fn daemon_with(samples: &[&str]) -> Daemon {
    let mut d = Daemon::unstarted(&[]);
    std::fs::create_dir_all(d.data_dir()).unwrap();
    for s in samples {
        std::fs::copy(
            shared(&format!("ktrdr-ib-samples/{s}.csv")),
            d.data_dir().join(format!("{s}.csv")),
        )
        .unwrap();
    }
    d.spawn();
    d
}

fn json_lines(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn show(d: &Daemon, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json", "data", "show"];
    all.extend_from_slice(args);
    json_lines(&d.ctl(&all))
}

#[test]
fn list_show_and_range_on_the_samples() {
    let d = daemon_with(&["AAPL_1h", "EURUSD_1h", "MSFT_1m"]);
    let list = d.ctl_json(&["data", "list"]);
    let names: Vec<String> = list["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}_{}",
                s["symbol"].as_str().unwrap(),
                s["timeframe"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["AAPL_1h", "EURUSD_1h", "MSFT_1m"]);

    let bars = show(&d, &["aapl", "1h"]);
    assert_eq!(bars.len(), 153);
    assert_eq!(bars[0]["timestamp"], "2025-05-22T08:00:00Z");
    assert_eq!(bars[0]["open"], 202.02);
    assert_eq!(bars[0]["volume"], 15812.0);

    let r = d.ctl_json(&["data", "range", "EURUSD", "1h"]);
    assert_eq!(r["rows"], 2591);
    assert_eq!(r["first"], "2025-01-02T00:00:00Z");

    assert_eq!(show(&d, &["MSFT", "1m", "--rows", "5"]).len(), 5);
    let tail = show(&d, &["MSFT", "1m", "--tail", "2"]);
    let all = show(&d, &["MSFT", "1m"]);
    assert_eq!(all.len(), 5746);
    assert_eq!(tail[..], all[all.len() - 2..]);

    // The second read of a series is served from the cache.
    let stats = d.ctl_json(&["stats"]);
    let data = stats["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "data")
        .unwrap();
    assert!(
        data["counters"]["cache_hits"].as_u64().unwrap() >= 2,
        "{data}"
    );
    let health = d.ctl_json(&["health"]);
    assert!(
        health["services"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "data" && s["status"] == "ok")
    );
}

#[test]
fn csv_output_reproduces_the_predecessor_file() {
    let d = daemon_with(&["AAPL_1h", "EURUSD_1h"]);
    for s in ["AAPL_1h", "EURUSD_1h"] {
        let (sym, tf) = s.split_once('_').unwrap();
        let out = d.ctl(&["data", "show", sym, tf, "--format", "csv"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let orig = std::fs::read_to_string(shared(&format!("ktrdr-ib-samples/{s}.csv"))).unwrap();
        assert_eq!(stdout(&out), orig, "{s}");
    }
}

#[test]
fn window_edges() {
    let d = daemon_with(&["AAPL_1h"]);
    // Bars at 08:00, 09:00, 10:00 ... on 2025-05-22.
    let b = show(
        &d,
        &[
            "AAPL",
            "1h",
            "--start",
            "2025-05-22T09:00:00Z",
            "--end",
            "2025-05-22T11:00:00Z",
        ],
    );
    let times: Vec<&str> = b.iter().map(|v| v["timestamp"].as_str().unwrap()).collect();
    assert_eq!(
        times,
        ["2025-05-22T09:00:00Z", "2025-05-22T10:00:00Z"],
        "start inclusive, end exclusive"
    );
    // An offset is honoured: 05:00-04:00 is 09:00 UTC.
    let b = show(
        &d,
        &[
            "AAPL",
            "1h",
            "--start",
            "2025-05-22T05:00:00-04:00",
            "--rows",
            "1",
        ],
    );
    assert_eq!(b[0]["timestamp"], "2025-05-22T09:00:00Z");
    // A plain-date end includes that whole day.
    let day = show(
        &d,
        &["AAPL", "1h", "--start", "2025-05-22", "--end", "2025-05-22"],
    );
    assert!(!day.is_empty());
    assert!(
        day.iter()
            .all(|v| v["timestamp"].as_str().unwrap().starts_with("2025-05-22"))
    );
    let next = show(&d, &["AAPL", "1h", "--start", "2025-05-23", "--rows", "1"]);
    assert!(
        next[0]["timestamp"].as_str().unwrap() > day.last().unwrap()["timestamp"].as_str().unwrap()
    );
    // An empty window is not an error.
    assert!(show(&d, &["AAPL", "1h", "--start", "2030-01-01"]).is_empty());
}

#[test]
fn bad_input_is_exit_code_2_with_a_hint() {
    let d = daemon_with(&["AAPL_1h"]);
    let cases: [(&[&str], &str); 6] = [
        (&["data", "show", "../etc", "1h"], "symbol"),
        (&["data", "show", "AAPL", "2h"], "timeframe"),
        (
            &["data", "show", "AAPL", "1h", "--start", "2025-02-30"],
            "--start",
        ),
        (
            &["data", "show", "AAPL", "1h", "--end", "yesterday"],
            "--end",
        ),
        (
            &[
                "data",
                "show",
                "AAPL",
                "1h",
                "--start",
                "2025-06-01",
                "--end",
                "2025-05-01",
            ],
            "not before",
        ),
        (&["data", "resample", "AAPL", "1h", "5m"], "cannot resample"),
    ];
    for (args, needle) in cases {
        let out = d.ctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains(needle) && err.contains("hint:"),
            "{args:?}: {err}"
        );
    }
    let out = d.ctl(&["data", "show", "ZZZZ", "1h"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let out = d.ctl(&[
        "data",
        "import",
        "/nonexistent.csv",
        "--symbol",
        "X",
        "--timeframe",
        "1h",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let out = d.ctl(&[
        "data",
        "import",
        "x.csv",
        "--symbol",
        "X",
        "--timeframe",
        "1h",
        "--timezone",
        "Mars/Base",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn import_both_layouts_then_export_and_reimport() {
    let d = daemon_with(&[]);
    let goog = shared("public/GOOG.csv");
    let r = d.ctl_json(&[
        "data",
        "import",
        goog.to_str().unwrap(),
        "--symbol",
        "goog",
        "--timeframe",
        "1d",
    ]);
    assert_eq!(
        (r["rows_read"].as_u64(), r["layout"].as_str()),
        (Some(2148), Some("index"))
    );
    // Again: every bar is replaced by itself, nothing added.
    let again = d.ctl_json(&[
        "data",
        "import",
        goog.to_str().unwrap(),
        "--symbol",
        "GOOG",
        "--timeframe",
        "1d",
    ]);
    assert_eq!(
        (
            again["added"].as_u64(),
            again["replaced"].as_u64(),
            again["rows_after"].as_u64()
        ),
        (Some(0), Some(2148), Some(2148))
    );
    let g = show(&d, &["GOOG", "1d", "--rows", "1"]);
    assert_eq!(g[0]["timestamp"], "2004-08-19T00:00:00Z");

    let eur = shared("public/EURUSD.csv");
    let r = d.ctl_json(&[
        "data",
        "import",
        eur.to_str().unwrap(),
        "--symbol",
        "EURUSD",
        "--timeframe",
        "1h",
        "--timezone",
        "America/New_York",
    ]);
    assert_eq!(r["timezone"], "America/New_York");
    let e = show(&d, &["EURUSD", "1h", "--rows", "1"]);
    assert_eq!(
        e[0]["timestamp"], "2017-04-19T13:00:00Z",
        "09:00 New York summer time"
    );

    // Relative paths are resolved by the client against its own working directory.
    let work = tempfile::tempdir().unwrap();
    for (fmt, name) in [
        ("csv", "g.csv"),
        ("parquet", "g.parquet"),
        ("jsonl", "g.jsonl"),
    ] {
        let out = Command::new(ktrdrctl_bin())
            .current_dir(work.path())
            .args([
                "--socket",
                d.socket.to_str().unwrap(),
                "--json",
                "data",
                "export",
                "GOOG",
                "1d",
                "--format",
                fmt,
                "--output",
                name,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(work.path().join(name).is_file());
    }
    let lines = std::fs::read_to_string(work.path().join("g.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2148);
    // One JSON-lines writer: the daemon's export is what the client prints for the same bars.
    let printed = d.ctl(&["--json", "data", "show", "GOOG", "1d"]);
    assert!(printed.status.success(), "{}", stderr(&printed));
    let printed = stdout(&printed);
    let bars: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("{\"timestamp\""))
        .collect();
    assert_eq!(lines.lines().collect::<Vec<_>>(), bars);
    for (file, sym) in [("g.parquet", "GOOGP"), ("g.csv", "GOOGC")] {
        let p = work.path().join(file);
        d.ctl_json(&[
            "data",
            "import",
            p.to_str().unwrap(),
            "--symbol",
            sym,
            "--timeframe",
            "1d",
        ]);
        assert_eq!(show(&d, &[sym, "1d"]), show(&d, &["GOOG", "1d"]), "{file}");
    }
    // A window exported.
    let w = work.path().join("w.csv");
    let r = d.ctl_json(&[
        "data",
        "export",
        "GOOG",
        "1d",
        "--format",
        "csv",
        "--output",
        w.to_str().unwrap(),
        "--start",
        "2005-01-01",
        "--end",
        "2005-12-31",
    ]);
    assert_eq!(r["rows"], 252);
}

#[test]
fn resample_and_save() {
    let d = daemon_with(&["AAPL_5m", "AAPL_1h"]);
    let from5 = show_resampled(&d, &["AAPL", "5m", "1h"]);
    // The stored hourly bars and the ones built from 5-minute bars agree where both are complete.
    let stored = show(&d, &["AAPL", "1h"]);
    let same: Vec<_> = from5
        .iter()
        .filter(|b| stored.iter().any(|s| s["timestamp"] == b["timestamp"]))
        .collect();
    assert!(!same.is_empty());
    for b in &from5 {
        let hi = b["high"].as_f64().unwrap();
        assert!(hi >= b["open"].as_f64().unwrap() && hi >= b["close"].as_f64().unwrap());
    }
    let weekly = show_resampled(&d, &["AAPL", "1h", "1w"]);
    for w in &weekly {
        // Mondays in 2025-05/06: 19, 26 May, 2 June.
        let t = w["timestamp"].as_str().unwrap();
        assert!(
            [
                "2025-05-19T00:00:00Z",
                "2025-05-26T00:00:00Z",
                "2025-06-02T00:00:00Z"
            ]
            .contains(&t),
            "{t}"
        );
    }
    let out = d.ctl(&[
        "data", "resample", "AAPL", "5m", "4h", "--save", "--rows", "0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("saved to"), "{}", stderr(&out));
    assert_eq!(
        show(&d, &["AAPL", "4h"]),
        show_resampled(&d, &["AAPL", "5m", "4h"])
    );
}

fn show_resampled(d: &Daemon, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--json", "data", "resample"];
    all.extend_from_slice(args);
    json_lines(&d.ctl(&all))
}

/// The exit code of a `data validate` that found problems (docs/cli.md).
const CHECK_FAILED: i32 = 12;

/// `ktrdrctl --json data validate ARGS`: the report, which is one JSON document whether or not the
/// check passed, and the exit code.
fn validate(d: &Daemon, args: &[&str]) -> (serde_json::Value, Option<i32>) {
    let mut all = vec!["--json", "data", "validate"];
    all.extend_from_slice(args);
    let out = d.ctl(&all);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}): {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        )
    });
    (v, out.status.code())
}

#[test]
fn validate_exits_12_when_it_finds_problems_and_0_when_the_series_is_clean() {
    let d = daemon_with(&[]);
    // Crypto symbols: a continuous calendar, so every missing hour is a gap.
    let write = |name: &str, hours: &[u32]| {
        let mut text = String::from("timestamp,open,high,low,close,volume\n");
        for h in hours {
            text.push_str(&format!("2025-01-06 {h:02}:00:00+00:00,10,11,9,10.5,100\n"));
        }
        std::fs::write(d.data_dir().join(name), text).unwrap();
    };
    write("BTCCLEAN_1h.csv", &[9, 10, 11]);
    write("BTCGAP_1h.csv", &[9, 11]);
    write("BTCDUP_1h.csv", &[9, 10, 10, 11]);

    let (v, code) = validate(&d, &["BTCCLEAN", "1h"]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["counts"], serde_json::json!({}));
    let out = d.ctl(&["data", "validate", "BTCCLEAN", "1h"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let (v, code) = validate(&d, &["BTCGAP", "1h"]);
    assert_eq!(code, Some(CHECK_FAILED), "{v}");
    assert_eq!(v["counts"]["gap"], 1, "{v}");
    let out = d.ctl(&["data", "validate", "BTCGAP", "1h"]);
    assert_eq!(out.status.code(), Some(CHECK_FAILED), "{}", stderr(&out));
    assert!(stdout(&out).contains("gap"), "{}", stdout(&out));
    // A repair never fills a gap: the check still fails.
    let (v, code) = validate(&d, &["BTCGAP", "1h", "--repair"]);
    assert_eq!(code, Some(CHECK_FAILED), "{v}");

    let (v, code) = validate(&d, &["BTCDUP", "1h"]);
    assert_eq!(code, Some(CHECK_FAILED), "{v}");
    assert!(
        v["counts"]["duplicate_timestamp"].as_u64() >= Some(1),
        "{v}"
    );
    let (v, code) = validate(&d, &["BTCDUP", "1h", "--repair"]);
    assert_eq!(v["repaired"], true, "{v}");
    assert_eq!(code, Some(0), "a repair that fixed everything passes: {v}");
    let (v, code) = validate(&d, &["BTCDUP", "1h"]);
    assert_eq!(code, Some(0), "{v}");
}

#[test]
fn validate_and_repair_a_broken_file() {
    let d = daemon_with(&[]);
    // A crypto symbol: its calendar is continuous, so the missing 14:00 bar is a gap.
    std::fs::write(
        d.data_dir().join("BTCTEST_1h.csv"),
        "timestamp,open,high,low,close,volume\n\
         2025-01-06 10:00:00+00:00,10,11,9,10.5,100\n\
         2025-01-06 09:00:00+00:00,10,11,9,10.5,100\n\
         2025-01-06 11:00:00+00:00,10,9.5,9,10.5,100\n\
         2025-01-06 11:00:00+00:00,10,12,9,10.5,100\n\
         2025-01-06 12:00:00+00:00,10,11,10.2,10.5,-5\n\
         2025-01-06 13:00:00+00:00,,11,9,10.5,100\n\
         2025-01-06 15:00:00+00:00,10,11,9,10.5,100\n",
    )
    .unwrap();
    let (v, code) = validate(&d, &["BTCTEST", "1h"]);
    assert_eq!(code, Some(CHECK_FAILED), "{v}");
    let counts = &v["counts"];
    for k in [
        "out_of_order",
        "duplicate_timestamp",
        "high_below_open_close",
        "low_above_open_close",
        "bad_volume",
        "non_finite_price",
        "gap",
    ] {
        assert!(counts[k].as_u64().unwrap_or(0) >= 1, "{k} missing in {v}");
    }
    assert_eq!(v["repaired"], false);
    let (r, code) = validate(&d, &["BTCTEST", "1h", "--repair"]);
    assert_eq!(r["repaired"], true);
    assert_eq!(code, Some(CHECK_FAILED), "the gap is never filled: {r}");
    let actions: Vec<String> = r["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}:{}",
                c["action"].as_str().unwrap(),
                c["field"].as_str().unwrap()
            )
        })
        .collect();
    for want in ["moved:row", "dropped:row", "set:low", "set:volume"] {
        assert!(
            actions.iter().any(|a| a == want),
            "{want} not in {actions:?}"
        );
    }
    let (after, code) = validate(&d, &["BTCTEST", "1h"]);
    assert_eq!(code, Some(CHECK_FAILED), "{after}");
    let left: Vec<&String> = after["counts"].as_object().unwrap().keys().collect();
    assert_eq!(
        left,
        ["gap"],
        "only the 14:00 gap (and the dropped 13:00 bar) remain: {after}"
    );
    assert_eq!(show(&d, &["BTCTEST", "1h"]).len(), 5);
}

#[test]
fn external_changes_are_seen_without_restart() {
    let d = daemon_with(&["AAPL_1h"]);
    assert_eq!(show(&d, &["AAPL", "1h"]).len(), 153);
    let path = d.data_dir().join("AAPL_1h.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("2025-06-09 08:00:00+00:00,205.0,206.0,204.0,205.5,1000.0\n");
    std::fs::write(&path, text).unwrap();
    let tail = show(&d, &["AAPL", "1h", "--tail", "1"]);
    assert_eq!(tail[0]["timestamp"], "2025-06-09T08:00:00Z");
    assert_eq!(show(&d, &["AAPL", "1h"]).len(), 154);

    std::fs::copy(
        shared("ktrdr-ib-samples/EURUSD_1h.csv"),
        d.data_dir().join("EURUSD_1h.csv"),
    )
    .unwrap();
    let list = d.ctl_json(&["data", "list"]);
    assert_eq!(list["series"].as_array().unwrap().len(), 2);
    // The watcher notices both changes.
    assert!(eventually(Duration::from_secs(5), || {
        let stats = d.ctl_json(&["stats"]);
        let data = stats["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "data")
            .unwrap()
            .clone();
        data["counters"]["watch_events"].as_u64().unwrap() >= 2
    }));
}

/// A predecessor-format CSV of `n` one-minute bars from 2020-01-01.
fn big_csv(path: &Path, n: usize, price: f64) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "timestamp,open,high,low,close,volume").unwrap();
    let start = 1_577_836_800i64; // 2020-01-01 00:00 UTC
    for i in 0..n as i64 {
        let t = start + i * 60;
        let (days, rem) = (t / 86_400, t % 86_400);
        // Days since 2020-01-01 to a date, enough for this range (no leap-day precision needed:
        // the same formula is used for every row, so timestamps stay unique and increasing).
        let d = days - 18_262;
        let (y, doy) = (2020 + d / 366, d % 366);
        writeln!(
            w,
            "{y}-{:02}-{:02} {:02}:{:02}:00+00:00,{price},{},{},{price},10.0",
            doy / 28 + 1,
            doy % 28 + 1,
            rem / 3600,
            (rem % 3600) / 60,
            price + 1.0,
            price - 1.0
        )
        .unwrap();
    }
}

#[test]
fn kill_9_during_an_import_leaves_a_whole_file() {
    let mut d = daemon_with(&[]);
    let work = tempfile::tempdir().unwrap();
    let small = work.path().join("small.csv");
    big_csv(&small, 1000, 1.0);
    d.ctl_json(&[
        "data",
        "import",
        small.to_str().unwrap(),
        "--symbol",
        "BIG",
        "--timeframe",
        "1m",
    ]);
    let big = work.path().join("big.csv");
    big_csv(&big, 400_000, 2.0);

    let importer = Command::new(ktrdrctl_bin())
        .args([
            "--socket",
            d.socket.to_str().unwrap(),
            "data",
            "import",
            big.to_str().unwrap(),
            "--symbol",
            "BIG",
            "--timeframe",
            "1m",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as the write has begun (its temporary exists), else after a while anyway.
    let data_dir = d.data_dir();
    let mid_write = eventually(Duration::from_secs(60), || {
        std::fs::read_dir(&data_dir)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains(".tmp-"))
    });
    d.signal(libc::SIGKILL);
    d.wait_exit(Duration::from_secs(10));
    let _ = importer.wait_with_output();
    eprintln!(
        "killed {} the write",
        if mid_write { "during" } else { "outside" }
    );

    d.spawn();
    let r = d.ctl_json(&["data", "range", "BIG", "1m"]);
    let rows = r["rows"].as_u64().unwrap();
    assert!(
        rows == 1000 || rows == 400_000,
        "old or new, never torn: {rows}"
    );
    let list = d.ctl_json(&["data", "list"]);
    assert_eq!(list["series"].as_array().unwrap().len(), 1, "{list}");
    let names: Vec<String> = std::fs::read_dir(d.data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["BIG_1m.parquet"],
        "leftover temporaries are removed at start"
    );
    // Its made-up times ignore market hours, so it has gaps; only the row count matters here.
    let (v, code) = validate(&d, &["BIG", "1m"]);
    assert!(matches!(code, Some(0 | CHECK_FAILED)), "{code:?}: {v}");
    assert_eq!(v["rows"].as_u64(), Some(rows));
}

/// `data import` is an operation like every long job: `--detach` prints its id, `ops show` has
/// its typed parameters and report, and a cancel before the merge stores nothing.
#[test]
fn an_import_is_an_operation_that_can_be_detached_followed_and_cancelled() {
    let d = daemon_with(&[]);
    let work = tempfile::tempdir().unwrap();
    let small = work.path().join("small.csv");
    big_csv(&small, 1000, 1.0);
    let o = d.ctl(&[
        "data",
        "import",
        small.to_str().unwrap(),
        "--symbol",
        "BIG",
        "--timeframe",
        "1m",
        "--detach",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let id = stdout(&o).trim().to_string();
    assert!(id.parse::<u64>().is_ok(), "the id alone on stdout: {id:?}");
    let watched = d.ctl(&["--json", "ops", "watch", &id]);
    assert!(watched.status.success(), "{}", stderr(&watched));
    let rec = d.ctl_json(&["ops", "show", &id]);
    assert_eq!(rec["kind"], "data_import", "{rec}");
    assert_eq!(rec["service"], "data", "{rec}");
    assert_eq!(rec["state"], "completed", "{rec}");
    assert_eq!(rec["params"]["symbol"], "BIG", "{rec}");
    assert_eq!(rec["result"]["rows_read"], 1000, "{rec}");
    assert_eq!(rec["result"]["added"], 1000, "{rec}");
    let listed = d.ctl_json(&["ops", "list", "--kind", "data_import"]);
    assert_eq!(listed["total"], 1, "{listed}");
    // The human record reads as sentences, not JSON.
    let human = stdout(&d.ctl(&["ops", "show", &id]));
    assert!(human.contains("1000 rows read"), "{human}");
    assert!(!human.contains("{\""), "no JSON blob in the table: {human}");

    // Followed (the default), `--json` prints the import report as before.
    let again = d.ctl_json(&[
        "data",
        "import",
        small.to_str().unwrap(),
        "--symbol",
        "BIG",
        "--timeframe",
        "1m",
    ]);
    assert_eq!(again["replaced"], 1000, "{again}");
    assert_eq!(again["rows_after"], 1000, "{again}");

    // A big import cancelled while it reads: the series keeps its 1000 rows.
    let big = work.path().join("big.csv");
    big_csv(&big, 600_000, 2.0);
    let o = d.ctl(&[
        "data",
        "import",
        big.to_str().unwrap(),
        "--symbol",
        "BIG",
        "--timeframe",
        "1m",
        "--detach",
    ]);
    let id = stdout(&o).trim().to_string();
    let c = d.ctl(&["ops", "cancel", &id]);
    assert!(c.status.success(), "{}", stderr(&c));
    let rec = d.ctl_json(&["ops", "show", &id]);
    assert!(
        eventually(Duration::from_secs(60), || d
            .ctl_json(&["ops", "show", &id])["state"]
            != "running"),
        "{rec}"
    );
    let rec = d.ctl_json(&["ops", "show", &id]);
    assert_eq!(rec["state"], "cancelled", "{rec}");
    let r = d.ctl_json(&["data", "range", "BIG", "1m"]);
    assert_eq!(
        r["rows"], 1000,
        "nothing of the cancelled import stored: {r}"
    );
    // `ops watch` of the cancelled import exits with the cancelled code.
    assert_eq!(d.ctl(&["ops", "watch", &id]).status.code(), Some(7));
}
