//! Requested vs granted vs used: the manifest and a [`Tally`] in, one [`UsageReport`]
//! out. Pure; every coverage question is answered by the scope algebra.
//!
//! The level of an access (`patient/`, `user/`, `system/`) is not observable in an
//! access log or an AuditEvent, so an access counts for every requested scope that
//! grants it at that scope's own level. A read's category is not observable either:
//! a read is matched by any scope on its type with `r`, restricted or not (the EHR
//! enforced the restriction when it answered). A search is matched on the restriction
//! parameters it carried: `GET /Observation?category=laboratory` is covered by
//! `Observation.rs?category=laboratory`, `GET /Observation?patient=1` is not.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap;

use crate::grant::{
    Options, RestrictionIndex, ScopeIndex, ScopeSet, minimize, new_access, type_covers,
};
use crate::manifest::Manifest;
use crate::report::Location;
use crate::scope::{Letter, Perms, ResourceScope, ResourceType, Restriction, Scope};

use super::Interaction;
use super::findings::findings;
use super::instant::{self, Millis};
use super::report::*;
use super::tally::{EvidenceKind, Origin, SYSTEM, Stats, Tally};

/// The search parameters that restrictions in the manifest use: only these are kept
/// from observed searches.
pub fn restriction_params(m: &Manifest) -> Vec<String> {
    let needs = m.workflows.iter().flat_map(|w| w.needs.iter());
    let tokens = m.scopes.iter().map(|e| &e.token).chain(needs);
    let mut out: BTreeSet<String> = BTreeSet::new();
    for s in tokens.filter_map(|t| t.scope()?.as_resource()) {
        out.extend(s.restriction.clauses().map(|(p, _)| p.to_string()));
    }
    out.into_iter().collect()
}

#[derive(Clone, Copy, Debug, Default)]
pub struct UsageOptions {
    pub algebra: Options,
    /// Unused scopes fail the run (`--fail-on unused`).
    pub fail_on_unused: bool,
}

/// One observed access, as the algebra sees it.
struct Observed<'t> {
    tenant: u16,
    resource: ResourceType,
    interaction: Interaction,
    letter: Letter,
    params: &'t str,
    /// Searches: the restriction they carried, and the same with token systems
    /// dropped (`system|code` is narrower than `code`). `None` for non-searches.
    restriction: Option<(Restriction, Restriction)>,
    stats: Stats,
}

fn restriction_of(params: &str, bare: bool) -> Restriction {
    let clauses = params
        .split('&')
        .filter_map(|c| c.split_once('='))
        .map(|(p, v)| {
            let values = v
                .split(',')
                .map(|x| match (bare, x.rsplit_once('|')) {
                    (true, Some((_, code))) => code.to_string(),
                    _ => x.to_string(),
                })
                .collect();
            (p.to_string(), values)
        });
    Restriction::from_clauses(clauses)
}

impl Observed<'_> {
    /// `s` grants this access, at `s`'s own level.
    fn covered_by(&self, s: &ResourceScope) -> bool {
        type_covers(&s.resource, &self.resource)
            && s.perms.contains(self.letter)
            && self
                .restriction
                .as_ref()
                .is_none_or(|(r, bare)| s.restriction.covers(r) || s.restriction.covers(bare))
    }

    fn needs(&self) -> String {
        format!("{}.{}", self.resource, self.letter.as_char())
            + &if self.params.is_empty() {
                String::new()
            } else {
                format!("?{}", self.params)
            }
    }
}

