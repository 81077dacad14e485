//! A saved backtest drawn as a chart (equity against buy-and-hold, trades marked), rendered here so
//! the client stays small: it only writes the bytes.

use super::results::Detail;
use ktrdr_plot::{Chart, Format, Marker};
use ktrdr_protocol::WireError;
use ktrdr_protocol::backtest::{PlotFormat, Side};

pub fn render(d: &Detail, format: PlotFormat) -> Result<Vec<u8>, WireError> {
    let markers: Vec<Marker> = d
        .trades
        .iter()
        .flat_map(|t| {
            let long = t.side == Side::Long;
            [
                Marker {
                    index: t.entry_index,
                    entry: true,
                    long,
                },
                Marker {
                    index: t.exit_index,
                    entry: false,
                    long,
                },
            ]
        })
        .collect();
    let s = &d.summary;
    let title = format!(
        "{} on {} {} (backtest {}): {:+.2}% vs buy-and-hold {:+.2}%",
        s.model,
        s.symbol,
        s.timeframe,
        s.id,
        s.metrics.total_return * 100.0,
        s.buy_hold.total_return * 100.0
    );
    let chart = Chart {
        title: &title,
        ts: &d.ts,
        equity: &d.equity,
        buy_hold: &d.buy_hold,
        markers: &markers,
        width: ktrdr_plot::DEFAULT_WIDTH,
        height: ktrdr_plot::DEFAULT_HEIGHT,
    };
    let format = match format {
        PlotFormat::Png => Format::Png,
        PlotFormat::Svg => Format::Svg,
    };
    ktrdr_plot::render(&chart, format)
        .map_err(|e| WireError::internal(format!("cannot draw the chart: {e}")))
}
