//! The charting script the interactive pages inline, read from the `chart.js_dir` setting's
//! directory (`scripts/fetch-charts-js.sh` puts it there).

use ktrdr_protocol::WireError;
use std::path::Path;

/// The directory under `$XDG_CACHE_HOME/ktrdr` the fetch script fills (the setting's default).
pub const LIGHTWEIGHT_CHARTS_DIR: &str = "lightweight-charts-5.3.0";
const SCRIPT: &str = "lightweight-charts.standalone.production.js";

pub struct Library {
    pub script: String,
    pub license: String,
    pub version: String,
}

impl Library {
    pub fn load(dir: &Path) -> Result<Library, WireError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| {
                WireError::unavailable(format!(
                    "interactive charts need lightweight-charts, but {} cannot be read: {e}",
                    p.display()
                ))
                .with_hint(format!(
                    "run scripts/fetch-charts-js.sh (it puts the pinned, integrity-checked build there), or point chart.js_dir (KTRDR_CHART_JS_DIR) at its directory; now {}",
                    dir.display()
                ))
            })
        };
        Ok(Library {
            script: read(SCRIPT)?,
            license: read("LICENSE")?,
            version: read("VERSION")?.trim().to_string(),
        })
    }

    pub fn plot(&self) -> ktrdr_plot::Library<'_> {
        ktrdr_plot::Library {
            script: &self.script,
            license: &self.license,
            version: &self.version,
        }
    }
}
