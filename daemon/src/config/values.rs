//! The types settings are written in, each parsed the same way from a flag or an environment
//! variable (text) and from the TOML file (a TOML value): numbers, paths, yes/no flags, durations
//! in seconds, byte sizes with units, and per-kind limits.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::PathBuf;
use std::time::Duration;

/// A type a setting can have. `Display` is how `ktrdrctl config` shows the value, and must read
/// back through `parse`.
pub trait SettingValue: Sized + Display {
    /// What to write, for the docs.
    const KIND: &'static str;
    /// From a flag or an environment variable.
    fn parse(text: &str) -> Result<Self, String>;
    /// From the TOML file.
    fn from_toml(value: &toml::Value) -> Result<Self, String>;
}

fn expected(what: &str, got: &toml::Value) -> String {
    format!("expected {what}, got {}", got.type_str())
}

impl SettingValue for String {
    const KIND: &'static str = "text";
    fn parse(text: &str) -> Result<Self, String> {
        Ok(text.to_string())
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| expected("a string", value))
    }
}

/// Paths print through `Display`, so a non-UTF-8 path is shown (and kept) lossily, as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsPath(pub PathBuf);

impl Display for FsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.display())
    }
}

impl SettingValue for FsPath {
    const KIND: &'static str = "path";
    fn parse(text: &str) -> Result<Self, String> {
        Ok(FsPath(PathBuf::from(text)))
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        String::from_toml(value).map(|s| FsPath(PathBuf::from(s)))
    }
}

macro_rules! whole_number {
    ($($t:ty),*) => {$(
        impl SettingValue for $t {
            const KIND: &'static str = "whole number";
            fn parse(text: &str) -> Result<Self, String> {
                text.parse().map_err(|e: std::num::ParseIntError| e.to_string())
            }
            fn from_toml(value: &toml::Value) -> Result<Self, String> {
                let n = value
                    .as_integer()
                    .ok_or_else(|| expected("a whole number", value))?;
                <$t>::try_from(n).map_err(|_| {
                    format!("{n} is out of range ({}..={})", <$t>::MIN, <$t>::MAX)
                })
            }
        }
    )*};
}
whole_number!(u16, i32, usize);

impl SettingValue for f64 {
    const KIND: &'static str = "number";
    fn parse(text: &str) -> Result<Self, String> {
        text.parse()
            .map_err(|e: std::num::ParseFloatError| e.to_string())
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Float(x) => Ok(*x),
            toml::Value::Integer(n) => Ok(*n as f64),
            other => Err(expected("a number", other)),
        }
    }
}

/// A duration written in (possibly fractional) seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Secs(pub Duration);

impl Secs {
    fn from_f64(x: f64) -> Result<Secs, String> {
        Duration::try_from_secs_f64(x)
            .map(Secs)
            .map_err(|e| e.to_string())
    }
}

impl Display for Secs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

impl SettingValue for Secs {
    const KIND: &'static str = "seconds";
    fn parse(text: &str) -> Result<Self, String> {
        Secs::from_f64(f64::parse(text)?)
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        Secs::from_f64(f64::from_toml(value)?)
    }
}

/// A yes/no setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` in the environment (the
/// predecessor's variables used all of them); a TOML boolean in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl SettingValue for Flag {
    const KIND: &'static str = "true/false";
    fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Flag(true)),
            "0" | "false" | "no" | "off" => Ok(Flag(false)),
            _ => Err("expected true or false".into()),
        }
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        value
            .as_bool()
            .map(Flag)
            .ok_or_else(|| expected("true or false", value))
    }
}

/// A byte count, written as a whole number or with a unit: `536870912`, `512MiB`, `2GiB`, `64MB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl SettingValue for ByteSize {
    const KIND: &'static str = "bytes (512MiB, 2GiB, 64MB)";
    fn parse(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num
            .parse()
            .map_err(|_| format!("{s:?} is not a byte count like 536870912 or 512MiB"))?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1000,
            "kib" => 1 << 10,
            "m" | "mb" => 1_000_000,
            "mib" => 1 << 20,
            "g" | "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            other => {
                return Err(format!(
                    "unknown unit {other:?}; use B, KiB, MiB, GiB, kB, MB or GB"
                ));
            }
        };
        n.checked_mul(mult)
            .map(ByteSize)
            .ok_or_else(|| format!("{s:?} is too large"))
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Integer(n) => u64::try_from(*n)
                .map(ByteSize)
                .map_err(|_| format!("{n} is negative")),
            toml::Value::String(s) => ByteSize::parse(s),
            other => Err(expected("a byte count", other)),
        }
    }
}