fn observed(t: &Tally) -> Vec<Observed<'_>> {
    let mut out = Vec::new();
    for ((tenant, ty, i), by) in &t.access {
        let Some(letter) = i.letter() else { continue };
        let resource = match *ty {
            SYSTEM => ResourceType::Any,
            id => ResourceType::Named(t.types[id as usize].as_str().into()),
        };
        for (params, stats) in by {
            let restriction = i
                .is_search()
                .then(|| (restriction_of(params, false), restriction_of(params, true)));
            out.push(Observed {
                tenant: *tenant,
                resource: resource.clone(),
                interaction: *i,
                letter,
                params,
                restriction,
                stats: *stats,
            });
        }
    }
    out.sort_by(|a, b| {
        (
            &t.tenants[a.tenant as usize],
            &a.resource,
            a.interaction,
            a.params,
        )
            .cmp(&(
                &t.tenants[b.tenant as usize],
                &b.resource,
                b.interaction,
                b.params,
            ))
    });
    out
}

fn location(t: &Tally, at: Origin) -> Location {
    Location {
        file: t.files[at.file].path.clone(),
        line: u32::try_from(at.line).unwrap_or(u32::MAX),
        column: 1,
    }
}

fn time(t: Option<Millis>) -> Option<String> {
    t.map(instant::format)
}

#[derive(Default, Clone, Copy)]
struct Use {
    granted: u64,
    ok: u64,
    failed: u64,
    last: Option<Millis>,
}

/// What the observed accesses exercised: per requested scope and tenant, and which
/// accesses no requested scope covers.
#[derive(Default)]
struct Matched {
    uses: BTreeMap<(usize, u16), Use>,
    /// Per requested scope: the types and letters it was used for (successful accesses).
    used_for: BTreeMap<usize, BTreeMap<ResourceType, Perms>>,
    out_of_manifest: Vec<OutOfManifest>,
}

pub fn analyze(m: &Manifest, t: &Tally, opts: UsageOptions) -> UsageReport {
    let algebra = opts.algebra;
    let mut tenant_order: Vec<u16> = (0..t.tenants.len() as u16).collect();
    tenant_order.sort_by_key(|i| &t.tenants[*i as usize]);
    let obs = observed(t);
    let Matched {
        mut uses,
        used_for,
        out_of_manifest,
    } = match_accesses(m, t, &obs);
    let grant_evidence = t.files.iter().any(|f| f.kind == EvidenceKind::Granted);
    let over_granted = grants(m, t, &tenant_order, &mut uses, algebra);
    let (scopes, unused) = scope_rows(
        m,
        t,
        &tenant_order,
        &uses,
        &used_for,
        grant_evidence,
        algebra,
    );
    let drift = drift(m, &obs);
    let operations = operations(t);
    let findings = findings(
        m,
        &scopes,
        &unused,
        &over_granted,
        &out_of_manifest,
        &drift,
        t,
    );
    let reasons = reasons(&out_of_manifest, &unused, opts);
    let mut tenants: Vec<String> = t.tenants.clone();
    tenants.sort();
    UsageReport {
        format_version: FORMAT_VERSION,
        tool: format!("scopegate {}", env!("CARGO_PKG_VERSION")),
        app: t.app().to_string(),
        manifest: m.path.clone(),
        since: time(t.since()),
        verdict: if reasons.is_empty() {
            UsageVerdict::Pass
        } else {
            UsageVerdict::Fail
        },
        reasons,
        summary: UsageSummary {
            scopes: scopes.len(),
            unused: unused.len(),
            over_granted: over_granted.len(),
            out_of_manifest: out_of_manifest.len(),
            drift: drift.len(),
            bad_lines: t.bad_count,
        },
        evidence: evidence(t, grant_evidence),
        tenants,
        scopes,
        unused,
        over_granted,
        out_of_manifest,
        operations,
        drift,
        findings,
    }
}

/// The requested resource scopes of one type (with their positions in the manifest),
/// their restrictions indexed.
#[derive(Default)]
struct Typed<'m> {
    entries: Vec<(usize, &'m ResourceScope)>,
    index: RestrictionIndex<'m>,
}

