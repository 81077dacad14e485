//! The columns of a chart: the window's bars, indicator outputs split into overlays (on the
//! price's scale) and panes, one fuzzy variable's memberships as a heat strip under its
//! indicator, and a backtest's fills, position, equity and drawdown mapped onto the window's bars.

use crate::backtest::Detail;
use ktrdr_market::Bars;
use ktrdr_plot::{BarStyle, Line, Pane, PaneKind, PriceChart, TradeMarker};
use ktrdr_protocol::WireError;
use ktrdr_protocol::backtest::Side;
use ktrdr_strategy::config::Strategy;
use ktrdr_strategy::indicators::{Indicator, Inputs as IndicatorInputs};
use std::ops::Range;

/// A backtest to draw, with the label its title uses.
pub struct Backtested<'a> {
    pub detail: &'a Detail,
}

pub struct Inputs<'a> {
    pub symbol: &'a str,
    pub timeframe: &'a str,
    pub bars: &'a Bars,
    /// The window's rows of `bars` (indicators are computed on all of them, so the window starts
    /// past their warm-up when there are bars before it).
    pub window: Range<usize>,
    pub indicators: Vec<Indicator>,
    pub strategy: Option<Strategy>,
    pub fuzzy: Option<String>,
    pub backtest: Option<Backtested<'a>>,
    pub style: BarStyle,
    pub width: u32,
    pub height: Option<u32>,
}

/// A strategy indicator's outputs over the whole series, and where each output was drawn (the
/// pane's index, or `None` on the price).
struct Computed {
    outputs: Vec<Vec<f64>>,
    placed: Vec<Option<usize>>,
}

