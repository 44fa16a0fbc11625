//! The semantic authorization diff: a baseline manifest and a head manifest in, the
//! [`Change`]s between them out, each with a rule, a risk and an approval key.
//!
//! Rewording (`read` → `rs`, reordering, splitting letters, duplicates) is no change:
//! everything is decided by `crate::grant::new_access` on parsed scopes. Approval
//! states are left for the gate to fill in. Pure: no I/O.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::{FxHashMap, FxHashSet};

use crate::grant::{
    Candidates, NewAccess, Options, RestrictionIndex, ScopeIndex, ScopeSet, new_access, serves,
    type_covers,
};
use crate::manifest::{Manifest, Pos, ScopeEntry, Workflow};
use crate::narrowing;
use crate::report::{Approval, Change, Direction, Location};
use crate::rules::{RuleId, Severity, rule};
use crate::scope::{Letter, Level, Refresh, ResourceType, Scope};

/// Escalation rules in priority order: the first that applies names the change.
const PRIORITY: [RuleId; 7] = [
    RuleId::WildcardTypeAdded,
    RuleId::LevelWidened,
    RuleId::DeleteAccessAdded,
    RuleId::WriteAccessAdded,
    RuleId::RestrictionLoosened,
    RuleId::ResourceAccessAdded,
    RuleId::ReadAccessAdded,
];

/// All changes from `base` (None: a new app) to `head`.
pub fn diff(base: Option<&Manifest>, head: &Manifest, opts: Options) -> Vec<Change> {
    diff_beside(base, head, opts, &|| ()).0
}

/// [`diff`], and `beside` run with its parts: on a large manifest, the parts and
/// `beside` are shared by this thread and one more (the gate's text diff of the same
/// manifest, which would otherwise take a core of its own after the diff).
pub(crate) fn diff_beside<T: Send>(
    base: Option<&Manifest>,
    head: &Manifest,
    opts: Options,
    beside: &(dyn Fn() -> T + Sync),
) -> (Vec<Change>, T) {
    let app = &head.id.value;
    let base_scopes: Vec<Scope> = base
        .map(|b| b.requested().cloned().collect())
        .unwrap_or_default();
    let head_scopes: Vec<Scope> = head.requested().cloned().collect();
    let workflows = head.workflows.len() + base.map_or(0, |b| b.workflows.len());
    // The three parts read the same manifests and nothing of each other. A large
    // manifest's are each a third of the diff (2,000 codes replaced: 3 ms apiece), so
    // they are shared by this thread and one more; a small one's are not worth a
    // thread.
    let (mut changes, reduced, workflow, other) =
        if base_scopes.len() + head_scopes.len() + workflows < DIFF_ON_THREADS_FROM {
            (
                escalations(head, &base_scopes, &head_scopes, opts),
                reductions(head, &base_scopes, &head_scopes, opts),
                workflow_changes(base, head, opts),
                beside(),
            )
        } else {
            enum Part<T> {
                Changes(Vec<Change>),
                Beside(T),
            }
            let parts: [&(dyn Fn() -> Part<T> + Sync); 4] = [
                &|| Part::Changes(escalations(head, &base_scopes, &head_scopes, opts)),
                &|| Part::Changes(reductions(head, &base_scopes, &head_scopes, opts)),
                &|| Part::Changes(workflow_changes(base, head, opts)),
                &|| Part::Beside(beside()),
            ];
            let Ok(
                [
                    Part::Changes(escalated),
                    Part::Changes(reduced),
                    Part::Changes(workflow),
                    Part::Beside(other),
                ],
            ) = <[Part<T>; 4]>::try_from(crate::threads::on_two(&parts))
            else {
                unreachable!("one result per part, in order")
            };
            (escalated, reduced, workflow, other)
        };
    // Sized once: grown by doubling, 2,000 escalations and 2,000 reductions of a
    // replaced list made it room for 8,000 (3 MB, each copy fresh memory).
    changes.reserve_exact(1 + reduced.len() + workflow.len());
    if let Some(b) = base.filter(|b| b.id.value != *app) {
        changes.insert(0, id_changed(&b.id.value, head));
    }
    crate::append(&mut changes, reduced);
    crate::append(&mut changes, workflow);
    (changes, other)
}

