//! `ktrdrd`, the long-lived ktrdr daemon.
//!
//! It holds everything that is expensive to set up (the socket, the operations database, the IB
//! connection, the torch context, the bar cache) so that each `ktrdrctl` command costs one round
//! trip over a local socket instead of a process start-up and a fresh connection.
//!
//! Every request follows one path: handler ([`cmd`]) -> service ([`service`]) -> manager (the
//! business rules of its module: [`data`], [`ib`], [`training`], [`backtest`], [`strategy`]) ->
//! adapter (files, the IB connection, torch, or a host service through [`host`]).
//!
//! Layout, from the outside in:
//! - [`config`]: settings declared once, loaded from defaults, a TOML file, the environment and
//!   flags, each with its source.
//! - [`listener`]: binding the socket (0600 in a 0700 directory, stale-socket detection, one daemon per
//!   socket via a lock file) or adopting a socket-activated one.
//! - [`server`]: the accept loop with a bound on connections and the graceful shutdown.
//! - [`shutdown`]: the signal every task listens to.
//! - [`handler`]: one connection: peer-uid check, handshake, then request after request.
//! - [`cmd`]: one file per command group, mini-redis style: a handler takes its typed request whole
//!   and calls its service; it never touches a manager, store or peer.
//! - [`service`]: the shared [`service::Service`] trait (name, configuration info, health, statistics)
//!   and the services, whose methods are what handlers call.
//! - [`host`]: the one host-service adapter: a delegable service's operations run here or on
//!   another ktrdrd, decided once from configuration ([`peer`] is the connection to it).
//! - [`data`]: the `data` service's manager and input checks (the files and cache are `ktrdr-store`).
//! - [`ib`]: the IB gateway connection, pacing and historical loads.
//! - [`strategy`]: strategy files and computed indicator and fuzzy columns.
//! - [`training`]: trainings as operations on their own OS threads (libtorch through `ktrdr-train`).
//! - [`backtest`]: backtests as operations (the pure `ktrdr-backtest` engine fed with model scores)
//!   and their saved results.
//! - [`sweep`]: sweeps (grid x symbols x timeframes x walk-forward windows; planned by the pure
//!   `ktrdr-sweep`), their cells run here or as a Slurm job array, and `ktrdrd job run`, the
//!   one-shot worker a Slurm task runs.
//! - [`ops`]: long-running operations (progress, cancel, queueing, SQLite-backed history).
//! - [`blocking`]: CPU-heavy work off the runtime.
//! - [`notify`]: sd_notify readiness, status and watchdog for systemd.
//! - [`context`]: the [`context::Daemon`] value every handler shares.
//! - [`telemetry`]: Prometheus metrics (the `/metrics` listener, `stats --format prometheus`) and
//!   the log formats.
//!
//! Trading-domain code (indicators, fuzzy sets, backtest engine) does not live here: it is kept pure
//! in its own crates, and services here feed it data and wrap it in operations.

pub mod app;
pub mod backtest;
pub mod blocking;
pub mod chart;
pub mod cmd;
pub mod config;
pub mod context;
pub mod data;
pub mod handler;
pub mod host;
pub mod ib;
pub mod listener;
pub mod live;
pub mod notify;
pub mod ops;
pub mod peer;
pub mod server;
pub mod service;
pub mod shutdown;
pub mod strategy;
pub mod sweep;
pub mod telemetry;
pub mod time;
pub mod training;
