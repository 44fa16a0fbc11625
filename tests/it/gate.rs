//! End-to-end gate tests on temporary git repositories: commit, tag, change, run the
//! real binary. The git CLI only sets the repositories up; scopegate reads them with git2.

use std::process::Command as Std;

use crate::support::repo;

use repo::{Repo, Run, example, run_in};
use serde_json::Value;

/// A repo whose v1.0.0 release has the med-rec example, and a config naming alice.
fn released() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    r.allow_signer("alice", "");
    r.commit("v1");
    r.release("v1.0.0");
    r
}

/// Adds `u` to MedicationStatement, in both the scope and the workflow need.
fn add_update(r: &Repo) {
    let t = r
        .read("smart-app.yaml")
        .replace(
            "patient/MedicationStatement.crs",
            "patient/MedicationStatement.crus",
        )
        .replace(
            "      - patient/MedicationStatement.c\n",
            "      - patient/MedicationStatement.cu\n",
        );
    r.write("smart-app.yaml", &t);
    r.commit("add update");
}

fn gate(r: &Repo) -> Run {
    r.run(&["gate", "--format", "json"])
}

#[test]
fn an_unapproved_escalation_fails_then_approve_passes_then_widening_fails_again() {
    let r = released();
    add_update(&r);
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "fail");
    assert_eq!(v["summary"]["unapproved"], 1);
    assert_eq!(
        v["changes"][0]["key"],
        "med-rec:patient/MedicationStatement.u"
    );
    assert_eq!(v["changes"][0]["rule"], "write-access-added");
    assert_eq!(v["changes"][0]["workflows"][0], "reconcile");
    assert_eq!(v["baseline"]["name"], "v1.0.0");

    let a = r.approve_signed("alice", &["--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(a.stdout.contains("med-rec:patient/MedicationStatement.u"));
    r.commit("approve");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}", g.stdout);
    let v = g.json();
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["changes"][0]["approval"]["state"], "approved");
    assert_eq!(v["changes"][0]["approval"]["by"], "alice");
    assert_eq!(v["changes"][0]["approval"]["added_in_change"], true);

    // A further widening is not covered by the approval of exactly `u`.
    let t = r.read("smart-app.yaml").replace(
        "patient/MedicationStatement.crus",
        "patient/MedicationStatement.cruds",
    );
    r.write(
        "smart-app.yaml",
        &t.replace(
            "      - patient/MedicationStatement.cu\n",
            "      - patient/MedicationStatement.cud\n",
        ),
    );
    r.commit("add delete");
    let g = gate(&r);
    assert_eq!(g.code, 1);
    let v = g.json();
    let unapproved: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["approval"]["state"] == "unapproved")
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(unapproved, ["med-rec:patient/MedicationStatement.d"]);
}

#[test]
fn a_pure_reword_passes_with_no_approval() {
    let r = released();
    let t = r
        .read("smart-app.yaml")
        .replace("patient/MedicationRequest.rs", "patient/MedicationRequest.read")
        .replace("patient/AllergyIntolerance.rs\n    rationale", "patient/AllergyIntolerance.r\n    rationale: split\n  - scope: patient/AllergyIntolerance.s\n    rationale");
    r.write("smart-app.yaml", &t);
    r.commit("reword");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "no-change");
    assert_eq!(v["summary"]["escalations"], 0);
    assert_eq!(v["summary"]["reductions"], 0);
}

#[test]
fn a_rewritten_ledger_entry_fails_the_gate() {
    let r = released();
    add_update(&r);
    assert_eq!(
        r.run(&["approve", "--by", "alice", "--ticket", "SEC-1"])
            .code,
        0
    );
    r.commit("approve");
    r.release("v1.1.0");
    // The next change edits the released entry instead of appending one.
    let t = r
        .read(".scopegate/approvals.yaml")
        .replace("SEC-1", "SEC-2");
    r.write(".scopegate/approvals.yaml", &t);
    r.commit("rewrite");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let v = g.json();
    assert_eq!(v["verdict"], "fail");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "ledger-rewritten")
    );
    // Deleting it is a rewrite too.
    r.write(".scopegate/approvals.yaml", "approvals: []\n");
    r.commit("delete");
    assert_eq!(gate(&r).code, 1);
}