/// The requested scopes that may cover `o` (a superset of those that do), in manifest
/// order: those on its type and on `*`, of them only those whose restriction the index
/// says may cover a search's.
fn may_cover<'m>(
    by_type: &FxHashMap<&ResourceType, Typed<'m>>,
    o: &Observed<'_>,
) -> Vec<(usize, &'m ResourceScope)> {
    let any = matches!(o.resource, ResourceType::Named(_)).then_some(&ResourceType::Any);
    let mut out = Vec::new();
    for ty in std::iter::once(&o.resource).chain(any) {
        let Some(typed) = by_type.get(ty) else {
            continue;
        };
        // Not a search: its restriction is not observed, any scope on the type may.
        let positions = o.restriction.as_ref().and_then(|(r, bare)| {
            let mut p = typed.index.may_cover(r)?;
            p.extend(typed.index.may_cover(bare)?);
            Some(p)
        });
        match positions {
            None => out.extend_from_slice(&typed.entries),
            Some(p) => out.extend(p.into_iter().map(|k| typed.entries[k])),
        }
    }
    out.sort_unstable_by_key(|(i, _)| *i);
    out.dedup_by_key(|(i, _)| *i);
    out
}

/// Used: every requested scope that covers each observed access; the accesses none
/// covers are out of the manifest. Each access is checked against the scopes the
/// index names: against every scope, thousands of searches on thousands of coded
/// scopes took 23 s.
fn match_accesses(m: &Manifest, t: &Tally, obs: &[Observed<'_>]) -> Matched {
    let mut out = Matched::default();
    let mut by_type: FxHashMap<&ResourceType, Typed<'_>> = FxHashMap::default();
    for (i, e) in m.scopes.iter().enumerate() {
        if let Some(s) = e.token.scope().and_then(Scope::as_resource) {
            by_type.entry(&s.resource).or_default().entries.push((i, s));
        }
    }
    for typed in by_type.values_mut() {
        typed.index = RestrictionIndex::of(typed.entries.iter().map(|(_, s)| &s.restriction));
    }
    for o in obs {
        let mut covered = false;
        for (i, _) in may_cover(&by_type, o)
            .iter()
            .filter(|(_, s)| o.covered_by(s))
        {
            covered = true;
            let u = out.uses.entry((*i, o.tenant)).or_default();
            u.ok += o.stats.ok;
            u.failed += o.stats.failed;
            u.last = u.last.max(o.stats.last_ok);
            if o.stats.ok > 0 {
                let p = out.used_for.entry(*i).or_default();
                let letters = p
                    .entry(o.resource.clone())
                    .or_insert(Perms::from_letters([]));
                *letters = letters.union(Perms::from_letters([o.letter]));
            }
        }
        if !covered {
            out.out_of_manifest.push(OutOfManifest {
                tenant: t.tenants[o.tenant as usize].clone(),
                resource: match &o.resource {
                    ResourceType::Named(n) => Some(n.to_string()),
                    ResourceType::Any => None,
                },
                interaction: o.interaction.code().to_string(),
                parameters: o.params.to_string(),
                needs: o.needs(),
                requests: o.stats.ok,
                failed: o.stats.failed,
                last: time(o.stats.last_ok),
                first_seen: location(t, o.stats.first_seen),
            });
        }
    }
    out
}

/// Granted: token responses whose scopes grant each requested scope whole (counted
/// into `uses`); returns whatever they grant beyond the request.
///
/// Both questions are asked only of the candidates an index names: a requested scope
/// of the strings with a scope that may grant some of it, a string's scopes of the
/// requested scopes that may grant some of them. Asked of all, 4,000 distinct strings
/// over 4,000 requested scopes took 4.7 s.
fn grants(
    m: &Manifest,
    t: &Tally,
    tenant_order: &[u16],
    uses: &mut BTreeMap<(usize, u16), Use>,
    algebra: Options,
) -> Vec<OverGrant> {
    let req: Vec<Scope> = m.requested().cloned().collect();
    let req_index = ScopeIndex::of(&req);
    let mut over: BTreeMap<(String, String), OverGrant> = BTreeMap::new();
    for tenant in tenant_order {
        let Some(by) = t.grants.get(tenant) else {
            continue;
        };
        let mut strings: Vec<(&String, _)> = by.iter().collect();
        strings.sort_by_key(|(s, _)| *s);
        let parsed: Vec<Vec<Scope>> = strings
            .iter()
            .map(|(text, _)| {
                crate::scope::split_scope_string(text)
                    .filter_map(|tok| Scope::parse(tok).ok())
                    .collect()
            })
            .collect();
        let sets: Vec<ScopeSet> = parsed.iter().map(|p| ScopeSet::new(p, algebra)).collect();
        // Every granted scope, tagged with its string.
        let mut granted = ScopeIndex::default();
        for (j, p) in parsed.iter().enumerate() {
            for s in p {
                granted.push(s, j);
            }
        }
        for (i, e) in m.scopes.iter().enumerate() {
            let Some(s) = e.token.scope() else { continue };
            let mut strings_of = granted.may_grant(s);
            // (Sorted; a string naming `s` twice is counted once.)
            strings_of.dedup();
            for j in strings_of {
                if sets[j].grants(s) {
                    uses.entry((i, *tenant)).or_default().granted += strings[j].1.responses;
                }
            }
        }
        for ((_, g), parsed) in strings.iter().zip(&parsed) {
            // The requested scopes that grant none of the string's add nothing to what
            // the request covers of it.
            let mut related: Vec<usize> =
                parsed.iter().flat_map(|s| req_index.may_grant(s)).collect();
            related.sort_unstable();
            related.dedup();
            let base: Vec<Scope> = related.into_iter().map(|i| req[i].clone()).collect();
            for na in new_access(parsed, &base, algebra) {
                let key = (t.tenants[*tenant as usize].clone(), na.scope.to_string());
                let entry = over.entry(key.clone()).or_insert_with(|| OverGrant {
                    tenant: key.0,
                    granted: key.1,
                    beyond_request: na.new.iter().map(ToString::to_string).collect(),
                    responses: 0,
                    last: instant::format(g.last),
                    first_seen: location(t, g.first_seen),
                });
                entry.responses += g.responses;
                entry.last = entry.last.clone().max(instant::format(g.last));
                let here = location(t, g.first_seen);
                if here < entry.first_seen {
                    entry.first_seen = here;
                }
            }
        }
    }
    over.into_values().collect()
}

/// One row per requested scope; unused and partly used scopes with a suggestion.
fn scope_rows(
    m: &Manifest,
    t: &Tally,
    tenant_order: &[u16],
    uses: &BTreeMap<(usize, u16), Use>,
    used_for: &BTreeMap<usize, BTreeMap<ResourceType, Perms>>,
    grant_evidence: bool,
    algebra: Options,
) -> (Vec<ScopeUsage>, Vec<Unused>) {
    let mut scopes = Vec::new();
    let mut unused = Vec::new();
    for (i, e) in m.scopes.iter().enumerate() {
        let Some(s) = e.token.scope() else { continue };
        let observable = s.as_resource().is_some();
        let rows: Vec<TenantUsage> = tenant_order
            .iter()
            .map(|tn| {
                let u = uses.get(&(i, *tn)).copied().unwrap_or_default();
                TenantUsage {
                    tenant: t.tenants[*tn as usize].clone(),
                    granted: grant_evidence.then_some(u.granted),
                    used: observable.then_some(u.ok),
                    failed: u.failed,
                    last_used: time(u.last),
                }
            })
            .collect();
        let granted: u64 = rows.iter().filter_map(|r| r.granted).sum();
        let used: u64 = rows.iter().filter_map(|r| r.used).sum();
        let loc = Location::new(&m.path, e.token.text.pos);
        let used_types = used_for.get(&i);
        scopes.push(ScopeUsage {
            scope: e.token.text.value.clone(),
            normalized: s.to_string(),
            requested: true,
            location: loc.clone(),
            observable,
            granted: grant_evidence.then_some(granted),
            used: observable.then_some(used),
            tenants: rows.clone(),
            used_for: used_types
                .map(|by| by.iter().map(|(ty, p)| format!("{ty}.{p}")).collect())
                .unwrap_or_default(),
        });
        let Some(r) = s.as_resource() else { continue };
        if grant_evidence && granted == 0 {
            continue;
        }
        let idle_tenants: Vec<String> = rows
            .iter()
            .filter(|x| x.granted.is_none_or(|g| g > 0) && x.used == Some(0))
            .map(|x| x.tenant.clone())
            .collect();
        let entry = Idle {
            scope: &e.token.text.value,
            location: loc,
            idle_tenants,
        };
        unused.extend(unused_of(entry, s, r, used, used_types, algebra));
    }
    (scopes, unused)
}

/// A requested scope that may be unused or partly used.
struct Idle<'a> {
    scope: &'a str,
    location: Location,
    idle_tenants: Vec<String>,
}

