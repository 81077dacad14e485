//! `data list|show|range|validate|import|export|resample`.
//!
//! Bars arrive as chunks and are printed as they come (table, CSV in the predecessor's layout, or JSON
//! lines), so `data show` of a million bars runs in flat memory and `| head` stops it early. Paths
//! (`import FILE`, `export --output`) are made absolute here: the daemon does not share our working
//! directory. Commands that may parse or write large files wait for the daemon without `--timeout`.

use crate::Failure;
use crate::client::Client;
use crate::commands::ops;
use crate::output::bars::{self as fast, BarWriter, Layout, WriteError};
use crate::output::{self, print_json, print_table, table, timestamp_ms};
use clap::{Args, Subcommand, ValueEnum};
use ktrdr_protocol::model::{
    BarChunk, BarsSummary, ExportFormat, RowLimit, SeriesList, ValidationReport,
};
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::request::{
    DataExport, DataImport, DataResample, DataShow, DataValidate, SeriesRef,
};
use ktrdr_protocol::{Reply, Request, Response, WireError};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum DataCommand {
    /// List the stored series (files SYMBOL_TIMEFRAME.csv|parquet in the data directory).
    List,
    /// Print bars of a series. Window: --start inclusive, --end exclusive (a plain-date --end
    /// includes that whole day). Times are UTC.
    Show {
        symbol: String,
        timeframe: String,
        #[command(flatten)]
        window: WindowArgs,
        #[command(flatten)]
        print: PrintArgs,
    },
    /// First and last bar and the row count of a series.
    Range { symbol: String, timeframe: String },
    /// Check a series: OHLC consistency, NaN, negative volume, duplicate and out-of-order
    /// timestamps, gaps outside market closures. --repair fixes what it can and lists every change.
    /// Exit code 12 when problems remain (after --repair: gaps, which it never fills).
    Validate {
        symbol: String,
        timeframe: String,
        #[arg(long)]
        repair: bool,
    },
    /// Merge a CSV or Parquet file into a series (bars at the same time are replaced). Accepts the
    /// `timestamp,open,high,low,close,volume` layout and pandas' `,Open,High,Low,Close,Volume`.
    Import {
        file: PathBuf,
        #[arg(long)]
        symbol: String,
        #[arg(long)]
        timeframe: String,
        /// Zone of timestamps without an offset (IANA name like America/New_York, or +02:00).
        #[arg(long, value_name = "TZ")]
        timezone: Option<String>,
        #[command(flatten)]
        follow: crate::commands::ops::FollowArgs,
    },
    /// Write a series (or a window of it) to a file.
    Export {
        symbol: String,
        timeframe: String,
        #[arg(long, value_enum)]
        format: ExportFormatArg,
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        window: WindowArgs,
    },
    /// Aggregate a series to a coarser timeframe (first open, max high, min low, last close, summed
    /// volume; days at 00:00 UTC, weeks from Monday) and print it; --save stores it too.
    Resample {
        symbol: String,
        from: String,
        to: String,
        #[command(flatten)]
        window: WindowArgs,
        #[command(flatten)]
        print: PrintArgs,
        /// Also store the result as the series SYMBOL TO (merged into it if it exists).
        #[arg(long)]
        save: bool,
    },
    /// Fetch bars from Interactive Brokers into the store, as an operation (kind ib_load).
    /// tail: last stored bar to --end (or now); backfill: --start (or IB's earliest bar) to the
    /// first stored bar; full: both; local: IB is not contacted. Each segment is stored as it
    /// arrives, so a failed or cancelled load keeps its progress and a rerun resumes.
    Load {
        symbol: String,
        timeframe: String,
        #[arg(long, value_enum, default_value_t = crate::commands::ib::ModeArg::Tail)]
        mode: crate::commands::ib::ModeArg,
        #[command(flatten)]
        window: WindowArgs,
        #[command(flatten)]
        follow: crate::commands::ops::FollowArgs,
    },
    /// Keep a series current from IB: the daemon fills the gap since its last stored bar, then
    /// stores each bar as it closes (never a forming bar). Saved: it resumes when ktrdrd restarts.
    Subscribe { symbol: String, timeframe: String },
    /// Stop keeping a series current (its stored bars stay).
    Unsubscribe { symbol: String, timeframe: String },
    /// The subscriptions: state, last bar and its age, bars stored, followers, last error.
    Subscriptions,
    /// Print the bars of a subscribed series as they are stored (first those since --since),
    /// until interrupted. Exit code 13 when this follower read too slowly and was dropped.
    Follow {
        symbol: String,
        timeframe: String,
        /// First print the stored bars from this time on (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
        format: ShowFormat,
    },
}

