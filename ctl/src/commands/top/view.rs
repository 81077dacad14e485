//! Drawing one [`Screen`]: a pure function of the screen and a frame, so it is tested on
//! ratatui's `TestBackend` without a terminal.

use super::model::Screen;
use crate::output::duration;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

fn micros(us: u64) -> String {
    match us {
        0 => "-".into(),
        1..1000 => format!("{us}µs"),
        1000..1_000_000 => format!("{:.1}ms", us as f64 / 1000.0),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

fn bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if n as f64 >= MIB {
        format!("{:.1} MiB", n as f64 / MIB)
    } else {
        format!("{:.1} KiB", n as f64 / 1024.0)
    }
}

pub fn draw(f: &mut Frame, s: &Screen) {
    let ops_rows = s.sample.running.len().max(1) as u16;
    let [head, ops, reqs, foot, _] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(ops_rows + 3),
        Constraint::Length(s.services.len() as u16 + 3),
        Constraint::Length(5),
        Constraint::Fill(1),
    ])
    .areas(f.area());
    let st = &s.sample.stats;
    f.render_widget(
        Paragraph::new(format!(
            "ktrdrd pid {}  up {}  connections {} open  ·  refreshed every second  ·  q or Ctrl-C quits",
            s.daemon_pid,
            duration(st.uptime_secs),
            st.connections_open
        )),
        head,
    );

    let bold = Style::default().add_modifier(Modifier::BOLD);
    let pending = s.counter("operations", "pending");
    let op_rows: Vec<Row> = if s.sample.running.is_empty() {
        vec![Row::new(vec!["", "", "", "", "(none running)"])]
    } else {
        s.sample
            .running
            .iter()
            .map(|r| {
                Row::new(vec![
                    r.id.to_string(),
                    r.kind.as_str().to_string(),
                    format!("{:5.1}%", r.progress.percent),
                    r.progress
                        .eta_secs
                        .map(duration)
                        .unwrap_or_else(|| "-".into()),
                    r.progress.message.clone(),
                ])
            })
            .collect()
    };
    f.render_widget(
        Table::new(
            op_rows,
            [
                Constraint::Length(6),
                Constraint::Length(11),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Fill(1),
            ],
        )
        .header(Row::new(vec!["ID", "KIND", "PROGRESS", "ETA", "MESSAGE"]).style(bold))
        .block(Block::default().borders(Borders::ALL).title(format!(
            " Operations: {} running, {pending} queued ",
            s.sample.running.len()
        ))),
        ops,
    );

    let req_rows: Vec<Row> = s
        .services
        .iter()
        .map(|r| {
            Row::new(vec![
                r.name.clone(),
                format!("{:.1}", r.per_sec),
                r.requests.to_string(),
                r.errors.to_string(),
                micros(r.p50_us),
                micros(r.p99_us),
            ])
        })
        .collect();
    f.render_widget(
        Table::new(
            req_rows,
            [
                Constraint::Length(12),
                Constraint::Length(8),
                Constraint::Length(10),
                Constraint::Length(8),
                Constraint::Length(10),
                Constraint::Length(10),
            ],
        )
        .header(Row::new(vec!["SERVICE", "REQ/S", "REQUESTS", "ERRORS", "P50", "P99"]).style(bold))
        .block(Block::default().borders(Borders::ALL).title(" Requests ")),
        reqs,
    );

    let [cache, ib] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(foot);
    let (hits, misses) = (
        s.counter("data", "cache_hits"),
        s.counter("data", "cache_misses"),
    );
    let ratio = if hits + misses == 0 {
        "-".to_string()
    } else {
        format!("{:.0}%", hits as f64 * 100.0 / (hits + misses) as f64)
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::from(format!(
                "{} in {} series",
                bytes(s.counter("data", "cache_bytes")),
                s.counter("data", "cache_entries")
            )),
            Line::from(format!("hits {hits}  misses {misses}  hit rate {ratio}")),
            Line::from(format!(
                "evictions {}",
                s.counter("data", "cache_evictions")
            )),
        ])
        .block(Block::default().borders(Borders::ALL).title(" Bar cache ")),
        cache,
    );
    let ib_lines = match &s.sample.ib {
        Ok(r) => vec![
            Line::from(format!(
                "{} ({})  {}",
                if r.connected {
                    "connected"
                } else {
                    "not connected"
                },
                r.mode,
                r.endpoint
            )),
            Line::from(format!(
                "pacing budget {}/{} per {}",
                r.pacing_budget_left,
                r.pacing_max,
                duration(r.pacing_window_secs)
            )),
            Line::from(format!(
                "waits {}  violations {}  bars {}",
                r.pacing_waits, r.pacing_violations, r.bars_received
            )),
        ],
        Err(e) => vec![Line::from(format!("unavailable: {e}"))],
    };
    f.render_widget(
        Paragraph::new(ib_lines).block(Block::default().borders(Borders::ALL).title(" IB ")),
        ib,
    );
}

