//! The consent delta in plain language (`scopegate diff --format notice`), for release
//! notes and customer notices: "This version can now create MedicationStatement
//! records for the patient in context (workflow: …)."
//!
//! Owns the phrase for what a scope lets the app do, and fills each rule's sentence
//! template, which is data in its catalogue entry (`Rule::notice`, and
//! `Rule::notice_grouped` for several findings of one tenant rule).
//! Pure: the report and the head manifests in, a [`Notice`] of sentences out;
//! `render::notice` lays it out.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::grant::ScopeIndex;
use crate::manifest::{Manifest, ScopeEntry, Workflow};
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
            // Directory and definition records (practitioners, organizations, value
            // sets…) are no patient's: a notice must not say "for any patient" of them.
            let about_patients = match &r.resource {
                ResourceType::Named(t) => !NOT_PATIENT_DATA.contains(&&**t),
                ResourceType::Any => true,
            };
            let level = match (r.level, about_patients) {
                (Level::Patient, _) => "for the patient in context",
                (Level::User, true) => "for any patient the signed-in user can access",
                (Level::User, false) => "that the signed-in user can access",
                (Level::System, true) => "for any patient, with no user present",
                (Level::System, false) => "on the server, with no user present",
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

/// Resource types that hold no patient's data: the people and places of care, and
/// definitions (FHIR R4 "Administration: Entities" and the conformance and knowledge
/// resources). Any other type is taken to be about patients.
const NOT_PATIENT_DATA: &[&str] = &[
    "ActivityDefinition",
    "CapabilityStatement",
    "CodeSystem",
    "ConceptMap",
    "Conformance",
    "Endpoint",
    "HealthcareService",
    "Library",
    "Location",
    "Measure",
    "Medication",
    "MedicationKnowledge",
    "NamingSystem",
    "OperationDefinition",
    "Organization",
    "OrganizationAffiliation",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Questionnaire",
    "SearchParameter",
    "StructureDefinition",
    "Substance",
    "TerminologyCapabilities",
    "ValueSet",
];

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
fn narrowed_sentence(piece: &str, head: &Head<'_>) -> Option<String> {
    let piece = Scope::parse(piece).ok()?;
    let near = head.index.related(&piece).into_iter();
    let kept = narrowing::kept(&piece, near.map(|i| head.requested[i]));
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

/// The first of each sentence, in order. Sentences are gathered as they come and the
/// repeats dropped once: a `contains` per sentence was quadratic in a large release.
fn unique(v: Vec<String>) -> Vec<String> {
    let mut seen = FxHashSet::default();
    v.into_iter().filter(|s| seen.insert(s.clone())).collect()
}

/// Builds the notice from a diff or gate report and the head manifests.
pub fn build(r: &Report, heads: &[&Manifest]) -> Notice {
    let heads = Heads::new(heads);
    // Each app's changes and findings, in report order: asked once per app.
    let mut changes: FxHashMap<&str, Vec<&Change>> = FxHashMap::default();
    for c in &r.changes {
        changes.entry(c.app.as_str()).or_default().push(c);
    }
    let mut findings: FxHashMap<&str, Vec<&Finding>> = FxHashMap::default();
    for f in &r.findings {
        findings.entry(f.app.as_str()).or_default().push(f);
    }
    let mut apps = Vec::new();
    for a in &r.apps {
        let head = heads.get(&a.app);
        let mut n = AppNotice {
            app: a.app.clone(),
            name: head.and_then(|h| h.m.name.clone()),
            new_app: a.new_app,
            ..AppNotice::default()
        };
        for c in changes.get(a.app.as_str()).into_iter().flatten() {
            let s = change_sentence(c, &heads);
            match c.direction {
                Direction::Escalation => n.can_now.push(s),
                Direction::Reduction => n.no_longer.push(s),
                Direction::Workflow => n.explains.push(s),
            }
        }
        n.can_now = unique(n.can_now);
        n.no_longer = unique(n.no_longer);
        n.explains = unique(n.explains);
        let app_findings = findings.get(a.app.as_str()).map_or(&[][..], Vec::as_slice);
        n.tenants = tenant_sentences(app_findings, head);
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

/// The head manifests, by app id (the first with an id), each indexed once.
struct Heads<'a>(FxHashMap<&'a str, Head<'a>>);

/// A head manifest indexed for the notice's questions, each asked per change or
/// finding: a scan of the manifest per question was quadratic in a large release.
struct Head<'a> {
    m: &'a Manifest,
    /// The first workflow with each id.
    workflows: FxHashMap<&'a str, &'a Workflow>,
    /// The first entry with each scope (`None`: the first that is none).
    by_scope: FxHashMap<Option<&'a Scope>, &'a ScopeEntry>,
    /// The first entry at each `(line, column)`.
    at: FxHashMap<(u32, u32), &'a ScopeEntry>,
    requested: Vec<&'a Scope>,
    index: ScopeIndex<'a>,
}

impl<'a> Heads<'a> {
    fn new(heads: &[&'a Manifest]) -> Heads<'a> {
        let mut by_app = FxHashMap::default();
        for m in heads {
            by_app
                .entry(m.id.value.as_str())
                .or_insert_with(|| Head::new(m));
        }
        Heads(by_app)
    }

    fn get(&self, app: &str) -> Option<&Head<'a>> {
        self.0.get(app)
    }

    /// A workflow id with its description: "triage — Reads vitals".
    fn workflow(&self, app: &str, id: &str) -> String {
        let desc = self
            .get(app)
            .and_then(|h| h.workflows.get(id))
            .and_then(|w| w.description.as_ref())
            .map(|d| format!(" — {}", d.value.trim().trim_end_matches('.')));
        format!("{id}{}", desc.unwrap_or_default())
    }
}

impl<'a> Head<'a> {
    fn new(m: &'a Manifest) -> Head<'a> {
        let mut workflows = FxHashMap::default();
        for w in &m.workflows {
            workflows.entry(w.id.value.as_str()).or_insert(w);
        }
        let (mut by_scope, mut at) = (FxHashMap::default(), FxHashMap::default());
        for e in &m.scopes {
            by_scope.entry(e.token.scope()).or_insert(e);
            let pos = e.token.text.pos;
            at.entry((pos.line, pos.column)).or_insert(e);
        }
        let requested: Vec<&Scope> = m.requested().collect();
        Head {
            m,
            workflows,
            by_scope,
            at,
            index: ScopeIndex::of(requested.iter().copied()),
            requested,
        }
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
            .and_then(|h| h.by_scope.get(&s.as_ref()))
            .and_then(|e| e.rationale.as_ref())
            .map_or_else(String::new, |t| t.value.trim().to_string())
    } else {
        plain(&c.description)
    };
    let narrowed = (c.rule == RuleId::AccessRemoved)
        .then(|| heads.get(app).and_then(|h| narrowed_sentence(&c.scope, h)))
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
/// `findings`: the app's, in report order.
fn tenant_sentences(findings: &[&Finding], head: Option<&Head<'_>>) -> Vec<String> {
    let mut out = Vec::new();
    let mut by_tenant: Vec<&Finding> = findings
        .iter()
        .copied()
        .filter(|f| rule(f.rule).kind == RuleKind::Tenant && f.severity >= Severity::Warning)
        .collect();
    by_tenant.sort_by_key(|f| f.tenant.clone());
    // The findings of each (tenant, rule), in order: said at the first of them.
    let mut same: FxHashMap<(Option<&str>, RuleId), Vec<&Finding>> = FxHashMap::default();
    for f in &by_tenant {
        same.entry((f.tenant.as_deref(), f.rule))
            .or_default()
            .push(f);
    }
    for f in &by_tenant {
        let key = (f.tenant.as_deref(), f.rule);
        let Some(n) = same.get(&key).map(Vec::len) else {
            // Said with its group.
            continue;
        };
        match rule(f.rule).notice_grouped {
            Some(template) if n > 1 => {
                let group = same.remove(&key).unwrap_or_default();
                let accesses = unique(group.iter().map(|g| finding_access(g, head)).collect());
                let details = unique(group.iter().map(|g| finding_detail(g)).collect());
                let s = template
                    .replace("{tenant}", f.tenant.as_deref().unwrap_or("a tenant"))
                    .replace("{access}", &accesses.join("; "))
                    .replace("{detail}", &details.join(", "));
                out.push(s);
            }
            _ => out.push(finding_sentence(f, head)),
        }
    }
    unique(out)
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
            review.push(s);
        }
    }
    unique(review)
}

/// The scope token a finding points at, in the head manifest.
fn finding_token<'m>(f: &Finding, head: Option<&Head<'m>>) -> Option<&'m ScopeEntry> {
    head.and_then(|h| h.at.get(&(f.location.line, f.location.column)).copied())
}

/// What a finding is about, in plain language: the access of the scope it points at.
fn finding_access(f: &Finding, m: Option<&Head<'_>>) -> String {
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
fn finding_sentence(f: &Finding, m: Option<&Head<'_>>) -> String {
    let token = finding_token(f, m);
    // A finding on a workflow's need is not at a scope entry: its message quotes the
    // token first (`` `patient/Observation.sr`: … ``).
    let scope = token.map_or_else(
        || first_quoted(&f.message).unwrap_or_else(|| plain(&f.message)),
        |e| e.token.text.value.clone(),
    );
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

/// The first backticked span of a message.
fn first_quoted(message: &str) -> Option<String> {
    let (_, rest) = message.split_once('`')?;
    let (quoted, _) = rest.split_once('`')?;
    (!quoted.is_empty()).then(|| quoted.to_string())
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

    /// A notice for patients must not say a directory record is "for any patient":
    /// practitioners, organizations and value sets are no patient's data.
    #[test]
    fn directory_and_definition_records_are_not_said_to_be_any_patients() {
        assert_eq!(
            phrase("user/Practitioner.cruds"),
            "create, read, update, delete and search Practitioner records that the signed-in user can access"
        );
        assert_eq!(
            phrase("system/Organization.rs"),
            "read and search Organization records on the server, with no user present"
        );
        // Controls: a patient's data, and every type, keep the patient wording.
        assert!(
            phrase("user/Condition.rs").ends_with("for any patient the signed-in user can access")
        );
        assert!(phrase("system/*.rs").ends_with("for any patient, with no user present"));
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

    /// The notice of `n` codes replaced by `n` others, each with a workflow of its own,
    /// and the best of three runs' time.
    fn replaced_codes(n: usize) -> (Notice, std::time::Duration) {
        let m = |c: char| {
            let mut t = String::from("id: a\nlaunch: [ehr]\nscopes:\n");
            for i in 0..n {
                t.push_str(&format!(
                    "  - scope: patient/Observation.rs?category={c}{i}\n    rationale: r\n"
                ));
            }
            t.push_str("workflows:\n");
            for i in 0..n {
                t.push_str(&format!("  - id: {c}{i}\n    description: d\n    needs: [patient/Observation.rs?category={c}{i}]\n"));
            }
            crate::manifest::from_str("m.yaml", &t).unwrap()
        };
        let (base, head) = (m('c'), m('d'));
        let changes = crate::diff::diff(Some(&base), &head, crate::grant::Options::default());
        let app = crate::report::AppReport {
            app: "a".into(),
            path: "m.yaml".into(),
            baseline_path: Some("m.yaml".into()),
            new_app: false,
            removed_app: false,
            id_changed_from: None,
            gating_stopped: None,
            text_diff: String::new(),
        };
        let r = Report::build(1, Vec::new(), changes, vec![app], None, None, false);
        crate::scaling::timed(|| build(&r, &[&head]))
    }

    /// `n` sentences, each said twice (the second time after all the firsts).
    fn sentences(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("read patient/Observation.rs?category=c{}", i % (n / 2)))
            .collect()
    }

    // Repeated sentences are dropped, the first of each kept in order, in time linear in
    // them. The notice test below does not see a quadratic `unique` on its own: the rest
    // of a notice costs more at its sizes.
    #[test]
    fn repeated_sentences_are_dropped_in_time_linear_in_them() {
        let (small, small_t) = crate::scaling::timed(|| unique(sentences(4_000)));
        let (big, big_t) = crate::scaling::timed(|| unique(sentences(40_000)));
        assert_eq!((small.len(), big.len()), (2_000, 20_000));
        assert_eq!(big[0], "read patient/Observation.rs?category=c0");
        assert_eq!(big[19_999], "read patient/Observation.rs?category=c19999");
        crate::scaling::assert_near_linear("unique", small_t, big_t);
    }

    // Regression (issue 15 §1): each sentence was looked for among those already said,
    // and each change's workflow, scope and narrowing among the whole manifest.
    #[test]
    fn the_notice_of_a_large_release_is_written_in_time_linear_in_it() {
        let (small, small_t) = replaced_codes(300);
        let (big, big_t) = replaced_codes(3_000);
        for (n, notice) in [(300, &small), (3_000, &big)] {
            let a = &notice.apps[0];
            assert_eq!((a.can_now.len(), a.no_longer.len()), (n, n));
            // Each new code is said with its workflow's description.
            assert!(
                a.can_now.iter().all(|s| s.contains("— d)")),
                "{:?}",
                &a.can_now[..2]
            );
        }
        crate::scaling::assert_near_linear("notice", small_t, big_t);
    }
}
