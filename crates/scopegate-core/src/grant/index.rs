//! An index over a list of restrictions that answers "which of them may cover `r`" and
//! "which of them may `r` cover" without comparing `r` with every one, so that the
//! algebra's cost grows with the number of candidates, not with the number of scopes on
//! a type (2,000 `patient/Observation.rs?category=cN` compare each with a handful).
//!
//! The answers are supersets: every restriction that covers (is covered by) `r` is a
//! candidate, and the caller still asks [`Restriction::covers`]. Candidates come in the
//! order the restrictions were pushed, so results built from them are those of a scan.

use rustc_hash::FxHashMap;

use crate::scope::{ResourceType, Restriction, Scope, Values, value_coverers};

/// Lists this short are scanned: an index costs more than it saves.
const SCAN_BELOW: usize = 16;

#[derive(Clone, Debug, Default)]
pub(crate) struct RestrictionIndex<'a> {
    len: u32,
    /// Entries with no restriction: they cover everything.
    unrestricted: Vec<u32>,
    /// `(param, value)` for each value of one clause of each entry, its key clause. If
    /// an entry covers `r`, each of its clauses (the key clause too) is implied by a
    /// clause of `r` on that parameter, so some value of it covers the first value of
    /// that clause of `r`. Any clause would do; the one chosen is the one whose values
    /// were seen least ([`RestrictionIndex::key_clause`]): keyed by their first clause,
    /// 2,000 `?category=laboratory&code=…` scopes were all under one key, and every
    /// question about one of them named all 2,000.
    by_key: FxHashMap<(&'a str, &'a str), Ids>,
    /// `(param, c)` for each value `w` of each clause of each entry and each `c` that
    /// covers `w`. If `r` covers an entry, some value `v` of each of `r`'s clauses
    /// covers a value of the entry's clause on that parameter: the entry is under
    /// `(p, v)`. The clause of `r` asked is the one with the fewest entries under it.
    by_coverer: FxHashMap<(&'a str, &'a str), Ids>,
    /// How many entries of several clauses so far had each `(param, value)` in some
    /// clause: what [`RestrictionIndex::key_clause`] chooses by.
    seen: FxHashMap<(&'a str, &'a str), u32>,
    /// The entries pushed while there are fewer than `SCAN_BELOW`, not yet in the
    /// tables: a list that short is scanned, and most are that short (a ledger
    /// entry's keys, a type's few scopes). Their tables, made for each, were most of
    /// the memory a large ledger's judging touched.
    waiting: Vec<&'a Restriction>,
}

