//! `backtest MODEL ...` (start a backtest operation and follow it) and `backtest show ID` (its
//! summary, trades, equity curve or a chart).

use crate::Failure;
use crate::client::Client;
use crate::commands::ops::{follow_to_end, outcome};
use crate::output::{
    operation_json, print_json, print_json_line, print_table, table, timestamp_ms,
};
use clap::{Args, Subcommand, ValueEnum};
use ktrdr_protocol::backtest::{
    BacktestReport, BacktestSummary, EquityChunk, PlotFormat, Side, Trade,
};
use ktrdr_protocol::model::OpState;
use ktrdr_protocol::operation::OpResult;
use ktrdr_protocol::request::{Backtest, BacktestShow};
use ktrdr_protocol::{Reply, Request, Response, WireError};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BacktestCommand {
    #[command(subcommand)]
    pub sub: Option<BacktestSub>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Subcommand, Debug)]
pub enum BacktestSub {
    /// A finished backtest: its summary, and optionally its trades, equity curve or a chart.
    Show(ShowArgs),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The model: STRATEGY/SYMBOLS_TF_vN, or STRATEGY for its latest version.
    #[arg(required = true)]
    pub model: Option<String>,
    #[arg(long, required = true)]
    pub symbol: Option<String>,
    /// The model's base timeframe (e.g. 1h).
    #[arg(long, required = true)]
    pub timeframe: Option<String>,
    /// First bar to trade (inclusive, UTC); earlier bars only warm the indicators up.
    #[arg(long)]
    pub start: Option<String>,
    /// Last bar time (exclusive; a plain date includes that day).
    #[arg(long)]
    pub end: Option<String>,
    /// Starting cash [default: 100000].
    #[arg(long)]
    pub capital: Option<f64>,
    /// Commission per fill, as a fraction of its notional [default: 0.001].
    #[arg(long)]
    pub commission: Option<f64>,
    /// Slippage per fill, as a fraction of the price, always adverse [default: 0.0005].
    #[arg(long)]
    pub slippage: Option<f64>,
    /// Fraction of equity committed to each new position [default: 0.25].
    #[arg(long)]
    pub fraction: Option<f64>,
    /// Trade SELL signals as shorts too (default: long-only).
    #[arg(long)]
    pub allow_short: bool,
    /// Print the operation id and return at once instead of following its progress.
    #[arg(long)]
    pub detach: bool,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The backtest's operation id.
    pub id: u64,
    /// Also list every trade.
    #[arg(long)]
    pub trades: bool,
    /// Print the equity curve (time, close, equity, buy-and-hold) instead of the summary.
    #[arg(long)]
    pub equity: bool,
    /// Output of --equity.
    #[arg(long, value_enum, default_value_t = CurveFormat::Csv, requires = "equity")]
    pub format: CurveFormat,
    /// Draw the equity curve against buy-and-hold, trades marked, into FILE (.png or .svg).
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Write the whole report into FILE (.html, one self-contained page): metrics beside
    /// buy-and-hold, the interactive price chart with trades, equity and drawdown, the sortable
    /// trade list, the run's parameters.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveFormat {
    Csv,
    Json,
}

pub async fn run(c: &mut Client, json: bool, cmd: BacktestCommand) -> Result<(), Failure> {
    match cmd.sub {
        Some(BacktestSub::Show(a)) => show(c, json, a).await,
        None => start(c, json, cmd.run).await,
    }
}

fn required(v: Option<String>, what: &str) -> Result<String, WireError> {
    v.ok_or_else(|| WireError::validation(format!("{what} is required")))
}

async fn start(c: &mut Client, json: bool, a: RunArgs) -> Result<(), Failure> {
    let req = Request::Backtest(Backtest {
        model: required(a.model, "MODEL")?,
        symbol: required(a.symbol, "--symbol")?,
        timeframe: required(a.timeframe, "--timeframe")?,
        start: a.start,
        end: a.end,
        capital: a.capital,
        commission: a.commission,
        slippage: a.slippage,
        position_fraction: a.fraction,
        allow_short: a.allow_short,
        follow: !a.detach,
    });
    if a.detach {
        let Reply::Operation(rec) = c.call(&req).await? else {
            return Err(WireError::internal("unexpected reply to backtest").into());
        };
        if json {
            print_json(&operation_json(&rec))?;
        } else {
            println!("{}", rec.id);
            eprintln!(
                "started backtest operation {}; follow it with `ktrdrctl ops watch {}`, then `ktrdrctl backtest show {}`",
                rec.id, rec.id, rec.id
            );
        }
        return Ok(());
    }
    let rec = follow_to_end(c, &req, json).await?;
    if json {
        print_json_line(&serde_json::json!({"event": "final", "operation": operation_json(&rec)}));
        return outcome(&rec);
    }
    if rec.state != OpState::Completed {
        return outcome(&rec);
    }
    let Some(OpResult::Backtest(summary)) = rec.result else {
        return Err(WireError::internal("the backtest finished without its summary").into());
    };
    print_summary(&summary);
    eprintln!(
        "trades: `ktrdrctl backtest show {id} --trades`; chart: `ktrdrctl backtest show {id} --plot equity.png`",
        id = summary.id
    );
    Ok(())
}