/// From this many scopes and workflows (base and head together), [`diff`] makes its
/// three parts on threads.
const DIFF_ON_THREADS_FROM: usize = 400;

/// The access `head` grants that `base_scopes` did not, one change per piece, each
/// named by its rules and pointed at the entry that requests it.
fn escalations(
    head: &Manifest,
    base_scopes: &[Scope],
    head_scopes: &[Scope],
    opts: Options,
) -> Vec<Change> {
    let app = &head.id.value;
    let escalations = pieces(new_access(head_scopes, base_scopes, opts), opts);
    let lookup = Lookup::new(head, escalations.len());
    // Indexed once, and only when something is new.
    let base = std::cell::OnceCell::new();
    let mut changes = Vec::with_capacity(escalations.len());
    for (n, p) in escalations {
        let rules = classify(&p, base.get_or_init(|| BaseScopes::new(base_scopes)), opts);
        let severity = rules
            .iter()
            .map(|r| rule(*r).severity)
            .max()
            .unwrap_or(Severity::Note);
        let entry = lookup.entry(&n.scope);
        let pos = entry.map_or(head.scopes_pos, |e| e.token.text.pos);
        let head_text = entry.map_or_else(|| n.scope.to_string(), |e| e.token.text.value.clone());
        let workflows = lookup.workflows(&p, opts);
        let scope = p.to_string();
        changes.push(Change {
            app: app.clone(),
            direction: Direction::Escalation,
            rule: rules[0],
            also: rules[1..].to_vec(),
            severity,
            key: format!("{app}:{scope}"),
            scope,
            before: n.widens.iter().map(ToString::to_string).collect(),
            description: describe(&n, &p, &head_text),
            head: Some(head_text),
            location: Location::new(&head.path, pos),
            workflows,
            approval: Approval::not_required(),
            new_in_pr: None,
        });
    }
    changes
}

/// The access `base_scopes` granted that `head` does not, one change per piece:
/// removed, or narrowed to what the head still grants of it.
fn reductions(
    head: &Manifest,
    base_scopes: &[Scope],
    head_scopes: &[Scope],
    opts: Options,
) -> Vec<Change> {
    let app = &head.id.value;
    let reductions = pieces(new_access(base_scopes, head_scopes, opts), opts);
    let head_lookup = Lookup::new(head, reductions.len());
    // The head scopes that may keep part of a removed scope or overlap it, looked up:
    // 2,000 removed codes are not each compared with 2,000 others.
    let index = (!reductions.is_empty()).then(|| ScopeIndex::of(head_scopes));
    let near = |s: &Scope| -> Vec<&Scope> {
        index
            .as_ref()
            .map(|ix| ix.related(s).into_iter().map(|i| &head_scopes[i]).collect())
            .unwrap_or_default()
    };
    let mut changes = Vec::with_capacity(reductions.len());
    for (n, p) in reductions {
        // Removed access the head still grants in part is narrowed, not gone.
        let kept = narrowing::kept(&p, near(&p));
        let overlapping: Vec<&Scope> = near(&n.scope)
            .into_iter()
            .filter(|h| overlaps(h, &n.scope))
            .collect();
        let description = describe_reduction(&n, &p, &kept, &overlapping);
        // Point at the scope that narrows it, not at the list.
        let at = kept
            .first()
            .or_else(|| overlapping.first())
            .and_then(|s| head_lookup.entry(s));
        let pos = at.map_or(head.scopes_pos, |e| e.token.text.pos);
        changes.push(Change {
            app: app.clone(),
            direction: Direction::Reduction,
            rule: RuleId::AccessRemoved,
            also: Vec::new(),
            severity: rule(RuleId::AccessRemoved).severity,
            key: format!("{app}:{p}"),
            scope: p.to_string(),
            head: None,
            before: vec![n.scope.to_string()],
            description,
            location: Location::new(&head.path, pos),
            workflows: Vec::new(),
            approval: Approval::not_required(),
            new_in_pr: None,
        });
    }
    changes
}