#[cfg(test)]
mod tests {
    use super::super::model::{Sample, Screen};
    use super::*;
    use ktrdr_protocol::model::{
        IbStatusReport, Latency, OpState, OperationRecord, Progress, ServiceStats, StatsReport,
    };
    use ktrdr_protocol::operation::{DemoParams, OpKind, OpParams};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    fn stats(requests: u64) -> StatsReport {
        let svc = |name: &str, requests: u64, counters: &[(&str, u64)]| ServiceStats {
            name: name.into(),
            requests,
            errors: 1,
            in_flight: 0,
            latency: Latency {
                p50_us: 80,
                p90_us: 100,
                p99_us: 2500,
                max_us: 9000,
            },
            counters: counters
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect::<BTreeMap<_, _>>(),
        };
        StatsReport {
            uptime_secs: 3725.0,
            connections_total: 9,
            connections_open: 2,
            connections_refused: 0,
            protocol_errors: 0,
            services: vec![
                svc("system", requests, &[]),
                svc("operations", 4, &[("pending", 3)]),
                svc(
                    "data",
                    0,
                    &[
                        ("cache_bytes", 3 << 20),
                        ("cache_entries", 2),
                        ("cache_hits", 3),
                        ("cache_misses", 1),
                    ],
                ),
            ],
        }
    }

    fn running() -> OperationRecord {
        OperationRecord {
            id: 42,
            kind: OpKind::Demo,
            service: "operations".into(),
            params: OpParams::Demo(DemoParams {
                seconds: 10.0,
                steps: 10,
                fail_at: None,
            }),
            state: OpState::Running,
            created_ms: 0,
            started_ms: Some(1),
            finished_ms: None,
            progress: Progress {
                percent: 40.0,
                step: 4,
                steps: 10,
                message: "step 4/10".into(),
                items: 4,
                eta_secs: Some(6.0),
            },
            queue_position: None,
            result: None,
            error: None,
        }
    }

    fn ib() -> IbStatusReport {
        IbStatusReport {
            mode: "in_process".into(),
            endpoint: "127.0.0.1:4002".into(),
            client_id: 1,
            connected: false,
            server_version: None,
            connected_since_ms: None,
            connect_attempts: 0,
            reconnects: 0,
            last_error: None,
            last_error_ms: None,
            pacing_budget_left: 57,
            pacing_max: 60,
            pacing_window_secs: 600.0,
            requests: 3,
            errors: 0,
            pacing_waits: 1,
            pacing_violations: 0,
            bars_received: 500,
        }
    }

    fn text(screen: &Screen) -> String {
        let mut t = Terminal::new(TestBackend::new(110, 30)).unwrap();
        t.draw(|f| draw(f, screen)).unwrap();
        let buf = t.backend().buffer();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn draws_operations_rates_cache_and_pacing_budget() {
        let t0 = Instant::now();
        let first = Sample {
            at: t0,
            stats: stats(10),
            running: vec![running()],
            ib: Ok(ib()),
        };
        let second = Sample {
            at: t0 + Duration::from_secs(2),
            stats: stats(30),
            ..first.clone()
        };
        let screen = Screen::new(77, second, Some(&first));
        assert_eq!(screen.services[0].per_sec, 10.0);
        let out = text(&screen);
        for want in [
            "ktrdrd pid 77",
            "up 1h 02m",
            "Operations: 1 running, 3 queued",
            "42",
            "demo",
            "40.0%",
            "6.0s",
            "step 4/10",
            "system",
            "10.0",
            "2.5ms",
            "3.0 MiB in 2 series",
            "hit rate 75%",
            "pacing budget 57/60 per 10m 00s",
            "bars 500",
        ] {
            assert!(out.contains(want), "{want:?} missing from\n{out}");
        }
        let unavailable = Screen::new(
            77,
            Sample {
                ib: Err("the IB host is down".into()),
                running: vec![],
                ..first.clone()
            },
            None,
        );
        let out = text(&unavailable);
        assert!(out.contains("(none running)"), "{out}");
        assert!(out.contains("unavailable: the IB host is down"), "{out}");
    }
}
