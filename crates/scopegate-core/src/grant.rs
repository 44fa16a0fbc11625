//! The scope algebra: what a scope grants, whether one set of scopes covers another,
//! and the new access one set adds over another, said in whole scopes.
//!
//! Pure functions over [`Scope`] values. It must not parse, print or read anything.
//! Authority: SMART App Launch 2.x, "Scopes for requesting FHIR resources" (the letter
//! table, the v1 equivalence table and "Scopes can be combined to represent a union of
//! access"). Where the IG is silent (levels, restrictions), the choice is the
//! conservative one and is documented at the function.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use crate::scope::{Letter, Level, Perms, ResourceScope, ResourceType, Restriction, Scope, Values};

mod index;
pub(crate) use index::{RestrictionIndex, ScopeIndex};

/// Policy choices the IG leaves open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The IG states no containment between levels. When set, `user/X` covers
    /// `patient/X` (what a user may see includes the patient in context).
    pub user_covers_patient: bool,
}

impl Options {
    pub(crate) fn level_covers(self, a: Level, b: Level) -> bool {
        a == b || (self.user_covers_patient && a == Level::User && b == Level::Patient)
    }

    /// The levels whose scopes can cover access at `b`.
    fn covering_levels(self, b: Level) -> impl Iterator<Item = Level> {
        Level::ALL
            .into_iter()
            .filter(move |a| self.level_covers(*a, b))
    }
}

/// The FHIR restful interactions one permission letter grants (SMART 2.x table).
pub(crate) fn interactions(letter: Letter) -> &'static [&'static str] {
    match letter {
        Letter::C => &["create"],
        Letter::R => &["read", "vread", "history-instance"],
        Letter::U => &["update", "patch"],
        Letter::D => &["delete"],
        Letter::S => &[
            "search-type",
            "search-system",
            "history-type",
            "history-system",
        ],
    }
}

pub(crate) fn type_covers(a: &ResourceType, b: &ResourceType) -> bool {
    // `*` covers every type "now and in the future"; no list of named types covers `*`.
    matches!(a, ResourceType::Any) || a == b
}

/// `a` grants everything `b` grants, on its own.
pub fn covers(a: &Scope, b: &Scope, opts: Options) -> bool {
    match (a, b) {
        (Scope::Resource(a), Scope::Resource(b)) => resource_covers(a, b, opts),
        // Non-resource scopes are atomic capabilities: only an equal token covers one.
        _ => a == b,
    }
}

/// `a` grants everything `b` grants, on its own.
pub(crate) fn resource_covers(a: &ResourceScope, b: &ResourceScope, opts: Options) -> bool {
    opts.level_covers(a.level, b.level)
        && type_covers(&a.resource, &b.resource)
        && a.perms.is_superset(b.perms)
        && a.restriction.covers(&b.restriction)
}

/// `s` provides some of what `n` needs: they share letters, and on those letters `s`
/// covers `n`. Non-resource scopes serve only an equal need.
pub(crate) fn serves(s: &Scope, n: &Scope, opts: Options) -> bool {
    match (s, n) {
        (Scope::Resource(a), Scope::Resource(b)) => {
            // `a` covers `b` clipped to their shared letters (which `a` has by definition).
            !a.perms.intersection(b.perms).is_empty()
                && opts.level_covers(a.level, b.level)
                && type_covers(&a.resource, &b.resource)
                && a.restriction.covers(&b.restriction)
        }
        _ => s == n,
    }
}

/// Splitting OR-values multiplies the work; past this many pieces we stop splitting and
/// answer "not covered", which can only over-report, never hide access.
const MAX_SPLIT_PIECES: usize = 4096;

static ANY: ResourceType = ResourceType::Any;

/// A set of scopes combined as a union, indexed for coverage questions. It borrows the
/// scopes it is built from: building one copies nothing.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScopeSet<'a> {
    /// Resource scopes by level (`Level as usize`), then by type: one bucket for each
    /// pair in use (a set of one scope, which a ledger entry often is, holds one, not
    /// one per level).
    resources: [FxHashMap<&'a ResourceType, Bucket<'a>>; 3],
    others: BTreeSet<&'a Scope>,
    opts: Options,
}

