//! An index over many scopes that answers "which of them may overlap `s`" ([`overlaps`])
//! without asking every one: `scopegate matrix` lists, for each of 2,000 scopes, the
//! ledger keys that share access with it, and a ledger of 2,000 keys on one type was
//! 4,000,000 questions.
//!
//! The answer is a superset, in push order; the caller still asks [`overlaps`]. It
//! rests on two necessary conditions for two resource scopes to overlap: related types
//! (equal, or one of them `*`), and, for a parameter `p` that `s` restricts unmodified,
//! a scope that also restricts `p` has a value overlapping one of `s`'s on `p`
//! ([`overlap_bucket`]). Non-resource scopes overlap only an equal one.
//!
//! [`overlaps`]: super::overlaps

use rustc_hash::FxHashMap;

use crate::scope::{ResourceType, Restriction, Scope, is_modified_parameter, token_semantics};

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

#[derive(Debug, Default)]
struct Param<'a> {
    /// The scopes that do not restrict it: nothing on it keeps them from overlapping.
    without: Vec<u32>,
    /// Those with a value of any code on it (`sys|`).
    wild: Vec<u32>,
    by_bucket: FxHashMap<&'a str, Vec<u32>>,
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
        let Scope::Resource(r) = s else {
            return finish(self.others.get(s).cloned().unwrap_or_default());
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

impl Typed<'_> {
    fn finish(&mut self) {
        let mut params: FxHashMap<&str, Param<'_>> = FxHashMap::default();
        for (_, r) in &self.all {
            for (p, _) in r.clauses().filter(|(p, _)| !is_modified_parameter(p)) {
                params.entry(p).or_default();
            }
        }
        for (tag, r) in &self.all {
            for (p, px) in &mut params {
                let Some(values) = r.clauses().find(|(q, _)| q == p).map(|(_, vs)| vs) else {
                    px.without.push(*tag);
                    continue;
                };
                for v in values {
                    match overlap_bucket(p, v) {
                        None => px.wild.push(*tag),
                        Some(b) => px.by_bucket.entry(b).or_default().push(*tag),
                    }
                }
            }
        }
        self.params = params;
    }

    fn may_overlap(&self, s: &Restriction, out: &mut Vec<u32>) {
        let all = || self.all.iter().map(|(t, _)| *t);
        let Some((p, values)) = s.clauses().find(|(p, _)| !is_modified_parameter(p)) else {
            // Unrestricted, or only on modified parameters: anything may overlap it.
            out.extend(all());
            return;
        };
        let Some(px) = self.params.get(p) else {
            // No scope on the type restricts `p`.
            out.extend(all());
            return;
        };
        out.extend_from_slice(&px.without);
        out.extend_from_slice(&px.wild);
        for v in values {
            match overlap_bucket(p, v) {
                // Any code of a system: every scope restricting `p` may share one.
                None => {
                    out.extend(all());
                    return;
                }
                Some(b) => out.extend(px.by_bucket.get(b).into_iter().flatten()),
            }
        }
    }
}

fn finish(mut out: Vec<u32>) -> Vec<usize> {
    out.sort_unstable();
    out.dedup();
    out.into_iter().map(|i| i as usize).collect()
}