/// Remove a scope nothing used; narrow one whose used types and letters grant less
/// than it does; nothing for one used whole.
fn unused_of(
    idle: Idle<'_>,
    s: &Scope,
    r: &ResourceScope,
    used: u64,
    used_types: Option<&BTreeMap<ResourceType, Perms>>,
    algebra: Options,
) -> Option<Unused> {
    let narrowed = narrow(r, used_types);
    if used == 0 {
        Some(Unused {
            scope: idle.scope.to_string(),
            location: idle.location,
            action: Action::Remove,
            suggestion: Vec::new(),
            drops: vec![s.to_string()],
            idle_tenants: idle.idle_tenants,
        })
    } else if !ScopeSet::new(&narrowed, algebra).grants(s) {
        let minimal = minimize(&narrowed, algebra);
        let drops = new_access(std::slice::from_ref(s), &minimal, algebra)
            .into_iter()
            .flat_map(|n| n.new)
            .map(|x| x.to_string())
            .collect();
        Some(Unused {
            scope: idle.scope.to_string(),
            location: idle.location,
            action: Action::Narrow,
            suggestion: minimal.iter().map(ToString::to_string).collect(),
            drops,
            idle_tenants: idle.idle_tenants,
        })
    } else {
        None
    }
}

/// The accesses a need on one letter and type may cover: those with the letter, on the
/// type (on every type, for `*`), that were attempted.
#[derive(Default)]
struct Seen<'o> {
    /// Some was not a search: a need on the type covers it whatever its restriction.
    unsearched: bool,
    /// The searches' restrictions, as carried and without token systems.
    restrictions: Vec<&'o Restriction>,
    index: RestrictionIndex<'o>,
}

