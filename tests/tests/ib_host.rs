//! IB host-service mode end to end: daemon B (`USE_IB_HOST_SERVICE`) reaches IB through daemon A,
//! which owns the one gateway connection (the fake gateway, real `ibapi`). Loads asked of B run on
//! A, land in A's store and are copied into B's; everything is driven by the real `ktrdrctl`.

use ktrdr_fakegw::FakeGateway;
use ktrdr_fakegw::bars::{Bar, Library, Series, parse_csv};
use ktrdr_tests::{Daemon, stderr};

const DAY: i64 = 86_400;
/// 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200;

fn series(days: i64, step: i64) -> Series {
    Series::new(
        (0..days * DAY / step)
            .map(|i| {
                let p = (i % 997) as f64 / 100.0 + 100.0;
                Bar {
                    ts: T0 + i * step,
                    open: p,
                    high: p + 0.5,
                    low: p - 0.25,
                    close: p + 0.25,
                    volume: (i % 1000 + 1) as f64,
                }
            })
            .collect(),
    )
}

fn iso(secs: i64) -> String {
    let (y, m, d) = ktrdr_fakegw::bars::civil_from_days(secs.div_euclid(DAY));
    let r = secs.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:00Z",
        r / 3600,
        r % 3600 / 60
    )
}

fn stored(d: &Daemon, symbol: &str, tf: &str) -> Vec<Bar> {
    let out = d.dir.path().join(format!("{symbol}_{tf}.export.csv"));
    let o = d.ctl(&[
        "data",
        "export",
        symbol,
        tf,
        "--format",
        "csv",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    parse_csv(&std::fs::read_to_string(&out).unwrap())
        .unwrap()
        .bars()
        .to_vec()
}

fn load(d: &Daemon, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", "--timeout", "120", "data", "load"];
    all.extend_from_slice(args);
    let o = d.ctl(&all);
    assert!(o.status.success(), "{}\n{}", stderr(&o), d.log_text());
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    last["operation"]["result"].clone()
}

#[test]
fn a_daemon_in_host_service_mode_loads_through_the_ib_host() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = series(100, 3600);
    let mut lib = Library::default();
    lib.insert("AAPL", "1h", s.clone());
    let gw = rt.block_on(FakeGateway::start(lib)).unwrap();
    let port = gw.port().to_string();
    let host = Daemon::start_with(&[
        ("IB_HOST", "127.0.0.1"),
        ("IB_PORT", &port),
        ("IB_CLIENT_ID", "21"),
        ("KTRDR_IB_PACING_SCALE", "0"),
    ]);
    let url = format!("unix://{}", host.socket.display());
    let client = Daemon::start_with(&[
        ("USE_IB_HOST_SERVICE", "true"),
        ("IB_HOST_SERVICE_URL", &url),
    ]);

    // Configuration and status say where IB is.
    let st = client.ctl_json(&["status"]);
    let ib = st["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ib")
        .unwrap()
        .clone();
    assert_eq!(ib["mode"], "host-service", "{ib}");
    assert_eq!(ib["endpoint"], url.as_str());
    let c = client.ctl_json(&["ib", "contract", "AAPL"]);
    assert_eq!(c["sec_type"], "STK");

    // A backfill without --start asks the host for the head, then loads everything through it.
    let end = T0 + 100 * DAY;
    let r = load(
        &client,
        &["AAPL", "1h", "--mode", "backfill", "--end", &iso(end)],
    );
    assert_eq!(r["host_service"], url.as_str(), "{r}");
    assert_eq!(r["bars_received"], 2400, "{r}");
    assert_eq!(stored(&client, "AAPL", "1h"), s.bars().to_vec());
    assert_eq!(
        stored(&host, "AAPL", "1h"),
        s.bars().to_vec(),
        "the host keeps its copy"
    );
    let fetched = gw.historical().len();
    assert_eq!(fetched, 4, "4 segments of 30 days");

    // A second daemon's tail load of a range the host already has costs IB nothing.
    let r = load(
        &client,
        &["AAPL", "1h", "--mode", "tail", "--end", &iso(end)],
    );
    assert_eq!(gw.historical().len(), fetched, "{r}");
    assert_eq!(
        gw.connections(),
        1,
        "one gateway connection, held by the host"
    );

    // ib status on the client reports the host's connection.
    let st = client.ctl_json(&["ib", "status"]);
    assert_eq!(st["mode"], "host_service");
    assert_eq!(st["connected"], true, "{st}");

    // The host goes away: local data is still served, and status says why IB is not.
    drop(host);
    let st = client.ctl_json(&["ib", "status"]);
    assert_eq!(st["connected"], false);
    assert!(
        st["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("unreachable"),
        "{st}"
    );
    let o = client.ctl(&["data", "load", "AAPL", "1h", "--mode", "tail"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("unreachable"), "{}", stderr(&o));
    let o = client.ctl(&["data", "show", "AAPL", "1h", "--tail", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn an_http_host_service_url_is_a_configuration_error() {
    let d = Daemon::unstarted(&[
        ("USE_IB_HOST_SERVICE", "true"),
        ("IB_HOST_SERVICE_URL", "http://localhost:8001"),
    ]);
    let out = d.command().output().unwrap();
    assert_eq!(out.status.code(), Some(9), "{}", stderr(&out));
    assert!(stderr(&out).contains("ssh -NL"), "{}", stderr(&out));
}
