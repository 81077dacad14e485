//! Daemon configuration. Each setting comes from, in rising priority: a default, the TOML file
//! (`--config`, else `$XDG_CONFIG_HOME/ktrdr/ktrdrd.toml` if present), an environment variable, a flag.
//! The source of every value is kept so `ktrdrctl config` can show where it came from.

use ktrdr_protocol::model::{ConfigReport, Setting};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid value {value:?} for {name}: {message}")]
    Value {
        name: String,
        value: String,
        message: String,
    },
}

/// The file's shape. Unknown keys are errors, so a typo is caught instead of silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub socket: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub max_connections: Option<usize>,
    pub handshake_timeout_secs: Option<f64>,
    pub idle_timeout_secs: Option<f64>,
    pub shutdown_grace_secs: Option<f64>,
    pub log: Option<String>,
    pub operations: Option<FileOps>,
    pub data: Option<FileData>,
    pub ib: Option<FileIb>,
    pub training: Option<FileTraining>,
    pub backtest: Option<FileBacktest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBacktest {
    pub use_host_service: Option<bool>,
    pub host_service_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTraining {
    pub device: Option<String>,
    pub torch_threads: Option<usize>,
    pub use_host_service: Option<bool>,
    pub host_service_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIb {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub client_id: Option<i32>,
    pub connect_timeout_secs: Option<f64>,
    pub request_timeout_secs: Option<f64>,
    pub pacing_scale: Option<f64>,
    pub flush_bars: Option<usize>,
    pub flush_secs: Option<f64>,
    pub use_host_service: Option<bool>,
    pub host_service_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileData {
    pub cache_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOps {
    pub keep_finished: Option<usize>,
    pub default_limit: Option<usize>,
    pub limits: Option<BTreeMap<String, usize>>,
}

/// Values given on the command line; `None` where the flag was absent.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub socket: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    pub log: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OpsConfig {
    /// Finished operation records kept in the database; older ones are pruned.
    pub keep_finished: usize,
    /// Concurrent operations of a kind that has no entry in `limits`.
    pub default_limit: usize,
    pub limits: BTreeMap<String, usize>,
}

impl OpsConfig {
    pub fn limit_for(&self, kind: &str) -> usize {
        self.limits
            .get(kind)
            .copied()
            .unwrap_or(self.default_limit)
            .max(1)
    }
}

/// Where a delegable service's work runs: in this daemon, or on a host service (another ktrdrd
/// reached through `url`, a `unix://` socket path). One type for IB, training and backtests, read
/// by one code path ([`Builder::host_mode`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceMode {
    Local,
    HostService { url: String },
}

#[derive(Debug, Clone)]
pub struct IbConfig {
    pub host: String,
    pub port: u16,
    pub client_id: i32,
    /// Bounds the TCP connect and the handshake, which ibapi would wait on forever.
    pub connect_timeout: Duration,
    /// Bounds every request; ibapi has no default timeout on contract details or history.
    pub request_timeout: Duration,
    /// Multiplies every pacing window: 1 is IB's rules, 0 turns pacing off. Below 1 only for tests
    /// and benchmarks against a fake gateway; a real gateway would answer with violations.
    pub pacing_scale: f64,
    /// A load writes its fetched bars once this many are pending (1: after every segment).
    pub flush_bars: usize,
    /// ...or once the oldest pending bar has waited this long, so a crash loses little.
    pub flush_after: Duration,
    pub mode: ServiceMode,
}

impl IbConfig {
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

#[derive(Debug, Clone)]
pub struct TrainingConfig {
    /// `auto` (CUDA when available), `cpu`, `cuda` or `cuda:N`; a request may override it.
    pub device: String,
    /// Intra-op threads of each training, scoring and prediction. One by default: the example
    /// MLPs are too small to gain from more, trainings already run side by side, and on a busy
    /// machine torch's default (one per core) made training up to 10x slower (docs/training.md).
    pub torch_threads: usize,
    pub mode: ServiceMode,
}

#[derive(Debug, Clone)]
pub struct BacktestConfig {
    pub mode: ServiceMode,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub config_file: Option<PathBuf>,
    pub socket: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
    pub log: String,
    pub ops: OpsConfig,
    /// Memory the bar cache may hold; least recently used series are evicted beyond it.
    pub data_cache_bytes: u64,
    pub ib: IbConfig,
    pub training: TrainingConfig,
    pub backtest: BacktestConfig,
    /// Every setting with its value and source, for `ktrdrctl config`.
    pub settings: Vec<Setting>,
    /// Every environment variable consulted, for service configuration info.
    pub env_read: Vec<(String, Option<String>)>,
}

impl Config {
    pub fn report(&self) -> ConfigReport {
        ConfigReport {
            config_file: self.config_file.as_ref().map(|p| p.display().to_string()),
            settings: self.settings.clone(),
        }
    }

    /// The path of the operations database.
    pub fn ops_db(&self) -> PathBuf {
        self.state_dir.join("operations.sqlite3")
    }

    /// Loads from the real environment.
    pub fn load(flags: Flags) -> Result<Config, ConfigError> {
        Self::load_with(flags, |name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    /// Loads with an injected environment, so tests need not mutate the process's.
    pub fn load_with(
        flags: Flags,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let home = env("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let xdg = |var: &str, fallback: &str| -> PathBuf {
            env(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(fallback))
        };

        let (config_file, file) = match &flags.config {
            Some(path) => (Some(path.clone()), read_file(path)?),
            None => {
                let default = xdg("XDG_CONFIG_HOME", ".config")
                    .join("ktrdr")
                    .join("ktrdrd.toml");
                if default.exists() {
                    let parsed = read_file(&default)?;
                    (Some(default), parsed)
                } else {
                    (None, FileConfig::default())
                }
            }
        };

        let mut b = Builder {
            settings: Vec::new(),
            env_read: Vec::new(),
            env: &env,
        };

        let default_socket = ktrdr_protocol::socket_path::default_path(env("XDG_RUNTIME_DIR"));
        let socket = b.path(
            "socket",
            flags.socket,
            "KTRDR_SOCKET",
            file.socket,
            default_socket,
        )?;
        let data_dir = b.path(
            "data_dir",
            flags.data_dir,
            "KTRDR_DATA_DIR",
            file.data_dir,
            xdg("XDG_DATA_HOME", ".local/share").join("ktrdr"),
        )?;
        let state_dir = b.path(
            "state_dir",
            flags.state_dir,
            "KTRDR_STATE_DIR",
            file.state_dir,
            xdg("XDG_STATE_HOME", ".local/state").join("ktrdr"),
        )?;
        let max_connections = b.value(
            "max_connections",
            None,
            "KTRDR_MAX_CONNECTIONS",
            file.max_connections,
            1024,
        )?;
        let handshake_timeout = b.secs(
            "handshake_timeout_secs",
            "KTRDR_HANDSHAKE_TIMEOUT_SECS",
            file.handshake_timeout_secs,
            5.0,
        )?;
        let idle_timeout = b.secs(
            "idle_timeout_secs",
            "KTRDR_IDLE_TIMEOUT_SECS",
            file.idle_timeout_secs,
            300.0,
        )?;
        let shutdown_grace = b.secs(
            "shutdown_grace_secs",
            "KTRDR_SHUTDOWN_GRACE_SECS",
            file.shutdown_grace_secs,
            10.0,
        )?;
        let log = b.value("log", flags.log, "KTRDR_LOG", file.log, "info".to_string())?;

        let fops = file.operations.unwrap_or_default();
        let keep_finished = b.value(
            "operations.keep_finished",
            None,
            "KTRDR_OPS_KEEP_FINISHED",
            fops.keep_finished,
            1000usize,
        )?;
        let default_limit = b.value(
            "operations.default_limit",
            None,
            "KTRDR_OPS_DEFAULT_LIMIT",
            fops.default_limit,
            default_parallelism(),
        )?;
        // Each training already spreads its larger tensor operations over torch's threads.
        let limits_default: BTreeMap<String, usize> = [
            ("demo".to_string(), 4usize),
            ("training".to_string(), (default_parallelism() / 2).max(1)),
        ]
        .into_iter()
        .collect();
        let limits_file = fops.limits.map(Limits);
        let limits = b
            .value(
                "operations.limits",
                None,
                "KTRDR_OPS_LIMITS",
                limits_file,
                Limits(limits_default),
            )?
            .0;

        let fdata = file.data.unwrap_or_default();
        let data_cache_bytes = b
            .value(
                "data.cache_bytes",
                None,
                "KTRDR_DATA_CACHE_BYTES",
                fdata.cache_bytes.map(ByteSize),
                ByteSize(512 * 1024 * 1024),
            )?
            .0;

        let fib = file.ib.unwrap_or_default();
        let ib_host = b.value(
            "ib.host",
            None,
            "IB_HOST",
            fib.host,
            "127.0.0.1".to_string(),
        )?;
        let ib_port = b.value("ib.port", None, "IB_PORT", fib.port, 4002u16)?;
        let ib_client_id = b.value("ib.client_id", None, "IB_CLIENT_ID", fib.client_id, 1i32)?;
        let ib_connect_timeout = b.secs(
            "ib.connect_timeout_secs",
            "KTRDR_IB_CONNECT_TIMEOUT_SECS",
            fib.connect_timeout_secs,
            5.0,
        )?;
        let ib_request_timeout = b.secs(
            "ib.request_timeout_secs",
            "KTRDR_IB_REQUEST_TIMEOUT_SECS",
            fib.request_timeout_secs,
            60.0,
        )?;
        let pacing_scale: f64 = b.value(
            "ib.pacing_scale",
            None,
            "KTRDR_IB_PACING_SCALE",
            fib.pacing_scale,
            1.0,
        )?;
        if !(pacing_scale.is_finite() && (0.0..=100.0).contains(&pacing_scale)) {
            return Err(ConfigError::Value {
                name: "ib.pacing_scale".into(),
                value: pacing_scale.to_string(),
                message: "must be between 0 (pacing off) and 100".into(),
            });
        }
        let flush_bars: usize = b.value(
            "ib.flush_bars",
            None,
            "KTRDR_IB_FLUSH_BARS",
            fib.flush_bars,
            50_000,
        )?;
        if flush_bars == 0 {
            return Err(ConfigError::Value {
                name: "ib.flush_bars".into(),
                value: "0".into(),
                message: "must be at least 1 (1 writes after every segment)".into(),
            });
        }
        let flush_after = b.secs("ib.flush_secs", "KTRDR_IB_FLUSH_SECS", fib.flush_secs, 1.0)?;
        let ib_mode = b.host_mode("ib", "IB", fib.use_host_service, fib.host_service_url)?;

        let ftr = file.training.unwrap_or_default();
        let training_device = b.value(
            "training.device",
            None,
            "KTRDR_TRAINING_DEVICE",
            ftr.device,
            "auto".to_string(),
        )?;
        let torch_threads: usize = b.value(
            "training.torch_threads",
            None,
            "KTRDR_TORCH_THREADS",
            ftr.torch_threads,
            1,
        )?;
        if torch_threads == 0 {
            return Err(ConfigError::Value {
                name: "training.torch_threads".into(),
                value: "0".into(),
                message: "must be at least 1".into(),
            });
        }
        let training_mode = b.host_mode(
            "training",
            "TRAINING",
            ftr.use_host_service,
            ftr.host_service_url,
        )?;
        let fbt = file.backtest.unwrap_or_default();
        let backtest_mode = b.host_mode(
            "backtest",
            "BACKTEST",
            fbt.use_host_service,
            fbt.host_service_url,
        )?;

        if max_connections == 0 {
            return Err(ConfigError::Value {
                name: "max_connections".into(),
                value: "0".into(),
                message: "must be at least 1".into(),
            });
        }

        Ok(Config {
            config_file,
            socket,
            data_dir,
            state_dir,
            max_connections,
            handshake_timeout,
            idle_timeout,
            shutdown_grace,
            log,
            ops: OpsConfig {
                keep_finished,
                default_limit,
                limits,
            },
            data_cache_bytes,
            ib: IbConfig {
                host: ib_host,
                port: ib_port,
                client_id: ib_client_id,
                connect_timeout: ib_connect_timeout,
                request_timeout: ib_request_timeout,
                pacing_scale,
                flush_bars,
                flush_after,
                mode: ib_mode,
            },
            training: TrainingConfig {
                device: training_device,
                torch_threads,
                mode: training_mode,
            },
            backtest: BacktestConfig {
                mode: backtest_mode,
            },
            settings: b.settings,
            env_read: b.env_read,
        })
    }
}

fn default_parallelism() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

/// Per-kind limits, written `kind=N,kind=N` in the environment.
#[derive(Debug, Clone)]
struct Limits(BTreeMap<String, usize>);

impl Display for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for Limits {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
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
}

/// A yes/no setting: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` (the predecessor's variables
/// used all of them).
#[derive(Debug, Clone, Copy)]
struct Flag(bool);

impl Display for Flag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Flag {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Flag(true)),
            "0" | "false" | "no" | "off" => Ok(Flag(false)),
            _ => Err("expected true or false".into()),
        }
    }
}

/// A byte count, written as a whole number or with a unit: `536870912`, `512MiB`, `2GiB`, `64MB`.
#[derive(Debug, Clone, Copy)]
struct ByteSize(u64);

impl Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
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
}

struct Builder<'a, E: Fn(&str) -> Option<String>> {
    settings: Vec<Setting>,
    env_read: Vec<(String, Option<String>)>,
    env: &'a E,
}

