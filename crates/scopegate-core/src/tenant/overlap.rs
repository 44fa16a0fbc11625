//! An index over many scopes that answers "which of them may overlap `s`" ([`overlaps`])
//! without asking every one: `scopegate matrix` lists, for each of 2,000 scopes, the
//! ledger keys that share access with it, and a ledger of 2,000 keys on one type was
//! 4,000,000 questions.
//!
//! The answer is a superset, in push order; the caller still asks [`overlaps`]. It
//! rests on two necessary conditions for two resource scopes to overlap: related types
//! (equal, or one of them `*`), and, for a parameter `p` that `s` restricts unmodified,
//! a scope that also restricts `p` has a value overlapping one of `s`'s on `p`
//! ([`overlap_bucket`]). A launch context overlaps the same context whatever its `role`;
//! other non-resource scopes overlap only an equal one.
//!
//! [`overlaps`]: super::overlaps

use rustc_hash::FxHashMap;

use crate::scope::{
    Launch, ResourceType, Restriction, Scope, Values, overlap_unknown, token_semantics,
};

/// The part of a value that another value must share to overlap it on `param`: the
/// code of a token (`sys|code`, `|code` and `code` share `code`), the value itself for
/// other parameters; `None` when it may overlap values of any code (`sys|`, every code
/// of a system). Law (a property test): if `value_overlaps(p, v, w)`, then the buckets
/// of `v` and `w` are equal or one is `None`.
pub(crate) fn overlap_bucket<'v>(param: &str, v: &'v str) -> Option<&'v str> {
    if !token_semantics(param) {
        return Some(v);
    }
    match v.split_once('|') {
        None => Some(v),
        // `sys|`: any code of the system.
        Some((s, "")) if !s.is_empty() => None,
        // A malformed token overlaps only itself.
        Some((_, c)) if c.contains('|') || c.is_empty() => Some(v),
        Some((_, c)) => Some(c),
    }
}

/// Scopes, each with a tag (its position among those pushed).
#[derive(Debug, Default)]
pub(crate) struct OverlapIndex<'a> {
    others: FxHashMap<&'a Scope, Vec<u32>>,
    /// Launch-context scopes by their context, whatever their `role`.
    contexts: FxHashMap<&'a str, Vec<u32>>,
    by_type: FxHashMap<&'a ResourceType, Typed<'a>>,
    len: u32,
}

#[derive(Debug, Default)]
struct Typed<'a> {
    /// `(tag, restriction)` of each resource scope on the type.
    all: Vec<(u32, &'a Restriction)>,
    /// Per parameter some scope on the type restricts unmodified (built by `finish`).
    params: FxHashMap<&'a str, Param<'a>>,
}

impl<'a> OverlapIndex<'a> {
    pub(crate) fn of(scopes: impl IntoIterator<Item = &'a Scope>) -> OverlapIndex<'a> {
        let mut ix = OverlapIndex::default();
        for s in scopes {
            let tag = ix.len;
            ix.len += 1;
            match s {
                Scope::Resource(r) => {
                    ix.by_type
                        .entry(&r.resource)
                        .or_default()
                        .all
                        .push((tag, &r.restriction));
                }
                Scope::Launch(Launch::Context { context, .. }) => {
                    ix.contexts.entry(context.as_str()).or_default().push(tag);
                }
                other => ix.others.entry(other).or_default().push(tag),
            }
        }
        for t in ix.by_type.values_mut() {
            t.finish();
        }
        ix
    }

    /// Tags of the scopes that may overlap `s` (a superset of those that do), sorted.
    pub(crate) fn may_overlap(&self, s: &Scope) -> Vec<usize> {
        let r = match s {
            Scope::Resource(r) => r,
            Scope::Launch(Launch::Context { context, .. }) => {
                return finish(
                    self.contexts
                        .get(context.as_str())
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            _ => return finish(self.others.get(s).cloned().unwrap_or_default()),
        };
        let mut out = Vec::new();
        let mut on = |t: &Typed<'_>| t.may_overlap(&r.restriction, &mut out);
        match &r.resource {
            ResourceType::Any => self.by_type.values().for_each(&mut on),
            named => [named, &ResourceType::Any]
                .into_iter()
                .filter_map(|t| self.by_type.get(t))
                .for_each(&mut on),
        }
        finish(out)
    }
}

#[derive(Debug, Default)]
struct Param<'a> {
    /// The scopes that do not restrict it: nothing on it keeps them from overlapping.
    without: Vec<u32>,
    /// Those with a value of any code of a system on it (`sys|`), by the system.
    wild: FxHashMap<&'a str, Vec<u32>>,
    /// Those with a value with a code, by its bucket ([`overlap_bucket`]).
    by_bucket: FxHashMap<&'a str, Vec<u32>>,
    /// Those with a code in a named system or in none (`sys|code`, `|code`), by the
    /// two: what such a value shares with others of its kind.
    in_system: FxHashMap<(&'a str, &'a str), Vec<u32>>,
    /// Those with a code in any system (`code`), by the code.
    bare_by_code: FxHashMap<&'a str, Vec<u32>>,
    /// Those with a code in a named system (`sys|code`), by the system: what `sys|`
    /// may share.
    coded_in: FxHashMap<&'a str, Vec<u32>>,
    /// Those with a code in any system (`code`): they share some code of every system.
    bare: Vec<u32>,
}

/// The system a token value names: any (`code`), one (`sys|code`, `sys|`), none
/// (`|code`); `Other` for a value of another parameter or a malformed token, which
/// overlaps only a value of its bucket.
#[derive(Clone, Copy)]
enum System<'v> {
    Any,
    Named(&'v str),
    Other,
}

/// The system of `sys|`, a value [`overlap_bucket`] puts in no bucket.
fn any_code_of(v: &str) -> &str {
    v.strip_suffix('|').unwrap_or(v)
}

fn system_of<'v>(param: &str, v: &'v str) -> System<'v> {
    if !token_semantics(param) {
        return System::Other;
    }
    match v.split_once('|') {
        None => System::Any,
        Some((_, c)) if c.contains('|') => System::Other,
        Some(("", "")) => System::Other,
        Some((s, _)) => System::Named(s),
    }
}

