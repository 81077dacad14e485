//! `strategies list|validate|show`, `indicators list|compute`, `fuzzy compute`.
//!
//! Paths are made absolute here (the daemon does not share our working directory); the daemon reads
//! the files and does every computation. Computed columns print as a table, CSV or JSON; undefined
//! values (warm-up, no volume) print as empty CSV cells, `-` in tables and null in JSON.

use crate::Failure;
use crate::client::Client;
use crate::commands::data::{PrintArgs, ShowFormat, WindowArgs};
use crate::output::{print_json, print_table, table, timestamp_ms};
use clap::Subcommand;
use ktrdr_protocol::request::{FuzzyCompute, IndicatorsCompute, StrategiesList, StrategyShow};
use ktrdr_protocol::strategy::{ColumnTable, StrategyReport};
use ktrdr_protocol::{Reply, Request, WireError};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum StrategiesCommand {
    /// Every strategy file (*.yaml, *.yml) in DIR (default ./strategies), validated.
    List { dir: Option<PathBuf> },
    /// Check a strategy file and list every problem with its path in the file (exit code 2 when
    /// it has errors; warnings alone pass).
    Validate { file: PathBuf },
    /// What a strategy file resolves to: indicators, fuzzy sets, timeframes, labels, and the
    /// feature columns in model order.
    Show { file: PathBuf },
}

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum IndicatorsCommand {
    /// Every indicator with its parameters, defaults, outputs and warm-up.
    List,
    /// Compute indicators over a stored series: --indicator NAME[:key=value,...], repeatable.
    /// Computed on the whole series, then cut to the window, so the window starts warmed up.
    Compute {
        symbol: String,
        timeframe: String,
        /// e.g. rsi:period=14, macd:fast_period=8,slow_period=21, bbands
        #[arg(long = "indicator", value_name = "SPEC", required = true)]
        indicators: Vec<String>,
        #[command(flatten)]
        window: WindowArgs,
        #[command(flatten)]
        print: PrintArgs,
    },
}

#[derive(Subcommand, Debug)]
#[command(defer = true)] // arguments built only when used: see cli::Command
pub enum FuzzyCommand {
    /// The fuzzy membership columns ({indicator}_{set}) of a strategy file over a stored series.
    Compute {
        symbol: String,
        timeframe: String,
        #[arg(long, value_name = "FILE")]
        strategy: PathBuf,
        #[command(flatten)]
        window: WindowArgs,
        #[command(flatten)]
        print: PrintArgs,
    },
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

async fn strategy(c: &mut Client, file: &Path) -> Result<StrategyReport, Failure> {
    let path = absolute(file, "FILE")?;
    let reply = c
        .call(&Request::StrategyShow(StrategyShow { path }))
        .await?;
    match reply {
        Reply::Strategy(r) => Ok(r),
        other => Err(unexpected(other)),
    }
}

/// Errors of an invalid file as one validation failure (exit code 2), after printing them.
fn invalid(r: &StrategyReport, json: bool) -> Failure {
    let lines: Vec<String> = r
        .errors
        .iter()
        .map(|e| match e.path.as_str() {
            "" => e.message.clone(),
            p => format!("{p}: {}", e.message),
        })
        .collect();
    if json {
        return WireError::validation(format!("{}:\n{}", r.path, lines.join("\n"))).into();
    }
    for l in &lines {
        println!("error: {l}");
    }
    for w in &r.warnings {
        println!("warning: {}: {}", w.path, w.message);
    }
    WireError::validation(format!("{} has {} error(s)", r.path, r.errors.len())).into()
}

pub async fn strategies(c: &mut Client, json: bool, cmd: StrategiesCommand) -> Result<(), Failure> {
    match cmd {
        StrategiesCommand::List { dir } => {
            let dir = absolute(&dir.unwrap_or_else(|| PathBuf::from("strategies")), "DIR")?;
            let reply = c
                .call(&Request::StrategiesList(StrategiesList { dir }))
                .await?;
            let Reply::Strategies(l) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&l)?);
            }
            if l.strategies.is_empty() {
                println!("no strategy files (*.yaml, *.yml) in {}", l.dir);
                return Ok(());
            }
            let mut t = table(&["file", "name", "valid", "errors", "warnings", "features"]);
            for s in &l.strategies {
                let file = Path::new(&s.path)
                    .file_name()
                    .map_or(s.path.clone(), |f| f.to_string_lossy().into_owned());
                t.add_row(vec![
                    file,
                    s.name.clone(),
                    if s.valid { "yes" } else { "no" }.into(),
                    s.errors.len().to_string(),
                    s.warnings.len().to_string(),
                    s.features.len().to_string(),
                ]);
            }
            print_table(&t);
            println!("\n{} strategies in {}", l.strategies.len(), l.dir);
            Ok(())
        }
        StrategiesCommand::Validate { file } => {
            let r = strategy(c, &file).await?;
            if !r.valid {
                return Err(invalid(&r, json));
            }
            if json {
                return Ok(print_json(&r)?);
            }
            for w in &r.warnings {
                println!("warning: {}: {}", w.path, w.message);
            }
            println!(
                "{}: valid ({} features, {} warning(s))",
                r.name,
                r.features.len(),
                r.warnings.len()
            );
            Ok(())
        }
        StrategiesCommand::Show { file } => {
            let r = strategy(c, &file).await?;
            if !r.valid {
                return Err(invalid(&r, json));
            }
            if json {
                return Ok(print_json(&r)?);
            }
            println!("strategy    {}", r.name);
            println!("file        {}", r.path);
            println!(
                "timeframes  {} (base {})",
                r.timeframes.join(", "),
                r.timeframes[0]
            );
            println!("indicators  {}", r.indicators.join(", "));
            println!("labels      {}", r.labels);
            println!("lookback    {}", r.lookback);
            println!();
            let mut t = table(&["fuzzy column", "input", "membership"]);
            for f in &r.fuzzy_sets {
                t.add_row(vec![
                    f.column.clone(),
                    f.input.clone(),
                    f.membership.clone(),
                ]);
            }
            print_table(&t);
            println!("\n{} features:", r.features.len());
            for f in &r.features {
                println!("  {f}");
            }
            for w in &r.warnings {
                println!("warning: {}: {}", w.path, w.message);
            }
            Ok(())
        }
    }
}

