//! Connections: the handshake, StartApi, then one task per request so a slow answer does not hold
//! up the others (as with a real gateway). Answers go through one writer task per connection.

use crate::bars::{self, Bar};
use crate::proto::{self, id};
use crate::stream;
use crate::wire;
use crate::{Kind, Logged, Shared};
use ktrdr_market::time::civil_from_days;
use prost::Message;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

pub const PACING_TEXT: &str =
    "Historical Market Data Service error message:Historical data request pacing violation";
pub const NO_DATA_TEXT: &str =
    "Historical Market Data Service error message:HMDS query returned no data";
pub const UNKNOWN_TEXT: &str = "No security definition has been found for the request";
pub const CLIENT_ID_TEXT: &str =
    "Unable to connect as the client id is already in use. Retry with a unique client id.";

pub(crate) async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let mut shutdown = shared.shutdown.subscribe();
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            r = listener.accept() => {
                let Ok((stream, _)) = r else { continue };
                let _ = stream.set_nodelay(true);
                let n = {
                    let mut st = shared.lock();
                    st.connections += 1;
                    st.connections
                };
                conns.spawn(connection(stream, n, Arc::clone(&shared)));
            }
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    drop(listener);
    conns.shutdown().await;
}

pub(crate) enum Out {
    Frame(Vec<u8>),
    Close,
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn connection(stream: TcpStream, conn: u64, shared: Arc<Shared>) {
    let mut kill = shared.kill_connections.subscribe();
    kill.borrow_and_update();
    let mut shutdown = shared.shutdown.subscribe();
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
    let writer = tokio::spawn(async move {
        while let Some(o) = rx.recv().await {
            match o {
                Out::Frame(f) => {
                    if wr.write_all(&f).await.is_err() {
                        break;
                    }
                }
                Out::Close => break,
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut client_id = None;
    let session = async {
        handshake(&mut rd, &tx, &shared).await?;
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let body = wire::read_frame(&mut rd).await.ok()?;
            let Some((mid, is_proto, payload)) = wire::split(&body) else {
                continue;
            };
            if !is_proto {
                continue;
            }
            match mid {
                id::IN_START_API => {
                    let req = proto::StartApiRequest::decode(payload).ok()?;
                    let cid = req.client_id.unwrap_or(0);
                    let clash = {
                        let mut st = shared.lock();
                        let clash = st.faults.clients_in_use.contains(&cid)
                            || st.active_clients.contains(&cid);
                        if !clash {
                            st.active_clients.insert(cid);
                        }
                        clash
                    };
                    if clash {
                        let _ = tx.send(Out::Frame(error(-1, 326, CLIENT_ID_TEXT)));
                        let _ = tx.send(Out::Close);
                        return None::<()>;
                    }
                    client_id = Some(cid);
                    let _ = tx.send(Out::Frame(wire::message(
                        id::OUT_MANAGED_ACCOUNTS,
                        &proto::ManagedAccounts {
                            accounts_list: Some("DU0000001".into()),
                        },
                    )));
                    let _ = tx.send(Out::Frame(wire::message(
                        id::OUT_NEXT_VALID_ID,
                        &proto::NextValidId { order_id: Some(1) },
                    )));
                }
                id::IN_REQ_CURRENT_TIME => {
                    log(
                        &shared,
                        Logged {
                            outcome: "ok".into(),
                            ..entry(conn, Kind::CurrentTime, 0, None)
                        },
                    );
                    let now = shared.lock().now();
                    let _ = tx.send(Out::Frame(wire::message(
                        id::OUT_CURRENT_TIME,
                        &proto::CurrentTime {
                            current_time: Some(now),
                        },
                    )));
                }
                id::IN_REQ_CONTRACT_DATA => {
                    let req = proto::ContractDataRequest::decode(payload).ok()?;
                    tasks.spawn(contract_details(req, conn, Arc::clone(&shared), tx.clone()));
                }
                id::IN_REQ_HEAD_TIMESTAMP => {
                    let req = proto::HeadTimestampRequest::decode(payload).ok()?;
                    tasks.spawn(head_timestamp(req, conn, Arc::clone(&shared), tx.clone()));
                }
                id::IN_REQ_HISTORICAL_DATA => {
                    let req = proto::HistoricalDataRequest::decode(payload).ok()?;
                    tasks.spawn(historical(req, conn, Arc::clone(&shared), tx.clone()));
                }
                id::IN_CANCEL_HISTORICAL_DATA => {
                    let req = proto::ById::decode(payload).ok()?;
                    let rid = req.req_id.unwrap_or(0);
                    shared.lock().cancelled_streams.insert((conn, rid));
                    log(
                        &shared,
                        Logged {
                            outcome: "ok".into(),
                            ..entry(conn, Kind::CancelHistorical, rid, None)
                        },
                    );
                }
                // Ids, account lists, market data type, other cancels: nothing the tests need.
                _ => {}
            }
        }
    };
    tokio::select! {
        _ = session => {}
        _ = kill.changed() => {}
        _ = shutdown.wait_for(|s| *s) => {}
    }
    let _ = tx.send(Out::Close);
    let _ = writer.await;
    if let Some(cid) = client_id {
        shared.lock().active_clients.remove(&cid);
    }
}

async fn handshake(
    rd: &mut tokio::net::tcp::OwnedReadHalf,
    tx: &mpsc::UnboundedSender<Out>,
    shared: &Shared,
) -> Option<()> {
    let mut magic = [0u8; 4];
    rd.read_exact(&mut magic).await.ok()?;
    if &magic != b"API\0" {
        return None;
    }
    let body = wire::read_frame(rd).await.ok()?;
    let (lo, hi) = wire::parse_versions(&String::from_utf8_lossy(&body))?;
    let (silent, wanted) = {
        let st = shared.lock();
        (st.faults.silent_handshake, st.server_version)
    };
    if silent {
        // Hold the connection open and say nothing, like a gateway stuck at a login dialog.
        std::future::pending::<()>().await;
    }
    let version = wanted.clamp(lo, hi.max(lo));
    let (y, m, d) = civil_from_days(now_secs().div_euclid(86_400));
    let rem = now_secs().rem_euclid(86_400);
    let reply = format!(
        "{version}\0{y:04}{m:02}{d:02} {:02}:{:02}:{:02} UTC\0",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    tx.send(Out::Frame(wire::frame(reply.as_bytes()))).ok()
}

fn error(req: i32, code: i32, text: &str) -> Vec<u8> {
    wire::message(
        id::OUT_ERROR,
        &proto::ErrorMessage {
            id: Some(req),
            error_time: Some(now_secs() * 1000),
            error_code: Some(code),
            error_msg: Some(text.to_string()),
        },
    )
}

/// The symbol the store uses: `EURUSD` for the CASH contract EUR/USD, `ES_CONT` for the continuous
/// future ES, else the symbol.
fn store_symbol(c: &proto::Contract) -> String {
    let sym = c.symbol.clone().unwrap_or_default().to_ascii_uppercase();
    match c.sec_type.as_deref() {
        Some("CASH") => format!(
            "{sym}{}",
            c.currency.clone().unwrap_or_default().to_ascii_uppercase()
        ),
        Some("CONTFUT") => format!("{sym}_CONT"),
        _ => sym,
    }
}

/// A log entry of request `req_id` on `conn`, the contract's fields filled in, the rest empty.
fn entry(conn: u64, kind: Kind, req_id: i32, contract: Option<&proto::Contract>) -> Logged {
    let c = contract.cloned().unwrap_or_default();
    Logged {
        at: Instant::now(),
        conn,
        kind,
        req_id,
        symbol: store_symbol(&c),
        sec_type: c.sec_type.unwrap_or_default(),
        exchange: c.exchange.unwrap_or_default(),
        what_to_show: String::new(),
        end: String::new(),
        duration: String::new(),
        bar_size: String::new(),
        outcome: String::new(),
    }
}

/// Appends to the request log; returns the entry's index, for its outcome later.
fn log(shared: &Shared, entry: Logged) -> usize {
    let mut st = shared.lock();
    st.log.push(entry);
    st.log.len() - 1
}

fn set_outcome(shared: &Shared, at: usize, outcome: String) {
    if let Some(l) = shared.lock().log.get_mut(at) {
        l.outcome = outcome;
    }
}

async fn delay(shared: &Shared) {
    let d = shared.lock().faults.delay;
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

fn known(shared: &Shared, c: &proto::Contract) -> bool {
    let sym = store_symbol(c);
    let st = shared.lock();
    !st.faults.unknown.contains(&sym) && st.library.has_symbol(&sym)
}

fn con_id(sym: &str) -> i32 {
    // Stable across runs, so a cached contract stays valid after the fake restarts.
    let h = sym.bytes().fold(2_166_136_261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16_777_619)
    });
    (h & 0x3fff_ffff) as i32 + 1
}

async fn contract_details(
    req: proto::ContractDataRequest,
    conn: u64,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Out>,
) {
    let rid = req.req_id.unwrap_or(0);
    let c = req.contract.unwrap_or_default();
    let at = log(&shared, entry(conn, Kind::ContractDetails, rid, Some(&c)));
    delay(&shared).await;
    if !known(&shared, &c) {
        set_outcome(&shared, at, "error 200".into());
        let _ = tx.send(Out::Frame(error(rid, 200, UNKNOWN_TEXT)));
        return;
    }
    let sym = store_symbol(&c);
    let cash = c.sec_type.as_deref() == Some("CASH");
    let base = c.symbol.clone().unwrap_or_default().to_ascii_uppercase();
    let quote = c.currency.clone().unwrap_or_else(|| "USD".into());
    let contract = if cash {
        proto::Contract {
            con_id: Some(con_id(&sym)),
            symbol: Some(base.clone()),
            sec_type: Some("CASH".into()),
            exchange: Some("IDEALPRO".into()),
            primary_exch: None,
            currency: Some(quote.clone()),
            local_symbol: Some(format!("{base}.{quote}")),
            trading_class: Some(format!("{base}.{quote}")),
        }
    } else if c.sec_type.as_deref() == Some("CONTFUT") {
        proto::Contract {
            con_id: Some(con_id(&sym)),
            symbol: Some(base.clone()),
            sec_type: Some("CONTFUT".into()),
            exchange: c.exchange.clone(),
            primary_exch: None,
            currency: Some(quote),
            local_symbol: Some(format!("{base}Z5")),
            trading_class: Some(base.clone()),
        }
    } else {
        proto::Contract {
            con_id: Some(con_id(&sym)),
            symbol: Some(base.clone()),
            sec_type: Some(c.sec_type.clone().unwrap_or_else(|| "STK".into())),
            exchange: Some("SMART".into()),
            primary_exch: Some("NASDAQ".into()),
            currency: Some(quote),
            local_symbol: Some(base.clone()),
            trading_class: Some("NMS".into()),
        }
    };
    let details = proto::ContractDetails {
        market_name: contract.trading_class.clone(),
        min_tick: Some(if cash { "0.00005" } else { "0.01" }.into()),
        long_name: Some(format!("{base} (fake gateway)")),
        time_zone_id: Some(
            if cash {
                "US/Eastern"
            } else {
                "America/New_York"
            }
            .into(),
        ),
    };
    set_outcome(&shared, at, "ok".into());
    let _ = tx.send(Out::Frame(wire::message(
        id::OUT_CONTRACT_DATA,
        &proto::ContractData {
            req_id: Some(rid),
            contract: Some(contract),
            details: Some(details),
        },
    )));
    let _ = tx.send(Out::Frame(wire::message(
        id::OUT_CONTRACT_DATA_END,
        &proto::ContractDataEnd { req_id: Some(rid) },
    )));
}

async fn head_timestamp(
    req: proto::HeadTimestampRequest,
    conn: u64,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Out>,
) {
    let rid = req.req_id.unwrap_or(0);
    let c = req.contract.unwrap_or_default();
    let wts = req.what_to_show.clone().unwrap_or_default();
    let at = log(
        &shared,
        Logged {
            what_to_show: wts.clone(),
            ..entry(conn, Kind::HeadTimestamp, rid, Some(&c))
        },
    );
    delay(&shared).await;
    if !known(&shared, &c) {
        set_outcome(&shared, at, "error 200".into());
        let _ = tx.send(Out::Frame(error(rid, 200, UNKNOWN_TEXT)));
        return;
    }
    let sym = store_symbol(&c);
    let head = {
        let st = shared.lock();
        (!st.faults.no_data.contains(&sym))
            .then(|| st.library.head(&sym))
            .flatten()
    };
    match head {
        Some(ts) => {
            set_outcome(&shared, at, format!("head {ts}"));
            let _ = tx.send(Out::Frame(wire::message(
                id::OUT_HEAD_TIMESTAMP,
                &proto::HeadTimestamp {
                    req_id: Some(rid),
                    head_timestamp: Some(ts.to_string()),
                },
            )));
        }
        None => {
            set_outcome(&shared, at, "error 162".into());
            let _ = tx.send(Out::Frame(error(rid, 162, NO_DATA_TEXT)));
        }
    }
}

enum Answer {
    /// Bars, the window's start and end, and the timeframe.
    Bars(Vec<Bar>, i64, i64, &'static str),
    Error(i32, String),
    Drop,
}

async fn historical(
    req: proto::HistoricalDataRequest,
    conn: u64,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<Out>,
) {
    let rid = req.req_id.unwrap_or(0);
    let c = req.contract.clone().unwrap_or_default();
    let wts = req.what_to_show.clone().unwrap_or_default();
    let end_raw = req.end_date_time.clone().unwrap_or_default();
    let dur_raw = req.duration.clone().unwrap_or_default();
    let size_raw = req.bar_size_setting.clone().unwrap_or_default();
    let at = log(
        &shared,
        Logged {
            what_to_show: wts.clone(),
            end: end_raw.clone(),
            duration: dur_raw.clone(),
            bar_size: size_raw.clone(),
            ..entry(conn, Kind::Historical, rid, Some(&c))
        },
    );
    let streaming = req.keep_up_to_date == Some(true);
    let answer = decide(&shared, &c, &end_raw, &dur_raw, &size_raw);
    if !matches!(answer, Answer::Drop) {
        delay(&shared).await;
    }
    match answer {
        Answer::Drop => {
            set_outcome(&shared, at, "dropped".into());
            shared.kill_connections.send_modify(|n| *n += 1);
        }
        Answer::Error(code, text) => {
            set_outcome(&shared, at, format!("error {code}"));
            let _ = tx.send(Out::Frame(error(rid, code, &text)));
        }
        Answer::Bars(bars, start, end, tf) => {
            let daily = bars::is_daily(tf);
            set_outcome(
                &shared,
                at,
                if streaming {
                    stream::STREAMING.into()
                } else {
                    format!("bars {}", bars.len())
                },
            );
            let msg = proto::HistoricalData {
                req_id: Some(rid),
                bars: bars.iter().map(|b| stream::wire_bar(b, daily)).collect(),
            };
            let _ = tx.send(Out::Frame(wire::message(id::OUT_HISTORICAL_DATA, &msg)));
            let _ = tx.send(Out::Frame(wire::message(
                id::OUT_HISTORICAL_DATA_END,
                &proto::HistoricalDataEnd {
                    req_id: Some(rid),
                    start_date_str: Some(bars::format_utc(start)),
                    end_date_str: Some(bars::format_utc(end)),
                },
            )));
            if streaming {
                let req = stream::Request {
                    conn,
                    rid,
                    symbol: store_symbol(&c),
                    tf,
                    bar_size: size_raw,
                    span: bars::span_secs(tf),
                    last: bars.last().map(|b| b.ts),
                };
                stream::play(req, shared, tx).await;
            }
        }
    }
}

/// The answer to a historical request, with the faults applied in the order a gateway would hit
/// them: connection first, then pacing, then the contract, then the data.
fn decide(shared: &Shared, c: &proto::Contract, end_raw: &str, dur: &str, size: &str) -> Answer {
    let sym = store_symbol(c);
    let mut st = shared.lock();
    if let Some(n) = st.faults.drop_after_requests {
        if st.answered_since_fault >= n {
            st.faults.drop_after_requests = None;
            return Answer::Drop;
        }
        st.answered_since_fault += 1;
    }
    if st.faults.pacing_violations > 0 {
        st.faults.pacing_violations -= 1;
        return Answer::Error(162, PACING_TEXT.into());
    }
    if st.faults.unknown.contains(&sym) || !st.library.has_symbol(&sym) {
        return Answer::Error(200, UNKNOWN_TEXT.into());
    }
    let (Some(tf), Some(span)) = (bars::tf_for_bar_size(size), bars::duration_secs(dur)) else {
        return Answer::Error(
            321,
            format!(
                "Error validating request: bar size {size:?} or duration {dur:?} not supported"
            ),
        );
    };
    let now = st.now();
    let end = if end_raw.trim().is_empty() {
        now
    } else {
        match bars::parse_ib_datetime(end_raw) {
            Some(t) => t,
            None => {
                return Answer::Error(
                    321,
                    format!("Error validating request: end date/time {end_raw:?} not understood"),
                );
            }
        }
    };
    let start = end - span;
    // With the replay clock, nothing after its now exists yet and the bar it is in is still
    // forming, answered as it stands. Without it the library is served whole, future included
    // (tests load years of generated bars).
    let replaying = st.clock.is_some();
    let upto = if replaying { end.min(now + 1) } else { end };
    let mut found: Vec<Bar> = match st.library.get(&sym, tf) {
        Some(s) if !st.faults.no_data.contains(&sym) => s.window(start, upto).to_vec(),
        _ => Vec::new(),
    };
    if replaying && let Some(last) = found.last_mut() {
        *last = crate::stream::forming(last, now - last.ts, bars::span_secs(tf));
    }
    if found.is_empty() {
        return Answer::Error(162, format!("{NO_DATA_TEXT}: {sym} {size}"));
    }
    if let Some(limit) = st.faults.drop_after_bars
        && st.bars_sent + found.len() as u64 > limit
    {
        st.faults.drop_after_bars = None;
        return Answer::Drop;
    }
    st.bars_sent += found.len() as u64;
    Answer::Bars(found, start, end, tf)
}
