//! The threads the core starts, placed the way the shell says.
//!
//! Linux queues a new thread behind its parent, on the parent's CPU, and runs it only
//! when the parent waits or an idle CPU takes it over at a balancing tick (up to 4 ms
//! at HZ=250): measured, the threads the gate started beside its work began 1 to 10
//! ms late, the moment the main thread waited for them. Moving a thread is asking the
//! OS, which the core does not do: the shell hands it a [`Placement`] once, at start,
//! and every thread the core starts goes through `spawn`. Without one (the core's own
//! tests, a library user), threads start where the OS puts them.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{Scope, ScopedJoinHandle};

/// How the shell places a thread the core starts.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    /// The CPU the calling thread runs on, where that is known. Asked on the parent,
    /// just before it starts the thread.
    pub here: fn() -> Option<usize>,
    /// Called first on the new thread with its parent's [`Placement::here`]: moves it
    /// to another CPU it may run on, if there is one. Best effort; it never fails.
    pub away_from: fn(Option<usize>),
    /// Called on the parent just after it starts a thread: gives the CPU up for a
    /// moment, so that the new thread, queued behind its parent, runs its
    /// [`Placement::away_from`] now rather than when the parent next waits.
    pub started: fn(),
}

static PLACEMENT: OnceLock<Placement> = OnceLock::new();

/// Sets how the core's threads are placed, for the life of the process. The first
/// call wins; later ones change nothing (the placement is the shell's, set once).
pub fn place_threads(p: Placement) {
    let _ = PLACEMENT.set(p);
}

/// Starts `f` on a thread of `scope`, placed by the shell's [`Placement`] if it gave
/// one.
pub(crate) fn spawn<'scope, T: Send + 'scope>(
    scope: &'scope Scope<'scope, '_>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> ScopedJoinHandle<'scope, T> {
    let placement = PLACEMENT.get().copied();
    let parent = placement.and_then(|p| (p.here)());
    let thread = scope.spawn(move || {
        if let Some(p) = placement {
            (p.away_from)(parent);
        }
        f()
    });
    if let Some(p) = placement {
        (p.started)();
    }
    thread
}

/// Runs `jobs` on this thread and one more, each taken by whichever of the two is free
/// first; their results in the order of `jobs`. Two threads, not one per job: a CI
/// runner has two cores, and a third thread shares one with another while this one
/// may wait (measured on the diff's three parts: the second helper started 3 ms late
/// and then shared the other core with the first).
pub(crate) fn on_two<T: Send>(jobs: &[&(dyn Fn() -> T + Sync)]) -> Vec<T> {
    let next = AtomicUsize::new(0);
    // Each thread keeps the numbers of the jobs it took with their results.
    let take = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(k) else {
                return done;
            };
            done.push((k, job()));
        }
    };
    let (mut mine, theirs) = std::thread::scope(|s| {
        let helper = spawn(s, take);
        let mine = take();
        (mine, crate::joined(helper))
    });
    mine.extend(theirs);
    mine.sort_by_key(|(k, _)| *k);
    mine.into_iter().map(|(_, t)| t).collect()
}