/// Drift: letters of a workflow need that no observed access exercised. Each need is
/// checked against the accesses the index names: against all of them, thousands of
/// needs over thousands of searches took 16 s.
fn drift(m: &Manifest, obs: &[Observed<'_>]) -> Vec<Drift> {
    let mut seen: FxHashMap<(Letter, &ResourceType), Seen<'_>> = FxHashMap::default();
    for o in obs.iter().filter(|o| o.stats.ok + o.stats.failed > 0) {
        let any = matches!(o.resource, ResourceType::Named(_)).then_some(&ResourceType::Any);
        for ty in std::iter::once(&o.resource).chain(any) {
            let s = seen.entry((o.letter, ty)).or_default();
            match &o.restriction {
                None => s.unsearched = true,
                Some((r, bare)) => s.restrictions.extend([r, bare]),
            }
        }
    }
    for s in seen.values_mut() {
        s.index = RestrictionIndex::of(s.restrictions.iter().copied());
    }
    let observed = |need: &ResourceScope, l: Letter| {
        seen.get(&(l, &need.resource)).is_some_and(|s| {
            s.unsearched
                || match s.index.may_be_covered_by(&need.restriction) {
                    None => s.restrictions.iter().any(|r| need.restriction.covers(r)),
                    Some(ix) => ix
                        .into_iter()
                        .any(|i| need.restriction.covers(s.restrictions[i])),
                }
        })
    };
    let mut drift = Vec::new();
    for w in &m.workflows {
        for n in &w.needs {
            let Some(need) = n.scope().and_then(Scope::as_resource) else {
                continue;
            };
            let missing: Vec<Letter> = need
                .perms
                .letters()
                .filter(|l| !observed(need, *l))
                .collect();
            if missing.is_empty() {
                continue;
            }
            drift.push(Drift {
                workflow: w.id.value.clone(),
                need: need.to_string(),
                unobserved: vec![
                    ResourceScope {
                        perms: Perms::from_letters(missing),
                        ..need.clone()
                    }
                    .to_string(),
                ],
                location: Location::new(&m.path, n.text.pos),
            });
        }
    }
    drift
}

/// The `$operation`s observed, sorted by tenant, type and name.
fn operations(t: &Tally) -> Vec<OperationUse> {
    let mut operations: Vec<OperationUse> = t
        .operations
        .iter()
        .flat_map(|((tenant, ty), by)| {
            by.iter().map(move |(name, st)| OperationUse {
                tenant: t.tenants[*tenant as usize].clone(),
                resource: (*ty != SYSTEM).then(|| t.types[*ty as usize].clone()),
                operation: name.clone(),
                requests: st.ok,
                failed: st.failed,
            })
        })
        .collect();
    operations.sort_by(|a, b| {
        (&a.tenant, &a.resource, &a.operation).cmp(&(&b.tenant, &b.resource, &b.operation))
    });
    operations
}

/// Why the run fails, if it does: accesses outside the manifest always, unused
/// scopes under `--fail-on unused`.
fn reasons(
    out_of_manifest: &[OutOfManifest],
    unused: &[Unused],
    opts: UsageOptions,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if !out_of_manifest.is_empty() {
        reasons.push(format!(
            "{} access pattern(s) outside the manifest",
            out_of_manifest.len()
        ));
    }
    if opts.fail_on_unused && !unused.is_empty() {
        reasons.push(format!("{} unused or partly used scope(s)", unused.len()));
    }
    reasons
}

/// The scopes `r` would be if it granted only what was used: the same level and
/// restriction, the used types (for `*`), the used letters.
fn narrow(r: &ResourceScope, used: Option<&BTreeMap<ResourceType, Perms>>) -> Vec<Scope> {
    let Some(used) = used else { return Vec::new() };
    used.iter()
        .map(|(ty, letters)| {
            Scope::Resource(ResourceScope {
                level: r.level,
                resource: match r.resource {
                    ResourceType::Any => ty.clone(),
                    ResourceType::Named(_) => r.resource.clone(),
                },
                perms: letters.intersection(r.perms),
                restriction: r.restriction.clone(),
            })
        })
        .filter(|s| s.as_resource().is_some_and(|x| !x.perms.is_empty()))
        .collect()
}

fn evidence(t: &Tally, grant_evidence: bool) -> Evidence {
    let sk = t.skipped;
    let mut samples: Vec<BadLine> = t
        .bad
        .iter()
        .map(|b| BadLine {
            file: t.files[b.at.file].path.clone(),
            line: b.at.line,
            reason: b.reason.clone(),
        })
        .collect();
    samples.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Evidence {
        files: t
            .files
            .iter()
            .map(|f| EvidenceFile {
                path: f.path.clone(),
                kind: f.kind.as_str().to_string(),
                records: f.records,
                bad_lines: f.bad,
            })
            .collect(),
        skipped: SkippedRecords {
            other_app: sk.other_app,
            before_window: sk.before_window,
            capabilities: sk.capabilities,
            batch_without_entries: sk.batch_without_entries,
            not_access: sk.not_access,
        },
        bad_lines: t.bad_count,
        bad_line_samples: samples,
        grant_evidence,
    }
}

#[cfg(test)]
mod tests;
