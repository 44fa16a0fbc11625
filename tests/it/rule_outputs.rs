//! The expected output of every rule, in the spirit of cargo-semver-checks'
//! `test_outputs`: one small scenario per rule, run through the real binary, and a
//! snapshot (`snapshots/it__rule_outputs__<rule-id>.snap`) of the JSON findings or
//! changes of that rule alone.
//!
//! - lint rules: `scopegate check` on `tests/fixtures/lint/<rule-id>.yaml`;
//! - change rules: `scopegate gate` on a temporary repository released with
//!   `tests/fixtures/diff/<rule-id>/base.yaml`, then changed to its `head.yaml` (no
//!   `head.yaml`: the manifest is deleted);
//! - ledger and tenant rules: `scopegate gate` or `check` on a temporary repository
//!   built for the rule;
//! - usage rules: `scopegate usage` with a one-line evidence file.
//!
//! `every_rule_has_a_scenario` fails naming any rule of the catalogue with none.

use std::path::PathBuf;

use scopegate::rules::{RuleId, RuleKind, rule};
use serde_json::Value;

use crate::support::repo::{self, Repo};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures").join(rel))
        .unwrap_or_else(|e| panic!("tests/fixtures/{rel}: {e}"))
}

/// How a rule's scenario is run.
#[derive(Clone, Copy)]
enum Scenario {
    /// `check` on the rule's lint fixture.
    Lint,
    /// `gate` across the rule's diff fixture pair.
    DiffPair,
    /// A repository built for the rule.
    Built(fn() -> Value),
}

/// The scenario of each rule. A rule missing here fails `every_rule_has_a_scenario`.
const SCENARIOS: &[(RuleId, Scenario)] = &[
    (RuleId::InvalidScope, Scenario::Lint),
    (RuleId::PermissionOrder, Scenario::Lint),
    (RuleId::UnknownResourceType, Scenario::Lint),
    (RuleId::UnknownScope, Scenario::Lint),
    (RuleId::UnjustifiedScope, Scenario::Lint),
    (RuleId::UncoveredNeed, Scenario::Lint),
    (RuleId::OverbroadWildcard, Scenario::Lint),
    (RuleId::OverbroadScope, Scenario::Lint),
    (RuleId::OfflineAccessWithoutReason, Scenario::Lint),
    (RuleId::MissingRationale, Scenario::Lint),
    (RuleId::DuplicateScope, Scenario::Lint),
    (RuleId::RedundantScope, Scenario::Lint),
    (RuleId::PatientScopeWithoutLaunchContext, Scenario::Lint),
    (RuleId::DeprecatedProfileScope, Scenario::Lint),
    (RuleId::MixedSmartVersions, Scenario::Lint),
    (RuleId::UnknownRestrictionCode, Scenario::Lint),
    (RuleId::ResourceAccessAdded, Scenario::DiffPair),
    (RuleId::ReadAccessAdded, Scenario::DiffPair),
    (RuleId::WriteAccessAdded, Scenario::DiffPair),
    (RuleId::DeleteAccessAdded, Scenario::DiffPair),
    (RuleId::WildcardTypeAdded, Scenario::DiffPair),
    (RuleId::LevelWidened, Scenario::DiffPair),
    (RuleId::RestrictionLoosened, Scenario::DiffPair),
    (RuleId::OfflineAccessAdded, Scenario::DiffPair),
    (RuleId::OnlineAccessAdded, Scenario::DiffPair),
    (RuleId::IdentityScopeAdded, Scenario::DiffPair),
    (RuleId::LaunchContextAdded, Scenario::DiffPair),
    (RuleId::OpaqueScopeAdded, Scenario::DiffPair),
    (RuleId::InvalidScopeAdded, Scenario::DiffPair),
    (RuleId::AccessRemoved, Scenario::DiffPair),
    (RuleId::WorkflowAdded, Scenario::DiffPair),
    (RuleId::WorkflowNeedsWidened, Scenario::DiffPair),
    (RuleId::WorkflowRemoved, Scenario::DiffPair),
    (RuleId::RationaleChanged, Scenario::DiffPair),
    (RuleId::AppRemoved, Scenario::DiffPair),
    (RuleId::AppIdChanged, Scenario::DiffPair),
    (RuleId::AppGatingStopped, Scenario::DiffPair),
    (RuleId::LedgerRewritten, Scenario::Built(ledger_rewritten)),
    (RuleId::ApprovalExpired, Scenario::Built(approval_expired)),
    (RuleId::ApprovalSpent, Scenario::Built(approval_spent)),
    (RuleId::ApprovalStale, Scenario::Built(approval_stale)),
    (
        RuleId::ApprovalUnknownTenant,
        Scenario::Built(approval_unknown_tenant),
    ),
    (RuleId::TenantDenied, Scenario::Built(tenant_policy)),
    (RuleId::TenantNotAllowed, Scenario::Built(tenant_policy)),
    (RuleId::TenantLevelExceeded, Scenario::Built(tenant_policy)),
    (
        RuleId::TenantApprovalMissing,
        Scenario::Built(tenant_approval_missing),
    ),
    (RuleId::EhrScopeUnlisted, Scenario::Built(tenant_ehr)),
    (RuleId::EhrCapabilityMissing, Scenario::Built(tenant_ehr)),
    (
        RuleId::OutOfManifestUse,
        Scenario::Built(out_of_manifest_use),
    ),
    (RuleId::ScopeUnused, Scenario::Built(scope_unused)),
    (RuleId::ScopePartlyUsed, Scenario::Built(scope_partly_used)),
    (
        RuleId::ScopeOverGranted,
        Scenario::Built(scope_over_granted),
    ),
    (
        RuleId::WorkflowNeedUnobserved,
        Scenario::Built(workflow_need_unobserved),
    ),
];

