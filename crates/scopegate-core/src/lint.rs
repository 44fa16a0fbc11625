//! The least-privilege lint: one manifest in, its findings out.
//!
//! It works both ways: every requested scope must serve a workflow, and every workflow
//! need must be granted. It uses the algebra in [`crate::grant`] for every coverage
//! question and names rules from [`crate::rules`]. It reads nothing and prints nothing.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::grant::{Candidates, Options, RestrictionIndex, ScopeSet, minimize, type_covers};
use crate::manifest::{LaunchMode, Manifest, Pos, ScopeEntry, Token};
use crate::near_miss;
use crate::report::{Finding, Location};
use crate::rules::RuleId;
use crate::scope::{
    Identity, Launch, Level, Perms, Refresh, ResourceScope, ResourceType, Scope, ScopeErrorKind,
};
use crate::syntax::{self, Syntax};

/// A manifest's findings under some options, found ahead of the gate: the shell lints
/// the head on a second core while git is still finding the baseline, before the
/// trusted config (and so the options the gate judges with) is known. The gate uses
/// them only for the manifest they were found in and when the options are the
/// config's, and lints again otherwise.
pub struct Linted {
    /// The very manifest linted (not an equal one, nor one at the same path): the
    /// findings are used only for it.
    of: Arc<Manifest>,
    opts: Options,
    findings: Vec<Finding>,
}

impl Linted {
    /// [`check`] with `opts`, kept with the manifest and the options it ran with.
    pub fn check(m: &Arc<Manifest>, opts: Options) -> Linted {
        Linted {
            of: Arc::clone(m),
            opts,
            findings: check(m, opts),
        }
    }

    /// A lint of `of` with `opts` that found `findings`, whatever the manifest holds:
    /// for tests of who may use it.
    #[cfg(test)]
    pub(crate) fn forged(of: &Arc<Manifest>, opts: Options, findings: Vec<Finding>) -> Linted {
        Linted {
            of: Arc::clone(of),
            opts,
            findings,
        }
    }

    /// The findings, when they were found in this very `m` with `opts`.
    pub(crate) fn into_findings(self, m: &Arc<Manifest>, opts: Options) -> Option<Vec<Finding>> {
        (Arc::ptr_eq(&self.of, m) && self.opts == opts).then_some(self.findings)
    }
}

/// All findings for one manifest.
pub fn check(m: &Manifest, opts: Options) -> Vec<Finding> {
    let usage = syntax::Usage::of(m);
    let mut findings = Lint::new(m, opts, &usage).each_token();
    findings.extend(Lint::new(m, opts, &usage).whole(&usage));
    findings
}

/// [`check`], its two halves on two threads: the findings about each token on its own,
/// and those about the manifest as a whole (neither reads the other's), in the same
/// order. For `scopegate check`, where nothing else is running; the gate already lints
/// beside its other work.
pub fn check_on_two_cores(m: &Manifest, opts: Options) -> Vec<Finding> {
    let usage = syntax::Usage::of(m);
    let (mut findings, whole) = std::thread::scope(|t| {
        let tokens = crate::threads::spawn(t, || Lint::new(m, opts, &usage).each_token());
        let whole = Lint::new(m, opts, &usage).whole(&usage);
        (crate::joined(tokens), whole)
    });
    findings.extend(whole);
    findings
}

impl<'m> Lint<'m> {
    fn new(m: &'m Manifest, opts: Options, usage: &syntax::Usage) -> Lint<'m> {
        Lint {
            m,
            opts,
            syntax: usage.syntax(),
            findings: Vec::new(),
        }
    }

    /// The findings about each token on its own: syntax, near-misses, codes.
    fn each_token(mut self) -> Vec<Finding> {
        self.tokens();
        self.findings
    }

    /// The findings about the manifest as a whole: mixed syntax, rationales,
    /// duplicates, what serves no workflow, what no scope covers, launch context.
    fn whole(mut self, usage: &syntax::Usage) -> Vec<Finding> {
        self.mixed_syntax(usage);
        self.rationales();
        let (unique, granted) = self.duplicates();
        self.justification(&unique);
        self.uncovered_needs(&granted);
        self.launch_context();
        self.findings
    }
}

struct Lint<'m> {
    m: &'m Manifest,
    opts: Options,
    /// The SMART version the manifest is written in: hints stay in it.
    syntax: Syntax,
    findings: Vec<Finding>,
}

