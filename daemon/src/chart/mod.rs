//! Price charts of stored series (`chart`) and backtest reports (`backtest show --report`): the
//! daemon gathers the columns (bars, indicators, fuzzy memberships, a backtest's fills and
//! equity) here, and `ktrdr-plot` draws them. Pure given its inputs: the service reads the bars,
//! files and results and runs this on a blocking thread.

mod build;
mod library;
mod report;

pub use build::{Backtested, Inputs, build};
pub use library::{LIGHTWEIGHT_CHARTS_DIR, Library};
pub use report::tables;

use ktrdr_plot::PlotError;
use ktrdr_protocol::WireError;

/// Default canvas of the images and of the page's chart, in pixels.
pub const DEFAULT_WIDTH: u32 = 1400;
pub const DEFAULT_HTML_WIDTH: u32 = 1200;

/// A drawing failure as the client sees it: bad input is the request's fault, the rest ours.
pub fn plot_error(e: PlotError) -> WireError {
    match e {
        PlotError::Empty => WireError::not_found("nothing to draw: no bars in the window")
            .with_hint("`ktrdrctl data range SYMBOL TF` shows the stored range"),
        PlotError::Invalid(m) | PlotError::Lengths(m) => WireError::validation(m),
        PlotError::Render(m) => WireError::internal(format!("cannot draw the chart: {m}")),
    }
}
