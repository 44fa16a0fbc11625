//! FHIR DSTU2 (issue 15 §4), through the real binary: a DSTU2 manifest is checked against
//! DSTU2's resource types (`MedicationOrder`), an R4 name in it is an unknown type whose
//! hint names the DSTU2 counterpart, and the reverse; `1.0.2` names the same release.
//! Each attack (a type the manifest's release does not define) sits next to a control.

use crate::support::repo::{Run, run_in};

fn manifest(version: &str, ty: &str) -> String {
    format!(
        "id: dstu2-app\n\
         fhir_version: {version}\n\
         launch: [ehr]\n\
         scopes:\n  \
           - scope: launch\n    rationale: Launched from the EHR.\n  \
           - scope: patient/{ty}.read\n    rationale: Reads the patient's medication orders.\n\
         workflows:\n  \
           - id: meds\n    description: Show the orders.\n    needs: [patient/{ty}.read]\n"
    )
}

fn check(version: &str, ty: &str, format: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smart-app.yaml"), manifest(version, ty)).unwrap();
    run_in(dir.path(), &["check", "--format", format, "smart-app.yaml"])
}

fn unknown_type_findings(r: &Run) -> Vec<(String, String)> {
    r.json()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unknown-resource-type")
        .map(|f| {
            (
                f["message"].as_str().unwrap().to_string(),
                f["hint"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn control_a_dstu2_manifest_with_medication_order_checks_clean() {
    for version in ["DSTU2", "\"1.0.2\"", "1.0.2"] {
        let r = check(version, "MedicationOrder", "text");
        assert_eq!(r.code, 0, "{version}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("no findings"), "{version}: {}", r.stdout);
    }
}

#[test]
fn attack_an_r4_type_in_a_dstu2_manifest_is_unknown_and_named_in_dstu2() {
    let r = check("DSTU2", "MedicationRequest", "json");
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let found = unknown_type_findings(&r);
    assert_eq!(found.len(), 2, "the scope and the need: {found:?}");
    for (message, hint) in found {
        assert!(
            message.contains("`MedicationRequest` is not a FHIR DSTU2 resource type"),
            "{message}"
        );
        assert!(
            hint.contains("request `patient/MedicationOrder.read`"),
            "{hint}"
        );
    }
    // Text says the same.
    let r = check("DSTU2", "MedicationRequest", "text");
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("is `MedicationOrder` in FHIR DSTU2"),
        "{}",
        r.stdout
    );
}

#[test]
fn attack_a_dstu2_type_in_an_r4_manifest_is_unknown_and_named_in_r4() {
    for version in ["R4", "STU3", "R5"] {
        let r = check(version, "MedicationOrder", "json");
        assert_eq!(r.code, 1, "{version}: {}{}", r.stdout, r.stderr);
        let found = unknown_type_findings(&r);
        assert_eq!(found.len(), 2, "{version}: {found:?}");
        assert!(
            found[0]
                .1
                .contains("`MedicationOrder` (FHIR DSTU2) is `MedicationRequest`"),
            "{version}: {found:?}"
        );
        // The hint offers the release first: a DSTU2 app must not be steered to a type
        // its EHR does not serve.
        assert!(
            found[0]
                .1
                .contains("set `fhir_version: DSTU2`; otherwise request"),
            "{version}: {found:?}"
        );
    }
    // Control: the R4 name in R4.
    assert_eq!(check("R4", "MedicationRequest", "text").code, 0);
}

#[test]
fn other_dstu2_only_types_pass_only_in_dstu2() {
    // DiagnosticOrder, Order and DeviceUseRequest were dropped after DSTU2 (no one-to-one
    // rename is claimed for them): valid in DSTU2, unknown elsewhere.
    for ty in [
        "DiagnosticOrder",
        "Order",
        "DeviceUseRequest",
        "Conformance",
    ] {
        let r = check("DSTU2", ty, "text");
        assert_eq!(r.code, 0, "{ty} in DSTU2: {}", r.stdout);
        let r = check("R4", ty, "json");
        assert_eq!(r.code, 1, "{ty} in R4: {}", r.stdout);
        assert!(!unknown_type_findings(&r).is_empty(), "{ty}");
    }
    // A DSTU2 manifest still rejects a type no release defines.
    let r = check("DSTU2", "MedicationOrderz", "json");
    assert_eq!(r.code, 1);
    let found = unknown_type_findings(&r);
    assert!(
        found[0].1.contains("patient/MedicationOrder.read"),
        "{found:?}"
    );
}

#[test]
fn unknown_versions_fail_closed_and_name_the_releases() {
    let r = check("DSTU1", "MedicationOrder", "text");
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("unknown FHIR version `DSTU1`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `DSTU2`?"), "{}", r.stderr);
    // HAPI's `DSTU3` is STU3, not DSTU2.
    let r = check("DSTU3", "MedicationRequest", "text");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("did you mean `STU3`?"), "{}", r.stderr);
    let r = check("\"1.0.1\"", "MedicationOrder", "text");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown FHIR version `1.0.1`"),
        "{}",
        r.stderr
    );
}

#[test]
fn explain_reads_dstu2_types() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &[
            "explain",
            "--fhir-version",
            "DSTU2",
            "--format",
            "json",
            "patient/MedicationOrder.read",
            "patient/MedicationRequest.read",
        ],
    );
    let v = r.json();
    assert_eq!(v[0]["valid"], true, "{v}");
    assert_eq!(v[1]["valid"], false, "{v}");
    assert_eq!(v[1]["suggestion"], "patient/MedicationOrder.read", "{v}");
}