/// A workflow need that parsed, with the workflow it belongs to.
struct Need<'m> {
    workflow: &'m str,
    scope: &'m Scope,
}

fn code(s: impl std::fmt::Display) -> String {
    format!("`{s}`")
}

/// A token quoted in a finding about one of its parts (one of its values), shortened
/// in the middle when long ([`crate::render::safe::shortened`]). The finding's place
/// points at the token whole.
fn code_of(s: &str) -> String {
    code(crate::render::safe::shortened(s))
}

fn codes<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items.into_iter().map(code).collect::<Vec<_>>().join(", ")
}

/// Distinct resource needs, each with the workflows that need it, their restrictions
/// indexed (500 workflows needing the same scope are compared with a scope once).
struct NeedList<'m> {
    /// Each distinct need, with the range of `workflows` that need it.
    needs: Vec<(std::ops::Range<u32>, &'m ResourceScope)>,
    /// The workflows of every need, grouped by need, each group in the order given.
    workflows: Vec<&'m str>,
    index: RestrictionIndex<'m>,
}

impl<'m> NeedList<'m> {
    fn new(needs: Vec<(&'m str, &'m ResourceScope)>) -> Self {
        // Which distinct need each entry is, then its workflows laid out group by group
        // (a counting sort): three allocations whatever the number of needs.
        let mut distinct: Vec<&'m ResourceScope> = Vec::new();
        let mut at: FxHashMap<&ResourceScope, u32> = FxHashMap::default();
        let mut counts: Vec<u32> = Vec::new();
        let which: Vec<u32> = needs
            .iter()
            .map(|&(_, n)| {
                let i = *at.entry(n).or_insert_with(|| {
                    distinct.push(n);
                    counts.push(0);
                    (distinct.len() - 1) as u32
                });
                counts[i as usize] += 1;
                i
            })
            .collect();
        let mut start = 0;
        let mut next: Vec<u32> = counts
            .iter()
            .map(|c| {
                let s = start;
                start += c;
                s
            })
            .collect();
        let mut workflows: Vec<&'m str> = vec![""; needs.len()];
        for (&(w, _), &i) in needs.iter().zip(&which) {
            workflows[next[i as usize] as usize] = w;
            next[i as usize] += 1;
        }
        let index = RestrictionIndex::of(distinct.iter().map(|n| &n.restriction));
        NeedList {
            needs: distinct
                .into_iter()
                .zip(next.iter().zip(&counts))
                .map(|(n, (&end, &c))| (end - c..end, n))
                .collect(),
            workflows,
            index,
        }
    }

    /// The needs whose restriction may cover `r`'s or be covered by it (a superset of
    /// those that are), in their order.
    fn related<'s>(
        &'s self,
        r: &ResourceScope,
    ) -> impl Iterator<Item = (&'s [&'m str], &'m ResourceScope)> + 's {
        let positions = match (
            self.index.may_cover(&r.restriction),
            self.index.may_be_covered_by(&r.restriction),
        ) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                a.sort_unstable();
                a.dedup();
                Some(a)
            }
            _ => None,
        };
        Candidates::new(&self.needs, positions)
            .map(|(ws, n)| (&self.workflows[ws.start as usize..ws.end as usize], *n))
    }
}

impl<'m> Lint<'m> {
    fn push(&mut self, id: RuleId, pos: Pos, message: String, hint: Option<String>) {
        self.push_suggesting(id, pos, message, hint, Vec::new());
    }

    /// A finding whose fix is known to the token: `suggestion` replaces the entry.
    fn push_suggesting(
        &mut self,
        id: RuleId,
        pos: Pos,
        message: String,
        hint: Option<String>,
        suggestion: Vec<String>,
    ) {
        let location = Location::new(&self.m.path, pos);
        self.findings.push(
            Finding::new(id, &self.m.id.value, location, message)
                .with_hint(hint)
                .with_suggestion(suggestion),
        );
    }

    fn near_miss_context(&self) -> near_miss::Context {
        near_miss::Context::new(self.m.fhir_version, &self.m.launch)
    }

    /// A near-miss: what the token was meant to be in the hint and, when there is
    /// exactly one correction, in the finding's `suggestion`.
    fn push_near_miss(&mut self, id: RuleId, pos: Pos, raw: &str, n: &near_miss::NearMiss) {
        let message = format!("{}: {}", code(raw), n.message());
        self.push_suggesting(id, pos, message, Some(n.hint()), n.suggestion());
    }

