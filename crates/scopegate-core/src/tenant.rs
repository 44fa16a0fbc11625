//! Tenant policy profiles, `.scopegate/tenants/<tenant>.yaml`, and what each tenant's
//! EHR supports.
//!
//! Owns the profile format (deny and allow patterns, sensitive resource types, the
//! highest level, the EHR snapshot), and judges one manifest against one profile. It
//! reads no files: the CLI hands it bytes read from the baseline commit, like all
//! config. Approvals per tenant are the gate's business.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::config::Config;
use crate::fhir::FhirVersion;
use crate::grant::{Options, ScopeSet, covers};
use crate::hint::did_you_mean;
use crate::manifest::Manifest;
use crate::report::{Check, Finding, Location, TenantRow, TenantVerdict};
use crate::rules::{RuleId, Severity};
use crate::scope::{
    Launch, Level, ResourceScope, ResourceType, Restriction, Scope, Values, overlap_unknown,
    value_overlaps,
};
use crate::yaml::{self, LoadError, Pos, Problem};

mod ehr;
mod overlap;
pub use ehr::ehr_from_bytes;
pub(crate) use ehr::{Ehr, ehr_shortfalls};
pub(crate) use overlap::OverlapIndex;

/// Where profiles live, relative to the repository root: one file per tenant.
pub const DIR: &str = ".scopegate/tenants";

/// A tenant's policy for the apps it runs. Every key is optional.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scopegate tenant profile")]
struct RawProfile {
    /// Who this tenant is, for reports.
    #[serde(default)]
    description: Option<String>,
    /// Scope patterns this tenant refuses, in scope syntax; `*/` stands for every
    /// level. A pattern matches every scope that grants some of what it covers.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    deny: Vec<Spanned<String>>,
    /// When present, only access these patterns cover is permitted.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    allow: Option<Vec<Spanned<String>>>,
    /// Resource types for which any new access needs an approval naming this tenant.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    sensitive: Vec<Spanned<String>>,
    /// The highest level allowed: `patient`, `user` or `system`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    max_level: Option<Spanned<String>>,
    /// A snapshot of the EHR's `.well-known/smart-configuration` (or a JSON list of
    /// its `scopes_supported`), as a path relative to the repository root.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    ehr: Option<Spanned<String>>,
}

/// The JSON Schema of a tenant profile (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawProfile)).unwrap_or_default()
}

/// A pattern as written, and the scopes it stands for (`*/` expands to each level).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub(crate) text: String,
    pub(crate) pos: Pos,
    pub(crate) scopes: Vec<Scope>,
}

/// A validated tenant profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The file stem: `.scopegate/tenants/<name>.yaml`.
    pub name: String,
    pub path: String,
    pub(crate) description: Option<String>,
    pub(crate) deny: Vec<Pattern>,
    pub(crate) allow: Option<Vec<Pattern>>,
    pub(crate) sensitive: Vec<String>,
    pub(crate) max_level: Option<Level>,
    /// The snapshot's path and where the profile names it.
    pub ehr: Option<(String, Pos)>,
}

/// The tenant name a profile path gives, when the file is a profile (`*.yaml`, `*.yml`).
pub fn name_of(file_name: &str) -> Option<&str> {
    let stem = file_name
        .strip_suffix(".yaml")
        .or_else(|| file_name.strip_suffix(".yml"))?;
    let ok = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !stem.starts_with('.');
    ok.then_some(stem)
}

fn parse_pattern(text: &str) -> Result<Vec<Scope>, String> {
    match text.strip_prefix("*/") {
        Some(rest) => Level::ALL
            .iter()
            .map(|l| Scope::parse(&format!("{l}/{rest}")).map_err(|e| e.to_string()))
            .collect(),
        None => Scope::parse(text)
            .map(|s| vec![s])
            .map_err(|e| e.to_string()),
    }
}

