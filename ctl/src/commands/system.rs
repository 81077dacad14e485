//! `health`, `status`, `config`, `stats`, `ping`.

use crate::client::Client;
use crate::output::{self, print_json, print_table, table};
use ktrdr_protocol::model::HealthStatus;
use ktrdr_protocol::request::Ping;
use ktrdr_protocol::{ErrorKind, Reply, Request, WireError};

fn unexpected(reply: Reply) -> WireError {
    WireError::internal(format!("unexpected reply from the daemon: {reply:?}"))
}

pub async fn health(c: &mut Client, json: bool) -> Result<(), WireError> {
    let Reply::Health(h) = c.call(&Request::Health).await? else {
        return Err(WireError::internal("bad reply"));
    };
    if json {
        print_json(&h)?;
    } else {
        println!(
            "ktrdrd {} (protocol {}), pid {}, up {}, {}",
            h.daemon_version,
            h.protocol,
            h.pid,
            output::duration(h.uptime_secs),
            status_word(h.status)
        );
        println!("socket {}", h.socket);
        println!();
        let mut t = table(&["service", "status", "detail"]);
        for s in &h.services {
            t.add_row(vec![
                s.name.clone(),
                status_word(s.status).into(),
                s.detail.clone(),
            ]);
        }
        print_table(&t);
    }
    if h.status == HealthStatus::Down {
        let down: Vec<&str> = h
            .services
            .iter()
            .filter(|s| s.status == HealthStatus::Down)
            .map(|s| s.name.as_str())
            .collect();
        return Err(WireError::new(
            ErrorKind::Unavailable,
            format!("service(s) down: {}", down.join(", ")),
        ));
    }
    Ok(())
}

fn status_word(s: HealthStatus) -> &'static str {
    match s {
        HealthStatus::Ok => "ok",
        HealthStatus::Degraded => "degraded",
        HealthStatus::Down => "down",
    }
}

pub async fn status(c: &mut Client, json: bool) -> Result<(), WireError> {
    let reply = c.call(&Request::Status).await?;
    let Reply::Status(s) = reply else {
        return Err(unexpected(reply));
    };
    if json {
        return print_json(&s);
    }
    let mut t = table(&["service", "mode", "endpoint", "settings"]);
    for svc in &s.services {
        let settings: Vec<String> = svc
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        t.add_row(vec![
            svc.name.clone(),
            svc.mode.clone(),
            svc.endpoint.clone().unwrap_or_else(|| "-".into()),
            settings.join("\n"),
        ]);
    }
    print_table(&t);
    let set: Vec<String> = s
        .services
        .iter()
        .flat_map(|svc| svc.env.iter())
        .filter_map(|e| e.value.as_ref().map(|v| format!("{}={v}", e.name)))
        .collect();
    println!();
    if set.is_empty() {
        println!("environment: no KTRDR_* overrides set");
    } else {
        println!("environment: {}", set.join(" "));
    }
    Ok(())
}

pub async fn config(c: &mut Client, json: bool) -> Result<(), WireError> {
    let reply = c.call(&Request::Config).await?;
    let Reply::Config(cfg) = reply else {
        return Err(unexpected(reply));
    };
    if json {
        return print_json(&cfg);
    }
    println!(
        "config file: {}",
        cfg.config_file.as_deref().unwrap_or("(none)")
    );
    println!();
    let mut t = table(&["setting", "value", "source"]);
    for s in &cfg.settings {
        t.add_row(vec![s.key.clone(), s.value.clone(), s.source.clone()]);
    }
    print_table(&t);
    Ok(())
}

pub async fn stats(c: &mut Client, json: bool) -> Result<(), WireError> {
    let reply = c.call(&Request::Stats).await?;
    let Reply::Stats(s) = reply else {
        return Err(unexpected(reply));
    };
    if json {
        return print_json(&s);
    }
    println!(
        "up {}, connections: {} total, {} open, {} refused, {} protocol errors",
        output::duration(s.uptime_secs),
        s.connections_total,
        s.connections_open,
        s.connections_refused,
        s.protocol_errors
    );
    println!();
    let mut t = table(&[
        "service", "requests", "errors", "p50", "p90", "p99", "max", "counters",
    ]);
    for svc in &s.services {
        let counters: Vec<String> = svc
            .counters
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        t.add_row(vec![
            svc.name.clone(),
            svc.requests.to_string(),
            svc.errors.to_string(),
            micros(svc.latency.p50_us),
            micros(svc.latency.p90_us),
            micros(svc.latency.p99_us),
            micros(svc.latency.max_us),
            counters.join(" "),
        ]);
    }
    print_table(&t);
    Ok(())
}

fn micros(us: u64) -> String {
    match us {
        0 => "-".into(),
        1..1000 => format!("{us}µs"),
        1000..1_000_000 => format!("{:.1}ms", us as f64 / 1000.0),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

pub async fn ping(c: &mut Client, json: bool) -> Result<(), WireError> {
    let payload = u64::from(std::process::id());
    let started = std::time::Instant::now();
    let reply = c.call(&Request::Ping(Ping { payload })).await?;
    let rtt = started.elapsed();
    let Reply::Pong { payload: back } = reply else {
        return Err(unexpected(reply));
    };
    if back != payload {
        return Err(WireError::internal("ping answered with the wrong payload"));
    }
    if json {
        print_json(
            &serde_json::json!({"pong": true, "daemon_pid": c.daemon_pid, "rtt_us": rtt.as_micros() as u64}),
        )
    } else {
        println!(
            "pong from ktrdrd (pid {}) in {}µs",
            c.daemon_pid,
            rtt.as_micros()
        );
        Ok(())
    }
}
