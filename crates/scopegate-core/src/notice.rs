//! The consent delta in plain language (`scopegate diff --format notice`), for release
//! notes and customer notices: "This version can now create MedicationStatement
//! records for the patient in context (workflow: …)."
//!
//! Owns the phrase for what a scope lets the app do, and fills each rule's sentence
//! template, which is data in its catalogue entry (`Rule::notice`, and
//! `Rule::notice_grouped` for several findings of one tenant rule).
//! Pure: the report and the head manifests in, a [`Notice`] of sentences out;
//! `render::notice` lays it out.

use crate::manifest::Manifest;
use crate::narrowing::{self, Limit};
use crate::report::{Change, Direction, Finding, Report};
use crate::rules::{RuleId, RuleKind, Severity, rule};
use crate::scope::{Identity, Launch, Letter, Level, Refresh, ResourceType, Scope};

/// A rule's notice sentence with its placeholders filled.
fn fill(id: RuleId, vars: &[(&str, &str)]) -> String {
    let mut s = rule(id).notice.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String], conj: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conj} {last}", init.join(", ")),
    }
}

/// What a scope lets the app do, as a verb phrase that follows "can now".
pub(crate) fn access(s: &Scope) -> String {
    match s {
        Scope::Resource(r) => {
            let verbs: Vec<String> = r
                .perms
                .letters()
                .map(|l| {
                    match l {
                        Letter::C => "create",
                        Letter::R => "read",
                        Letter::U => "update",
                        Letter::D => "delete",
                        Letter::S => "search",
                    }
                    .to_string()
                })
                .collect();
            let mut kinds = Vec::new();
            let mut wheres = Vec::new();
            for (param, values) in r.restriction.clauses() {
                let vs: Vec<String> = values.iter().cloned().collect();
                if param == "category" {
                    kinds.push(and_list(&vs, "or"));
                } else {
                    wheres.push(format!("{param} is {}", and_list(&vs, "or")));
                }
            }
            let kind = if kinds.is_empty() {
                String::new()
            } else {
                format!("{} ", kinds.join(" "))
            };
            let noun = match &r.resource {
                ResourceType::Any if kind.is_empty() => "all types of records".to_string(),
                ResourceType::Any => format!("{kind}records of every type"),
                ResourceType::Named(t) => format!("{kind}{t} records"),
            };
            let filter = if wheres.is_empty() {
                String::new()
            } else {
                format!(" where {}", wheres.join(" and "))
            };
            let level = match r.level {
                Level::Patient => "for the patient in context",
                Level::User => "for any patient the signed-in user can access",
                Level::System => "for any patient, with no user present",
            };
            format!("{} {noun}{filter} {level}", and_list(&verbs, "and"))
        }
        Scope::Refresh(Refresh::Offline) => "keep access after you log out (refresh token)".into(),
        Scope::Refresh(Refresh::Online) => {
            "keep access while you stay logged in, beyond a single session (refresh token)".into()
        }
        Scope::Identity(Identity::OpenId) => "confirm who you are when you sign in".into(),
        Scope::Identity(Identity::FhirUser) => "see which user record is yours".into(),
        Scope::Identity(Identity::Profile) => "see your profile".into(),
        Scope::Launch(Launch::Ehr) => "open from within the EHR with what is on screen".into(),
        Scope::Launch(Launch::Context { context, .. }) if context == "patient" => {
            "ask which patient to work with when opened on its own".into()
        }
        Scope::Launch(Launch::Context { context, .. }) => {
            format!("receive the current {context} when it is opened")
        }
        Scope::Extension(t) | Scope::Unknown(t) => format!("use the permission “{t}”"),
        Scope::Invalid(_) => format!("use the permission “{s}”"),
    }
}

/// A scope string (`a b`) as a phrase; unparseable text is quoted as it is.
fn access_of(text: &str) -> String {
    let parts: Vec<String> = text
        .split_whitespace()
        .map(|t| Scope::parse(t).map_or_else(|_| format!("use “{t}”"), |s| access(&s)))
        .collect();
    and_list(&parts, "and")
}