/// `init --fhir-version` writes the release the EHR serves, so a DSTU2 app's skeleton
/// checks its types against DSTU2; a release scopegate does not know, or no scopes at
/// all, is exit 2, never a skeleton.
#[test]
fn init_writes_the_fhir_release_it_is_given_and_refuses_what_it_cannot_use() {
    let dir = tempfile::tempdir().unwrap();
    let scopes = "launch openid fhirUser patient/Patient.read patient/MedicationOrder.read";
    for version in ["DSTU2", "1.0.2"] {
        let r = run_in(
            dir.path(),
            &[
                "init",
                "--id",
                "v1app",
                "--fhir-version",
                version,
                "--scopes",
                scopes,
            ],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("fhir_version: DSTU2\n"), "{}", r.stdout);
        std::fs::write(dir.path().join("smart-app.yaml"), &r.stdout).unwrap();
        let c = run_in(dir.path(), &["check", "--format", "json"]);
        assert!(unknown_type_findings(&c).is_empty(), "{}", c.stdout);
    }
    // Control: the default is R4, where MedicationOrder is unknown.
    let r = run_in(dir.path(), &["init", "--scopes", scopes]);
    assert!(r.stdout.contains("fhir_version: R4\n"), "{}", r.stdout);
    for bad in [
        &["init", "--fhir-version", "R9", "--scopes", scopes][..],
        &["init", "--scopes", ""][..],
        &["init", "--scopes", "   "][..],
    ] {
        let r = run_in(dir.path(), bad);
        assert_eq!(r.code, 2, "{bad:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{bad:?}: {}", r.stdout);
    }
}

/// A scope string copied from an authorize URL (`+`-joined, `%2F`-encoded) was written
/// as one token, which `check` then said to split. `init` splits and decodes it as a
/// server reads it, and says so. Controls: a plain string is taken as it is, and a
/// vendor token with a comma is never split.
#[test]
fn init_splits_a_scope_string_copied_from_a_url() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(
        dir.path(),
        &["init", "--scopes", "launch+openid+patient%2FPatient.read"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("it is split into the"), "{}", r.stdout);
    for t in ["launch", "openid", "patient/Patient.read"] {
        assert!(
            r.stdout.contains(&format!("  - scope: \"{t}\"\n")),
            "{t}: {}",
            r.stdout
        );
    }
    std::fs::write(dir.path().join("smart-app.yaml"), &r.stdout).unwrap();
    let c = run_in(dir.path(), &["check", "--format", "json"]);
    let report = c.json();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(!rules.contains(&"invalid-scope"), "{rules:?}");
    let plain = run_in(dir.path(), &["init", "--scopes", "launch openid"]);
    assert!(!plain.stdout.contains("split"), "{}", plain.stdout);
    let vendor = run_in(dir.path(), &["init", "--scopes", "__acme,export"]);
    assert!(
        vendor.stdout.contains("  - scope: \"__acme,export\"\n"),
        "{}",
        vendor.stdout
    );
}
