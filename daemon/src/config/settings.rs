//! Every setting, declared once: its key in `ktrdrd.toml`, its environment variable, its flag if
//! it has one, its default, unit and help, the service it configures, and how its value is parsed
//! and checked. Loading (`super::load`), `ktrdrctl config`, the environment list of each service
//! in `ktrdrctl status` and `docs/configuration.md` (`super::docs`) are all derived from [`ALL`],
//! so none of them can list a setting the others miss.

use super::values::{ByteSize, Flag, FsPath, Limits, Secs, SettingValue};
use crate::telemetry::logging::LogFormat;
use ktrdr_protocol::model::EnvVar;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The service a setting configures; its variables are listed under that service by
/// `ktrdrctl status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    System,
    Operations,
    Data,
    Ib,
    Training,
    Backtest,
    Live,
    Chart,
    Sweep,
}

impl Section {
    pub const EVERY: [Section; 9] = [
        Section::System,
        Section::Operations,
        Section::Data,
        Section::Ib,
        Section::Training,
        Section::Backtest,
        Section::Live,
        Section::Chart,
        Section::Sweep,
    ];

    /// The service's name, as `ktrdrctl status` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Section::System => "system",
            Section::Operations => "operations",
            Section::Data => "data",
            Section::Ib => "ib",
            Section::Training => "training",
            Section::Backtest => "backtest",
            Section::Live => "live",
            Section::Chart => "chart",
            Section::Sweep => "sweep",
        }
    }

    /// The settings of this section, in declaration order.
    pub fn settings(self) -> impl Iterator<Item = &'static Meta> {
        ALL.iter()
            .map(|d| d.meta())
            .filter(move |m| m.section == self)
    }

    /// The variables of this section with their values, for the service's `info()`. Read from
    /// the process environment the same way `Config::load` read them; the daemon never changes
    /// these variables, so they are the values the configuration was loaded from.
    pub fn env(self) -> Vec<EnvVar> {
        self.settings()
            .map(|m| EnvVar {
                name: m.env.to_string(),
                value: process_env(m.env),
            })
            .collect()
    }
}

/// How the daemon reads a variable: unset and empty are the same (a unit file's `Environment=X=`
/// clears a setting).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// What every setting has, whatever its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// In the TOML file: `name` at the top, or `table.name`.
    pub key: &'static str,
    pub env: &'static str,
    pub flag: Option<&'static str>,
    pub section: Section,
    /// Empty when the kind says it all.
    pub unit: &'static str,
    pub help: &'static str,
}

impl Meta {
    /// The `[table]` of the key in the file, and the name within it.
    pub fn file_path(&self) -> (Option<&'static str>, &'static str) {
        match self.key.split_once('.') {
            Some((table, name)) => (Some(table), name),
            None => (None, self.key),
        }
    }
}

/// What defaults are computed from (read from the environment when loading).
#[derive(Debug, Clone)]
pub struct Defaults {
    pub runtime_dir: Option<String>,
    /// `$XDG_DATA_HOME`, else `~/.local/share`.
    pub data_home: PathBuf,
    /// `$XDG_STATE_HOME`, else `~/.local/state`.
    pub state_home: PathBuf,
    /// `$XDG_CACHE_HOME`, else `~/.cache`.
    pub cache_home: PathBuf,
    pub cores: usize,
}

/// A setting of type `T`.
pub struct Decl<T: 'static> {
    pub meta: Meta,
    default: fn(&Defaults) -> T,
    /// For defaults that depend on the machine or the environment: what the docs say instead.
    default_doc: Option<&'static str>,
    check: fn(&T) -> Result<(), String>,
}

fn no_check<T>(_: &T) -> Result<(), String> {
    Ok(())
}

