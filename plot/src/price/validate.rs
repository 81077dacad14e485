//! Checks done before drawing, so a bad description is reported as such and never reaches
//! plotters (which panics or draws nonsense on NaN ranges).

use super::{PaneKind, PriceChart};
use crate::{MAX_SIDE, MIN_SIDE, PlotError};

pub fn check(c: &PriceChart) -> Result<(), PlotError> {
    let n = c.ts.len();
    if n == 0 {
        return Err(PlotError::Empty);
    }
    let mut columns: Vec<(&str, usize)> = vec![
        ("open", c.open.len()),
        ("high", c.high.len()),
        ("low", c.low.len()),
        ("close", c.close.len()),
    ];
    if let Some(v) = &c.volume {
        columns.push(("volume", v.len()));
    }
    for l in &c.overlays {
        columns.push((&l.name, l.values.len()));
    }
    for p in &c.panes {
        match &p.kind {
            PaneKind::Lines(lines) | PaneKind::Heat(lines) => {
                columns.extend(lines.iter().map(|l| (l.name.as_str(), l.values.len())))
            }
            PaneKind::Position(v) => columns.push((&p.title, v.len())),
            PaneKind::Drawdown(l) => columns.push((&l.name, l.values.len())),
        }
    }
    if let Some((name, len)) = columns.iter().find(|(_, len)| *len != n) {
        return Err(PlotError::Lengths(format!(
            "{n} bar times but {len} values of {name}"
        )));
    }
    if let Some(m) = c.markers.iter().find(|m| m.index >= n) {
        return Err(PlotError::Lengths(format!(
            "trade marker at bar {} but the series has {n} bars",
            m.index
        )));
    }
    for (name, side) in [("width", c.width), ("height", c.height)] {
        if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
            return Err(PlotError::Invalid(format!(
                "{name} {side} px is outside {MIN_SIDE}..={MAX_SIDE}"
            )));
        }
    }
    if c.height < super::layout::min_height(c) {
        return Err(PlotError::Invalid(format!(
            "height {} px is too small for {} panes (at least {} px)",
            c.height,
            c.pane_titles().len(),
            super::layout::min_height(c)
        )));
    }
    if let Some(i) = c.ts.windows(2).position(|w| w[1] < w[0]) {
        return Err(PlotError::Invalid(format!(
            "bar times go backwards at bar {}",
            i + 1
        )));
    }
    for (name, s) in [
        ("open", &c.open),
        ("high", &c.high),
        ("low", &c.low),
        ("close", &c.close),
    ] {
        if let Some(i) = s.iter().position(|v| !v.is_finite()) {
            return Err(PlotError::Invalid(format!(
                "{name} is not a finite number at bar {i}"
            )));
        }
    }
    if let Some(m) = c.markers.iter().find(|m| !m.price.is_finite()) {
        return Err(PlotError::Invalid(format!(
            "trade marker at bar {} has no finite price",
            m.index
        )));
    }
    Ok(())
}