/// Per-kind limits: `kind=N,kind=N` in the environment, a table `{ kind = N }` in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits(pub BTreeMap<String, usize>);

impl Display for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}

impl SettingValue for Limits {
    const KIND: &'static str = "kind=N,kind=N (file: { kind = N })";
    fn parse(s: &str) -> Result<Self, String> {
        let mut map = BTreeMap::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("expected kind=N, got {part:?}"))?;
            let n: usize = v
                .trim()
                .parse()
                .map_err(|_| format!("{v:?} is not a whole number"))?;
            map.insert(k.trim().to_string(), n);
        }
        Ok(Limits(map))
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        let table = value
            .as_table()
            .ok_or_else(|| expected("a table like { training = 1 }", value))?;
        let mut map = BTreeMap::new();
        for (kind, n) in table {
            let n = usize::from_toml(n).map_err(|e| format!("{kind}: {e}"))?;
            map.insert(kind.clone(), n);
        }
        Ok(Limits(map))
    }
}

impl SettingValue for ktrdr_protocol::sweep::Executor {
    const KIND: &'static str = "local or slurm";
    fn parse(text: &str) -> Result<Self, String> {
        text.trim().parse()
    }
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        String::from_toml(value).and_then(|s| Self::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_value(text: &str) -> toml::Value {
        let t: toml::Table = toml::from_str(&format!("v = {text}")).unwrap();
        t["v"].clone()
    }

    #[test]
    fn every_kind_reads_back_what_it_prints() {
        fn round<T: SettingValue + PartialEq + std::fmt::Debug>(v: T) {
            assert_eq!(T::parse(&v.to_string()).unwrap(), v);
        }
        round(Flag(true));
        round(ByteSize(512 << 20));
        round(Secs(Duration::from_millis(1500)));
        round(Limits([("demo".to_string(), 4)].into_iter().collect()));
        round(FsPath(PathBuf::from("/a b/c")));
        round(42usize);
        round(0.25f64);
    }

    #[test]
    fn byte_sizes_and_flags() {
        assert_eq!(ByteSize::parse("64MiB").unwrap(), ByteSize(64 << 20));
        assert_eq!(ByteSize::parse("2GB").unwrap(), ByteSize(2_000_000_000));
        assert!(ByteSize::parse("lots").is_err());
        assert!(ByteSize::parse("3TiB").unwrap_err().contains("unit"));
        assert!(ByteSize::parse("99999999999999GiB").is_err());
        assert_eq!(
            ByteSize::from_toml(&toml_value("\"1KiB\"")).unwrap(),
            ByteSize(1024)
        );
        assert!(ByteSize::from_toml(&toml_value("-1")).is_err());
        for (t, v) in [("on", true), ("0", false), ("Yes", true), ("off", false)] {
            assert_eq!(Flag::parse(t).unwrap(), Flag(v));
        }
        assert!(Flag::parse("maybe").is_err());
        assert!(Flag::from_toml(&toml_value("\"true\"")).is_err());
    }

    #[test]
    fn toml_values_of_the_wrong_type_are_named() {
        assert!(
            usize::from_toml(&toml_value("\"5\""))
                .unwrap_err()
                .contains("string")
        );
        assert!(
            u16::from_toml(&toml_value("70000"))
                .unwrap_err()
                .contains("range")
        );
        assert_eq!(f64::from_toml(&toml_value("5")).unwrap(), 5.0);
        assert_eq!(
            Secs::from_toml(&toml_value("0.5")).unwrap(),
            Secs(Duration::from_millis(500))
        );
        assert!(Secs::parse("-1").is_err());
        let l = Limits::from_toml(&toml_value("{ training = 1, demo = 4 }")).unwrap();
        assert_eq!(l.to_string(), "demo=4,training=1");
        assert!(Limits::from_toml(&toml_value("{ training = -1 }")).is_err());
        assert!(Limits::parse("training").unwrap_err().contains("kind=N"));
    }
}