fn plot_format(p: &Path) -> Result<PlotFormat, WireError> {
    match p
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => Ok(PlotFormat::Png),
        Some("svg") => Ok(PlotFormat::Svg),
        _ => Err(WireError::validation(format!(
            "--plot {}: the file name must end in .png or .svg",
            p.display()
        ))),
    }
}

async fn show(c: &mut Client, json: bool, a: ShowArgs) -> Result<(), Failure> {
    let plot = a.plot.as_deref().map(plot_format).transpose()?;
    if let Some(path) = &a.report {
        let format = crate::commands::chart::format_of(path, "--report")?;
        if format != ktrdr_protocol::chart::ChartFormat::Html {
            return Err(WireError::validation(format!(
                "--report {}: the report is an HTML page",
                path.display()
            ))
            .with_hint("e.g. --report report.html; --plot FILE draws the equity curve as an image")
            .into());
        }
        let req = Request::BacktestHtml(ktrdr_protocol::request::BacktestHtml { id: a.id });
        let s = crate::commands::chart::receive(c, &req, path).await?;
        eprintln!("wrote {} ({} bytes)", path.display(), s.bytes);
    }
    let req = Request::BacktestShow(BacktestShow {
        id: a.id,
        trades: a.trades,
        equity: a.equity,
        plot,
    });
    c.send(&req).await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut rows = 0usize;
    let fmt = a.format;
    let report = loop {
        // Loading and drawing a long backtest may take a moment: no answer timeout on the first frame.
        match c.next(rows == 0).await? {
            Response::Equity(chunk) => {
                if rows == 0 && fmt == CurveFormat::Csv {
                    let _ = writeln!(out, "time,close,equity,buy_hold");
                }
                if write_curve(&mut out, &chunk, fmt).is_err() {
                    // A closed stdout (`| head`) ends the command quietly.
                    return Ok(());
                }
                rows += chunk.ts.len();
            }
            Response::Reply(Reply::Backtest(r)) => break *r,
            Response::Reply(_) => {
                return Err(WireError::internal("unexpected reply to backtest show").into());
            }
            Response::Error(e) => return Err(e.into()),
            Response::Update(_) | Response::Bars(_) | Response::Signal(_) | Response::File(_) => {}
        }
    };
    let _ = out.flush();
    drop(out);
    if let (Some(path), Some(bytes)) = (&a.plot, &report.plot) {
        write_file(path, bytes)?;
        eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
    }
    if a.equity {
        return Ok(());
    }
    if json {
        let BacktestReport {
            summary, trades, ..
        } = report;
        return Ok(print_json(&serde_json::json!({
            "summary": summary,
            "trades": trades,
        }))?);
    }
    print_summary(&report.summary);
    if let Some(trades) = &report.trades {
        println!();
        print_trades(trades);
    }
    Ok(())
}

fn write_curve(out: &mut impl Write, c: &EquityChunk, fmt: CurveFormat) -> std::io::Result<()> {
    for i in 0..c.ts.len() {
        match fmt {
            CurveFormat::Csv => writeln!(
                out,
                "{},{},{:.2},{:.2}",
                bar_time(c.ts[i]),
                c.close[i],
                c.equity[i],
                c.buy_hold[i]
            )?,
            CurveFormat::Json => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "time": bar_time(c.ts[i]),
                    "close": c.close[i],
                    "equity": c.equity[i],
                    "buy_hold": c.buy_hold[i],
                })
            )?,
        }
    }
    Ok(())
}

fn bar_time(ms: i64) -> String {
    timestamp_ms(ms)
}

/// Atomically, so an interrupted write or a full disk never leaves half a picture under the name.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WireError> {
    ktrdr_atomicfile::write_atomic(path, |w| w.write_all(bytes))
        .map_err(|e| WireError::validation(format!("cannot write {}: {e}", path.display())))
}

