//! The baseline and the ledger come from trusted data only (issue 12 §1, §7): the
//! trusted commit (the PR base on GitHub, `--trusted REF` elsewhere, HEAD by default)
//! names the release tag pattern, the previous release is in its history, and its
//! ledger entries are merged: kept unchanged, and reviewed. Each attack sits next to a
//! control, through the real binary on temporary repositories, and through
//! `scopegate ci` against the fake GitHub for pull requests.

use crate::support::{ci_run, fake_github, git, repo};

use std::path::Path;

use assert_cmd::Command;
use fake_github::FakeGitHub;
use git::git_in;
use repo::{NOW, Repo, Run, example, with_condition, with_update};
use serde_json::{Value, json};

/// An old release `old_tag` that granted `u` (with `old_config`), then the current
/// release `new_tag` that dropped it (with `new_config`), then one more commit, on
/// `main`. Returns the repository and main's tip. `None` config: no config file.
fn history(
    old_tag: &str,
    old_config: Option<&str>,
    new_tag: &str,
    new_config: Option<&str>,
) -> (Repo, String) {
    let r = Repo::new();
    let config = |c: Option<&str>| match c {
        Some(text) => r.write(".scopegate/config.yaml", text),
        None => {
            let _ = std::fs::remove_file(r.path().join(".scopegate/config.yaml"));
        }
    };
    r.write("smart-app.yaml", &with_update(&example("med-rec.yaml")));
    config(old_config);
    r.commit("old release: update granted");
    r.release(old_tag);
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    config(new_config);
    r.commit("current release: update dropped");
    r.release(new_tag);
    // Work goes on after the release; main's tip is the trusted commit.
    r.write("NOTES", "after the release\n");
    let tip = r.commit("after the release");
    (r, tip)
}

const LEGACY: &str = "approvers: [alice]\nrelease_tags: \"legacy-*\"\n";
const PLAIN: &str = "approvers: [alice]\n";
const RELEASE: &str = "approvers: [alice]\nrelease_tags: \"release-*\"\n";

fn gate(r: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["gate", "--format", "json"];
    args.extend_from_slice(extra);
    r.run(&args)
}

/// The gate re-found `u` against the current release: the attack did not work.
fn assert_judged_against(run: &Run, tag: &str) {
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v = run.json();
    assert_eq!(v["baseline"]["name"], tag, "{}", run.stdout);
    assert_eq!(v["verdict"], "fail");
    assert_eq!(
        v["changes"][0]["key"],
        "med-rec:patient/MedicationStatement.u"
    );
}

// ---- the tag pattern comes from the trusted commit -------------------------------

#[test]
fn a_change_that_points_release_tags_at_an_old_release_is_still_judged_by_the_current_one() {
    let (r, _) = history("legacy-1.0.0", Some(LEGACY), "v2.0.0", Some(PLAIN));
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    // Control: re-adding `u` alone is judged against v2.0.0.
    assert_judged_against(&gate(&r, &[]), "v2.0.0");
    // Attack, in the working tree: the old pattern makes legacy-1.0.0 (which granted
    // `u`) the baseline, and the change "NO CHANGE".
    r.write(".scopegate/config.yaml", LEGACY);
    assert_judged_against(&gate(&r, &[]), "v2.0.0");
    // Attack, committed on a branch judged against main, as non-GitHub CI runs it.
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.commit("re-add update, old pattern");
    assert_judged_against(&gate(&r, &["--trusted", "main"]), "v2.0.0");
    let v = gate(&r, &["--trusted", "main"]).json();
    assert_eq!(v["baseline"]["source"], "previous release (v*) from main");
}

#[test]
fn a_change_that_deletes_the_config_does_not_fall_back_to_the_default_pattern() {
    // The default `v*` would find v1.0.0, which granted `u`.
    let (r, _) = history("v1.0.0", Some(PLAIN), "release-2.0.0", Some(RELEASE));
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    assert_judged_against(&gate(&r, &[]), "release-2.0.0");
    std::fs::remove_file(r.path().join(".scopegate/config.yaml")).unwrap();
    assert_judged_against(&gate(&r, &[]), "release-2.0.0");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.commit("re-add update, no config");
    assert_judged_against(&gate(&r, &["--trusted", "main"]), "release-2.0.0");
}

