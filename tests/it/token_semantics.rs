//! FHIR token semantics through the real binary (issue 15 §3): the gate reads a
//! restriction value as FHIR token search does (<https://hl7.org/fhir/R4/search.html#token>).
//! Adding a system to a code narrows it and passes (CONTROL); every change that matches
//! resources the release did not (dropping the system, `|code` to a system, a modifier,
//! <https://hl7.org/fhir/R4/search.html#modifiers>) is an escalation that fails
//! unapproved (ATTACK). The pairs are tests/fixtures/diff/<pair>/{base,head}.yaml.

use crate::support::repo;

use repo::Repo;

fn fixture(pair: &str, side: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(pair)
        .join(format!("{side}.yaml"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Releases the pair's base as v1.0.0, commits its head, and runs the gate.
fn gate(pair: &str) -> repo::Run {
    let r = Repo::new();
    r.write("smart-app.yaml", &fixture(pair, "base"));
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    r.commit("v1");
    r.release("v1.0.0");
    r.write("smart-app.yaml", &fixture(pair, "head"));
    r.commit("change");
    r.run(&["gate", "--format", "json"])
}

#[test]
fn control_qualifying_a_code_with_its_system_is_a_narrowing_and_passes() {
    for pair in [
        "narrowed-token-system-qualified",
        "narrowed-token-no-system",
    ] {
        let g = gate(pair);
        assert_eq!(g.code, 0, "{pair}: {}{}", g.stdout, g.stderr);
        let v = g.json();
        assert_eq!(v["verdict"], "pass", "{pair}");
        assert_eq!(v["summary"]["escalations"], 0, "{pair}");
        let changes = v["changes"].as_array().unwrap();
        assert!(
            changes.iter().any(|c| c["rule"] == "access-removed"),
            "{pair}: {changes:#?}"
        );
        assert!(
            changes.iter().all(|c| c["rule"] != "read-access-added"),
            "{pair}: {changes:#?}"
        );
    }
}

#[test]
fn attack_every_token_change_that_matches_more_fails_unapproved() {
    for pair in [
        "token-system-dropped",
        "token-no-system-widened",
        "token-no-system-qualified",
        "token-modifier-not",
        "token-modifier-in",
    ] {
        let g = gate(pair);
        assert_eq!(g.code, 1, "{pair}: {}{}", g.stdout, g.stderr);
        let v = g.json();
        assert_eq!(v["verdict"], "fail", "{pair}");
        assert!(
            v["summary"]["unapproved"].as_u64().unwrap() >= 1,
            "{pair}: {v:#}"
        );
    }
}