/// For removed access the head still grants in part: what it is now limited to, and
/// what the app can still do ("This version's access is now limited to laboratory
/// records: …"); `None` when the access is gone.
fn narrowed_sentence(piece: &str, m: &Manifest) -> Option<String> {
    let piece = Scope::parse(piece).ok()?;
    let kept = narrowing::kept(&piece, m.requested());
    if kept.is_empty() {
        return None;
    }
    let limit = match narrowing::limit(&piece, &kept) {
        Limit::Restriction(_) => {
            let kinds: Vec<String> = kept
                .iter()
                .filter_map(|s| s.as_resource())
                .map(restriction_noun)
                .collect();
            format!(" to {}", and_list(&kinds, "or"))
        }
        Limit::Types(t) => {
            format!(" to {} records", and_list(&t, "and"))
        }
        Limit::Level(_) => " to the patient in context".to_string(),
        Limit::Other => String::new(),
    };
    let now: Vec<String> = kept.iter().map(|s| access(s)).collect();
    Some(format!(
        "This version's access is now limited{limit}: it can {}, where before it could {}.",
        and_list(&now, "and"),
        access(&piece)
    ))
}

/// The records a restriction leaves: "laboratory records", "records where code is x".
fn restriction_noun(r: &crate::scope::ResourceScope) -> String {
    let mut kinds = Vec::new();
    let mut wheres = Vec::new();
    for (param, values) in r.restriction.clauses() {
        let vs: Vec<String> = values.iter().cloned().collect();
        if param == "category" {
            kinds.push(and_list(&vs, "or"));
        } else {
            wheres.push(format!("{param} is {}", and_list(&vs, "or")));
        }
    }
    let mut s = if kinds.is_empty() {
        "records".to_string()
    } else {
        format!("{} records", kinds.join(" "))
    };
    if !wheres.is_empty() {
        s = format!("{s} where {}", wheres.join(" and "));
    }
    s
}

/// The sentences for one app.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct AppNotice {
    pub(crate) app: String,
    pub(crate) name: Option<String>,
    pub(crate) new_app: bool,
    pub(crate) can_now: Vec<String>,
    pub(crate) no_longer: Vec<String>,
    /// Workflow and rationale changes.
    pub(crate) explains: Vec<String>,
    /// Tenant findings: where the release cannot be used as it is.
    pub(crate) tenants: Vec<String>,
}

/// The whole notice.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    /// What this version is compared with (a tag, a ref, or a first release).
    pub(crate) baseline: String,
    pub(crate) apps: Vec<AppNotice>,
    /// Errors to settle before publishing (lint and ledger findings).
    pub(crate) review: Vec<String>,
}

