//! [`LiveManager`]: the subscriptions' business rules. One task per subscription
//! ([`super::stream`]); the list is saved on every change and started again at the next start.

use super::saved::{self, Saved};
use super::stream::{self, Env, Sub};
use crate::config::ServiceMode;
use crate::data::input::SeriesKey;
use crate::ib::gateway::Failure;
use ktrdr_market::Bars;
use ktrdr_protocol::live::{SubscriptionInfo, SubscriptionList};
use ktrdr_protocol::{ErrorKind, WireError};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// IB allows 50 historical requests open at once, and each subscription keeps one open (its
/// keep-up-to-date request); 10 stay free for loads and gap fills.
pub const MAX_SUBSCRIPTIONS: usize = 40;

pub struct LiveManager {
    env: Env,
    capacity: usize,
    path: PathBuf,
    subs: Mutex<BTreeMap<SeriesKey, Arc<Sub>>>,
    /// Serialises changes of the list and their save.
    changing: tokio::sync::Mutex<()>,
    pub load_error: Option<String>,
}

/// A follower's place in a feed: the stored bars it asked for, then the feed from there.
pub struct Follower {
    pub key: SeriesKey,
    /// Stored bars since `--since`, sent first.
    pub history: Option<(Arc<Bars>, std::ops::Range<usize>)>,
    /// Newest bar already sent (from history); feed bars up to it are skipped.
    pub sent_upto: Option<i64>,
    /// `--since`: feed bars before it are skipped too (a gap fill publishes older bars).
    pub since: Option<i64>,
    pub rx: broadcast::Receiver<super::feed::Batch>,
}