impl<'a> RestrictionIndex<'a> {
    /// An index of nothing (for a `static`).
    pub(crate) const EMPTY: RestrictionIndex<'static> = RestrictionIndex {
        len: 0,
        unrestricted: Vec::new(),
        by_key: FxHashMap::with_hasher(rustc_hash::FxBuildHasher),
        by_coverer: FxHashMap::with_hasher(rustc_hash::FxBuildHasher),
        seen: FxHashMap::with_hasher(rustc_hash::FxBuildHasher),
        waiting: Vec::new(),
    };

    /// The index of `restrictions`, pushed in order, its tables sized once for those
    /// with a clause (one key each in most manifests): pushing into an empty index
    /// grows them by doubling, megabytes for thousands of restricted scopes on a type.
    pub(crate) fn of<I>(restrictions: I) -> Self
    where
        I: IntoIterator<Item = &'a Restriction>,
        I::IntoIter: Clone,
    {
        let restrictions = restrictions.into_iter();
        if restrictions.clone().nth(SCAN_BELOW - 1).is_none() {
            let waiting: Vec<&Restriction> = restrictions.collect();
            return RestrictionIndex {
                len: waiting.len() as u32,
                waiting,
                ..RestrictionIndex::default()
            };
        }
        let restricted = restrictions
            .clone()
            .filter(|r| r.first_clause().is_some())
            .count();
        let mut index = RestrictionIndex::default();
        index.by_key.reserve(restricted);
        index.by_coverer.reserve(restricted);
        for r in restrictions {
            index.index(r);
        }
        index
    }

    /// Room in the tables for `n` more entries, if they will be made.
    fn reserve(&mut self, n: usize) {
        if self.len() + n >= SCAN_BELOW {
            self.by_key.reserve(n);
            self.by_coverer.reserve(n);
        }
    }

    pub(crate) fn push(&mut self, r: &'a Restriction) {
        if self.len() + 1 < SCAN_BELOW {
            self.waiting.push(r);
            self.len += 1;
            return;
        }
        // The list is long enough for the tables now: those waiting go in first, in
        // the order they came.
        let waiting = std::mem::take(&mut self.waiting);
        self.len -= waiting.len() as u32;
        for w in waiting {
            self.index(w);
        }
        self.index(r);
    }

    /// Puts `r` in the tables, as the next entry.
    fn index(&mut self, r: &'a Restriction) {
        let i = self.len;
        self.len += 1;
        match self.key_clause(r) {
            None => self.unrestricted.push(i),
            Some((p, vs)) => {
                for v in vs {
                    add(&mut self.by_key, (p, v), i);
                }
                for (p, vs) in r.clauses() {
                    for w in vs {
                        for c in value_coverers(p, w) {
                            add(&mut self.by_coverer, (p, c), i);
                        }
                    }
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.len as usize
    }

    /// The clause `r` is keyed by in `by_key`: of its clauses with a value, the one
    /// whose values earlier entries of several clauses had least (a later one on a
    /// tie: parameters that narrow, such as `code`, tend to follow shared ones such as
    /// `category`); `None` for no restriction.
    fn key_clause(&mut self, r: &'a Restriction) -> Option<(&'a str, &'a Values)> {
        let first = r.first_clause()?;
        let mut clauses = r.clauses().filter(|(_, vs)| !vs.is_empty());
        let (Some(one), Some(_)) = (clauses.next(), clauses.next()) else {
            // One clause (most restrictions): nothing to choose.
            return Some(first);
        };
        let mut best = one;
        let mut best_seen = u32::MAX;
        for (p, vs) in r.clauses().filter(|(_, vs)| !vs.is_empty()) {
            let seen: u32 = vs
                .iter()
                .map(|v| self.seen.get(&(p, v.as_str())).copied().unwrap_or(0))
                .sum();
            if seen <= best_seen {
                (best, best_seen) = ((p, vs), seen);
            }
        }
        for (p, vs) in r.clauses() {
            for v in vs {
                *self.seen.entry((p, v.as_str())).or_default() += 1;
            }
        }
        Some(best)
    }

    /// Entries that may cover `r` (a superset of those that do), in push order; `None`
    /// when the list is short enough to scan whole.
    pub(crate) fn may_cover(&self, r: &Restriction) -> Option<Vec<usize>> {
        if self.len() < SCAN_BELOW {
            return None;
        }
        let mut out: Vec<u32> = self.unrestricted.clone();
        for (p, vs) in r.clauses() {
            let Some(w) = vs.iter().next() else { continue };
            for c in value_coverers(p, w) {
                if let Some(ix) = self.by_key.get(&(p, c)) {
                    out.extend_from_slice(ix.as_slice());
                }
            }
        }
        Some(finish(out))
    }

    /// The entries under `(p, v)` in `by_coverer`, for each of `vs`.
    fn coverer_lists<'s>(&'s self, p: &'s str, vs: &'s Values) -> Vec<&'s [u32]> {
        vs.iter()
            .filter_map(|v| self.by_coverer.get(&(p, v.as_str())))
            .map(Ids::as_slice)
            .collect()
    }

    /// Entries `r` may cover (a superset of those it does), in push order; `None` when
    /// the list is short enough to scan whole, or `r` is unrestricted (it covers all).
    pub(crate) fn may_be_covered_by(&self, r: &Restriction) -> Option<Vec<usize>> {
        if self.len() < SCAN_BELOW {
            return None;
        }
        r.first_clause()?;
        // Each clause of `r` names a superset: the one naming fewest is asked.
        let fewest = r
            .clauses()
            .map(|(p, vs)| self.coverer_lists(p, vs))
            .min_by_key(|lists| lists.iter().map(|l| l.len()).sum::<usize>())?;
        Some(finish(fewest.concat()))
    }
}

/// The entries under one key. Most keys hold one entry (2,000 scopes on one type with a
/// category each are 2,000 keys), which needs no allocation of its own.
#[derive(Clone, Debug)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

impl Ids {
    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::One(i) => std::slice::from_ref(i),
            Ids::Many(v) => v,
        }
    }
}

fn add<'a>(map: &mut FxHashMap<(&'a str, &'a str), Ids>, key: (&'a str, &'a str), i: u32) {
    use std::collections::hash_map::Entry;
    match map.entry(key) {
        Entry::Vacant(e) => {
            e.insert(Ids::One(i));
        }
        Entry::Occupied(mut e) => match e.get_mut() {
            Ids::One(first) => {
                let first = *first;
                e.insert(Ids::Many(vec![first, i]));
            }
            Ids::Many(v) => v.push(i),
        },
    }
}

fn finish(mut out: Vec<u32>) -> Vec<usize> {
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|i| i as usize).collect()
}

impl RestrictionIndex<'_> {
    /// Entries that may cover some part of `r` split by its OR-values (a superset of
    /// those that do; see `ScopeSet::uncovered`), in push order; `None` to scan all.
    pub(crate) fn may_cover_part(&self, r: &Restriction) -> Option<Vec<usize>> {
        if self.len() < SCAN_BELOW {
            return None;
        }
        let mut out: Vec<u32> = self.unrestricted.clone();
        for (p, vs) in r.clauses() {
            for w in vs {
                for c in value_coverers(p, w) {
                    if let Some(ix) = self.by_key.get(&(p, c)) {
                        out.extend_from_slice(ix.as_slice());
                    }
                }
            }
        }
        Some(finish(out))
    }
}