#[test]
fn a_new_app_is_all_additions() {
    let r = Repo::new();
    r.write("README", "x\n");
    r.commit("init");
    r.release("v0.1.0");
    r.write("smart-app.yaml", &example("patient-summary.yaml"));
    r.commit("add app");
    let g = gate(&r);
    assert_eq!(g.code, 1);
    let v = g.json();
    assert_eq!(v["apps"][0]["new_app"], true);
    assert_eq!(v["apps"][0]["baseline_path"], Value::Null);
    assert_eq!(v["summary"]["escalations"], 8);
    assert!(
        v["apps"][0]["text_diff"]
            .as_str()
            .unwrap()
            .starts_with("--- /dev/null")
    );
}

#[test]
fn a_shallow_clone_is_an_error_with_the_fix() {
    let r = released();
    add_update(&r);
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    let out = Std::new("git")
        .args(["clone", "-q", "--depth", "1", &url, "c"])
        .current_dir(clone.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let g = run_in(&clone.path().join("c"), &["gate"]);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(g.stderr.contains("shallow clone"), "{}", g.stderr);
    assert!(g.stderr.contains("fetch-depth: 0"), "{}", g.stderr);
    assert!(g.stdout.is_empty());
}

#[test]
fn a_missing_tag_or_unknown_ref_is_an_error_never_a_pass() {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("v1");
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2);
    assert!(
        g.stderr.contains("no tag in this clone matches `v*`"),
        "{}",
        g.stderr
    );
    assert!(g.stderr.contains("git fetch --tags"), "{}", g.stderr);
    let g = r.run(&["gate", "--base", "v9.9.9"]);
    assert_eq!(g.code, 2);
    assert!(g.stderr.contains("unknown ref `v9.9.9`"), "{}", g.stderr);
    // Outside a repository.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("smart-app.yaml"), example("med-rec.yaml")).unwrap();
    let g = run_in(d.path(), &["gate"]);
    assert_eq!(g.code, 2);
    assert!(
        g.stderr.contains("not inside a git repository"),
        "{}",
        g.stderr
    );
}

#[test]
fn the_previous_release_is_the_newest_semver_tag_below_head() {
    let r = released();
    r.commit("two");
    r.release("v1.10.0");
    r.commit("three");
    r.release("v1.9.0");
    r.release("v2.0.0-rc.1");
    add_update(&r);
    r.release("v2.0.0"); // on HEAD itself: skipped
    let v = gate(&r).json();
    assert_eq!(v["baseline"]["name"], "v2.0.0-rc.1");
    let v = r
        .run(&["gate", "--format", "json", "--base", "v1.0.0"])
        .json();
    assert_eq!(v["baseline"]["name"], "v1.0.0");
    assert_eq!(v["baseline"]["source"], "--base v1.0.0");
}

#[test]
fn config_comes_from_the_baseline_not_the_change() {
    let r = released();
    // The change tries to relax its own judge: silence lint errors and the rule.
    let t = r.read("smart-app.yaml").replace("  - scope: patient/AllergyIntolerance.rs\n", "  - scope: patient/Condition.rs\n    rationale: sneaky\n  - scope: patient/AllergyIntolerance.rs\n");
    r.write("smart-app.yaml", &t);
    r.write(
        ".scopegate/config.yaml",
        "approvers: [mallory]\nfail_on_lint: never\nseverity:\n  unjustified-scope: note\n",
    );
    r.commit("relax");
    let v = gate(&r).json();
    assert_eq!(v["advisory"], false);
    assert_eq!(v["verdict"], "fail");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "unjustified-scope")
        .unwrap();
    assert_eq!(f["severity"], "error");
    // Locally the working tree's config can be used, and the run says it is advisory.
    let g = r.run(&["gate", "--format", "json", "--config-from-worktree"]);
    let v = g.json();
    assert_eq!(v["advisory"], true);
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "unjustified-scope")
        .unwrap();
    assert_eq!(f["severity"], "note");
    let text = r.run(&["gate", "--config-from-worktree"]).stdout;
    assert!(text.contains("advisory"), "{text}");
}

