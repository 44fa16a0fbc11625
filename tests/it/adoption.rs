//! The first hour (issue 16 §1, §2): a team adopts scopegate without a dead end, and
//! the baseline follows what the developer is doing. Through the real binary on
//! temporary repositories, and through `scopegate ci` against the fake GitHub. Each
//! attack sits next to a control.

use crate::support::{ci_run, fake_github, git, repo};

use fake_github::FakeGitHub;
use repo::{NOW, Repo, Run, example, with_condition, with_update};
use serde_json::Value;

struct Ci {
    code: i32,
    log: String,
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
}

/// `scopegate ci` on a `pull_request` event for PR #7 by `dev`, from `head` into `base`.
fn pr_run(r: &Repo, gh: &FakeGitHub, base: &str, head: &str) -> Ci {
    let payload = ci_run::pr_payload("dev", base, head);
    gh.add_pull(7, head, base, "dev", "acme/app");
    let run = ci_run::CiJob::new(r.path(), &gh.url, NOW)
        .args(["--comment", "never", "--no-summary"])
        .event("pull_request", payload)
        .token(Some("ghs_TEST_TOKEN"))
        .without("GITHUB_STEP_SUMMARY")
        .run();
    let outputs = run.output_pairs();
    let report = run
        .report
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    Ci {
        code: run.code,
        log: format!("{}{}{:?}", run.stdout, run.stderr, outputs),
        outputs,
        report,
    }
}

/// Checks out what actions/checkout gives a pull request: the merge of `branch` into
/// `base`, detached. Returns to `main` afterwards is the caller's business.
fn merge_checkout(r: &Repo, base: &str, branch: &str) {
    r.git(&["checkout", "-q", "--detach", base]);
    r.git(&["merge", "-q", "--no-ff", "--no-edit", "-m", "merge", branch]);
}

/// An app that has shipped (v1.0.0) before the team adopts scopegate: a manifest,
/// no config, no approvers.
fn shipped_app() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("the app, as shipped");
    r.release("v1.0.0");
    r
}

/// Pull request 1 of the adoption path: the config with approvers and CODEOWNERS
/// lines for `.scopegate/` and the workflows, on branch `adopt`. Returns its head.
fn adopt(r: &Repo) -> String {
    r.git(&["checkout", "-q", "-b", "adopt", "main"]);
    r.write(".scopegate/config.yaml", "approvers: [rm-jane]\n");
    r.write(
        ".github/CODEOWNERS",
        "/.scopegate/ @acme/release-managers\n/.github/workflows/ @acme/release-managers\n",
    );
    r.commit("adopt scopegate")
}

