//! Daemon configuration. Each setting comes from, in rising priority: a default, the TOML file
//! (`--config`, else `$XDG_CONFIG_HOME/ktrdr/ktrdrd.toml` if present), an environment variable, a flag.
//! The source of every value is kept so `ktrdrctl config` can show where it came from.
//!
//! - [`settings`]: every setting declared once (key, variable, flag, default, unit, help, service,
//!   check); everything else here is derived from it.
//! - [`load`]: the layering and the file's key check.
//! - [`values`]: the types settings are written in (byte sizes, limits, yes/no, seconds).
//! - [`host_service`]: [`ServiceMode`], where a delegable service runs, and host-service URLs.
//! - [`docs`]: `docs/configuration.md`, generated from the declarations.
//! - [`testing`]: knobs for the end-to-end tests, read by debug builds only.

pub mod docs;
pub mod host_service;
pub mod load;
pub mod settings;
pub mod testing;
pub mod values;

pub use host_service::{ServiceMode, parse_url};
pub use load::Flags;
pub use settings::Section;

use ktrdr_protocol::model::{ConfigReport, Setting};
use settings as s;
use std::collections::BTreeMap;
use std::path::PathBuf;
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
        // A sweep's cells are throttled by their sweep (`sweeps.max_parallel` for local cells;
        // Slurm cells use the cluster's cores, not this machine's), so the registry must not
        // queue them a second time unless the user asks for a limit.
        if kind == "sweep_cell" && !self.limits.contains_key(kind) {
            return usize::MAX;
        }
        self.limits
            .get(kind)
            .copied()
            .unwrap_or(self.default_limit)
            .max(1)
    }
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
    /// `Local`: this daemon's own gateway connection (`ib status` says `in_process`).
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

/// Live subscriptions and their followers (`crate::live`).
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub follow_buffer: usize,
    pub stall_bars: usize,
}

#[derive(Debug, Clone)]
pub struct ChartConfig {
    /// The lightweight-charts build the interactive charts inline.
    pub js_dir: PathBuf,
}

/// Sweeps (`crate::sweep`) and their Slurm executor.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    pub executor: ktrdr_protocol::sweep::Executor,
    pub max_parallel: usize,
    pub slurm: SlurmConfig,
}