fn push_new(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// Builds the notice from a diff or gate report and the head manifests.
pub fn build(r: &Report, heads: &[&Manifest]) -> Notice {
    let heads = Heads(heads);
    let mut apps = Vec::new();
    for a in &r.apps {
        let mut n = AppNotice {
            app: a.app.clone(),
            name: heads.get(&a.app).and_then(|m| m.name.clone()),
            new_app: a.new_app,
            ..AppNotice::default()
        };
        for c in r.changes.iter().filter(|c| c.app == a.app) {
            let s = change_sentence(c, &heads);
            match c.direction {
                Direction::Escalation => push_new(&mut n.can_now, s),
                Direction::Reduction => push_new(&mut n.no_longer, s),
                Direction::Workflow => push_new(&mut n.explains, s),
            }
        }
        n.tenants = tenant_sentences(r, &a.app, heads.get(&a.app));
        apps.push(n);
    }
    let baseline = r.baseline.as_ref().map_or_else(
        || "the previous release".to_string(),
        |b| b.name.clone().unwrap_or_else(|| b.source.clone()),
    );
    Notice {
        baseline,
        apps,
        review: review(r, &heads),
    }
}

/// The head manifests, by app id.
struct Heads<'a>(&'a [&'a Manifest]);

impl Heads<'_> {
    fn get(&self, app: &str) -> Option<&Manifest> {
        self.0.iter().copied().find(|m| m.id.value == app)
    }

    /// A workflow id with its description: "triage — Reads vitals".
    fn workflow(&self, app: &str, id: &str) -> String {
        let desc = self
            .get(app)
            .and_then(|m| m.workflows.iter().find(|w| w.id.value == id))
            .and_then(|w| w.description.as_ref())
            .map(|d| format!(" — {}", d.value.trim().trim_end_matches('.')));
        format!("{id}{}", desc.unwrap_or_default())
    }
}

/// One change as its rule's sentence; a removed access that only narrows a scope
/// says how.
fn change_sentence(c: &Change, heads: &Heads<'_>) -> String {
    let app = c.app.as_str();
    let wfs: Vec<String> = c.workflows.iter().map(|w| heads.workflow(app, w)).collect();
    let workflows = match wfs.len() {
        0 => String::new(),
        1 => format!(" (workflow: {})", wfs[0]),
        _ => format!(" (workflows: {})", wfs.join("; ")),
    };
    let access = access_of(&c.scope);
    // A new workflow is introduced with its description; others by id.
    let wf = c.workflows.first().map_or(String::new(), |w| {
        if c.rule == RuleId::WorkflowAdded {
            heads.workflow(app, w)
        } else {
            w.clone()
        }
    });
    let detail = if c.rule == RuleId::RationaleChanged {
        let s = Scope::parse(&c.scope).ok();
        heads
            .get(app)
            .and_then(|m| m.scopes.iter().find(|e| e.token.scope() == s.as_ref()))
            .and_then(|e| e.rationale.as_ref())
            .map_or_else(String::new, |t| t.value.trim().to_string())
    } else {
        plain(&c.description)
    };
    let narrowed = (c.rule == RuleId::AccessRemoved)
        .then(|| heads.get(app).and_then(|m| narrowed_sentence(&c.scope, m)))
        .flatten();
    narrowed.unwrap_or_else(|| {
        fill(
            c.rule,
            &[
                ("access", &access),
                ("workflows", &workflows),
                ("workflow", &wf),
                ("detail", &detail),
                ("scope", &c.scope),
            ],
        )
    })
}

/// The app's tenant findings (warnings and errors) as sentences: by tenant, then in
/// report order (by place in the manifest). Several findings of one rule at one
/// tenant read as one sentence listing them.
fn tenant_sentences(r: &Report, app: &str, head: Option<&Manifest>) -> Vec<String> {
    let mut out = Vec::new();
    let mut by_tenant: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.app == app)
        .filter(|f| rule(f.rule).kind == RuleKind::Tenant && f.severity >= Severity::Warning)
        .collect();
    by_tenant.sort_by_key(|f| f.tenant.clone());
    let mut done = vec![false; by_tenant.len()];
    for (i, f) in by_tenant.iter().enumerate() {
        if done[i] {
            continue;
        }
        let same: Vec<usize> = (i..by_tenant.len())
            .filter(|&j| by_tenant[j].tenant == f.tenant && by_tenant[j].rule == f.rule)
            .collect();
        match rule(f.rule).notice_grouped {
            Some(template) if same.len() > 1 => {
                let (mut accesses, mut details) = (Vec::new(), Vec::new());
                for &j in &same {
                    done[j] = true;
                    push_new(&mut accesses, finding_access(by_tenant[j], head));
                    push_new(&mut details, finding_detail(by_tenant[j]));
                }
                let s = template
                    .replace("{tenant}", f.tenant.as_deref().unwrap_or("a tenant"))
                    .replace("{access}", &accesses.join("; "))
                    .replace("{detail}", &details.join(", "));
                push_new(&mut out, s);
            }
            _ => push_new(&mut out, finding_sentence(f, head)),
        }
    }
    out
}

/// Lint and ledger errors, prefixed with their app: what a reviewer must look at.
fn review(r: &Report, heads: &Heads<'_>) -> Vec<String> {
    let mut review = Vec::new();
    for f in &r.findings {
        let kind = rule(f.rule).kind;
        if matches!(kind, RuleKind::Lint | RuleKind::Ledger) && f.severity == Severity::Error {
            let s = finding_sentence(f, heads.get(&f.app));
            let s = if f.app.is_empty() {
                s
            } else {
                format!("{}: {s}", f.app)
            };
            push_new(&mut review, s);
        }
    }
    review
}