/// Parses a profile's bytes; `path` names it in messages and gives the tenant name.
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Profile, LoadError> {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let Some(name) = name_of(file_name) else {
        return Err(yaml::fail(
            path,
            Pos { line: 1, column: 1 },
            "a tenant profile is named `<tenant>.yaml`, with letters, digits, `.`, `_` or `-`",
            None,
        ));
    };
    let text = yaml::text_of(yaml::FileKind::TenantProfile, path, bytes)?;
    let raw: RawProfile = if text.trim().is_empty() {
        yaml::parse(yaml::FileKind::TenantProfile, path, "{}")?
    } else {
        yaml::parse(yaml::FileKind::TenantProfile, path, text)?
    };
    let mut problems = Vec::new();
    let patterns = |list: Vec<Spanned<String>>, problems: &mut Vec<Problem>| {
        let mut out = Vec::new();
        for p in list {
            match parse_pattern(&p.value) {
                Ok(scopes) => out.push(Pattern {
                    text: p.value.clone(),
                    pos: Pos::of(&p),
                    scopes,
                }),
                Err(e) => problems.push(Problem {
                    pos: Pos::of(&p),
                    message: format!("`{}` is not a scope pattern: {e}", p.value),
                    hint: Some("write a scope, e.g. `patient/*.rs`; `*/` means every level".into()),
                }),
            }
        }
        out
    };
    let deny = patterns(raw.deny, &mut problems);
    let allow = raw.allow.map(|a| patterns(a, &mut problems));
    let mut sensitive = Vec::new();
    let known = || {
        FhirVersion::ALL
            .iter()
            .flat_map(|v| v.resource_types().iter().copied())
    };
    for t in raw.sensitive {
        if known().any(|k| k == t.value) {
            sensitive.push(t.value);
        } else {
            problems.push(Problem {
                pos: Pos::of(&t),
                message: format!("`{}` is not a FHIR resource type", t.value),
                hint: did_you_mean(&t.value, known()).map(|n| format!("did you mean `{n}`?")),
            });
        }
    }
    let max_level = raw.max_level.and_then(|l| {
        let level = Level::ALL.into_iter().find(|x| x.as_str() == l.value);
        if level.is_none() {
            problems.push(Problem {
                pos: Pos::of(&l),
                message: format!("unknown level `{}`", l.value),
                hint: Some("use patient, user or system".into()),
            });
        }
        level
    });
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.pos);
        return Err(LoadError {
            path: path.to_string(),
            problems,
        });
    }
    Ok(Profile {
        name: name.to_string(),
        path: path.to_string(),
        description: raw.description,
        deny,
        allow,
        sensitive,
        max_level,
        ehr: raw.ehr.map(|e| (e.value.clone(), Pos::of(&e))),
    })
}

/// One way a requested scope breaks a tenant's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// `tenant-denied`, `tenant-not-allowed` or `tenant-level-exceeded`.
    pub(crate) rule: RuleId,
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

/// Some resource matches both restrictions. Clauses on the same parameter with no value
/// that overlaps a value of each of them are taken as disjoint (`category=laboratory`
/// against `category=social-history`), which is how granular scopes partition a type.
/// Token values overlap as FHIR search reads them (`laboratory` and
/// `system|laboratory` do); a modified parameter (`code:not`) and one that is not a
/// token (`name`, `subject`, `date`: [`overlap_unknown`]) are assumed to overlap.
/// Symmetric: the same answer whichever restriction, and whichever clause, comes first.
fn restrictions_overlap(a: &Restriction, b: &Restriction) -> bool {
    let mut by_param: std::collections::BTreeMap<&str, Vec<&Values>> = Default::default();
    for (p, vs) in a.clauses().chain(b.clauses()) {
        by_param.entry(p).or_default().push(vs);
    }
    by_param
        .iter()
        .all(|(p, clauses)| overlap_unknown(p) || clauses_may_share(p, clauses))
}

/// A necessary condition for [`clauses_may_share`], in one pass over the values: a clause
/// with a value of every code (`sys|`), or one code ([`overlap::overlap_bucket`]) in every
/// clause. Two values that overlap share their code, or one of them has every code (a
/// property test of `overlap_bucket`), so a shared value needs one of the two.
fn codes_meet(param: &str, clauses: &[&Values]) -> bool {
    let mut holding: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
    for c in clauses {
        let mut codes = Vec::with_capacity(c.len());
        for v in c.iter() {
            match overlap::overlap_bucket(param, v) {
                None => return true,
                Some(code) => codes.push(code),
            }
        }
        codes.sort_unstable();
        codes.dedup();
        for code in codes {
            *holding.entry(code).or_default() += 1;
        }
    }
    holding.values().any(|&n| n == clauses.len())
}

/// From this many value comparisons, the clauses on one parameter are taken to overlap
/// without comparing them: the safe side for a deny pattern, and no cost that grows as
/// the square of a hostile restriction.
const CLAUSE_COMPARISONS: usize = 4096;

