//! Loader tests: every kind of bad input gets a located, worded error.

use super::*;

const GOOD: &str = "\
id: med-rec
name: Medication Reconciliation
fhir_version: R4
launch: [ehr]
scopes:
  - scope: launch
    rationale: EHR launch
  - scope: patient/MedicationRequest.read
    rationale: list active medications
workflows:
  - id: reconcile
    description: compare lists
    needs: [patient/MedicationRequest.rs]
    offline:
      reason: nightly sync
";

fn problems(text: &str) -> Vec<String> {
    let e = from_str("m.yaml", text).expect_err("should fail");
    e.problems
        .iter()
        .map(|p| {
            format!(
                "{}: {}{}",
                p.pos,
                p.message,
                p.hint
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn a_good_manifest_loads_with_positions() {
    let m = from_str("m.yaml", GOOD).unwrap();
    assert_eq!(m.id.value, "med-rec");
    assert_eq!(m.fhir_version, FhirVersion::R4);
    assert_eq!(m.launch, vec![LaunchMode::Ehr]);
    assert_eq!(m.scopes.len(), 2);
    assert_eq!(
        m.scopes[1].token.text.pos,
        Pos {
            line: 8,
            column: 12
        }
    );
    assert_eq!(
        m.scopes[1].token.scope().unwrap().to_string(),
        "patient/MedicationRequest.rs"
    );
    assert_eq!(
        m.workflows[0].needs[0].text.pos,
        Pos {
            line: 13,
            column: 13
        }
    );
    assert_eq!(
        m.workflows[0].offline.as_ref().unwrap().value,
        "nightly sync"
    );
}

#[test]
fn unknown_keys_get_did_you_mean() {
    let t = GOOD.replace("rationale: EHR launch", "ratonale: EHR launch");
    assert_eq!(
        problems(&t),
        ["7:5: unknown key `ratonale` (did you mean `rationale`?)"]
    );
}

#[test]
fn duplicate_keys_are_errors() {
    let t = format!("{GOOD}id: other\n");
    assert_eq!(problems(&t), ["16:1: duplicate key `id`"]);
}

#[test]
fn yaml_one_point_one_booleans_do_not_sneak_in() {
    // strict_booleans: `yes` is not a bool, and a bool where a string belongs is an error.
    let t = GOOD.replace("launch: [ehr]", "launch: [yes]");
    assert_eq!(problems(&t).len(), 1);
}

#[test]
fn unknown_launch_modes_list_the_choices() {
    let t = GOOD.replace("launch: [ehr]", "launch: [ehr, sso]");
    assert_eq!(
        problems(&t),
        ["4:15: unknown value `sso` (expected one of: ehr, standalone, backend)"]
    );
}

#[test]
fn semantic_problems_are_all_collected() {
    let t = GOOD
        .replace("fhir_version: R4", "fhir_version: R44")
        .replace("id: med-rec", "id: med rec")
        .replace("launch: [ehr]", "launch: [ehr, ehr]")
        + "  - id: reconcile\n";
    assert_eq!(
        problems(&t),
        [
            "1:5: app id `med rec` must be letters, digits, `.`, `_` or `-`",
            "3:15: unknown FHIR version `R44` (did you mean `R4`?)",
            "4:15: launch mode listed twice",
            "16:9: workflow id `reconcile` is used twice",
        ]
    );
}

#[test]
fn numeric_fhir_versions_are_accepted() {
    let m = from_str(
        "m",
        &GOOD.replace("fhir_version: R4", "fhir_version: 4.0.1"),
    )
    .unwrap();
    assert_eq!(m.fhir_version, FhirVersion::R4);
    let m = from_str(
        "m",
        &GOOD.replace("fhir_version: R4", "fhir_version: \"5.0.0\""),
    )
    .unwrap();
    assert_eq!(m.fhir_version, FhirVersion::R5);
}

#[test]
fn missing_required_keys_are_named() {
    assert_eq!(problems("scopes: []\n"), ["1:1: missing required key `id`"]);
}

#[test]
fn empty_and_non_mapping_files_are_errors() {
    assert_eq!(problems("").len(), 1);
    assert_eq!(problems("\n# only a comment\n").len(), 1);
    assert_eq!(problems("- a\n- b\n").len(), 1);
}

#[test]
fn anchors_and_aliases_are_refused() {
    let t = "id: &x a\nscopes: []\nname: *x\n";
    assert_eq!(
        problems(t),
        [
            "1:8: YAML anchors and aliases are not allowed in a manifest (write each value out in full)"
        ]
    );
}

#[test]
fn deep_nesting_is_refused_quickly() {
    let t = format!("id: a\nscopes: []\nname: {}\n", "[".repeat(100_000));
    let start = std::time::Instant::now();
    assert_eq!(problems(&t).len(), 1);
    assert!(start.elapsed().as_secs() < 1);
}

#[test]
fn non_utf8_is_located() {
    let mut bytes = b"id: a\nscopes: []\nname: caf".to_vec();
    bytes.push(0xE9);
    let e = from_bytes("m", &bytes).unwrap_err();
    assert_eq!(
        e.problems[0].pos,
        Pos {
            line: 3,
            column: 10
        }
    );
    assert!(e.problems[0].message.contains("UTF-8"));
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let big = vec![b'#'; MAX_BYTES + 1];
    let e = from_bytes("m", &big).unwrap_err();
    assert!(e.problems[0].message.contains("larger than"));
}

#[test]
fn invalid_scope_tokens_are_kept_for_the_lint() {
    let m = from_str(
        "m",
        &GOOD.replace("scope: launch", "scope: patient/Observation.sr"),
    )
    .unwrap();
    assert!(m.scopes[0].token.parsed.is_err());
}

#[test]
fn the_schema_names_every_key() {
    let s = json_schema().to_string();
    for key in [
        "fhir_version",
        "rationale",
        "needs",
        "offline",
        "reason",
        "additionalProperties",
    ] {
        assert!(s.contains(key), "{key}");
    }
}
