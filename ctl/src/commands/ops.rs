//! `ops list|show|watch|cancel|demo`, and the foreground follow shared by every command that starts
//! a long job.
//!
//! Ctrl-C while following detaches: the job keeps running in the daemon, its id and the commands to
//! re-attach or cancel are printed, and the exit code is 130. Cancelling is always explicit
//! (`ops cancel ID`), so an interrupted terminal never throws away hours of training.

use crate::Failure;
use crate::client::Client;
use crate::describe;
use crate::output::{self, operation_json, print_json, print_json_line, print_table, table};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ktrdr_protocol::model::{OpState, OperationRecord};
use ktrdr_protocol::operation::OpKind;
use ktrdr_protocol::request::{OpRef, OpsDemo, OpsList, OpsResume};
use ktrdr_protocol::{ErrorKind, Reply, Request, Response, WireError};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see crate::cli::Command
pub enum OpsCommand {
    /// List operations, newest first.
    List {
        #[arg(long, value_enum)]
        state: Option<StateArg>,
        /// demo, ib_load, data_import, training, backtest, sweep or sweep_cell.
        #[arg(long, value_parser = parse_op_kind)]
        kind: Option<ktrdr_protocol::operation::OpKind>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one operation.
    Show { id: u64 },
    /// Follow an operation's progress until it ends.
    Watch { id: u64 },
    /// Cancel a pending or running operation.
    Cancel { id: u64 },
    /// Continue an interrupted training from its last checkpoint, or an interrupted sweep from
    /// its finished cells (sweeps also resume by themselves when the daemon starts).
    Resume {
        id: u64,
        #[command(flatten)]
        follow: FollowArgs,
    },
    /// Start a diagnostic operation that sleeps (to try progress, cancel and queueing).
    Demo {
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        #[arg(long, default_value_t = 10)]
        steps: u32,
        /// Fail at this step.
        #[arg(long)]
        fail_at: Option<u32>,
        #[command(flatten)]
        follow: FollowArgs,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct FollowArgs {
    /// Print the operation id and return at once instead of following its progress.
    #[arg(long)]
    pub detach: bool,
}

fn parse_op_kind(s: &str) -> Result<ktrdr_protocol::operation::OpKind, String> {
    s.parse()
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum StateArg {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    Interrupted,
}

impl StateArg {
    pub fn to_state(self) -> ktrdr_protocol::model::OpState {
        use ktrdr_protocol::model::OpState;
        match self {
            StateArg::Pending => OpState::Pending,
            StateArg::Running => OpState::Running,
            StateArg::Completed => OpState::Completed,
            StateArg::Failed => OpState::Failed,
            StateArg::Cancelled => OpState::Cancelled,
            StateArg::Interrupted => OpState::Interrupted,
        }
    }
}

fn expect_op(reply: Reply) -> Result<OperationRecord, WireError> {
    match reply {
        Reply::Operation(r) => Ok(r),
        other => Err(WireError::internal(format!("unexpected reply: {other:?}"))),
    }
}

pub async fn list(
    c: &mut Client,
    json: bool,
    state: Option<OpState>,
    kind: Option<OpKind>,
    limit: u32,
) -> Result<(), Failure> {
    let reply = c
        .call(&Request::OpsList(OpsList { state, kind, limit }))
        .await?;
    let Reply::Operations(list) = reply else {
        return Err(WireError::internal("unexpected reply to ops list").into());
    };
    if json {
        let items: Vec<_> = list.items.iter().map(operation_json).collect();
        print_json(&serde_json::json!({"total": list.total, "items": items}))?;
        return Ok(());
    }
    if list.items.is_empty() {
        println!(
            "no operations{}",
            if list.total > 0 { " in this page" } else { "" }
        );
        return Ok(());
    }
    let mut t = table(&[
        "id",
        "kind",
        "state",
        "progress",
        "created (utc)",
        "took",
        "message",
    ]);
    for r in &list.items {
        t.add_row(vec![
            r.id.to_string(),
            r.kind.to_string(),
            state_label(r),
            format!("{:.0}%", r.progress.percent),
            output::timestamp(r.created_ms),
            took(r),
            r.error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| r.progress.message.clone()),
        ]);
    }
    print_table(&t);
    if list.total > list.items.len() as u64 {
        println!(
            "({} of {} shown; use --limit)",
            list.items.len(),
            list.total
        );
    }
    Ok(())
}

fn state_label(r: &OperationRecord) -> String {
    match (r.state, r.queue_position) {
        (OpState::Pending, Some(p)) => format!("pending #{p}"),
        (s, _) => s.as_str().to_string(),
    }
}

fn took(r: &OperationRecord) -> String {
    match (r.started_ms, r.finished_ms) {
        (Some(s), Some(f)) => output::duration(f.saturating_sub(s) as f64 / 1000.0),
        (Some(s), None) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(s);
            format!(
                "{}…",
                output::duration(now.saturating_sub(s) as f64 / 1000.0)
            )
        }
        _ => "-".into(),
    }
}

pub async fn show(c: &mut Client, json: bool, id: u64) -> Result<(), Failure> {
    let rec = expect_op(c.call(&Request::OpsShow(OpRef { id })).await?)?;
    print_record(&rec, json)?;
    Ok(())
}

fn print_record(r: &OperationRecord, json: bool) -> Result<(), WireError> {
    if json {
        return print_json(&operation_json(r));
    }
    let mut t = table(&["field", "value"]);
    let mut row = |k: &str, v: String| {
        t.add_row(vec![k.to_string(), v]);
    };
    row("id", r.id.to_string());
    row("kind", format!("{} (service {})", r.kind, r.service));
    row("state", state_label(r));
    row(
        "progress",
        format!("{:.1}% {}", r.progress.percent, r.progress.message),
    );
    if r.progress.steps > 0 {
        row(
            "step",
            format!("{} of {}", r.progress.step, r.progress.steps),
        );
    }
    for (k, v) in describe::params(&r.params) {
        row(k, v);
    }
    row("created", output::timestamp(r.created_ms));
    if let Some(s) = r.started_ms {
        row("started", output::timestamp(s));
    }
    if let Some(f) = r.finished_ms {
        row("finished", output::timestamp(f));
    }
    row("took", took(r));
    if let Some(res) = &r.result {
        for (k, v) in describe::result(res) {
            row(k, v);
        }
    }
    if let Some(e) = &r.error {
        row("error", format!("{}: {}", e.kind, e.message));
    }
    print_table(&t);
    Ok(())
}

pub async fn cancel(c: &mut Client, json: bool, id: u64) -> Result<(), Failure> {
    let rec = expect_op(c.call(&Request::OpsCancel(OpRef { id })).await?)?;
    if json {
        print_json(&operation_json(&rec))?;
    } else if rec.state.is_terminal() {
        println!("operation {id} {}", rec.state.as_str());
    } else {
        println!(
            "cancellation of operation {id} requested; it is still {}",
            rec.state.as_str()
        );
    }
    Ok(())
}

pub async fn resume(c: &mut Client, json: bool, id: u64, detach: bool) -> Result<(), Failure> {
    let req = Request::OpsResume(OpsResume {
        id,
        follow: !detach,
    });
    if detach {
        return detached(c, &req, json).await;
    }
    follow(c, &req, json).await
}

pub async fn watch(c: &mut Client, json: bool, id: u64) -> Result<(), Failure> {
    follow(c, &Request::OpsWatch(OpRef { id }), json).await
}

pub async fn demo(
    c: &mut Client,
    json: bool,
    seconds: f64,
    steps: u32,
    fail_at: Option<u32>,
    detach: bool,
) -> Result<(), Failure> {
    let req = Request::OpsDemo(OpsDemo {
        seconds,
        steps,
        fail_at,
        follow: !detach,
    });
    if detach {
        return detached(c, &req, json).await;
    }
    follow(c, &req, json).await
}

/// Sends a request whose answer is a stream of operation snapshots, renders them, and turns the final
/// state into the exit status.
pub async fn follow(c: &mut Client, req: &Request, json: bool) -> Result<(), Failure> {
    let rec = follow_to_end(c, req, json).await?;
    if json {
        print_json_line(&serde_json::json!({"event": "final", "operation": operation_json(&rec)}));
    } else {
        print_record(&rec, false)?;
    }
    outcome(&rec)
}

/// Sends a request that starts an operation with `follow` off: prints its id (or its record with
/// `--json`) and how to follow it.
pub async fn detached(c: &mut Client, req: &Request, json: bool) -> Result<(), Failure> {
    let rec = expect_op(c.call(req).await?)?;
    if json {
        print_json(&operation_json(&rec))?;
    } else {
        println!("{}", rec.id);
        eprintln!(
            "started operation {} ({}); follow it with `ktrdrctl ops watch {}`",
            rec.id, rec.kind, rec.id
        );
    }
    Ok(())
}

/// Sends `req`, shows its progress until the operation ends and returns the final record (without
/// printing it). Ctrl-C detaches.
pub async fn follow_to_end(
    c: &mut Client,
    req: &Request,
    json: bool,
) -> Result<OperationRecord, Failure> {
    c.send(req).await?;
    let mut view = ProgressView::new(json);
    let mut first = true;
    loop {
        let frame = tokio::select! {
            f = c.next(!first) => f?,
            _ = tokio::signal::ctrl_c() => {
                view.finish();
                return Err(Failure::Detached(view.last_id));
            }
        };
        first = false;
        match frame {
            Response::Update(rec) => view.update(&rec),
            Response::Bars(_) | Response::Equity(_) | Response::Signal(_) | Response::File(_) => {}
            Response::Reply(reply) => {
                let rec = expect_op(reply)?;
                view.finish();
                return Ok(rec);
            }
            Response::Error(e) => {
                view.finish();
                return Err(e.into());
            }
        }
    }
}

pub fn outcome(rec: &OperationRecord) -> Result<(), Failure> {
    match rec.state {
        OpState::Completed => Ok(()),
        OpState::Failed => Err(rec
            .error
            .clone()
            .unwrap_or_else(|| WireError::internal(format!("operation {} failed", rec.id)))
            .into()),
        OpState::Cancelled => {
            Err(WireError::cancelled(format!("operation {} was cancelled", rec.id)).into())
        }
        OpState::Interrupted => Err(WireError::new(
            ErrorKind::Unavailable,
            format!("operation {} was interrupted by a daemon restart", rec.id),
        )
        .into()),
        OpState::Pending | OpState::Running => Ok(()),
    }
}

/// Live progress: a bar on a terminal, JSON lines with `--json`, otherwise a line per change at most
/// once a second on stderr (logs stay readable).
struct ProgressView {
    json: bool,
    bar: Option<ProgressBar>,
    last_id: u64,
    last_line: Option<Instant>,
}

impl ProgressView {
    fn new(json: bool) -> Self {
        let bar = (!json && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(1000);
            let style = ProgressStyle::with_template(
                "{spinner} op {prefix} [{bar:30}] {percent:>3}% {msg} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        ProgressView {
            json,
            bar,
            last_id: 0,
            last_line: None,
        }
    }

    fn update(&mut self, rec: &OperationRecord) {
        if self.last_id == 0 && !self.json && self.bar.is_none() {
            eprintln!(
                "following operation {} ({}); Ctrl-C detaches, it keeps running",
                rec.id, rec.kind
            );
        }
        self.last_id = rec.id;
        if self.json {
            print_json_line(
                &serde_json::json!({"event": "update", "operation": operation_json(rec)}),
            );
        } else if let Some(bar) = &self.bar {
            bar.set_prefix(rec.id.to_string());
            bar.set_position((rec.progress.percent * 10.0).clamp(0.0, 1000.0) as u64);
            bar.set_message(match rec.queue_position {
                Some(p) => format!("queued #{p}"),
                None => rec.progress.message.clone(),
            });
        } else if self
            .last_line
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            self.last_line = Some(Instant::now());
            eprintln!(
                "op {} {} {:.0}% {}",
                rec.id,
                rec.state.as_str(),
                rec.progress.percent,
                rec.progress.message
            );
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