/// Whether some value of one of `clauses` (all on `param`) overlaps a value of each of
/// the others. Each clause's values are tried as that value: with the first clause's
/// only, `category=s|` against `category=c&category=s|b` overlapped one way round and
/// not the other (`c` overlaps no `s|b`), so a deny pattern met by a scope of two such
/// clauses went unnoticed when the scope came first.
fn clauses_may_share(param: &str, clauses: &[&Values]) -> bool {
    if !codes_meet(param, clauses) {
        return false;
    }
    let values: usize = clauses.iter().map(|c| c.len()).sum();
    if values.saturating_mul(values) > CLAUSE_COMPARISONS {
        return true;
    }
    clauses.iter().enumerate().any(|(i, own)| {
        own.iter().any(|v| {
            clauses
                .iter()
                .enumerate()
                .all(|(j, c)| j == i || c.iter().any(|w| value_overlaps(param, v, w)))
        })
    })
}

/// `a` and `b` grant some access in common.
pub(crate) fn overlaps(a: &Scope, b: &Scope, opts: Options) -> bool {
    match (a, b) {
        (Scope::Resource(a), Scope::Resource(b)) => resource_overlaps(a, b, opts),
        // `launch/encounter?role=…` is the encounter context, for one role: it shares
        // the context `launch/encounter` names (a deny of it was passed by a role).
        (
            Scope::Launch(Launch::Context { context: x, .. }),
            Scope::Launch(Launch::Context { context: y, .. }),
        ) => x == y,
        _ => covers(a, b, opts) || covers(b, a, opts),
    }
}

fn resource_overlaps(a: &ResourceScope, b: &ResourceScope, opts: Options) -> bool {
    (opts.level_covers(a.level, b.level) || opts.level_covers(b.level, a.level))
        && (a.resource == b.resource
            || a.resource == ResourceType::Any
            || b.resource == ResourceType::Any)
        && a.perms.intersects(b.perms)
        && restrictions_overlap(&a.restriction, &b.restriction)
}

impl Profile {
    /// How a requested scope breaks this policy; empty when it is allowed.
    pub fn judge(&self, s: &Scope, opts: Options) -> Vec<Violation> {
        self.judge_many(opts).judge(s)
    }

    /// This policy made ready to judge many scopes: its deny patterns indexed and its
    /// allow list a set, once (each scope rebuilt them: quadratic in the two).
    pub(crate) fn judge_many(&self, opts: Options) -> Judge<'_> {
        let deny: Vec<(usize, &Scope)> = self
            .deny
            .iter()
            .enumerate()
            .flat_map(|(i, p)| p.scopes.iter().map(move |d| (i, d)))
            .collect();
        Judge {
            profile: self,
            opts,
            deny_index: OverlapIndex::of(deny.iter().map(|(_, d)| *d)),
            deny,
            allow: self
                .allow
                .as_ref()
                .map(|allow| ScopeSet::new(allow.iter().flat_map(|p| &p.scopes), opts)),
        }
    }
}

/// A [`Profile`] ready to judge many scopes ([`Profile::judge_many`]).
pub(crate) struct Judge<'p> {
    profile: &'p Profile,
    opts: Options,
    /// `(pattern, scope)` of each deny pattern's scopes, in order, and their index.
    deny: Vec<(usize, &'p Scope)>,
    deny_index: OverlapIndex<'p>,
    allow: Option<ScopeSet<'p>>,
}

