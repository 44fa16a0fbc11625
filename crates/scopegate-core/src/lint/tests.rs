//! Lint tests: one behaviour each, on small manifests.

use super::*;
use crate::manifest::from_str;

/// Builds a manifest from scope lines and workflow lines, then lints it.
fn lint(header: &str, scopes: &[&str], workflows: &str) -> Vec<(String, String)> {
    let mut t = format!("id: app\n{header}scopes:\n");
    for s in scopes {
        t.push_str(&format!("  - scope: \"{s}\"\n    rationale: because\n"));
    }
    t.push_str("workflows:\n");
    t.push_str(workflows);
    let m = from_str("m.yaml", &t).unwrap_or_else(|e| panic!("{e}\n{t}"));
    check(&m, Options::default())
        .into_iter()
        .map(|f| (f.rule.to_string(), f.message))
        .collect()
}

fn rules_of(f: &[(String, String)]) -> Vec<&str> {
    f.iter().map(|(r, _)| r.as_str()).collect()
}

const VITALS: &str =
    "  - id: vitals\n    description: show vitals\n    needs: [patient/Observation.rs]\n";

#[test]
fn a_minimal_app_is_clean() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.read"],
        VITALS,
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn invalid_and_misordered_scopes_are_reported_with_a_fix() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.sr", "patient/Observation."],
        VITALS,
    );
    let r = rules_of(&f);
    assert!(r.contains(&"permission-order"));
    assert!(r.contains(&"invalid-scope"));
}

#[test]
fn unknown_resource_types_suggest_the_spelling() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "patient/Obsevation.rs"],
        VITALS,
    );
    assert!(
        f.iter()
            .any(|(r, m)| r == "unknown-resource-type" && m.contains("Obsevation"))
    );
}

#[test]
fn a_type_from_another_release_names_that_release() {
    let m = from_str(
        "m",
        "id: a\nfhir_version: R5\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: x\n  - scope: patient/DeviceUseStatement.rs\n    rationale: x\nworkflows:\n  - id: w\n    description: d\n    needs: [patient/DeviceUseStatement.rs]\n",
    )
    .unwrap();
    let f = check(&m, Options::default());
    let hit = f
        .iter()
        .find(|f| f.rule == RuleId::UnknownResourceType)
        .unwrap();
    assert!(hit.hint.as_deref().unwrap().contains("R4"), "{hit:?}");
}

#[test]
fn an_unneeded_scope_is_unjustified() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "patient/Condition.rs"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["unjustified-scope"]);
    assert!(f[0].1.contains("patient/Condition.rs"));
}

#[test]
fn an_unneeded_part_of_a_scope_is_unjustified() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.crus"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["unjustified-scope"]);
    assert!(f[0].1.contains("`patient/Observation.cu`"), "{f:?}");
}

#[test]
fn an_uncovered_need_names_the_missing_access() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.r"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["uncovered-need"]);
    assert!(f[0].1.contains("`patient/Observation.s`"), "{f:?}");
}

#[test]
fn a_wildcard_names_the_types_actually_needed() {
    let wf = "  - id: chart\n    description: chart\n    needs: [patient/Observation.rs, patient/Condition.rs, patient/AllergyIntolerance.rs]\n";
    let f = lint("launch: [ehr]\n", &["launch", "patient/*.rs"], wf);
    assert_eq!(rules_of(&f), ["overbroad-wildcard"]);
    assert!(
        f[0].1
            .contains("`AllergyIntolerance`, `Condition`, `Observation`"),
        "{f:?}"
    );
}

#[test]
fn a_wildcard_the_workflow_needs_is_fine() {
    let wf = "  - id: export\n    description: bulk export\n    needs: [system/*.rs]\n";
    let f = lint("launch: [backend]\n", &["system/*.read"], wf);
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn an_unrestricted_scope_for_restricted_needs_is_overbroad() {
    let wf = "  - id: labs\n    description: labs\n    needs: [\"patient/Observation.rs?category=laboratory\"]\n";
    let f = lint("launch: [ehr]\n", &["launch", "patient/Observation.rs"], wf);
    assert_eq!(rules_of(&f), ["overbroad-scope"]);
}

#[test]
fn a_restricted_scope_inside_a_broader_need_is_justified() {
    // The scope serves part of the need; the rest of the need is uncovered.
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs?category=laboratory"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["uncovered-need"]);
}

#[test]
fn offline_access_needs_a_workflow_reason() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "offline_access"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["offline-access-without-reason"]);
    let wf = format!("{VITALS}    offline:\n      reason: nightly refresh of the vitals cache\n");
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "offline_access"],
        &wf,
    );
    assert!(f.is_empty(), "{f:?}");
    let wf = format!("{VITALS}    offline:\n      reason: TODO\n");
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "offline_access"],
        &wf,
    );
    assert_eq!(rules_of(&f), ["offline-access-without-reason"]);
}