impl<T: SettingValue> Decl<T> {
    pub const fn new(
        key: &'static str,
        env: &'static str,
        section: Section,
        default: fn(&Defaults) -> T,
        help: &'static str,
    ) -> Self {
        Decl {
            meta: Meta {
                key,
                env,
                flag: None,
                section,
                unit: "",
                help,
            },
            default,
            default_doc: None,
            check: no_check::<T>,
        }
    }

    pub const fn flag(mut self, flag: &'static str) -> Self {
        self.meta.flag = Some(flag);
        self
    }

    pub const fn unit(mut self, unit: &'static str) -> Self {
        self.meta.unit = unit;
        self
    }

    pub const fn check(mut self, check: fn(&T) -> Result<(), String>) -> Self {
        self.check = check;
        self
    }

    pub const fn default_doc(mut self, doc: &'static str) -> Self {
        self.default_doc = Some(doc);
        self
    }

    pub fn default_value(&self, d: &Defaults) -> T {
        (self.default)(d)
    }

    pub fn validate(&self, value: &T) -> Result<(), String> {
        (self.check)(value)
    }
}

/// A declaration seen without its type: what the docs and the listings need.
pub trait Declared: Sync {
    fn meta(&self) -> &Meta;
    fn kind(&self) -> &'static str;
    /// The default as the docs show it.
    fn default_doc(&self, d: &Defaults) -> String;
    /// The default, as `ktrdrctl config` would print it, and whether it passes the check.
    fn default_checked(&self, d: &Defaults) -> Result<String, String>;
}

impl<T: SettingValue> Declared for Decl<T> {
    fn meta(&self) -> &Meta {
        &self.meta
    }
    fn kind(&self) -> &'static str {
        T::KIND
    }
    fn default_doc(&self, d: &Defaults) -> String {
        match self.default_doc {
            Some(doc) => doc.to_string(),
            None => format!("`{}`", self.default_value(d)),
        }
    }
    fn default_checked(&self, d: &Defaults) -> Result<String, String> {
        let v = self.default_value(d);
        self.validate(&v)?;
        Ok(v.to_string())
    }
}

fn at_least_one(n: &usize) -> Result<(), String> {
    if *n == 0 {
        Err("must be at least 1".into())
    } else {
        Ok(())
    }
}

fn flush_bars_check(n: &usize) -> Result<(), String> {
    at_least_one(n).map_err(|_| "must be at least 1 (1 writes after every segment)".into())
}

/// Empty (off) or an `address:port` to bind.
pub fn listen_address(text: &str) -> Result<Option<std::net::SocketAddr>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse().map(Some).map_err(|_| {
        format!("{t:?} is not an address:port like 127.0.0.1:9464 or [::1]:9464 (empty turns the listener off)")
    })
}

// A check is `fn(&T)` for a setting of type `T`, here `String`.
#[allow(clippy::ptr_arg)]
fn listen_check(text: &String) -> Result<(), String> {
    listen_address(text).map(|_| ())
}

fn pacing_scale_check(x: &f64) -> Result<(), String> {
    if x.is_finite() && (0.0..=100.0).contains(x) {
        Ok(())
    } else {
        Err("must be between 0 (pacing off) and 100".into())
    }
}

/// The switch of a delegable service's host-service mode; the same for every such service.
const fn use_host_service(
    key: &'static str,
    env: &'static str,
    section: Section,
    help: &'static str,
) -> Decl<Flag> {
    Decl::new(key, env, section, |_| Flag(false), help)
}

/// The socket of a delegable service's host; read only when its switch is on.
const fn host_service_url(key: &'static str, env: &'static str, section: Section) -> Decl<String> {
    Decl::new(
        key,
        env,
        section,
        |_| String::new(),
        "the host ktrdrd's socket, unix:///path/to/ktrdrd.sock (another machine: forward its socket with ssh -NL); used when the switch above is on",
    )
    .default_doc("empty")
}