impl Follower {
    /// The next batch of bars to send, or why following ends.
    pub async fn next(&mut self) -> Result<Bars, WireError> {
        loop {
            match self.rx.recv().await {
                Ok(batch) => {
                    let from = match (self.sent_upto, self.since) {
                        (Some(u), Some(s)) if s > u => batch.ts().partition_point(|&t| t < s),
                        (Some(u), _) => batch.ts().partition_point(|&t| t <= u),
                        (None, Some(s)) => batch.ts().partition_point(|&t| t < s),
                        (None, None) => 0,
                    };
                    if from < batch.len() {
                        let out = batch.slice(from..batch.len());
                        self.sent_upto = out.last_ts();
                        return Ok(out);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    let resume = self
                        .sent_upto
                        .map(|t| t + self.key.timeframe.duration_ms())
                        .map(ktrdr_market::time::format_iso);
                    let hint = match resume {
                        Some(at) => format!(
                            "read faster (or follow fewer series); resume where you stopped with `--since {at}`"
                        ),
                        None => {
                            "read faster; resume with `--since TIME` to get the bars you missed"
                                .to_string()
                        }
                    };
                    return Err(WireError::new(
                        ErrorKind::FellBehind,
                        format!(
                            "this follower of {} fell behind: {n} batches of bars were dropped for it",
                            self.key
                        ),
                    )
                    .with_hint(hint));
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(WireError::cancelled(format!(
                        "{} is no longer followed: it was unsubscribed, or the daemon is stopping",
                        self.key
                    )));
                }
            }
        }
    }
}

impl LiveManager {
    pub fn new(env: Env, capacity: usize, state_dir: &std::path::Path) -> Arc<LiveManager> {
        let path = state_dir.join("subscriptions.json");
        Arc::new(LiveManager {
            env,
            capacity,
            path,
            subs: Mutex::new(BTreeMap::new()),
            changing: tokio::sync::Mutex::new(()),
            load_error: None,
        })
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn subs(&self) -> std::sync::MutexGuard<'_, BTreeMap<SeriesKey, Arc<Sub>>> {
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the saved subscriptions (at daemon start). A broken file is reported, not fatal.
    pub async fn resume(self: &Arc<Self>) -> Result<usize, String> {
        let saved = saved::read(&self.path)?;
        let mut n = 0;
        for s in saved {
            let Ok(key) = crate::data::input::key(&s.symbol, &s.timeframe) else {
                tracing::warn!(symbol = %s.symbol, timeframe = %s.timeframe, "skipping an invalid saved subscription");
                continue;
            };
            if let Err(e) = self.launch(key, s.since_ms).await {
                tracing::warn!(error = %e.message, "a saved subscription could not start");
            } else {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn launch(
        self: &Arc<Self>,
        key: SeriesKey,
        since_ms: u64,
    ) -> Result<Arc<Sub>, WireError> {
        let last = match self.env.data.load(&key).await {
            Ok(l) => l.bars.last_ts(),
            Err(e) if e.kind == ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let sub = Arc::new(Sub::new(key.clone(), since_ms, last, self.capacity));
        self.subs().insert(key.clone(), Arc::clone(&sub));
        tokio::spawn(stream::run(Arc::clone(&sub), self.env.clone()));
        tracing::info!(series = %key, "subscribed");
        Ok(sub)
    }

    fn save(&self) -> Result<(), WireError> {
        let list: Vec<Saved> = self
            .subs()
            .values()
            .map(|s| Saved {
                symbol: s.key.symbol.clone(),
                timeframe: s.key.timeframe.to_string(),
                since_ms: s.since_ms,
            })
            .collect();
        saved::write(&self.path, &list).map_err(|e| {
            WireError::internal(format!("cannot save {}: {e}", self.path.display()))
                .with_hint("is the state directory writable and not full?")
        })
    }

    pub async fn subscribe(
        self: &Arc<Self>,
        key: SeriesKey,
    ) -> Result<SubscriptionInfo, WireError> {
        if let ServiceMode::HostService { url } = &self.env.gateway.config().mode {
            return Err(WireError::unavailable(format!(
                "live subscriptions need this daemon's own IB connection; IB is reached through the IB host {url}"
            ))
            .with_hint("subscribe on the IB host (its store then holds the live bars), or unset USE_IB_HOST_SERVICE"));
        }
        let _changing = self.changing.lock().await;
        if let Some(s) = self.subs().get(&key) {
            return Ok(s.info());
        }
        if self.subs().len() >= MAX_SUBSCRIPTIONS {
            return Err(WireError::new(
                ErrorKind::Conflict,
                format!("{MAX_SUBSCRIPTIONS} series are subscribed already: IB keeps at most 50 historical requests open, and loads need some"),
            )
            .with_hint("`ktrdrctl data unsubscribe SYMBOL TF` one first (`ktrdrctl data subscriptions` lists them)"));
        }
        // A symbol IB does not know is refused now rather than retried forever; an unreachable
        // gateway is not a reason to refuse: the subscription waits for it.
        match self.env.gateway.resolve(&key.symbol).await {
            Ok(_) | Err(Failure::Connection(_)) | Err(Failure::Pacing(_)) => {}
            Err(Failure::NoData) => {}
            Err(Failure::Fatal(e)) => return Err(e),
        }
        let since = crate::time::now_ms();
        let sub = self.launch(key.clone(), since).await?;
        if let Err(e) = self.save() {
            sub.stop.cancel();
            self.subs().remove(&key);
            return Err(e);
        }
        Ok(sub.info())
    }

    pub async fn unsubscribe(&self, key: SeriesKey) -> Result<SubscriptionInfo, WireError> {
        let _changing = self.changing.lock().await;
        let Some(sub) = self.subs().remove(&key) else {
            return Err(WireError::not_found(format!("{key} is not subscribed"))
                .with_hint("`ktrdrctl data subscriptions` lists the subscriptions"));
        };
        sub.stop.cancel();
        if let Err(e) = self.save() {
            self.subs().insert(key, Arc::clone(&sub));
            return Err(e);
        }
        tracing::info!(series = %key, "unsubscribed");
        Ok(sub.info())
    }

    pub fn list(&self) -> SubscriptionList {
        SubscriptionList {
            subscriptions: self.subs().values().map(|s| s.info()).collect(),
            path: self.path.display().to_string(),
        }
    }

    pub fn infos(&self) -> Vec<SubscriptionInfo> {
        self.list().subscriptions
    }

    /// A follower of a subscribed series: subscribed to the feed first, then the stored bars
    /// since `since` read, so no bar falls between the two and none comes twice.
    pub async fn follow(&self, key: SeriesKey, since: Option<i64>) -> Result<Follower, WireError> {
        let sub = self.subs().get(&key).cloned().ok_or_else(|| {
            WireError::not_found(format!("{key} is not subscribed")).with_hint(format!(
                "`ktrdrctl data subscribe {} {}` first; `ktrdrctl data subscriptions` lists them",
                key.symbol, key.timeframe
            ))
        })?;
        let rx = sub.feed.subscribe();
        // Bars the feed has published are stored: the history goes up to the feed's last bar.
        let upto = sub.feed.last();
        let mut follower = Follower {
            key: key.clone(),
            history: None,
            sent_upto: upto,
            since,
            rx,
        };
        if let (Some(since), Some(upto)) = (since, upto) {
            let (bars, r) = self
                .env
                .data
                .window(
                    &key,
                    crate::data::input::Window {
                        start: Some(since),
                        end: Some(upto + 1),
                    },
                )
                .await?;
            follower.history = Some((bars, r));
        }
        Ok(follower)
    }

    /// Stops every subscription's task and closes the feeds (followers are told).
    pub fn shutdown(&self) {
        let subs: Vec<Arc<Sub>> = std::mem::take(&mut *self.subs()).into_values().collect();
        for s in subs {
            s.stop.cancel();
        }
    }
}