pub async fn indicators(c: &mut Client, json: bool, cmd: IndicatorsCommand) -> Result<(), Failure> {
    match cmd {
        IndicatorsCommand::List => {
            let reply = c.call(&Request::IndicatorsList).await?;
            let Reply::Indicators(cat) = reply else {
                return Err(unexpected(reply));
            };
            if json {
                return Ok(print_json(&cat)?);
            }
            let mut t = table(&["name", "parameters (default)", "outputs", "warm-up"]);
            for i in &cat.indicators {
                let params: Vec<String> = i
                    .params
                    .iter()
                    .map(|p| format!("{}={}", p.name, p.default))
                    .collect();
                t.add_row(vec![
                    i.name.clone(),
                    params.join(" "),
                    i.outputs.join(" "),
                    i.warmup.clone(),
                ]);
            }
            print_table(&t);
            Ok(())
        }
        IndicatorsCommand::Compute {
            symbol,
            timeframe,
            indicators,
            window,
            print,
        } => {
            let req = Request::IndicatorsCompute(IndicatorsCompute {
                symbol,
                timeframe,
                indicators,
                start: window.start,
                end: window.end,
                rows: print.limit(),
            });
            columns(c, json, &req, print.format).await
        }
    }
}

pub async fn fuzzy(c: &mut Client, json: bool, cmd: FuzzyCommand) -> Result<(), Failure> {
    let FuzzyCommand::Compute {
        symbol,
        timeframe,
        strategy,
        window,
        print,
    } = cmd;
    let req = Request::FuzzyCompute(FuzzyCompute {
        symbol,
        timeframe,
        strategy: absolute(&strategy, "--strategy")?,
        start: window.start,
        end: window.end,
        rows: print.limit(),
    });
    columns(c, json, &req, print.format).await
}

async fn columns(
    c: &mut Client,
    json: bool,
    req: &Request,
    fmt: ShowFormat,
) -> Result<(), Failure> {
    let reply = c.call(req).await?;
    let Reply::Columns(t) = reply else {
        return Err(unexpected(reply));
    };
    let fmt = if json { ShowFormat::Json } else { fmt };
    // A closed stdout (`| head`) ends the command quietly.
    let _ = print_columns(&t, fmt);
    Ok(())
}

fn print_columns(t: &ColumnTable, fmt: ShowFormat) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match fmt {
        ShowFormat::Csv => {
            writeln!(out, "timestamp,{}", t.names.join(","))?;
            for (i, ts) in t.ts.iter().enumerate() {
                write!(out, "{}", timestamp_ms(*ts))?;
                for c in &t.columns {
                    let v = c[i];
                    if v.is_nan() {
                        write!(out, ",")?;
                    } else {
                        write!(out, ",{v}")?;
                    }
                }
                writeln!(out)?;
            }
        }
        ShowFormat::Json => {
            for (i, ts) in t.ts.iter().enumerate() {
                let mut row = serde_json::Map::new();
                row.insert("ts_ms".into(), (*ts).into());
                row.insert("timestamp".into(), timestamp_ms(*ts).into());
                for (name, c) in t.names.iter().zip(&t.columns) {
                    let v = c[i];
                    let value = if v.is_finite() {
                        serde_json::Value::from(v)
                    } else {
                        serde_json::Value::Null
                    };
                    row.insert(name.clone(), value);
                }
                writeln!(out, "{}", serde_json::Value::Object(row))?;
            }
        }
        ShowFormat::Table => {
            write!(out, "{:<19}", "TIME (UTC)")?;
            for n in &t.names {
                write!(out, "  {:>14}", n.to_uppercase())?;
            }
            writeln!(out)?;
            for (i, ts) in t.ts.iter().enumerate() {
                write!(out, "{:<19}", timestamp_ms(*ts))?;
                for c in &t.columns {
                    let v = c[i];
                    if v.is_nan() {
                        write!(out, "  {:>14}", "-")?;
                    } else {
                        write!(out, "  {:>14.6}", v)?;
                    }
                }
                writeln!(out)?;
            }
            out.flush()?;
            eprintln!(
                "{} rows of {} {} ({} in the window)",
                t.ts.len(),
                t.symbol,
                t.timeframe,
                t.rows_in_window
            );
        }
    }
    out.flush()
}