#[derive(Debug, Clone)]
pub struct SlurmConfig {
    pub partition: Option<String>,
    pub account: Option<String>,
    pub time_limit: Option<String>,
    pub cpus_per_task: usize,
    pub mem: Option<String>,
    pub gres: Option<String>,
    pub extra_args: Vec<String>,
    /// Resolved: `slurm.shared_dir`, else `<state_dir>/sweeps`.
    pub shared_dir: PathBuf,
    /// Resolved: `slurm.worker`, else this executable.
    pub worker: PathBuf,
    pub poll: Duration,
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
    pub log_format: crate::telemetry::logging::LogFormat,
    /// Where the `/metrics` listener binds (`metrics.listen`); `None`: no listener.
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub ops: OpsConfig,
    /// Memory the bar cache may hold; least recently used series are evicted beyond it.
    pub data_cache_bytes: u64,
    pub ib: IbConfig,
    pub training: TrainingConfig,
    pub backtest: BacktestConfig,
    pub live: LiveConfig,
    pub chart: ChartConfig,
    pub sweep: SweepConfig,
    /// Empty in release builds.
    pub test_knobs: testing::TestKnobs,
    /// Every setting with its value and source, for `ktrdrctl config`, in declaration order.
    pub settings: Vec<Setting>,
    /// Every setting's environment variable and its value, in declaration order.
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
        Self::load_with(flags, settings::process_env)
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
            Some(path) => (Some(path.clone()), Some(load::File::read(path)?)),
            None => {
                let default = xdg("XDG_CONFIG_HOME", ".config")
                    .join("ktrdr")
                    .join("ktrdrd.toml");
                if default.exists() {
                    let parsed = load::File::read(&default)?;
                    (Some(default), Some(parsed))
                } else {
                    (None, None)
                }
            }
        };
        let defaults = settings::Defaults {
            runtime_dir: env("XDG_RUNTIME_DIR"),
            data_home: xdg("XDG_DATA_HOME", ".local/share"),
            state_home: xdg("XDG_STATE_HOME", ".local/state"),
            cache_home: xdg("XDG_CACHE_HOME", ".cache"),
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        };
        let mut l = load::Loader::new(&flags, &env, file.as_ref(), &defaults);
        // In declaration order, so `ktrdrctl config` lists settings as the docs do (a test
        // checks every declared setting is loaded exactly once, in that order).
        let socket = l.get(&s::SOCKET)?.0;
        let data_dir = l.get(&s::DATA_DIR)?.0;
        let state_dir = l.get(&s::STATE_DIR)?.0;
        let max_connections = l.get(&s::MAX_CONNECTIONS)?;
        let handshake_timeout = l.get(&s::HANDSHAKE_TIMEOUT)?.0;
        let idle_timeout = l.get(&s::IDLE_TIMEOUT)?.0;
        let shutdown_grace = l.get(&s::SHUTDOWN_GRACE)?.0;
        let log = l.get(&s::LOG)?;
        let log_format = l.get(&s::LOG_FORMAT)?;
        let metrics_listen =
            settings::listen_address(&l.get(&s::METRICS_LISTEN)?).map_err(|message| {
                ConfigError::Value {
                    name: s::METRICS_LISTEN.meta.key.into(),
                    value: String::new(),
                    message,
                }
            })?;
        let ops = OpsConfig {
            keep_finished: l.get(&s::OPS_KEEP_FINISHED)?,
            default_limit: l.get(&s::OPS_DEFAULT_LIMIT)?,
            limits: l.get(&s::OPS_LIMITS)?.0,
        };
        let data_cache_bytes = l.get(&s::DATA_CACHE_BYTES)?.0;
        let ib = IbConfig {
            host: l.get(&s::IB_HOST)?,
            port: l.get(&s::IB_PORT)?,
            client_id: l.get(&s::IB_CLIENT_ID)?,
            connect_timeout: l.get(&s::IB_CONNECT_TIMEOUT)?.0,
            request_timeout: l.get(&s::IB_REQUEST_TIMEOUT)?.0,
            pacing_scale: l.get(&s::IB_PACING_SCALE)?,
            flush_bars: l.get(&s::IB_FLUSH_BARS)?,
            flush_after: l.get(&s::IB_FLUSH_SECS)?.0,
            mode: l.service_mode(&s::IB_USE_HOST_SERVICE, &s::IB_HOST_SERVICE_URL)?,
        };
        let training = TrainingConfig {
            device: l.get(&s::TRAINING_DEVICE)?,
            torch_threads: l.get(&s::TORCH_THREADS)?,
            mode: l.service_mode(&s::TRAINING_USE_HOST_SERVICE, &s::TRAINING_HOST_SERVICE_URL)?,
        };
        let backtest = BacktestConfig {
            mode: l.service_mode(&s::BACKTEST_USE_HOST_SERVICE, &s::BACKTEST_HOST_SERVICE_URL)?,
        };
        let live = LiveConfig {
            follow_buffer: l.get(&s::LIVE_FOLLOW_BUFFER)?,
            stall_bars: l.get(&s::LIVE_STALL_BARS)?,
        };
        let chart = ChartConfig {
            js_dir: l.get(&s::CHART_JS_DIR)?.0,
        };
        let text = |v: String| Some(v.trim().to_string()).filter(|v| !v.is_empty());
        let sweep = SweepConfig {
            executor: l.get(&s::SWEEPS_EXECUTOR)?,
            max_parallel: l.get(&s::SWEEPS_MAX_PARALLEL)?,
            slurm: SlurmConfig {
                partition: text(l.get(&s::SLURM_PARTITION)?),
                account: text(l.get(&s::SLURM_ACCOUNT)?),
                time_limit: text(l.get(&s::SLURM_TIME_LIMIT)?),
                cpus_per_task: l.get(&s::SLURM_CPUS_PER_TASK)?,
                mem: text(l.get(&s::SLURM_MEM)?),
                gres: text(l.get(&s::SLURM_GRES)?),
                extra_args: l
                    .get(&s::SLURM_EXTRA_ARGS)?
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                shared_dir: text(l.get(&s::SLURM_SHARED_DIR)?)
                    .map(PathBuf::from)
                    .unwrap_or_else(|| state_dir.join("sweeps")),
                worker: text(l.get(&s::SLURM_WORKER)?)
                    .map(PathBuf::from)
                    .or_else(|| std::env::current_exe().ok())
                    .unwrap_or_else(|| PathBuf::from("ktrdrd")),
                poll: l.get(&s::SLURM_POLL)?.0,
            },
        };
        let test_knobs = testing::TestKnobs::load(&env)?;
        let (settings, env_read) = (l.settings, l.env_read);
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
            log_format,
            metrics_listen,
            ops,
            data_cache_bytes,
            ib,
            training,
            backtest,
            live,
            chart,
            sweep,
            test_knobs,
            settings,
            env_read,
        })
    }
}

#[cfg(test)]
mod tests;
