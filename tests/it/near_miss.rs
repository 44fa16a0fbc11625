//! Near-misses get the scope that was meant (issue 15 §2), through the real binary:
//! every family of almost-SMART token is a finding whose hint names the corrected
//! token(s), and whose JSON `suggestion` holds them when there is exactly one
//! correction. Attack: a near-miss is named with its correction. Control: a valid
//! scope, a vendor scope and an extension scope are never "corrected" into SMART; and a
//! near-miss added to a released manifest is still opaque new access in the gate.

use crate::support::repo;

use repo::{Repo, Run, example, run_in};
use serde_json::Value;

/// A manifest with one entry `scope` (a YAML single-quoted value) next to valid ones.
fn manifest(launch: &str, scope: &str) -> String {
    format!(
        "id: nm\nfhir_version: R4\nlaunch: [{launch}]\nscopes:\n  - scope: launch\n    rationale: EHR launch.\n  - scope: '{scope}'\n    rationale: The entry under test.\nworkflows:\n  - id: w\n    description: Reads observations.\n    needs: [patient/Observation.rs]\n"
    )
}

fn check(launch: &str, scope: &str, format: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smart-app.yaml"), manifest(launch, scope)).unwrap();
    run_in(dir.path(), &["check", "--format", format])
}

/// The findings on the entry under test (line 7).
fn on_entry(v: &Value) -> Vec<Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["location"]["line"] == 7 && f["rule"] != "unjustified-scope")
        .cloned()
        .collect()
}

/// Checks `scope` in text and JSON: one finding of `rule` on it, whose hint contains
/// every string of `in_hint` (text and JSON), and whose `suggestion` is `suggestion`.
fn assert_near_miss(launch: &str, scope: &str, rule: &str, in_hint: &[&str], suggestion: &[&str]) {
    let j = check(launch, scope, "json");
    assert_eq!(j.code, 1, "{scope}: {}{}", j.stdout, j.stderr);
    let v = j.json();
    let found = on_entry(&v);
    assert_eq!(found.len(), 1, "{scope}: {found:#?}");
    let f = &found[0];
    assert_eq!(f["rule"], rule, "{scope}: {f}");
    let severity = if rule == "invalid-scope" {
        "error"
    } else {
        "warning"
    };
    assert_eq!(f["severity"], severity, "{scope}: {f}");
    let hint = f["hint"].as_str().unwrap();
    for h in in_hint {
        assert!(hint.contains(h), "{scope}: hint {hint:?} lacks {h:?}");
    }
    let got: Vec<&str> = f["suggestion"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap()).collect())
        .unwrap_or_default();
    assert_eq!(got, suggestion, "{scope}: {f}");
    let t = check(launch, scope, "text");
    assert_eq!(t.code, 1, "{scope}");
    assert!(t.stdout.contains(rule), "{scope}: {}", t.stdout);
    for h in in_hint {
        assert!(
            t.stdout.contains(h),
            "{scope}: text lacks {h:?}: {}",
            t.stdout
        );
    }
}

#[test]
fn attack_a_keyword_in_another_case_or_with_a_dash_is_named_with_the_keyword() {
    for (scope, meant) in [
        ("offline-access", "offline_access"),
        ("Offline-Access", "offline_access"),
        ("online-access", "online_access"),
        ("fhir-user", "fhirUser"),
        ("Launch/patient", "launch/patient"),
        ("LAUNCH/ENCOUNTER", "launch/encounter"),
        ("openId", "openid"),
    ] {
        let hint = format!("did you mean `{meant}`?");
        assert_near_miss("ehr", scope, "invalid-scope", &[&hint], &[meant]);
    }
}

#[test]
fn attack_a_dot_where_the_slash_belongs_is_named_with_the_slash() {
    for (scope, meant) in [
        ("patient.Observation.read", "patient/Observation.read"),
        ("user.*.rs", "user/*.rs"),
        ("Patient.Observation.rs", "patient/Observation.rs"),
        ("launch.patient", "launch/patient"),
        ("launch.Encounter", "launch/encounter"),
    ] {
        let hint = format!("did you mean `{meant}`?");
        assert_near_miss("ehr", scope, "invalid-scope", &[&hint], &[meant]);
    }
}

