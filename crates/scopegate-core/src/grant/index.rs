//! An index over a list of restrictions that answers "which of them may cover `r`" and
//! "which of them may `r` cover" without comparing `r` with every one, so that the
//! algebra's cost grows with the number of candidates, not with the number of scopes on
//! a type (2,000 `patient/Observation.rs?category=cN` compare each with a handful).
//!
//! The answers are supersets: every restriction that covers (is covered by) `r` is a
//! candidate, and the caller still asks [`Restriction::covers`]. Candidates come in the
//! order the restrictions were pushed, so results built from them are those of a scan.

use rustc_hash::FxHashMap;

use crate::scope::{Restriction, value_coverers};

/// Lists this short are scanned: an index costs more than it saves.
const SCAN_BELOW: usize = 16;

#[derive(Clone, Debug, Default)]
pub struct RestrictionIndex<'a> {
    len: u32,
    /// Entries with no restriction: they cover everything.
    unrestricted: Vec<u32>,
    /// `(param, value)` for each value of each entry's first clause. If an entry covers
    /// `r`, its first clause is implied by a clause of `r` on that parameter, so some
    /// value of it covers the first value of that clause of `r`.
    by_first: FxHashMap<(&'a str, &'a str), Vec<u32>>,
    /// `(param, c)` for each value `w` of each clause of each entry and each `c` that
    /// covers `w`. If `r` covers an entry, some value `v` of `r`'s first clause covers
    /// a value of the entry's clause on that parameter: the entry is under `(p, v)`.
    by_coverer: FxHashMap<(&'a str, &'a str), Vec<u32>>,
}

impl<'a> RestrictionIndex<'a> {
    /// An index of nothing (for a `static`).
    pub const EMPTY: RestrictionIndex<'static> = RestrictionIndex {
        len: 0,
        unrestricted: Vec::new(),
        by_first: FxHashMap::with_hasher(rustc_hash::FxBuildHasher),
        by_coverer: FxHashMap::with_hasher(rustc_hash::FxBuildHasher),
    };

    pub fn push(&mut self, r: &'a Restriction) {
        let i = self.len;
        self.len += 1;
        match r.first_clause() {
            None => self.unrestricted.push(i),
            Some((p, vs)) => {
                for v in vs {
                    self.by_first.entry((p, v)).or_default().push(i);
                }
                for (p, vs) in r.clauses() {
                    for w in vs {
                        for c in value_coverers(p, w) {
                            self.by_coverer.entry((p, c)).or_default().push(i);
                        }
                    }
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.len as usize
    }

    /// Entries that may cover `r` (a superset of those that do), in push order; `None`
    /// when the list is short enough to scan whole.
    pub fn may_cover(&self, r: &Restriction) -> Option<Vec<usize>> {
        if self.len() < SCAN_BELOW {
            return None;
        }
        let mut out: Vec<u32> = self.unrestricted.clone();
        for (p, vs) in r.clauses() {
            let Some(w) = vs.iter().next() else { continue };
            for c in value_coverers(p, w) {
                if let Some(ix) = self.by_first.get(&(p, c)) {
                    out.extend_from_slice(ix);
                }
            }
        }
        Some(finish(out))
    }

    /// Entries `r` may cover (a superset of those it does), in push order; `None` when
    /// the list is short enough to scan whole, or `r` is unrestricted (it covers all).
    pub fn may_be_covered_by(&self, r: &Restriction) -> Option<Vec<usize>> {
        if self.len() < SCAN_BELOW {
            return None;
        }
        let (p, vs) = r.first_clause()?;
        let mut out: Vec<u32> = Vec::new();
        for v in vs {
            if let Some(ix) = self.by_coverer.get(&(p, v.as_str())) {
                out.extend_from_slice(ix);
            }
        }
        Some(finish(out))
    }
}

fn finish(mut out: Vec<u32>) -> Vec<usize> {
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|i| i as usize).collect()
}
