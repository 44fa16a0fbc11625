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
}