    /// A restriction whose last value runs on into further scopes
    /// (`…?category=laboratory+launch`): a scope string pasted into one entry.
    /// Returns whether it found one.
    fn restriction_runs_on(&mut self, r: &ResourceScope, raw: &str, pos: Pos) -> bool {
        // Cheap test first: the lint sees every token of large manifests.
        if r.restriction.is_none() || !raw.contains(['+', ',']) {
            return false;
        }
        let Some(n) = near_miss::diagnose(raw, &self.near_miss_context()) else {
            return false;
        };
        self.push_near_miss(RuleId::InvalidScope, pos, raw, &n);
        true
    }

    fn needs(&self) -> Vec<Need<'m>> {
        self.m
            .workflows
            .iter()
            .flat_map(|w| {
                w.needs.iter().filter_map(move |n| {
                    n.scope().map(|scope| Need {
                        workflow: &w.id.value,
                        scope,
                    })
                })
            })
            .collect()
    }

    /// Restriction values of a well-known value set that are none of its codes.
    fn restriction_codes(&mut self, r: &ResourceScope, raw: &str, pos: Pos) {
        let ResourceType::Named(ty) = &r.resource else {
            return;
        };
        // Quoted once: each of the token's unknown values is a finding that quotes it.
        let quoted = std::cell::OnceCell::new();
        for (param, values) in r.restriction.clauses() {
            let Some((system, codes)) = crate::fhir::value_set(ty, param) else {
                continue;
            };
            for v in values {
                // `system|code`: only codes of the known system (or of none) are checked.
                let code = match v.split_once('|') {
                    Some((s, c)) if s.is_empty() || s == system => c,
                    Some(_) => continue,
                    None => v.as_str(),
                };
                if codes.contains(&code) {
                    continue;
                }
                let hint = match crate::hint::did_you_mean(code, codes.iter().copied()) {
                    Some(c) => format!("did you mean `{param}={c}`?"),
                    None => {
                        // One string, written once per finding: a manifest of thousands
                        // of unknown codes pays for each.
                        let mut h = String::from("use one of ");
                        for (i, c) in codes.iter().enumerate() {
                            h.push_str(if i == 0 { "`" } else { ", `" });
                            h.push_str(c);
                            h.push('`');
                        }
                        h
                    }
                };
                self.push(
                    RuleId::UnknownRestrictionCode,
                    pos,
                    format!(
                        "{}: `{code}` is not a code of `{ty}?{param}=` ({system})",
                        quoted.get_or_init(|| code_of(raw))
                    ),
                    Some(hint),
                );
            }
        }
    }

    /// Resource scopes written in both SMART v1 (`.read`) and v2 (`.rs`) syntax: an
    /// EHR that accepts only one of them rejects or ignores the others.
    fn mixed_syntax(&mut self, usage: &syntax::Usage) {
        if !usage.is_mixed() {
            return;
        }
        let (v1, v1_pos) = &usage.v1[0];
        let (v2, v2_pos) = &usage.v2[0];
        let (first, at) = if v1_pos.line <= v2_pos.line {
            ((v1, v1_pos, "v1"), (v2, *v2_pos, "v2"))
        } else {
            ((v2, v2_pos, "v2"), (v1, *v1_pos, "v1"))
        };
        self.push(
            RuleId::MixedSmartVersions,
            at.1,
            format!(
                "{} is SMART {} syntax, but {} on line {} is SMART {}: {} scope(s) in v1, {} in v2",
                code(at.0),
                at.2,
                code(first.0),
                first.1.line,
                first.2,
                usage.v1.len(),
                usage.v2.len()
            ),
            Some("write every scope in one syntax: v2 (`.rs`, `.cruds`) when every tenant's EHR lists `permission-v2`, else v1 (`.read`, `.write`)".into()),
        );
    }

    /// Grammar, resource types, unknown and deprecated tokens, in scopes and needs.
    /// A token's findings depend only on its text (and, for `profile`, on whether it is
    /// requested), and each is at the token's place: a text met again (a scope and the
    /// needs that name it) gets copies of the findings of its first place, moved to
    /// its own, not a second round of did-you-mean distances and formatting.
    fn tokens(&mut self) {
        let m = self.m;
        let all = m.scopes.iter().map(|e| (&e.token, true)).chain(
            m.workflows
                .iter()
                .flat_map(|w| w.needs.iter().map(|n| (n, false))),
        );
        let mut seen: FxHashMap<(&str, bool), std::ops::Range<usize>> = FxHashMap::default();
        for (t, requested) in all {
            let profile = requested && matches!(t.parsed, Ok(Scope::Identity(Identity::Profile)));
            let key = (t.text.value.as_str(), profile);
            if let Some(found) = seen.get(&key) {
                for i in found.clone() {
                    let mut f = self.findings[i].clone();
                    f.location.line = t.text.pos.line;
                    f.location.column = t.text.pos.column;
                    self.findings.push(f);
                }
                continue;
            }
            let first = self.findings.len();
            self.token(t, requested);
            seen.insert(key, first..self.findings.len());
        }
    }

    /// The findings about one token, each at its place. They may read only its text,
    /// the manifest's settings, and `requested` for `profile`: [`Lint::tokens`] copies
    /// them to every other place of the same text on that understanding.
    fn token(&mut self, t: &Token, requested: bool) {
        let raw = &t.text.value;
        let pos = t.text.pos;
        match &t.parsed {
            Err(e) => self.invalid_token(raw, pos, e),
            Ok(Scope::Resource(r)) => {
                // (Its values' codes are checked once the scopes are split.)
                if !self.restriction_runs_on(r, raw, pos) {
                    self.restriction_codes(r, raw, pos);
                }
                if let ResourceType::Named(ty) = &r.resource {
                    self.resource_type(ty, raw, pos);
                }
            }
            Ok(Scope::Unknown(_)) => match near_miss::diagnose(raw, &self.near_miss_context()) {
                Some(n) => {
                    let id = if n.is_error() {
                        RuleId::InvalidScope
                    } else {
                        RuleId::UnknownScope
                    };
                    self.push_near_miss(id, pos, raw, &n);
                }
                None => self.push(
                    RuleId::UnknownScope,
                    pos,
                    format!(
                        "{} is not a SMART scope; scopegate cannot tell what it grants",
                        code(raw)
                    ),
                    Some("write extension scopes as a full URI or with a `__` prefix".into()),
                ),
            },
            Ok(Scope::Identity(Identity::Profile)) if requested => self.push(
                RuleId::DeprecatedProfileScope,
                pos,
                "`profile` is deprecated (SMART 1.0) and not defined by SMART 2.x".into(),
                Some("request `openid fhirUser` instead".into()),
            ),
            Ok(_) => {}
        }
    }

    /// A token the grammar rejects: a near-miss when one names what it was meant to
    /// be, else the grammar's own message and did-you-mean.
    fn invalid_token(&mut self, raw: &str, pos: Pos, e: &crate::scope::ScopeError) {
        let id = match e.kind {
            ScopeErrorKind::PermissionOrder => RuleId::PermissionOrder,
            ScopeErrorKind::Invalid => RuleId::InvalidScope,
        };
        // The grammar's own did-you-mean covers one token; a near-miss also
        // names every token of an entry that holds several.
        let near = near_miss::diagnose(raw, &self.near_miss_context())
            .filter(|n| e.suggestion.is_none() || n.pieces.len() > 1);
        if let Some(n) = near {
            self.push_near_miss(id, pos, raw, &n);
            return;
        }
        let fixed = e
            .suggestion
            .as_ref()
            .map(|s| self.m.fhir_version.with_known_type(s));
        let hint = fixed.as_ref().map(|s| format!("did you mean `{s}`?"));
        let suggestion = fixed.filter(|s| Scope::parse(s).is_ok());
        let message = format!("{}: {}", code(raw), e.message);
        self.push_suggesting(id, pos, message, hint, suggestion.into_iter().collect());
    }

    /// A named resource type the manifest's FHIR release does not define, with the
    /// type it has instead (renamed, or spelled so) as the suggestion.
    fn resource_type(&mut self, ty: &str, raw: &str, pos: Pos) {
        let fv = self.m.fhir_version;
        if fv.has_resource_type(ty) {
            return;
        }
        let hint = resource_type_hint(fv, ty, raw);
        // The type this release has instead (renamed, or spelled so).
        let suggestion: Vec<String> = fv
            .renamed_counterpart(ty)
            .or_else(|| fv.suggest_resource_type(ty))
            .map(|s| raw.replacen(ty, s, 1))
            .into_iter()
            .collect();
        let location = Location::new(&self.m.path, pos);
        self.findings.push(
            Finding::new(
                RuleId::UnknownResourceType,
                &self.m.id.value,
                location,
                format!("{}: `{ty}` is not a FHIR {fv} resource type", code(raw)),
            )
            .with_hint(hint)
            .with_suggestion(suggestion),
        );
    }

    fn rationales(&mut self) {
        let m = self.m;
        for e in &m.scopes {
            match &e.rationale {
                None => self.push(
                    RuleId::MissingRationale,
                    e.pos,
                    format!("{} has no rationale", code(&e.token.text.value)),
                    Some("add `rationale:` saying which workflow needs it and why".into()),
                ),
                Some(r) if r.is_placeholder() => self.push(
                    RuleId::MissingRationale,
                    r.pos,
                    format!(
                        "the rationale of {} is a placeholder",
                        code(&e.token.text.value)
                    ),
                    Some("replace the TODO with the reason the app needs this scope".into()),
                ),
                Some(_) => {}
            }
        }
        for w in &m.workflows {
            let placeholder = w.description.as_ref().is_none_or(|d| d.is_placeholder());
            if placeholder {
                let pos = w.description.as_ref().map_or(w.id.pos, |d| d.pos);
                // An `init` skeleton's description is a TODO, not missing.
                let (what, hint) = match &w.description {
                    Some(d) if d.value.trim().starts_with("TODO") => (
                        "has a TODO description",
                        "replace the TODO in `description:` with what the workflow does for its users",
                    ),
                    Some(_) => (
                        "has no description",
                        "write in `description:` what the workflow does for its users",
                    ),
                    None => (
                        "has no description",
                        "add `description:` saying what the workflow does for its users",
                    ),
                };
                self.push(
                    RuleId::MissingRationale,
                    pos,
                    format!("workflow `{}` {what}", w.id.value),
                    Some(hint.into()),
                );
            }
            if let Some(reason) = &w.offline
                && reason.is_placeholder()
            {
                self.push(
                    RuleId::OfflineAccessWithoutReason,
                    reason.pos,
                    format!(
                        "the offline reason of workflow `{}` is a placeholder",
                        w.id.value
                    ),
                    Some("say why this workflow must run with no user present".into()),
                );
            }
        }
    }

    /// Reports repeated and redundant scopes; returns the first entry of each scope,
    /// and the set of them (which grants what all the requested scopes grant).
    fn duplicates(&mut self) -> (Vec<(&'m Scope, &'m ScopeEntry)>, ScopeSet<'m>) {
        let m = self.m;
        let mut first: FxHashMap<&Scope, &ScopeEntry> = FxHashMap::default();
        first.reserve(m.scopes.len());
        let mut unique = Vec::new();
        for e in &m.scopes {
            let Some(s) = e.token.scope() else { continue };
            match first.get(s) {
                Some(f) => {
                    let msg = format!(
                        "{} is the same scope as {} on line {}",
                        code(&e.token.text.value),
                        code(&f.token.text.value),
                        f.token.text.pos.line
                    );
                    self.push(
                        RuleId::DuplicateScope,
                        e.token.text.pos,
                        msg,
                        Some("remove one of them".into()),
                    );
                }
                None => {
                    first.insert(s, e);
                    unique.push((s, e));
                }
            }
        }
        let set = ScopeSet::new(unique.iter().map(|(s, _)| *s), self.opts);
        for (s, e) in &unique {
            let Scope::Resource(r) = s else { continue };
            if let Some(by) = set.covering(r).find(|c| c != r) {
                // Named as the manifest writes it (`patient/*.read` in a v1 manifest),
                // not in the canonical v2 form.
                let by = first
                    .get(&Scope::Resource(by.clone()))
                    .map_or_else(|| by.to_string(), |f| f.token.text.value.clone());
                self.push(
                    RuleId::RedundantScope,
                    e.token.text.pos,
                    format!("`{}` is already granted by `{by}`", e.token.text.value),
                    Some("remove the narrower scope".into()),
                );
            }
        }
        (unique, set)
    }

    fn justification(&mut self, unique: &[(&'m Scope, &'m ScopeEntry)]) {
        let needs = self.needs();
        // Needs indexed by resource type: a named scope can only serve needs of its
        // own type, or be part of a `*` need.
        let mut by_type: FxHashMap<&ResourceType, Vec<(&str, &ResourceScope)>> =
            FxHashMap::default();
        for n in &needs {
            if let Scope::Resource(r) = n.scope {
                by_type
                    .entry(&r.resource)
                    .or_default()
                    .push((n.workflow, r));
            }
        }
        // Each list indexed by restriction, so that a scope is compared only with the
        // needs it may cover or be covered by (not every need on its type). Every need
        // in one list only when a `*` scope asks (an index of thousands, else unused).
        let any_scope = unique.iter().any(|(s, _)| {
            s.as_resource()
                .is_some_and(|r| r.resource == ResourceType::Any)
        });
        let all: Vec<(&str, &ResourceScope)> = if any_scope {
            by_type.values().flatten().copied().collect()
        } else {
            Vec::new()
        };
        let all = NeedList::new(all);
        let by_type: FxHashMap<&ResourceType, NeedList> = by_type
            .into_iter()
            .map(|(ty, needs)| (ty, NeedList::new(needs)))
            .collect();
        let none = NeedList::new(Vec::new());
        let any_needs = by_type.get(&ResourceType::Any).unwrap_or(&none);
        let offline_workflows: Vec<&str> = self
            .m
            .workflows
            .iter()
            .filter(|w| w.offline.is_some())
            .map(|w| w.id.value.as_str())
            .collect();
        // Other scopes are needed by an equal need: looked up, not scanned.
        let needed: FxHashSet<&Scope> = needs.iter().map(|n| n.scope).collect();
        for (s, e) in unique {
            let pos = e.token.text.pos;
            let raw = &e.token.text.value;
            match s {
                Scope::Resource(r) => {
                    let lists = match &r.resource {
                        ResourceType::Any => [&all, &none],
                        named => [by_type.get(named).unwrap_or(&none), any_needs],
                    };
                    let candidates: Vec<(&[&str], &ResourceScope)> =
                        lists.into_iter().flat_map(|l| l.related(r)).collect();
                    self.justify_resource(r, raw, pos, &candidates)
                }
                Scope::Refresh(Refresh::Offline) => {
                    if offline_workflows.is_empty() {
                        self.push(
                            RuleId::OfflineAccessWithoutReason,
                            pos,
                            "`offline_access` is requested, but no workflow declares `offline: { reason: … }`".into(),
                            Some("add `offline.reason` to the workflow that runs with no user present, or remove `offline_access`".into()),
                        );
                    }
                }
                other => self.justify_other(other, raw, pos, &needed),
            }
        }
    }

    /// A scope that is neither a resource scope nor `offline_access`: justified by the
    /// manifest's launch modes (`launch`, `launch/patient`) or by an equal need.
    fn justify_other(&mut self, other: &Scope, raw: &str, pos: Pos, needed: &FxHashSet<&Scope>) {
        let implied = match other {
            Scope::Launch(Launch::Ehr) => self.m.launch.contains(&LaunchMode::Ehr),
            Scope::Launch(Launch::Context { context, .. }) if context == "patient" => {
                self.m.launch.contains(&LaunchMode::Standalone)
            }
            _ => false,
        };
        if !implied && !needed.contains(other) {
            let hint = match other {
                Scope::Launch(Launch::Ehr) => {
                    "add `ehr` to `launch:` if the app is launched from the EHR, or remove it"
                }
                Scope::Launch(Launch::Context { context, .. }) if context == "patient" => {
                    "add `standalone` to `launch:` if the app is launched on its own, or remove it"
                }
                _ => "list it in the `needs` of the workflow that uses it, or remove it",
            };
            self.push(
                RuleId::UnjustifiedScope,
                pos,
                format!("no workflow needs {}", code(raw)),
                Some(hint.into()),
            );
        }
    }

    fn justify_resource(
        &mut self,
        r: &ResourceScope,
        raw: &str,
        pos: Pos,
        needs: &[(&[&str], &ResourceScope)],
    ) {
        let NeedMatch {
            justified,
            served,
            matched,
            part_of_broader_need,
        } = self.match_needs(r, needs);
        let unneeded = r.perms.minus(justified);
        if justified.is_empty() {
            self.push(
                RuleId::UnjustifiedScope,
                pos,
                format!("no workflow needs {}", code(raw)),
                Some("list it in the `needs` of the workflow that uses it, or remove it".into()),
            );
            return;
        }
        if !unneeded.is_empty() {
            self.unneeded_letters(r, raw, pos, justified, unneeded);
        }
        if part_of_broader_need {
            return;
        }
        let used = Scope::Resource(ResourceScope {
            perms: justified,
            ..r.clone()
        });
        if ScopeSet::new(&served, self.opts).grants(&used) {
            return;
        }
        self.overbroad(r, raw, pos, &served, matched);
    }

    /// Matches a resource scope against the needs it may serve: on the letters they
    /// share, does it cover the need, or is it a narrower part of it?
    fn match_needs<'n>(
        &self,
        r: &ResourceScope,
        needs: &[(&'n [&'n str], &ResourceScope)],
    ) -> NeedMatch<'n> {
        let mut justified = Perms::from_letters([]);
        // Needs this scope fully serves (clipped to its letters), for the breadth check.
        let mut served: Vec<Scope> = Vec::new();
        // The workflows of the needs it serves or is part of, gathered only for a message.
        let mut matched: Vec<&[&str]> = Vec::new();
        let mut part_of_broader_need = false;
        for &(workflows, nr) in needs {
            let shared = nr.perms.intersection(r.perms);
            if shared.is_empty() {
                continue;
            }
            // On the shared letters: does the scope cover the need, or the need the
            // scope? (Compared in place: this runs for every scope/need pair.)
            let covers_need = self.opts.level_covers(r.level, nr.level)
                && type_covers(&r.resource, &nr.resource)
                && r.restriction.covers(&nr.restriction);
            let inside_need = || {
                self.opts.level_covers(nr.level, r.level)
                    && type_covers(&nr.resource, &r.resource)
                    && nr.restriction.covers(&r.restriction)
            };
            if covers_need {
                justified = justified.union(shared);
                served.push(Scope::Resource(ResourceScope {
                    perms: shared,
                    ..(*nr).clone()
                }));
                matched.push(workflows);
            } else if inside_need() {
                // The scope is a narrower part of what the workflow needs.
                justified = justified.union(shared);
                part_of_broader_need = true;
                matched.push(workflows);
            }
        }
        NeedMatch {
            justified,
            served,
            matched,
            part_of_broader_need,
        }
    }

    /// A scope some workflow needs that also grants letters none needs: request
    /// only the `justified` ones.
    fn unneeded_letters(
        &mut self,
        r: &ResourceScope,
        raw: &str,
        pos: Pos,
        justified: Perms,
        unneeded: Perms,
    ) {
        let extra = ResourceScope {
            perms: unneeded,
            ..r.clone()
        };
        let keep = ResourceScope {
            perms: justified,
            ..r.clone()
        };
        self.push(
            RuleId::UnjustifiedScope,
            pos,
            format!(
                "{} grants {} that no workflow needs",
                code(raw),
                code(&extra)
            ),
            Some(syntax::request(
                "request",
                &[Scope::Resource(keep)],
                self.syntax,
                " instead",
            )),
        );
    }

    /// A scope broader than the needs it serves (`served`, of the workflows
    /// `matched`): a wildcard over the types they name, or a named type beyond them.
    fn overbroad(
        &mut self,
        r: &ResourceScope,
        raw: &str,
        pos: Pos,
        served: &[Scope],
        matched: Vec<&[&str]>,
    ) {
        let suggestion = minimize(served, self.opts);
        let workflows: BTreeSet<&str> = matched.into_iter().flatten().copied().collect();
        let wf = workflows.into_iter().collect::<Vec<_>>().join(", ");
        if r.resource == ResourceType::Any {
            let types: BTreeSet<String> = served
                .iter()
                .filter_map(|s| s.as_resource().map(|r| r.resource.to_string()))
                .collect();
            self.push(
                RuleId::OverbroadWildcard,
                pos,
                format!(
                    "{} covers every resource type, but its workflows ({wf}) need only {}",
                    code(raw),
                    codes(&types)
                ),
                Some(syntax::request(
                    "request",
                    &suggestion,
                    self.syntax,
                    " instead",
                )),
            );
        } else {
            self.push(
                RuleId::OverbroadScope,
                pos,
                format!("{} is broader than its workflows ({wf}) need", code(raw)),
                Some(syntax::request(
                    "request",
                    &suggestion,
                    self.syntax,
                    " instead",
                )),
            );
        }
    }

    fn uncovered_needs(&mut self, granted: &ScopeSet<'_>) {
        let m = self.m;
        for w in &m.workflows {
            for n in &w.needs {
                let Some(s) = n.scope() else { continue };
                let missing: Vec<Scope> = match s {
                    Scope::Resource(r) => granted
                        .uncovered(r)
                        .into_iter()
                        .map(Scope::Resource)
                        .collect(),
                    other if granted.grants(other) => Vec::new(),
                    other => vec![other.clone()],
                };
                if !missing.is_empty() {
                    self.push(
                        RuleId::UncoveredNeed,
                        n.text.pos,
                        format!(
                            "workflow `{}` needs {}, but no requested scope grants {}",
                            w.id.value,
                            code(&n.text.value),
                            codes(&missing)
                        ),
                        Some(syntax::request("request", &missing, self.syntax, "")),
                    );
                }
            }
            if let Some(reason) = &w.offline
                && !granted.grants(&Scope::Refresh(Refresh::Offline))
            {
                self.push(
                    RuleId::UncoveredNeed,
                    reason.pos,
                    format!(
                        "workflow `{}` runs with no user present, but `offline_access` is not requested",
                        w.id.value
                    ),
                    Some("request `offline_access`".into()),
                );
            }
        }
    }

    fn launch_context(&mut self) {
        let m = self.m;
        let has_context = m.requested().any(|s| match s {
            Scope::Launch(Launch::Ehr) => true,
            Scope::Launch(Launch::Context { context, .. }) => context == "patient",
            _ => false,
        });
        if has_context {
            return;
        }
        let first = m.scopes.iter().find(|e| {
            e.token
                .scope()
                .and_then(Scope::as_resource)
                .is_some_and(|r| r.level == Level::Patient)
        });
        if let Some(e) = first {
            self.push(
                RuleId::PatientScopeWithoutLaunchContext,
                e.token.text.pos,
                format!(
                    "{} needs a patient in context, but neither `launch` nor `launch/patient` is requested",
                    code(&e.token.text.value)
                ),
                Some("request `launch` (EHR launch) or `launch/patient` (standalone launch)".into()),
            );
        }
    }
}