pub fn build(i: Inputs<'_>) -> Result<PriceChart, WireError> {
    let r = i.window.clone();
    if r.is_empty() {
        return Err(WireError::not_found(format!(
            "no {} {} bars in the window",
            i.symbol, i.timeframe
        ))
        .with_hint("`ktrdrctl data range SYMBOL TF` shows the stored range"));
    }
    let bars = i.bars;
    let cut = |v: &[f64]| v[r.clone()].to_vec();
    let inp = IndicatorInputs::from_bars(bars);

    // Indicators of the request, then the strategy's (those not already drawn).
    let mut all: Vec<(Indicator, Option<usize>)> =
        i.indicators.into_iter().map(|x| (x, None)).collect();
    if let Some(s) = &i.strategy {
        for (k, si) in s.indicators.iter().enumerate() {
            let names = si.indicator.output_names();
            match all.iter_mut().find(|(x, _)| x.output_names() == names) {
                Some(existing) => existing.1 = Some(k),
                None => all.push((si.indicator.clone(), Some(k))),
            }
        }
    }

    let mut overlays = Vec::new();
    let mut panes: Vec<Pane> = Vec::new();
    let mut strategy_outputs: Vec<Option<Computed>> =
        (0..i.strategy.as_ref().map_or(0, |s| s.indicators.len()))
            .map(|_| None)
            .collect();
    for (ind, strategy_index) in &all {
        let outputs = ind.compute(&inp);
        let names = ind.output_names();
        let def = ind.def();
        let mut lines = Vec::new();
        let mut placed = Vec::new();
        for (k, (name, values)) in names.iter().zip(&outputs).enumerate() {
            let line = Line {
                name: name.clone(),
                values: cut(values),
            };
            if def.on_price_scale(k) {
                overlays.push(line);
                placed.push(None);
            } else {
                lines.push(line);
                placed.push(Some(panes.len()));
            }
        }
        if !lines.is_empty() {
            let title = lines[0].name.clone();
            panes.push(Pane {
                title,
                kind: PaneKind::Lines(lines),
            });
        }
        if let Some(k) = strategy_index {
            strategy_outputs[*k] = Some(Computed { outputs, placed });
        }
    }

    if let Some(name) = &i.fuzzy {
        let Some(s) = &i.strategy else {
            return Err(WireError::validation(format!(
                "--fuzzy {name} needs the strategy that defines its sets"
            ))
            .with_hint("add --strategy FILE"));
        };
        let sets: Vec<_> = s
            .fuzzy
            .iter()
            .filter(|f| f.key == *name || s.output_name(f) == *name)
            .collect();
        let Some(first) = sets.first() else {
            let mut known: Vec<String> = s
                .fuzzy
                .iter()
                .map(|f| format!("{} ({})", f.key, s.output_name(f)))
                .collect();
            known.dedup();
            return Err(WireError::validation(format!(
                "{} has no fuzzy variable {name}",
                s.name()
            ))
            .with_hint(format!("its fuzzy variables: {}", known.join(", "))));
        };
        let Computed { outputs, placed } = strategy_outputs[first.indicator]
            .as_ref()
            .ok_or_else(|| WireError::internal("a strategy indicator was not computed"))?;
        let x = &outputs[first.output];
        let rows = sets
            .iter()
            .map(|f| Line {
                name: f.set.clone(),
                values: cut(&f.membership.apply(x)),
            })
            .collect();
        let heat = Pane {
            title: format!("fuzzy {}", s.output_name(first)),
            kind: PaneKind::Heat(rows),
        };
        // Right under its indicator's pane; first among the panes when it is drawn on the price.
        let at = placed[first.output].map_or(0, |p| p + 1);
        panes.insert(at, heat);
    }

    let ts = bars.ts()[r.clone()].to_vec();
    let mut markers = Vec::new();
    let mut title = format!("{} {}", i.symbol, i.timeframe);
    if let Some(b) = &i.backtest {
        let d = b.detail;
        let s = &d.summary;
        if s.symbol != i.symbol || s.timeframe != i.timeframe {
            return Err(WireError::validation(format!(
                "backtest {} ran on {} {}, not {} {}",
                s.id, s.symbol, s.timeframe, i.symbol, i.timeframe
            ))
            .with_hint(format!(
                "chart {} {} --backtest {}",
                s.symbol, s.timeframe, s.id
            )));
        }
        let at = |ms: i64| ts.binary_search(&ms).ok();
        let n = ts.len();
        let mut equity = vec![f64::NAN; n];
        let mut buy_hold = vec![f64::NAN; n];
        for (j, &ms) in d.ts.iter().enumerate() {
            if let Some(k) = at(ms) {
                equity[k] = d.equity[j];
                buy_hold[k] = d.buy_hold[j];
            }
        }
        let mut position = vec![0.0; n];
        for t in &d.trades {
            let long = t.side == Side::Long;
            let (entry, exit) = (at(t.entry_ms), at(t.exit_ms));
            // Held from the entry bar up to the exit fill at the exit bar's open.
            let from = entry.unwrap_or_else(|| ts.partition_point(|&x| x < t.entry_ms));
            let to = exit.unwrap_or_else(|| ts.partition_point(|&x| x < t.exit_ms));
            for p in position.iter_mut().take(to.max(from)).skip(from) {
                *p = if long { 1.0 } else { -1.0 };
            }
            if let Some(k) = entry {
                markers.push(TradeMarker {
                    index: k,
                    price: t.entry_price,
                    entry: true,
                    long,
                    confidence: t.entry_confidence,
                });
            }
            if let Some(k) = exit {
                markers.push(TradeMarker {
                    index: k,
                    price: t.exit_price,
                    entry: false,
                    long,
                    confidence: t.exit_confidence,
                });
            }
        }
        let mut peak = f64::NEG_INFINITY;
        let drawdown = equity
            .iter()
            .map(|&e| {
                if !e.is_finite() {
                    return f64::NAN;
                }
                peak = peak.max(e);
                if peak > 0.0 {
                    (e / peak - 1.0) * 100.0
                } else {
                    0.0
                }
            })
            .collect();
        panes.insert(
            0,
            Pane {
                title: "position".into(),
                kind: PaneKind::Position(position),
            },
        );
        panes.push(Pane {
            title: "equity".into(),
            kind: PaneKind::Lines(vec![
                Line {
                    name: "strategy".into(),
                    values: equity,
                },
                Line {
                    name: "buy and hold".into(),
                    values: buy_hold,
                },
            ]),
        });
        panes.push(Pane {
            title: "drawdown".into(),
            kind: PaneKind::Drawdown(Line {
                name: "drawdown %".into(),
                values: drawdown,
            }),
        });
        title = format!(
            "{title}: backtest {} of {}, {:+.2}% vs buy-and-hold {:+.2}%",
            s.id,
            s.model,
            s.metrics.total_return * 100.0,
            s.buy_hold.total_return * 100.0
        );
    }
    if let (Some(s), None) = (&i.strategy, &i.backtest) {
        title = format!("{title}: {}", s.name());
    }

    let volume = bars.volume()[r.clone()].to_vec();
    let has_volume = volume.iter().any(|v| *v > 0.0);
    let mut chart = PriceChart {
        title,
        ts,
        open: cut(bars.open()),
        high: cut(bars.high()),
        low: cut(bars.low()),
        close: cut(bars.close()),
        volume: has_volume.then_some(volume),
        style: i.style,
        overlays,
        panes,
        markers,
        width: i.width,
        height: 0,
    };
    chart.height = i.height.unwrap_or_else(|| ktrdr_plot::auto_height(&chart));
    Ok(chart)
}
