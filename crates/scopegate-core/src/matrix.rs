//! The scope matrix (`scopegate matrix`): one row per requested scope, with its
//! rationale, the workflows it serves, its risk, its approval history and its verdict
//! at every tenant. This is the export an enterprise customer's reviewer asks for.
//!
//! Owns the [`ScopeMatrix`] value and its JSON contract (`schemas/matrix.schema.json`).
//! Pure: the CLI hands it loaded manifests, ledger entries and tenants; renderers in
//! `render::matrix` and `render::html` only format it.
//!
//! **Risk** is what the gate would call this access if the app requested it for the
//! first time: the scope classified against an empty baseline (`classify`), the
//! highest severity among the rules that apply (after the config's severity overrides),
//! said as high, medium or low (`Severity::risk`).

use rustc_hash::{FxHashMap, FxHashSet};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::approval::{Entry, Key};
use crate::config::Config;
use crate::diff::classify;
use crate::grant::Options;
use crate::manifest::{Manifest, Pos};
use crate::report::Location;
use crate::rules::{RuleId, Severity};
use crate::scope::Scope;
use crate::tenant::{self, Tenant};

/// Bumped when the JSON output changes incompatibly.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// How risky a scope would be as new access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Risk {
    High,
    Medium,
    Low,
}

impl Risk {
    pub(crate) fn of(s: Severity) -> Risk {
        match s {
            Severity::Error => Risk::High,
            Severity::Warning => Risk::Medium,
            Severity::Note => Risk::Low,
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Risk::High => "high",
            Risk::Medium => "medium",
            Risk::Low => "low",
        }
    }
}

/// One app in the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct MatrixApp {
    pub(crate) app: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
    /// The manifest path.
    pub(crate) path: String,
}

/// A tenant, as named by its profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct MatrixTenant {
    pub(crate) tenant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
}

/// A ledger entry that approved some of this scope's access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ApprovalRecord {
    pub(crate) by: String,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ticket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    /// When the approval stops counting, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) expires: Option<String>,
    /// The tenants it is limited to; empty for every tenant.
    pub(crate) tenants: Vec<String>,
    /// The entry's keys that share access with this scope.
    pub(crate) keys: Vec<String>,
    /// The line of the entry in the ledger.
    pub(crate) entry_line: u32,
}

/// Whether a tenant's policy permits the scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Permit {
    Allowed,
    Denied,
}

/// Whether the tenant's EHR lists the scope in `scopes_supported`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum EhrSupport {
    Listed,
    Unlisted,
    /// No EHR snapshot, or one without `scopes_supported`.
    NotChecked,
}

/// One scope at one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct TenantCell {
    pub(crate) tenant: String,
    pub(crate) permit: Permit,
    /// The tenant rules that deny it (`tenant-denied`, …), in the order of `why`.
    pub(crate) rules: Vec<RuleId>,
    /// Why it is denied, one sentence per rule.
    pub(crate) why: Vec<String>,
    /// The scope touches a resource type the tenant marks sensitive: new access needs
    /// an approval naming the tenant.
    pub(crate) sensitive: bool,
    pub(crate) ehr: EhrSupport,
}

/// One requested scope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Row {
    pub(crate) app: String,
    /// The scope as written in the manifest.
    pub(crate) scope: String,
    /// Its canonical (SMART v2) spelling.
    pub(crate) canonical: String,
    pub(crate) location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rationale: Option<String>,
    /// Workflows whose needs it serves, by id.
    pub(crate) workflows: Vec<String>,
    pub(crate) risk: Risk,
    /// The rules the diff would report if this access were new, most telling first.
    pub(crate) risk_rules: Vec<RuleId>,
    /// Ledger entries whose keys share access with this scope, in ledger order (newest
    /// last).
    pub(crate) approvals: Vec<ApprovalRecord>,
    /// One cell per tenant, by tenant name.
    pub(crate) tenants: Vec<TenantCell>,
}

/// What the matrix describes: the checkout it was read from. The CLI fills it in;
/// [`build`] leaves it empty (a working tree outside git).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Checkout {
    /// The commit checked out (HEAD); absent outside a git repository or before the
    /// first commit.
    pub commit: Option<String>,
    /// The release tag on that commit (newest matching the config's `release_tags`).
    pub version: Option<String>,
    /// A file the matrix read (a manifest, the ledger, the config, a tenant profile)
    /// differs from the commit or is not committed: the matrix is of the working tree.
    pub uncommitted: bool,
}

