//! The bar loop. At bar t the decision uses only `probs[t]` (computed from bars up to t's close);
//! its fill happens at bar t+1's open. An open position is closed at the last bar's close.

use crate::decision::{changes_position, decide};
use crate::metrics::{self, BuyHold, Metrics};
use crate::trade::{Side, Trade};
use crate::{Action, Config, ConfigError, Position};
use serde::{Deserialize, Serialize};

/// The bars, as columns of equal length; `ts` are bar open times in ms, ascending.
#[derive(Debug, Clone, Copy)]
pub struct Prices<'a> {
    pub ts: &'a [i64],
    pub open: &'a [f64],
    pub high: &'a [f64],
    pub low: &'a [f64],
    pub close: &'a [f64],
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub trades: Vec<Trade>,
    /// Equity marked at each bar's close (cash + position at close), one per bar. The last value is
    /// after closing any open position (its slippage and commission paid), so it equals
    /// `capital + sum(trade.pnl)`.
    pub equity: Vec<f64>,
    /// Buy-and-hold over the same bars, same capital and costs, equity per bar.
    pub buy_hold: BuyHold,
    pub metrics: Metrics,
    /// How many bars ended in each action after the rules (BUY, HOLD, SELL), and how many were
    /// acted on (a fill followed).
    pub actions: [usize; 3],
    pub acted: usize,
}

/// Replays `probs` (one row per bar) over `prices` with `cfg`.
pub fn run(prices: Prices<'_>, probs: &[[f32; 3]], cfg: &Config) -> Result<Outcome, ConfigError> {
    cfg.validate()?;
    validate(prices, probs)?;
    let n = prices.close.len();
    let mut book = Book {
        cfg,
        cash: cfg.capital,
        open: None,
        trades: Vec::new(),
    };
    let mut equity = Vec::with_capacity(n);
    let mut actions = [0usize; 3];
    let mut acted = 0usize;
    let mut exposed = 0usize;
    // The action decided at the previous bar, with its signal's confidence (its probability).
    let mut pending: Option<(Action, f32)> = None;
    let mut last_acted: Option<usize> = None;

    for (t, &row) in probs.iter().enumerate() {
        if let Some((action, confidence)) = pending.take() {
            // Sized on the equity marked at the decision bar's close (t >= 1 here).
            let sizing = equity.last().copied().unwrap_or(cfg.capital);
            let fill = Fill {
                index: t,
                ms: prices.ts[t],
                reference: prices.open[t],
                confidence: Some(confidence),
            };
            book.execute(action, fill, sizing);
        }
        let position = book.position();
        if position != Position::Flat {
            exposed += 1;
        }
        equity.push(book.mark(prices.close[t]));

        let action = decide(row, position, last_acted.map(|s| t - s), cfg);
        actions[action.index()] += 1;
        // A decision on the last bar has no next open to fill at.
        if t + 1 < n && changes_position(action, position, cfg.allow_short) {
            pending = Some((action, row[action.index()]));
            last_acted = Some(t);
            acted += 1;
        }
    }

    if book.open.is_some() {
        let last = n - 1;
        book.close(Fill {
            index: last,
            ms: prices.ts[last],
            reference: prices.close[last],
            confidence: None,
        });
        if let Some(e) = equity.last_mut() {
            *e = book.cash;
        }
    }

    let exposure = exposed as f64 / n as f64;
    let metrics = metrics::compute(
        cfg.capital,
        &equity,
        prices.ts,
        &book.trades,
        exposure,
        cfg.periods_per_year,
    );
    let buy_hold = metrics::buy_hold(
        prices.open,
        prices.close,
        prices.ts,
        cfg.capital,
        cfg.commission,
        cfg.slippage,
        cfg.periods_per_year,
    );
    Ok(Outcome {
        trades: book.trades,
        equity,
        buy_hold,
        metrics,
        actions,
        acted,
    })
}

fn validate(prices: Prices<'_>, probs: &[[f32; 3]]) -> Result<(), ConfigError> {
    let n = prices.ts.len();
    let lengths = [
        ("open", prices.open.len()),
        ("high", prices.high.len()),
        ("low", prices.low.len()),
        ("close", prices.close.len()),
        ("probs", probs.len()),
    ];
    if lengths.iter().any(|&(_, len)| len != n) {
        let listed: Vec<String> = std::iter::once(("ts", n))
            .chain(lengths)
            .map(|(name, len)| format!("{name} {len}"))
            .collect();
        return Err(ConfigError::Lengths(listed.join(", ")));
    }
    if n == 0 {
        return Err(ConfigError::Lengths("no bars".into()));
    }
    if let Some(i) = prices.ts.windows(2).position(|w| w[1] <= w[0]) {
        return Err(ConfigError::Invalid {
            field: "ts",
            message: format!(
                "not strictly ascending at bar {}: {} after {}",
                i + 1,
                prices.ts[i + 1],
                prices.ts[i]
            ),
        });
    }
    // Fills happen at opens and marks at closes: a missing or non-positive one would poison the
    // equity curve silently.
    for (field, column) in [("open", prices.open), ("close", prices.close)] {
        if let Some(i) = column.iter().position(|p| !(p.is_finite() && *p > 0.0)) {
            return Err(ConfigError::Invalid {
                field,
                message: format!("bar {i} has price {}", column[i]),
            });
        }
    }
    Ok(())
}