#[derive(Args, Debug, Clone)]
pub struct WindowArgs {
    /// First time included: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM].
    #[arg(long)]
    pub start: Option<String>,
    /// First time excluded; a plain date includes that whole day.
    #[arg(long)]
    pub end: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct PrintArgs {
    /// Only the first N rows of the window.
    #[arg(long, value_name = "N", conflicts_with = "tail")]
    pub rows: Option<u64>,
    /// Only the last N rows of the window.
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,
    #[arg(long, value_enum, default_value_t = ShowFormat::Table)]
    pub format: ShowFormat,
}

impl PrintArgs {
    pub(crate) fn limit(&self) -> RowLimit {
        match (self.rows, self.tail) {
            (Some(n), _) => RowLimit::Head(n),
            (None, Some(n)) => RowLimit::Tail(n),
            (None, None) => RowLimit::All,
        }
    }
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowFormat {
    Table,
    Csv,
    Json,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ExportFormatArg {
    Csv,
    Parquet,
    Jsonl,
}

impl ExportFormatArg {
    fn wire(self) -> ExportFormat {
        match self {
            ExportFormatArg::Csv => ExportFormat::Csv,
            ExportFormatArg::Parquet => ExportFormat::Parquet,
            ExportFormatArg::Jsonl => ExportFormat::Jsonl,
        }
    }
}

pub async fn run(c: &mut Client, json: bool, cmd: DataCommand) -> Result<(), Failure> {
    match cmd {
        DataCommand::Load {
            symbol,
            timeframe,
            mode,
            window,
            follow,
        } => {
            crate::commands::ib::load(c, json, symbol, timeframe, mode, window, follow.detach).await
        }
        DataCommand::List => list(c, json).await,
        DataCommand::Subscribe { symbol, timeframe } => {
            crate::commands::live::subscribe(c, json, symbol, timeframe, true).await
        }
        DataCommand::Unsubscribe { symbol, timeframe } => {
            crate::commands::live::subscribe(c, json, symbol, timeframe, false).await
        }
        DataCommand::Subscriptions => crate::commands::live::subscriptions(c, json).await,
        DataCommand::Follow {
            symbol,
            timeframe,
            since,
            format: f,
        } => {
            let req = ktrdr_protocol::request::Follow {
                symbol,
                timeframe,
                since,
            };
            crate::commands::live::follow(c, req, format(json, f)).await
        }
        DataCommand::Show {
            symbol,
            timeframe,
            window,
            print,
        } => {
            let req = Request::DataShow(DataShow {
                symbol,
                timeframe,
                start: window.start,
                end: window.end,
                rows: print.limit(),
            });
            bars(c, &req, format(json, print.format)).await
        }
        DataCommand::Range { symbol, timeframe } => range(c, json, symbol, timeframe).await,
        DataCommand::Validate {
            symbol,
            timeframe,
            repair,
        } => {
            let reply = call(
                c,
                &Request::DataValidate(DataValidate {
                    symbol,
                    timeframe,
                    repair,
                }),
                repair,
            )
            .await?;
            let Reply::DataValidation(r) = reply else {
                return Err(unexpected(reply));
            };
            print_validation(&r, json)?;
            check_passed(&r, repair)
        }
        DataCommand::Import {
            file,
            symbol,
            timeframe,
            timezone,
            follow,
        } => {
            let path = absolute(&file, "FILE")?;
            let req = Request::DataImport(DataImport {
                path,
                symbol,
                timeframe,
                timezone,
                follow: !follow.detach,
            });
            if follow.detach {
                return ops::detached(c, &req, json).await;
            }
            // Progress goes to stderr; stdout keeps the import report alone, as before imports
            // were operations.
            let rec = ops::follow_to_end(c, &req, false).await?;
            ops::outcome(&rec)?;
            let Some(OpResult::DataImport(r)) = rec.result else {
                return Err(WireError::internal("the import finished without its report").into());
            };
            if json {
                return Ok(print_json(&r)?);
            }
            println!(
                "imported {} rows ({} layout, naive times as {}) into {} {}: {} added, {} replaced, {} rows now",
                r.rows_read,
                r.layout,
                r.timezone,
                r.symbol,
                r.timeframe,
                r.added,
                r.replaced,
                r.rows_after
            );
            if r.duplicates_in_file > 0 {
                println!(
                    "{} rows of the file repeated a timestamp; the later one was kept",
                    r.duplicates_in_file
                );
            }
            println!("stored in {}", r.stored);
            Ok(())
        }
        DataCommand::Export {
            symbol,
            timeframe,
            format,
            output,
            window,
        } => {
            let output = absolute(&output, "--output")?;
            let req = Request::DataExport(DataExport {
                symbol,
                timeframe,
                start: window.start,
                end: window.end,
                format: format.wire(),
                output,
            });
            let reply = call(c, &req, true).await?;
            let Reply::DataExported(r) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&r)?);
            }
            println!(
                "wrote {} bars of {} {} to {} ({}, {} bytes)",
                r.rows, r.symbol, r.timeframe, r.path, r.format, r.bytes
            );
            Ok(())
        }
        DataCommand::Resample {
            symbol,
            from,
            to,
            window,
            print,
            save,
        } => {
            let req = Request::DataResample(DataResample {
                symbol,
                from,
                to,
                start: window.start,
                end: window.end,
                rows: print.limit(),
                save,
            });
            bars(c, &req, format(json, print.format)).await
        }
    }
}

