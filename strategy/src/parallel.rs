//! Data-parallel map over independent work items (one indicator, one fuzzy column) on scoped OS
//! threads: the pipeline is memory-bound per column, so columns are the natural unit. Plain std
//! threads keep the crate free of a runtime; callers on an async runtime already run it on a
//! blocking thread.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// `items.iter().map(f)`, in order, spread over the machine's cores. Workers take the next item
/// from a shared counter, so one slow item does not leave the other cores idle.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    par_map_on(
        thread::available_parallelism().map_or(1, |n| n.get()),
        items,
        f,
    )
}

/// [`par_map`] with at most `workers` threads. Separate so tests exercise the threaded path on any
/// machine, including a coverage run pinned to one core.
fn par_map_on<T: Sync, R: Send>(workers: usize, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = workers.min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            // A worker only panics if `f` did; re-raise it here as a sequential map would.
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order() {
        let v: Vec<u64> = (0..1000).collect();
        assert_eq!(
            par_map(&v, |x| x * 2),
            v.iter().map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(par_map(&[] as &[u8], |x| *x).is_empty());
    }

    #[test]
    fn several_workers_keep_order_and_run_each_item_once() {
        let calls = AtomicUsize::new(0);
        let v: Vec<u64> = (0..257).collect();
        for workers in [1, 2, 3, 8] {
            calls.store(0, Ordering::Relaxed);
            let out = par_map_on(workers, &v, |x| {
                calls.fetch_add(1, Ordering::Relaxed);
                x * x
            });
            assert_eq!(
                out,
                v.iter().map(|x| x * x).collect::<Vec<_>>(),
                "{workers}"
            );
            assert_eq!(calls.load(Ordering::Relaxed), v.len(), "{workers}");
        }
        // More workers than items: one thread per item, still in order.
        assert_eq!(par_map_on(16, &[3u8, 1, 2], |x| *x), [3, 1, 2]);
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let v: Vec<u32> = (0..64).collect();
        let caught = std::panic::catch_unwind(|| {
            par_map_on(4, &v, |&x| {
                assert!(x != 40, "item 40 is bad");
                x
            })
        });
        let payload = caught.expect_err("the panic must propagate");
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        assert!(text.contains("item 40 is bad"), "{text:?}");
    }
}
