//! The head manifests parsed and linted ahead, on the second core, while the main thread
//! is still in git finding the baseline (a CI runner has two cores, and the gate's own
//! work would otherwise wait for git's). Each parse is handed over as soon as all are
//! done, before the lint: the main thread diffs the heads while this one lints them.
//!
//! Which manifests the gate judges, and with which options, is known only once the
//! trusted commit's config is read; this guesses them from the working tree: the paths
//! on the command line, or the literal `manifests:` entries of the working tree's
//! config, linted with its options. A guess is used only where it is exactly what the
//! gate would have done itself: the same label and the same bytes (compared whole) give
//! the same parse, since parsing is a pure function of the two; and a lint is used only
//! for the very parse the gate holds (the same `Arc`), when its options are the
//! config's ([`Linted`]; the core checks both). A wrong guess costs the time of the
//! guess, never a different answer.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use super::manifests::{Found, Tree};
use super::read_limited;
use crate::grant::Options;
use crate::lint::Linted;
use crate::manifest::{self, Manifest};
use crate::yaml::LoadError;

/// One head manifest read ahead: its label and bytes.
type Guess = (String, Arc<Vec<u8>>);

/// A head manifest's parse: shared, since it is linted here while the gate diffs it.
pub(super) type Parse = Result<Arc<Manifest>, LoadError>;

/// The work started ahead, if any.
#[derive(Default)]
pub(super) struct Early {
    guesses: Vec<Guess>,
    work: Option<Work>,
}

/// The thread: it sends the parses once, then returns the lints (one per guess, `None`
/// where the manifest did not parse).
struct Work {
    /// Taken by the one [`Early::parses`] call.
    parses: Option<Receiver<Vec<Parse>>>,
    lints: JoinHandle<Vec<Option<Linted>>>,
}

impl Early {
    /// Reads each `(label, file)` that the gate would read as a regular file and that
    /// stays inside `root` (so never a FIFO, a device, or a file outside the repository
    /// such as `/proc`'s, whose read could block), up to the manifest size limit, and
    /// parses and lints it on a thread of its own. Anything else is left to the gate,
    /// which says what it is.
    pub(super) fn start(root: &Path, files: Vec<(String, PathBuf)>, opts: Options) -> Early {
        // No index: a symlink, which only a tracked target would make readable, is
        // never read ahead.
        let tree = Tree::new(root, &[]);
        let guesses: Vec<Guess> = files
            .into_iter()
            .filter_map(|(label, file)| {
                if !matches!(tree.find(&file), Found::Regular(_)) || !tree.within(&file) {
                    return None;
                }
                let bytes = read_limited(&file).ok()?;
                (bytes.len() <= manifest::MAX_BYTES).then(|| (label, Arc::new(bytes)))
            })
            .collect();
        if guesses.is_empty() {
            return Early::default();
        }
        let inputs = guesses.clone();
        let (send, parses) = sync_channel(1);
        let parent = current_cpu();
        let lints = std::thread::spawn(move || {
            let _ = off_cpu(parent);
            let parsed: Vec<Parse> = inputs
                .iter()
                .map(|(label, bytes)| manifest::from_bytes(label, bytes).map(Arc::new))
                .collect();
            let heads: Vec<Option<Arc<Manifest>>> =
                parsed.iter().map(|p| p.as_ref().ok().cloned()).collect();
            // The gate may have stopped waiting (an error elsewhere): then the lint is
            // not wanted either.
            if send.send(parsed).is_err() {
                return Vec::new();
            }
            heads
                .iter()
                .map(|m| m.as_ref().map(|m| Linted::check(m, opts)))
                .collect()
        });
        let_it_start();
        Early {
            guesses,
            work: Some(Work {
                parses: Some(parses),
                lints,
            }),
        }
    }

    /// Whether the work ahead includes the manifest `label` with exactly `bytes`.
    pub(super) fn has(&self, label: &str, bytes: &[u8]) -> Option<usize> {
        self.guesses
            .iter()
            .position(|(l, b)| l == label && b.as_slice() == bytes)
    }

