//! An app's identity cannot be borrowed, and a gated manifest never vanishes silently
//! (issue 12 §2, §3): the real binary on temporary git repositories, each attack next
//! to a control. Release v1.0.0 holds two apps under `apps/*/smart-app.yaml` and a
//! ledger with old entries for `legacy`, an app retired before it.

use std::path::Path;

use crate::support::repo;

use repo::{NOW, Repo, Run, example};
use serde_json::Value;

const CONFIG: &str = "manifests:\n  - apps/*/smart-app.yaml\napprovers: [alice]\n";
const A: &str = "apps/a/smart-app.yaml";
const B: &str = "apps/b/smart-app.yaml";

/// Entries a retired app `legacy` kept in the ledger: broad, and never expiring.
const LEDGER: &str = "approvals:\n  - keys: [\"legacy:patient/*.cruds\", \"legacy:user/*.cruds\", \"legacy:patient/Condition.rs\"]\n    by: alice\n    at: 2025-01-01\n    ticket: OLD-1\n";

fn released() -> Repo {
    let r = Repo::new();
    r.write(A, &example("med-rec.yaml"));
    r.write(B, &example("patient-summary.yaml"));
    r.write(".scopegate/config.yaml", CONFIG);
    r.write(".scopegate/approvals.yaml", LEDGER);
    // Alice's key is released with the config: the approvals she adds later verify.
    r.allow_signer("alice", "");
    r.commit("v1");
    r.release("v1.0.0");
    r
}

fn gate(r: &Repo) -> Run {
    r.run(&["gate", "--format", "json"])
}

/// The binary, with `run_in`'s deadline: a FIFO opened for reading would block forever.
fn run_within(r: &Repo, args: &[&str]) -> Run {
    r.run(args)
}

fn changes<'v>(v: &'v Value, rule: &str) -> Vec<&'v Value> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == rule)
        .collect()
}

fn set_id(r: &Repo, path: &str, from: &str, to: &str) {
    let t = r
        .read(path)
        .replace(&format!("\nid: {from}\n"), &format!("\nid: {to}\n"));
    assert!(t.contains(&format!("\nid: {to}\n")));
    r.write(path, &t);
}

/// Adds `patient/Condition.rs` to med-rec's scopes and its reconcile workflow.
fn add_condition(r: &Repo, path: &str) {
    let t = r
        .read(path)
        .replace(
            "  - scope: offline_access\n",
            "  - scope: patient/Condition.rs\n    rationale: Problem list for dose checks.\n  - scope: offline_access\n",
        )
        .replacen(
            "      - patient/AllergyIntolerance.rs\n",
            "      - patient/AllergyIntolerance.rs\n      - patient/Condition.rs\n",
            1,
        );
    r.write(path, &t);
}

/// Runs the `scopegate approve …` command a hint prints, in a shell, as a release
/// manager would paste it (with `<you>` and `<ticket>` filled in, and signed with
/// alice's key: `--sign <private key>` filled in, or `--sign` added).
fn run_hint(r: &Repo, text: &str) -> Run {
    let sign = format!("--sign '{}'", r.key("alice").display());
    let line = text
        .lines()
        .find_map(|l| l.find("scopegate approve").map(|i| &l[i..]))
        .unwrap_or_else(|| panic!("no approve command in: {text}"))
        .trim_end_matches('`')
        .replace("<you>", "alice")
        .replace("<ticket>", "RET-7");
    let line = if line.contains("--sign <private key>") {
        line.replace("--sign <private key>", &sign)
    } else {
        format!("{line} {sign}")
    };
    let bin = Path::new(env!("CARGO_BIN_EXE_scopegate"));
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{line} --now {NOW}"))
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin.parent().unwrap().display()),
        )
        .current_dir(r.path())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

// ---- identity -------------------------------------------------------------------