impl<'a> ScopeSet<'a> {
    pub(crate) fn new(scopes: impl IntoIterator<Item = &'a Scope>, opts: Options) -> ScopeSet<'a> {
        let mut set = ScopeSet {
            opts,
            ..ScopeSet::default()
        };
        for s in scopes {
            set.file(s);
        }
        // Each index is built once its bucket is whole, so that it is sized once: the
        // same entries in the same order as `insert` would push.
        for bucket in set
            .resources
            .iter_mut()
            .flat_map(|by_type| by_type.values_mut())
        {
            bucket.index = RestrictionIndex::of(bucket.entries.iter().map(|(_, r)| *r));
        }
        set
    }

    pub(crate) fn insert(&mut self, s: &'a Scope) {
        if let (Some(bucket), Scope::Resource(r)) = (self.file(s), s) {
            bucket.index.push(&r.restriction);
        }
    }

    /// Adds `s` without indexing it: the bucket of a resource scope, whose index is
    /// the caller's to update.
    fn file(&mut self, s: &'a Scope) -> Option<&mut Bucket<'a>> {
        match s {
            Scope::Resource(r) => {
                let bucket = self.resources[r.level as usize]
                    .entry(&r.resource)
                    .or_default();
                bucket.entries.push((r.perms, &r.restriction));
                Some(bucket)
            }
            other => {
                self.others.insert(other);
                None
            }
        }
    }

    /// Whether the set holds a resource scope (else it grants no part of one).
    pub(crate) fn has_resources(&self) -> bool {
        self.resources.iter().any(|by_type| !by_type.is_empty())
    }

    /// The union of the set grants everything `b` grants.
    pub(crate) fn grants(&self, b: &Scope) -> bool {
        match b {
            Scope::Resource(r) => self.uncovered(r).is_empty(),
            other => self.others.contains(other),
        }
    }

    /// The part of `b` this set does not grant, as whole scopes (empty when covered).
    ///
    /// Letters are checked one by one; a restriction with OR-values is split so that
    /// `?category=a` plus `?category=b` covers `?category=a,b`, and the residual names
    /// only the values that are still uncovered.
    pub(crate) fn uncovered(&self, b: &ResourceScope) -> Vec<ResourceScope> {
        // Fast path: one scope in the set covers `b` whole (the common case).
        if self
            .candidates(b.level, &b.resource, &b.restriction)
            .any(|(p, r)| p.is_superset(b.perms) && r.covers(&b.restriction))
        {
            return Vec::new();
        }
        let mut by_restriction: BTreeMap<Restriction, Perms> = BTreeMap::new();
        for letter in b.perms.letters() {
            for residual in self.uncovered_atom(b.level, &b.resource, letter, &b.restriction) {
                let p = by_restriction
                    .entry(residual)
                    .or_insert(Perms::from_letters([]));
                *p = p.union(Perms::from_letters([letter]));
            }
        }
        by_restriction
            .into_iter()
            .map(|(restriction, perms)| ResourceScope {
                level: b.level,
                resource: b.resource.clone(),
                perms,
                restriction,
            })
            .collect()
    }

    /// The scopes in this set that on their own cover `b`.
    pub(crate) fn covering<'s>(
        &'s self,
        b: &'s ResourceScope,
    ) -> impl Iterator<Item = ResourceScope> + 's {
        // Levels and types are chosen to cover `b`'s, so only letters and restriction
        // are left to test, before anything is cloned.
        let any = matches!(b.resource, ResourceType::Named(_)).then_some(&ANY);
        self.opts.covering_levels(b.level).flat_map(move |level| {
            std::iter::once(&b.resource)
                .chain(any)
                .flat_map(move |resource| {
                    self.at(level, resource)
                        .may_cover(&b.restriction)
                        .filter(|(perms, restriction)| {
                            perms.is_superset(b.perms) && restriction.covers(&b.restriction)
                        })
                        .map(move |(perms, restriction)| ResourceScope {
                            level,
                            resource: resource.clone(),
                            perms: *perms,
                            restriction: (*restriction).clone(),
                        })
                })
        })
    }