/// Where and why a fill happens: the bar, its reference price, and the confidence of the signal
/// that asked for it (`None` for the close forced by the end of the data).
#[derive(Debug, Clone, Copy)]
struct Fill {
    index: usize,
    ms: i64,
    reference: f64,
    confidence: Option<f32>,
}

/// The open position, as it was entered.
#[derive(Debug, Clone, Copy)]
struct Open {
    side: Side,
    index: usize,
    ms: i64,
    price: f64,
    quantity: f64,
    commission: f64,
    slippage: f64,
    confidence: Option<f32>,
}

/// Cash, the open position and the closed trades.
struct Book<'c> {
    cfg: &'c Config,
    cash: f64,
    open: Option<Open>,
    trades: Vec<Trade>,
}

impl Book<'_> {
    fn position(&self) -> Position {
        match self.open.map(|o| o.side) {
            None => Position::Flat,
            Some(Side::Long) => Position::Long,
            Some(Side::Short) => Position::Short,
        }
    }

    fn mark(&self, price: f64) -> f64 {
        match self.open {
            None => self.cash,
            Some(o) if o.side == Side::Long => self.cash + o.quantity * price,
            Some(o) => self.cash - o.quantity * price,
        }
    }

    /// Buying pays up, selling gets less.
    fn fill_price(&self, buying: bool, reference: f64) -> f64 {
        if buying {
            reference * (1.0 + self.cfg.slippage)
        } else {
            reference * (1.0 - self.cfg.slippage)
        }
    }

    /// `action` changes the position (the decision rules said so); fills at `reference`.
    fn execute(&mut self, action: Action, fill: Fill, sizing: f64) {
        let target = match (action, self.position()) {
            (Action::Buy, Position::Flat | Position::Short) => Some(Side::Long),
            (Action::Sell, Position::Flat | Position::Long) if self.cfg.allow_short => {
                Some(Side::Short)
            }
            _ => None,
        };
        if self.open.is_some() {
            self.close(fill);
        }
        if let Some(side) = target {
            self.enter(side, fill, sizing);
        }
    }

    fn enter(&mut self, side: Side, fill: Fill, sizing: f64) {
        let Fill {
            index,
            ms,
            reference,
            confidence,
        } = fill;
        // A bust account (a short can lose more than it had) opens nothing.
        if sizing <= 0.0 {
            return;
        }
        let cfg = self.cfg;
        let buying = side == Side::Long;
        let price = self.fill_price(buying, reference);
        let quantity = cfg.position_fraction * sizing / price;
        let commission = cfg.commission * price * quantity;
        if buying {
            self.cash -= quantity * price + commission;
        } else {
            self.cash += quantity * price - commission;
        }
        self.open = Some(Open {
            side,
            index,
            ms,
            price,
            quantity,
            commission,
            slippage: quantity * reference * cfg.slippage,
            confidence,
        });
    }

    fn close(&mut self, fill: Fill) {
        let Fill {
            index,
            ms,
            reference,
            confidence,
        } = fill;
        let Some(o) = self.open.take() else { return };
        let cfg = self.cfg;
        let buying = o.side == Side::Short;
        let price = self.fill_price(buying, reference);
        let commission = cfg.commission * price * o.quantity;
        let gross = match o.side {
            Side::Long => {
                self.cash += o.quantity * price - commission;
                o.quantity * (price - o.price)
            }
            Side::Short => {
                self.cash -= o.quantity * price + commission;
                o.quantity * (o.price - price)
            }
        };
        let pnl = gross - o.commission - commission;
        self.trades.push(Trade {
            side: o.side,
            entry_index: o.index,
            entry_ms: o.ms,
            entry_price: o.price,
            exit_index: index,
            exit_ms: ms,
            exit_price: price,
            quantity: o.quantity,
            commission: o.commission + commission,
            slippage: o.slippage + o.quantity * reference * cfg.slippage,
            pnl,
            return_pct: pnl / (o.quantity * o.price),
            bars_held: index - o.index,
            entry_confidence: o.confidence,
            exit_confidence: confidence,
        });
    }
}