/// How a removed piece `p` of `n` reads: narrowed to the head scopes that still grant
/// part of it (`kept`), narrowed to the head scopes that overlap it, or removed.
/// `overlapping`: the head scopes that overlap `n`'s scope, in the head's order.
fn describe_reduction(n: &NewAccess, p: &Scope, kept: &[&Scope], overlapping: &[&Scope]) -> String {
    let narrowed: Vec<String> = overlapping
        .iter()
        .map(ToString::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let quoted = |v: &[String]| {
        v.iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !kept.is_empty() {
        let names: Vec<String> = kept.iter().map(ToString::to_string).collect();
        format!(
            "`{}` narrowed to {}: {}",
            n.scope,
            quoted(&names),
            narrowing::describe(&narrowing::limit(p, kept))
        )
    } else if narrowed.is_empty() {
        format!("`{}` removed", n.scope)
    } else {
        format!(
            "`{}` narrowed to {} (removed: `{p}`)",
            n.scope,
            quoted(&narrowed)
        )
    }
}

/// The rules whose changes are to an app's identity, not its access: approved only
/// by an entry naming exactly their key (`<app>:*removed*`, `<app>:*id-changed-from:<old>*`).
pub(crate) fn is_identity_change(rule: RuleId) -> bool {
    matches!(rule, RuleId::AppIdChanged | RuleId::AppGatingStopped)
}

/// The manifest that had id `from` at the baseline claims `head`'s id now. Its access
/// is diffed against that manifest (the same path's baseline); the new identity itself
/// needs an approval, so no app takes another's id, or its approvals, unseen.
fn id_changed(from: &str, head: &Manifest) -> Change {
    let app = &head.id.value;
    let key = crate::approval::Key::id_changed(app, from);
    Change {
        app: app.clone(),
        direction: Direction::Escalation,
        rule: RuleId::AppIdChanged,
        also: Vec::new(),
        severity: rule(RuleId::AppIdChanged).severity,
        scope: key.target.to_string(),
        key: key.to_string(),
        head: Some(app.clone()),
        before: vec![from.to_string()],
        description: format!(
            "the manifest of app `{from}` now claims the id `{app}`: approvals and access follow the id"
        ),
        location: Location::new(&head.path, head.id.pos),
        workflows: Vec::new(),
        approval: Approval::not_required(),
        new_in_pr: None,
    }
}

/// The access of an app present at the baseline whose manifest is gone at head, as
/// reductions (`app-removed`), located at the scopes in the baseline file; and the
/// removal itself (`app-gating-stopped`), which needs an approval of its own: from
/// here on nothing gates the app. `why` says what happened to the manifest.
pub fn removed(base: &Manifest, why: &str, opts: Options) -> Vec<Change> {
    let app = &base.id.value;
    let base_scopes: Vec<Scope> = base.requested().cloned().collect();
    let reductions = pieces(new_access(&base_scopes, &[], opts), opts);
    let lookup = Lookup::new(base, reductions.len());
    let key = crate::approval::Key::removed(app);
    let stopped = Change {
        app: app.clone(),
        direction: Direction::Escalation,
        rule: RuleId::AppGatingStopped,
        also: Vec::new(),
        severity: rule(RuleId::AppGatingStopped).severity,
        scope: key.target.to_string(),
        key: key.to_string(),
        head: None,
        before: Vec::new(),
        description: format!("gating stops for app `{app}`: {why}"),
        location: Location::new(&base.path, base.id.pos),
        workflows: Vec::new(),
        approval: Approval::not_required(),
        new_in_pr: None,
    };
    std::iter::once(stopped)
        .chain(reductions.into_iter().map(|(n, p)| {
            let pos = lookup
                .entry(&n.scope)
                .map_or(base.scopes_pos, |e| e.token.text.pos);
            Change {
                app: app.clone(),
                direction: Direction::Reduction,
                rule: RuleId::AppRemoved,
                also: Vec::new(),
                severity: rule(RuleId::AppRemoved).severity,
                key: format!("{app}:{p}"),
                scope: p.to_string(),
                head: None,
                before: vec![n.scope.to_string()],
                description: format!(
                    "`{p}` removed with the app: no manifest with id `{app}` at head"
                ),
                location: Location::new(&base.path, pos),
                workflows: Vec::new(),
                approval: Approval::not_required(),
                new_in_pr: None,
            }
        }))
        .collect()
}

/// The workflows of `head` whose needs `piece` serves (for `offline_access`, the
/// workflows that run offline).
pub(crate) fn justifying_workflows(head: &Manifest, piece: &Scope, opts: Options) -> Vec<String> {
    let mut out: Vec<String> = head
        .workflows
        .iter()
        .filter(|w| {
            w.needs
                .iter()
                .filter_map(|n| n.scope())
                .any(|n| serves(piece, n, opts))
                || (w.offline.is_some() && piece == &Scope::Refresh(Refresh::Offline))
        })
        .map(|w| w.id.value.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where a piece's scope is in a manifest, and which workflows it serves. Asked of
/// every piece: with many (a new app: every scope) a scan per piece is quadratic, so
/// they are indexed; with a few, a scan costs less than the index.
pub(crate) struct Lookup<'m> {
    m: &'m Manifest,
    index: Option<Index<'m>>,
}

struct Index<'m> {
    /// The first entry of each scope.
    first: FxHashMap<&'m Scope, &'m ScopeEntry>,
    /// Resource needs by type, with their workflow, indexed by restriction: a piece
    /// serves only needs its restriction covers.
    needs: FxHashMap<&'m ResourceType, NeedsOfType<'m>>,
}

/// `(workflow, need)` pairs of one type, and their restrictions indexed.
type NeedsOfType<'m> = (Vec<(&'m str, &'m Scope)>, RestrictionIndex<'m>);

impl<'m> Lookup<'m> {
    const INDEX_FROM: usize = 16;

    pub(crate) fn new(m: &'m Manifest, pieces: usize) -> Lookup<'m> {
        let index = (pieces >= Self::INDEX_FROM).then(|| {
            let mut first: FxHashMap<&Scope, &ScopeEntry> = FxHashMap::default();
            first.reserve(m.scopes.len());
            for e in &m.scopes {
                if let Some(s) = e.token.scope() {
                    first.entry(s).or_insert(e);
                }
            }
            let mut needs: FxHashMap<&ResourceType, NeedsOfType> = FxHashMap::default();
            for w in &m.workflows {
                for n in w.needs.iter().filter_map(|n| n.scope()) {
                    if let Scope::Resource(r) = n {
                        let (list, index) = needs.entry(&r.resource).or_default();
                        list.push((&w.id.value, n));
                        index.push(&r.restriction);
                    }
                }
            }
            Index { first, needs }
        });
        Lookup { m, index }
    }

    fn entry(&self, s: &Scope) -> Option<&'m ScopeEntry> {
        match &self.index {
            Some(i) => i.first.get(s).copied(),
            None => self.m.scopes.iter().find(|e| e.token.scope() == Some(s)),
        }
    }

    /// What [`justifying_workflows`] answers.
    pub(crate) fn workflows(&self, piece: &Scope, opts: Options) -> Vec<String> {
        match (&self.index, piece) {
            // A named type serves only needs of that very type.
            (Some(i), Scope::Resource(r)) if r.resource != ResourceType::Any => {
                let mut out: Vec<String> = i
                    .needs
                    .get(&r.resource)
                    .into_iter()
                    .flat_map(|(list, index)| {
                        Candidates::new(list, index.may_be_covered_by(&r.restriction))
                    })
                    .filter(|(_, n)| serves(piece, n, opts))
                    .map(|(w, _)| w.to_string())
                    .collect();
                out.sort();
                out.dedup();
                out
            }
            _ => justifying_workflows(self.m, piece, opts),
        }
    }
}

/// Flattens new access into `(origin, piece)` pairs, dropping a piece that another
/// piece already covers (it is reported under the broader one) and repeats.
fn pieces(news: Vec<NewAccess>, opts: Options) -> Vec<(NewAccess, Scope)> {
    let all: Vec<Scope> = news.iter().flat_map(|n| n.new.iter().cloned()).collect();
    // Indexed, as every piece is checked against every other: only a resource scope
    // covers another one (other tokens only an equal one).
    let others = ScopeSet::new(&all, opts);
    // Only asked whether a piece was seen: hashed, not ordered (an ordered set compared
    // restrictions clause by clause, about a fifth of a large diff).
    let mut seen: FxHashSet<&Scope> = FxHashSet::default();
    seen.reserve(all.len());
    let mut out = Vec::with_capacity(all.len());
    // `all` holds the pieces in the order they are visited: what is seen is borrowed
    // from it, and a piece is copied only once it is kept.
    let mut all_pieces = all.iter();
    for n in news {
        let kept: Vec<&Scope> = all_pieces
            .by_ref()
            .take(n.new.len())
            .filter(|p| {
                let covered_by_other = match p {
                    Scope::Resource(r) => others.covering(r).any(|o| o != *r),
                    _ => false,
                };
                !covered_by_other && seen.insert(*p)
            })
            .collect();
        if let Some((last, rest)) = kept.split_last() {
            out.extend(rest.iter().map(|p| (n.clone(), (*p).clone())));
            out.push((n, (*last).clone()));
        }
    }
    out
}

/// Two scopes share some access (same kind of token; for resources, a common letter
/// at the same level on related types, one restriction covering the other: sibling
/// codes are other data).
fn overlaps(a: &Scope, b: &Scope) -> bool {
    match (a, b) {
        (Scope::Resource(x), Scope::Resource(y)) => {
            x.level == y.level
                && (type_covers(&x.resource, &y.resource) || type_covers(&y.resource, &x.resource))
                && x.perms.intersects(y.perms)
                && (x.restriction.covers(&y.restriction) || y.restriction.covers(&x.restriction))
        }
        _ => a == b,
    }
}

fn describe(n: &NewAccess, piece: &Scope, head_text: &str) -> String {
    let new = if piece == &n.scope {
        String::new()
    } else {
        format!(" (new: `{piece}`)")
    };
    if n.widens.is_empty() {
        format!("`{head_text}` added{new}")
    } else {
        let before: Vec<String> = n.widens.iter().map(|s| format!("`{s}`")).collect();
        format!("{} widened to `{head_text}`{new}", before.join(", "))
    }
}

/// The baseline's scopes, indexed for [`classify`]'s questions about each new piece:
/// a diff of 2,000 new codes against 2,000 old ones asks no question of every pair.
pub(crate) struct BaseScopes<'a> {
    scopes: Vec<&'a Scope>,
    /// The levels of the baseline's resource scopes on each type (`*` included), as
    /// bits (`1 << Level as usize`).
    levels: FxHashMap<&'a ResourceType, u8>,
    /// The levels of all of them.
    all_levels: u8,
    /// Made on the first questions past a few (a few pieces cost less scanned).
    index: OnceLock<ScopeIndex<'a>>,
    asked: AtomicUsize,
}