/// The scope token a finding points at, in the head manifest.
fn finding_token<'m>(
    f: &Finding,
    m: Option<&'m Manifest>,
) -> Option<&'m crate::manifest::ScopeEntry> {
    m.and_then(|m| {
        m.scopes.iter().find(|e| {
            e.token.text.pos.line == f.location.line && e.token.text.pos.column == f.location.column
        })
    })
}

/// What a finding is about, in plain language: the access of the scope it points at.
fn finding_access(f: &Finding, m: Option<&Manifest>) -> String {
    finding_token(f, m)
        .and_then(|e| e.token.scope())
        .map_or_else(|| plain(&f.message), access)
}

/// A finding's `{detail}`: for a missing capability its code, else the message.
fn finding_detail(f: &Finding) -> String {
    match &f.capability {
        Some(c) => format!("“{c}”"),
        None => plain(&f.message),
    }
}

/// A finding's sentence, with `{access}` from the scope token it points at.
fn finding_sentence(f: &Finding, m: Option<&Manifest>) -> String {
    let token = finding_token(f, m);
    let scope = token.map_or_else(String::new, |e| e.token.text.value.clone());
    let access = finding_access(f, m);
    let detail = finding_detail(f);
    fill(
        f.rule,
        &[
            ("access", &access),
            ("tenant", f.tenant.as_deref().unwrap_or("a tenant")),
            ("scope", &scope),
            ("detail", &detail),
            ("workflows", ""),
        ],
    )
}

/// Messages quote scopes in backticks; a notice does not.
fn plain(s: &str) -> String {
    s.replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(t: &str) -> String {
        access(&Scope::parse(t).unwrap())
    }

    #[test]
    fn letters_become_verbs_and_levels_become_phrases() {
        assert_eq!(
            phrase("patient/MedicationStatement.c"),
            "create MedicationStatement records for the patient in context"
        );
        assert_eq!(
            phrase("user/Observation.cruds"),
            "create, read, update, delete and search Observation records for any patient the signed-in user can access"
        );
        assert_eq!(
            phrase("system/Patient.read"),
            "read and search Patient records for any patient, with no user present"
        );
    }

    #[test]
    fn wildcards_restrictions_and_special_scopes_read_as_plain_language() {
        assert_eq!(
            phrase("patient/*.rs"),
            "read and search all types of records for the patient in context"
        );
        assert_eq!(
            phrase("patient/Observation.rs?category=laboratory"),
            "read and search laboratory Observation records for the patient in context"
        );
        assert_eq!(
            phrase("patient/Observation.rs?category=laboratory,vital-signs"),
            "read and search laboratory or vital-signs Observation records for the patient in context"
        );
        assert_eq!(
            phrase("offline_access"),
            "keep access after you log out (refresh token)"
        );
        assert_eq!(
            phrase("launch/encounter"),
            "receive the current encounter when it is opened"
        );
        assert_eq!(
            phrase("__photo.manage"),
            "use the permission “__photo.manage”"
        );
    }

    #[test]
    fn a_missing_capability_is_named_by_its_code_not_the_message_wording() {
        let f = Finding::new(
            RuleId::EhrCapabilityMissing,
            "a",
            crate::report::Location {
                file: "smart-app.yaml".into(),
                line: 1,
                column: 1,
            },
            "the EHR cannot `refresh` tokens".into(),
        )
        .for_tenant("clinic")
        .with_capability("permission-offline");
        assert_eq!(finding_detail(&f), "“permission-offline”");
        assert_eq!(
            finding_sentence(&f, None),
            "At clinic: the EHR lacks a feature this version needs (“permission-offline”)."
        );
    }

    #[test]
    fn templates_fill_every_placeholder() {
        assert_eq!(
            fill(
                RuleId::WriteAccessAdded,
                &[
                    (
                        "access",
                        "create MedicationStatement records for the patient in context"
                    ),
                    (
                        "workflows",
                        " (workflow: reconcile — Medication reconciliation)"
                    ),
                ],
            ),
            "This version can now create MedicationStatement records for the patient in context (workflow: reconcile — Medication reconciliation)."
        );
    }
}