impl<E: Fn(&str) -> Option<String>> Builder<'_, E> {
    /// `[section] use_host_service` / `USE_{PREFIX}_HOST_SERVICE` and `host_service_url` /
    /// `{PREFIX}_HOST_SERVICE_URL`: whether the section's service delegates, and to which ktrdrd.
    fn host_mode(
        &mut self,
        section: &str,
        prefix: &str,
        file_use: Option<bool>,
        file_url: Option<String>,
    ) -> Result<ServiceMode, ConfigError> {
        let use_var = format!("USE_{prefix}_HOST_SERVICE");
        let url_var = format!("{prefix}_HOST_SERVICE_URL");
        let on = self
            .value(
                &format!("{section}.use_host_service"),
                None,
                &use_var,
                file_use.map(Flag),
                Flag(false),
            )?
            .0;
        let url = self.value(
            &format!("{section}.host_service_url"),
            None,
            &url_var,
            file_url,
            String::new(),
        )?;
        if !on {
            return Ok(ServiceMode::Local);
        }
        if url.is_empty() {
            return Err(ConfigError::Value {
                name: url_var,
                value: String::new(),
                message: format!("{use_var} is on but no host service URL is set"),
            });
        }
        let path = crate::peer::parse_url(&url).map_err(|message| ConfigError::Value {
            name: url_var,
            value: url.clone(),
            message,
        })?;
        Ok(ServiceMode::HostService {
            url: format!("unix://{}", path.display()),
        })
    }

    fn value<T: FromStr + Display>(
        &mut self,
        key: &str,
        flag: Option<T>,
        env_name: &str,
        file: Option<T>,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T::Err: Display,
    {
        let env_value = (self.env)(env_name);
        self.env_read
            .push((env_name.to_string(), env_value.clone()));
        let (value, source) = if let Some(v) = flag {
            (v, "flag")
        } else if let Some(raw) = env_value {
            let v = raw.parse::<T>().map_err(|e| ConfigError::Value {
                name: env_name.to_string(),
                value: raw.clone(),
                message: e.to_string(),
            })?;
            (v, "env")
        } else if let Some(v) = file {
            (v, "file")
        } else {
            (default, "default")
        };
        self.settings.push(Setting {
            key: key.to_string(),
            value: value.to_string(),
            source: source.to_string(),
        });
        Ok(value)
    }

    fn path(
        &mut self,
        key: &str,
        flag: Option<PathBuf>,
        env_name: &str,
        file: Option<PathBuf>,
        default: PathBuf,
    ) -> Result<PathBuf, ConfigError> {
        let s = |p: Option<PathBuf>| p.map(|p| p.display().to_string());
        let v = self.value(
            key,
            s(flag),
            env_name,
            s(file),
            default.display().to_string(),
        )?;
        Ok(PathBuf::from(v))
    }

    fn secs(
        &mut self,
        key: &str,
        env_name: &str,
        file: Option<f64>,
        default: f64,
    ) -> Result<Duration, ConfigError> {
        let v: f64 = self.value(key, None, env_name, file, default)?;
        Duration::try_from_secs_f64(v).map_err(|e| ConfigError::Value {
            name: key.to_string(),
            value: v.to_string(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(env: &[(&str, &str)], flags: Flags) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with(flags, move |k| map.get(k).cloned())
    }

    fn source(c: &Config, key: &str) -> String {
        c.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.source.clone())
            .unwrap_or_default()
    }

    #[test]
    fn layers_in_priority_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "data_dir = \"/from/file\"\nstate_dir = \"/s/file\"\n[operations]\nlimits = { training = 1 }\n").unwrap();
        let flags = Flags {
            config: Some(file),
            state_dir: Some("/s/flag".into()),
            ..Flags::default()
        };
        let c = load(&[("HOME", "/h"), ("KTRDR_DATA_DIR", "/from/env")], flags).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/env"));
        assert_eq!(source(&c, "data_dir"), "env");
        assert_eq!(c.state_dir, PathBuf::from("/s/flag"));
        assert_eq!(source(&c, "state_dir"), "flag");
        assert_eq!(c.ops.limit_for("training"), 1);
        assert_eq!(source(&c, "operations.limits"), "file");
        assert_eq!(source(&c, "max_connections"), "default");
    }

    #[test]
    fn defaults_follow_xdg() {
        let c = load(
            &[("HOME", "/h"), ("XDG_RUNTIME_DIR", "/run/user/7")],
            Flags::default(),
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/h/.local/share/ktrdr"));
        assert_eq!(c.socket, PathBuf::from("/run/user/7/ktrdr/ktrdrd.sock"));
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let err = load(&[("KTRDR_MAX_CONNECTIONS", "lots")], Flags::default()).unwrap_err();
        assert!(err.to_string().contains("KTRDR_MAX_CONNECTIONS"), "{err}");
        let err = load(&[("KTRDR_OPS_LIMITS", "training")], Flags::default()).unwrap_err();
        assert!(err.to_string().contains("kind=N"), "{err}");
    }

    #[test]
    fn cache_budget_from_env_file_or_default() {
        let c = load(&[], Flags::default()).unwrap();
        assert_eq!(c.data_cache_bytes, 512 * 1024 * 1024);
        assert_eq!(source(&c, "data.cache_bytes"), "default");
        let c = load(&[("KTRDR_DATA_CACHE_BYTES", "64MiB")], Flags::default()).unwrap();
        assert_eq!(c.data_cache_bytes, 64 << 20);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "[data]\ncache_bytes = 1000\n").unwrap();
        let c = load(
            &[],
            Flags {
                config: Some(file),
                ..Flags::default()
            },
        )
        .unwrap();
        assert_eq!(
            (c.data_cache_bytes, source(&c, "data.cache_bytes").as_str()),
            (1000, "file")
        );
        let err = load(&[("KTRDR_DATA_CACHE_BYTES", "lots")], Flags::default()).unwrap_err();
        assert!(err.to_string().contains("KTRDR_DATA_CACHE_BYTES"), "{err}");
    }

    #[test]
    fn ib_settings_and_host_service_mode() {
        let c = load(&[], Flags::default()).unwrap();
        assert_eq!(c.ib.address(), "127.0.0.1:4002");
        assert_eq!(c.ib.mode, ServiceMode::Local);
        let c = load(
            &[
                ("IB_HOST", "gw"),
                ("IB_PORT", "7497"),
                ("IB_CLIENT_ID", "42"),
                ("USE_IB_HOST_SERVICE", "true"),
                ("IB_HOST_SERVICE_URL", "/run/ib-host/ktrdrd.sock"),
            ],
            Flags::default(),
        )
        .unwrap();
        assert_eq!((c.ib.address(), c.ib.client_id), ("gw:7497".into(), 42));
        assert_eq!(
            c.ib.mode,
            ServiceMode::HostService {
                url: "unix:///run/ib-host/ktrdrd.sock".into()
            }
        );
        // The predecessor's HTTP host services are refused with what to do instead.
        let err = load(
            &[
                ("USE_IB_HOST_SERVICE", "true"),
                ("IB_HOST_SERVICE_URL", "http://host:5001"),
            ],
            Flags::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ssh -NL"), "{err}");
        assert_eq!(source(&c, "ib.use_host_service"), "env");
        let err = load(&[("USE_IB_HOST_SERVICE", "1")], Flags::default()).unwrap_err();
        assert!(err.to_string().contains("IB_HOST_SERVICE_URL"), "{err}");
        let err = load(&[("KTRDR_IB_PACING_SCALE", "-1")], Flags::default()).unwrap_err();
        assert!(err.to_string().contains("pacing_scale"), "{err}");
        let c = load(&[], Flags::default()).unwrap();
        assert_eq!(
            (c.ib.flush_bars, c.ib.flush_after),
            (50_000, Duration::from_secs(1))
        );
        let err = load(&[("KTRDR_IB_FLUSH_BARS", "0")], Flags::default()).unwrap_err();
        assert!(err.to_string().contains("flush_bars"), "{err}");
    }

    #[test]
    fn unknown_file_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("k.toml");
        std::fs::write(&file, "data_dri = \"/x\"\n").unwrap();
        let err = load(
            &[],
            Flags {
                config: Some(file),
                ..Flags::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("data_dri"), "{err}");
    }
}