#[test]
fn a_change_that_adds_a_config_with_its_own_pattern_does_not_move_the_baseline() {
    let (r, _) = history("legacy-1.0.0", None, "v2.0.0", None);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    r.write(".scopegate/config.yaml", LEGACY);
    assert_judged_against(&gate(&r, &[]), "v2.0.0");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.commit("re-add update, new config");
    assert_judged_against(&gate(&r, &["--trusted", "main"]), "v2.0.0");
}

#[test]
fn the_trusted_commits_own_pattern_is_followed_in_a_normal_release_workflow() {
    // Control: a pattern change that merged is in force for the next release.
    let (r, _) = history("v1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    r.write(".scopegate/config.yaml", RELEASE);
    r.commit("switch to release-* tags");
    r.release("release-3.0.0");
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let tagged = r.commit("re-add update");
    assert_judged_against(&gate(&r, &[]), "release-3.0.0");
    // The release job runs on the new tag itself: HEAD is never its own baseline.
    r.release("release-4.0.0");
    assert_judged_against(&gate(&r, &[]), "release-3.0.0");
    assert_judged_against(&gate(&r, &["--trusted", &tagged]), "release-3.0.0");
    // An explicit --base is unaffected by the trusted commit.
    let v = gate(&r, &["--trusted", "main", "--base", "v1.0.0"]).json();
    assert_eq!(v["baseline"]["name"], "v1.0.0");
}

#[test]
fn a_tag_outside_the_trusted_history_is_not_a_release() {
    let (r, tip) = history("legacy-1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    // A newer version on a side branch that never merged, holding the broad manifest.
    r.git(&["checkout", "-q", "-b", "side", "legacy-1.0.0"]);
    r.write("SIDE", "side\n");
    r.commit("side");
    r.release("v3.0.0");
    r.git(&["checkout", "-q", "-b", "feature", &tip]);
    // The change merges the side branch in and re-adds `u`.
    r.git(&["merge", "-q", "--no-edit", "side"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    r.commit("re-add update");
    // Control: judged from the feature branch itself (the local default), v3.0.0 is in
    // HEAD's history and is the baseline. Judged from main, it is not.
    let v = gate(&r, &[]).json();
    assert_eq!(v["baseline"]["name"], "v3.0.0");
    assert_judged_against(&gate(&r, &["--trusted", "main"]), "v2.0.0");
    // A tag on the change's own branch: not in main's history either.
    r.release("v9.0.0");
    r.commit("one more");
    assert_judged_against(&gate(&r, &["--trusted", "main"]), "v2.0.0");
}

#[test]
fn a_tag_of_a_tree_is_skipped_and_an_unknown_trusted_ref_is_exit_2() {
    let (r, _) = history("legacy-1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    let tree = r.git(&["rev-parse", "HEAD^{tree}"]).trim().to_string();
    r.git(&["tag", "v9.0.0", &tree]);
    r.git(&["tag", "-a", "-m", "annotated tree", "v9.1.0", &tree]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    assert_judged_against(&gate(&r, &[]), "v2.0.0");
    let g = r.run(&["gate", "--trusted", "origin/main"]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(
        g.stderr.contains("unknown ref `origin/main`"),
        "{}",
        g.stderr
    );
    // No tag in the trusted history: the error names the trusted commit.
    let g = r.run(&["gate", "--trusted", "legacy-1.0.0~0"]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(
        g.stderr.contains("trusted commit `legacy-1.0.0~0`") && g.stderr.contains("--trusted"),
        "{}",
        g.stderr
    );
}

/// `--trusted origin/main` is the remote-tracking branch the docs mean, never a tag
/// that answers to the same short name: git (and libgit2) try `refs/tags/origin/main`
/// before `refs/remotes/origin/main`, so a tag pushed under that name, on the old
/// release that granted `u`, made the old release the judge and `u` no change (exit 0).
/// A short name more than one ref answers to is exit 2, naming them; the full name and
/// an unshadowed short name are controls.
#[test]
fn a_tag_named_like_the_trusted_branch_is_refused_not_followed() {
    let (r, tip) = history("v1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    r.git(&["update-ref", "refs/remotes/origin/main", &tip]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    assert_judged_against(&gate(&r, &["--trusted", "origin/main"]), "v2.0.0");

    r.git(&["tag", "origin/main", "v1.0.0"]);
    let g = gate(&r, &["--trusted", "origin/main"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("refs/tags/origin/main")
            && g.stderr.contains("refs/remotes/origin/main")
            && g.stderr.contains("name it in full"),
        "{}",
        g.stderr
    );
    assert_judged_against(
        &gate(&r, &["--trusted", "refs/remotes/origin/main"]),
        "v2.0.0",
    );
    // `--base` names are read the same way.
    let g = gate(
        &r,
        &[
            "--trusted",
            "refs/remotes/origin/main",
            "--base",
            "origin/main",
        ],
    );
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
}

/// A full commit id is that commit: one this clone lacks (a shallow CI clone and a PR
/// base) was looked up as a ref of the same name, so a tag named after the base commit
/// judged the change. Now it is an unknown ref (exit 2; on GitHub the API reads it by id).
#[test]
fn a_full_commit_id_is_that_commit_never_a_tag_named_like_it() {
    let (r, tip) = history("v1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let absent = "0123456789abcdef0123456789abcdef01234567";
    r.git(&["tag", absent, "v1.0.0"]);
    let g = gate(&r, &["--trusted", absent]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(g.stderr.contains("unknown ref"), "{}", g.stderr);
    // Control: the tip by its id.
    assert_judged_against(&gate(&r, &["--trusted", &tip]), "v2.0.0");
}

// ---- the ledger is append-only against the trusted commit ------------------------

/// v1.0.0 with no ledger; then a merged change that added `u` with alice's approval
/// (entry 1 of the ledger), on main. No release since. The feature branch starts there.
fn merged_since_release() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(".scopegate/config.yaml", PLAIN);
    // Alice's key is released with the config: the approvals she adds later verify.
    r.allow_signer("alice", "");
    r.commit("v1");
    r.release("v1.0.0");
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    r.commit("update");
    let a = r.run(&["approve", "--by", "alice", "--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("merged: update, approved");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r
}

fn rewritten(v: &Value) -> bool {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "ledger-rewritten")
}

#[test]
fn an_entry_merged_after_the_release_cannot_be_edited_by_a_later_change() {
    let r = merged_since_release();
    // Control: untouched, the merged entry approves `u` and was not added by this change.
    r.write("NOTES", "x\n");
    r.commit("unrelated");
    let g = gate(&r, &["--trusted", "main"]);
    assert_eq!(g.code, 0, "{}", g.stdout);
    let v = g.json();
    assert_eq!(v["changes"][0]["approval"]["state"], "approved");
    assert_eq!(v["changes"][0]["approval"]["added_in_change"], false);
    // Locally, with no trusted ref, HEAD's own commits do not make entries merged.
    let v = gate(&r, &[]).json();
    assert_eq!(v["changes"][0]["approval"]["added_in_change"], true);

    let ledger = r.read(".scopegate/approvals.yaml");
    let attacks = [
        ("edited", ledger.replace("SEC-1", "SEC-9")),
        ("deleted", "approvals: []\n".to_string()),
        (
            "reordered",
            ledger.replace(
                "approvals:\n",
                "approvals:\n  - keys: [\"med-rec:patient/Condition.rs\"]\n    by: alice\n    at: \"2026-11-28T12:00:00Z\"\n    ticket: SEC-2\n",
            ),
        ),
    ];
    for (what, text) in attacks {
        assert_ne!(text, ledger, "{what}");
        r.write(".scopegate/approvals.yaml", &text);
        r.commit(what);
        let g = gate(&r, &["--trusted", "main"]);
        assert_eq!(g.code, 1, "{what}: {}", g.stdout);
        let v = g.json();
        assert!(rewritten(&v), "{what}: {}", g.stdout);
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == "ledger-rewritten")
            .unwrap();
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .contains("at the trusted commit"),
            "{f}"
        );
        r.git(&["reset", "-q", "--hard", "HEAD~1"]);
    }
    // Appending (a verified entry) is fine.
    r.write("smart-app.yaml", &with_condition(&r.read("smart-app.yaml")));
    let a = r.approve_signed("alice", &["--ticket", "SEC-2"]);
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    r.commit("add conditions, approved");
    let g = gate(&r, &["--trusted", "main"]);
    assert_eq!(g.code, 0, "{}", g.stdout);
}

// ---- scopegate ci on pull requests -----------------------------------------------

const TOKEN: &str = "ghs_TEST_TOKEN";

struct Ci {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: Vec<(String, String)>,
    report: Value,
}

impl Ci {
    fn output(&self, k: &str) -> &str {
        self.outputs
            .iter()
            .find(|(a, _)| a == k)
            .map_or("", |(_, v)| v.as_str())
    }
    fn show(&self) -> String {
        format!("{}{}{:?}", self.stdout, self.stderr, self.outputs)
    }
}

fn ci(dir: &Path, gh: &FakeGitHub, event_name: &str, payload: &Value) -> Ci {
    let run = ci_run::CiJob::new(dir, &gh.url, NOW)
        .args(["--comment", "never", "--no-summary"])
        .event(event_name, payload.clone())
        .token(Some(TOKEN))
        .without("GITHUB_STEP_SUMMARY")
        .run();
    let outputs = run.output_pairs();
    let report = run
        .report
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    Ci {
        code: run.code,
        stdout: run.stdout,
        stderr: run.stderr,
        outputs,
        report,
    }
}

fn pr_event(name: &str, base: &str, head: &str) -> (&'static str, Value) {
    let pr = json!({
        "number": 7,
        "user": {"login": "dev"},
        "head": {"sha": head, "repo": {"full_name": "acme/app"}},
        "base": {"sha": base, "repo": {"full_name": "acme/app"}},
    });
    match name {
        "pull_request" => (
            "pull_request",
            json!({"action": "synchronize", "pull_request": pr}),
        ),
        "pull_request_target" => (
            "pull_request_target",
            json!({"action": "synchronize", "pull_request": pr}),
        ),
        "pull_request_review" => (
            "pull_request_review",
            json!({"action": "submitted", "pull_request": pr, "review": {"state": "approved"}}),
        ),
        other => panic!("{other}"),
    }
}

/// A pull request from branch `pr` into main, checked out as actions/checkout does: the
/// merge commit, first parent the base, second the PR head. Returns the merge commit.
fn merge_checkout(r: &Repo, base: &str) -> String {
    r.git(&["checkout", "-q", "--detach", base]);
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "--no-edit",
        "-m",
        "Merge pr into main",
        "pr",
    ]);
    r.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// legacy-1.0.0 granted `u`, v2.0.0 dropped it, main is at v2.0.0 (the PR base). The
/// PR re-adds `u` in its first commit, then makes an unrelated second one; `change`
/// edits the PR's first commit further (the attack). Returns the repository, the PR
/// base, the PR's first commit and its head, and leaves the merge commit checked out.
fn pr_history(change: impl Fn(&Repo)) -> (Repo, String, String, String) {
    let (r, base) = history("legacy-1.0.0", Some(LEGACY), "v2.0.0", Some(PLAIN));
    r.git(&["checkout", "-q", "-b", "pr"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    change(&r);
    let first = r.commit("re-add update");
    r.write("NOTES", "pr\n");
    let head = r.commit("notes");
    merge_checkout(&r, &base);
    (r, base, first, head)
}

fn assert_ci_judged_against(run: &Ci, tag: &str) {
    assert_eq!(run.code, 1, "{}", run.show());
    assert_eq!(run.output("baseline"), tag, "{}", run.show());
    assert_eq!(run.output("result"), "fail");
    assert_eq!(run.output("unapproved"), "1");
}

#[test]
fn a_pull_request_is_judged_against_the_release_in_its_bases_history() {
    // Control, for each pull request event: the previous release is v2.0.0.
    let (r, base, _, head) = pr_history(|_| {});
    let gh = FakeGitHub::start();
    for name in ["pull_request", "pull_request_target", "pull_request_review"] {
        let (event, payload) = pr_event(name, &base, &head);
        let run = ci(r.path(), &gh, event, &payload);
        assert_ci_judged_against(&run, "v2.0.0");
        assert_eq!(
            run.report["baseline"]["source"],
            format!("previous release (v*) from {}", &base[..12])
        );
    }
    // A release tagged on the PR base itself is the baseline (equal counts).
    r.git(&["tag", "v2.1.0", &base]);
    let (event, payload) = pr_event("pull_request", &base, &head);
    assert_ci_judged_against(&ci(r.path(), &gh, event, &payload), "v2.1.0");
}

#[test]
fn a_tag_pushed_onto_the_pull_request_is_never_its_baseline() {
    let (r, base, first, head) = pr_history(|_| {});
    let merge = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    let gh = FakeGitHub::start();
    let (event, payload) = pr_event("pull_request", &base, &head);
    // Each tag would make a commit that already has `u` the baseline: NO CHANGE.
    let attacks: [(&str, &[&str]); 5] = [
        ("lightweight on the PR head", &["tag", "v9.0.0", &head]),
        (
            "annotated on the PR head",
            &["tag", "-a", "-m", "x", "v9.0.0", &head],
        ),
        ("on an earlier PR commit", &["tag", "v9.0.0", &first]),
        (
            "annotated on an earlier PR commit",
            &["tag", "-a", "-m", "x", "v9.0.0", &first],
        ),
        ("on the merge commit", &["tag", "v9.0.0", &merge]),
    ];
    for (what, tag) in attacks {
        r.git(tag);
        let run = ci(r.path(), &gh, event, &payload);
        assert_eq!(run.output("baseline"), "v2.0.0", "{what}: {}", run.show());
        assert_ci_judged_against(&run, "v2.0.0");
        r.git(&["tag", "-d", "v9.0.0"]);
    }
}

#[test]
fn a_newer_tag_on_a_side_branch_merged_by_the_pull_request_is_not_a_release() {
    let (r, base) = history("legacy-1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    r.git(&["checkout", "-q", "-b", "side", "legacy-1.0.0"]);
    r.write("SIDE", "side\n");
    r.commit("side");
    r.release("v3.0.0");
    r.git(&["checkout", "-q", "-b", "pr", &base]);
    r.git(&["merge", "-q", "--no-edit", "side"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let head = r.commit("re-add update");
    merge_checkout(&r, &base);
    let gh = FakeGitHub::start();
    let (event, payload) = pr_event("pull_request", &base, &head);
    assert_ci_judged_against(&ci(r.path(), &gh, event, &payload), "v2.0.0");
}

#[test]
fn a_pull_request_cannot_move_its_baseline_through_the_config() {
    // The PR points release_tags at the old release that granted `u`.
    let (r, base, _, head) = pr_history(|r| r.write(".scopegate/config.yaml", LEGACY));
    let gh = FakeGitHub::start();
    let (event, payload) = pr_event("pull_request", &base, &head);
    assert_ci_judged_against(&ci(r.path(), &gh, event, &payload), "v2.0.0");

    // The base names release-* and an old v1.0.0 granted `u`; the PR deletes the config.
    let (r, base) = history("v1.0.0", Some(PLAIN), "release-2.0.0", Some(RELEASE));
    r.git(&["checkout", "-q", "-b", "pr"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    std::fs::remove_file(r.path().join(".scopegate/config.yaml")).unwrap();
    let head = r.commit("re-add update, delete config");
    merge_checkout(&r, &base);
    let (event, payload) = pr_event("pull_request", &base, &head);
    assert_ci_judged_against(&ci(r.path(), &gh, event, &payload), "release-2.0.0");
}

#[test]
fn a_merge_group_searches_from_its_base() {
    let (r, base, _, head) = pr_history(|r| r.write(".scopegate/config.yaml", LEGACY));
    r.git(&["tag", "v9.0.0", &head]);
    let gh = FakeGitHub::start();
    // The merge queue's commit is what is checked out (head binding).
    let built = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    let payload = json!({"merge_group": {"base_sha": base, "head_sha": built}});
    let run = ci(r.path(), &gh, "merge_group", &payload);
    // auto: the merge group's base is the baseline.
    assert_eq!(run.code, 1, "{}", run.show());
    assert_eq!(run.output("baseline"), base);
    // Asked for the previous release, it is the one in the base's history.
    let out = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .current_dir(r.path())
        .args([
            "ci",
            "--now",
            NOW,
            "--baseline",
            "previous-release",
            "--comment",
            "never",
            "--no-summary",
        ])
        .env("GITHUB_EVENT_NAME", "merge_group")
        .env("GITHUB_EVENT_PATH", {
            let p = r.path().join("mg.json");
            std::fs::write(&p, payload.to_string()).unwrap();
            p
        })
        .env("GITHUB_OUTPUT", r.path().join("out"))
        .env("RUNNER_TEMP", r.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        r.read("out").contains("baseline=v2.0.0"),
        "{}",
        r.read("out")
    );
}

#[test]
fn a_shallow_clone_compares_release_tags_with_the_pr_base_not_the_head() {
    let (r, base, first, head) = pr_history(|_| {});
    let v2 = r.git(&["rev-parse", "v2.0.0^{commit}"]).trim().to_string();
    assert_ne!(v2, base);
    let legacy = r
        .git(&["rev-parse", "legacy-1.0.0^{commit}"])
        .trim()
        .to_string();
    r.git(&["branch", "merge"]);
    // Depth 1: the PR base is not in the clone, its config comes through the API.
    // Depth 2: it is (the merge commit's first parent), but the history is cut short.
    for depth in ["1", "2"] {
        let clone = tempfile::tempdir().unwrap();
        let url = format!("file://{}", r.path().display());
        git_in(
            clone.path(),
            &[
                "clone",
                "-q",
                "--depth",
                depth,
                "--no-tags",
                "-b",
                "merge",
                &url,
                "c",
            ],
        );
        let c = clone.path().join("c");
        let gh = FakeGitHub::start();
        gh.with(|s| {
            // An attacker's tag on an earlier PR commit: the head is ahead of it, the
            // base is not.
            s.tags.push(("v9.0.0".into(), first.clone()));
            s.tags.push(("v2.0.0".into(), v2.clone()));
            s.tags.push(("legacy-1.0.0".into(), legacy.clone()));
            s.compare
                .insert((first.clone(), head.clone()), "ahead".into());
            s.compare
                .insert((first.clone(), base.clone()), "behind".into());
            s.compare.insert((v2.clone(), base.clone()), "ahead".into());
            for at in [&base, &v2] {
                for f in ["smart-app.yaml", ".scopegate/config.yaml"] {
                    let bytes = git_in(r.path(), &["show", &format!("{at}:{f}")]).into_bytes();
                    s.contents.insert((f.to_string(), at.to_string()), bytes);
                }
            }
        });
        let (event, payload) = pr_event("pull_request", &base, &head);
        let run = ci(&c, &gh, event, &payload);
        assert_ci_judged_against(&run, "v2.0.0");
        assert!(
            run.report["baseline"]["source"]
                .as_str()
                .unwrap()
                .contains("via the contents API"),
            "depth {depth}: {}",
            run.report
        );
        let got: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
        // The pattern was read at the PR base, and tags were compared with it only.
        let config_at_base = format!("/repos/acme/app/contents/.scopegate/config.yaml?ref={base}");
        assert_eq!(got.contains(&config_at_base), depth == "1", "{got:?}");
        assert!(
            got.iter()
                .any(|p| p.starts_with(&format!("/repos/acme/app/compare/{first}...{base}"))),
            "depth {depth}: {got:?}"
        );
        assert!(
            !got.iter().any(|p| p.contains(&format!("...{head}"))),
            "depth {depth}: {got:?}"
        );
    }
}

/// The PR base is main with an entry merged after the release (`merged_since_release`);
/// the PR (branch `pr`) is made by `change`; the merge commit is checked out.
fn ledger_pr(change: impl Fn(&Repo)) -> (Repo, String, String) {
    let r = merged_since_release();
    let base = r.git(&["rev-parse", "main"]).trim().to_string();
    r.git(&["checkout", "-q", "-b", "pr", &base]);
    change(&r);
    let head = r.commit("pr");
    merge_checkout(&r, &base);
    (r, base, head)
}

#[test]
fn a_pull_request_that_edits_an_entry_merged_since_the_release_fails() {
    // Control: untouched, the merged entry approves `u` with no review on this PR.
    let (r, base, head) = ledger_pr(|r| r.write("NOTES", "x\n"));
    let gh = FakeGitHub::start();
    let (event, payload) = pr_event("pull_request", &base, &head);
    let run = ci(r.path(), &gh, event, &payload);
    assert_eq!(run.code, 0, "{}{}", run.show(), run.report);
    assert_eq!(run.output("baseline"), "v1.0.0");
    let approval = &run.report["changes"][0]["approval"];
    assert_eq!(approval["state"], "approved", "{}", run.report);
    assert_eq!(approval["added_in_change"], false);

    // Attack: the PR edits the merged entry, with a qualifying review by alice.
    let (r, base, head) = ledger_pr(|r| {
        let t = r
            .read(".scopegate/approvals.yaml")
            .replace("SEC-1", "SEC-9");
        r.write(".scopegate/approvals.yaml", &t);
    });
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    let (event, payload) = pr_event("pull_request", &base, &head);
    let run = ci(r.path(), &gh, event, &payload);
    assert_eq!(run.code, 1, "{}", run.show());
    assert!(rewritten(&run.report), "{}", run.report);

    // Control: appending a reviewed entry passes.
    let (r, base, head) = ledger_pr(|r| {
        r.write("smart-app.yaml", &with_condition(&r.read("smart-app.yaml")));
        let a = r.run(&["approve", "--by", "alice", "--ticket", "SEC-2"]);
        assert_eq!(a.code, 0, "{}", a.stderr);
    });
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    gh.add_pr_commit(&head, Some("dev"), Some("dev"), "pr");
    let (event, payload) = pr_event("pull_request", &base, &head);
    let run = ci(r.path(), &gh, event, &payload);
    assert_eq!(run.code, 0, "{}{}", run.show(), run.report);
    assert!(!rewritten(&run.report));
}

#[test]
fn a_release_tag_push_is_judged_against_the_previous_release() {
    // examples/workflows/release-gate.yml: a new tag's push has `before` all zeros, so
    // the trusted commit is HEAD, the tagged commit, which is not its own baseline.
    let (r, _) = history("legacy-1.0.0", Some(PLAIN), "v2.0.0", Some(PLAIN));
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    r.commit("re-add update");
    r.release("v2.1.0");
    let gh = FakeGitHub::start();
    let push = json!({"ref": "refs/tags/v2.1.0", "before": "0".repeat(40)});
    let out = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .current_dir(r.path())
        .args(["ci", "--now", NOW, "--baseline", "previous-release"])
        .args(["--comment", "never", "--no-summary"])
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_EVENT_PATH", {
            let p = r.path().join("push.json");
            std::fs::write(&p, push.to_string()).unwrap();
            p
        })
        .env("GITHUB_API_URL", &gh.url)
        .env("GITHUB_OUTPUT", r.path().join("out"))
        .env("RUNNER_TEMP", r.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        r.read("out").contains("baseline=v2.0.0"),
        "{}",
        r.read("out")
    );
    assert!(r.read("out").contains("unapproved=1"), "{}", r.read("out"));
}

#[test]
fn a_shallow_clone_reads_the_merged_ledger_at_the_pr_base_through_the_api() {
    let edit = |r: &Repo| {
        let t = r
            .read(".scopegate/approvals.yaml")
            .replace("SEC-1", "SEC-9");
        r.write(".scopegate/approvals.yaml", &t);
    };
    for (what, attack) in [("untouched", false), ("edited", true)] {
        let (r, base, head) = ledger_pr(|r| {
            r.write("NOTES", "x\n");
            if attack {
                edit(r);
            }
        });
        let v1 = r.git(&["rev-parse", "v1.0.0^{commit}"]).trim().to_string();
        r.git(&["branch", "merge"]);
        let clone = tempfile::tempdir().unwrap();
        let url = format!("file://{}", r.path().display());
        git_in(
            clone.path(),
            &[
                "clone",
                "-q",
                "--depth",
                "1",
                "--no-tags",
                "-b",
                "merge",
                &url,
                "c",
            ],
        );
        let gh = FakeGitHub::start();
        gh.with(|s| {
            s.tags.push(("v1.0.0".into(), v1.clone()));
            s.compare.insert((v1.clone(), base.clone()), "ahead".into());
            for (at, files) in [
                (&v1, &["smart-app.yaml", ".scopegate/config.yaml"][..]),
                (
                    &base,
                    &[
                        "smart-app.yaml",
                        ".scopegate/config.yaml",
                        ".scopegate/approvals.yaml",
                    ][..],
                ),
            ] {
                for f in files {
                    let bytes = git_in(r.path(), &["show", &format!("{at}:{f}")]).into_bytes();
                    s.contents.insert((f.to_string(), at.to_string()), bytes);
                }
            }
        });
        let (event, payload) = pr_event("pull_request", &base, &head);
        let run = ci(&clone.path().join("c"), &gh, event, &payload);
        assert_eq!(run.output("baseline"), "v1.0.0", "{what}: {}", run.show());
        assert_eq!(run.code, i32::from(attack), "{what}: {}", run.show());
        assert_eq!(rewritten(&run.report), attack, "{what}: {}", run.report);
        let got: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
        assert!(
            got.contains(&format!(
                "/repos/acme/app/contents/.scopegate/approvals.yaml?ref={base}"
            )),
            "{got:?}"
        );
    }
}
