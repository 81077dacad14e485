//! The fake checked against the real `ibapi` client (the version ktrdrd pins): if these pass, the
//! daemon's tests exercise the real wire protocol, not a private dialect.

use ibapi::Client;
use ibapi::contracts::Contract;
use ibapi::market_data::TradingHours;
use ibapi::market_data::historical::{BarSize, BarTimestamp, Duration as IbDuration, WhatToShow};
use ktrdr_fakegw::bars::{Library, parse_timestamp};
use ktrdr_fakegw::{FakeGateway, Kind};
use std::path::PathBuf;
use std::time::Duration;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/ktrdr-ib-samples")
}

async fn gateway() -> FakeGateway {
    let lib = Library::load_dir(&samples()).expect("sample bars");
    FakeGateway::start(lib).await.unwrap()
}

async fn connect(gw: &FakeGateway, id: i32) -> Result<Client, ibapi::Error> {
    tokio::time::timeout(
        Duration::from_secs(10),
        Client::builder()
            .address(gw.addr().to_string())
            .client_id(id)
            .max_reconnect_attempts(0)
            .one_shot_timeout(Duration::from_secs(10))
            .connect(),
    )
    .await
    .expect("connect must not hang")
}

fn t(s: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(parse_timestamp(s).unwrap()).unwrap()
}

#[tokio::test]
async fn handshake_contract_head_and_bars() {
    let gw = gateway().await;
    let client = connect(&gw, 7).await.unwrap();
    assert_eq!(
        client.server_version(),
        ktrdr_fakegw::DEFAULT_SERVER_VERSION
    );

    let details = client
        .contract_details(&Contract::stock("AAPL").build())
        .await
        .unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0].contract.symbol.to_string(), "AAPL");
    assert!(details[0].contract.contract_id > 0);

    let fx = client
        .contract_details(&Contract::forex("EUR", "USD").build())
        .await
        .unwrap();
    assert_eq!(fx[0].contract.local_symbol, "EUR.USD");

    let head = client
        .head_timestamp(
            &Contract::stock("AAPL").build(),
            WhatToShow::Trades,
            TradingHours::Extended,
        )
        .await
        .unwrap();
    let lib = Library::load_dir(&samples()).unwrap();
    assert_eq!(head.unix_timestamp(), lib.head("AAPL").unwrap());

    // One day of hourly AAPL bars ending at a known instant: exactly the file's bars in the window.
    let end = t("2025-05-23 00:00:00+00:00");
    let data = client
        .historical_data(&Contract::stock("AAPL").build(), BarSize::Hour)
        .what_to_show(WhatToShow::Trades)
        .trading_hours(TradingHours::Extended)
        .duration(IbDuration::days(1))
        .ending(end)
        .fetch()
        .await
        .unwrap();
    let expected = lib
        .get("AAPL", "1h")
        .unwrap()
        .window(end.unix_timestamp() - 86_400, end.unix_timestamp())
        .to_vec();
    assert!(!expected.is_empty());
    assert_eq!(data.bars.len(), expected.len());
    for (got, want) in data.bars.iter().zip(&expected) {
        let BarTimestamp::DateTime(dt) = got.date else {
            panic!("intraday bar dated {:?}", got.date)
        };
        assert_eq!(dt.unix_timestamp(), want.ts);
        assert_eq!(
            (got.open, got.close, got.volume),
            (want.open, want.close, want.volume)
        );
    }
    let log = gw.historical();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].bar_size, "1 hour");
    assert_eq!(log[0].duration, "1 D");
    assert!(
        log[0].end.starts_with("20250523 00:00:00"),
        "{}",
        log[0].end
    );
    assert!(client.server_time().await.unwrap().year() >= 2025);
}

#[tokio::test]
async fn scripted_errors_reach_the_client() {
    let gw = gateway().await;
    let client = connect(&gw, 1).await.unwrap();
    let aapl = Contract::stock("AAPL").build();
    let end = t("2025-05-23 00:00:00+00:00");
    let fetch = || {
        client
            .historical_data(&aapl, BarSize::Hour)
            .duration(IbDuration::days(1))
            .ending(end)
            .fetch()
    };

    gw.faults(|f| f.pacing_violations = 1);
    let e = fetch().await.unwrap_err();
    assert!(
        matches!(&e, ibapi::Error::Notice(n) if n.code == 162 && n.message.contains("pacing violation")),
        "{e:?}"
    );
    assert!(fetch().await.is_ok(), "the fault fires once");

    gw.faults(|f| {
        f.no_data.insert("AAPL".into());
    });
    let e = fetch().await.unwrap_err();
    assert!(
        matches!(&e, ibapi::Error::Notice(n) if n.code == 162 && n.message.contains("HMDS query returned no data")),
        "{e:?}"
    );
    gw.faults(|f| f.no_data.clear());

    let e = client
        .contract_details(&Contract::stock("NOPE").build())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, ibapi::Error::Notice(n) if n.code == 200),
        "{e:?}"
    );

    gw.faults(|f| f.delay = Duration::from_millis(300));
    let started = std::time::Instant::now();
    fetch().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    gw.faults(|f| f.delay = Duration::ZERO);

    gw.faults(|f| f.drop_after_requests = Some(0));
    let e = fetch().await.unwrap_err();
    assert!(
        matches!(
            e,
            ibapi::Error::ConnectionFailed
                | ibapi::Error::ConnectionReset
                | ibapi::Error::Io(_)
                | ibapi::Error::Shutdown
        ),
        "{e:?}"
    );
    assert!(
        gw.log()
            .iter()
            .any(|l| l.kind == Kind::Historical && l.outcome == "dropped")
    );
}