impl Judge<'_> {
    /// How `s` breaks the policy; empty when it is allowed.
    pub(crate) fn judge(&self, s: &Scope) -> Vec<Violation> {
        let profile = self.profile;
        let opts = self.opts;
        let mut out = Vec::new();
        // The patterns with a scope that overlaps `s`, in order (tags are in push order).
        let mut denied: Vec<usize> = self
            .deny_index
            .may_overlap(s)
            .into_iter()
            .map(|t| self.deny[t])
            .filter(|(_, d)| overlaps(d, s, opts))
            .map(|(i, _)| i)
            .collect();
        denied.dedup();
        // A token scopegate cannot read (it does not parse, or SMART defines nothing
        // like it) may be honoured by a server as what its characters spell:
        // `system/*.cruds?_id=%2A`, `user/observation.read`. It is taken to meet every
        // deny pattern and to exceed `max_level`, never to pass them unseen. (An
        // extension scope, a URI or `__name`, is the owner's own: a pattern names it.)
        let unreadable = s.is_unreadable();
        if unreadable && !profile.deny.is_empty() {
            let all: Vec<String> = profile
                .deny
                .iter()
                .map(|p| format!("`{}`", p.text))
                .collect();
            out.push(Violation {
                rule: RuleId::TenantDenied,
                message: format!(
                    "`{s}` is not a scope scopegate can read, so it may grant what tenant `{}` denies ({})",
                    profile.name,
                    all.join(", ")
                ),
                hint: Some("write the scope as SMART spells it (`scopegate check` names the one meant), or keep the app off this tenant".into()),
            });
        }
        if unreadable && let Some(max) = profile.max_level {
            out.push(Violation {
                rule: RuleId::TenantLevelExceeded,
                message: format!(
                    "`{s}` is not a scope scopegate can read, so its level is unknown; tenant `{}` allows at most `{max}`",
                    profile.name
                ),
                hint: None,
            });
        }
        for p in denied.into_iter().map(|i| &profile.deny[i]) {
            out.push(Violation {
                rule: RuleId::TenantDenied,
                message: format!(
                    "`{s}` grants access tenant `{}` denies (`{}`)",
                    profile.name, p.text
                ),
                hint: Some(format!(
                    "narrow the scope so it grants nothing `{}` matches, or keep the app off this tenant",
                    p.text
                )),
            });
        }
        if let Some(set) = &self.allow {
            let outside: Vec<String> = match s {
                Scope::Resource(r) => set.uncovered(r).iter().map(ToString::to_string).collect(),
                _ if set.grants(s) => Vec::new(),
                _ => vec![s.to_string()],
            };
            if !outside.is_empty() {
                let message = if outside == [s.to_string()] {
                    format!("`{s}` is outside tenant `{}`'s allow list", profile.name)
                } else {
                    format!(
                        "`{s}` grants {} outside tenant `{}`'s allow list",
                        outside
                            .iter()
                            .map(|x| format!("`{x}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        profile.name
                    )
                };
                out.push(Violation {
                    rule: RuleId::TenantNotAllowed,
                    message,
                    hint: None,
                });
            }
        }
        if let (Some(max), Scope::Resource(r)) = (profile.max_level, s)
            && r.level > max
        {
            out.push(Violation {
                rule: RuleId::TenantLevelExceeded,
                message: format!(
                    "`{s}` is at level `{}`; tenant `{}` allows at most `{max}`",
                    r.level, profile.name
                ),
                hint: None,
            });
        }
        out
    }
}

impl Profile {
    /// The sensitive type a scope touches (a named type, or any under `*`). A token
    /// scopegate cannot read touches every one, as it meets every deny: a server may
    /// honour `patient/MedicationStatement.sr` as what its characters spell.
    pub fn sensitive_in(&self, s: &Scope) -> Option<&str> {
        if s.is_unreadable() {
            return self.sensitive.first().map(String::as_str);
        }
        let r = s.as_resource()?;
        self.sensitive
            .iter()
            .find(|t| match &r.resource {
                ResourceType::Any => true,
                ResourceType::Named(n) => **n == **t,
            })
            .map(String::as_str)
    }
}

/// A tenant as the gate sees it: its profile, and its EHR snapshot when it names one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub profile: Profile,
    pub ehr: Option<Ehr>,
}

/// The head manifests judged by one tenant: `(policy findings, EHR findings)`.
fn judge_all(t: &Tenant, manifests: &[&Manifest], config: &Config) -> (Vec<Finding>, Vec<Finding>) {
    let name = &t.profile.name;
    let judge = t.profile.judge_many(config.options);
    let mut policy = Vec::new();
    let mut ehr = Vec::new();
    for m in manifests {
        // Every token counts: an invalid one is judged as opaque access (it is outside
        // every allow list), and each piece of an entry with spaces on its own.
        for (e, s) in m
            .scopes
            .iter()
            .flat_map(|e| e.token.access().map(move |s| (e, s)))
        {
            // One finding per scope: the first violation names the rule, the others
            // are added to its message.
            let vs = judge.judge(s);
            let Some(first) = vs.first() else { continue };
            let mut message = first.message.clone();
            for v in &vs[1..] {
                message.push_str(&format!("; also {} [{}]", v.message, v.rule));
            }
            let loc = Location::new(&m.path, e.token.text.pos);
            let f = Finding::new(first.rule, &m.id.value, loc, message)
                .with_severity(config.severity_of(first.rule))
                .with_hint(first.hint.clone())
                .for_tenant(name);
            policy.push(f);
        }
        if let Some(snapshot) = &t.ehr {
            for sf in ehr_shortfalls(snapshot, m, config.options) {
                let message = format!("tenant `{name}`: {}", sf.message);
                let loc = Location::new(&m.path, sf.pos);
                let mut f = Finding::new(sf.rule, &m.id.value, loc, message)
                    .with_severity(config.severity_of(sf.rule))
                    .for_tenant(name);
                if let Some(c) = sf.capability {
                    f = f.with_capability(c);
                }
                ehr.push(f);
            }
        }
    }
    (policy, ehr)
}