#[test]
fn an_offline_workflow_without_offline_access_is_uncovered() {
    let wf = format!("{VITALS}    offline:\n      reason: nightly refresh\n");
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs"],
        &wf,
    );
    assert_eq!(rules_of(&f), ["uncovered-need"]);
}

#[test]
fn missing_and_placeholder_rationales_are_reported() {
    let m = from_str(
        "m",
        "id: a\nlaunch: [ehr]\nscopes:\n  - scope: launch\n  - scope: patient/Observation.rs\n    rationale: \"TODO: why\"\nworkflows:\n  - id: w\n    needs: [patient/Observation.rs]\n",
    )
    .unwrap();
    let f = check(&m, Options::default());
    let r: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(
        r,
        [
            "missing-rationale",
            "missing-rationale",
            "missing-rationale"
        ]
    );
}

#[test]
fn rewordings_of_one_scope_are_duplicates() {
    let f = lint(
        "launch: [ehr]\n",
        &[
            "launch",
            "patient/Observation.read",
            "patient/Observation.rs",
        ],
        VITALS,
    );
    // `.read` and `.rs` are also two SMART versions.
    assert_eq!(rules_of(&f), ["mixed-smart-versions", "duplicate-scope"]);
    assert!(f[1].1.contains("line"), "{f:?}");
}

#[test]
fn a_scope_granted_by_another_is_redundant() {
    let f = lint(
        "launch: [ehr]\n",
        &[
            "launch",
            "patient/Observation.rs",
            "patient/Observation.rs?category=laboratory",
        ],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["redundant-scope"]);
}