#[test]
fn every_rule_has_a_scenario() {
    let missing: Vec<&str> = RuleId::ALL
        .iter()
        .filter(|id| !SCENARIOS.iter().any(|(s, _)| s == *id))
        .map(|id| id.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "rules with no scenario in tests/it/rule_outputs.rs: {missing:?}"
    );
    for (i, (id, _)) in SCENARIOS.iter().enumerate() {
        assert!(
            !SCENARIOS[..i].iter().any(|(s, _)| s == id),
            "two scenarios for `{id}`"
        );
    }
}

#[test]
fn lint_rule_outputs() {
    outputs(|kind| kind == RuleKind::Lint);
}

#[test]
fn change_rule_outputs() {
    outputs(|kind| {
        matches!(
            kind,
            RuleKind::Escalation | RuleKind::Reduction | RuleKind::Workflow
        )
    });
}

#[test]
fn ledger_rule_outputs() {
    outputs(|kind| kind == RuleKind::Ledger);
}

#[test]
fn tenant_rule_outputs() {
    outputs(|kind| kind == RuleKind::Tenant);
}

#[test]
fn usage_rule_outputs() {
    outputs(|kind| kind == RuleKind::Usage);
}

/// Runs the scenario of every rule of the kinds `pick` selects, and snapshots what
/// that rule reported; a scenario where the rule does not fire fails, naming it.
fn outputs(pick: impl Fn(RuleKind) -> bool) {
    for &(id, scenario) in SCENARIOS.iter().filter(|(id, _)| pick(rule(*id).kind)) {
        let report = match scenario {
            Scenario::Lint => lint(id),
            Scenario::DiffPair => diff_pair(id),
            Scenario::Built(build) => build(),
        };
        let out = of_rule(&report, id);
        assert!(
            out.values()
                .any(|v| v.as_array().is_some_and(|a| !a.is_empty())),
            "the scenario for `{id}` did not fire it: {report:#}"
        );
        insta::assert_json_snapshot!(id.as_str(), out);
    }
}