/// Declares each setting as a `static` and lists them all in [`ALL`], from one list.
macro_rules! settings {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $decl:expr;)*) => {
        $($(#[$doc])* pub static $name: Decl<$ty> = $decl;)*
        /// Every setting, in the order `ktrdrctl config` and the docs list them.
        pub static ALL: &[&dyn Declared] = &[$(&$name),*];
    };
}

settings! {
    SOCKET: FsPath = Decl::new(
        "socket", "KTRDR_SOCKET", Section::System,
        |d| FsPath(ktrdr_protocol::socket_path::default_path(d.runtime_dir.clone())),
        "the socket ktrdrctl connects to (ktrdrctl reads KTRDR_SOCKET too); ignored under socket activation",
    )
    .flag("--socket")
    .default_doc("`$XDG_RUNTIME_DIR/ktrdr/ktrdrd.sock`, else `$TMPDIR/ktrdr-<uid>/ktrdrd.sock` (macOS: `~/Library/Application Support/ktrdr/run/ktrdrd.sock`)");
    DATA_DIR: FsPath = Decl::new(
        "data_dir", "KTRDR_DATA_DIR", Section::Data,
        |d| FsPath(d.data_home.join("ktrdr")),
        "bars and models",
    )
    .flag("--data-dir")
    .default_doc("`$XDG_DATA_HOME/ktrdr` (`~/.local/share/ktrdr`)");
    STATE_DIR: FsPath = Decl::new(
        "state_dir", "KTRDR_STATE_DIR", Section::System,
        |d| FsPath(d.state_home.join("ktrdr")),
        "operations database, backtest results, the one-daemon lock",
    )
    .flag("--state-dir")
    .default_doc("`$XDG_STATE_HOME/ktrdr` (`~/.local/state/ktrdr`)");
    MAX_CONNECTIONS: usize = Decl::new(
        "max_connections", "KTRDR_MAX_CONNECTIONS", Section::System, |_| 1024,
        "open connections; more are told busy",
    )
    .check(at_least_one);
    HANDSHAKE_TIMEOUT: Secs = Decl::new(
        "handshake_timeout_secs", "KTRDR_HANDSHAKE_TIMEOUT_SECS", Section::System,
        |_| Secs(std::time::Duration::from_secs(5)),
        "a client that sends no handshake in time is closed",
    );
    IDLE_TIMEOUT: Secs = Decl::new(
        "idle_timeout_secs", "KTRDR_IDLE_TIMEOUT_SECS", Section::System,
        |_| Secs(std::time::Duration::from_secs(300)),
        "an idle connection is closed after this long",
    );
    SHUTDOWN_GRACE: Secs = Decl::new(
        "shutdown_grace_secs", "KTRDR_SHUTDOWN_GRACE_SECS", Section::System,
        |_| Secs(std::time::Duration::from_secs(10)),
        "on shutdown, time for operations to stop, then for connections to finish",
    );
    LOG: String = Decl::new(
        "log", "KTRDR_LOG", Section::System, |_| "info".into(),
        "tracing filter, e.g. debug or info,ktrdr_daemon::server=debug",
    )
    .flag("--log");
    LOG_FORMAT: LogFormat = Decl::new(
        "log_format", "KTRDR_LOG_FORMAT", Section::System, |_| LogFormat::Human,
        "human (one line per event) or json (one object per event, with the request's service and kind and the operation's id as fields); under systemd lines carry journald priorities",
    )
    .flag("--log-format");
    METRICS_LISTEN: String = Decl::new(
        "metrics.listen", "KTRDR_METRICS_LISTEN", Section::System, |_| String::new(),
        "address:port of an HTTP listener serving Prometheus metrics at /metrics only, e.g. 127.0.0.1:9464 (loopback unless you write another address); empty: off (docs/metrics.md)",
    )
    .check(listen_check)
    .default_doc("empty (off)");

    OPS_KEEP_FINISHED: usize = Decl::new(
        "operations.keep_finished", "KTRDR_OPS_KEEP_FINISHED", Section::Operations, |_| 1000,
        "finished operation records kept; older ones are pruned",
    )
    .unit("records");
    OPS_DEFAULT_LIMIT: usize = Decl::new(
        "operations.default_limit", "KTRDR_OPS_DEFAULT_LIMIT", Section::Operations,
        |d| d.cores,
        "concurrent operations of a kind that has no limit of its own; more queue",
    )
    .default_doc("number of cores");
    OPS_LIMITS: Limits = Decl::new(
        "operations.limits", "KTRDR_OPS_LIMITS", Section::Operations,
        // Each training already spreads its larger tensor operations over torch's threads.
        |d| Limits(BTreeMap::from([
            ("demo".to_string(), 4),
            ("training".to_string(), (d.cores / 2).max(1)),
        ])),
        "concurrent operations per kind (demo, training, ib_load, backtest, ...)",
    )
    .default_doc("`demo=4,training=N` (N: half the cores, at least 1)");

    DATA_CACHE_BYTES: ByteSize = Decl::new(
        "data.cache_bytes", "KTRDR_DATA_CACHE_BYTES", Section::Data,
        |_| ByteSize(512 * 1024 * 1024),
        "memory the bar cache may hold; least recently used series are evicted beyond it",
    )
    .default_doc("`512MiB`");

    IB_HOST: String = Decl::new(
        "ib.host", "IB_HOST", Section::Ib, |_| "127.0.0.1".into(),
        "TWS / IB Gateway host",
    );
    IB_PORT: u16 = Decl::new(
        "ib.port", "IB_PORT", Section::Ib, |_| 4002,
        "TWS / IB Gateway API port (paper gateway: 4002)",
    );
    IB_CLIENT_ID: i32 = Decl::new(
        "ib.client_id", "IB_CLIENT_ID", Section::Ib, |_| 1,
        "API client id; one connection per id",
    );
    IB_CONNECT_TIMEOUT: Secs = Decl::new(
        "ib.connect_timeout_secs", "KTRDR_IB_CONNECT_TIMEOUT_SECS", Section::Ib,
        |_| Secs(std::time::Duration::from_secs(5)),
        "bounds the TCP connect and the handshake, which ibapi would wait on forever",
    );
    IB_REQUEST_TIMEOUT: Secs = Decl::new(
        "ib.request_timeout_secs", "KTRDR_IB_REQUEST_TIMEOUT_SECS", Section::Ib,
        |_| Secs(std::time::Duration::from_secs(60)),
        "bounds every request; ibapi has no default timeout on contract details or history",
    );
    IB_PACING_SCALE: f64 = Decl::new(
        "ib.pacing_scale", "KTRDR_IB_PACING_SCALE", Section::Ib, |_| 1.0,
        "multiplies every pacing window: 1 is IB's rules, 0 turns pacing off; below 1 only for tests and benchmarks against a fake gateway",
    )
    .check(pacing_scale_check);
    IB_FLUSH_BARS: usize = Decl::new(
        "ib.flush_bars", "KTRDR_IB_FLUSH_BARS", Section::Ib, |_| 50_000,
        "a load writes its fetched bars once this many are pending (1: after every segment)",
    )
    .unit("bars")
    .check(flush_bars_check);
    IB_FLUSH_SECS: Secs = Decl::new(
        "ib.flush_secs", "KTRDR_IB_FLUSH_SECS", Section::Ib,
        |_| Secs(std::time::Duration::from_secs(1)),
        "... or once the oldest pending bar has waited this long, so a crash loses little",
    );
    IB_USE_HOST_SERVICE: Flag = use_host_service(
        "ib.use_host_service", "USE_IB_HOST_SERVICE", Section::Ib,
        "reach IB through another ktrdrd (the IB host, which owns the gateway connection) instead of connecting here",
    );
    IB_HOST_SERVICE_URL: String = host_service_url(
        "ib.host_service_url", "IB_HOST_SERVICE_URL", Section::Ib,
    );

    TRAINING_DEVICE: String = Decl::new(
        "training.device", "KTRDR_TRAINING_DEVICE", Section::Training, |_| "auto".into(),
        "auto (CUDA when available), cpu, cuda or cuda:N; a request's --device overrides it",
    );
    TORCH_THREADS: usize = Decl::new(
        "training.torch_threads", "KTRDR_TORCH_THREADS", Section::Training, |_| 1,
        "torch intra-op threads of each training, prediction and backtest scoring (docs/training.md: more made small models slower on a busy machine)",
    )
    .unit("threads")
    .check(at_least_one);
    TRAINING_USE_HOST_SERVICE: Flag = use_host_service(
        "training.use_host_service", "USE_TRAINING_HOST_SERVICE", Section::Training,
        "run trainings on another ktrdrd (the training host, e.g. the GPU machine); models are copied back here",
    );
    TRAINING_HOST_SERVICE_URL: String = host_service_url(
        "training.host_service_url", "TRAINING_HOST_SERVICE_URL", Section::Training,
    );

    BACKTEST_USE_HOST_SERVICE: Flag = use_host_service(
        "backtest.use_host_service", "USE_BACKTEST_HOST_SERVICE", Section::Backtest,
        "run backtests on another ktrdrd (the backtest host)",
    );
    BACKTEST_HOST_SERVICE_URL: String = host_service_url(
        "backtest.host_service_url", "BACKTEST_HOST_SERVICE_URL", Section::Backtest,
    );

    LIVE_FOLLOW_BUFFER: usize = Decl::new(
        "live.follow_buffer", "KTRDR_LIVE_FOLLOW_BUFFER", Section::Live, |_| 256,
        "stored batches of closed bars a follower may be behind (data follow, predict --follow); one further and it is dropped with a fell_behind error (resume with --since)",
    )
    .unit("batches")
    .check(at_least_one);
    LIVE_STALL_BARS: usize = Decl::new(
        "live.stall_bars", "KTRDR_LIVE_STALL_BARS", Section::Live, |_| 2,
        "a subscription with no closed bar for this many timeframes while its calendar says the market is open is reported stalled and requested again",
    )
    .unit("bars")
    .check(at_least_one);
    CHART_JS_DIR: FsPath = Decl::new(
        "chart.js_dir", "KTRDR_CHART_JS_DIR", Section::Chart,
        |d| FsPath(d.cache_home.join("ktrdr").join(crate::chart::LIGHTWEIGHT_CHARTS_DIR)),
        "where the interactive charts' lightweight-charts build and its LICENSE are (scripts/fetch-charts-js.sh puts them there; HTML charts fail with a hint when they are missing)",
    )
    .default_doc("`$XDG_CACHE_HOME/ktrdr/lightweight-charts-5.3.0` (`~/.cache/ktrdr/...`)");

    SWEEPS_EXECUTOR: ktrdr_protocol::sweep::Executor = Decl::new(
        "sweeps.executor", "KTRDR_SWEEPS_EXECUTOR", Section::Sweep,
        |_| ktrdr_protocol::sweep::Executor::Local,
        "where a sweep's cells run unless `sweep run --executor` says: local (this daemon) or slurm (one job array; docs/sweeps.md)",
    );
    SWEEPS_MAX_PARALLEL: usize = Decl::new(
        "sweeps.max_parallel", "KTRDR_SWEEPS_MAX_PARALLEL", Section::Sweep, |d| d.cores,
        "cells of a local sweep running at once (each trains with training.torch_threads); a sweep file's max_parallel overrides it",
    )
    .unit("cells")
    .check(at_least_one)
    .default_doc("number of cores");
    SLURM_PARTITION: String = Decl::new(
        "slurm.partition", "KTRDR_SLURM_PARTITION", Section::Sweep, |_| String::new(),
        "sbatch --partition; checked against sinfo before anything is submitted",
    )
    .default_doc("empty (the cluster's default partition)");
    SLURM_ACCOUNT: String = Decl::new(
        "slurm.account", "KTRDR_SLURM_ACCOUNT", Section::Sweep, |_| String::new(),
        "sbatch --account",
    )
    .default_doc("empty (none)");
    SLURM_TIME_LIMIT: String = Decl::new(
        "slurm.time_limit", "KTRDR_SLURM_TIME_LIMIT", Section::Sweep, |_| String::new(),
        "sbatch --time of each task, e.g. 02:00:00",
    )
    .default_doc("empty (the partition's default)");
    SLURM_CPUS_PER_TASK: usize = Decl::new(
        "slurm.cpus_per_task", "KTRDR_SLURM_CPUS_PER_TASK", Section::Sweep, |_| 1,
        "sbatch --cpus-per-task; each task trains with this many torch threads",
    )
    .unit("cpus")
    .check(at_least_one);
    SLURM_MEM: String = Decl::new(
        "slurm.mem", "KTRDR_SLURM_MEM", Section::Sweep, |_| String::new(),
        "sbatch --mem of each task, e.g. 4G",
    )
    .default_doc("empty (the partition's default)");
    SLURM_GRES: String = Decl::new(
        "slurm.gres", "KTRDR_SLURM_GRES", Section::Sweep, |_| String::new(),
        "sbatch --gres, e.g. gpu:1 to give each task a GPU (the worker then trains on cuda)",
    )
    .default_doc("empty (none)");
    SLURM_EXTRA_ARGS: String = Decl::new(
        "slurm.extra_args", "KTRDR_SLURM_EXTRA_ARGS", Section::Sweep, |_| String::new(),
        "further sbatch arguments, separated by spaces, e.g. --qos=long --constraint=avx2",
    )
    .default_doc("empty");
    SLURM_SHARED_DIR: String = Decl::new(
        "slurm.shared_dir", "KTRDR_SLURM_SHARED_DIR", Section::Sweep, |_| String::new(),
        "where sweeps keep their cells' specs, checkpoints, progress, results and logs; on a cluster it must be on the filesystem every node mounts, like data_dir",
    )
    .default_doc("empty (`<state_dir>/sweeps`)");
    SLURM_WORKER: String = Decl::new(
        "slurm.worker", "KTRDR_SLURM_WORKER", Section::Sweep, |_| String::new(),
        "the ktrdrd binary the tasks run (`ktrdrd job run SPEC`), as the compute nodes see it",
    )
    .default_doc("empty (this ktrdrd's own path)");
    SLURM_POLL: Secs = Decl::new(
        "slurm.poll_secs", "KTRDR_SLURM_POLL_SECS", Section::Sweep,
        |_| Secs(std::time::Duration::from_secs(2)),
        "how often a Slurm sweep reads squeue and its tasks' progress files",
    );
}

/// Variables ktrdrd reads that are not settings: where the defaults live, and what service
/// managers pass. Listed in the docs; a test checks no other variable is read outside the
/// configuration.
pub static OTHER_ENV: &[(&str, &str)] = &[
    (
        "HOME",
        "base of the defaults below when an XDG variable is unset",
    ),
    (
        "XDG_CONFIG_HOME",
        "the file: `$XDG_CONFIG_HOME/ktrdr/ktrdrd.toml` (`~/.config/ktrdr/ktrdrd.toml`) unless `--config FILE`",
    ),
    ("XDG_DATA_HOME", "default `data_dir`"),
    ("XDG_STATE_HOME", "default `state_dir`"),
    ("XDG_CACHE_HOME", "default `chart.js_dir`"),
    ("XDG_RUNTIME_DIR", "default `socket`"),
    ("TMPDIR", "default `socket` when `XDG_RUNTIME_DIR` is unset"),
    (
        "LISTEN_FDS",
        "socket activation (systemd, launchd), with `LISTEN_PID`",
    ),
    (
        "LISTEN_PID",
        "socket activation: the process the socket is for",
    ),
    (
        "NOTIFY_SOCKET",
        "systemd readiness and status notifications",
    ),
    (
        "WATCHDOG_USEC",
        "systemd watchdog interval, with `WATCHDOG_PID`",
    ),
    ("WATCHDOG_PID", "systemd watchdog: the process it is for"),
    (
        "SLURM_ARRAY_JOB_ID",
        "`ktrdrd job run` in a Slurm task: the array job, for the cell's record",
    ),
    (
        "SLURM_ARRAY_TASK_ID",
        "`ktrdrd job run` in a Slurm task: the task (the cell), for the cell's record",
    ),
    (
        "SLURMD_NODENAME",
        "`ktrdrd job run` in a Slurm task: the node it ran on, for the cell's record",
    ),
    (
        "JOURNAL_STREAM",
        "under journald: log lines with sd-daemon priority prefixes (`<3>` ... `<7>`), no time or colour",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn defaults(cores: usize) -> Defaults {
        Defaults {
            runtime_dir: Some(format!("/run/user/{cores}")),
            data_home: PathBuf::from(format!("/d{cores}")),
            state_home: PathBuf::from(format!("/s{cores}")),
            cache_home: PathBuf::from(format!("/c{cores}")),
            cores,
        }
    }

    #[test]
    fn keys_variables_and_flags_are_unique_and_well_formed() {
        let mut keys = BTreeSet::new();
        let mut vars = BTreeSet::new();
        for m in ALL.iter().map(|d| d.meta()) {
            assert!(keys.insert(m.key), "{} declared twice", m.key);
            assert!(vars.insert(m.env), "{} declared twice", m.env);
            assert!(
                m.env
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{}",
                m.env
            );
            assert!(!m.help.is_empty(), "{} has no help", m.key);
            assert!(
                m.key.matches('.').count() <= 1,
                "{}: one level of tables",
                m.key
            );
            if let Some(f) = m.flag {
                assert_eq!(f, format!("--{}", m.key.replace('_', "-")), "{}", m.key);
            }
        }
        for (name, _) in OTHER_ENV {
            assert!(!vars.contains(name), "{name} is a setting");
        }
    }

    #[test]
    fn every_default_passes_its_own_check() {
        for d in ALL {
            for cores in [1, 2, 64] {
                d.default_checked(&defaults(cores))
                    .unwrap_or_else(|e| panic!("{}: {e}", d.meta().key));
            }
        }
    }

    /// The docs must not depend on the machine they were generated on.
    #[test]
    fn documented_defaults_do_not_depend_on_the_machine() {
        for d in ALL {
            assert_eq!(
                d.default_doc(&defaults(1)),
                d.default_doc(&defaults(64)),
                "{}: give it a default_doc",
                d.meta().key
            );
        }
    }

    #[test]
    fn every_delegable_service_has_the_same_pair_of_host_service_settings() {
        for s in [Section::Ib, Section::Training, Section::Backtest] {
            let keys: Vec<&str> = s.settings().map(|m| m.key).collect();
            let upper = s.name().to_ascii_uppercase();
            for (name, env) in [
                ("use_host_service", format!("USE_{upper}_HOST_SERVICE")),
                ("host_service_url", format!("{upper}_HOST_SERVICE_URL")),
            ] {
                let key = format!("{}.{name}", s.name());
                let m = s.settings().find(|m| m.key == key);
                assert_eq!(m.map(|m| m.env), Some(env.as_str()), "{keys:?}");
            }
        }
    }

    #[test]
    fn sections_partition_the_settings() {
        let n: usize = Section::EVERY.iter().map(|s| s.settings().count()).sum();
        assert_eq!(n, ALL.len());
        assert_eq!(
            Section::EVERY.map(|s| s.name()),
            [
                "system",
                "operations",
                "data",
                "ib",
                "training",
                "backtest",
                "live",
                "chart",
                "sweep",
            ]
        );
    }
}
