//! The one font every chart uses, compiled into the binary.
//!
//! plotters' `ab_glyph` text backend looks fonts up in a process-wide table by family name and
//! knows no system fonts, so without this registration every label fails to render. Registering
//! under plotters' own "sans-serif" family name means the chart code can use the ordinary
//! `("sans-serif", size)` styles, and SVG viewers, which draw the text themselves, get a family
//! they always have.

use std::sync::OnceLock;

use plotters::style::{FontFamily, FontStyle, register_font};

use crate::PlotError;

pub const FAMILY: FontFamily<'static> = FontFamily::SansSerif;

/// Registers the embedded Noto Sans Regular once per process.
pub fn ensure_registered() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY.as_str(), FontStyle::Normal, ttf_noto_sans::REGULAR)
                .map_err(|_| "the embedded Noto Sans font does not parse".to_owned())
        })
        .clone()
        .map_err(PlotError::Render)
}