/// The findings of `id`, and the changes it names (as `rule` or in `also`).
fn of_rule(report: &Value, id: RuleId) -> serde_json::Map<String, Value> {
    let of = |key: &str, names: &dyn Fn(&Value) -> bool| -> Vec<Value> {
        report[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|x| names(x))
            .cloned()
            .collect()
    };
    let findings = of("findings", &|f| f["rule"] == id.as_str());
    let changes = of("changes", &|c| {
        c["rule"] == id.as_str()
            || c["also"]
                .as_array()
                .is_some_and(|a| a.iter().any(|r| r == id.as_str()))
    });
    let mut out = serde_json::Map::new();
    if !findings.is_empty() || changes.is_empty() {
        out.insert("findings".into(), Value::Array(findings));
    }
    if !changes.is_empty() {
        out.insert("changes".into(), Value::Array(changes));
    }
    out
}

fn json(r: &repo::Run) -> Value {
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    r.json()
}

// ---- lint and change rules: the existing fixtures ----

fn lint(id: RuleId) -> Value {
    let r = Repo::new();
    r.write("smart-app.yaml", &fixture(&format!("lint/{id}.yaml")));
    json(&r.run(&["check", "smart-app.yaml", "--format", "json"]))
}

/// `base.yaml` released as v1.0.0, then `head.yaml` (or no manifest) committed.
fn diff_pair(id: RuleId) -> Value {
    let r = Repo::new();
    r.write(".scopegate/config.yaml", "fail_on_lint: never\n");
    r.write("smart-app.yaml", &fixture(&format!("diff/{id}/base.yaml")));
    r.commit("v1");
    r.release("v1.0.0");
    let head = root().join(format!("tests/fixtures/diff/{id}/head.yaml"));
    if head.exists() {
        r.write("smart-app.yaml", &std::fs::read_to_string(head).unwrap());
    } else {
        std::fs::remove_file(r.path().join("smart-app.yaml")).unwrap();
    }
    r.commit("change");
    json(&r.run(&["gate", "--format", "json"]))
}

// ---- ledger rules ----

/// A small app: launch and Observation reads.
const APP: &str = "\
id: app
fhir_version: R4
launch: [ehr]
scopes:
  - scope: launch
    rationale: EHR launch.
  - scope: patient/Observation.rs
    rationale: Vitals.
workflows:
  - id: vitals
    description: Show vitals.
    needs: [patient/Observation.rs]
";

/// [`APP`], also reading Conditions.
fn with_conditions() -> String {
    APP.replace(
        "    rationale: Vitals.\n",
        "    rationale: Vitals.\n  - scope: patient/Condition.rs\n    rationale: Problems.\n",
    )
    .replace(
        "needs: [patient/Observation.rs]",
        "needs: [patient/Observation.rs, patient/Condition.rs]",
    )
}

/// [`APP`] released as v1.0.0, with alice as the approver and her signing key.
fn released() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", APP);
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    r.allow_signer("alice", "");
    r.commit("v1");
    r.release("v1.0.0");
    r
}

fn gate(r: &Repo) -> Value {
    json(&r.run(&["gate", "--format", "json"]))
}

fn approve(r: &Repo, extra: &[&str]) {
    let mut args = vec!["--ticket", "SEC-1"];
    args.extend_from_slice(extra);
    let a = r.approve_signed("alice", &args);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve");
}

fn ledger_rewritten() -> Value {
    let r = released();
    r.write("smart-app.yaml", &with_conditions());
    r.commit("conditions");
    approve(&r, &[]);
    r.release("v1.1.0");
    let t = r
        .read(".scopegate/approvals.yaml")
        .replace("SEC-1", "SEC-2");
    r.write(".scopegate/approvals.yaml", &t);
    r.commit("rewrite");
    gate(&r)
}

fn approval_expired() -> Value {
    let r = released();
    r.write("smart-app.yaml", &with_conditions());
    r.commit("conditions");
    approve(&r, &["--expires", "2026-12-31"]);
    json(&r.run(&["gate", "--format", "json", "--now", "2027-01-01T00:00:00Z"]))
}