#[test]
fn a_team_goes_from_nothing_to_an_approved_escalation_in_two_pull_requests() {
    let r = shipped_app();
    let gh = FakeGitHub::start();

    // Pull request 1 adopts scopegate; it changes no scope, so it passes.
    let main = r.git(&["rev-parse", "main"]).trim().to_string();
    let head1 = adopt(&r);
    merge_checkout(&r, &main, "adopt");
    let run = pr_run(&r, &gh, &main, &head1);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.output("result"), "no-change", "{}", run.log);
    // It merges; no release is tagged.
    r.git(&["checkout", "-q", "main"]);
    r.git(&["merge", "-q", "--ff-only", "adopt"]);
    let main = r.git(&["rev-parse", "main"]).trim().to_string();

    // Pull request 2 widens access: pending, and says who may approve.
    r.git(&["checkout", "-q", "-b", "widen", "main"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let widen = r.commit("medication updates");
    gh.add_pr_commit(&widen, Some("dev"), Some("dev"), "medication updates");
    merge_checkout(&r, &main, "widen");
    let run = pr_run(&r, &gh, &main, &widen);
    assert_eq!(run.code, 1, "{}", run.log);
    assert_eq!(run.output("baseline"), "v1.0.0");
    assert_eq!(run.output("unapproved"), "1");

    // The release manager records the approval on the PR branch and approves on GitHub.
    r.git(&["checkout", "-q", "widen"]);
    let a = r.run(&["approve", "--by", "rm-jane", "--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    let head2 = r.commit("approve: SEC-1");
    gh.add_pr_commit(&head2, Some("rm-jane"), Some("rm-jane"), "approve: SEC-1");
    gh.add_review("rm-jane", "APPROVED", &head2);
    merge_checkout(&r, &main, "widen");
    let run = pr_run(&r, &gh, &main, &head2);
    assert_eq!(run.code, 0, "{}{}", run.log, run.report);
    assert_eq!(run.output("result"), "pass");
    let approval = &run.report["changes"][0]["approval"];
    assert_eq!(approval["state"], "approved", "{}", run.report);
}

#[test]
fn a_change_that_names_its_own_approvers_cannot_approve_itself_and_says_what_to_do() {
    // Attack: one PR adds the config with its author's friend as approver, widens,
    // and carries that approver's entry with a review.
    let r = shipped_app();
    let main = r.git(&["rev-parse", "main"]).trim().to_string();
    adopt(&r);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let a = r.run(&["approve", "--by", "rm-jane", "--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    let head = r.commit("adopt, widen, approve");
    let gh = FakeGitHub::start();
    gh.add_pr_commit(&head, Some("dev"), Some("dev"), "adopt, widen, approve");
    gh.add_review("rm-jane", "APPROVED", &head);
    merge_checkout(&r, &main, "adopt");
    let run = pr_run(&r, &gh, &main, &head);
    assert_eq!(run.code, 1, "{}", run.log);
    let report = run.report.to_string();
    // Nobody may approve: the judge is the PR base, which has no approvers; the message
    // gives the exact next step.
    assert!(
        report.contains(&format!(
            "nobody: the config at the trusted commit {} lists no `approvers`",
            &main[..12]
        )),
        "{report}"
    );
    assert!(
        report.contains("Next step: merge a change that adds `approvers:"),
        "{report}"
    );
}

#[test]
fn an_approver_added_on_the_branch_since_the_release_judges_without_a_new_release() {
    // Non-GitHub CI: `gate --trusted main`. main lists alice and her key after the
    // release; the feature widens and carries alice's signed approval.
    let r = shipped_app();
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    r.allow_signer("alice", "");
    r.commit("adopt scopegate");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let a = r.approve_signed("alice", &["--ticket", "SEC-1", "--trusted", "main"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("widen, approved");

    // Control: judged by main (the trusted commit), alice's signed entry counts.
    let g = r.run(&["gate", "--trusted", "main"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    // Judged by the default HEAD, the release's config judges: nobody yet, and why.
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stdout
            .contains("nobody: the config at the release v1.0.0 lists no `approvers`"),
        "{}",
        g.stdout
    );

    // Attack: the feature adds mallory as approver, with her key, and her signed entry.
    r.write("smart-app.yaml", &with_condition(&r.read("smart-app.yaml")));
    r.write(".scopegate/config.yaml", "approvers: [alice, mallory]\n");
    r.allow_signer("mallory", "");
    let a = r.approve_signed("mallory", &["--ticket", "X", "--trusted", "main"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("mallory approves herself");
    let g = r.run(&["gate", "--trusted", "main", "--format", "json"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stdout
            .contains("mallory is not an approver in the config at the trusted commit main"),
        "{}",
        g.stdout
    );
}

// ---- the baseline follows the developer (§2) ---------------------------------------

/// v1.0.0, then v1.1.0 adding `u`, both released; HEAD is v1.1.0.
fn two_releases() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("v1.0.0");
    r.release("v1.0.0");
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    r.commit("v1.1.0");
    r.release("v1.1.0");
    r
}

fn json_gate(r: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["gate", "--format", "json"];
    args.extend_from_slice(extra);
    r.run(&args)
}

fn keys(v: &Value) -> Vec<String> {
    v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap().to_string())
        .filter(|k| !k.contains(":workflow/"))
        .collect()
}

#[test]
fn edits_on_a_tagged_commit_are_compared_with_that_release() {
    let r = two_releases();
    // Control: a clean tree on the tagged commit (the release-tag job) is judged
    // against the release before it.
    let g = json_gate(&r, &[]);
    assert_eq!(g.code, 1, "{}", g.stderr);
    assert_eq!(g.json()["baseline"]["name"], "v1.0.0");
    assert_eq!(keys(&g.json()), ["med-rec:patient/MedicationStatement.u"]);
    // Edited: HEAD's own release is the baseline, and only the edit is new.
    r.write("smart-app.yaml", &with_condition(&r.read("smart-app.yaml")));
    let g = json_gate(&r, &[]);
    assert_eq!(g.code, 1, "{}", g.stderr);
    assert_eq!(g.json()["baseline"]["name"], "v1.1.0");
    assert_eq!(keys(&g.json()), ["med-rec:patient/Condition.rs"]);
    // An edit that changes nothing in the manifest's access: no change against v1.1.0.
    r.git(&["checkout", "--", "smart-app.yaml"]);
    r.write(
        "smart-app.yaml",
        &format!("{}# a comment\n", r.read("smart-app.yaml")),
    );
    let g = json_gate(&r, &[]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(g.json()["baseline"]["name"], "v1.1.0");
    // Edits outside the manifests leave HEAD the commit under judgement.
    r.git(&["checkout", "--", "smart-app.yaml"]);
    r.write("NOTES", "not a manifest\n");
    let g = json_gate(&r, &[]);
    assert_eq!(g.json()["baseline"]["name"], "v1.0.0");
}

#[test]
fn in_a_monorepo_git_looks_where_the_manifests_are_and_misses_none() {
    // The config's globs bound where git looks for edits (their fixed directories), so
    // a large tree's status stays cheap; every edit to a manifest is still seen.
    let r = Repo::new();
    r.write(
        ".scopegate/config.yaml",
        "manifests:\n  - apps/*/smart-app.yaml\n  - services/**/smart-app.yaml\n",
    );
    let app = |id: &str| example("med-rec.yaml").replacen("id: med-rec", &format!("id: {id}"), 1);
    r.write("apps/a/smart-app.yaml", &app("a"));
    r.write("services/x/y/smart-app.yaml", &app("x"));
    r.write("lib/code.txt", "code\n");
    r.commit("v1.0.0");
    r.release("v1.0.0");
    r.write("lib/code.txt", "more code\n");
    r.commit("v1.1.0");
    r.release("v1.1.0");
    let baseline = |r: &Repo| {
        let g = json_gate(r, &[]);
        assert!(g.code <= 1, "{}", g.stderr);
        g.json()["baseline"]["name"].as_str().unwrap().to_string()
    };
    // Control: a clean tree, and edits outside the manifests (beside them, too).
    assert_eq!(baseline(&r), "v1.0.0");
    r.write("lib/code.txt", "edited\n");
    r.write("apps/a/README.md", "notes\n");
    r.write("apps/smart-app.yaml", "not under a glob\n");
    assert_eq!(baseline(&r), "v1.0.0");
    // Each kind of manifest edit is seen: tracked, deep under `**`, untracked new app.
    r.write(
        "apps/a/smart-app.yaml",
        &with_condition(&r.read("apps/a/smart-app.yaml")),
    );
    assert_eq!(baseline(&r), "v1.1.0");
    r.git(&["checkout", "--", "apps/a/smart-app.yaml"]);
    assert_eq!(baseline(&r), "v1.0.0");
    r.write(
        "services/x/y/smart-app.yaml",
        &with_condition(&r.read("services/x/y/smart-app.yaml")),
    );
    assert_eq!(baseline(&r), "v1.1.0");
    r.git(&["checkout", "--", "services/x/y/smart-app.yaml"]);
    r.write("apps/new/smart-app.yaml", &app("new"));
    assert_eq!(baseline(&r), "v1.1.0");
}

#[test]
fn an_explicit_trusted_commit_never_lets_head_be_its_own_baseline() {
    // Attack: in CI (an explicit trusted commit), a dirty tree on a tagged HEAD must not
    // make HEAD's tag the baseline of HEAD's own release.
    let r = two_releases();
    r.write("smart-app.yaml", &with_condition(&r.read("smart-app.yaml")));
    let g = json_gate(&r, &["--trusted", "main"]);
    assert_eq!(g.code, 1, "{}", g.stderr);
    assert_eq!(g.json()["baseline"]["name"], "v1.0.0");
}

#[test]
fn every_no_baseline_message_names_its_cause_and_fix() {
    // Only HEAD tagged, clean: the first release.
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("v1");
    r.release("v1.0.0");
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(
        g.stderr
            .contains("is v1.0.0, on the commit under judgement itself"),
        "{}",
        g.stderr
    );
    assert!(g.stderr.contains("--base none"), "{}", g.stderr);
    assert!(!g.stderr.contains("git fetch"), "{}", g.stderr);

    // Tags that are not versions.
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("v1");
    r.release("vnext");
    r.write("NOTES", "x\n");
    r.commit("x");
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2);
    assert!(
        g.stderr.contains("none names a semver version"),
        "{}",
        g.stderr
    );
    assert!(g.stderr.contains("release_tags"), "{}", g.stderr);

    // Releases only on another branch.
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.commit("v1");
    r.git(&["checkout", "-q", "-b", "other"]);
    r.write("NOTES", "x\n");
    r.commit("x");
    r.release("v1.0.0");
    r.git(&["checkout", "-q", "main"]);
    r.write("NOTES", "y\n");
    r.commit("y");
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2);
    assert!(
        g.stderr
            .contains("none is the trusted commit `HEAD` or in its history"),
        "{}",
        g.stderr
    );
    assert!(g.stderr.contains("--trusted origin/main"), "{}", g.stderr);

    // A clone configured not to fetch tags: the tags exist upstream.
    let upstream = two_releases();
    let d = tempfile::tempdir().unwrap();
    let url = format!("file://{}", upstream.path().display());
    git::git_in(d.path(), &["clone", "-q", "--no-tags", &url, "c"]);
    let c = d.path().join("c");
    let g = repo::run_in(&c, &["gate"]);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(g.stderr.contains("were not fetched"), "{}", g.stderr);
    assert!(g.stderr.contains("git fetch --tags"), "{}", g.stderr);
    // Control: fetched, the gate runs.
    git::git_in(&c, &["fetch", "-q", "--tags"]);
    assert_eq!(repo::run_in(&c, &["gate"]).code, 1);
}

#[test]
fn in_ci_the_api_tells_unfetched_tags_from_no_release() {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    let base = r.commit("v1");
    r.git(&["checkout", "-q", "-b", "pr"]);
    r.write("smart-app.yaml", &with_update(&r.read("smart-app.yaml")));
    let head = r.commit("widen");
    merge_checkout(&r, &base, "pr");

    // No tag upstream either: this app has no release yet.
    let gh = FakeGitHub::start();
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 2, "{}", run.log);
    assert!(run.log.contains("here or upstream"), "{}", run.log);
    assert!(run.log.contains("git tag v1.0.0"), "{}", run.log);

    // Upstream has v1.0.0, this clone does not: fetch them.
    let gh = FakeGitHub::start();
    gh.with(|s| s.tags.push(("v1.0.0".into(), base.clone())));
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 2, "{}", run.log);
    assert!(run.log.contains("were not fetched"), "{}", run.log);
}
