//! The indexes that keep the algebra near-linear (issue 15 §1) must never hide a
//! change. Each restriction is filed under one of its clauses, the one fewest others
//! share; here 600 US Core-shaped scopes all share `category=laboratory`, so a widening
//! among them is looked up through the index, never by a scan. Each ATTACK hides one
//! widening in the middle of the list and must fail the gate, naming that scope alone;
//! each CONTROL (a reordering with new rationales, a narrowing) must pass.

use crate::support::repo;

use repo::Repo;

const N: usize = 600;

fn scope(i: usize) -> String {
    format!(
        "patient/Observation.rs?category=laboratory&code=http://loinc.org|{i}-{}",
        i % 7
    )
}

/// A manifest of the `N` scopes (the one at `at` replaced by `swap`), in the order
/// `order` gives, each with a workflow needing the original scope (`swap` itself
/// when `follow`).
fn manifest(order: &[usize], at: usize, swap: &str, rationale: &str, follow: bool) -> String {
    let mut m = String::from(
        "id: labs\nname: Lab results\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: EHR launch.\n",
    );
    for &i in order {
        let s = if i == at { swap.to_string() } else { scope(i) };
        m.push_str(&format!(
            "  - scope: \"{s}\"\n    rationale: {rationale} {i}.\n"
        ));
    }
    m.push_str("workflows:\n");
    for i in 0..N {
        let need = if follow && i == at {
            swap.to_string()
        } else {
            scope(i)
        };
        m.push_str(&format!(
            "  - id: wf-{i}\n    description: Reads lab code {i}.\n    needs: [launch, \"{need}\"]\n"
        ));
    }
    m
}

/// Releases the `N` scopes as v1.0.0, commits `head`, and runs the gate.
fn gate(head: &str) -> repo::Run {
    let r = Repo::new();
    let order: Vec<usize> = (0..N).collect();
    r.write(
        "smart-app.yaml",
        &manifest(&order, N, "", "Lab code", false),
    );
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    r.commit("v1");
    r.release("v1.0.0");
    r.write("smart-app.yaml", head);
    r.commit("change");
    r.run(&["gate", "--format", "json"])
}

/// The escalations' scopes.
fn escalations(run: &repo::Run) -> Vec<String> {
    run.json()["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "escalation")
        .map(|c| c["scope"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn attack_a_widening_hidden_among_scopes_sharing_a_clause_fails_the_gate() {
    let order: Vec<usize> = (0..N).collect();
    let mid = N / 2 + 3;
    for (what, swap) in [
        // The code clause dropped: every laboratory result.
        (
            "code dropped",
            "patient/Observation.rs?category=laboratory".to_string(),
        ),
        // The shared clause dropped: that code in every category.
        (
            "category dropped",
            format!(
                "patient/Observation.rs?code=http://loinc.org|{mid}-{}",
                mid % 7
            ),
        ),
        // The system dropped: the code in any system (FHIR token search).
        (
            "system dropped",
            format!(
                "patient/Observation.rs?category=laboratory&code={mid}-{}",
                mid % 7
            ),
        ),
        // A code no scope had, under the shared clause.
        (
            "new code",
            "patient/Observation.rs?category=laboratory&code=http://loinc.org|99999-9".to_string(),
        ),
        // A modifier: never narrower than the parameter it modifies.
        (
            "modifier",
            format!(
                "patient/Observation.rs?category=laboratory&code:below=http://loinc.org|{mid}-{}",
                mid % 7
            ),
        ),
    ] {
        let g = gate(&manifest(&order, mid, &swap, "Lab code", false));
        assert_eq!(g.code, 1, "{what}: {}{}", g.stdout, g.stderr);
        assert_eq!(escalations(&g), std::slice::from_ref(&swap), "{what}");
    }
}

#[test]
fn control_a_reordering_with_new_rationales_and_a_narrowing_pass() {
    let reversed: Vec<usize> = (0..N).rev().collect();
    let g = gate(&manifest(&reversed, N, "", "Reads lab code", false));
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert!(escalations(&g).is_empty());
    let order: Vec<usize> = (0..N).collect();
    let mid = N / 2 + 3;
    let narrower = format!("{}&status=final", scope(mid));
    let g = gate(&manifest(&order, mid, &narrower, "Lab code", true));
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert!(escalations(&g).is_empty(), "{}", g.stdout);
}
