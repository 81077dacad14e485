//! `data subscribe|unsubscribe|subscriptions|follow` and `predict --follow`.
//!
//! Following never times out (a 1d series closes a bar a day); each chunk is flushed as it
//! arrives so a pipeline sees every bar at once. A closed stdout (`| head`) ends it quietly.

use crate::Failure;
use crate::client::Client;
use crate::commands::data::{ShowFormat, header, rows};
use crate::output::bars::{BarWriter, Layout};
use crate::output::{print_json, print_table, table, timestamp_ms};
use ktrdr_protocol::live::{SignalLine, SubscriptionInfo};
use ktrdr_protocol::request::{Follow, PredictFollow, Subscribe};
use ktrdr_protocol::{Reply, Request, Response, WireError};
use std::io::Write;

fn unexpected(reply: Reply) -> Failure {
    WireError::internal(format!("unexpected reply from the daemon: {reply:?}")).into()
}

fn age(s: &SubscriptionInfo) -> String {
    s.last_bar_age_secs
        .map_or("-".into(), crate::output::duration)
}

fn print_subs(subs: &[SubscriptionInfo]) {
    let mut t = table(&[
        "symbol",
        "timeframe",
        "state",
        "last bar (utc)",
        "age",
        "stored",
        "gap filled",
        "followers",
        "last error",
    ]);
    for s in subs {
        t.add_row(vec![
            s.symbol.clone(),
            s.timeframe.clone(),
            s.state.to_string(),
            s.last_bar_ms.map_or("-".into(), timestamp_ms),
            age(s),
            s.bars_stored.to_string(),
            s.gap_bars.to_string(),
            s.followers.to_string(),
            s.last_error.clone().unwrap_or_default(),
        ]);
    }
    print_table(&t);
}

pub async fn subscribe(
    c: &mut Client,
    json: bool,
    symbol: String,
    timeframe: String,
    on: bool,
) -> Result<(), Failure> {
    let req = Subscribe { symbol, timeframe };
    let req = if on {
        Request::DataSubscribe(req)
    } else {
        Request::DataUnsubscribe(req)
    };
    let reply = c.call(&req).await?;
    let Reply::Subscription(s) = reply else {
        return Err(unexpected(reply));
    };
    if json {
        print_json(&s)?;
    } else if on {
        println!(
            "subscribed to {} {} ({}); `ktrdrctl data follow {} {}` prints its bars as they close",
            s.symbol, s.timeframe, s.state, s.symbol, s.timeframe
        );
    } else {
        println!("unsubscribed from {} {}", s.symbol, s.timeframe);
    }
    Ok(())
}

pub async fn subscriptions(c: &mut Client, json: bool) -> Result<(), Failure> {
    let reply = c.call(&Request::DataSubscriptions).await?;
    let Reply::Subscriptions(l) = reply else {
        return Err(unexpected(reply));
    };
    if json {
        print_json(&l)?;
    } else if l.subscriptions.is_empty() {
        println!("no subscriptions (saved in {})", l.path);
        println!("  hint: `ktrdrctl data subscribe SYMBOL TF` keeps a series current from IB");
    } else {
        print_subs(&l.subscriptions);
    }
    Ok(())
}

pub async fn follow(c: &mut Client, req: Follow, fmt: ShowFormat) -> Result<(), Failure> {
    c.send(&Request::DataFollow(req)).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut writer = BarWriter::new(match fmt {
        ShowFormat::Json => Layout::JsonLines,
        _ => Layout::Csv,
    });
    if header(&mut out, fmt).and_then(|_| out.flush()).is_err() {
        return Ok(());
    }
    loop {
        match c.next(true).await? {
            Response::Bars(chunk) => {
                if let Err(e) = rows(&mut out, fmt, &chunk, &mut writer) {
                    return e.into_report().map_or(Ok(()), |e| Err(e.into()));
                }
                if out.flush().is_err() {
                    return Ok(());
                }
            }
            Response::Error(e) => return Err(e.into()),
            Response::Reply(r) => return Err(unexpected(r)),
            Response::Update(_) | Response::Equity(_) | Response::Signal(_) | Response::File(_) => {
            }
        }
    }
}

/// A signal as one JSON line: the line's fields plus the bar time as text.
fn signal_json(l: &SignalLine) -> serde_json::Value {
    let mut v = serde_json::to_value(l).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "time".into(),
            format!("{}Z", timestamp_ms(l.bar_ms).replacen(' ', "T", 1)).into(),
        );
    }
    v
}

pub async fn predict_follow(c: &mut Client, json: bool, req: PredictFollow) -> Result<(), Failure> {
    c.send(&Request::PredictFollow(req)).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !json
        && writeln!(
            out,
            "{:<19}  {:<6}  {:>6}  {:>6}  {:>6}  {:>6}  {:<6}",
            "TIME (UTC)", "SIGNAL", "CONF", "P(BUY)", "P(HOLD)", "P(SELL)", "ACTION"
        )
        .and_then(|_| out.flush())
        .is_err()
    {
        return Ok(());
    }
    loop {
        match c.next(true).await? {
            Response::Signal(l) => {
                let written = if json {
                    writeln!(out, "{}", signal_json(&l))
                } else {
                    let p = |i: usize| l.probabilities.get(i).copied().unwrap_or(f64::NAN);
                    writeln!(
                        out,
                        "{:<19}  {:<6}  {:>6.3}  {:>6.3}  {:>7.3}  {:>7.3}  {:<6}",
                        timestamp_ms(l.bar_ms),
                        l.signal,
                        l.confidence,
                        p(0),
                        p(1),
                        p(2),
                        if l.acted {
                            l.action.clone()
                        } else {
                            format!("({})", l.action)
                        }
                    )
                };
                if written.and_then(|_| out.flush()).is_err() {
                    return Ok(());
                }
            }
            Response::Error(e) => return Err(e.into()),
            Response::Reply(r) => return Err(unexpected(r)),
            Response::Update(_) | Response::Equity(_) | Response::Bars(_) | Response::File(_) => {}
        }
    }
}
