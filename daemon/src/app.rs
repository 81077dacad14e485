//! Start-up in order: directories, socket, operations database, bar store, then serving. Shared by the `ktrdrd`
//! binary and by in-process benchmarks.

use crate::config::Config;
use crate::context::Daemon;
use crate::data::DataManager;
use crate::listener::{self, BindError, Bound};
use crate::ops::Registry;
use crate::service::backtest::BacktestService;
use crate::service::chart::ChartService;
use crate::service::data::DataService;
use crate::service::ib::IbService;
use crate::service::operations::OperationsService;
use crate::service::strategy::StrategyService;
use crate::service::system::SystemService;
use crate::service::training::TrainingService;
use crate::shutdown;
use ktrdr_protocol::ErrorKind;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Instant;

/// A start-up failure, with the kind that picks ktrdrd's exit code.
#[derive(Debug)]
pub struct StartError {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

impl From<BindError> for StartError {
    fn from(e: BindError) -> Self {
        let (kind, hint) = match &e {
            BindError::AlreadyRunning { .. } => (
                ErrorKind::Conflict,
                Some("stop it with `ktrdrctl daemon stop`, or pick another --socket".to_string()),
            ),
            BindError::NotASocket { .. } => (
                ErrorKind::Conflict,
                Some("move the file away or pick another --socket".into()),
            ),
            BindError::Activation(_) => (ErrorKind::Configuration, None),
            BindError::Dir { .. } | BindError::Bind { .. } => (ErrorKind::Configuration, None),
        };
        StartError {
            kind,
            message: e.to_string(),
            hint,
        }
    }
}

pub struct Prepared {
    pub daemon: Arc<Daemon>,
    pub bound: Bound,
    /// The `/metrics` listener, bound when `metrics.listen` is set.
    pub metrics: Option<tokio::net::TcpListener>,
    pub signal: shutdown::Signal,
    _state_lock: std::fs::File,
}

/// Everything up to (not including) accepting connections. Must run inside a tokio runtime.
/// `inherited` is the socket from [`listener::take_inherited`], taken before the runtime started.
pub fn prepare(config: Config, inherited: Option<OwnedFd>) -> Result<Prepared, StartError> {
    let started = Instant::now();
    for dir in [&config.data_dir, &config.state_dir] {
        std::fs::create_dir_all(dir).map_err(|e| StartError {
            kind: ErrorKind::Configuration,
            message: format!("cannot create {}: {e}", dir.display()),
            hint: Some("set KTRDR_DATA_DIR / KTRDR_STATE_DIR to writable directories".into()),
        })?;
    }
    let bound = match inherited {
        Some(fd) => listener::adopt(fd, &config.socket)?,
        None => listener::bind(&config.socket)?,
    };
    let state_lock = match lock_state_dir(&config.state_dir) {
        Ok(l) => l,
        Err(e) => {
            bound.remove_socket_file();
            return Err(e);
        }
    };
    let mut config = config;
    if bound.activated {
        config.socket = bound.path.clone();
    }
    let config = Arc::new(config);
    let registry =
        Registry::open(&config.ops_db(), config.ops.clone()).map_err(|e| StartError {
            kind: ErrorKind::Configuration,
            message: e.message,
            hint: Some(format!(
                "is {} writable and not corrupted?",
                config.ops_db().display()
            )),
        })?;
    let metrics = match config.metrics_listen {
        None => None,
        Some(addr) => match crate::telemetry::http::bind(addr) {
            Ok(l) => Some(l),
            Err(e) => {
                bound.remove_socket_file();
                return Err(StartError {
                    kind: ErrorKind::Configuration,
                    message: format!("cannot listen for metrics on {addr}: {e}"),
                    hint: Some(
                        "pick a free address:port for metrics.listen (KTRDR_METRICS_LISTEN), or leave it empty".into(),
                    ),
                });
            }
        },
    };
    let (trigger, signal) = shutdown::channel();
    let data = DataManager::open(config.data_dir.clone(), config.data_cache_bytes);
    let models = model_store(&config);
    let training = TrainingService::new(
        Arc::clone(&models.0),
        config.training.clone(),
        Arc::clone(&data),
        Arc::clone(&registry),
        config.state_dir.join("checkpoints"),
    );
    training
        .counters
        .temporaries_removed
        .store(models.1 as u64, std::sync::atomic::Ordering::Relaxed);
    let gateway = crate::ib::Gateway::new(config.ib.clone());
    let live = crate::service::live::LiveService::new(
        crate::live::LiveManager::new(
            crate::live::stream::Env {
                gateway: Arc::clone(&gateway),
                data: Arc::clone(&data),
                registry: Arc::clone(&registry),
                stall_bars: config.live.stall_bars,
                stall_after: config.test_knobs.live_stall,
            },
            config.live.follow_buffer,
            &config.state_dir,
        ),
        Arc::clone(&models.0),
        Arc::clone(&data),
        config.training.torch_threads,
    );
    let sweep = crate::service::sweep::SweepService::new(crate::sweep::run::Env {
        registry: Arc::clone(&registry),
        data: Arc::clone(&data),
        store: Arc::clone(&models.0),
        config: config.sweep.clone(),
        device: config.training.device.clone(),
        threads: config.training.torch_threads,
        slots: Arc::new(tokio::sync::Semaphore::new(
            config.sweep.max_parallel.max(1),
        )),
        counters: Default::default(),
        slurm: Some(crate::sweep::slurm::Cluster::new(&config.sweep.slurm)),
    });
    let daemon = Arc::new(Daemon {
        system: SystemService::new(Arc::clone(&config), bound.activated),
        ib: IbService::new(gateway, Arc::clone(&data), Arc::clone(&registry)),
        live,
        strategy: StrategyService::new(Arc::clone(&data)),
        backtest: backtest_service(&config, &data, &models.0, &registry),
        chart: ChartService::new(
            Arc::clone(&data),
            Arc::new(crate::backtest::Results::new(&config.state_dir)),
            Arc::clone(&registry),
            config.chart.js_dir.clone(),
        ),
        training,
        sweep,
        data: DataService::new(Arc::clone(&data), Arc::clone(&registry)),
        operations: OperationsService::new(registry, config.ops_db()),
        config,
        started,
        started_ms: crate::time::now_ms(),
        pid: std::process::id(),
        shutdown: trigger,
        requests: Default::default(),
    });
    Ok(Prepared {
        daemon,
        bound,
        metrics,
        signal,
        _state_lock: state_lock,
    })
}

/// The model store, with what interrupted saves left behind removed (they were never visible),
/// and how many there were.
fn model_store(config: &Config) -> (Arc<ktrdr_train::ModelStore>, usize) {
    let mut store = ktrdr_train::ModelStore::new(&config.data_dir);
    store.save_pause = config.test_knobs.model_save_pause;
    let store = Arc::new(store);
    let removed = store.clean_temporaries();
    if removed > 0 {
        tracing::info!(removed, "removed unfinished model saves");
    }
    (store, removed)
}

/// Saved backtest results, with what interrupted saves left behind removed.
fn backtest_service(
    config: &Config,
    data: &Arc<DataManager>,
    models: &Arc<ktrdr_train::ModelStore>,
    registry: &Arc<Registry>,
) -> BacktestService {
    let results = Arc::new(crate::backtest::Results::new(&config.state_dir));
    let removed = results.clean_temporaries();
    if removed > 0 {
        tracing::info!(removed, "removed unfinished backtest result files");
    }
    BacktestService::new(
        results,
        config.backtest.mode.clone(),
        config.training.torch_threads,
        Arc::clone(data),
        Arc::clone(models),
        Arc::clone(registry),
    )
}

/// One daemon per state directory: two would both mark each other's running operations interrupted
/// and race on the database. The lock is released by the kernel when the process ends, however it ends.
fn lock_state_dir(dir: &std::path::Path) -> Result<std::fs::File, StartError> {
    use std::io::{Read, Seek, Write};
    let path = dir.join("ktrdrd.lock");
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StartError {
            kind: ErrorKind::Configuration,
            message: format!("cannot open {}: {e}", path.display()),
            hint: None,
        })?;
    if file.try_lock().is_err() {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        return Err(StartError {
            kind: ErrorKind::Conflict,
            message: format!(
                "another ktrdrd (pid {}) is using the state directory {}",
                pid.trim(),
                dir.display()
            ),
            hint: Some("stop it first, or give this daemon its own --state-dir".into()),
        });
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    Ok(file)
}

/// Serves until shutdown, with systemd notifications and watchdog pings when enabled.
pub async fn serve(p: Prepared) {
    let Prepared {
        daemon,
        bound,
        metrics,
        signal,
        _state_lock,
    } = p;
    if let Some(listener) = metrics {
        tokio::spawn(crate::telemetry::http::serve(
            listener,
            Arc::clone(&daemon),
            signal.clone(),
        ));
    }
    if let Some(every) = crate::notify::watchdog_interval() {
        let mut s = signal.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => crate::notify::watchdog_ping(),
                    _ = s.fired() => break,
                }
            }
        });
    }
    // The saved subscriptions are back before the first request is answered (a client asking at
    // once sees them); their streams start in the background and connect to IB.
    daemon.live.resume().await;
    // Sweeps a previous daemon left interrupted continue by themselves (their finished cells are
    // kept; the others resume from their checkpoints).
    daemon.sweep.resume_interrupted().await;
    crate::notify::ready(&format!("serving on {}", bound.path.display()));
    crate::server::run(daemon, bound, signal).await;
}