/// Runs the jobs `0..n` on this thread and one more, and hands each result to `sink`
/// on this thread, in the jobs' order, as soon as it and all before it are done:
/// results are consumed while the rest are made, and at most `AHEAD` finished ones
/// wait at any time (the helper waits when they do). A large report's JSON, rendered
/// whole on two cores before a byte was written, was 7 MB of buffers, and a third of
/// the gate's CPU went to the kernel zeroing the memory it touched. The first error
/// of `sink` stops both threads and is returned.
pub(crate) fn in_order_on_two<T: Send, E>(
    n: usize,
    job: &(dyn Fn(usize) -> T + Sync),
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E> {
    use std::collections::BTreeMap;
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc::{TryRecvError, sync_channel};
    const AHEAD: usize = 4;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (tx, rx) = sync_channel::<(usize, T)>(AHEAD);
    let take = || {
        let k = next.fetch_add(1, Ordering::Relaxed);
        (k < n && !stop.load(Ordering::Relaxed)).then_some(k)
    };
    std::thread::scope(|s| {
        let helper = spawn(s, || {
            let tx = tx;
            while let Some(k) = take() {
                if tx.send((k, job(k))).is_err() {
                    return;
                }
            }
        });
        // Finished results not yet consumed, by job number.
        let mut ready: BTreeMap<usize, T> = BTreeMap::new();
        let mut sent = 0;
        let mut result = Ok(());
        while sent < n {
            if let Some(t) = ready.remove(&sent) {
                if let Err(e) = sink(t) {
                    result = Err(e);
                    break;
                }
                sent += 1;
                continue;
            }
            match rx.try_recv() {
                Ok((k, t)) => {
                    ready.insert(k, t);
                    continue;
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => {}
            }
            // The next result is the helper's: make another meanwhile, unless enough wait.
            if ready.len() < AHEAD
                && let Some(k) = take()
            {
                ready.insert(k, job(k));
                continue;
            }
            match rx.recv() {
                Ok((k, t)) => {
                    ready.insert(k, t);
                }
                // The helper ended with a job unfinished: it panicked (resumed below).
                Err(_) => break,
            }
        }
        stop.store(true, Ordering::Relaxed);
        // Unblocks a helper waiting to send, so that it sees `stop`.
        drop(rx);
        crate::joined(helper);
        assert!(
            result.is_err() || sent == n,
            "job {sent} was taken and never finished"
        );
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static ASKED_HERE: AtomicUsize = AtomicUsize::new(0);
    static MOVED_FROM: AtomicUsize = AtomicUsize::new(usize::MAX);
    static STARTED: AtomicUsize = AtomicUsize::new(0);

    fn here() -> Option<usize> {
        ASKED_HERE.fetch_add(1, Ordering::SeqCst);
        Some(7)
    }

    fn away_from(cpu: Option<usize>) {
        MOVED_FROM.store(cpu.unwrap_or(usize::MAX - 1), Ordering::SeqCst);
    }

    /// The parent is asked where it runs, the thread is moved off that CPU before its
    /// work, and the parent lets it start; the placement set first stays.
    #[test]
    fn a_core_thread_is_placed_by_the_shells_placement_before_its_work() {
        place_threads(Placement {
            here,
            away_from,
            started: || {
                STARTED.fetch_add(1, Ordering::SeqCst);
            },
        });
        place_threads(Placement {
            here: || None,
            away_from: |_| panic!("the first placement stays"),
            started: || {},
        });
        let seen =
            std::thread::scope(|s| crate::joined(spawn(s, || MOVED_FROM.load(Ordering::SeqCst))));
        assert_eq!(seen, 7, "moved off the parent's CPU before the work ran");
        assert!(ASKED_HERE.load(Ordering::SeqCst) >= 1);
        assert!(
            STARTED.load(Ordering::SeqCst) >= 1,
            "the parent let it start"
        );
    }

    /// Every job runs once, whichever thread takes it, and the results come in the
    /// jobs' order: more jobs than threads, as many, fewer, none.
    #[test]
    fn jobs_on_two_threads_each_run_once_and_come_back_in_order() {
        for n in [0, 1, 2, 3, 17] {
            let runs: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            let jobs: Vec<Box<dyn Fn() -> usize + Sync>> = (0..n)
                .map(|k| {
                    let runs = &runs;
                    Box::new(move || {
                        runs[k].fetch_add(1, Ordering::SeqCst);
                        k * 10
                    }) as Box<dyn Fn() -> usize + Sync>
                })
                .collect();
            let refs: Vec<&(dyn Fn() -> usize + Sync)> = jobs.iter().map(|j| &**j).collect();
            let out = on_two(&refs);
            assert_eq!(out, (0..n).map(|k| k * 10).collect::<Vec<_>>());
            assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1));
        }
    }

    /// Results reach the sink once each, in the jobs' order, whichever thread made
    /// them; a sink error stops the rest. Jobs of uneven length, so that either thread
    /// runs ahead of the other.
    #[test]
    fn results_reach_the_sink_in_order_and_an_error_stops_them() {
        for n in [0, 1, 2, 5, 200] {
            let runs: Vec<AtomicUsize> = (0..n).map(|_| AtomicUsize::new(0)).collect();
            let job = |k: usize| {
                runs[k].fetch_add(1, Ordering::SeqCst);
                if k % 7 == 3 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                k
            };
            let mut seen = Vec::new();
            in_order_on_two(n, &job, |k| {
                seen.push(k);
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(seen, (0..n).collect::<Vec<_>>());
            assert!(runs.iter().all(|r| r.load(Ordering::SeqCst) == 1), "{n}");
        }
        let mut seen = Vec::new();
        let stopped = in_order_on_two(1000, &|k| k, |k| {
            if k == 10 {
                return Err(k);
            }
            seen.push(k);
            Ok(())
        });
        assert_eq!(stopped, Err(10));
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }
}