fn approval_spent() -> Value {
    let r = released();
    r.write("smart-app.yaml", &with_conditions());
    r.commit("conditions");
    approve(&r, &[]);
    r.release("v1.1.0");
    r.write("smart-app.yaml", APP);
    r.commit("give conditions up");
    r.release("v2.0.0");
    r.write("smart-app.yaml", &with_conditions());
    r.commit("conditions again");
    gate(&r)
}

fn approval_stale() -> Value {
    let r = released();
    r.write(
        ".scopegate/approvals.yaml",
        "approvals:\n  - keys: [\"app:patient/Obsevation.c\"]\n    by: alice\n    at: 2026-01-01\n    reason: typo\n",
    );
    r.commit("typo approval");
    r.release("v1.0.1");
    r.write("README", "docs\n");
    r.commit("docs");
    gate(&r)
}

/// The change adds an approval limited to `clinik`, a misspelt tenant.
fn approval_unknown_tenant() -> Value {
    let r = released();
    r.write(".scopegate/tenants/clinic.yaml", "deny: ['*/*.d']\n");
    r.commit("a tenant");
    r.release("v1.0.1");
    r.write("smart-app.yaml", &with_conditions());
    r.write(
        ".scopegate/approvals.yaml",
        "approvals:\n  - keys: ['app:patient/Condition.rs']\n    by: alice\n    at: 2026-11-27\n    ticket: SEC-1\n    tenants: [clinik]\n",
    );
    r.commit("conditions");
    gate(&r)
}

// ---- tenant rules ----

/// One tenant whose policy each of the app's extra scopes breaks in its own way.
fn tenant_policy() -> Value {
    let r = Repo::new();
    r.write(
        "smart-app.yaml",
        &APP.replace(
            "    rationale: Vitals.\n",
            "    rationale: Vitals.\n  - scope: patient/Observation.d\n    rationale: Cleanup.\n  - scope: patient/Encounter.rs\n    rationale: Visits.\n  - scope: user/Patient.rs\n    rationale: Lists.\n",
        ),
    );
    r.write(
        ".scopegate/tenants/clinic.yaml",
        "deny: ['*/*.d']\nallow: [launch, 'patient/Observation.rs', 'user/Patient.rs']\nmax_level: patient\n",
    );
    json(&r.run(&["check", "smart-app.yaml", "--format", "json"]))
}

/// A tenant whose EHR lists only SMART v1 scopes and has no `permission-offline`.
fn tenant_ehr() -> Value {
    let r = Repo::new();
    r.write(
        "smart-app.yaml",
        &APP.replace(
            "    rationale: Vitals.\n",
            "    rationale: Vitals.\n  - scope: offline_access\n    rationale: Overnight sync.\n",
        )
        .replace(
            "    needs: [patient/Observation.rs]\n",
            "    needs: [patient/Observation.rs]\n    offline:\n      reason: Syncs vitals overnight with no user present.\n",
        ),
    );
    r.write(
        ".scopegate/tenants/hospital.yaml",
        "ehr: .scopegate/tenants/ehr/hospital.json\n",
    );
    r.write(
        ".scopegate/tenants/ehr/hospital.json",
        r#"{"capabilities": ["launch-ehr", "permission-patient", "permission-v1"], "scopes_supported": ["launch", "patient/*.read", "offline_access"]}"#,
    );
    json(&r.run(&["check", "smart-app.yaml", "--format", "json"]))
}

/// New access to a type the tenant marks sensitive, approved for no tenant by name.
fn tenant_approval_missing() -> Value {
    let r = released();
    r.write(".scopegate/tenants/clinic.yaml", "sensitive: [Condition]\n");
    r.commit("a tenant");
    r.release("v1.0.1");
    r.write("smart-app.yaml", &with_conditions());
    r.commit("conditions");
    approve(&r, &[]);
    gate(&r)
}

// ---- usage rules ----

