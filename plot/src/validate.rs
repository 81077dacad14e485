//! Input checks, done before any drawing so that a bad request is reported as such and never
//! reaches plotters (which panics or draws nonsense on NaN ranges).

use crate::{Chart, PlotError};

/// Smallest canvas on which the axes, labels and legend still fit.
pub const MIN_SIDE: u32 = 200;
/// Largest canvas side: bounds the bitmap buffer (8192² × 3 bytes = 192 MiB) a request can ask for.
pub const MAX_SIDE: u32 = 8192;

pub fn check(chart: &Chart<'_>) -> Result<(), PlotError> {
    let n = chart.ts.len();
    if n == 0 && chart.equity.is_empty() && chart.buy_hold.is_empty() {
        return Err(PlotError::Empty);
    }
    if chart.equity.len() != n || chart.buy_hold.len() != n {
        return Err(PlotError::Lengths(format!(
            "{} times, {} strategy equity values, {} buy-and-hold values",
            n,
            chart.equity.len(),
            chart.buy_hold.len()
        )));
    }
    if let Some(m) = chart.markers.iter().find(|m| m.index >= n) {
        return Err(PlotError::Lengths(format!(
            "trade marker at bar {} but the series has {n} bars",
            m.index
        )));
    }
    for (name, side) in [("width", chart.width), ("height", chart.height)] {
        if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
            return Err(PlotError::Invalid(format!(
                "{name} {side} px is outside {MIN_SIDE}..={MAX_SIDE}"
            )));
        }
    }
    if let Some(i) = chart.ts.windows(2).position(|w| w[1] < w[0]) {
        return Err(PlotError::Invalid(format!(
            "bar times go backwards at bar {}",
            i + 1
        )));
    }
    for (name, series) in [
        ("strategy equity", chart.equity),
        ("buy-and-hold", chart.buy_hold),
    ] {
        if let Some(i) = series.iter().position(|v| !v.is_finite()) {
            return Err(PlotError::Invalid(format!(
                "{name} is not a finite number at bar {i}"
            )));
        }
    }
    Ok(())
}