/// Scopes, each with a tag (the caller's position for it), indexed by type and
/// restriction, for questions about one scope against many.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScopeIndex<'a> {
    by_type: FxHashMap<&'a ResourceType, Typed<'a>>,
    others: FxHashMap<&'a Scope, Vec<u32>>,
    resources: Vec<u32>,
}

#[derive(Clone, Debug, Default)]
struct Typed<'a> {
    tags: Vec<u32>,
    index: RestrictionIndex<'a>,
}

impl<'a> ScopeIndex<'a> {
    /// `scopes`, each tagged with its position.
    pub(crate) fn of<I>(scopes: I) -> ScopeIndex<'a>
    where
        I: IntoIterator<Item = &'a Scope>,
        I::IntoIter: Clone,
    {
        ScopeIndex::tagged(scopes.into_iter().enumerate().map(|(i, s)| (s, i)))
    }

    /// `scopes` with their tags, its tables sized once for them: pushed one at a time
    /// into an empty index, they grow by doubling (2,000 keys on one type: eleven
    /// rehashes of each table).
    pub(crate) fn tagged<I>(scopes: I) -> ScopeIndex<'a>
    where
        I: IntoIterator<Item = (&'a Scope, usize)>,
        I::IntoIter: Clone,
    {
        let scopes = scopes.into_iter();
        let mut ix = ScopeIndex::default();
        let mut per_type: FxHashMap<&ResourceType, usize> = FxHashMap::default();
        for (s, _) in scopes.clone() {
            if let Scope::Resource(r) = s {
                *per_type.entry(&r.resource).or_default() += 1;
            }
        }
        ix.resources.reserve(per_type.values().sum());
        for (ty, n) in per_type {
            let t = ix.by_type.entry(ty).or_default();
            t.tags.reserve(n);
            t.index.reserve(n);
        }
        for (s, tag) in scopes {
            ix.push(s, tag);
        }
        ix
    }

    /// How many questions about a few scopes its callers answer by a scan before they
    /// make an index: indexing 2,000 scopes costs about what three or four scans of
    /// them do (a rent-or-buy choice: scan while the scans cost less than the index).
    /// A scan of a base whose scopes share the head's type asks `covers` of each, so
    /// 16 cost more than the index: `replaced` (2,000 codes for 2,000 others) diffed
    /// in 13.5 ms with 16, 9-10 ms with 4 or 0.
    pub(crate) const SCAN_FIRST: usize = 4;

    pub(crate) fn push(&mut self, s: &'a Scope, tag: usize) {
        let tag = u32::try_from(tag).expect("fewer than 2^32 scopes");
        match s {
            Scope::Resource(r) => {
                let t = self.by_type.entry(&r.resource).or_default();
                t.tags.push(tag);
                t.index.push(&r.restriction);
                self.resources.push(tag);
            }
            other => self.others.entry(other).or_default().push(tag),
        }
    }

    /// Tags of the scopes that may, alone or together with others, grant some of `s`
    /// (a superset of those that do), sorted.
    pub(crate) fn may_grant(&self, s: &Scope) -> Vec<usize> {
        self.lookup(s, false)
    }

    /// Tags of the scopes that may cover `s` or be covered by it (a superset), sorted.
    pub(crate) fn related(&self, s: &Scope) -> Vec<usize> {
        self.lookup(s, true)
    }

    fn lookup(&self, s: &Scope, both_ways: bool) -> Vec<usize> {
        let Scope::Resource(r) = s else {
            return finish(self.others.get(s).cloned().unwrap_or_default());
        };
        if both_ways && r.resource == ResourceType::Any {
            // `*` covers a scope of any type.
            return finish(self.resources.clone());
        }
        let any = matches!(r.resource, ResourceType::Named(_)).then_some(&ResourceType::Any);
        let mut out: Vec<u32> = Vec::new();
        for ty in std::iter::once(&r.resource).chain(any) {
            let Some(t) = self.by_type.get(ty) else {
                continue;
            };
            let positions = if both_ways {
                match (
                    t.index.may_cover(&r.restriction),
                    t.index.may_be_covered_by(&r.restriction),
                ) {
                    (Some(mut a), Some(b)) => {
                        a.extend(b);
                        Some(a)
                    }
                    _ => None,
                }
            } else {
                t.index.may_cover_part(&r.restriction)
            };
            match positions {
                None => out.extend_from_slice(&t.tags),
                Some(p) => out.extend(p.into_iter().map(|i| t.tags[i])),
            }
        }
        finish(out)
    }
}