    fn at(&self, level: Level, ty: &ResourceType) -> &Bucket<'a> {
        static EMPTY: Bucket<'static> = Bucket {
            entries: Vec::new(),
            index: RestrictionIndex::EMPTY,
        };
        self.resources[level as usize].get(ty).unwrap_or(&EMPTY)
    }

    /// The scopes at levels and types that cover `(level, ty)` whose restriction may
    /// cover `r` (a superset of those that do), in the order they were inserted.
    fn candidates<'s>(
        &'s self,
        level: Level,
        ty: &'s ResourceType,
        r: &'s Restriction,
    ) -> impl Iterator<Item = &'s (Perms, &'a Restriction)> + 's {
        self.opts.covering_levels(level).flat_map(move |l| {
            let any = matches!(ty, ResourceType::Named(_)).then(|| self.at(l, &ANY));
            std::iter::once(self.at(l, ty))
                .chain(any)
                .flat_map(move |b| b.may_cover(r))
        })
    }

    fn atom_covered(&self, level: Level, ty: &ResourceType, l: Letter, r: &Restriction) -> bool {
        self.atom_covered_within(level, ty, l, r, &mut MAX_SPLIT_PIECES.clone())
    }

    fn atom_covered_within(
        &self,
        level: Level,
        ty: &ResourceType,
        l: Letter,
        r: &Restriction,
        budget: &mut usize,
    ) -> bool {
        if self
            .candidates(level, ty, r)
            .any(|(p, cr)| p.contains(l) && cr.covers(r))
        {
            return true;
        }
        let Some((_, parts)) = r.split_first_or() else {
            return false;
        };
        if *budget < parts.len() {
            return false;
        }
        *budget -= parts.len();
        parts
            .iter()
            .all(|(_, part)| self.atom_covered_within(level, ty, l, part, budget))
    }

    /// The restrictions under which `(level, ty, l, r)` is not granted.
    fn uncovered_atom(
        &self,
        level: Level,
        ty: &ResourceType,
        l: Letter,
        r: &Restriction,
    ) -> Vec<Restriction> {
        if self.atom_covered(level, ty, l, r) {
            return Vec::new();
        }
        let Some((param, parts)) = r.split_first_or() else {
            return vec![r.clone()];
        };
        let all: Values = parts.iter().map(|(v, _)| v.clone()).collect();
        let missing: Values = parts
            .iter()
            .filter(|(_, part)| !self.atom_covered(level, ty, l, part))
            .map(|(v, _)| v.clone())
            .collect();
        if missing == all {
            vec![r.clone()]
        } else {
            vec![r.with_clause_values(&param, &all, missing)]
        }
    }
}

/// The scopes of one type at one level, with their restrictions indexed.
#[derive(Clone, Debug, Default)]
struct Bucket<'a> {
    entries: Vec<(Perms, &'a Restriction)>,
    index: RestrictionIndex<'a>,
}

impl<'a> Bucket<'a> {
    /// The entries whose restriction may cover `r`, in insertion order.
    fn may_cover<'s>(&'s self, r: &Restriction) -> Candidates<'s, (Perms, &'a Restriction)> {
        Candidates::new(&self.entries, self.index.may_cover(r))
    }
}

/// Items of a slice: all of them, or those at the given (ascending) positions.
pub(crate) enum Candidates<'s, T> {
    All(std::slice::Iter<'s, T>),
    Some(&'s [T], std::vec::IntoIter<usize>),
}

impl<'s, T> Candidates<'s, T> {
    pub(crate) fn new(items: &'s [T], positions: Option<Vec<usize>>) -> Self {
        match positions {
            None => Candidates::All(items.iter()),
            Some(p) => Candidates::Some(items, p.into_iter()),
        }
    }
}

impl<'s, T> Iterator for Candidates<'s, T> {
    type Item = &'s T;
    fn next(&mut self) -> Option<&'s T> {
        match self {
            Candidates::All(it) => it.next(),
            Candidates::Some(items, it) => it.next().map(|i| &items[i]),
        }
    }
}

