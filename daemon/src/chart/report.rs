//! The tables of a backtest's HTML report: metrics beside buy-and-hold, the run's parameters, and
//! every trade.

use crate::backtest::Detail;
use ktrdr_market::text::wall_text;
use ktrdr_plot::Table;
use ktrdr_protocol::backtest::Side;

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:+.2}%", x * 100.0)
    } else {
        "–".into()
    }
}

fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        "–".into()
    }
}

/// (before the chart, after it)
pub fn tables(d: &Detail) -> (Vec<Table>, Vec<Table>) {
    let s = &d.summary;
    let m = &s.metrics;
    let b = &s.buy_hold;
    let row = |name: &str, strat: String, bh: String| vec![name.to_string(), strat, bh];
    let metrics = Table {
        id: "metrics".into(),
        title: "Metrics".into(),
        headers: vec!["".into(), "strategy".into(), "buy and hold".into()],
        rows: vec![
            row("total return", pct(m.total_return), pct(b.total_return)),
            row("annual return", pct(m.annual_return), pct(b.annual_return)),
            row("volatility", pct(m.volatility), pct(b.volatility)),
            row("Sharpe", num(m.sharpe, 2), num(b.sharpe, 2)),
            row("Sortino", num(m.sortino, 2), "".into()),
            row(
                "max drawdown",
                pct(-m.max_drawdown.abs()),
                pct(-b.max_drawdown.abs()),
            ),
            row("Calmar", num(m.calmar, 2), "".into()),
            row("end equity", num(m.end_equity, 2), num(b.end_equity, 2)),
            row("trades", m.trades.to_string(), "".into()),
            row("win rate", pct(m.win_rate), "".into()),
            row("profit factor", num(m.profit_factor, 2), "".into()),
            row("exposure", pct(m.exposure), "".into()),
            row("commission paid", num(m.total_commission, 2), "".into()),
        ],
        sortable: false,
    };
    let c = &s.config;
    let params = Table {
        id: "parameters".into(),
        title: "Run".into(),
        headers: vec!["parameter".into(), "value".into()],
        rows: [
            ("backtest", s.id.to_string()),
            ("model", s.model.clone()),
            ("series", format!("{} {}", s.symbol, s.timeframe)),
            ("first bar", wall_text(s.first_ms)),
            ("last bar", wall_text(s.last_ms)),
            ("bars", s.bars.to_string()),
            ("capital", num(c.capital, 2)),
            ("commission", num(c.commission, 6)),
            ("slippage", num(c.slippage, 6)),
            ("position fraction", num(c.position_fraction, 4)),
            ("allow short", c.allow_short.to_string()),
            ("confidence threshold", num(c.confidence_threshold, 4)),
            ("position awareness", c.position_awareness.to_string()),
            ("min signal separation", c.min_signal_separation.to_string()),
            (
                "decisions BUY/HOLD/SELL",
                format!("{}/{}/{}", s.actions[0], s.actions[1], s.actions[2]),
            ),
            ("acted on", s.acted.to_string()),
        ]
        .into_iter()
        .chain(s.warnings.iter().map(|w| ("warning", w.clone())))
        .map(|(k, v)| vec![k.to_string(), v])
        .collect(),
        sortable: false,
    };
    let conf = |c: Option<f32>| c.map_or_else(|| "–".into(), |c| format!("{c:.3}"));
    let trades = Table {
        id: "trades".into(),
        title: format!("Trades ({}; click a header to sort)", d.trades.len()),
        headers: [
            "#",
            "side",
            "entry",
            "entry price",
            "confidence",
            "exit",
            "exit price",
            "exit confidence",
            "bars",
            "pnl",
            "return",
        ]
        .into_iter()
        .map(String::from)
        .collect(),
        rows: d
            .trades
            .iter()
            .enumerate()
            .map(|(k, t)| {
                vec![
                    (k + 1).to_string(),
                    match t.side {
                        Side::Long => "long".into(),
                        Side::Short => "short".into(),
                    },
                    wall_text(t.entry_ms),
                    num(t.entry_price, 5),
                    conf(t.entry_confidence),
                    wall_text(t.exit_ms),
                    num(t.exit_price, 5),
                    conf(t.exit_confidence),
                    t.bars_held.to_string(),
                    num(t.pnl, 2),
                    pct(t.return_pct),
                ]
            })
            .collect(),
        sortable: true,
    };
    (vec![metrics, params], vec![trades])
}