impl Checkout {
    /// "at commit 0123456789ab (v1.4.0)", or "from the working tree, …" when what was
    /// read is not (all) committed.
    pub(crate) fn describe(&self) -> String {
        let version = self.version.as_deref().unwrap_or("no release tag");
        match (&self.commit, self.uncommitted) {
            (Some(c), false) => format!("at commit {} ({version})", short(c)),
            (Some(c), true) => format!(
                "from the working tree, with uncommitted changes on commit {} ({version})",
                short(c)
            ),
            (None, _) => "from a working tree with no git commit".to_string(),
        }
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// The whole matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScopeMatrix {
    /// The JSON format version; see `schemas/matrix.schema.json`.
    pub(crate) format_version: u32,
    pub(crate) tool: String,
    /// The commit and version the matrix describes.
    #[serde(default)]
    pub checkout: Checkout,
    /// Apps in the order the manifests were given.
    pub(crate) apps: Vec<MatrixApp>,
    /// Tenants by name.
    pub(crate) tenants: Vec<MatrixTenant>,
    /// By app (in `apps` order), then in manifest order. Invalid scope tokens are left
    /// out (`scopegate check` reports them).
    pub(crate) rows: Vec<Row>,
}

impl ScopeMatrix {
    /// Each app id's rows, in order: a renderer looks an app's rows up, where a scan of
    /// every row per app was quadratic in the apps (10,000 apps: 0.8 s of Markdown).
    pub(crate) fn rows_by_app(&self) -> RowsByApp<'_> {
        let mut by_app: FxHashMap<&str, Vec<&Row>> = FxHashMap::default();
        for r in &self.rows {
            by_app.entry(r.app.as_str()).or_default().push(r);
        }
        RowsByApp(by_app)
    }
}

/// [`ScopeMatrix::rows_by_app`].
pub(crate) struct RowsByApp<'m>(FxHashMap<&'m str, Vec<&'m Row>>);

impl<'m> RowsByApp<'m> {
    /// The rows of app id `app`, in the matrix's order (none for an app with no valid
    /// scope).
    pub(crate) fn of(&self, app: &str) -> &[&'m Row] {
        self.0.get(app).map_or(&[], Vec::as_slice)
    }
}

/// Builds the matrix from the head manifests, the ledger and the tenant profiles.
pub fn build(
    manifests: &[&Manifest],
    ledger: &[Entry],
    tenants: &[Tenant],
    config: &Config,
) -> ScopeMatrix {
    let opts = config.options;
    let mut tenants: Vec<&Tenant> = tenants.iter().collect();
    tenants.sort_by(|a, b| a.profile.name.cmp(&b.profile.name));
    // Each policy made ready once, for every scope of every manifest.
    let judges: Vec<(&Tenant, tenant::Judge<'_>)> = tenants
        .iter()
        .map(|t| (*t, t.profile.judge_many(opts)))
        .collect();
    let mut rows = Vec::new();
    for m in manifests {
        let app = &m.id.value;
        let unlisted = unlisted(&tenants, m, opts);
        // The workflows each scope serves, from needs indexed once per manifest.
        let justify = crate::diff::Lookup::new(m, usize::MAX);
        let keys = AppKeys::of(ledger, app);
        for e in &m.scopes {
            let Some(s) = e.token.scope() else { continue };
            let pos = e.token.text.pos;
            let risk_rules = classify(s, &crate::diff::BaseScopes::new(&[]), opts);
            let severity = risk_rules
                .iter()
                .map(|r| config.severity_of(*r))
                .max()
                .unwrap_or(Severity::Note);
            rows.push(Row {
                app: app.clone(),
                scope: e.token.text.value.clone(),
                canonical: s.to_string(),
                location: Location::new(&m.path, pos),
                rationale: e.rationale.as_ref().map(|r| r.value.trim().to_string()),
                workflows: justify.workflows(s, opts),
                risk: Risk::of(severity),
                risk_rules,
                approvals: approvals(ledger, &keys, s, opts),
                tenants: cells(&judges, &unlisted, s, pos),
            });
        }
    }
    ScopeMatrix {
        format_version: FORMAT_VERSION,
        tool: format!("scopegate {}", env!("CARGO_PKG_VERSION")),
        checkout: Checkout::default(),
        apps: manifests
            .iter()
            .map(|m| MatrixApp {
                app: m.id.value.clone(),
                name: m.name.clone(),
                path: m.path.clone(),
            })
            .collect(),
        tenants: tenants
            .iter()
            .map(|t| MatrixTenant {
                tenant: t.profile.name.clone(),
                description: t.profile.description.clone(),
            })
            .collect(),
        rows,
    }
}

/// Per tenant (in `tenants` order): the positions of the manifest's scope tokens its
/// EHR does not list; empty for a tenant without EHR metadata.
fn unlisted(tenants: &[&Tenant], m: &Manifest, opts: Options) -> Vec<FxHashSet<Pos>> {
    tenants
        .iter()
        .map(|t| match &t.ehr {
            Some(e) => tenant::ehr_shortfalls(e, m, opts)
                .into_iter()
                .filter(|s| s.rule == RuleId::EhrScopeUnlisted)
                .map(|s| s.pos)
                .collect(),
            None => FxHashSet::default(),
        })
        .collect()
}

/// One app's keys in the ledger, indexed for [`approvals`].
struct AppKeys<'l> {
    /// `(entry index, key, its scope)`, in ledger order.
    keys: Vec<(usize, &'l Key, &'l Scope)>,
    index: tenant::OverlapIndex<'l>,
}