    /// Waits for the parses ahead: one per guess, in the order [`Early::has`] numbers
    /// them. Once only: a second call gets none.
    pub(super) fn parses(&mut self) -> Vec<Option<Parse>> {
        let Some(parses) = self.work.as_mut().and_then(|w| w.parses.take()) else {
            return Vec::new();
        };
        match parses.recv() {
            Ok(parses) => parses.into_iter().map(Some).collect(),
            // The thread ended without sending: it panicked, and the join says why.
            Err(_) => {
                let work = self.work.take().expect("the work is there");
                match work.lints.join() {
                    Err(p) => std::panic::resume_unwind(p),
                    Ok(_) => unreachable!("the thread sends its parses before it returns"),
                }
            }
        }
    }

    /// Waits for the lints ahead: one per guess (`None` where it did not parse), in
    /// the order [`Early::has`] numbers them.
    pub(super) fn lints(self) -> Vec<Option<Linted>> {
        match self.work {
            None => Vec::new(),
            Some(w) => w
                .lints
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        }
    }
}

/// How the core's own threads (the text diff beside the ledger, a large diff's parts,
/// a large report's JSON, a lint's second half) are placed: like this module's helper,
/// started at once and off their parent's CPU.
pub(super) const PLACEMENT: scopegate_core::threads::Placement =
    scopegate_core::threads::Placement {
        here: current_cpu,
        away_from: |cpu| {
            off_cpu(cpu);
        },
        started: let_it_start,
    };

/// The CPU the calling thread runs on, where that is known.
#[cfg(target_os = "linux")]
fn current_cpu() -> Option<usize> {
    Some(rustix::thread::sched_getcpu())
}

#[cfg(not(target_os = "linux"))]
fn current_cpu() -> Option<usize> {
    None
}

/// Moves the calling thread off `cpu`, to another CPU it may run on, if there is one.
/// Linux starts a new thread on its parent's CPU, and an idle CPU takes it over only
/// at a balancing tick (up to 4 ms at HZ=250): in about a third of gate runs the
/// helper waited behind the main thread for most of its work (gate `spread` 9.5 ms or
/// 13 ms, two modes). The move is made by leaving `cpu` out of the thread's mask,
/// which migrates it at once; the mask is then put back, so that the scheduler may
/// still bring it back when `cpu` idles (on two CPUs, a thread kept off one is pinned
/// to the other: two such threads shared it while the main thread waited for them).
/// Best effort: where asking fails, the thread stays where it is. Returns the CPU it
/// ran on once moved, for the tests.
#[cfg(target_os = "linux")]
fn off_cpu(cpu: Option<usize>) -> Option<usize> {
    use rustix::thread::{sched_getaffinity, sched_getcpu, sched_setaffinity};
    let cpu = cpu?;
    let allowed = sched_getaffinity(None).ok()?;
    if !allowed.is_set(cpu) || allowed.count() < 2 {
        return None;
    }
    let mut elsewhere = allowed;
    elsewhere.unset(cpu);
    sched_setaffinity(None, &elsewhere).ok()?;
    let moved_to = sched_getcpu();
    let _ = sched_setaffinity(None, &allowed);
    Some(moved_to)
}

/// Gives the CPU up for a moment, right after starting a thread: Linux queues the
/// thread behind its parent, on the parent's CPU, and runs it only when the parent
/// waits or at the next tick (measured: helpers started 1 to 10 ms late, the moment
/// the gate's main thread waited for them). Once running, it moves itself away.
#[cfg(target_os = "linux")]
fn let_it_start() {
    rustix::thread::sched_yield();
}

#[cfg(not(target_os = "linux"))]
fn let_it_start() {}

