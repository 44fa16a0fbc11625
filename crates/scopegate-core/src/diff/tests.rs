//! Unit tests for classification; the fixture pairs in tests/ cover every rule.

use super::*;

fn s(t: &str) -> Scope {
    Scope::parse(t).unwrap()
}

fn rules(p: &str, base: &[&str]) -> Vec<&'static str> {
    let base: Vec<Scope> = base.iter().map(|t| s(t)).collect();
    classify(&s(p), &base, Options::default())
        .into_iter()
        .map(RuleId::as_str)
        .collect()
}

#[test]
fn the_most_telling_rule_comes_first() {
    assert_eq!(
        rules("user/*.cruds", &["patient/Observation.rs"]),
        [
            "wildcard-type-added",
            "level-widened",
            "delete-access-added",
            "write-access-added"
        ]
    );
    assert_eq!(
        rules("patient/Condition.c", &[]),
        ["write-access-added", "resource-access-added"]
    );
}

#[test]
fn a_dropped_restriction_is_loosened_not_new_type() {
    assert_eq!(
        rules(
            "patient/Observation.rs",
            &["patient/Observation.rs?category=laboratory"]
        ),
        ["restriction-loosened"]
    );
}

#[test]
fn new_search_on_a_known_type_is_read_access() {
    assert_eq!(
        rules("patient/Observation.s", &["patient/Observation.r"]),
        ["read-access-added"]
    );
}

#[test]
fn configured_user_over_patient_is_not_a_level_change_for_patient() {
    let o = Options {
        user_covers_patient: true,
    };
    let base = vec![s("user/Observation.rs")];
    assert_eq!(
        classify(&s("patient/Condition.rs"), &base, o),
        [RuleId::ResourceAccessAdded]
    );
}

#[test]
fn duplicate_scopes_with_different_rationales_are_not_a_change() {
    // Regression (found by the manifest_load fuzz target): a scope listed twice with two
    // rationales made diff(m, m) report `rationale-changed`.
    let t = "id: a\nscopes:\n  - scope: launch/patient\n    rationale: pick a patient\n  - scope: launch/patient\n    rationale: pick a patient, again\nworkflows: []\n";
    let m = crate::manifest::from_str("m", t).unwrap();
    assert!(diff(Some(&m), &m, Options::default()).is_empty());
}