impl<'l> AppKeys<'l> {
    fn of(ledger: &'l [Entry], app: &str) -> AppKeys<'l> {
        let keys: Vec<(usize, &Key, &Scope)> = ledger
            .iter()
            .enumerate()
            .flat_map(|(i, e)| {
                e.keys
                    .iter()
                    .filter(|k| k.app == app)
                    .filter_map(move |k| Some((i, k, k.scope()?)))
            })
            .collect();
        let index = tenant::OverlapIndex::of(keys.iter().map(|(_, _, s)| *s));
        AppKeys { keys, index }
    }
}

/// The ledger entries with a key of the app that overlaps `s`, with those keys, in
/// ledger order. Only the keys the index names are asked: 2,000 scopes against a
/// ledger of 2,000 keys on one type is not 4,000,000 questions.
fn approvals(
    ledger: &[Entry],
    keys: &AppKeys<'_>,
    s: &Scope,
    opts: Options,
) -> Vec<ApprovalRecord> {
    let mut out: Vec<ApprovalRecord> = Vec::new();
    let mut last = None;
    for t in keys.index.may_overlap(s) {
        let (i, key, k) = keys.keys[t];
        if !tenant::overlaps(k, s, opts) {
            continue;
        }
        match out.last_mut() {
            Some(record) if last == Some(i) => record.keys.push(key.to_string()),
            _ => {
                let entry = &ledger[i];
                out.push(ApprovalRecord {
                    by: entry.by.clone(),
                    at: entry.at.clone(),
                    ticket: entry.ticket.clone(),
                    reason: entry.reason.clone(),
                    expires: entry.expires.clone(),
                    tenants: entry.tenants.clone(),
                    keys: vec![key.to_string()],
                    entry_line: entry.pos.line,
                });
                last = Some(i);
            }
        }
    }
    out
}

/// What each tenant says of `s` (at token position `pos`): permitted or why not,
/// sensitive, listed by its EHR.
fn cells(
    tenants: &[(&Tenant, tenant::Judge<'_>)],
    unlisted: &[FxHashSet<Pos>],
    s: &Scope,
    pos: Pos,
) -> Vec<TenantCell> {
    tenants
        .iter()
        .zip(unlisted)
        .map(|((t, judge), unlisted)| {
            let vs = judge.judge(s);
            let listed = t.ehr.as_ref().and_then(|e| e.scopes_supported.as_ref());
            TenantCell {
                tenant: t.profile.name.clone(),
                permit: if vs.is_empty() {
                    Permit::Allowed
                } else {
                    Permit::Denied
                },
                rules: vs.iter().map(|v| v.rule).collect(),
                why: vs.into_iter().map(|v| v.message).collect(),
                sensitive: t.profile.sensitive_in(s).is_some(),
                ehr: match listed {
                    None => EhrSupport::NotChecked,
                    Some(_) if unlisted.contains(&pos) => EhrSupport::Unlisted,
                    Some(_) => EhrSupport::Listed,
                },
            }
        })
        .collect()
}

/// The JSON Schema of the matrix (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ScopeMatrix)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        crate::manifest::from_str("smart-app.yaml", text).unwrap()
    }

    const APP: &str = "id: app\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: ehr\n  - scope: patient/Observation.crus\n    rationale: vitals\n  - scope: patient/Observation.\n    rationale: broken\nworkflows:\n  - id: vitals\n    needs: [patient/Observation.crus]\n";

    #[test]
    fn risk_is_the_gates_judgement_of_the_access_as_new() {
        let m = manifest(APP);
        let x = build(&[&m], &[], &[], &Config::default());
        // The invalid token is left out.
        assert_eq!(x.rows.len(), 2);
        assert_eq!(x.rows[0].risk, Risk::Low);
        assert_eq!(x.rows[0].risk_rules, [RuleId::LaunchContextAdded]);
        assert_eq!(x.rows[1].risk, Risk::Medium);
        assert_eq!(
            x.rows[1].risk_rules,
            [RuleId::WriteAccessAdded, RuleId::ResourceAccessAdded]
        );
        assert_eq!(x.rows[1].workflows, ["vitals"]);
    }

    #[test]
    fn approvals_that_share_access_with_a_scope_are_its_history_in_ledger_order() {
        let m = manifest(APP);
        let ledger = crate::approval::from_bytes(
            "l.yaml",
            b"approvals:\n  - keys: ['app:patient/Observation.u', 'app:launch']\n    by: bob\n    at: 2026-01-02\n    ticket: T-1\n  - keys: ['other:patient/Observation.u']\n    by: eve\n    at: 2026-01-03\n    ticket: T-2\n  - keys: ['app:patient/Observation.c']\n    by: alice\n    at: 2026-02-01\n    reason: why\n    tenants: [x]\n",
        )
        .unwrap();
        let x = build(&[&m], &ledger, &[], &Config::default());
        let obs = &x.rows[1];
        let who: Vec<&str> = obs.approvals.iter().map(|a| a.by.as_str()).collect();
        assert_eq!(who, ["bob", "alice"]);
        assert_eq!(obs.approvals[0].keys, ["app:patient/Observation.u"]);
        assert_eq!(obs.approvals[1].tenants, ["x"]);
        assert_eq!(x.rows[0].approvals[0].keys, ["app:launch"]);
    }

    #[test]
    fn each_tenant_allows_or_denies_each_scope_with_the_reason() {
        let m = manifest(APP);
        let t = Tenant {
            profile: tenant::from_bytes(
                ".scopegate/tenants/clinic.yaml",
                b"deny: ['*/*.u']\nsensitive: [Observation]\n",
            )
            .unwrap(),
            ehr: None,
        };
        let x = build(&[&m], &[], &[t], &Config::default());
        let cell = &x.rows[1].tenants[0];
        assert_eq!(cell.permit, Permit::Denied);
        assert_eq!(cell.rules, [RuleId::TenantDenied]);
        assert!(cell.sensitive);
        assert_eq!(cell.ehr, EhrSupport::NotChecked);
        assert_eq!(x.rows[0].tenants[0].permit, Permit::Allowed);
    }

    /// The matrix of `n` `?category=cN` scopes against a ledger naming each in an entry
    /// of its own; the best of three runs' time.
    fn codes_with_history(n: usize) -> (ScopeMatrix, std::time::Duration) {
        let mut m = String::from("id: app\nlaunch: [ehr]\nscopes:\n");
        let mut l = String::from("approvals:\n");
        for i in 0..n {
            m.push_str(&format!(
                "  - scope: patient/Observation.rs?category=c{i}\n    rationale: r\n"
            ));
            l.push_str(&format!(
                "  - keys: ['app:patient/Observation.rs?category=c{i}']\n    by: bob\n    at: 2026-01-02\n    ticket: T-{i}\n"
            ));
        }
        let m = crate::manifest::from_str("m.yaml", &m).unwrap();
        let ledger = crate::approval::from_bytes("l.yaml", l.as_bytes()).unwrap();
        crate::scaling::timed(|| build(&[&m], &ledger, &[], &Config::default()))
    }

    // Regression (issue 15 §1): each scope was compared with every key of the ledger,
    // 0.4 s for 2,000 of each and quadratic.
    #[test]
    fn a_scope_finds_its_history_in_time_linear_in_the_ledger() {
        let (small, small_t) = codes_with_history(200);
        let (big, big_t) = codes_with_history(2_000);
        for x in [&small, &big] {
            for (i, r) in x.rows.iter().enumerate() {
                let tickets: Vec<Option<&str>> =
                    r.approvals.iter().map(|a| a.ticket.as_deref()).collect();
                assert_eq!(tickets, [Some(format!("T-{i}").as_str())], "{}", r.scope);
            }
        }
        // Ten times the scopes and keys: linear is about 10x, quadratic 100x.
        crate::scaling::assert_near_linear("matrix", small_t, big_t);
    }
}
