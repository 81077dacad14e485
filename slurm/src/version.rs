//! The Slurm version, read from `sbatch --version` ("slurm-wlm 22.05.8", "slurm 23.11.4"; pure).

use std::fmt;

use crate::error::{Result, SlurmError};

/// A Slurm release: year, month, micro (22.05.8).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
    /// The line as printed, e.g. "slurm-wlm 22.05.8".
    pub text: String,
}

impl Version {
    /// Reads the first line of `sbatch --version`.
    pub fn parse(output: &str) -> Result<Version> {
        let line = output.lines().next().unwrap_or("").trim();
        let bad = || SlurmError::Parse {
            what: "sbatch --version output",
            detail: format!("expected \"slurm X.Y.Z\", got {output:?}"),
        };
        let number = line.split_whitespace().last().ok_or_else(bad)?;
        // A release candidate or a distribution suffix ("24.05.0-0rc1") ends the micro number.
        let mut parts = number.split('.').map(|p| {
            let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = parts.next().flatten().ok_or_else(bad)?;
        let minor = parts.next().flatten().ok_or_else(bad)?;
        let micro = parts.next().flatten().unwrap_or(0);
        Ok(Version {
            major,
            minor,
            micro,
            text: line.to_string(),
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}.{}", self.major, self.minor, self.micro)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        let v = Version::parse("slurm-wlm 22.05.8\n").unwrap();
        assert_eq!((v.major, v.minor, v.micro), (22, 5, 8));
        assert_eq!(v.to_string(), "22.05.8");
        assert_eq!(v.text, "slurm-wlm 22.05.8");
        let rc = Version::parse("slurm 24.05.0-0rc1").unwrap();
        assert_eq!((rc.major, rc.minor, rc.micro), (24, 5, 0));
        assert!(Version::parse("").is_err());
        assert!(Version::parse("sbatch: error: x").is_err());
    }
}