fn pct(x: f64) -> String {
    format!("{:+.2}%", x * 100.0)
}

fn print_summary(s: &BacktestSummary) {
    let m = &s.metrics;
    let b = &s.buy_hold;
    println!(
        "backtest {}: {} on {} {}, {} .. {} ({} bars)",
        s.id,
        s.model,
        s.symbol,
        s.timeframe,
        timestamp_ms(s.first_ms),
        timestamp_ms(s.last_ms),
        s.bars
    );
    let cfg = &s.config;
    println!(
        "capital {:.2}, commission {}, slippage {}, {}% of equity per position, {}, threshold {}, min separation {} bars",
        cfg.capital,
        cfg.commission,
        cfg.slippage,
        cfg.position_fraction * 100.0,
        if cfg.allow_short {
            "long/short"
        } else {
            "long-only"
        },
        cfg.confidence_threshold,
        cfg.min_signal_separation
    );
    println!();
    let mut t = table(&["metric", "strategy", "buy & hold"]);
    let mut row = |k: &str, a: String, b: String| {
        t.add_row(vec![k.to_string(), a, b]);
    };
    row(
        "end equity",
        format!("{:.2}", m.end_equity),
        format!("{:.2}", b.end_equity),
    );
    row("total return", pct(m.total_return), pct(b.total_return));
    row("annual return", pct(m.annual_return), pct(b.annual_return));
    row(
        "volatility (ann.)",
        format!("{:.2}%", m.volatility * 100.0),
        format!("{:.2}%", b.volatility * 100.0),
    );
    row(
        "sharpe",
        format!("{:.2}", m.sharpe),
        format!("{:.2}", b.sharpe),
    );
    row("sortino", format!("{:.2}", m.sortino), String::new());
    row(
        "max drawdown",
        format!("{:.2}%", m.max_drawdown * 100.0),
        format!("{:.2}%", b.max_drawdown * 100.0),
    );
    row(
        "longest drawdown",
        format!(
            "{} bars ({})",
            m.max_drawdown_bars,
            crate::output::duration(m.max_drawdown_ms as f64 / 1000.0)
        ),
        String::new(),
    );
    row("calmar", format!("{:.2}", m.calmar), String::new());
    row("trades", m.trades.to_string(), String::new());
    row(
        "win rate",
        format!("{:.1}%", m.win_rate * 100.0),
        String::new(),
    );
    row(
        "profit factor",
        format!("{:.2}", m.profit_factor),
        String::new(),
    );
    row(
        "avg win / loss",
        format!("{:.2} / {:.2}", m.avg_win, m.avg_loss),
        String::new(),
    );
    row(
        "avg holding",
        format!(
            "{:.1} bars ({})",
            m.avg_holding_bars,
            crate::output::duration(m.avg_holding_ms / 1000.0)
        ),
        String::new(),
    );
    row(
        "exposure",
        format!("{:.1}%", m.exposure * 100.0),
        String::new(),
    );
    row(
        "costs",
        format!(
            "commission {:.2}, slippage {:.2}",
            m.total_commission, m.total_slippage
        ),
        String::new(),
    );
    row(
        "signals",
        format!(
            "buy {} / hold {} / sell {}, {} acted",
            s.actions[0], s.actions[1], s.actions[2], s.acted
        ),
        String::new(),
    );
    print_table(&t);
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
}

fn print_trades(trades: &[Trade]) {
    if trades.is_empty() {
        println!("no trades");
        return;
    }
    let mut t = table(&[
        "#",
        "side",
        "entry (utc)",
        "entry",
        "exit (utc)",
        "exit",
        "qty",
        "costs",
        "pnl",
        "return",
        "bars",
    ]);
    for (i, tr) in trades.iter().enumerate() {
        t.add_row(vec![
            (i + 1).to_string(),
            match tr.side {
                Side::Long => "long",
                Side::Short => "short",
            }
            .to_string(),
            timestamp_ms(tr.entry_ms),
            format!("{:.5}", tr.entry_price),
            timestamp_ms(tr.exit_ms),
            format!("{:.5}", tr.exit_price),
            format!("{:.4}", tr.quantity),
            format!("{:.2}", tr.commission + tr.slippage),
            format!("{:.2}", tr.pnl),
            pct(tr.return_pct),
            tr.bars_held.to_string(),
        ]);
    }
    print_table(&t);
}