impl<'a> Param<'a> {
    /// Files `tag`'s value `v` on parameter `p`.
    fn add(&mut self, p: &str, v: &'a str, tag: u32) {
        match overlap_bucket(p, v) {
            None => self.wild.entry(any_code_of(v)).or_default().push(tag),
            Some(b) => {
                self.by_bucket.entry(b).or_default().push(tag);
                match system_of(p, v) {
                    System::Any => {
                        self.bare.push(tag);
                        self.bare_by_code.entry(b).or_default().push(tag);
                    }
                    System::Named(s) => {
                        self.in_system.entry((s, b)).or_default().push(tag);
                        if !s.is_empty() {
                            self.coded_in.entry(s).or_default().push(tag);
                        }
                    }
                    System::Other => {}
                }
            }
        }
    }

    /// The lists whose scopes may share a value with one of `values` on `p` (with
    /// those that do not restrict `p`): a superset of those that do.
    fn sharing<'s>(&'s self, p: &str, values: &'s Values) -> Vec<&'s [u32]> {
        let mut lists: Vec<&[u32]> = vec![&self.without];
        fn get<'m>(m: &'m FxHashMap<&str, Vec<u32>>, k: &str) -> Option<&'m [u32]> {
            m.get(k).map(Vec::as_slice)
        }
        for v in values {
            match overlap_bucket(p, v) {
                // Any code of a system: its codes, any system's codes, the same system.
                None => {
                    let s = any_code_of(v);
                    lists.extend(get(&self.coded_in, s));
                    lists.push(&self.bare);
                    lists.extend(get(&self.wild, s));
                }
                Some(b) => match system_of(p, v) {
                    // A code in any system: the code in every system, and every
                    // system's `sys|`.
                    System::Any => {
                        lists.extend(get(&self.by_bucket, b));
                        lists.extend(self.wild.values().map(Vec::as_slice));
                    }
                    // A code in one system (or none): the same, the code in any
                    // system, and the system's `sys|`.
                    System::Named(s) => {
                        lists.extend(self.in_system.get(&(s, b)).map(Vec::as_slice));
                        lists.extend(get(&self.bare_by_code, b));
                        if !s.is_empty() {
                            lists.extend(get(&self.wild, s));
                        }
                    }
                    System::Other => lists.extend(get(&self.by_bucket, b)),
                },
            }
        }
        lists
    }
}

impl Typed<'_> {
    fn finish(&mut self) {
        let mut params: FxHashMap<&str, Param<'_>> = FxHashMap::default();
        // Each scope's values filed under each parameter it restricts; then the scopes
        // that do not restrict a parameter, found by the tags each holds (one pass per
        // parameter over the scopes, not one per scope and parameter for both).
        let mut holders: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
        for (tag, r) in &self.all {
            for (p, vs) in r.clauses().filter(|(p, _)| !overlap_unknown(p)) {
                let px = params.entry(p).or_default();
                for v in vs {
                    px.add(p, v, *tag);
                }
                let h = holders.entry(p).or_default();
                if h.last() != Some(tag) {
                    h.push(*tag);
                }
            }
        }
        for (p, px) in &mut params {
            let with = &holders[p];
            // Tags are in push order in both: a merge.
            let mut k = 0;
            for (tag, _) in &self.all {
                if with.get(k) == Some(tag) {
                    k += 1;
                } else {
                    px.without.push(*tag);
                }
            }
        }
        self.params = params;
    }

    fn may_overlap(&self, s: &Restriction, out: &mut Vec<u32>) {
        // Each parameter `s` restricts unmodified names a superset: the one naming
        // fewest is asked (a first clause most scopes share, `category=laboratory`,
        // named them all). One no scope on the type restricts names them all.
        let clauses: Vec<(&str, &Values)> =
            s.clauses().filter(|(p, _)| !overlap_unknown(p)).collect();
        let mut fewest: Option<Vec<u32>> = None;
        // (Clauses come sorted by parameter.)
        for on_p in clauses.chunk_by(|a, b| a.0 == b.0) {
            let p = on_p[0].0;
            let Some(px) = self.params.get(p) else {
                continue;
            };
            // Several clauses on one parameter (`category=a&category=s|`): the value the
            // others share may be in any of them (`super::clauses_may_share`), so a scope
            // sharing a value with any of them may overlap.
            let union: Values;
            let values = match on_p {
                [(_, one)] => *one,
                several => {
                    union = several
                        .iter()
                        .flat_map(|(_, v)| v.iter().cloned())
                        .collect();
                    &union
                }
            };
            let lists = px.sharing(p, values);
            let named: usize = lists.iter().map(|l| l.len()).sum();
            if fewest.as_ref().is_none_or(|f| named < f.len()) {
                fewest = Some(lists.into_iter().flatten().copied().collect());
            }
        }
        match fewest {
            Some(tags) => out.extend(tags),
            // Unrestricted, only on modified parameters, or on ones no scope here
            // restricts: anything may overlap it.
            None => out.extend(self.all.iter().map(|(t, _)| *t)),
        }
    }
}

fn finish(mut out: Vec<u32>) -> Vec<usize> {
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|i| i as usize).collect()
}