#[test]
fn renaming_an_app_in_place_to_a_retired_id_does_not_inherit_its_old_approvals() {
    let r = released();
    set_id(&r, A, "med-rec", "legacy");
    add_condition(&r, A);
    r.commit("become legacy");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let id = changes(&v, "app-id-changed");
    assert_eq!(id.len(), 1, "{v:#}");
    assert_eq!(id[0]["key"], "legacy:*id-changed-from:med-rec*");
    assert_eq!(id[0]["approval"]["state"], "unapproved");
    // The old `legacy:patient/Condition.rs` entry names an id with no manifest at the
    // baseline: it approves nothing, and says so.
    let cond = changes(&v, "resource-access-added");
    assert_eq!(cond[0]["key"], "legacy:patient/Condition.rs");
    assert_eq!(cond[0]["approval"]["state"], "unapproved", "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |f| (f["rule"] == "approval-stale" || f["rule"] == "approval-spent")
                    && f["message"]
                        .as_str()
                        .unwrap()
                        .contains("no manifest at the baseline")
            ),
        "{v:#}"
    );
    // The content is diffed against the path's baseline: the rest is no change.
    assert_eq!(v["summary"]["escalations"], 2, "{v:#}");
    let app = &v["apps"].as_array().unwrap()[0];
    assert_eq!(app["id_changed_from"], "med-rec");

    // Control: approvals the change adds (a reviewed rename) do count.
    let a = r.approve_signed("alice", &["--ticket", "REN-1"]);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    assert!(
        a.stdout.contains("legacy:*id-changed-from:med-rec*"),
        "{}",
        a.stdout
    );
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(g.json()["verdict"], "pass");
}

#[test]
fn a_retired_app_added_back_at_a_new_path_needs_fresh_approvals() {
    let r = released();
    // A new manifest claims the retired id, at a new path: a new app.
    let t = example("med-rec.yaml").replace("\nid: med-rec\n", "\nid: legacy\n");
    r.write("apps/legacy/smart-app.yaml", &t);
    r.commit("legacy is back");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let esc: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "escalation")
        .collect();
    assert!(!esc.is_empty());
    // `legacy:patient/*.cruds` at the baseline would have covered every resource scope.
    assert!(
        esc.iter().all(|c| c["approval"]["state"] == "unapproved"),
        "{v:#}"
    );
    // Control: a new app's own approvals, added by the change, count.
    let a = r.approve_signed("alice", &["--ticket", "NEW-1"]);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
}

#[test]
fn two_apps_swapping_ids_and_contents_are_two_id_changes_not_two_moves() {
    let r = released();
    let (a, b) = (r.read(A), r.read(B));
    r.write(A, &b);
    r.write(B, &a);
    r.commit("swap");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "fail");
    let mut keys: Vec<&str> = changes(&v, "app-id-changed")
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "med-rec:*id-changed-from:patient-summary*",
            "patient-summary:*id-changed-from:med-rec*"
        ]
    );
    // Each path's content is diffed against that path's baseline, so the access each
    // path's app gains is there too.
    assert!(v["summary"]["escalations"].as_u64().unwrap() > 2, "{v:#}");
    // The markdown comment shows the identity change.
    let md = r.run(&["gate", "--format", "markdown"]);
    assert!(md.stdout.contains("id changed from"), "{}", md.stdout);
}

#[test]
fn a_moved_app_with_the_same_id_and_content_is_still_no_change() {
    let r = released();
    std::fs::create_dir_all(r.path().join("apps/c")).unwrap();
    r.git(&["mv", A, "apps/c/smart-app.yaml"]);
    r.commit("move");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "no-change", "{v:#}");
}

#[test]
fn renaming_to_the_id_of_an_existing_app_is_exit_2_naming_both_files() {
    let r = released();
    set_id(&r, A, "med-rec", "patient-summary");
    r.commit("dup");
    let g = gate(&r);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(g.stderr.contains(A) && g.stderr.contains(B), "{}", g.stderr);
}

#[test]
fn taking_the_id_of_an_app_removed_in_the_same_change_is_an_id_change_and_a_removal() {
    let r = released();
    r.git(&["rm", "-q", B]);
    set_id(&r, A, "med-rec", "patient-summary");
    r.commit("take over");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let id = changes(&v, "app-id-changed");
    assert_eq!(id[0]["key"], "patient-summary:*id-changed-from:med-rec*");
    let gone = changes(&v, "app-gating-stopped");
    assert_eq!(gone[0]["key"], "patient-summary:*removed*");
    assert!(
        [id[0], gone[0]]
            .iter()
            .all(|c| c["approval"]["state"] == "unapproved")
    );
}

