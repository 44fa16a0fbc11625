//! `scopegate comment` end to end: the trusted half of the fork-safe split judges the
//! PR's head itself. The real binary runs in a directory with no checkout (or in a
//! trusted clone that has fetched the PR head), against a fake GitHub that serves the
//! head and the release through the pulls, git trees and contents APIs. A report file
//! from the fork's run is data to check, never a verdict to post.

use crate::support::{ci_run, fake_github, git};

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use fake_github::{FakeGitHub, Fault};
use git::git_in;
use serde_json::Value;

const TOKEN: &str = "ghs_SECRET_TOKEN_456";
const NOW: &str = "2026-11-28T12:00:00Z";
/// The sticky comment's marker, up to the judged head (`head=<sha> -->` follows).
const MARKER: &str = "<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml head=";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }
    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn scopegate_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("scopegate").unwrap();
    c.env_clear().env("NO_COLOR", "1").current_dir(dir);
    c
}

fn example() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/med-rec.yaml"))
        .unwrap()
}

/// The release v1.0.0: med-rec at `smart-app.yaml`, `approvers: [alice]`.
fn released() -> (Repo, String) {
    let r = Repo::new();
    r.write("smart-app.yaml", &example());
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    (r, base)
}

/// The PR's escalation: bulk write and delete on every system resource.
fn add_system_cruds(r: &Repo) {
    let t = r.read("smart-app.yaml").replace(
        "  - scope: offline_access\n",
        "  - scope: system/*.cruds\n    rationale: Bulk maintenance.\n  - scope: offline_access\n",
    );
    r.write("smart-app.yaml", &t);
}

/// A milder escalation that passes once approved: update on MedicationStatement.
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
}

