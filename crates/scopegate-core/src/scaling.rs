//! Helpers for the scaling tests: each runs a piece of work at N and at 10N, and fails
//! when the time grows like a pair scan's (issue 15 §1).

use std::time::{Duration, Instant};

/// The last result of three runs of `f`, and the best of their times.
pub(crate) fn timed<T>(mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..3 {
        let t = Instant::now();
        out = Some(f());
        best = best.min(t.elapsed());
    }
    (out.expect("three runs"), best)
}

/// Ten times the input: linear is about 10x, quadratic 100x. The bound leaves room for
/// a loaded machine.
pub(crate) fn assert_near_linear(what: &str, small: Duration, big: Duration) {
    assert!(
        big < small * 35 + Duration::from_millis(100),
        "{what}: n {small:?}; 10n {big:?}"
    );
}