/// The hint for a resource type `fv` does not define: its name in this release when
/// it was renamed, a near spelling, or the releases that define it.
fn resource_type_hint(fv: crate::fhir::FhirVersion, ty: &str, raw: &str) -> Option<String> {
    match fv.renamed_counterpart(ty) {
        Some(s) => {
            let defined: Vec<&str> = crate::fhir::FhirVersion::releases_with(ty)
                .iter()
                .map(|v| v.as_str())
                .collect();
            let known = if defined.is_empty() {
                String::new()
            } else {
                format!(" (FHIR {})", defined.join(", "))
            };
            let release = match defined.as_slice() {
                [] => String::new(),
                [one] => {
                    format!("if the EHR serves FHIR {one}, set `fhir_version: {one}`; otherwise ")
                }
                several => format!(
                    "if the EHR serves FHIR {}, set `fhir_version` to it; otherwise ",
                    several.join(" or ")
                ),
            };
            Some(format!(
                "`{ty}`{known} is `{s}` in FHIR {fv} (renamed between releases): {release}request `{}`",
                raw.replacen(ty, s, 1)
            ))
        }
        None => match fv.suggest_resource_type(ty) {
            Some(s) => Some(format!("did you mean `{}`?", raw.replacen(ty, s, 1))),
            None => {
                let others = crate::fhir::FhirVersion::releases_with(ty);
                (!others.is_empty()).then(|| {
                    format!(
                        "`{ty}` is defined in {}; check `fhir_version`",
                        others
                            .iter()
                            .map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
            }
        },
    }
}

/// What a resource scope serves among the needs it was matched against.
struct NeedMatch<'n> {
    /// The letters it shares with the needs it covers or is part of.
    justified: Perms,
    /// Needs it fully serves (clipped to its letters), for the breadth check.
    served: Vec<Scope>,
    /// The workflows of the needs it serves or is part of, only for a message.
    matched: Vec<&'n [&'n str]>,
    /// It is a narrower part of some need.
    part_of_broader_need: bool,
}

#[cfg(test)]
mod tests;