/// `--json` means JSON lines for bar streams, whatever `--format` says.
fn format(json: bool, f: ShowFormat) -> ShowFormat {
    if json { ShowFormat::Json } else { f }
}

fn unexpected(reply: Reply) -> Failure {
    WireError::internal(format!("unexpected reply from the daemon: {reply:?}")).into()
}

fn absolute(p: &Path, what: &str) -> Result<String, WireError> {
    let abs = std::path::absolute(p)
        .map_err(|e| WireError::validation(format!("{what} {}: {e}", p.display())))?;
    abs.to_str().map(str::to_string).ok_or_else(|| {
        WireError::validation(format!("{what} {} is not valid UTF-8", abs.display()))
    })
}

/// One request, one terminal answer; `patient` waits past `--timeout` (large files).
async fn call(c: &mut Client, req: &Request, patient: bool) -> Result<Reply, WireError> {
    if !patient {
        return c.call(req).await;
    }
    c.send(req).await?;
    loop {
        match c.next(true).await? {
            Response::Reply(r) => return Ok(r),
            Response::Error(e) => return Err(e),
            Response::Update(_)
            | Response::Bars(_)
            | Response::Equity(_)
            | Response::Signal(_)
            | Response::File(_) => {}
        }
    }
}

async fn list(c: &mut Client, json: bool) -> Result<(), Failure> {
    let reply = c.call(&Request::DataList).await?;
    let Reply::DataList(l) = reply else {
        return Err(unexpected(reply));
    };
    print_list(&l, json)?;
    Ok(())
}