#[tokio::test]
async fn client_id_clash_is_refused() {
    let gw = gateway().await;
    let _first = connect(&gw, 5).await.unwrap();
    let Err(e) = connect(&gw, 5).await else {
        panic!("a second session with client id 5 was accepted")
    };
    assert!(
        matches!(e, ibapi::Error::ClientIdInUse { client_id: 5 }),
        "{e:?}"
    );
    gw.faults(|f| {
        f.clients_in_use.insert(9);
    });
    let Err(e) = connect(&gw, 9).await else {
        panic!("client id 9 was accepted")
    };
    assert!(matches!(e, ibapi::Error::ClientIdInUse { .. }), "{e:?}");
}

#[tokio::test]
async fn restart_on_the_same_port() {
    let gw = gateway().await;
    let port = gw.port();
    gw.stop().await;
    let lib = Library::load_dir(&samples()).unwrap();
    let gw = FakeGateway::start_on(port, lib).await.unwrap();
    connect(&gw, 3).await.unwrap();
}

/// A keep-up-to-date request through the real client: the initial bars end with the forming bar,
/// then updates revise it and move on to newer bars as the replay clock passes them, each passed
/// bar's last update being the library's bar.
#[tokio::test]
async fn keep_up_to_date_streams_revisions_then_closes_bars() {
    use ibapi::market_data::historical::HistoricalBarUpdate;
    use ibapi::prelude::StreamExt;
    use ktrdr_fakegw::bars::{Bar, Series};
    let t0 = 1_704_067_200i64;
    let lib = {
        let mut l = Library::default();
        l.insert(
            "LIVE",
            "1m",
            Series::new(
                (0..600)
                    .map(|i| Bar {
                        ts: t0 + i * 60,
                        open: 100.0 + i as f64,
                        high: 101.0 + i as f64,
                        low: 99.0 + i as f64,
                        close: 100.5 + i as f64,
                        volume: 10.0,
                    })
                    .collect(),
            ),
        );
        l
    };
    let gw = FakeGateway::start(lib).await.unwrap();
    gw.replay(t0 + 30 * 60 + 30, 600.0);
    let client = connect(&gw, 9).await.unwrap();
    let mut sub = client
        .historical_data(&Contract::stock("LIVE").build(), BarSize::Min)
        .duration(IbDuration::seconds(600))
        .stream()
        .await
        .unwrap();
    let mut first = None;
    let mut updates: Vec<(i64, f64)> = Vec::new();
    while updates.len() < 40 {
        let item = tokio::time::timeout(Duration::from_secs(10), sub.next())
            .await
            .expect("updates keep coming")
            .expect("stream open")
            .expect("no error");
        match item.into_data() {
            Some(HistoricalBarUpdate::Historical(d)) => {
                let last = d.bars.last().unwrap();
                first = Some(match last.date {
                    BarTimestamp::DateTime(t) => t.unix_timestamp(),
                    BarTimestamp::Date(_) => panic!("intraday"),
                });
                // Ten minutes up to the forming bar, which is partial.
                assert_eq!(d.bars.len(), 10);
                assert_ne!(last.close, 100.5 + 30.0);
            }
            Some(HistoricalBarUpdate::Update(b)) => {
                let ts = match b.date {
                    BarTimestamp::DateTime(t) => t.unix_timestamp(),
                    BarTimestamp::Date(_) => panic!("intraday"),
                };
                updates.push((ts, b.close));
            }
            _ => {}
        }
    }
    assert_eq!(first, Some(t0 + 30 * 60));
    // Times never go back; whenever a newer time appears, the update before it was final.
    for w in updates.windows(2) {
        assert!(w[1].0 >= w[0].0);
        if w[1].0 > w[0].0 {
            let i = (w[0].0 - t0) / 60;
            assert_eq!(w[0].1, 100.5 + i as f64, "closed bar {i} final");
        }
    }
    assert!(
        updates.last().unwrap().0 > t0 + 31 * 60,
        "the clock moved on"
    );
    assert!(
        updates.windows(2).any(|w| w[0].0 == w[1].0),
        "the forming bar is repeated"
    );
    assert_eq!(gw.streaming(), 1);
    drop(sub);
    let gone = async {
        while gw.streaming() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), gone)
        .await
        .expect("dropping the subscription cancels it at the gateway");
}