#[test]
fn attack_a_missing_level_lists_the_levels_the_launch_modes_imply() {
    // EHR or standalone launch: patient or user, so no single suggestion.
    for launch in ["ehr", "standalone", "ehr, standalone"] {
        assert_near_miss(
            launch,
            "Observation.rs",
            "invalid-scope",
            &["`patient/Observation.rs` or `user/Observation.rs`"],
            &[],
        );
    }
    assert_near_miss(
        "ehr",
        "Patient.Read",
        "invalid-scope",
        &["`patient/Patient.read` or `user/Patient.read`"],
        &[],
    );
    // Backend Services: `system/` only, so exactly one correction.
    assert_near_miss(
        "backend",
        "Observation.rs",
        "invalid-scope",
        &["did you mean `system/Observation.rs`?"],
        &["system/Observation.rs"],
    );
    assert_near_miss(
        "backend",
        "*.read",
        "invalid-scope",
        &["`system/*.read`"],
        &["system/*.read"],
    );
    assert_near_miss(
        "ehr, backend",
        "Patient.rs",
        "invalid-scope",
        &["`patient/Patient.rs` or `user/Patient.rs` or `system/Patient.rs`"],
        &[],
    );
}

#[test]
fn attack_a_pasted_scope_string_names_every_token_it_splits_into() {
    for (scope, tokens) in [
        (
            "launch,openid,fhirUser",
            &["launch", "openid", "fhirUser"][..],
        ),
        ("patient/*.read+launch", &["patient/*.read", "launch"]),
        ("launch+patient/*.read", &["launch", "patient/*.read"]),
        ("launch;offline-access", &["launch", "offline_access"]),
        ("launch%20openid", &["launch", "openid"]),
        (
            "launch%2Copenid%2CfhirUser",
            &["launch", "openid", "fhirUser"],
        ),
        ("openid,fhirUser,email", &["openid", "fhirUser", "email"]),
    ] {
        let named: Vec<String> = tokens.iter().map(|t| format!("`{t}`")).collect();
        let named: Vec<&str> = named.iter().map(String::as_str).collect();
        let mut in_hint = vec!["write one entry per token"];
        in_hint.extend(&named);
        assert_near_miss("ehr", scope, "invalid-scope", &in_hint, tokens);
    }
    // A corrected piece is named with what it was written as.
    assert_near_miss(
        "ehr",
        "launch,offline-access",
        "invalid-scope",
        &["`launch`, `offline_access` (for `offline-access`)"],
        &["launch", "offline_access"],
    );
    // A piece with several candidates: every one named, no single suggestion.
    assert_near_miss(
        "ehr",
        "launch,Observation.rs",
        "invalid-scope",
        &["`patient/Observation.rs` or `user/Observation.rs` (for `Observation.rs`)"],
        &[],
    );
}

#[test]
fn attack_scopes_run_on_after_a_restriction_value_are_named() {
    assert_near_miss(
        "ehr",
        "patient/Observation.rs?category=laboratory+launch",
        "invalid-scope",
        &["`patient/Observation.rs?category=laboratory`, `launch`"],
        &["patient/Observation.rs?category=laboratory", "launch"],
    );
    // Control: `,` ORs codes, so a bare word after it is a value, not a scope.
    let v = check(
        "ehr",
        "patient/Observation.rs?category=laboratory,vital-signs",
        "json",
    )
    .json();
    assert!(on_entry(&v).is_empty(), "{v:#}");
}

#[test]
fn attack_a_url_encoded_token_is_named_decoded() {
    for (scope, meant) in [
        ("user%2FPatient.read", "user/Patient.read"),
        ("user%252FPatient.read", "user/Patient.read"),
        (
            "patient%2FObservation.rs%3Fcategory%3Dlaboratory",
            "patient/Observation.rs?category=laboratory",
        ),
    ] {
        let hint = format!("did you mean `{meant}`?");
        assert_near_miss("ehr", scope, "invalid-scope", &[&hint], &[meant]);
        let t = check("ehr", scope, "text");
        assert!(t.stdout.contains("URL-encoded"), "{scope}: {}", t.stdout);
    }
}

#[test]
fn attack_two_tokens_separated_by_a_space_are_both_named() {
    assert_near_miss(
        "ehr",
        "patient/Observation.rs launch",
        "invalid-scope",
        &["`patient/Observation.rs`, `launch`"],
        &["patient/Observation.rs", "launch"],
    );
    assert_near_miss(
        "ehr",
        "openid\tfhir-user",
        "invalid-scope",
        &["`openid`, `fhirUser` (for `fhir-user`)"],
        &["openid", "fhirUser"],
    );
    // Neither piece SMART: still both named, as written.
    assert_near_miss(
        "ehr",
        "acme export",
        "invalid-scope",
        &["`acme` (not a SMART scope), `export` (not a SMART scope)"],
        &["acme", "export"],
    );
}

#[test]
fn attack_a_close_misspelling_is_a_warning_with_a_did_you_mean() {
    for (scope, meant) in [("ofline_access", "offline_access"), ("fhirUsr", "fhirUser")] {
        let hint = format!("did you mean `{meant}`?");
        assert_near_miss(
            "ehr",
            scope,
            "unknown-scope",
            &[&hint, "with a `__` prefix"],
            &[meant],
        );
    }
}

