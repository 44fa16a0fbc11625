//! End-to-end, through the real binary on temporary git repositories: every token that
//! is added counts (issue 12 §4), search result parameters restrict nothing (§5), an
//! approval is spent when its access is given up, and `approval_max_age` (§6); the
//! ledger scales and its size errors name it (issue 17 §5). Each attack sits next to
//! a control that must pass.

use crate::support::{ci_run, fake_github, repo};

use repo::{Repo, Run, example};
use serde_json::Value;

/// A release v1.0.0 of the med-rec example, judged by a baseline config that does not
/// fail on lint: the setting under which invalid tokens used to be invisible.
fn released_lenient(config_extra: &str) -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(
        ".scopegate/config.yaml",
        &format!("approvers: [alice]\nfail_on_lint: never\n{config_extra}"),
    );
    // Alice's key is released with the config: the approvals she adds later verify.
    r.allow_signer("alice", "");
    r.commit("v1");
    r.release("v1.0.0");
    r
}

fn gate(r: &Repo) -> Run {
    r.run(&["gate", "--format", "json"])
}

/// `(rule, key, approval state)` of every escalation.
fn escalations(v: &Value) -> Vec<(String, String, String)> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "escalation")
        .map(|c| {
            (
                c["rule"].as_str().unwrap().to_string(),
                c["key"].as_str().unwrap().to_string(),
                c["approval"]["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn reductions(v: &Value) -> Vec<String> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "reduction")
        .map(|c| c["key"].as_str().unwrap().to_string())
        .collect()
}

fn findings<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// Adds one scope entry (as YAML text for the `scope:` value) to the manifest.
fn add_entry(r: &Repo, yaml_value: &str) {
    let t = r.read("smart-app.yaml").replace(
        "  - scope: offline_access\n",
        &format!("  - scope: {yaml_value}\n    rationale: Added.\n  - scope: offline_access\n"),
    );
    r.write("smart-app.yaml", &t);
    r.commit("add a scope");
}

// ---- §4: every token that is added counts ----

#[test]
fn an_added_invalid_token_is_an_escalation_whatever_the_lint_settings() {
    // (YAML value, the key it must be reported under)
    let variants = [
        ("patient/*.sr", "med-rec:\"patient/*.sr\""),
        ("'patient/*.cruds?'", "med-rec:\"patient/*.cruds?\""),
        ("Patient/*.read", "med-rec:\"Patient/*.read\""),
        (
            "'patient/Observation.rs?category'",
            "med-rec:\"patient/Observation.rs?category\"",
        ),
        // Look-alike and invisible characters are shown escaped.
        (
            "\"patient/Obs\\u00e9rvation.rs\"",
            "med-rec:\"patient/Obs\\u{e9}rvation.rs\"",
        ),
        (
            "\"patient/*.rs\\u200b\"",
            "med-rec:\"patient/*.rs\\u{200b}\"",
        ),
        // Literal quotes around the token.
        ("'\"user/*.cruds\"'", "med-rec:\"\\\"user/*.cruds\\\"\""),
    ];
    for extra in ["", "severity:\n  invalid-scope: note\n"] {
        for (value, key) in variants {
            let r = released_lenient(extra);
            add_entry(&r, value);
            let g = gate(&r);
            assert_eq!(g.code, 1, "{value}: {}{}", g.stdout, g.stderr);
            let v = g.json();
            assert_eq!(v["verdict"], "fail", "{value}");
            assert_eq!(
                escalations(&v),
                [(
                    "invalid-scope-added".to_string(),
                    key.to_string(),
                    "unapproved".to_string()
                )],
                "{value}"
            );
            // Nothing was taken away by the invalid token.
            assert!(reductions(&v).is_empty(), "{value}");

            // Control: a reviewer approves exactly that key, and the gate passes.
            let a = r.approve_signed("alice", &["--ticket", "SEC-9", "--key", key]);
            assert_eq!(a.code, 0, "{value}: {}", a.stderr);
            r.commit("approve");
            let g = gate(&r);
            assert_eq!(g.code, 0, "{value}: {}{}", g.stdout, g.stderr);
            assert_eq!(escalations(&g.json())[0].2, "approved", "{value}");
        }
    }
}

#[test]
fn an_entry_with_spaces_counts_every_token_in_it() {
    let r = released_lenient("");
    add_entry(&r, "'user/*.cruds system/*.cruds'");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let e = escalations(&g.json());
    let keys: Vec<&str> = e.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(keys, ["med-rec:system/*.cruds", "med-rec:user/*.cruds"]);
    assert!(e.iter().all(|e| e.0 == "wildcard-type-added"), "{e:?}");

    // A tab or a no-break space separates too, and a bad piece is opaque on its own.
    let r = released_lenient("");
    add_entry(&r, "\"user/*.rs\\tpatient/*.sr\\u00a0launch\"");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let mut keys: Vec<String> = escalations(&g.json()).into_iter().map(|e| e.1).collect();
    keys.sort();
    assert_eq!(keys, ["med-rec:\"patient/*.sr\"", "med-rec:user/*.rs"]);
}

#[test]
fn replacing_a_valid_scope_by_an_invalid_token_shows_the_removal_and_the_addition() {
    let r = released_lenient("");
    let t = r.read("smart-app.yaml").replace(
        "scope: patient/MedicationRequest.rs\n",
        "scope: patient/MedicationRequest.sr\n",
    );
    r.write("smart-app.yaml", &t);
    r.commit("typo");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let v = g.json();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(reductions(&v), ["med-rec:patient/MedicationRequest.rs"]);
    assert_eq!(
        escalations(&v),
        [(
            "invalid-scope-added".to_string(),
            "med-rec:\"patient/MedicationRequest.sr\"".to_string(),
            "unapproved".to_string()
        )]
    );
    // `approve` with no key picks it, writes a key that loads back, and then it passes.
    let a = r.approve_signed("alice", &["--ticket", "SEC-2"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        r.read(".scopegate/approvals.yaml")
            .contains(r#""med-rec:\"patient/MedicationRequest.sr\"""#),
        "{}",
        r.read(".scopegate/approvals.yaml")
    );
    r.commit("approve");
    assert_eq!(gate(&r).code, 0);
}

#[test]
fn an_unquoted_key_for_an_invalid_token_is_an_error_that_shows_the_quoted_key() {
    let r = released_lenient("");
    add_entry(&r, "patient/*.sr");
    r.write(
        ".scopegate/approvals.yaml",
        "approvals:\n  - keys: [\"med-rec:patient/*.sr\"]\n    by: alice\n    at: 2026-11-28\n    ticket: T\n",
    );
    r.commit("a typo'd key");
    let g = gate(&r);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(
        g.stderr.contains("med-rec:\"patient/*.sr\""),
        "{}",
        g.stderr
    );
}

#[test]
fn an_invalid_token_present_at_both_ends_is_no_change() {
    let r = Repo::new();
    let t = example("med-rec.yaml").replace(
        "  - scope: offline_access\n",
        "  - scope: patient/*.sr\n    rationale: Legacy.\n  - scope: offline_access\n",
    );
    r.write("smart-app.yaml", &t);
    r.write(
        ".scopegate/config.yaml",
        "approvers: [alice]\nfail_on_lint: never\n",
    );
    r.commit("v1");
    r.release("v1.0.0");
    r.write("smart-app.yaml", &t.replace("Legacy.", "Still legacy."));
    r.commit("reword the rationale");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert!(escalations(&g.json()).is_empty());
    // Removing it is a reduction.
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("drop it");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}", g.stdout);
    assert_eq!(reductions(&g.json()), ["med-rec:\"patient/*.sr\""]);
}

#[test]
fn a_tenant_allow_list_does_not_let_an_invalid_token_through() {
    let r = released_lenient("");
    r.write(
        ".scopegate/tenants/clinic.yaml",
        "allow:\n  - launch\n  - openid\n  - fhirUser\n  - offline_access\n  - patient/*.rs\n  - patient/MedicationStatement.c\n",
    );
    r.commit("tenant");
    r.release("v1.1.0");
    add_entry(&r, "patient/*.sr");
    let a = r.approve_signed("alice", &["--ticket", "SEC-3"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let v = g.json();
    // The escalation itself is approved (a verified entry): only the tenant fails it.
    assert_eq!(escalations(&v)[0].2, "approved", "{v:#}");
    let f = findings(&v, "tenant-not-allowed");
    assert_eq!(f.len(), 1, "{v:#}");
    assert!(f[0]["message"].as_str().unwrap().contains("patient/*.sr"));
}

// ---- §5: search result parameters restrict nothing ----

#[test]
fn adding_include_while_dropping_category_is_a_widening() {
    let r = released_lenient("");
    let t = r.read("smart-app.yaml").replace(
        "scope: patient/Observation.rs?category=laboratory\n",
        "scope: patient/Observation.rs?_include=Observation:subject&_count=50\n",
    );
    r.write("smart-app.yaml", &t);
    r.commit("swap the category for an include");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let v = g.json();
    assert_eq!(
        escalations(&v),
        [(
            "restriction-loosened".to_string(),
            "med-rec:patient/Observation.rs".to_string(),
            "unapproved".to_string()
        )]
    );
}

#[test]
fn adding_a_result_parameter_to_a_restricted_scope_is_no_change() {
    let r = released_lenient("");
    for rp in [
        "_include=Observation:subject",
        "_revinclude:iterate=Provenance:target",
        "_sort=-date&_count=10&_elements=id&_summary=true&_total=accurate",
    ] {
        let t = example("med-rec.yaml").replace(
            "scope: patient/Observation.rs?category=laboratory\n",
            &format!("scope: patient/Observation.rs?category=laboratory&{rp}\n"),
        );
        r.write("smart-app.yaml", &t);
        r.commit(rp);
        let g = gate(&r);
        assert_eq!(g.code, 0, "{rp}: {}", g.stdout);
        assert_eq!(g.json()["verdict"], "no-change", "{rp}");
    }
}

/// Replaces the released `?category=laboratory` scope, and the need that names it, by
/// `with` (a YAML double-quoted value), and gates.
fn restricted_as(r: &Repo, with: &str) -> Run {
    let t = example("med-rec.yaml").replace(
        "patient/Observation.rs?category=laboratory\n",
        &format!("\"{with}\"\n"),
    );
    r.write("smart-app.yaml", &t);
    r.commit("restrict the labs scope");
    gate(r)
}

/// A restriction a server would read otherwise than its characters spell is not a scope
/// scopegate can judge: a `#` ends the query a server reads (`?_count=50#&category=…` is
/// the whole type to it), and a server decodes `%2C` to a comma that ORs in a value and
/// `%7C` to a system's `|`. Each was taken as the scope its characters spell, covered
/// by the release's: no change, or a reduction. Now each is opaque new access; the
/// control (the same values written as a server reads them) is judged as before.
#[test]
fn a_restriction_a_server_would_read_otherwise_is_opaque_new_access() {
    let r = released_lenient("");
    for attack in [
        "patient/Observation.rs?_count=50#&category=laboratory",
        "patient/Observation.rs?category=vital-signs#|laboratory",
        "patient/Observation.rs?category=social-history%2Chttp://x|laboratory",
        "patient/Observation.rs?category=http://x%7Claboratory",
        "patient/Observation.rs?category=laboratory&category=%6Caboratory",
    ] {
        let g = restricted_as(&r, attack);
        assert_eq!(g.code, 1, "{attack}: {}", g.stdout);
        let v = g.json();
        let esc = escalations(&v);
        assert_eq!(esc.len(), 1, "{attack}: {esc:?}");
        assert_eq!(esc[0].0, "invalid-scope-added", "{attack}");
        assert_eq!(esc[0].2, "unapproved", "{attack}");
        let why = findings(&v, "invalid-scope");
        assert!(!why.is_empty(), "{attack}: {v:#}");
        let message = why[0]["message"].as_str().unwrap();
        assert!(
            message.contains("URL") || message.contains("percent") || message.contains("encoded"),
            "{attack}: {message}"
        );
    }
    // Controls: a system-qualified code narrows (FHIR token search), a result parameter
    // restricts nothing; neither is an escalation.
    for control in [
        "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        "patient/Observation.rs?_count=50&category=laboratory",
    ] {
        let g = restricted_as(&r, control);
        assert_eq!(g.code, 0, "{control}: {}", g.stdout);
        assert!(escalations(&g.json()).is_empty(), "{control}");
    }
}

/// A parameter repeated with different values is read by the server's choice: FHIR
/// search ANDs the clauses (SMART does not say so), and a server that reads the query
/// into a map keeps the first or the last. Each was read as the narrowest clause, and
/// the wider ones dropped: from `?category=laboratory`, adding vital-signs (the wide
/// clause first or last) was NO CHANGE and `&category=vital-signs` a reduction, exit 0.
/// Each is opaque new access now. 40,000 clauses (which held the gate 45 s when they
/// were compared pairwise) are refused at once. Controls: another parameter narrows,
/// and a clause written twice is written once.
#[test]
fn a_parameter_repeated_with_different_values_is_opaque_new_access() {
    let r = released_lenient("");
    let wide = "category=laboratory,vital-signs,social-history";
    for attack in [
        format!("patient/Observation.rs?category=laboratory&{wide}"),
        format!("patient/Observation.rs?{wide}&category=laboratory"),
        "patient/Observation.rs?category=laboratory&category=vital-signs".to_string(),
    ] {
        let g = restricted_as(&r, &attack);
        assert_eq!(g.code, 1, "{attack}: {}", g.stdout);
        let v = g.json();
        assert_eq!(escalations(&v)[0].0, "invalid-scope-added", "{attack}");
        let message = findings(&v, "invalid-scope")[0]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.contains("`category` is restricted 2 times"),
            "{message}"
        );
    }
    let clauses = |n: usize| {
        (0..n)
            .map(|i| format!("&code:not=c{i}"))
            .collect::<String>()
    };
    let attack = format!(
        "patient/Observation.rs?category=laboratory{}",
        clauses(40_000)
    );
    let started = std::time::Instant::now();
    let g = restricted_as(&r, &attack);
    let took = started.elapsed();
    assert_eq!(g.code, 1, "{}", g.stderr);
    assert_eq!(escalations(&g.json())[0].0, "invalid-scope-added");
    // Debug builds included: the whole gate, well under what 40,000 pairwise took.
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");

    for control in [
        "patient/Observation.rs?category=laboratory&code=http://loinc.org|2345-7",
        "patient/Observation.rs?category=laboratory&category=laboratory",
    ] {
        let g = restricted_as(&r, control);
        assert_eq!(g.code, 0, "{control}: {}", g.stdout);
        assert!(escalations(&g.json()).is_empty(), "{control}");
    }
}

// ---- §6: an approval is spent when its access is given up ----

/// v1 grants `user/*.cruds` with an approval; v2 gives it up (the entry stays, as
/// the ledger is append-only); then a change brings it back.
fn given_up_then_readded() -> Repo {
    let r = released_lenient("");
    add_entry(&r, "user/*.cruds");
    let a = r.approve_signed("alice", &["--ticket", "SEC-2025"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve");
    assert_eq!(gate(&r).code, 0);
    r.release("v1.1.0");
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("give it up");
    assert_eq!(gate(&r).code, 0);
    r.release("v2.0.0");
    add_entry(&r, "user/*.cruds");
    r
}

#[test]
fn access_given_up_in_a_release_needs_a_new_approval_to_come_back() {
    let r = given_up_then_readded();
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let v = g.json();
    assert_eq!(
        escalations(&v),
        [(
            "wildcard-type-added".to_string(),
            "med-rec:user/*.cruds".to_string(),
            "unapproved".to_string()
        )]
    );
    let spent = findings(&v, "approval-spent");
    assert_eq!(spent.len(), 1, "{v:#}");
    assert_eq!(spent[0]["key"], "med-rec:user/*.cruds");
    assert!(spent[0]["message"].as_str().unwrap().contains("v2.0.0"));

    // Appending a verbatim copy of the old entry does not revive it.
    let ledger = r.read(".scopegate/approvals.yaml");
    let old = &ledger[ledger.find("  - keys:").unwrap()..];
    r.write(".scopegate/approvals.yaml", &format!("{ledger}{old}"));
    r.commit("copy the old entry");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let v = g.json();
    assert_eq!(escalations(&v)[0].2, "unapproved", "{v:#}");
    assert_eq!(findings(&v, "approval-spent").len(), 1, "{v:#}");

    // Control: a fresh (signed) approval passes.
    let a = r.approve_signed("alice", &["--ticket", "SEC-2026"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve again");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}", g.stdout);
    assert!(findings(&g.json(), "approval-spent").is_empty());
}

#[test]
fn access_removed_and_readded_before_any_release_is_no_change() {
    let r = released_lenient("");
    add_entry(&r, "user/*.cruds");
    assert_eq!(
        r.run(&["approve", "--by", "alice", "--ticket", "SEC-1"])
            .code,
        0
    );
    r.commit("approve");
    r.release("v1.1.0");
    // Removed on main, then re-added, with no release in between: the release still
    // grants it, so nothing is new.
    let with = r.read("smart-app.yaml");
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("remove");
    r.write("smart-app.yaml", &with);
    r.commit("re-add");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}", g.stdout);
    assert_eq!(g.json()["verdict"], "no-change");
}

/// `user/*.cruds` added under `config`, approved by alice's signature made at `at` (the
/// signature binds `at`: it cannot be back-dated or forward-dated by editing the entry),
/// then gated.
fn gated_with_approval_at(config: &str, at: &str) -> Run {
    let r = released_lenient(config);
    add_entry(&r, "user/*.cruds");
    let a = r.approve_signed(
        "alice",
        &[
            "--ticket",
            "SEC-1",
            "--key",
            "med-rec:user/*.cruds",
            "--now",
            at,
        ],
    );
    assert_eq!(a.code, 0, "{at}: {}{}", a.stdout, a.stderr);
    r.commit("approve");
    gate(&r)
}

#[test]
fn an_approval_older_than_approval_max_age_no_longer_counts() {
    // NOW is 2026-11-28T12:00:00Z.
    for (at, code, state) in [
        ("2026-01-01T00:00:00Z", 1, "expired"),
        ("2026-10-30T11:59:59Z", 1, "expired"),
        ("2026-10-30T12:00:00Z", 0, "approved"),
        ("2026-11-20T00:00:00Z", 0, "approved"),
    ] {
        let g = gated_with_approval_at("approval_max_age: 29d\n", at);
        assert_eq!(g.code, code, "{at}: {}", g.stdout);
        let v = g.json();
        assert_eq!(escalations(&v)[0].2, state, "{at}");
        let expired = findings(&v, "approval-expired");
        if code == 1 {
            assert_eq!(expired.len(), 1, "{at}: {v:#}");
            assert_eq!(expired[0]["key"], "med-rec:user/*.cruds");
            assert!(
                expired[0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("approval_max_age"),
                "{at}"
            );
        } else {
            assert!(expired.is_empty(), "{at}");
        }
    }
}

/// An entry dated after the gate's clock counted from a future `at`: its age was nothing,
/// so it outlived `approval_max_age` for as long as it was dated ahead (2099: forever).
/// An entry dated more than a day ahead does not count, with or without a maximum age,
/// and says why; within a day (a clock that ran ahead where it was written) it counts.
#[test]
fn an_approval_dated_after_the_gates_clock_does_not_count() {
    // NOW is 2026-11-28T12:00:00Z.
    for config in ["approval_max_age: 29d\n", ""] {
        for (at, code) in [
            ("2099-01-01T00:00:00Z", 1),
            ("2026-11-29T12:00:01Z", 1),
            ("2026-11-29T11:00:00Z", 0),
        ] {
            let g = gated_with_approval_at(config, at);
            assert_eq!(g.code, code, "{config}{at}: {}", g.stdout);
            if code == 1 {
                let v = g.json();
                let expired = findings(&v, "approval-expired");
                assert!(
                    expired[0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("more than a day after the gate's clock"),
                    "{at}: {v:#}"
                );
            }
        }
    }
}

#[test]
fn a_bad_approval_max_age_is_exit_2_with_its_line() {
    let r = released_lenient("approval_max_age: 1y\n");
    add_entry(&r, "user/*.cruds");
    let g = gate(&r);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(g.stderr.contains("config.yaml:3:"), "{}", g.stderr);
    assert!(g.stderr.contains("not an approval age"), "{}", g.stderr);
}

// ---- issue 17 §5: the ledger scales, and its size errors name it ----

fn ledger_of(n: usize) -> String {
    let mut s = String::from("approvals:\n");
    for i in 0..n {
        let app = if i % 2 == 0 {
            "med-rec".to_string()
        } else {
            format!("app-{}", i % 997)
        };
        s.push_str(&format!(
            "  - keys:\n      - \"{app}:patient/Observation.rs?code=c{i}\"\n    by: \"alice\"\n    at: \"2026-01-01T00:00:00Z\"\n    ticket: \"SEC-{i}\"\n"
        ));
    }
    s
}

#[test]
fn a_ledger_over_the_node_budget_of_other_files_is_read_and_judged() {
    // 26,000 entries are about 260,000 YAML nodes, over the 250,000 other files may
    // have: the ledger was refused as "too large to be a manifest". (Its scaling is
    // tested in the pure core, `gate::ledger::tests`; the release build's times are in
    // the README.)
    let r = released_lenient("");
    r.write(".scopegate/approvals.yaml", &ledger_of(26_000));
    r.commit("a long history");
    r.release("v1.1.0");
    add_entry(&r, "user/*.cruds");
    // Alice's signed entry, made by `approve --sign` on the same change in a small
    // repository (what is signed is the entry's content, not its place in the ledger;
    // `approve` on this ledger is slow in a debug build), appended here.
    let small = released_lenient("");
    add_entry(&small, "user/*.cruds");
    let a = small.approve_signed(
        "alice",
        &["--ticket", "SEC-X", "--key", "med-rec:user/*.cruds"],
    );
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let signed = small.read(".scopegate/approvals.yaml");
    let entry = &signed[signed.find("  - keys:").unwrap()..];
    assert!(entry.contains("med-rec:user/*.cruds"), "{entry}");
    let ledger = r.read(".scopegate/approvals.yaml");
    r.write(".scopegate/approvals.yaml", &format!("{ledger}{entry}"));
    r.commit("approve");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(escalations(&g.json())[0].2, "approved");
}

#[test]
fn an_oversized_ledger_is_exit_2_and_named_a_ledger() {
    let r = released_lenient("");
    r.write(".scopegate/approvals.yaml", &ledger_of(70_000));
    r.commit("too long");
    let g = gate(&r);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(
        g.stderr.contains("approvals ledger is larger than"),
        "{}",
        g.stderr
    );
    assert!(!g.stderr.contains("manifest"), "{}", g.stderr);
}

/// `scopegate ci` on a pull request from `base` to `head` against a fake GitHub:
/// `(exit code, the JSON report)`.
fn ci_run(r: &Repo, gh: &fake_github::FakeGitHub, base: &str, head: &str) -> (i32, Value) {
    let run = ci_run::CiJob::new(r.path(), &gh.url, repo::NOW)
        .event("pull_request", ci_run::pr_payload("dev", base, head))
        .token(Some("ghs_TOKEN_0123456789"))
        .run();
    (run.code, run.report_json())
}

#[test]
fn under_ci_readded_access_with_a_spent_entry_fails_and_a_fresh_reviewed_entry_passes() {
    // Issue 12 §6: nothing is added to the ledger, so `ci` used to ask for no review.
    let r = given_up_then_readded();
    let base = r.git(&["rev-parse", "v2.0.0"]).trim().to_string();
    let head = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    let gh = fake_github::FakeGitHub::start();
    let (code, v) = ci_run(&r, &gh, &base, &head);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(escalations(&v)[0].2, "unapproved");
    assert_eq!(findings(&v, "approval-spent").len(), 1, "{v:#}");

    // Control: a new entry, reviewed by the approver at the head commit.
    assert_eq!(
        r.run(&["approve", "--by", "alice", "--ticket", "SEC-2026"])
            .code,
        0
    );
    let head = r.commit("approve again");
    let gh = fake_github::FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    // Reviewer independence: the PR's commits are by another developer.
    gh.add_pr_commit(&head, Some("dev"), Some("dev"), "approve again");
    let (code, v) = ci_run(&r, &gh, &base, &head);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(escalations(&v)[0].2, "approved");
}
