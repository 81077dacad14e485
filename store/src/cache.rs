//! Hot series in memory under a byte budget. Least recently used entries are evicted to make room;
//! a series larger than the whole budget is served but not kept.

use crate::files::Stamp;
use crate::key::SeriesKey;
use ktrdr_market::Bars;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

struct Entry {
    bars: Arc<Bars>,
    stamp: Stamp,
    last_used: u64,
    bytes: usize,
}

#[derive(Default)]
struct Inner {
    map: HashMap<SeriesKey, Entry>,
    clock: u64,
    bytes: usize,
}

#[derive(Default)]
pub struct CacheCounters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub evictions: AtomicU64,
    /// Entries dropped because their file changed (seen by the watcher or by a stamp mismatch).
    pub invalidations: AtomicU64,
}

pub struct Cache {
    inner: Mutex<Inner>,
    budget: usize,
    pub counters: CacheCounters,
}

impl Cache {
    pub fn new(budget: u64) -> Cache {
        Cache {
            inner: Mutex::new(Inner::default()),
            budget: usize::try_from(budget).unwrap_or(usize::MAX),
            counters: CacheCounters::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Plain maps and counters: still consistent after a panic elsewhere, so keep serving.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The cached bars if present and still from the file version `stamp`.
    pub fn get(&self, key: &SeriesKey, stamp: Stamp) -> Option<Arc<Bars>> {
        let mut g = self.lock();
        g.clock += 1;
        let clock = g.clock;
        let stale = match g.map.get_mut(key) {
            Some(e) if e.stamp == stamp => {
                e.last_used = clock;
                self.counters.hits.fetch_add(1, Ordering::Relaxed);
                return Some(Arc::clone(&e.bars));
            }
            Some(_) => true,
            None => false,
        };
        if stale {
            Self::remove_locked(&mut g, key);
            self.counters.invalidations.fetch_add(1, Ordering::Relaxed);
        }
        self.counters.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// [`Cache::get`] without counting a hit or a miss, for a second look within one request.
    pub fn peek(&self, key: &SeriesKey, stamp: Stamp) -> Option<Arc<Bars>> {
        let g = self.lock();
        g.map
            .get(key)
            .filter(|e| e.stamp == stamp)
            .map(|e| Arc::clone(&e.bars))
    }

    pub fn insert(&self, key: SeriesKey, stamp: Stamp, bars: Arc<Bars>) {
        let bytes = bars.byte_size();
        let mut g = self.lock();
        Self::remove_locked(&mut g, &key);
        if bytes > self.budget {
            return;
        }
        while g.bytes + bytes > self.budget {
            let Some(victim) = g
                .map
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            Self::remove_locked(&mut g, &victim);
            self.counters.evictions.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(series = %victim, "evicted from the bar cache");
        }
        g.clock += 1;
        let last_used = g.clock;
        g.bytes += bytes;
        g.map.insert(
            key,
            Entry {
                bars,
                stamp,
                last_used,
                bytes,
            },
        );
    }

    pub fn invalidate(&self, key: &SeriesKey) -> bool {
        let removed = Self::remove_locked(&mut self.lock(), key);
        if removed {
            self.counters.invalidations.fetch_add(1, Ordering::Relaxed);
        }
        removed
    }

    /// Drops the series unless its cached copy was read from a file with stamp `now` (the file as
    /// it is on disk now; `None` when it is gone). A watch event that is not a change (the daemon's
    /// own read of the file opens it too) then leaves the cache alone.
    pub fn invalidate_if_changed(&self, key: &SeriesKey, now: Option<Stamp>) -> bool {
        let mut g = self.lock();
        if now.is_some() && g.map.get(key).map(|e| e.stamp) == now {
            return false;
        }
        let removed = Self::remove_locked(&mut g, key);
        if removed {
            self.counters.invalidations.fetch_add(1, Ordering::Relaxed);
        }
        removed
    }

    fn remove_locked(g: &mut Inner, key: &SeriesKey) -> bool {
        match g.map.remove(key) {
            Some(e) => {
                g.bytes -= e.bytes;
                true
            }
            None => false,
        }
    }

    /// Rows of a cached series, without touching its recency.
    pub fn rows(&self, key: &SeriesKey) -> Option<usize> {
        self.lock().map.get(key).map(|e| e.bars.len())
    }

    /// (entries, bytes held).
    pub fn usage(&self) -> (usize, usize) {
        let g = self.lock();
        (g.map.len(), g.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ktrdr_market::Timeframe;
    use ktrdr_market::synth::{Spec, generate};

    fn key(s: &str) -> SeriesKey {
        SeriesKey {
            symbol: s.into(),
            timeframe: Timeframe::M1,
        }
    }
    const STAMP: Stamp = Stamp {
        len: 1,
        mtime_ns: 1,
        ino: 1,
    };

    #[test]
    fn evicts_least_recently_used_within_budget() {
        let bars = Arc::new(generate(&Spec {
            bars: 100,
            ..Spec::default()
        })); // 4800 bytes
        let c = Cache::new(10_000);
        c.insert(key("A"), STAMP, Arc::clone(&bars));
        c.insert(key("B"), STAMP, Arc::clone(&bars));
        assert!(c.get(&key("A"), STAMP).is_some()); // A is now more recent than B
        c.insert(key("C"), STAMP, Arc::clone(&bars));
        assert!(c.get(&key("B"), STAMP).is_none());
        assert!(c.get(&key("A"), STAMP).is_some());
        assert_eq!(c.usage(), (2, 9600));
        assert_eq!(c.counters.evictions.load(Ordering::Relaxed), 1);
        // Too big for the whole budget: not kept.
        let big = Arc::new(generate(&Spec {
            bars: 1000,
            ..Spec::default()
        }));
        c.insert(key("D"), STAMP, big);
        assert!(c.rows(&key("D")).is_none());
    }

    #[test]
    fn a_changed_stamp_is_a_miss_and_drops_the_entry() {
        let c = Cache::new(1 << 20);
        c.insert(
            key("A"),
            STAMP,
            Arc::new(generate(&Spec {
                bars: 10,
                ..Spec::default()
            })),
        );
        let newer = Stamp { len: 2, ..STAMP };
        assert!(c.get(&key("A"), newer).is_none());
        assert_eq!(c.usage(), (0, 0));
        assert_eq!(c.counters.invalidations.load(Ordering::Relaxed), 1);
        assert_eq!(c.counters.misses.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn only_a_changed_or_vanished_file_invalidates() {
        let c = Cache::new(1 << 30);
        let bars = Arc::new(generate(&Spec {
            bars: 10,
            ..Spec::default()
        }));
        c.insert(key("A"), STAMP, Arc::clone(&bars));
        assert!(
            !c.invalidate_if_changed(&key("A"), Some(STAMP)),
            "same file"
        );
        assert!(c.peek(&key("A"), STAMP).is_some());
        let newer = Stamp {
            len: STAMP.len + 1,
            ..STAMP
        };
        assert!(c.invalidate_if_changed(&key("A"), Some(newer)), "changed");
        c.insert(key("A"), STAMP, bars);
        assert!(c.invalidate_if_changed(&key("A"), None), "removed");
        assert!(!c.invalidate_if_changed(&key("B"), None), "never cached");
        assert_eq!(c.counters.invalidations.load(Ordering::Relaxed), 2);
    }
}