/// `usage` on `manifest` with one access log and, when given, one granted-scopes file.
fn usage(manifest: &str, access: &[&str], granted: &[&str]) -> Value {
    let r = Repo::new();
    r.write("smart-app.yaml", manifest);
    let log: Vec<String> = access
        .iter()
        .enumerate()
        .map(|(i, req)| {
            let (method, url) = req.split_once(' ').unwrap();
            format!(
                r#"{{"time":"2026-11-02T08:00:{i:02}Z","tenant":"north","app":"app","method":"{method}","url":"{url}","status":200}}"#
            )
        })
        .collect();
    r.write("access.jsonl", &(log.join("\n") + "\n"));
    let mut args = vec![
        "usage",
        "smart-app.yaml",
        "--access-log",
        "access.jsonl",
        "--format",
        "json",
    ];
    if !granted.is_empty() {
        let lines: Vec<String> = granted
            .iter()
            .map(|s| {
                format!(
                    r#"{{"time":"2026-11-01T07:59:00Z","tenant":"north","app":"app","scope":"{s}"}}"#
                )
            })
            .collect();
        r.write("granted.jsonl", &(lines.join("\n") + "\n"));
        args.extend(["--granted", "granted.jsonl"]);
    }
    json(&r.run(&args))
}

fn out_of_manifest_use() -> Value {
    usage(
        APP,
        &["GET /Observation?patient=1", "GET /Condition?patient=1"],
        &[],
    )
}

fn scope_unused() -> Value {
    usage(&with_conditions(), &["GET /Observation?patient=1"], &[])
}

fn scope_partly_used() -> Value {
    usage(
        &APP.replace("patient/Observation.rs", "patient/*.rs"),
        &["GET /Observation?patient=1", "GET /Observation/o1"],
        &[],
    )
}

fn scope_over_granted() -> Value {
    usage(
        APP,
        &["GET /Observation?patient=1"],
        &["launch patient/*.rs"],
    )
}

fn workflow_need_unobserved() -> Value {
    usage(
        &APP.replace(
            "    rationale: Vitals.\n",
            "    rationale: Vitals.\n  - scope: patient/MedicationStatement.c\n    rationale: Reconcile.\n",
        )
        .replace(
            "    needs: [patient/Observation.rs]\n",
            "    needs: [patient/Observation.rs]\n  - id: reconcile\n    description: Record home medications.\n    needs: [patient/MedicationStatement.c]\n",
        ),
        &["GET /Observation?patient=1"],
        &[],
    )
}

// ---- the config's `severity` map is keyed by rule id ----

/// Attack: ids that are not in the catalogue (a typo, another case, a variant name,
/// padding) cannot be given a severity; each is exit 2 at its file:line with a
/// did-you-mean, and nothing is judged. Control: a real id's override applies.
#[test]
fn a_severity_for_an_unknown_rule_is_exit_2_at_its_line_and_a_known_one_applies() {
    let r = Repo::new();
    r.write("smart-app.yaml", &fixture("lint/missing-rationale.yaml"));
    r.write(
        ".scopegate/config.yaml",
        "severity:\n  missing-rationale: error\n  overbroad-scop: note\n  Missing-Rationale: note\n  MissingRationale: note\n  ' missing-rationale': note\n",
    );
    let out = r.run(&["check", "smart-app.yaml", "--format", "json"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    for (line, bad, hint) in [
        (3, "overbroad-scop", "overbroad-scope"),
        (4, "Missing-Rationale", "missing-rationale"),
        (5, "MissingRationale", "missing-rationale"),
        (6, " missing-rationale", "missing-rationale"),
    ] {
        let at = format!(".scopegate/config.yaml:{line}:");
        let msg = format!("unknown rule `{bad}`");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&at) && l.contains(&msg)),
            "{line} {bad}: {}",
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("did you mean `{hint}`?")),
            "{}",
            out.stderr
        );
    }

    r.write(
        ".scopegate/config.yaml",
        "severity:\n  missing-rationale: error\n",
    );
    let v = json(&r.run(&["check", "smart-app.yaml", "--format", "json"]));
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "missing-rationale", "{v:#}");
    assert_eq!(f["severity"], "error", "the catalogue says warning: {v:#}");
}
