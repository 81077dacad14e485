use std::path::Path;

/// Output encoding of a rendered chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Png,
    Svg,
}

impl Format {
    /// The format a file name asks for, by its extension (`.png` / `.svg`, any case), so the
    /// client can pick the format from the path the user typed.
    pub fn from_path(p: &Path) -> Option<Format> {
        let ext = p.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("png") {
            Some(Format::Png)
        } else if ext.eq_ignore_ascii_case("svg") {
            Some(Format::Svg)
        } else {
            None
        }
    }

    /// The conventional file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Png => "png",
            Format::Svg => "svg",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_decides_case_insensitively() {
        assert_eq!(Format::from_path(Path::new("a/b.png")), Some(Format::Png));
        assert_eq!(Format::from_path(Path::new("B.PnG")), Some(Format::Png));
        assert_eq!(
            Format::from_path(Path::new("/tmp/x.SVG")),
            Some(Format::Svg)
        );
        assert_eq!(Format::from_path(Path::new("x.jpg")), None);
        assert_eq!(Format::from_path(Path::new("png")), None);
        assert_eq!(Format::from_path(Path::new("x.svg.gz")), None);
    }
}