/// Access in `head` that `base` does not grant, attached to the head scope it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewAccess {
    /// The head scope, as normalised.
    pub(crate) scope: Scope,
    /// Exactly the part of `scope` that is new, in whole scopes.
    pub(crate) new: Vec<Scope>,
    /// The base scopes that `scope` widens ([`widens`]), for "X widened to Y".
    pub(crate) widens: Vec<Scope>,
}

#[cfg(test)]
impl NewAccess {
    /// A reviewer's sentence: "`patient/Observation.rs` widened to `patient/*.rs`".
    pub(crate) fn describe(&self) -> String {
        let new = join(&self.new);
        if self.widens.is_empty() {
            if self.new == [self.scope.clone()] {
                format!("`{}` added", self.scope)
            } else {
                format!("`{}` added (new: {new})", self.scope)
            }
        } else {
            format!(
                "{} widened to `{}` (new: {new})",
                join(&self.widens),
                self.scope
            )
        }
    }
}

#[cfg(test)]
fn join(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the head scope `h` (which adds access) widens the base scope `b`: they
/// share a letter, `h`'s type is `b`'s or `*`, and one restriction covers the other:
/// `h` reaches more of `b`'s data (`?category=laboratory` -> none), or does more with
/// part of it (`Observation.rs` -> `Observation.cruds?category=laboratory`). At `b`'s
/// level or a broader one (`patient/X.rs` -> `user/X.rs` reads as a widening), never a
/// narrower one: `patient/*.rs` reaches none of `user/Practitioner.rs`'s user-level
/// data, and naming it as widened told a reviewer the user access had changed. A
/// sibling is not widened: `?category=vital-signs` is other data than
/// `?category=laboratory` (the partition granular scopes make, as in `tenant`), and is
/// reported as added.
fn widens(h: &ResourceScope, b: &ResourceScope) -> bool {
    h.level >= b.level
        && type_covers(&h.resource, &b.resource)
        && b.perms.intersects(h.perms)
        && (h.restriction.covers(&b.restriction) || b.restriction.covers(&h.restriction))
}

/// Scopes indexed for one question asked of many: does one of them cover `s`, or is
/// one covered by it? Each question asks only the candidates the index names.
pub struct Related<'a> {
    scopes: &'a [Scope],
    index: ScopeIndex<'a>,
    opts: Options,
}