impl<'a> BaseScopes<'a> {
    pub(crate) fn new(scopes: impl IntoIterator<Item = &'a Scope>) -> BaseScopes<'a> {
        let scopes: Vec<&Scope> = scopes.into_iter().collect();
        let mut levels: FxHashMap<&ResourceType, u8> = FxHashMap::default();
        let mut all_levels = 0;
        for r in scopes.iter().filter_map(|s| s.as_resource()) {
            *levels.entry(&r.resource).or_default() |= 1 << r.level as usize;
            all_levels |= 1 << r.level as usize;
        }
        BaseScopes {
            scopes,
            levels,
            all_levels,
            index: OnceLock::new(),
            asked: AtomicUsize::new(0),
        }
    }

    /// The baseline scopes that may cover `s` or be covered by it (a superset), in
    /// order: all of them for the first few questions, then those the index names.
    fn related(&self, s: &Scope) -> Vec<usize> {
        let asked = self.asked.fetch_add(1, Ordering::Relaxed) + 1;
        if asked <= ScopeIndex::SCAN_FIRST && self.index.get().is_none() {
            return (0..self.scopes.len()).collect();
        }
        self.index
            .get_or_init(|| ScopeIndex::of(self.scopes.iter().copied()))
            .related(s)
    }

    /// The levels of the baseline's scopes on a type that covers `t` or that `t` covers.
    fn related_levels(&self, t: &ResourceType) -> u8 {
        let on = |t: &ResourceType| self.levels.get(t).copied().unwrap_or(0);
        match t {
            ResourceType::Any => self.all_levels,
            named => on(named) | on(&ResourceType::Any),
        }
    }
}

/// Every escalation rule that applies to the new piece, most telling first.
pub(crate) fn classify(p: &Scope, base: &BaseScopes<'_>, opts: Options) -> Vec<RuleId> {
    let r = match p {
        Scope::Resource(r) => r,
        Scope::Refresh(Refresh::Offline) => return vec![RuleId::OfflineAccessAdded],
        Scope::Refresh(Refresh::Online) => return vec![RuleId::OnlineAccessAdded],
        Scope::Identity(_) => return vec![RuleId::IdentityScopeAdded],
        Scope::Launch(_) => return vec![RuleId::LaunchContextAdded],
        Scope::Extension(_) | Scope::Unknown(_) => return vec![RuleId::OpaqueScopeAdded],
        Scope::Invalid(_) => return vec![RuleId::InvalidScopeAdded],
    };
    // The levels of the baseline's scopes on related types: one at a level that covers
    // the piece's, one at a level that does not.
    let related = base.related_levels(&r.resource);
    let at = |covering: bool| {
        Level::ALL
            .into_iter()
            .any(|l| related & (1 << l as usize) != 0 && opts.level_covers(l, r.level) == covering)
    };
    let (same_level, other_level) = (at(true), at(false));
    let any_level_same_type =
        base.levels.contains_key(&r.resource) || base.levels.contains_key(&ResourceType::Any);
    let mut rules = Vec::new();
    if r.resource == ResourceType::Any {
        rules.push(RuleId::WildcardTypeAdded);
    }
    // `patient/` is the narrowest level: moving to it reaches fewer patients.
    if !same_level && other_level && r.level != Level::Patient {
        rules.push(RuleId::LevelWidened);
    }
    if r.perms.contains(Letter::D) {
        rules.push(RuleId::DeleteAccessAdded);
    }
    if r.perms.contains(Letter::C) || r.perms.contains(Letter::U) {
        rules.push(RuleId::WriteAccessAdded);
    }
    // Only the baseline scopes whose restriction the piece's may cover are asked.
    let loosened = base.related(p).into_iter().any(|i| {
        let Some(b) = base.scopes[i].as_resource() else {
            return false;
        };
        b.level == r.level
            && b.resource == r.resource
            && !b.restriction.is_none()
            && b.perms.intersects(r.perms)
            && r.restriction.covers(&b.restriction)
            && r.restriction != b.restriction
    });
    if loosened {
        rules.push(RuleId::RestrictionLoosened);
    }
    if matches!(r.resource, ResourceType::Named(_)) && !any_level_same_type {
        rules.push(RuleId::ResourceAccessAdded);
    }
    if rules.is_empty() {
        rules.push(RuleId::ReadAccessAdded);
    }
    rules.sort_by_key(|id| PRIORITY.iter().position(|p| p == id));
    rules
}

/// New, removed and widened workflows, and reworded rationales.
fn workflow_changes(base: Option<&Manifest>, head: &Manifest, opts: Options) -> Vec<Change> {
    let empty = Vec::new();
    let base_wf = base.map_or(&empty, |b| &b.workflows);
    let mut out = added_or_widened_workflows(base_wf, head, opts);
    out.extend(removed_workflows(base_wf, head));
    if let Some(b) = base {
        out.extend(rationale_changes(b, head));
    }
    out
}

/// A workflow change of `head`'s app.
fn workflow_change(
    head: &Manifest,
    id: RuleId,
    key: String,
    scope: String,
    description: String,
    pos: Pos,
    workflows: Vec<String>,
) -> Change {
    Change {
        app: head.id.value.clone(),
        direction: Direction::Workflow,
        rule: id,
        also: Vec::new(),
        severity: rule(id).severity,
        key,
        scope,
        head: None,
        before: Vec::new(),
        description,
        location: Location::new(&head.path, pos),
        workflows,
        approval: Approval::not_required(),
        new_in_pr: None,
    }
}

/// What a workflow needs, `offline_access` included when it runs offline.
fn needs_of(w: &Workflow) -> Vec<Scope> {
    let mut v: Vec<Scope> = w.needs.iter().filter_map(|n| n.scope().cloned()).collect();
    if w.offline.is_some() {
        v.push(Scope::Refresh(Refresh::Offline));
    }
    v
}

/// Whether `w` needs what `b` did: the same needs, parsing the same, in the same
/// order, and the same offline-ness.
fn same_needs(w: &Workflow, b: &Workflow) -> bool {
    w.offline.is_some() == b.offline.is_some()
        && w.needs.len() == b.needs.len()
        && w.needs
            .iter()
            .zip(&b.needs)
            // A parse depends on the text alone, and comparing texts is
            // cheaper than comparing parsed restrictions.
            .all(|(x, y)| x.text.value == y.text.value || x.parsed == y.parsed)
}

/// Each head workflow against the baseline's workflow of its id: added when there is
/// none, widened when it needs access the baseline's did not.
fn added_or_widened_workflows(base_wf: &[Workflow], head: &Manifest, opts: Options) -> Vec<Change> {
    let app = &head.id.value;
    let mut out = Vec::new();
    // By id, the first of each (as a search from the start would find it): a linear
    // search per workflow was quadratic in the number of workflows.
    let mut base_by_id: FxHashMap<&str, &Workflow> = FxHashMap::default();
    base_by_id.reserve(base_wf.len());
    for b in base_wf {
        base_by_id.entry(b.id.value.as_str()).or_insert(b);
    }
    for w in &head.workflows {
        let id = &w.id.value;
        match base_by_id.get(id.as_str()) {
            None => out.push(workflow_change(
                head,
                RuleId::WorkflowAdded,
                format!("{app}:workflow/{id}"),
                String::new(),
                format!("workflow `{id}` added"),
                w.id.pos,
                vec![id.clone()],
            )),
            // Needs that parse the same, in the same order, add nothing: `new_access(a, a)`
            // is empty. Most workflows are untouched by a change.
            Some(b) if same_needs(w, b) => {}
            Some(b) => {
                let more: Vec<String> = new_access(&needs_of(w), &needs_of(b), opts)
                    .into_iter()
                    .flat_map(|n| n.new)
                    .map(|s| s.to_string())
                    .collect();
                if !more.is_empty() {
                    out.push(workflow_change(
                        head,
                        RuleId::WorkflowNeedsWidened,
                        format!("{app}:workflow/{id}"),
                        more.join(" "),
                        format!(
                            "workflow `{id}` now also needs {}",
                            more.iter()
                                .map(|s| format!("`{s}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        w.id.pos,
                        vec![id.clone()],
                    ));
                }
            }
        }
    }
    out
}

/// The baseline's workflows whose id the head no longer has.
fn removed_workflows(base_wf: &[Workflow], head: &Manifest) -> Vec<Change> {
    let app = &head.id.value;
    let head_ids: FxHashSet<&str> = head.workflows.iter().map(|w| w.id.value.as_str()).collect();
    base_wf
        .iter()
        .filter(|b| !head_ids.contains(b.id.value.as_str()))
        .map(|b| {
            workflow_change(
                head,
                RuleId::WorkflowRemoved,
                format!("{app}:workflow/{}", b.id.value),
                String::new(),
                format!("workflow `{}` removed", b.id.value),
                head.scopes_pos,
                vec![b.id.value.clone()],
            )
        })
        .collect()
}

/// Scopes whose rationale the head words differently from every rationale the
/// baseline gave them, each once.
fn rationale_changes(b: &Manifest, head: &Manifest) -> Vec<Change> {
    let app = &head.id.value;
    let mut out = Vec::new();
    // A scope may be listed more than once (a `duplicate-scope` finding); its
    // rationale changed only when the head's text is none of the baseline's texts.
    let mut base_rationales: FxHashMap<&Scope, Vec<&str>> = FxHashMap::default();
    base_rationales.reserve(b.scopes.len());
    for x in &b.scopes {
        if let (Some(s), Some(r)) = (x.token.scope(), &x.rationale) {
            base_rationales.entry(s).or_default().push(r.value.trim());
        }
    }
    let mut reported = BTreeSet::new();
    for e in &head.scopes {
        let (Some(s), Some(r)) = (e.token.scope(), &e.rationale) else {
            continue;
        };
        let old = base_rationales.get(s).map_or(&[][..], Vec::as_slice);
        let new = r.value.trim();
        if old.is_empty() || old.contains(&new) || !reported.insert(s.clone()) {
            continue;
        }
        out.push(workflow_change(
            head,
            RuleId::RationaleChanged,
            format!("{app}:rationale/{s}"),
            s.to_string(),
            format!(
                "rationale of `{s}` changed from \"{}\" to \"{new}\"",
                old[0]
            ),
            r.pos,
            Vec::new(),
        ));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