/// The lint rules in a gate report, sorted.
fn lint_rules(v: &Value) -> Vec<String> {
    let mut rules: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    rules.sort();
    rules
}

/// The head is linted ahead with the working tree's config, before the release's is
/// read (ARCHITECTURE.md, "The gate's two cores"): a change that loosens the lint
/// options in its own config must still be linted with the release's.
#[test]
fn the_lint_takes_the_releases_options_not_the_options_the_change_writes() {
    let r = released();
    // `user/` for a workflow that needs `patient/`: uncovered, unless user covers patient.
    let t = r.read("smart-app.yaml").replace(
        "  - scope: patient/AllergyIntolerance.rs\n",
        "  - scope: user/AllergyIntolerance.rs\n",
    );
    r.write("smart-app.yaml", &t);
    r.write(
        ".scopegate/config.yaml",
        "approvers: [alice]\nuser_covers_patient: true\n",
    );
    r.commit("user scope, and the option that would cover it");
    let strict = lint_rules(&gate(&r).json());
    assert!(strict.iter().any(|x| x == "uncovered-need"), "{strict:?}");
    // Control: with the working tree's config (advisory), its options apply.
    let loose = r.run(&["gate", "--format", "json", "--config-from-worktree"]);
    let loose = lint_rules(&loose.json());
    assert!(!loose.iter().any(|x| x == "uncovered-need"), "{loose:?}");
    // And once a release carries the option, the gate lints with it.
    r.release("v2.0.0");
    r.write("smart-app.yaml", &format!("{t}# next\n"));
    r.commit("next");
    assert_eq!(lint_rules(&gate(&r).json()), loose);
}

#[test]
fn expired_approvals_do_not_count() {
    let r = released();
    add_update(&r);
    let a = r.approve_signed("alice", &["--ticket", "SEC-1", "--expires", "2026-12-31"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve");
    assert_eq!(gate(&r).code, 0);
    let g = r.run(&["gate", "--format", "json", "--now", "2027-01-01T00:00:00Z"]);
    assert_eq!(g.code, 1);
    let v = g.json();
    assert_eq!(v["changes"][0]["approval"]["state"], "expired");
    // The finding names the change it is about by key.
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "approval-expired" && f["key"] == v["changes"][0]["key"])
    );
}

#[test]
fn approve_refuses_keys_that_are_not_current_escalations() {
    let r = released();
    add_update(&r);
    let a = r.run(&[
        "approve",
        "--by",
        "alice",
        "--ticket",
        "T",
        "--key",
        "med-rec:patient/*.cruds",
    ]);
    assert_eq!(a.code, 2);
    assert!(
        a.stderr.contains("not a current escalation"),
        "{}",
        a.stderr
    );
    assert!(
        a.stderr.contains("med-rec:patient/MedicationStatement.u"),
        "{}",
        a.stderr
    );
    assert!(!r.path().join(".scopegate/approvals.yaml").exists());
    let a = r.run(&["approve", "--by", "alice"]);
    assert_eq!(a.code, 2, "an approval needs a ticket or reason");
    let a = r.run(&[
        "approve",
        "--by",
        "alice",
        "--ticket",
        "T",
        "--expires",
        "2020-01-01",
    ]);
    assert_eq!(a.code, 2);
    assert!(a.stderr.contains("in the past"));
}

/// `--key`s are checked one by one: a list mixing a current escalation with one that is
/// not is refused whole, naming only the one that is not, and writes nothing; the
/// current one alone is approved, and only it.
#[test]
fn approve_refuses_a_key_list_with_one_stranger_and_takes_the_current_keys() {
    let r = released();
    add_update(&r);
    let current = "med-rec:patient/MedicationStatement.u";
    let stranger = "med-rec:patient/MedicationStatement.d";
    let base = ["approve", "--by", "alice", "--ticket", "T"];
    let mixed = [&base[..], &["--key", current, "--key", stranger]].concat();
    let a = r.run(&mixed);
    assert_eq!(a.code, 2, "{}{}", a.stdout, a.stderr);
    let refused = a.stderr.lines().next().unwrap_or_default();
    assert!(refused.contains(&format!("`{stranger}`")), "{}", a.stderr);
    assert!(!refused.contains(&format!("`{current}`")), "{}", a.stderr);
    assert!(!r.path().join(".scopegate/approvals.yaml").exists());
    // Control: the current key alone is approved.
    let a = r.run(&[&base[..], &["--key", current]].concat());
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let ledger = r.read(".scopegate/approvals.yaml");
    assert!(ledger.contains(current), "{ledger}");
    assert!(!ledger.contains(stranger), "{ledger}");
}