/// A column's outcome: the worst severity among its findings.
pub(crate) fn check_of(findings: &[Finding]) -> Check {
    match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Check::Fail,
        Some(Severity::Warning) => Check::Warn,
        _ => Check::Pass,
    }
}

fn phrase(findings: &[Finding], what: &str) -> Option<String> {
    let n = findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .count();
    match n {
        0 => None,
        1 => Some(format!("1 {what}")),
        n => Some(format!("{n} {what}s")),
    }
}

/// What the approvals column found for one tenant.
pub struct ApprovalColumn {
    /// Escalations approved elsewhere but not for this tenant.
    pub(crate) missing: Vec<Finding>,
    /// Escalations with no valid approval at all.
    pub(crate) outstanding: usize,
}

/// One row of the matrix. `approvals` is `None` when there is no diff to approve
/// (`scopegate check`).
fn row(
    t: &Tenant,
    policy: &[Finding],
    ehr: &[Finding],
    approvals: Option<&ApprovalColumn>,
) -> TenantRow {
    let policy_check = check_of(policy);
    let ehr_check = if t.ehr.is_none() {
        Check::NotChecked
    } else {
        check_of(ehr)
    };
    let approvals_check = match approvals {
        None => Check::NotChecked,
        Some(a) if a.outstanding > 0 => Check::Fail,
        Some(a) => check_of(&a.missing),
    };
    let mut problems = Vec::new();
    problems.extend(phrase(policy, "policy violation"));
    if let Some(a) = approvals {
        if a.outstanding > 0 {
            problems.push(if a.outstanding == 1 {
                "1 unapproved escalation".to_string()
            } else {
                format!("{} unapproved escalations", a.outstanding)
            });
        }
        problems.extend(phrase(
            &a.missing,
            "escalation not approved for this tenant",
        ));
    }
    let (errs, warns): (Vec<&Finding>, Vec<&Finding>) = ehr
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .partition(|f| f.severity == Severity::Error);
    if !errs.is_empty() {
        problems.push(format!("EHR lacks {}", caps_named(&errs)));
    }
    if !warns.is_empty() {
        problems.push(if warns.len() == 1 {
            "1 scope the EHR does not list".to_string()
        } else {
            format!("{} scopes the EHR does not list", warns.len())
        });
    }
    let blocked = [policy_check, approvals_check, ehr_check].contains(&Check::Fail);
    TenantRow {
        tenant: t.profile.name.clone(),
        profile: t.profile.path.clone(),
        description: t.profile.description.clone(),
        policy: policy_check,
        approvals: approvals_check,
        ehr: ehr_check,
        verdict: if blocked {
            TenantVerdict::Blocked
        } else {
            TenantVerdict::Ship
        },
        problems,
    }
}

/// The tenant matrix: one row per tenant, its policy and EHR judged on the head
/// manifests, and the tenant's findings. `approvals` gives a tenant's approvals column
/// (the gate's business), or `None` when there is no diff to approve (`check`).
pub fn matrix(
    tenants: &[Tenant],
    manifests: &[&Manifest],
    config: &Config,
    mut approvals: impl FnMut(&Tenant) -> Option<ApprovalColumn>,
) -> (Vec<TenantRow>, Vec<Finding>) {
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for t in tenants {
        let (policy, ehr) = judge_all(t, manifests, config);
        let column = approvals(t);
        rows.push(row(t, &policy, &ehr, column.as_ref()));
        findings.extend(policy);
        findings.extend(ehr);
        findings.extend(column.into_iter().flat_map(|c| c.missing));
    }
    (rows, findings)
}

/// The capabilities missing-capability findings name.
fn caps_named(findings: &[&Finding]) -> String {
    let names: BTreeSet<&str> = findings
        .iter()
        .filter_map(|f| f.capability.as_deref())
        .collect();
    names
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