fn print_list(l: &SeriesList, json: bool) -> Result<(), WireError> {
    if json {
        return print_json(l);
    }
    if l.series.is_empty() {
        println!("no series in {}", l.data_dir);
        println!("  hint: `ktrdrctl data import FILE --symbol S --timeframe TF` adds one");
        return Ok(());
    }
    let mut t = table(&[
        "symbol",
        "timeframe",
        "format",
        "size",
        "modified (utc)",
        "cached rows",
    ]);
    for s in &l.series {
        t.add_row(vec![
            s.symbol.clone(),
            s.timeframe.clone(),
            s.format.clone(),
            size(s.bytes),
            output::timestamp(s.modified_ms),
            s.rows.map_or("-".into(), |r| r.to_string()),
        ]);
    }
    print_table(&t);
    println!("\n{} series in {}", l.series.len(), l.data_dir);
    Ok(())
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

async fn range(
    c: &mut Client,
    json: bool,
    symbol: String,
    timeframe: String,
) -> Result<(), Failure> {
    let reply = c
        .call(&Request::DataRange(SeriesRef { symbol, timeframe }))
        .await?;
    let Reply::DataRange(r) = reply else {
        return Err(unexpected(reply));
    };
    if json {
        let v = serde_json::json!({
            "symbol": r.symbol, "timeframe": r.timeframe, "path": r.path, "rows": r.rows,
            "first_ms": r.first_ms, "last_ms": r.last_ms,
            "first": r.first_ms.map(iso), "last": r.last_ms.map(iso),
        });
        return Ok(print_json(&v)?);
    }
    match (r.first_ms, r.last_ms) {
        (Some(a), Some(b)) => println!(
            "{} {}: {} bars from {} to {} UTC ({})",
            r.symbol,
            r.timeframe,
            r.rows,
            timestamp_ms(a),
            timestamp_ms(b),
            r.path
        ),
        _ => println!("{} {}: no bars ({})", r.symbol, r.timeframe, r.path),
    }
    Ok(())
}

fn iso(ms: i64) -> String {
    format!("{}Z", timestamp_ms(ms).replacen(' ', "T", 1))
}

/// Streams a bar answer to stdout. A closed stdout (`| head`) ends the command quietly.
async fn bars(c: &mut Client, req: &Request, fmt: ShowFormat) -> Result<(), Failure> {
    c.send(req).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut writer = BarWriter::new(match fmt {
        ShowFormat::Json => Layout::JsonLines,
        _ => Layout::Csv,
    });
    let mut wrote_header = false;
    let mut first = true;
    loop {
        // The first frame may wait for a cold load of a large file.
        let frame = c.next(first).await?;
        first = false;
        match frame {
            Response::Bars(chunk) => {
                if !wrote_header {
                    wrote_header = true;
                    if header(&mut out, fmt).is_err() {
                        return Ok(());
                    }
                }
                if let Err(e) = rows(&mut out, fmt, &chunk, &mut writer) {
                    return e.into_report().map_or(Ok(()), |e| Err(e.into()));
                }
            }
            Response::Reply(Reply::DataBars(s)) => {
                if !wrote_header && fmt == ShowFormat::Csv {
                    let _ = header(&mut out, fmt);
                }
                let _ = out.flush();
                summary(&s, fmt);
                return Ok(());
            }
            Response::Reply(other) => return Err(unexpected(other)),
            Response::Error(e) => return Err(e.into()),
            Response::Update(_) | Response::Equity(_) | Response::Signal(_) | Response::File(_) => {
            }
        }
    }
}

pub(crate) fn header(out: &mut impl Write, fmt: ShowFormat) -> std::io::Result<()> {
    match fmt {
        ShowFormat::Csv => out.write_all(fast::CSV_HEADER),
        ShowFormat::Table => writeln!(
            out,
            "{:<19}  {:>12}  {:>12}  {:>12}  {:>12}  {:>14}",
            "TIME (UTC)", "OPEN", "HIGH", "LOW", "CLOSE", "VOLUME"
        ),
        ShowFormat::Json => Ok(()),
    }
}

/// CSV and JSON lines go through the fast writer (`output/bars.rs`); the table stays `format!`.
pub(crate) fn rows(
    out: &mut impl Write,
    fmt: ShowFormat,
    ch: &BarChunk,
    writer: &mut BarWriter,
) -> Result<(), WriteError> {
    if fmt != ShowFormat::Table {
        return writer.write_chunk(out, ch);
    }
    fast::check(ch)?;
    for i in 0..ch.len() {
        let (o, h, l, c, v) = (ch.open[i], ch.high[i], ch.low[i], ch.close[i], ch.volume[i]);
        writeln!(
            out,
            "{:<19}  {:>12}  {:>12}  {:>12}  {:>12}  {:>14}",
            timestamp_ms(ch.ts[i]),
            o,
            h,
            l,
            c,
            v
        )
        .map_err(|_| WriteError::Output)?;
    }
    Ok(())
}

/// The counts go to stderr so stdout stays pure data in every format.
fn summary(s: &BarsSummary, fmt: ShowFormat) {
    if fmt == ShowFormat::Table || s.saved_to.is_some() {
        let cut = if s.rows_sent < s.rows_in_window {
            format!(" of {} in the window", s.rows_in_window)
        } else {
            String::new()
        };
        eprintln!("{} {}: {} bars{cut}", s.symbol, s.timeframe, s.rows_sent);
    }
    if let Some(p) = &s.saved_to {
        eprintln!("saved to {p}");
    }
}

/// The exit status of `data validate`: a failed check when problems remain. Without --repair every
/// issue counts. A repair fixes every per-bar issue, duplicate and ordering but never fills a gap,
/// and a bar it drops for a missing or non-positive price leaves a hole the calendar may expect; so
/// after it, those kinds still fail the check.
fn check_passed(r: &ValidationReport, repair: bool) -> Result<(), Failure> {
    let remains = |kind: &str| r.counts.get(kind).is_some_and(|&n| n > 0);
    let failed = if repair {
        ["gap", "non_finite_price", "non_positive_price"]
            .into_iter()
            .any(remains)
    } else {
        r.counts.values().any(|&n| n > 0)
    };
    if !failed {
        return Ok(());
    }
    let issues: u64 = r.counts.values().sum();
    Err(Failure::CheckFailed(format!(
        "{} {}: {issues} issue(s) found{}",
        r.symbol,
        r.timeframe,
        if repair {
            "; a repair cannot fix all of them"
        } else {
            ""
        }
    )))
}

fn print_validation(r: &ValidationReport, json: bool) -> Result<(), Failure> {
    if json {
        return Ok(print_json(r)?);
    }
    println!(
        "{} {}: {} bars, calendar {}",
        r.symbol, r.timeframe, r.rows, r.calendar
    );
    if r.counts.is_empty() {
        println!("no issues found");
    } else {
        let counts: Vec<String> = r.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!("issues: {}", counts.join(" "));
        let mut t = table(&["time (utc)", "row", "kind", "detail"]);
        for i in &r.issues {
            t.add_row(vec![
                timestamp_ms(i.ts_ms),
                i.row.to_string(),
                i.kind.clone(),
                i.detail.clone(),
            ]);
        }
        print_table(&t);
        if r.issues_truncated {
            println!(
                "(first {} issues shown; --json for the report)",
                r.issues.len()
            );
        }
    }
    if !r.changes.is_empty() || r.repaired {
        println!();
        println!(
            "repair: {} changes, {} -> {} bars, {}",
            r.changes_total,
            r.rows,
            r.rows_after,
            if r.repaired {
                "saved"
            } else {
                "nothing to save"
            }
        );
        let mut t = table(&[
            "time (utc)",
            "row",
            "action",
            "field",
            "before",
            "after",
            "reason",
        ]);
        for c in &r.changes {
            let n = |x: Option<f64>| x.map_or("-".into(), |v| v.to_string());
            t.add_row(vec![
                timestamp_ms(c.ts_ms),
                c.row.to_string(),
                c.action.clone(),
                c.field.clone(),
                n(c.before),
                n(c.after),
                c.reason.clone(),
            ]);
        }
        print_table(&t);
    }
    Ok(())
}