#[test]
fn approve_appends_text_and_keeps_comments() {
    let r = released();
    add_update(&r);
    let existing = "# Reviewed in the release meeting.\napprovals:\n  # older entries\n  - keys: [\"med-rec:openid\"]\n    by: bob\n    at: 2026-01-01\n    reason: identity\n";
    r.write(".scopegate/approvals.yaml", existing);
    let a = r.approve_signed(
        "alice",
        &["--ticket", "SEC-9", "--reason", "refill: \"yes\""],
    );
    assert_eq!(a.code, 0, "{}", a.stderr);
    let after = r.read(".scopegate/approvals.yaml");
    assert!(after.starts_with(existing), "{after}");
    assert!(after.contains("med-rec:patient/MedicationStatement.u"));
    let leftovers: Vec<_> = std::fs::read_dir(r.path().join(".scopegate"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Signed, so verified: nothing is left to approve.
    let again = r.run(&["approve", "--by", "alice", "--ticket", "SEC-9"]);
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("nothing to approve"),
        "{}",
        again.stdout
    );
}

#[test]
fn a_base_file_needs_no_repository() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("old.yaml"), example("med-rec.yaml")).unwrap();
    let head = example("med-rec.yaml").replace(
        "patient/Observation.rs?category=laboratory",
        "patient/Observation.rs",
    );
    std::fs::write(d.path().join("smart-app.yaml"), head).unwrap();
    let g = run_in(
        d.path(),
        &["diff", "--base-file", "old.yaml", "--format", "json"],
    );
    assert_eq!(g.code, 0, "diff reports; it does not gate: {}", g.stderr);
    let v = g.json();
    assert_eq!(v["advisory"], true);
    let rules: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"restriction-loosened"), "{rules:?}");
    let g = run_in(d.path(), &["gate", "--base-file", "old.yaml"]);
    assert_eq!(g.code, 1);
}

#[test]
fn a_stale_approval_is_reported() {
    let r = released();
    r.write(".scopegate/approvals.yaml", "approvals:\n  - keys: [\"med-rec:patient/Obsevation.c\"]\n    by: bob\n    at: 2026-01-01\n    reason: typo\n");
    r.commit("typo approval");
    // Released, so it counts (an added entry by bob, no approver, would be pending).
    r.release("v1.0.1");
    r.write("README", "docs\n");
    r.commit("docs");
    let v = gate(&r).json();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "approval-stale"),
        "{v}"
    );
}

#[test]
fn an_unchanged_manifest_is_no_change() {
    let r = released();
    r.write("README", "docs only\n");
    r.commit("docs");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}", g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "no-change");
    assert_eq!(v["apps"][0]["text_diff"], "");
    assert_eq!(v["apps"][0]["new_app"], false);
}

#[test]
fn a_ledger_entry_with_a_second_reading_is_refused_never_counted() {
    // The ledger is read from parser events, with serde behind it for anything out of
    // the plain shape. Attack: make an approved entry say two things (a second `by` or
    // `signature`, an extra key, an anchor), hoping one reader takes the other meaning.
    // Each must stop the gate with the file and line, never pass.
    let r = released();
    add_update(&r);
    let a = r.approve_signed("alice", &["--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve");
    // Control: the entry as `approve` wrote it passes.
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let signed = r.read(".scopegate/approvals.yaml");
    assert!(signed.contains("    by: \"alice\"\n"), "{signed}");
    for (edit, said) in [
        (
            "    by: \"alice\"\n    by: \"mallory\"\n",
            "duplicate key `by`",
        ),
        (
            "    by: \"mallory\"\n    by: \"alice\"\n",
            "duplicate key `by`",
        ),
        (
            "    by: \"alice\"\n    approved: true\n",
            "unknown key `approved`",
        ),
        (
            "    by: &who \"alice\"\n",
            "anchors and aliases are not allowed",
        ),
    ] {
        r.write(
            ".scopegate/approvals.yaml",
            &signed.replacen("    by: \"alice\"\n", edit, 1),
        );
        let g = gate(&r);
        assert_eq!(g.code, 2, "{edit}: {}{}", g.stdout, g.stderr);
        assert!(
            g.stderr.contains(".scopegate/approvals.yaml:") && g.stderr.contains(said),
            "{edit}: {}",
            g.stderr
        );
    }
    let sig = signed.find("    signature:").expect("a signed entry");
    r.write(
        ".scopegate/approvals.yaml",
        &format!("{}    signature: \"x\"\n{}", &signed[..sig], &signed[sig..]),
    );
    let g = gate(&r);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("duplicate key `signature`"),
        "{}",
        g.stderr
    );
}