/// Commits the change, then appends approvals by `by` for its escalations, as
/// `scopegate approve` does (uncommitted).
fn approve(r: &Repo, by: &str) {
    r.commit("the change");
    let out = scopegate_in(r.path())
        .args(["approve", "--by", by, "--ticket", "SEC-1", "--now", NOW])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every file of commit `sha`, through the contents and git trees APIs at that sha.
fn serve(gh: &FakeGitHub, r: &Repo, sha: &str) {
    let files = r.git(&["ls-tree", "-r", "--name-only", sha]);
    gh.with(|s| {
        for f in files.lines() {
            let bytes = r.git(&["show", &format!("{sha}:{f}")]).into_bytes();
            s.contents.insert((f.to_string(), sha.to_string()), bytes);
        }
    });
}

/// A fake GitHub with fork PR #7 (`head` on `base`, opened by `dev`), both commits and
/// the release `v1.0.0` at `release` served through the API.
fn github(r: &Repo, release: &str, base: &str, head: &str) -> FakeGitHub {
    let gh = FakeGitHub::start();
    gh.add_pull(7, head, base, "dev", "someone/app");
    for sha in [release, base, head] {
        serve(&gh, r, sha);
    }
    gh.with(|s| {
        s.tags.push(("v1.0.0".into(), release.to_string()));
        s.compare
            .insert((release.to_string(), head.to_string()), "ahead".into());
        // The previous release is searched in the PR base's history.
        let status = if release == base {
            "identical"
        } else {
            "ahead"
        };
        s.compare
            .insert((release.to_string(), base.to_string()), status.into());
    });
    // The PR's commits, all by its author `dev` (reviewer independence reads them).
    let commits = r.git(&["rev-list", "--reverse", &format!("{base}..{head}")]);
    for c in commits.lines() {
        gh.add_pr_commit(c, Some("dev"), Some("dev"), "the change");
    }
    gh
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    outputs: Vec<(String, String)>,
}

impl Run {
    fn output(&self, k: &str) -> &str {
        self.outputs
            .iter()
            .find(|(a, _)| a == k)
            .map_or("", |(_, v)| v.as_str())
    }
    fn log(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `scopegate comment --pr 7 …` in `dir` (an empty directory: no checkout).
fn comment_in(dir: &Path, gh: &FakeGitHub, extra: &[&str]) -> Run {
    let out = ci_run::CiJob::new(dir, &gh.url, NOW)
        .command([
            "comment",
            "--pr",
            "7",
            "--now",
            NOW,
            "--api-max-wait",
            "5",
            "--api-timeout",
            "5",
        ])
        .args(extra.iter().copied())
        .token(Some(TOKEN))
        .without("GITHUB_EVENT_NAME")
        .without("GITHUB_EVENT_PATH")
        .without("GITHUB_STEP_SUMMARY")
        .without("GITHUB_JOB")
        .without("RUNNER_TEMP")
        .run();
    let outputs = out.output_pairs();
    let run = Run {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
        outputs,
    };
    assert!(!run.log().contains(TOKEN));
    run
}

fn comment(gh: &FakeGitHub, extra: &[&str]) -> Run {
    let empty = tempfile::tempdir().unwrap();
    comment_in(empty.path(), gh, extra)
}

/// The report the fork's own `scopegate ci` run writes (honestly) for PR #7, with a
/// read-only token on the same GitHub.
fn fork_report(r: &Repo, gh: &FakeGitHub, base: &str, head: &str) -> Value {
    let payload = serde_json::json!({
        "pull_request": {
            "number": 7,
            "user": {"login": "dev"},
            "head": {"sha": head, "repo": {"full_name": "someone/app"}},
            "base": {"sha": base, "repo": {"full_name": "acme/app"}},
        }
    });
    let out = ci_run::CiJob::new(r.path(), &gh.url, NOW)
        .command(["ci", "--now", NOW, "--comment", "never", "--no-summary"])
        .event("pull_request", payload)
        .token(Some(TOKEN))
        .without("GITHUB_STEP_SUMMARY")
        .without("GITHUB_OUTPUT")
        .without("GITHUB_JOB")
        .run();
    assert!(out.code <= 1, "{}{}", out.stdout, out.stderr);
    serde_json::from_str(&out.report.unwrap()).unwrap()
}

fn write_report(v: &Value) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("report.json");
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    let s = p.to_str().unwrap().to_string();
    (dir, s)
}

/// "PASS, 0 escalations": what the fork uploaded.
fn forged_pass(honest: &Value) -> Value {
    let mut v = honest.clone();
    v["verdict"] = "pass".into();
    v["reasons"] = serde_json::json!([]);
    v["changes"] = serde_json::json!([]);
    v["findings"] = serde_json::json!([]);
    v["summary"]["escalations"] = 0.into();
    v["summary"]["unapproved"] = 0.into();
    v
}

fn body(gh: &FakeGitHub) -> String {
    let c = gh.comments();
    assert_eq!(c.len(), 1, "{c:?}");
    assert!(c[0].body.starts_with(MARKER), "{}", c[0].body);
    c[0].body.clone()
}

/// Head reads went through the contents API at the head sha.
fn read_head_through_api(gh: &FakeGitHub, head: &str) -> bool {
    gh.requests()
        .iter()
        .any(|q| q.path == format!("/repos/acme/app/contents/smart-app.yaml?ref={head}"))
}

/// The escalating fork PR: `system/*.cruds` added, nothing approved.
fn escalating_pr() -> (Repo, String, String, FakeGitHub) {
    let (r, base) = released();
    add_system_cruds(&r);
    let head = r.commit("bulk access");
    let gh = github(&r, &base, &base, &head);
    (r, base, head, gh)
}

#[test]
fn a_forged_pass_report_for_a_pr_adding_system_cruds_is_refused_and_the_recomputed_fail_posted() {
    let (r, base, head, gh) = escalating_pr();
    let honest = fork_report(&r, &gh, &base, &head);
    assert_eq!(honest["verdict"], "fail");
    let (_d, forged) = write_report(&forged_pass(&honest));
    let run = comment(&gh, &["--report", &forged, "--head-sha", &head]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains(
            "::error title=scopegate::The uploaded report was refused: it says PASS, the recomputed verdict is FAIL"
        ),
        "{}",
        run.stdout
    );
    let b = body(&gh);
    assert!(b.contains("❌ FAIL"), "{b}");
    assert!(b.contains("system/*.cruds"), "{b}");
    assert!(!b.contains("✅ PASS"), "{b}");
    assert_eq!(run.output("result"), "fail");
    assert_eq!(run.output("report-check"), "mismatch");
    assert!(read_head_through_api(&gh, &head), "{:?}", gh.requests());
}

#[test]
fn a_report_with_the_right_verdict_but_a_hidden_change_is_refused() {
    let (r, base, head, gh) = escalating_pr();
    let honest = fork_report(&r, &gh, &base, &head);
    // FAIL, as recomputed, but the bulk access is dropped from the list.
    let mut v = honest.clone();
    let kept: Vec<Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["key"].as_str().unwrap().contains("system/"))
        .cloned()
        .collect();
    assert!(kept.len() < v["changes"].as_array().unwrap().len());
    v["changes"] = Value::Array(kept);
    let (_d, forged) = write_report(&v);
    let run = comment(&gh, &["--report", &forged, "--head-sha", &head]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(
        run.stdout.contains("it leaves out `med-rec:system/"),
        "{}",
        run.stdout
    );
    assert!(body(&gh).contains("system/*.cruds"));
}

#[test]
fn a_file_that_is_not_a_report_is_refused_and_the_verdict_still_posted() {
    let (_r, _base, head, gh) = escalating_pr();
    let (_d, junk) = write_report(&serde_json::json!({"verdict": "pass"}));
    let run = comment(&gh, &["--report", &junk, "--head-sha", &head]);
    assert_eq!(run.code, 1, "{}", run.log());
    assert!(run.stdout.contains("is not a scopegate JSON report"));
    assert!(body(&gh).contains("❌ FAIL"));
}

#[test]
fn without_a_report_the_verdict_is_recomputed_and_posted() {
    let (_r, _base, head, gh) = escalating_pr();
    let run = comment(&gh, &["--head-sha", &head]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.output("report-check"), "none");
    assert!(body(&gh).contains("❌ FAIL"));
}

#[test]
fn uncommitted_files_in_a_checkout_do_not_change_the_verdict() {
    // A workflow that (wrongly) checks out the fork: its working tree is ignored, and
    // the head commit, present in the clone, is read with git, not the API.
    let (r, base, head, gh) = escalating_pr();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    git_in(clone.path(), &["clone", "-q", &url, "c"]);
    let c = clone.path().join("c");
    std::fs::write(c.join("smart-app.yaml"), example()).unwrap();
    std::fs::write(
        c.join(".scopegate/config.yaml"),
        "approvers: [alice, dev]\n",
    )
    .unwrap();
    let run = comment_in(&c, &gh, &["--head-sha", &head]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(body(&gh).contains("system/*.cruds"));
    assert!(!read_head_through_api(&gh, &head), "{:?}", gh.requests());
    let _ = base;
}

#[test]
fn a_matching_report_lends_its_new_in_pr_marks_and_nothing_else() {
    // After v1.0.0, main merged `u` on MedicationStatement; the PR (on that base)
    // adds system/*.cruds. The fork's report says which escalation is new in the PR.
    let (r, release) = released();
    add_update(&r);
    let pr_base = r.commit("merged since the release");
    add_system_cruds(&r);
    let head = r.commit("bulk access");
    let gh = github(&r, &release, &pr_base, &head);
    let mut v = fork_report(&r, &gh, &pr_base, &head);
    // Display text and approval states in the file are not taken, even when the
    // verdict and keys agree.
    for c in v["changes"].as_array_mut().unwrap() {
        c["description"] = "TAMPERED description".into();
        c["approval"]["state"] = "approved".into();
    }
    let (_d, report) = write_report(&v);
    let run = comment(&gh, &["--report", &report, "--head-sha", &head]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.output("report-check"), "match");
    let b = body(&gh);
    assert!(b.contains("🆕 in this PR"), "{b}");
    assert!(b.contains("merged earlier, since the release"), "{b}");
    assert!(!b.contains("TAMPERED"), "{b}");
    assert!(b.contains("❌ FAIL"), "{b}");

    // The control: without the file, no marks (they are the file's extras).
    gh.with(|s| s.comments.clear());
    let plain = comment(&gh, &["--head-sha", &head]);
    assert_eq!(plain.code, 0, "{}", plain.log());
    assert!(!body(&gh).contains("🆕 in this PR"));
}

#[test]
fn a_pr_whose_head_moved_on_gets_nothing_posted() {
    let (r, base, head, gh) = escalating_pr();
    let (_d, report) = write_report(&fork_report(&r, &gh, &base, &head));
    // The workflow_run was for an older commit.
    let stale = "1111111111111111111111111111111111111111";
    let run = comment(&gh, &["--report", &report, "--head-sha", stale]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(run.stdout.contains("has moved on"), "{}", run.stdout);
    assert_eq!(run.output("result"), "skipped");
    assert!(gh.writes().is_empty());
    assert!(!read_head_through_api(&gh, &head));
}

#[test]
fn a_head_that_moves_while_it_is_judged_gets_nothing_posted() {
    let (_r, _base, head, gh) = escalating_pr();
    // The manifest read is slow; meanwhile a new commit is pushed to the PR.
    gh.fault(
        Fault::new("GET", &format!("/contents/smart-app.yaml?ref={head}"), 200)
            .delay(Duration::from_millis(1500)),
    );
    let state = gh.state.clone();
    let mover = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        state
            .lock()
            .unwrap()
            .pulls
            .insert(7, "2222222222222222222222222222222222222222".into());
    });
    let run = comment(&gh, &["--head-sha", &head]);
    mover.join().unwrap();
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(
        run.stdout.contains("has moved on to 2222"),
        "{}",
        run.stdout
    );
    assert!(gh.writes().is_empty());
}

/// A PR that adds system/*.cruds and a ledger entry by `by`; `review` is who approved
/// the head, if anyone.
fn self_approved(by: &str, config: Option<&str>, review: Option<&str>) -> (Run, FakeGitHub) {
    let (r, base) = released();
    add_system_cruds(&r);
    if let Some(c) = config {
        r.write(".scopegate/config.yaml", c);
    }
    approve(&r, by);
    let head = r.commit("bulk access, approved by the PR itself");
    let gh = github(&r, &base, &base, &head);
    if let Some(who) = review {
        gh.add_review(who, "APPROVED", &head);
    }
    let run = comment(&gh, &["--head-sha", &head]);
    (run, gh)
}

#[test]
fn a_ledger_entry_the_pr_adds_without_a_review_is_pending() {
    let (run, gh) = self_approved("alice", None, None);
    assert_eq!(run.code, 0, "{}", run.log());
    let b = body(&gh);
    assert!(b.contains("❌ FAIL"), "{b}");
    assert!(b.contains("PENDING"), "{b}");
    assert!(b.contains("waiting for an APPROVED review by alice"), "{b}");
    assert!(
        gh.requests()
            .iter()
            .any(|q| q.path.starts_with("/repos/acme/app/pulls/7/reviews")),
        "the reviews were asked for"
    );
}

#[test]
fn a_ledger_entry_by_the_pr_author_is_pending_even_with_their_review() {
    let (run, gh) = self_approved("dev", Some("approvers: [alice, dev]\n"), Some("dev"));
    assert_eq!(run.code, 0, "{}", run.log());
    let b = body(&gh);
    assert!(b.contains("❌ FAIL"), "{b}");
    assert!(b.contains("PENDING"), "{b}");
    assert!(b.contains("the PR author"), "{b}");
    // Who may approve comes from the release's config, not the head's.
    assert!(b.contains("may approve\\: alice |"), "{b}");
}

#[test]
fn an_approver_the_pr_adds_to_its_own_config_is_not_one() {
    let (run, gh) = self_approved(
        "mallory",
        Some("approvers: [alice, mallory]\n"),
        Some("mallory"),
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let b = body(&gh);
    assert!(b.contains("❌ FAIL"), "{b}");
    assert!(
        b.contains("mallory is not an approver in the config at the trusted commit"),
        "{b}"
    );
}

#[test]
fn contents_api_errors_post_nothing_and_exit_2() {
    type FaultAt = Box<dyn Fn(&str) -> Fault>;
    let cases: Vec<(&str, FaultAt)> = vec![
        (
            "the head manifest: 403",
            Box::new(|head: &str| {
                Fault::new("GET", &format!("/contents/smart-app.yaml?ref={head}"), 403)
            }),
        ),
        (
            "the head ledger: 500, again and again",
            Box::new(|head: &str| {
                Fault::new(
                    "GET",
                    &format!("/contents/.scopegate/approvals.yaml?ref={head}"),
                    500,
                )
                .times(50)
            }),
        ),
        (
            "the head manifest is a directory listing",
            Box::new(|head: &str| {
                Fault::new("GET", &format!("/contents/smart-app.yaml?ref={head}"), 200)
                    .body(r#"[{"type":"file","name":"x","path":"smart-app.yaml/x"}]"#)
                    .replace()
            }),
        ),
        (
            "the pull request: 404",
            Box::new(|_: &str| Fault::new("GET", "/pulls/7", 404)),
        ),
        (
            "the reviews: 403",
            Box::new(|_: &str| Fault::new("GET", "/pulls/7/reviews", 403)),
        ),
    ];
    for (what, fault) in cases {
        let (r, base) = released();
        add_system_cruds(&r);
        approve(&r, "alice");
        let head = r.commit("bulk access");
        let gh = github(&r, &base, &base, &head);
        gh.fault(fault(&head));
        let run = comment(&gh, &["--head-sha", &head]);
        assert_eq!(run.code, 2, "{what}: {}", run.log());
        assert!(
            run.stdout
                .contains("::notice title=scopegate::Nothing was posted on PR #7"),
            "{what}: {}",
            run.stdout
        );
        assert_eq!(run.output("result"), "error", "{what}");
        assert!(gh.writes().is_empty(), "{what}: {:?}", gh.writes());
    }
}

#[test]
fn a_head_with_more_manifests_than_the_api_cap_is_refused_after_a_bounded_number_of_reads() {
    let (r, base) = {
        let r = Repo::new();
        r.write("apps/a/smart-app.yaml", &example());
        r.write(
            ".scopegate/config.yaml",
            "manifests: ['apps/*/smart-app.yaml']\napprovers: [alice]\n",
        );
        let base = r.commit("v1");
        r.git(&["tag", "v1.0.0"]);
        (r, base)
    };
    for i in 0..260 {
        r.write(
            &format!("apps/x{i:03}/smart-app.yaml"),
            &example().replace("id: med-rec", &format!("id: x{i:03}")),
        );
    }
    let head = r.commit("260 new apps");
    let gh = github(&r, &base, &base, &head);
    let run = comment(&gh, &["--head-sha", &head]);
    assert_eq!(run.code, 2, "{}", run.log());
    assert!(
        run.stdout.contains("needs more than 200 files"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("git fetch origin pull/N/head"));
    let head_reads = gh
        .requests()
        .iter()
        .filter(|q| q.path.contains(&format!("ref={head}")) || q.path.contains(&head))
        .count();
    assert!(head_reads <= 202, "{head_reads} reads at the head");
    assert!(gh.writes().is_empty());

    // The control: the same head, fetched into the trusted clone, is read with git.
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    git_in(clone.path(), &["clone", "-q", &url, "c"]);
    let c = clone.path().join("c");
    git_in(&c, &["checkout", "-q", &base]);
    let local = comment_in(&c, &gh, &["--head-sha", &head]);
    assert_eq!(local.code, 0, "{}", local.log());
    let posted = gh.comments();
    assert_eq!(posted.len(), 1);
    assert!(posted[0].body.contains("❌ FAIL"), "{}", posted[0].body);
    assert_eq!(local.output("escalations"), (260 * 8).to_string());
}

/// A PR that adds `u` with alice's entry, and alice's APPROVED review at its head:
/// the repo, its base, its head and the fake GitHub.
fn approved_pr() -> (Repo, String, String, FakeGitHub) {
    let (r, base) = released();
    add_update(&r);
    approve(&r, "alice");
    let head = r.commit("update, approved by alice");
    let gh = github(&r, &base, &base, &head);
    gh.add_review("alice", "APPROVED", &head);
    (r, base, head, gh)
}

#[test]
fn an_honest_pr_with_an_approved_escalation_posts_pass() {
    let (r, base, head, gh) = approved_pr();
    let (_d, report) = write_report(&fork_report(&r, &gh, &base, &head));
    let before = gh.requests().len();
    let run = comment(&gh, &["--report", &report, "--head-sha", &head]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(run.output("result"), "pass");
    // One app, one ledger entry: a small, fixed number of API calls.
    let calls: Vec<String> = gh.requests()[before..]
        .iter()
        .map(|q| format!("{} {}", q.method, q.path))
        .collect();
    assert!(calls.len() <= 20, "{} calls: {calls:#?}", calls.len());
    assert_eq!(run.output("report-check"), "match");
    let b = body(&gh);
    assert!(b.contains("✅ PASS"), "{b}");
    assert!(read_head_through_api(&gh, &head));
    // Nothing of the fork's code is run: no request but reads, and one comment write.
    let writes: Vec<_> = calls.iter().filter(|c| !c.starts_with("GET ")).collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
}

#[test]
fn a_new_app_the_head_adds_under_a_glob_is_found_through_the_trees_api() {
    let r = Repo::new();
    r.write("apps/a/smart-app.yaml", &example());
    r.write(
        ".scopegate/config.yaml",
        "manifests: ['apps/*/smart-app.yaml']\napprovers: [alice]\n",
    );
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    // A second app the forged report leaves out; its id and directory are the fork's.
    r.write(
        "apps/zz top/smart-app.yaml",
        &example().replace("id: med-rec", "id: sneaky"),
    );
    let head = r.commit("a new app");
    let gh = github(&r, &base, &base, &head);
    let (_d, forged) = write_report(&forged_pass(&fork_report(&r, &gh, &base, &head)));
    let run = comment(&gh, &["--report", &forged, "--head-sha", &head]);
    assert_eq!(run.code, 1, "{}", run.log());
    let c = gh.comments();
    assert_eq!(c.len(), 1);
    assert!(
        c[0].body
            .starts_with("<!-- scopegate:v1 job=scopegate manifests=apps/_/smart-app.yaml head="),
        "{}",
        c[0].body
    );
    assert!(c[0].body.contains("sneaky"), "{}", c[0].body);
    assert!(c[0].body.contains("❌ FAIL"));
    assert!(
        gh.requests()
            .iter()
            .any(|q| q.path == format!("/repos/acme/app/git/trees/{head}?recursive=1")),
        "{:?}",
        gh.requests()
    );
}

#[test]
fn the_post_workflow_checks_out_nothing_and_binds_the_head() {
    let wf = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/workflows/fork-comment-post.yml"),
    )
    .unwrap();
    let steps = &wf[wf.find("steps:").unwrap()..];
    assert!(!steps.contains("actions/checkout"), "{wf}");
    assert!(wf.contains("contents: read"), "{wf}");
    assert!(
        wf.contains("scopegate comment --pr \"$pr\" --head-sha \"$HEAD_SHA\""),
        "{wf}"
    );
}

#[test]
fn a_403_names_the_permission_the_failed_call_needs() {
    // Attack-shaped: a job whose `permissions:` miss one entry. Each 403 must name the
    // entry that call needs, not a generic "cannot write".
    type FaultAt = Box<dyn Fn(&str) -> Fault>;
    let cases: Vec<(&str, FaultAt, &str)> = vec![
        (
            "the pull request",
            Box::new(|_: &str| Fault::new("GET", "/pulls/7", 403)),
            "pull-requests: read",
        ),
        (
            "the reviews",
            Box::new(|_: &str| Fault::new("GET", "/pulls/7/reviews", 403)),
            "pull-requests: read",
        ),
        (
            "the head manifest",
            Box::new(|head: &str| {
                Fault::new("GET", &format!("/contents/smart-app.yaml?ref={head}"), 403)
            }),
            "contents: read",
        ),
        (
            "the comment write",
            Box::new(|_: &str| Fault::new("POST", "/issues/7/comments", 403)),
            "pull-requests: write",
        ),
    ];
    for (what, fault, permission) in cases {
        let (r, base) = released();
        add_system_cruds(&r);
        approve(&r, "alice");
        let head = r.commit("bulk access");
        let gh = github(&r, &base, &base, &head);
        gh.fault(fault(&head));
        let run = comment(&gh, &["--head-sha", &head]);
        let want = format!("grant `{permission}`");
        assert!(run.stdout.contains(&want), "{what}: {}", run.log());
        for other in [
            "pull-requests: read",
            "pull-requests: write",
            "contents: read",
        ] {
            if other != permission {
                assert!(
                    !run.stdout.contains(&format!("grant `{other}`")),
                    "{what}: {}",
                    run.stdout
                );
            }
        }
    }
    // The control: with every permission, no 403 and no permission hint; the verdict posts.
    let (r, base) = released();
    add_system_cruds(&r);
    let head = r.commit("bulk access");
    let gh = github(&r, &base, &base, &head);
    let run = comment(&gh, &["--head-sha", &head]);
    assert_eq!(run.code, 0, "{}", run.log());
    assert!(!run.stdout.contains("needs the job's `permissions:`"));
    assert!(body(&gh).contains("❌ FAIL"));
}

/// GitHub's answer about the pull request is checked as an event payload is: a base
/// that is a branch name (which git would resolve, to whatever it now points at), or
/// an author with a line break, is exit 2 naming the field, and nothing is posted.
/// Control: the same PR answered with ids and a login is judged and commented on.
#[test]
fn a_pulls_api_answer_with_a_branch_for_a_base_or_a_hostile_login_is_refused() {
    let (_r, base, head, gh) = escalating_pr();
    for (base_sha, login, field) in [
        ("main", "dev", "base.sha"),
        (base.as_str(), "dev\n::notice::PASS", "user.login"),
    ] {
        gh.with(|s| {
            s.pull_meta
                .insert(7, (base_sha.into(), login.into(), "someone/app".into()));
        });
        let run = comment(&gh, &["--head-sha", &head]);
        assert_eq!(run.code, 2, "{field}: {}", run.log());
        assert!(
            run.log()
                .contains(&format!("pull request #7 from the pulls API: {field}")),
            "{field}: {}",
            run.log()
        );
        assert!(!run.log().contains("\n::notice::PASS"), "{}", run.log());
        assert!(gh.comments().is_empty(), "{field}: nothing is posted");
    }
    gh.with(|s| {
        s.pull_meta
            .insert(7, (base.clone(), "dev".into(), "someone/app".into()));
    });
    let control = comment(&gh, &["--head-sha", &head]);
    assert_eq!(control.code, 0, "{}", control.log());
    assert!(body(&gh).contains("❌ FAIL"));
}

/// A fork's own run proves nothing (it runs the fork's workflow files), so the verdict
/// `comment` recomputes is also set as a commit status on the PR head when asked
/// (`--status-context`): `failure` for an unapproved escalation, `success` once an
/// approver's review verifies the entry, nothing for a head that moved on, and nothing
/// unless asked. A context that could not name a check is exit 2, before anything is
/// posted.
#[test]
fn the_recomputed_verdict_is_set_as_a_commit_status_the_fork_cannot_set() {
    let ctx = ["--status-context", "scopegate/verdict"];
    let (_r, _base, head, gh) = escalating_pr();
    let run = comment(
        &gh,
        &[&["--head-sha", head.as_str()][..], &ctx[..]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.log());
    let statuses = gh.statuses();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    assert_eq!(statuses[0].0, head);
    assert_eq!(statuses[0].1["state"], "failure");
    assert_eq!(statuses[0].1["context"], "scopegate/verdict");
    assert!(
        statuses[0].1["description"]
            .as_str()
            .unwrap()
            .starts_with("FAIL: 1 unapproved"),
        "{statuses:?}"
    );

    // Control: approved and reviewed, the status is success.
    let (_r, _base, head, gh) = approved_pr();
    let run = comment(
        &gh,
        &[&["--head-sha", head.as_str()][..], &ctx[..]].concat(),
    );
    assert_eq!(run.code, 0, "{}", run.log());
    assert_eq!(gh.statuses()[0].1["state"], "success");

    // A head that moved on gets no status; without the flag, none is set.
    let (_r, _base, head, gh) = escalating_pr();
    let stale = "1111111111111111111111111111111111111111";
    assert_eq!(
        comment(&gh, &[&["--head-sha", stale][..], &ctx[..]].concat()).code,
        0
    );
    assert!(gh.statuses().is_empty());
    assert_eq!(comment(&gh, &["--head-sha", &head]).code, 0);
    assert!(gh.statuses().is_empty());
    let run = comment(&gh, &["--head-sha", &head, "--status-context", " "]);
    assert_eq!(run.code, 2, "{}", run.log());
    assert!(gh.statuses().is_empty());
}