#[cfg(not(target_os = "linux"))]
fn off_cpu(_cpu: Option<usize>) -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = "id: a\nscopes:\n  - scope: launch\n    rationale: r\n";

    /// The helper leaves its parent's CPU when it may run on another, and changes
    /// nothing otherwise: with one CPU allowed, for a CPU it may not use, or none known.
    /// On a fresh thread each time, since the mask is the thread's own.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_helper_leaves_its_parents_cpu_only_for_another_it_may_use() {
        use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
        let on_a_thread = |f: fn()| std::thread::spawn(f).join().unwrap();
        on_a_thread(|| {
            let allowed = sched_getaffinity(None).unwrap();
            let cpu = (0..CpuSet::MAX_CPU).find(|c| allowed.is_set(*c)).unwrap();
            let moved_to = off_cpu(Some(cpu));
            if allowed.count() > 1 {
                let to = moved_to.expect("moved");
                assert!(to != cpu && allowed.is_set(to), "moved from {cpu} to {to}");
            } else {
                assert_eq!(moved_to, None, "a lone CPU is kept");
            }
            // The mask is as it was: the scheduler may bring it back later.
            assert_eq!(sched_getaffinity(None).unwrap(), allowed);
        });
        on_a_thread(|| {
            // Down to one CPU: it stays.
            let allowed = sched_getaffinity(None).unwrap();
            let cpu = (0..CpuSet::MAX_CPU).find(|c| allowed.is_set(*c)).unwrap();
            let mut one = CpuSet::new();
            one.set(cpu);
            sched_setaffinity(None, &one).unwrap();
            assert_eq!(off_cpu(Some(cpu)), None);
            let now = sched_getaffinity(None).unwrap();
            assert!(now.is_set(cpu) && now.count() == 1);
        });
        on_a_thread(|| {
            // A CPU it may not use, or none: the mask is as it was.
            let allowed = sched_getaffinity(None).unwrap();
            let outside = (0..CpuSet::MAX_CPU).find(|c| !allowed.is_set(*c)).unwrap();
            assert_eq!(off_cpu(Some(outside)), None);
            assert_eq!(off_cpu(None), None);
            let now = sched_getaffinity(None).unwrap();
            assert_eq!(now.count(), allowed.count());
        });
    }

    #[test]
    fn only_the_same_label_with_the_same_bytes_is_taken_from_the_work_ahead() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("m.yaml");
        std::fs::write(&f, M).unwrap();
        let early = Early::start(d.path(), vec![("m.yaml".into(), f)], Options::default());
        assert_eq!(early.has("m.yaml", M.as_bytes()), Some(0));
        // Another label (messages and locations name it), or a byte changed since.
        assert_eq!(early.has("n.yaml", M.as_bytes()), None);
        assert_eq!(
            early.has("m.yaml", M.replace("launch", "openid").as_bytes()),
            None
        );
        let mut early = early;
        let parsed = early.parses().into_iter().next().flatten().unwrap();
        assert_eq!(parsed.unwrap().path, "m.yaml");
        assert!(early.parses().is_empty(), "the parses are handed over once");
        let lint = early.lints().into_iter().next().flatten();
        assert!(lint.is_some(), "a manifest that parses is linted ahead");
    }

    #[test]
    fn nothing_is_read_ahead_through_a_symlink_a_fifo_outside_the_root_or_missing() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.yaml");
        std::fs::write(&real, M).unwrap();
        let link = d.path().join("link.yaml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let fifo = d.path().join("fifo.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        // A directory symlinked out of the root (to `/proc`, say), and a file outside it.
        let outside = tempfile::tempdir().unwrap();
        let away = outside.path().join("real.yaml");
        std::fs::write(&away, M).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("dir")).unwrap();
        let early = Early::start(
            d.path(),
            vec![
                ("link.yaml".into(), link),
                ("fifo.yaml".into(), fifo),
                ("gone.yaml".into(), d.path().join("gone.yaml")),
                ("dir/real.yaml".into(), d.path().join("dir/real.yaml")),
                ("up.yaml".into(), d.path().join("sub/../real.yaml")),
                ("away.yaml".into(), away),
                // Control: the plain file, by its own path.
                ("real.yaml".into(), real),
            ],
            Options::default(),
        );
        let read: Vec<&str> = early.guesses.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(read, ["real.yaml"]);
        let mut early = early;
        assert_eq!(early.parses().len(), 1);
        assert_eq!(early.lints().len(), 1);
    }
}