/// Two escalations approved in part (their create approved, their update not) are each
/// shown as the approved part and the unapproved part, in the order of the changes,
/// with the other changes kept where they were.
#[test]
fn escalations_approved_in_part_are_split_in_place() {
    let r = released();
    let widen = |from: &str, to: &str| {
        let t = r
            .read("smart-app.yaml")
            .replace(
                &format!("scope: patient/{from}"),
                &format!("scope: patient/{to}"),
            )
            .replace(&format!("- patient/{from}\n"), &format!("- patient/{to}\n"));
        r.write("smart-app.yaml", &t);
    };
    widen("MedicationRequest.rs", "MedicationRequest.crs");
    widen("AllergyIntolerance.rs", "AllergyIntolerance.crs");
    r.commit("create");
    let a = r.approve_signed("alice", &["--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve create");
    widen("MedicationRequest.crs", "MedicationRequest.crus");
    widen("AllergyIntolerance.crs", "AllergyIntolerance.crus");
    // An escalation no approval touches stays whole, between the split ones.
    widen("MedicationStatement.crs", "MedicationStatement.crus");
    r.commit("update");

    let v = gate(&r).json();
    let rows: Vec<(String, String)> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "escalation")
        .map(|c| {
            let key = c["key"].as_str().unwrap().to_string();
            (key, c["approval"]["state"].as_str().unwrap().to_string())
        })
        .collect();
    let expect = [
        ("med-rec:patient/MedicationRequest.c", "approved"),
        ("med-rec:patient/MedicationRequest.u", "unapproved"),
        ("med-rec:patient/MedicationStatement.u", "unapproved"),
        ("med-rec:patient/AllergyIntolerance.c", "approved"),
        ("med-rec:patient/AllergyIntolerance.u", "unapproved"),
    ];
    let got: Vec<(&str, &str)> = rows.iter().map(|(k, s)| (k.as_str(), s.as_str())).collect();
    assert_eq!(got, expect, "{v:#}");
    assert_eq!(v["verdict"], "fail");

    // Control: with the update approved as well, nothing is split and all pass.
    let a = r.approve_signed("alice", &["--ticket", "SEC-2"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve update");
    let v = gate(&r).json();
    assert_eq!(v["summary"]["unapproved"], 0, "{v:#}");
}

/// A baseline file is compared with whatever it is named: the app is at the head's
/// path, "compared with" the file, never "moved from" it (a move is between commits).
/// The file's path stays in the JSON, and a move between commits is still a move
/// (`monorepo`'s tests).
#[test]
fn a_baseline_file_at_another_path_is_no_move() {
    let d = repo::base_file_pair(
        "med-rec.yaml",
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.crus",
    );
    for format in ["text", "markdown"] {
        let run = run_in(
            d.path(),
            &[
                "diff",
                "--base-file",
                "old.yaml",
                "new.yaml",
                "--format",
                format,
            ],
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("write-access-added"), "{}", run.stdout);
        assert!(
            !run.stdout.contains("moved from"),
            "{format}: {}",
            run.stdout
        );
    }
    let run = run_in(
        d.path(),
        &[
            "diff",
            "--base-file",
            "old.yaml",
            "new.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.json()["apps"][0]["baseline_path"], "old.yaml");
}
