//! `chart SYMBOL TF ... --output FILE` and the report of `backtest show ID --report FILE`: the
//! daemon draws, this writes the bytes it streams (atomically: an interrupted command or a full
//! disk never leaves half a file under the name).

use crate::Failure;
use crate::client::Client;
use crate::output::{print_json, timestamp_ms};
use clap::{Args, ValueEnum};
use ktrdr_protocol::chart::{CandleStyle, ChartFormat, ChartSummary};
use ktrdr_protocol::request::Chart;
use ktrdr_protocol::{Reply, Request, Response, WireError};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ChartArgs {
    pub symbol: String,
    /// Timeframe of the stored series (e.g. 1h).
    pub timeframe: String,
    /// First bar (inclusive, UTC); default: the whole series (or the backtest's bars).
    #[arg(long)]
    pub start: Option<String>,
    /// Last bar time (exclusive; a plain date includes that day).
    #[arg(long)]
    pub end: Option<String>,
    /// An indicator as `indicators compute` takes it (`sma:period=50`, `rsi`, `macd`), repeatable:
    /// price-scale ones (SMA, EMA, Bollinger, VWAP, ...) over the candles, the rest in panes.
    #[arg(long = "indicator", value_name = "SPEC")]
    pub indicators: Vec<String>,
    /// A strategy file: its indicators are drawn too.
    #[arg(long, value_name = "FILE")]
    pub strategy: Option<PathBuf>,
    /// A fuzzy variable of the strategy (`rsi`, or its indicator output `rsi_14`): its sets'
    /// membership degrees as a heat strip under the indicator.
    #[arg(long, value_name = "NAME", requires = "strategy")]
    pub fuzzy: Option<String>,
    /// A finished backtest of this series: its fills, position, equity and drawdown.
    #[arg(long, value_name = "ID")]
    pub backtest: Option<u64>,
    #[arg(long, value_enum, default_value_t = Style::Candles)]
    pub style: Style,
    /// The file to write: .png, .svg or .html (interactive, self-contained).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Width in pixels [default: 1400 for images, 1200 for pages].
    #[arg(long)]
    pub width: Option<u32>,
    /// Height in pixels [default: grows with the panes].
    #[arg(long)]
    pub height: Option<u32>,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Candles,
    Ohlc,
}

/// The format a file name asks for, or a validation error naming the choices.
pub fn format_of(path: &Path, flag: &str) -> Result<ChartFormat, WireError> {
    ChartFormat::from_path(path).ok_or_else(|| {
        WireError::validation(format!(
            "{flag} {}: the file name must end in .png, .svg or .html",
            path.display()
        ))
        .with_hint("e.g. --output chart.html")
    })
}

fn absolute(p: &Path) -> Result<String, WireError> {
    let abs = std::path::absolute(p)
        .map_err(|e| WireError::validation(format!("--strategy {}: {e}", p.display())))?;
    abs.to_str().map(str::to_string).ok_or_else(|| {
        WireError::validation(format!("--strategy {} is not valid UTF-8", abs.display()))
    })
}

pub async fn chart(c: &mut Client, json: bool, a: ChartArgs) -> Result<(), Failure> {
    let format = format_of(&a.output, "--output")?;
    let req = Request::Chart(Chart {
        symbol: a.symbol,
        timeframe: a.timeframe,
        start: a.start,
        end: a.end,
        indicators: a.indicators,
        strategy: a.strategy.as_deref().map(absolute).transpose()?,
        fuzzy: a.fuzzy,
        backtest: a.backtest,
        style: match a.style {
            Style::Candles => CandleStyle::Candles,
            Style::Ohlc => CandleStyle::Ohlc,
        },
        format,
        width: a.width,
        height: a.height,
    });
    let summary = receive(c, &req, &a.output).await?;
    if json {
        print_json(&summary_json(&summary, &a.output))?;
    } else {
        print_summary(&summary, &a.output);
    }
    Ok(())
}

/// Sends `req`, collects the streamed file and writes it to `path`.
pub async fn receive(
    c: &mut Client,
    req: &Request,
    path: &Path,
) -> Result<ChartSummary, WireError> {
    c.send(req).await?;
    let mut bytes = Vec::new();
    let summary = loop {
        // Drawing a long series takes a moment: no answer timeout on the first frame.
        match c.next(bytes.is_empty()).await? {
            Response::File(chunk) => bytes.extend_from_slice(&chunk.bytes),
            Response::Reply(Reply::Chart(s)) => break s,
            Response::Reply(other) => {
                return Err(WireError::internal(format!(
                    "unexpected reply to a chart: {other:?}"
                )));
            }
            Response::Error(e) => return Err(e),
            Response::Update(_) | Response::Bars(_) | Response::Equity(_) | Response::Signal(_) => {
            }
        }
    };
    if summary.bytes != bytes.len() as u64 {
        return Err(WireError::internal(format!(
            "the daemon announced {} bytes but sent {}",
            summary.bytes,
            bytes.len()
        )));
    }
    ktrdr_atomicfile::write_atomic(path, |w| w.write_all(&bytes))
        .map_err(|e| WireError::validation(format!("cannot write {}: {e}", path.display())))?;
    Ok(summary)
}

pub fn summary_json(s: &ChartSummary, path: &Path) -> serde_json::Value {
    serde_json::json!({
        "output": path.display().to_string(),
        "format": s.format.as_str(),
        "bytes": s.bytes,
        "symbol": s.symbol,
        "timeframe": s.timeframe,
        "bars": s.bars,
        "first": timestamp_ms(s.first_ms),
        "last": timestamp_ms(s.last_ms),
        "panes": s.panes,
        "series": s.series,
        "markers": s.markers,
    })
}

pub fn print_summary(s: &ChartSummary, path: &Path) {
    println!(
        "wrote {} ({} bytes, {}): {} {} bars {} .. {} ({} bars)",
        path.display(),
        s.bytes,
        s.format.as_str(),
        s.symbol,
        s.timeframe,
        timestamp_ms(s.first_ms),
        timestamp_ms(s.last_ms),
        s.bars
    );
    println!("panes: {}", s.panes.join(", "));
    if !s.series.is_empty() {
        println!("series: {}", s.series.join(", "));
    }
    if s.markers > 0 {
        println!("trade markers: {}", s.markers);
    }
}