#[test]
fn control_a_vendor_scope_is_unknown_and_never_corrected() {
    for scope in [
        "api:fhir",
        "api:fhir,read",
        "read:patients",
        "email",
        "patient.read",
        "patient.summary.read",
        "Foo.read",
        "launch.foo",
        "acme%2Fexport",
    ] {
        let v = check("ehr", scope, "json").json();
        let found = on_entry(&v);
        assert_eq!(found.len(), 1, "{scope}: {found:#?}");
        assert_eq!(found[0]["rule"], "unknown-scope", "{scope}");
        assert_eq!(
            found[0]["hint"], "write extension scopes as a full URI or with a `__` prefix",
            "{scope}"
        );
        assert!(found[0].get("suggestion").is_none(), "{scope}");
    }
}

#[test]
fn control_an_extension_scope_is_untouched() {
    for scope in [
        "__acme_export",
        "__offline-access",
        "__Launch/patient",
        "https://example.org/scope",
        "https://example.org/patient.Observation.read",
        "urn:acme:launch,openid",
    ] {
        let v = check("ehr", scope, "json").json();
        assert!(on_entry(&v).is_empty(), "{scope}: {v:#}");
    }
}

#[test]
fn control_valid_scopes_are_not_near_misses() {
    for scope in [
        "patient/Observation.rs",
        "patient/Observation.rs?category=laboratory,vital-signs",
        "launch/patient",
    ] {
        let v = check("ehr", scope, "json").json();
        assert!(on_entry(&v).is_empty(), "{scope}: {v:#}");
    }
}

/// The med-rec example released as v1.0.0, then an entry `value` (YAML) added.
fn released_then_added(value: &str) -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(
        ".scopegate/config.yaml",
        "approvers: [alice]\nfail_on_lint: never\n",
    );
    r.commit("v1");
    r.release("v1.0.0");
    let t = r.read("smart-app.yaml").replace(
        "  - scope: offline_access\n",
        &format!("  - scope: {value}\n    rationale: Added.\n  - scope: offline_access\n"),
    );
    r.write("smart-app.yaml", &t);
    r.commit("add a near-miss");
    r
}

/// A near-miss added to a released manifest is still opaque new access, under the key
/// it is written with: the correction is advice, never what the gate counts.
#[test]
fn attack_an_added_near_miss_is_still_opaque_new_access_in_the_gate() {
    for (value, rule, key) in [
        (
            "offline-access",
            "opaque-scope-added",
            "med-rec:offline-access",
        ),
        (
            "'patient/*.read+launch'",
            "invalid-scope-added",
            "med-rec:\"patient/*.read+launch\"",
        ),
        (
            "'user%2FPatient.read'",
            "opaque-scope-added",
            "med-rec:user%2FPatient.read",
        ),
    ] {
        let r = released_then_added(value);
        let g = r.run(&["gate", "--format", "json"]);
        assert_eq!(g.code, 1, "{value}: {}{}", g.stdout, g.stderr);
        let v = g.json();
        let esc: Vec<(&str, &str)> = v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["direction"] == "escalation")
            .map(|c| (c["rule"].as_str().unwrap(), c["key"].as_str().unwrap()))
            .collect();
        assert_eq!(esc, [(rule, key)], "{value}");
    }
}

#[test]
fn the_suggestion_is_carried_in_sarif_as_a_property() {
    let r = released_then_added("offline-access");
    let g = r.run(&["gate", "--format", "sarif"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let results = v["runs"][0]["results"].as_array().unwrap();
    let on = results
        .iter()
        .find(|x| x["ruleId"] == "invalid-scope")
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(on["properties"]["suggestion"][0], "offline_access");
    assert!(
        on["message"]["text"]
            .as_str()
            .unwrap()
            .contains("did you mean `offline_access`?")
    );
}

#[test]
fn explain_names_the_scope_a_near_miss_meant() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &["explain", "--format", "json", "offline-access"],
    );
    let v = r.json();
    let x = if v.is_array() { &v[0] } else { &v };
    assert_eq!(x["valid"], false, "{v:#}");
    assert_eq!(x["suggestion"], "offline_access", "{v:#}");
    let t = run_in(dir.path(), &["explain", "patient.Observation.read"]);
    assert!(
        t.stdout
            .contains("did you mean `patient/Observation.read`?"),
        "{}",
        t.stdout
    );
    // Control: a vendor scope is explained as opaque, with no correction.
    let v = run_in(dir.path(), &["explain", "--format", "json", "api:fhir"]).json();
    let x = if v.is_array() { &v[0] } else { &v };
    assert_eq!(x["valid"], true, "{v:#}");
    assert!(x.get("suggestion").is_none(), "{v:#}");
}