impl<'a> Related<'a> {
    pub fn new(scopes: &'a [Scope], opts: Options) -> Related<'a> {
        Related {
            scopes,
            index: ScopeIndex::of(scopes),
            opts,
        }
    }

    /// One of the scopes covers `s` or is covered by it.
    pub fn any(&self, s: &Scope) -> bool {
        self.index.related(s).into_iter().any(|i| {
            let p = &self.scopes[i];
            covers(s, p, self.opts) || covers(p, s, self.opts)
        })
    }
}

/// The part of `head`'s access that `base` does not cover. Empty when `head` is a pure
/// rewording of `base` (v1 → v2 letters, reordering, splitting, duplicates).
pub(crate) fn new_access(head: &[Scope], base: &[Scope], opts: Options) -> Vec<NewAccess> {
    let base_set = ScopeSet::new(base, opts);
    // Built only if some head scope adds access: most runs add little or nothing.
    let base_index = std::cell::OnceCell::new();
    let mut asked = 0;
    // Most head scopes add nothing, so only those that do are put in order (the order
    // of a set of the head scopes) and rid of repeats, which add the same.
    let mut news: Vec<NewAccess> = head
        .iter()
        .filter_map(|h| {
            let new: Vec<Scope> = match h {
                Scope::Resource(r) => base_set
                    .uncovered(r)
                    .into_iter()
                    .map(Scope::Resource)
                    .collect(),
                other if base_set.grants(other) => Vec::new(),
                other => vec![other.clone()],
            };
            if new.is_empty() {
                return None;
            }
            let widens = match h {
                // Only the base scopes the index names may be widened: a head of 2,000
                // new codes is not compared with a base of 2,000 others. The first few
                // are scanned: an index of a large base costs more than that.
                Scope::Resource(r) => {
                    asked += 1;
                    let near = if asked <= ScopeIndex::SCAN_FIRST {
                        (0..base.len()).collect()
                    } else {
                        base_index.get_or_init(|| ScopeIndex::of(base)).related(h)
                    };
                    near.into_iter()
                        .map(|i| &base[i])
                        .filter(|b| b.as_resource().is_some_and(|b| widens(r, b)))
                        .cloned()
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect()
                }
                _ => Vec::new(),
            };
            Some(NewAccess {
                scope: h.clone(),
                new,
                widens,
            })
        })
        .collect();
    news.sort_by(|a, b| a.scope.cmp(&b.scope));
    news.dedup_by(|a, b| a.scope == b.scope);
    news
}

/// The smallest equivalent set of scopes: letters merged per type, single-parameter
/// restrictions merged by OR, and every scope the others already grant dropped.
pub(crate) fn minimize(scopes: &[Scope], opts: Options) -> Vec<Scope> {
    let mut others: BTreeSet<Scope> = BTreeSet::new();
    let mut perms: BTreeMap<(Level, ResourceType, Restriction), Perms> = BTreeMap::new();
    for s in scopes {
        match s {
            Scope::Resource(r) => {
                let p = perms
                    .entry((r.level, r.resource.clone(), r.restriction.clone()))
                    .or_insert(Perms::from_letters([]));
                *p = p.union(r.perms);
            }
            other => {
                others.insert(other.clone());
            }
        }
    }
    // Merge `?p=a` and `?p=b` with the same letters into `?p=a,b`: the same union. The
    // values are gathered first and the restriction made once: remaking it per scope
    // merged was cubic in the values (2,000 codes: 24 s).
    let mut merged: BTreeMap<(Level, ResourceType, Perms, String), BTreeSet<String>> =
        BTreeMap::new();
    let mut resources: Vec<ResourceScope> = Vec::new();
    for ((level, resource, restriction), perms) in perms {
        let single: Vec<_> = restriction.clauses().collect();
        // (A modified parameter's values do not OR: `code:not=a,b` is not the union.)
        if let [(param, values)] = single.as_slice()
            && !crate::scope::is_modified_parameter(param)
        {
            merged
                .entry((level, resource.clone(), perms, param.to_string()))
                .or_default()
                .extend(values.iter().cloned());
        } else {
            resources.push(ResourceScope {
                level,
                resource,
                perms,
                restriction,
            });
        }
    }
    resources.extend(
        merged
            .into_iter()
            .map(|((level, resource, perms, param), values)| ResourceScope {
                level,
                resource,
                perms,
                restriction: Restriction::from_clauses([(param, values.into_iter().collect())]),
            }),
    );
    // Broadest first, then keep a scope only when what is kept so far does not grant it.
    resources.sort_by_key(|r| {
        (
            r.resource != ResourceType::Any,
            std::cmp::Reverse(r.perms.letters().count()),
            r.restriction.clauses().count(),
            r.clone(),
        )
    });
    let candidates: Vec<Scope> = resources.into_iter().map(Scope::Resource).collect();
    let mut kept_set = ScopeSet::new([], opts);
    let mut kept: Vec<Scope> = Vec::new();
    for s in &candidates {
        if !kept_set.grants(s) {
            kept_set.insert(s);
            kept.push(s.clone());
        }
    }
    kept.sort();
    others.into_iter().chain(kept).collect()
}

#[cfg(test)]
pub(crate) mod tests;
