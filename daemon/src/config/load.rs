//! Layering: each declared setting comes from its flag, else its environment variable, else the
//! TOML file, else its default, and is checked; the value and its source are recorded for
//! `ktrdrctl config`. Errors name where the bad value came from (the variable, the file and key,
//! or the flag).

use super::ConfigError;
use super::host_service::{ServiceMode, parse_url};
use super::settings::{ALL, Decl, Defaults, Meta};
use super::values::{Flag, SettingValue};
use ktrdr_protocol::model::Setting;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Values given on the command line; `None` where the flag was absent.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub log: Option<String>,
    pub log_format: Option<String>,
}

impl Flags {
    /// The value of the flag a setting declares, as text.
    fn value(&self, flag: &str) -> Option<String> {
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        match flag {
            "--socket" => path(&self.socket),
            "--data-dir" => path(&self.data_dir),
            "--state-dir" => path(&self.state_dir),
            "--log" => self.log.clone(),
            "--log-format" => self.log_format.clone(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::File => "file",
            Source::Default => "default",
        }
    }
}

/// The parsed file: a TOML table whose keys were all checked against the declarations.
#[derive(Debug)]
pub struct File {
    path: PathBuf,
    table: toml::Table,
}

impl File {
    pub fn read(path: &Path) -> Result<File, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let parse_error = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| parse_error(e.to_string().trim().replace('\n', " ")))?;
        check_keys(&table).map_err(parse_error)?;
        Ok(File {
            path: path.to_path_buf(),
            table,
        })
    }

    fn get(&self, m: &Meta) -> Option<&toml::Value> {
        match m.file_path() {
            (None, name) => self.table.get(name),
            (Some(table), name) => self.table.get(table)?.as_table()?.get(name),
        }
    }
}

/// Unknown keys are errors, so a typo is caught instead of silently ignored.
fn check_keys(table: &toml::Table) -> Result<(), String> {
    let top: BTreeSet<&str> = ALL
        .iter()
        .map(|d| match d.meta().file_path() {
            (None, name) => name,
            (Some(table), _) => table,
        })
        .collect();
    let listed = |keys: &BTreeSet<&str>| {
        keys.iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (key, value) in table {
        if !top.contains(key.as_str()) {
            return Err(format!(
                "unknown key `{key}`, expected one of {}",
                listed(&top)
            ));
        }
        let names: BTreeSet<&str> = ALL
            .iter()
            .map(|d| d.meta().file_path())
            .filter(|(t, _)| *t == Some(key.as_str()))
            .map(|(_, name)| name)
            .collect();
        if names.is_empty() {
            continue;
        }
        let Some(inner) = value.as_table() else {
            return Err(format!("`{key}` must be a table ([{key}])"));
        };
        if let Some(unknown) = inner.keys().find(|k| !names.contains(k.as_str())) {
            return Err(format!(
                "unknown key `{key}.{unknown}`, expected one of {}",
                listed(&names)
            ));
        }
    }
    Ok(())
}

pub struct Loader<'a> {
    flags: &'a Flags,
    env: &'a dyn Fn(&str) -> Option<String>,
    file: Option<&'a File>,
    defaults: &'a Defaults,
    pub settings: Vec<Setting>,
    pub env_read: Vec<(String, Option<String>)>,
}

impl<'a> Loader<'a> {
    pub fn new(
        flags: &'a Flags,
        env: &'a dyn Fn(&str) -> Option<String>,
        file: Option<&'a File>,
        defaults: &'a Defaults,
    ) -> Self {
        Loader {
            flags,
            env,
            file,
            defaults,
            settings: Vec::with_capacity(ALL.len()),
            env_read: Vec::with_capacity(ALL.len()),
        }
    }

    /// Where a value came from, as an error names it.
    fn origin(&self, m: &Meta, source: Source) -> String {
        match (source, self.file) {
            (Source::Flag, _) => m.flag.unwrap_or(m.key).to_string(),
            (Source::File, Some(f)) => format!("{} in {}", m.key, f.path.display()),
            _ => format!("{} ({})", m.env, m.key),
        }
    }

    fn resolve<T: SettingValue>(&mut self, d: &Decl<T>) -> Result<(T, Source), ConfigError> {
        let m = &d.meta;
        let env_value = (self.env)(m.env);
        self.env_read.push((m.env.to_string(), env_value.clone()));
        let bad = |this: &Self, source, value: String, message| ConfigError::Value {
            name: this.origin(m, source),
            value,
            message,
        };
        let (value, source) = if let Some(text) = m.flag.and_then(|f| self.flags.value(f)) {
            let v = T::parse(&text).map_err(|e| bad(self, Source::Flag, text, e))?;
            (v, Source::Flag)
        } else if let Some(text) = env_value {
            let v = T::parse(&text).map_err(|e| bad(self, Source::Env, text, e))?;
            (v, Source::Env)
        } else if let Some(raw) = self.file.and_then(|f| f.get(m)) {
            let v = T::from_toml(raw).map_err(|e| bad(self, Source::File, raw.to_string(), e))?;
            (v, Source::File)
        } else {
            (d.default_value(self.defaults), Source::Default)
        };
        d.validate(&value)
            .map_err(|e| bad(self, source, value.to_string(), e))?;
        self.settings.push(Setting {
            key: m.key.to_string(),
            value: value.to_string(),
            source: source.as_str().to_string(),
        });
        Ok((value, source))
    }

    /// The value of one setting.
    pub fn get<T: SettingValue>(&mut self, d: &Decl<T>) -> Result<T, ConfigError> {
        self.resolve(d).map(|(v, _)| v)
    }

    /// A delegable service's mode, from its pair of host-service settings: the one code path for
    /// every such service.
    pub fn service_mode(
        &mut self,
        switch: &Decl<Flag>,
        url: &Decl<String>,
    ) -> Result<ServiceMode, ConfigError> {
        let on = self.get(switch)?.0;
        let (text, source) = self.resolve(url)?;
        if !on {
            return Ok(ServiceMode::Local);
        }
        if text.is_empty() {
            return Err(ConfigError::Value {
                name: self.origin(&url.meta, source),
                value: text,
                message: format!("{} is on but no host service URL is set", switch.meta.env),
            });
        }
        let path = parse_url(&text).map_err(|message| ConfigError::Value {
            name: self.origin(&url.meta, source),
            value: text.clone(),
            message,
        })?;
        Ok(ServiceMode::HostService {
            url: format!("unix://{}", path.display()),
        })
    }
}