/// The covering scope is named as the manifest writes it: a v1 manifest's
/// `patient/*.read`, not the canonical `patient/*.rs`.
#[test]
fn a_redundant_scope_names_its_cover_as_written() {
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/*.read", "patient/Observation.read"],
        "  - id: w\n    description: d\n    needs: [patient/*.read]\n",
    );
    let redundant: Vec<&(String, String)> =
        f.iter().filter(|(r, _)| r == "redundant-scope").collect();
    assert_eq!(redundant.len(), 1, "{f:?}");
    assert!(
        redundant[0]
            .1
            .ends_with("already granted by `patient/*.read`"),
        "{f:?}"
    );
}

#[test]
fn patient_scopes_need_a_launch_context() {
    let f = lint("", &["patient/Observation.rs"], VITALS);
    assert_eq!(rules_of(&f), ["patient-scope-without-launch-context"]);
    let f = lint(
        "launch: [standalone]\n",
        &["launch/patient", "patient/Observation.rs"],
        VITALS,
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn launch_scopes_are_justified_by_launch_modes() {
    let f = lint(
        "launch: [standalone]\n",
        &["launch", "launch/patient", "patient/Observation.rs"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["unjustified-scope"]);
    assert!(f[0].1.contains("`launch`"));
}

#[test]
fn identity_scopes_must_be_needed_and_profile_is_deprecated() {
    let wf = format!(
        "{VITALS}  - id: who\n    description: show the signed-in user\n    needs: [openid, fhirUser, profile]\n"
    );
    let f = lint(
        "launch: [ehr]\n",
        &[
            "launch",
            "patient/Observation.rs",
            "openid",
            "fhirUser",
            "profile",
        ],
        &wf,
    );
    assert_eq!(rules_of(&f), ["deprecated-profile-scope"]);
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "openid"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["unjustified-scope"]);
}

#[test]
fn unknown_tokens_are_flagged_and_extensions_are_not() {
    let wf = format!(
        "{VITALS}  - id: photo\n    description: photo\n    needs: [__profilePhoto.manage]\n"
    );
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "__profilePhoto.manage"],
        &wf,
    );
    assert!(f.is_empty(), "{f:?}");
    let f = lint(
        "launch: [ehr]\n",
        &["launch", "patient/Observation.rs", "email"],
        VITALS,
    );
    assert_eq!(rules_of(&f), ["unknown-scope", "unjustified-scope"]);
}

#[test]
fn restricted_needs_union_into_one_scope() {
    let wf = "  - id: labs\n    description: labs\n    needs: [\"patient/Observation.rs?category=laboratory\"]\n  - id: vit\n    description: vitals\n    needs: [\"patient/Observation.rs?category=vital-signs\"]\n";
    let f = lint(
        "launch: [ehr]\n",
        &[
            "launch",
            "patient/Observation.rs?category=laboratory,vital-signs",
        ],
        wf,
    );
    assert!(f.is_empty(), "{f:?}");
}

/// Every manifest file under `dir`, recursively.
fn manifests_under(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            manifests_under(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push(p);
        }
    }
}

#[test]
fn the_lint_on_two_cores_finds_what_the_lint_finds_in_the_same_order() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    manifests_under(&root.join("examples"), &mut files);
    manifests_under(&root.join("tests/fixtures"), &mut files);
    let mut linted = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let Ok(m) = from_str("m.yaml", &text) else {
            continue; // configs, ledgers, tenants, evidence, broken manifests
        };
        for opts in [
            Options::default(),
            Options {
                user_covers_patient: true,
            },
        ] {
            let one = serde_json::to_string(&check(&m, opts)).unwrap();
            let two = serde_json::to_string(&check_on_two_cores(&m, opts)).unwrap();
            assert_eq!(one, two, "{}", f.display());
        }
        linted += 1;
    }
    assert!(linted > 50, "only {linted} manifests linted");
}

/// Findings linted ahead count only for the manifest and the options they were found
/// with: another app's (findings that would hide this one's), or other options, give
/// none, and the gate lints again.
#[test]
fn a_lint_ahead_is_used_only_for_its_own_manifest_and_options() {
    let text =
        "id: app\nscopes:\n  - scope: patient/Observation.rs\n    rationale: why\nworkflows: []\n";
    let a = std::sync::Arc::new(from_str("a.yaml", text).unwrap());
    let b = std::sync::Arc::new(from_str("b.yaml", text).unwrap());
    // The same text at the same path, but another parse: not the manifest linted.
    let twin = std::sync::Arc::new(from_str("a.yaml", text).unwrap());
    let opts = Options::default();
    let other = Options {
        user_covers_patient: !opts.user_covers_patient,
    };
    assert!(Linted::check(&a, opts).into_findings(&b, opts).is_none());
    assert!(Linted::check(&a, opts).into_findings(&twin, opts).is_none());
    assert!(Linted::check(&a, opts).into_findings(&a, other).is_none());
    let own = Linted::check(&a, opts).into_findings(&std::sync::Arc::clone(&a), opts);
    assert_eq!(own.map(|f| f.len()), Some(check(&a, opts).len()));
    assert!(
        !check(&a, opts).is_empty(),
        "the control has findings to lose"
    );
}

// A token's findings are found once per text and copied to its other places
// (`Lint::tokens`): each copy is at its own place, and `profile` is deprecated only
// where it is requested, not where a workflow needs it.
#[test]
fn a_token_met_again_gets_its_findings_at_its_own_place() {
    let text = "id: app\nlaunch: [ehr]\nscopes:\n  - scope: patient/Obsrvation.rs\n    rationale: r\n  - scope: profile\n    rationale: r\nworkflows:\n  - id: a\n    description: d\n    needs: [patient/Obsrvation.rs, profile]\n  - id: b\n    description: d\n    needs:\n      - patient/Obsrvation.rs\n";
    let m = from_str("m.yaml", text).unwrap();
    let places = |rule: &str| -> Vec<(u32, u32)> {
        check(&m, Options::default())
            .iter()
            .filter(|f| f.rule.as_str() == rule)
            .map(|f| (f.location.line, f.location.column))
            .collect()
    };
    assert_eq!(
        places("unknown-resource-type"),
        [(4, 12), (11, 13), (15, 9)],
        "the scope and both needs, each where it is written"
    );
    assert_eq!(places("deprecated-profile-scope"), [(6, 12)]);
    let messages: BTreeSet<String> = check(&m, Options::default())
        .into_iter()
        .filter(|f| f.rule.as_str() == "unknown-resource-type")
        .map(|f| f.message)
        .collect();
    assert_eq!(
        messages.len(),
        1,
        "the same words at each place: {messages:?}"
    );
}

// Regression (issue 15 §1): restrictions were indexed by their first clause, which US
// Core scopes share (`category=laboratory&code=…`): `check` compared every need with
// every scope, 13 s for 8,000 (42 ms now).
#[test]
fn lab_codes_each_needed_are_checked_in_time_linear_in_their_number() {
    let run = |n| {
        let m = crate::diff::tests::lab_codes('c', n);
        crate::scaling::timed(|| check(&m, Options::default()))
    };
    let (small, small_t) = run(300);
    let (big, big_t) = run(3_000);
    for f in small.iter().chain(&big) {
        // Every need is met by its own scope: no finding of coverage or justification.
        assert!(
            !matches!(
                f.rule.as_str(),
                "uncovered-need" | "unjustified-scope" | "redundant-scope" | "duplicate-scope"
            ),
            "{f:?}"
        );
    }
    crate::scaling::assert_near_linear("check lab codes", small_t, big_t);
}

// Regression: each unknown value of a token is a finding, and each quoted the whole
// token: one need of 8,000 values made a 383 MB report (9.4 MB now). A long token is
// quoted shortened in the middle; each finding still names its own value.
#[test]
fn a_token_of_thousands_of_unknown_values_is_quoted_short_in_each_finding() {
    let values: Vec<String> = (0..3_000).map(|i| format!("c{i}")).collect();
    let need = format!("patient/Observation.rs?category={}", values.join(","));
    let text = format!(
        "id: app\nlaunch: [ehr]\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\nworkflows:\n  - id: w\n    description: d\n    needs: ['{need}']\n"
    );
    let m = from_str("m.yaml", &text).unwrap();
    let unknown: Vec<Finding> = check(&m, Options::default())
        .into_iter()
        .filter(|f| f.rule.as_str() == "unknown-restriction-code")
        .collect();
    assert_eq!(unknown.len(), 3_000);
    let named: BTreeSet<&str> = unknown
        .iter()
        .filter_map(|f| f.message.split("`: `").nth(1)?.split('`').next())
        .collect();
    assert_eq!(named, values.iter().map(String::as_str).collect());
    for f in &unknown {
        assert!(f.message.len() < 300, "{}", f.message);
        assert!(
            f.message.starts_with(
                "`patient/Observation.rs?category=c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12,c13"
            ),
            "{}",
            f.message
        );
        assert!(f.message.contains("…"), "{}", f.message);
        assert!(f.message.contains("c2998,c2999`"), "{}", f.message);
    }
    // Control: a short token is quoted whole.
    let m = from_str(
        "m.yaml",
        "id: app\nlaunch: [ehr]\nscopes:\n  - scope: patient/Observation.rs?category=lab,vitals\n    rationale: r\nworkflows:\n  - id: w\n    description: d\n    needs: [patient/Observation.rs?category=lab,vitals]\n",
    )
    .unwrap();
    let f = check(&m, Options::default());
    assert!(
        f.iter().any(|f| f.message
            == "`patient/Observation.rs?category=lab,vitals`: `lab` is not a code of `Observation?category=` (http://terminology.hl7.org/CodeSystem/observation-category)"),
        "{f:#?}"
    );
}

/// One token of `n` unknown values, checked; the best of three runs' time.
fn unknown_values(n: usize) -> (usize, std::time::Duration) {
    let values: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let text = format!(
        "id: app\nlaunch: [ehr]\nscopes:\n  - scope: 'patient/Observation.rs?category={}'\n    rationale: r\n",
        values.join(",")
    );
    let m = from_str("m.yaml", &text).unwrap();
    crate::scaling::timed(|| check(&m, Options::default()).len())
}

// Regression: the token was shortened for each of its unknown values, each time over
// the whole token: quadratic (a 1 MB token: 11.4 s, 1.05 s now).
#[test]
fn a_token_of_thousands_of_unknown_values_is_checked_in_linear_time() {
    let (small, small_t) = unknown_values(1_000);
    let (big, big_t) = unknown_values(10_000);
    assert!(small > 1_000 && big > 10_000);
    crate::scaling::assert_near_linear("unknown values", small_t, big_t);
}