#[test]
fn a_path_and_id_changed_together_is_a_new_app_and_a_removal() {
    let r = released();
    std::fs::create_dir_all(r.path().join("apps/c")).unwrap();
    r.git(&["mv", A, "apps/c/smart-app.yaml"]);
    set_id(&r, "apps/c/smart-app.yaml", "med-rec", "med-rec-2");
    r.commit("move and rename");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let apps = v["apps"].as_array().unwrap();
    assert!(
        apps.iter()
            .any(|a| a["app"] == "med-rec-2" && a["new_app"] == true)
    );
    assert!(
        apps.iter()
            .any(|a| a["app"] == "med-rec" && a["removed_app"] == true)
    );
    assert_eq!(
        changes(&v, "app-gating-stopped")[0]["key"],
        "med-rec:*removed*"
    );
}

// ---- vanished manifests --------------------------------------------------------------

/// Exit 2, naming the path and the reason; the hint's command approves the removal,
/// after which the gate passes and still says gating stopped.
fn exit_2_until_the_removal_is_approved(r: &Repo, reason: &str) {
    let g = run_within(r, &["gate"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains(A) && g.stderr.contains(reason),
        "{}",
        g.stderr
    );
    assert!(g.stderr.contains("med-rec:*removed*"), "{}", g.stderr);
    let a = run_hint(r, &g.stderr);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    assert!(a.stdout.contains("med-rec:*removed*"), "{}", a.stdout);
    let g = run_within(r, &["gate", "--format", "json"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let gone = changes(&v, "app-gating-stopped");
    assert_eq!(gone[0]["approval"]["state"], "approved");
    let app = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["removed_app"] == true)
        .unwrap();
    assert!(
        app["gating_stopped"].as_str().unwrap().contains(reason),
        "{v:#}"
    );
}

#[test]
fn a_manifest_renamed_to_yml_is_exit_2_until_its_removal_is_approved() {
    let r = released();
    r.git(&["mv", A, "apps/a/smart-app.yml"]);
    r.commit("yml");
    exit_2_until_the_removal_is_approved(&r, "apps/a/smart-app.yml");
}

#[test]
fn a_manifest_moved_outside_the_globs_is_exit_2_until_its_removal_is_approved() {
    let r = released();
    std::fs::create_dir_all(r.path().join("legacy/a")).unwrap();
    r.git(&["mv", A, "legacy/a/smart-app.yaml"]);
    r.commit("out of the globs");
    exit_2_until_the_removal_is_approved(&r, "legacy/a/smart-app.yaml");
}

#[test]
fn a_manifest_replaced_by_a_directory_is_exit_2_until_its_removal_is_approved() {
    let r = released();
    r.git(&["rm", "-q", A]);
    r.write(&format!("{A}/smart-app.yaml"), &example("med-rec.yaml"));
    r.commit("a directory");
    exit_2_until_the_removal_is_approved(&r, "is a directory");
}

#[test]
fn a_manifest_replaced_by_a_dangling_symlink_is_exit_2_until_its_removal_is_approved() {
    let r = released();
    std::fs::remove_file(r.path().join(A)).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", r.path().join(A)).unwrap();
    r.commit("dangling");
    exit_2_until_the_removal_is_approved(&r, "does not exist");
}

#[test]
fn a_symlink_out_of_the_repository_is_exit_2_even_to_the_same_manifest() {
    let r = released();
    // The same bytes, kept where the change's diff never shows them.
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("smart-app.yaml");
    std::fs::write(&target, r.read(A)).unwrap();
    std::fs::remove_file(r.path().join(A)).unwrap();
    std::os::unix::fs::symlink(&target, r.path().join(A)).unwrap();
    r.commit("outside");
    exit_2_until_the_removal_is_approved(&r, "outside the repository");
}

#[test]
fn a_symlink_to_a_tracked_manifest_inside_the_repository_is_followed() {
    let r = released();
    std::fs::create_dir_all(r.path().join("manifests")).unwrap();
    r.git(&["mv", A, "manifests/med-rec.yaml"]);
    std::os::unix::fs::symlink("../../manifests/med-rec.yaml", r.path().join(A)).unwrap();
    r.commit("symlink inside");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(g.json()["verdict"], "no-change");
    // Released, the link is followed at the baseline too.
    r.release("v1.1.0");
    r.commit("after v1.1.0");
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(g.json()["baseline"]["name"], "v1.1.0");
    assert_eq!(g.json()["verdict"], "no-change");
    // Attack: the same link to a file git does not track.
    // (Not committed: `Repo::commit` adds every file.)
    r.git(&["rm", "-q", "--cached", "manifests/med-rec.yaml"]);
    let g = run_within(&r, &["gate"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("git does not track"), "{}", g.stderr);
}

#[test]
fn a_new_glob_match_that_is_a_symlink_out_of_the_repository_is_exit_2() {
    let r = released();
    std::fs::create_dir_all(r.path().join("apps/new")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", r.path().join("apps/new/smart-app.yaml")).unwrap();
    r.commit("new link");
    let g = run_within(&r, &["gate"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("apps/new/smart-app.yaml") && g.stderr.contains("outside the repository"),
        "{}",
        g.stderr
    );
}

#[test]
fn a_manifest_replaced_by_a_fifo_is_exit_2_and_never_blocks() {
    let r = released();
    r.commit("after the release");
    // Not committable: the working tree the gate runs on holds the FIFO.
    std::fs::remove_file(r.path().join(A)).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(r.path().join(A))
        .status()
        .unwrap();
    assert!(st.success());
    exit_2_until_the_removal_is_approved(&r, "is a FIFO");
    // Named on the command line, too.
    let g = run_within(&r, &["gate", A]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("is a FIFO"), "{}", g.stderr);
}

/// A directory on the way that is a symlink: the manifest's own path is a regular
/// file, but it is read from outside the repository (a FIFO or `/proc` there would
/// block the read).
#[test]
fn a_manifest_reached_through_a_directory_symlinked_out_of_the_repository_is_exit_2() {
    let r = released();
    r.commit("after the release");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("smart-app.yaml"), r.read(A)).unwrap();
    let dir = r.path().join("apps/a");
    std::fs::remove_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(outside.path(), &dir).unwrap();
    exit_2_until_the_removal_is_approved(&r, "outside the repository");
    // Named on the command line, too.
    let g = run_within(&r, &["gate", A]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("outside the repository"), "{}", g.stderr);
}

#[test]
fn an_explicit_symlink_out_of_the_repository_is_exit_2_and_a_regular_file_is_read() {
    let r = released();
    r.commit("after the release");
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("smart-app.yaml");
    std::fs::write(&target, r.read(A)).unwrap();
    std::os::unix::fs::symlink(&target, r.path().join("link.yaml")).unwrap();
    let g = run_within(&r, &["gate", "link.yaml"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("outside the repository"), "{}", g.stderr);
    // Control: the regular file, named the same way.
    let g = run_within(&r, &["gate", A]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
}

#[test]
fn a_deleted_manifest_fails_as_an_unapproved_removal_and_passes_approved() {
    let r = released();
    r.git(&["rm", "-q", A]);
    r.commit("retire med-rec");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(
        changes(&v, "app-gating-stopped")[0]["key"],
        "med-rec:*removed*"
    );
    // The text report's approve line works as printed.
    let t = r.run(&["gate"]);
    assert_eq!(t.code, 1);
    assert!(t.stdout.contains("gating stopped"), "{}", t.stdout);
    let a = run_hint(&r, &t.stdout);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(g.json()["verdict"], "pass");
}

#[test]
fn an_approval_of_one_apps_removal_does_not_cover_another() {
    let r = released();
    r.write(
        ".scopegate/approvals.yaml",
        &format!(
            "{LEDGER}  - keys: [\"patient-summary:*removed*\"]\n    by: alice\n    at: 2026-11-01\n    ticket: RET-1\n"
        ),
    );
    r.git(&["rm", "-q", A]);
    r.commit("retire med-rec under another app's approval");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(
        changes(&v, "app-gating-stopped")[0]["approval"]["state"],
        "unapproved"
    );
}
