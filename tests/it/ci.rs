//! `scopegate ci` end to end: the real binary, real git repositories, and a fake
//! GitHub on loopback reached through `GITHUB_API_URL`. Each test asserts the requests
//! the fake received, not just the exit code.

use crate::support::{ci_run, fake_github, git};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use fake_github::{FakeGitHub, Fault};
use git::git_in;

const TOKEN: &str = "ghs_SECRET_TOKEN_123";
const NOW: &str = "2026-11-28T12:00:00Z";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn git(&self, args: &[&str]) -> String {
        git_in(self.dir.path(), args)
    }
    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).unwrap()
    }
    fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn example() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/med-rec.yaml"))
        .unwrap()
}

/// v1.0.0 with the med-rec app and `approvers: [alice]`, then a PR commit that adds
/// `u` on MedicationStatement. Returns the repo, the release commit and the head.
fn pr_repo() -> (Repo, String, String) {
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    r.git(&["init", "-q", "-b", "main"]);
    r.write("smart-app.yaml", &example());
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    widen(
        &r,
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.crus",
        "c",
        "cu",
    );
    let head = r.commit("add update");
    (r, base, head)
}

fn widen(r: &Repo, from: &str, to: &str, need_from: &str, need_to: &str) {
    let t = r.read("smart-app.yaml").replace(from, to).replace(
        &format!("      - patient/MedicationStatement.{need_from}\n"),
        &format!("      - patient/MedicationStatement.{need_to}\n"),
    );
    r.write("smart-app.yaml", &t);
}

/// Appends an approval by `by` for the current escalation, as `scopegate approve` would.
fn add_entry(r: &Repo, by: &str) -> String {
    let out = scopegate_in(r.dir.path())
        .args(["approve", "--by", by, "--ticket", "SEC-1", "--now", NOW])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.commit("approve")
}

fn scopegate_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("scopegate").unwrap();
    c.env_clear().env("NO_COLOR", "1").current_dir(dir);
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
    outputs: Vec<(String, String)>,
    report: String,
}

impl Run {
    fn output(&self, k: &str) -> &str {
        self.outputs
            .iter()
            .find(|(a, _)| a == k)
            .map_or("", |(_, v)| v.as_str())
    }
    fn all_text(&self) -> String {
        format!(
            "{}{}{}{:?}{}",
            self.stdout, self.stderr, self.summary, self.outputs, self.report
        )
    }
}

fn event(dir: &Path, name: &str, head: &str, base: &str, author: &str, fork: bool) -> PathBuf {
    let head_repo = if fork { "someone/app" } else { "acme/app" };
    let payload = serde_json::json!({
        "action": "synchronize",
        "pull_request": {
            "number": 7,
            "user": {"login": author},
            "head": {"sha": head, "repo": {"full_name": head_repo}},
            "base": {"sha": base, "repo": {"full_name": "acme/app"}},
        }
    });
    let p = dir.join(format!("{name}.json"));
    std::fs::write(&p, payload.to_string()).unwrap();
    p
}

fn ci(r: &Path, gh: &FakeGitHub, event_path: &Path, event_name: &str, extra: &[&str]) -> Run {
    // The PR's current head is the event's (a test moves it on with a fault).
    let payload: serde_json::Value =
        serde_json::from_slice(&std::fs::read(event_path).unwrap_or_default()).unwrap_or_default();
    if let (Some(n), Some(sha)) = (
        payload["pull_request"]["number"].as_u64(),
        payload["pull_request"]["head"]["sha"].as_str(),
    ) {
        gh.with(|s| s.pulls.insert(n, sha.to_string()));
    }
    let run = ci_run::CiJob::new(r, &gh.url, NOW)
        .event_file(event_name, event_path)
        .args(extra.iter().copied())
        .token(Some(TOKEN))
        .run();
    let outputs = run.output_pairs();
    Run {
        code: run.code,
        stdout: run.stdout,
        stderr: run.stderr,
        summary: run.summary,
        outputs,
        report: run.report.unwrap_or_default(),
    }
}

fn pr_run(r: &Repo, gh: &FakeGitHub, base: &str, head: &str) -> Run {
    let ev = event(r.dir.path(), "event", head, base, "dev", false);
    ci(r.dir.path(), gh, &ev, "pull_request", &[])
}

#[test]
fn the_sticky_comment_is_created_then_updated_then_left_alone() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    let first = pr_run(&r, &gh, &base, &head);
    assert_eq!(first.code, 1, "{}{}", first.stdout, first.stderr);
    assert_eq!(first.output("result"), "fail");
    assert_eq!(first.output("unapproved"), "1");
    let comments = gh.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.starts_with(&format!(
        "<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml head={head} -->"
    )));
    assert!(comments[0].body.contains("UNAPPROVED"));
    assert_eq!(first.output("comment-id"), comments[0].id.to_string());
    let posts = gh.writes();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].method, "POST");
    assert_eq!(posts[0].path, "/repos/acme/app/issues/7/comments");

    // A new commit changes the report: the same comment is updated in place.
    widen(
        &r,
        "patient/MedicationStatement.crus",
        "patient/MedicationStatement.cruds",
        "cu",
        "cud",
    );
    let head2 = r.commit("add delete");
    let second = pr_run(&r, &gh, &base, &head2);
    assert_eq!(second.code, 1);
    let comments = gh.comments();
    assert_eq!(comments.len(), 1, "never two comments");
    assert!(comments[0].body.contains("delete-access-added"));
    let writes = gh.writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[1].method, "PATCH");
    assert_eq!(
        writes[1].path,
        format!("/repos/acme/app/issues/comments/{}", comments[0].id)
    );

    // Same state again: the body is identical, so nothing is written.
    let third = pr_run(&r, &gh, &base, &head2);
    assert_eq!(third.code, 1);
    assert_eq!(gh.writes().len(), 2);
    assert_eq!(third.output("comment-id"), comments[0].id.to_string());
}

#[test]
fn our_comment_on_page_two_of_150_is_updated() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    for i in 0..120 {
        gh.add_comment("someone", &format!("comment {i}"));
    }
    // A comment with our marker by someone else is not ours.
    gh.add_comment(
        "mallory",
        "<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml --> fake",
    );
    let ours = gh.add_comment(
        "github-actions[bot]",
        "<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml -->\nold report",
    );
    for i in 0..28 {
        gh.add_comment("someone", &format!("later {i}"));
    }
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let writes = gh.writes();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PATCH");
    assert_eq!(
        writes[0].path,
        format!("/repos/acme/app/issues/comments/{ours}")
    );
    let pages: Vec<String> = gh
        .requests()
        .into_iter()
        .filter(|q| q.method == "GET" && q.path.contains("/issues/7/comments"))
        .map(|q| q.path)
        .collect();
    assert!(pages.iter().any(|p| p.contains("page=2")), "{pages:?}");
    assert_eq!(gh.comments().len(), 150);
}

#[test]
fn a_502_on_create_leaves_exactly_one_comment() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    // The POST commits on the server, but the client sees a 502.
    gh.fault(Fault::new("POST", "/issues/7/comments", 502).applied());
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 1);
    assert_eq!(gh.comments().len(), 1, "{:?}", gh.requests());
}

#[test]
fn a_429_with_retry_after_is_honoured() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    gh.fault(Fault::new("GET", "/issues/7/comments", 429).header("retry-after", "1"));
    let start = Instant::now();
    let run = pr_run(&r, &gh, &base, &head);
    assert!(start.elapsed() >= Duration::from_secs(1));
    assert_eq!(run.code, 1);
    assert_eq!(gh.comments().len(), 1);
}

#[test]
fn a_rate_limit_beyond_the_bound_skips_the_comment_not_the_verdict() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    let reset = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    gh.fault(
        Fault::new("GET", "/issues/7/comments", 403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset)
            .times(10),
    );
    let start = Instant::now();
    let run = pr_run(&r, &gh, &base, &head);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("::notice title=scopegate::The PR comment was skipped"),
        "{}",
        run.stdout
    );
    assert!(gh.comments().is_empty());
    assert!(run.summary.contains("FAIL"));
}

#[test]
fn a_fork_token_403_still_gives_the_verdict_and_summary() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    gh.fault(
        Fault::new("POST", "/issues/7/comments", 403)
            .header(
                "x-accepted-github-permissions",
                "issues=write; pull_requests=write",
            )
            .body(r#"{"message":"Resource not accessible by integration"}"#),
    );
    let ev = event(r.dir.path(), "fork", &head, &base, "dev", true);
    let run = ci(r.dir.path(), &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 1, "the gate's own code: {}", run.stderr);
    assert!(
        run.stdout
            .contains("::notice title=scopegate::The PR comment was skipped"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("pull_requests=write"), "{}", run.stdout);
    assert!(
        run.summary.contains("### scopegate: ❌ FAIL"),
        "{}",
        run.summary
    );
    assert!(
        run.stdout.contains("::error file=smart-app.yaml"),
        "annotations: {}",
        run.stdout
    );
    assert_eq!(run.output("result"), "fail");
    assert!(gh.comments().is_empty());
}

/// Lists `base..head` in the fake's PR commits API, all written and committed by dev.
fn pr_commits(r: &Repo, gh: &FakeGitHub, base: &str, head: &str) {
    for sha in r
        .git(&["rev-list", "--reverse", &format!("{base}..{head}")])
        .lines()
    {
        gh.add_pr_commit(sha, Some("dev"), Some("dev"), "work");
    }
}

fn approved_run(review: Option<(&str, &str)>, entry_by: &str) -> Run {
    let (r, base, _) = pr_repo();
    let head = add_entry(&r, entry_by);
    let gh = FakeGitHub::start();
    if let Some((who, commit)) = review {
        let commit = if commit == "HEAD" {
            head.clone()
        } else {
            commit.to_string()
        };
        gh.add_review(who, "APPROVED", &commit);
    }
    pr_commits(&r, &gh, &base, &head);
    pr_run(&r, &gh, &base, &head)
}

#[test]
fn a_pr_added_entry_with_no_review_is_pending_and_fails() {
    let run = approved_run(None, "alice");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.report.contains("\"state\": \"pending\""),
        "{}",
        run.report
    );
    assert!(run.summary.contains("PENDING"), "{}", run.summary);
    assert!(
        run.summary
            .contains("waiting for an APPROVED review by alice"),
        "{}",
        run.summary
    );
}

#[test]
fn an_approval_on_an_older_commit_fails() {
    let run = approved_run(
        Some(("alice", "0123456789abcdef0123456789abcdef01234567")),
        "alice",
    );
    assert_eq!(run.code, 1);
    assert!(run.report.contains("older commit"), "{}", run.report);
}

#[test]
fn an_approval_by_the_pr_author_fails() {
    let run = approved_run(Some(("dev", "HEAD")), "dev");
    assert_eq!(run.code, 1);
    assert!(run.report.contains("PR author"), "{}", run.report);
}

#[test]
fn an_approval_by_a_listed_approver_at_head_passes() {
    let run = approved_run(Some(("alice", "HEAD")), "alice");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.report);
    assert_eq!(run.output("result"), "pass");
    assert!(run.report.contains("\"state\": \"approved\""));
}

#[test]
fn an_approver_added_by_the_pr_itself_is_ignored() {
    let (r, base, _) = pr_repo();
    r.write(".scopegate/config.yaml", "approvers: [alice, mallory]\n");
    let head = add_entry(&r, "mallory");
    let gh = FakeGitHub::start();
    gh.add_review("mallory", "APPROVED", &head);
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 1, "{}", run.report);
    assert!(
        run.report
            .contains("mallory is not an approver in the config at the trusted commit"),
        "{}",
        run.report
    );
}

/// A `--depth 1` clone of `r` (in `c` under the returned directory): the release tag
/// and the baseline are not in it.
fn shallow_clone(r: &Repo) -> (tempfile::TempDir, PathBuf) {
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.dir.path().display());
    git_in(clone.path(), &["clone", "-q", "--depth", "1", &url, "c"]);
    let c = clone.path().join("c");
    (clone, c)
}

/// The fake GitHub serves release v1.0.0 at `base`: its manifest and config as `r`
/// holds them there, and a strict tenant profile at `profile` (only the API has it).
fn api_baseline(gh: &FakeGitHub, r: &Repo, base: &str, profile: &str) {
    gh.with(|s| {
        s.tags.push(("v1.0.0".into(), base.to_string()));
        for f in ["smart-app.yaml", ".scopegate/config.yaml"] {
            let bytes = git_in(r.dir.path(), &["show", &format!("{base}:{f}")]).into_bytes();
            s.contents.insert((f.to_string(), base.to_string()), bytes);
        }
        s.contents.insert(
            (profile.to_string(), base.to_string()),
            b"deny: [offline_access]\n".to_vec(),
        );
    });
}

#[test]
fn a_shallow_clone_reads_the_baseline_through_the_contents_api() {
    let (r, base, head) = pr_repo();
    let (_clone, c) = shallow_clone(&r);
    let gh = FakeGitHub::start();
    // A tenant profile only the API has: the listing of .scopegate/tenants/ at the
    // baseline must come through the API too.
    api_baseline(&gh, &r, &base, ".scopegate/tenants/strict.yaml");
    let ev = event(&c, "event", &head, &base, "dev", false);
    let run = ci(&c, &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.report.contains("via the contents API"),
        "{}",
        run.report
    );
    let report: serde_json::Value = serde_json::from_str(&run.report).unwrap();
    assert_eq!(report["tenants"][0]["tenant"], "strict");
    assert_eq!(report["tenants"][0]["policy"], "fail");
    assert_eq!(run.output("blocked-tenants"), "strict");
    assert_eq!(run.output("ship-to"), "");
    assert!(run.report.contains("med-rec:patient/MedicationStatement.u"));
    let got: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
    assert!(
        got.iter()
            .any(|p| p.starts_with("/repos/acme/app/contents/smart-app.yaml?ref=")),
        "{got:?}"
    );
    // The release is searched from the PR base: v1.0.0 is on it, so nothing is
    // compared, and never with the PR head.
    assert!(!got.iter().any(|p| p.contains("/compare/")), "{got:?}");
}

/// The contents API follows no directory that is a symlink (404 beyond one), where git
/// follows it inside the tree: a release whose `.scopegate` links to `policy/scopegate`
/// would have had no config, ledger or tenant profiles through the API, and been
/// judged by the defaults with its strict tenant dropped. It is exit 2, saying why and
/// how to read it through git; the same files in a directory are read (the control).
#[test]
fn a_scopegate_directory_symlinked_at_the_baseline_through_the_api_is_exit_2() {
    let (r, base, head) = pr_repo();
    let (_clone, c) = shallow_clone(&r);
    let gh = FakeGitHub::start();
    gh.with(|s| {
        s.tags.push(("v1.0.0".into(), base.clone()));
        let manifest = git_in(r.dir.path(), &["show", &format!("{base}:smart-app.yaml")]);
        s.contents.insert(
            ("smart-app.yaml".into(), base.clone()),
            manifest.into_bytes(),
        );
        s.contents.insert(
            ("policy/scopegate/config.yaml".into(), base.clone()),
            b"approvers: [alice]\n".to_vec(),
        );
        s.contents.insert(
            ("policy/scopegate/tenants/strict.yaml".into(), base.clone()),
            b"deny: [offline_access]\n".to_vec(),
        );
        s.symlinks.insert(
            (".scopegate".into(), base.clone()),
            "policy/scopegate".into(),
        );
    });
    let ev = event(&c, "event", &head, &base, "dev", false);
    let run = ci(&c, &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("`.scopegate` at") && run.stdout.contains("is a symlink"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(run.stdout.contains("fetch-depth: 0"), "{}", run.stdout);
    assert_eq!(run.output("result"), "error");
    // Control: the same files in a directory at the release are read through the API,
    // the tenant's policy with them.
    let gh = FakeGitHub::start();
    api_baseline(&gh, &r, &base, ".scopegate/tenants/strict.yaml");
    let run = ci(&c, &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.report).unwrap();
    assert_eq!(report["tenants"][0]["tenant"], "strict");
}

/// The contents API lists at most 1,000 entries of a directory and cuts the rest without
/// a word: a tenants directory that long through the API is exit 2 (a profile past the
/// cut would be dropped unsaid), and one shorter is read whole.
#[test]
fn a_tenants_directory_the_contents_api_may_cut_is_exit_2() {
    let (r, base, head) = pr_repo();
    let (_clone, c) = shallow_clone(&r);
    let run = |profiles: usize| {
        let gh = FakeGitHub::start();
        // The strict profile sorts last: past the cut when there are 1,000 others.
        api_baseline(&gh, &r, &base, ".scopegate/tenants/zz-strict.yaml");
        gh.with(|s| {
            for i in 0..profiles {
                s.contents.insert(
                    (format!(".scopegate/tenants/t{i:04}.yaml"), base.clone()),
                    b"description: lenient\n".to_vec(),
                );
            }
        });
        let ev = event(&c, "event", &head, &base, "dev", false);
        ci(&c, &gh, &ev, "pull_request", &[])
    };
    let attack = run(1000);
    assert_eq!(attack.code, 2, "{}{}", attack.stdout, attack.stderr);
    assert!(
        attack.stdout.contains("as many as the contents API lists"),
        "{}{}",
        attack.stdout,
        attack.stderr
    );
    // Control: a few others and the strict one, listed whole: the strict policy holds.
    // (Each profile is a request: the boundary itself, 999, is the unit test's.)
    let control = run(5);
    assert_eq!(control.code, 1, "{}{}", control.stdout, control.stderr);
    let report: serde_json::Value = serde_json::from_str(&control.report).unwrap();
    let strict = report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tenant"] == "zz-strict")
        .cloned();
    assert_eq!(strict.unwrap()["policy"], "fail", "{report:#}");
}

/// Checking that a file missing through the API is missing asks the directories on the
/// way from the top, and stops at the first that is not there: a new app as deep as the
/// change likes costs one request past the directories the baseline has, not one per
/// level (the head's paths are the change's to choose).
#[test]
fn a_deep_new_app_through_the_api_costs_one_request_past_the_baselines_directories() {
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    r.git(&["init", "-q", "-b", "main"]);
    r.write("apps/x/smart-app.yaml", &example());
    r.write(
        ".scopegate/config.yaml",
        "manifests: ['apps/**/smart-app.yaml']\napprovers: [alice]\n",
    );
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    let deep: String = (0..60).map(|i| format!("d{i}/")).collect();
    let new_app = format!("apps/{deep}smart-app.yaml");
    r.write(&new_app, &example().replace("id: med-rec", "id: deep"));
    let head = r.commit("a deep new app");
    let (_clone, c) = shallow_clone(&r);
    let gh = FakeGitHub::start();
    gh.with(|s| {
        s.tags.push(("v1.0.0".into(), base.clone()));
        for f in ["apps/x/smart-app.yaml", ".scopegate/config.yaml"] {
            let bytes = git_in(r.dir.path(), &["show", &format!("{base}:{f}")]).into_bytes();
            s.contents.insert((f.to_string(), base.clone()), bytes);
        }
    });
    let ev = event(&c, "event", &head, &base, "dev", false);
    let run = ci(&c, &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.report.contains("\"new_app\": true"), "{}", run.report);
    // Of the directories under `apps`, only `apps/d0` (not there) is asked about: nothing
    // deeper (bottom-up, it was 60 requests).
    let dirs: Vec<String> = gh
        .requests()
        .into_iter()
        .map(|q| q.path)
        .filter(|p| p.contains("/contents/apps/d0") && !p.contains("smart-app.yaml"))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:#?}");
    assert!(
        dirs[0].starts_with("/repos/acme/app/contents/apps/d0?"),
        "{dirs:#?}"
    );
}

/// Through the contents API as through git: a directory with a tenant profile's name at
/// the baseline is exit 2, never left out of the listing (its policy dropped unsaid).
#[test]
fn a_profile_that_is_a_directory_at_the_baseline_through_the_api_is_exit_2() {
    let (r, base, head) = pr_repo();
    let (_clone, c) = shallow_clone(&r);
    let run = |profile: &str| {
        let gh = FakeGitHub::start();
        api_baseline(&gh, &r, &base, profile);
        let ev = event(&c, "event", &head, &base, "dev", false);
        ci(&c, &gh, &ev, "pull_request", &[])
    };
    let attack = run(".scopegate/tenants/strict.yaml/inner.yaml");
    assert_eq!(attack.code, 2, "{}{}", attack.stdout, attack.stderr);
    assert!(
        attack
            .stdout
            .contains("strict.yaml is a directory, not a file"),
        "{}{}",
        attack.stdout,
        attack.stderr
    );
    // Control: the profile as a file is read and judged.
    let control = run(".scopegate/tenants/strict.yaml");
    assert_eq!(control.code, 1, "{}{}", control.stdout, control.stderr);
    let report: serde_json::Value = serde_json::from_str(&control.report).unwrap();
    assert_eq!(report["tenants"][0]["tenant"], "strict");
}

/// The event payload's size bound, both sides of it: a payload of exactly 32 MiB (a real
/// one, padded with whitespace) is read and the run goes on to its verdict; one byte
/// more is exit 2 with why, and the API is never asked.
#[test]
fn an_event_payload_of_32_mib_is_read_and_one_byte_more_is_refused() {
    let (r, base, head) = pr_repo();
    let ev = event(r.dir.path(), "event", &head, &base, "dev", false);
    let mut bytes = std::fs::read(&ev).unwrap();
    bytes.resize(32 << 20, b' ');
    std::fs::write(&ev, &bytes).unwrap();
    let gh = FakeGitHub::start();
    let run = ci(r.dir.path(), &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("result"), "fail");
    assert_eq!(run.output("unapproved"), "1");

    bytes.push(b' ');
    std::fs::write(&ev, &bytes).unwrap();
    let gh = FakeGitHub::start();
    let run = ci(r.dir.path(), &gh, &ev, "pull_request", &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("is over 32 MiB"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());
}

#[test]
fn a_shallow_clone_without_the_api_is_an_error() {
    let (r, _, _) = pr_repo();
    let (_clone, c) = shallow_clone(&r);
    let out = scopegate_in(&c)
        .args(["ci", "--now", NOW])
        .env("GITHUB_EVENT_NAME", "push")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error title=scopegate::") && stdout.contains("fetch-depth: 0"),
        "{stdout}"
    );
}

#[test]
fn the_token_never_appears_in_any_output() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    gh.fault(Fault::new("POST", "/issues/7/comments", 403));
    let run = pr_run(&r, &gh, &base, &head);
    assert!(!run.all_text().contains(TOKEN));
    // It was sent, in the Authorization header, to the API only.
    let auth: Vec<String> = gh
        .requests()
        .iter()
        .filter_map(|q| q.header("authorization").map(str::to_string))
        .collect();
    assert!(auth.iter().all(|a| a.contains(TOKEN)), "{auth:?}");
    // And an error run does not leak it either.
    let err = ci(
        r.dir.path(),
        &gh,
        Path::new("/nonexistent/event.json"),
        "pull_request",
        &[],
    );
    assert_eq!(err.code, 2);
    assert_eq!(err.output("result"), "error");
    assert!(!err.all_text().contains(TOKEN));
}

#[test]
fn a_push_is_gated_against_before_with_no_comment() {
    let (r, base, _) = pr_repo();
    let gh = FakeGitHub::start();
    let ev = r.dir.path().join("push.json");
    let payload = serde_json::json!({"ref": "refs/heads/main", "before": base,
        "repository": {"default_branch": "main"}});
    std::fs::write(&ev, payload.to_string()).unwrap();
    let run = ci(r.dir.path(), &gh, &ev, "push", &[]);
    assert_eq!(run.code, 1);
    assert_eq!(run.output("baseline"), base);
    assert!(gh.writes().is_empty());
}

#[test]
fn the_comment_marks_which_escalations_are_new_in_this_pr() {
    let (r, _, _) = pr_repo();
    // `u` was merged to main after the release; the PR branches from there and adds a
    // Condition scope.
    let pr_base = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    let t = r
        .read("smart-app.yaml")
        .replace(
            "  - scope: openid\n",
            "  - scope: patient/Condition.rs\n    rationale: indications\n  - scope: openid\n",
        )
        .replace(
            "      - patient/AllergyIntolerance.rs\n",
            "      - patient/AllergyIntolerance.rs\n      - patient/Condition.rs\n",
        );
    r.write("smart-app.yaml", &t);
    let head = r.commit("add conditions");
    let gh = FakeGitHub::start();
    let run = pr_run(&r, &gh, &pr_base, &head);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.report).unwrap();
    let new_in_pr = |key: &str| {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["key"] == key)
            .map(|c| c["new_in_pr"].clone())
    };
    assert_eq!(
        new_in_pr("med-rec:patient/MedicationStatement.u"),
        Some(serde_json::json!(false))
    );
    assert_eq!(
        new_in_pr("med-rec:patient/Condition.rs"),
        Some(serde_json::json!(true))
    );
    let body = &gh.comments()[0].body;
    assert!(body.contains("🆕 in this PR"), "{body}");
    assert!(body.contains("merged earlier, since the release"), "{body}");
    // With the PR base as the baseline, nothing is "earlier": the field is not computed.
    let ev = event(r.dir.path(), "again", &head, &pr_base, "dev", false);
    let again = ci(
        r.dir.path(),
        &gh,
        &ev,
        "pull_request",
        &["--baseline", "pr-base"],
    );
    assert!(!again.report.contains("new_in_pr"), "{}", again.report);
}

#[test]
fn a_forks_report_is_posted_by_the_comment_command_only_on_its_own_head() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    // Job 1: the fork's run, read-only: no comment, a report file.
    let ev = event(r.dir.path(), "fork", &head, &base, "dev", true);
    let run = ci(
        r.dir.path(),
        &gh,
        &ev,
        "pull_request",
        &["--comment", "never"],
    );
    assert_eq!(run.code, 1);
    assert!(gh.writes().is_empty());
    let report = r.dir.path().join("report.json");
    std::fs::write(&report, &run.report).unwrap();
    gh.add_pull(7, &head, &base, "dev", "fork/app");
    let comment = |head_sha: &str| {
        scopegate_in(r.dir.path())
            .args([
                "comment",
                "--report",
                report.to_str().unwrap(),
                "--pr",
                "7",
                "--head-sha",
                head_sha,
            ])
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("GITHUB_API_URL", &gh.url)
            .env("GITHUB_TOKEN", TOKEN)
            .output()
            .unwrap()
    };
    // Job 2 with a stale head: nothing is posted.
    let out = comment("0000000000000000000000000000000000000000");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("has moved on"));
    assert!(gh.comments().is_empty());
    // Job 2 on the PR's current head: one sticky comment, same marker as `ci` uses.
    let out = comment(&head);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let comments = gh.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.starts_with(&format!(
        "<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml head={head} -->"
    )));
    assert!(comments[0].body.contains("UNAPPROVED"));
    // A file that is not a report is refused loudly (exit 1); the verdict
    // recomputed from the head is what stays posted.
    std::fs::write(&report, "{\"not\": \"a report\"}").unwrap();
    let out = comment(&head);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("report was refused"));
    assert_eq!(gh.comments().len(), 1);
    assert!(gh.comments()[0].body.contains("UNAPPROVED"));
}

/// v1.0.0 with two apps under `apps/*/smart-app.yaml`; returns the repo and the release.
fn two_app_release() -> (Repo, String) {
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    r.git(&["init", "-q", "-b", "main"]);
    r.write("apps/a/smart-app.yaml", &example());
    r.write(
        "apps/b/smart-app.yaml",
        &example().replace("\nid: med-rec\n", "\nid: med-rec-2\n"),
    );
    r.write(
        ".scopegate/config.yaml",
        "manifests: [apps/*/smart-app.yaml]\napprovers: [alice]\n",
    );
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    (r, base)
}

// Regression (issue 12 §2): two apps swapping ids read as two moves, "NO CHANGE", and
// no comment was posted.
#[test]
fn an_id_swap_under_ci_fails_and_the_comment_shows_both_id_changes() {
    let (r, base) = two_app_release();
    let (a, b) = (
        r.read("apps/a/smart-app.yaml"),
        r.read("apps/b/smart-app.yaml"),
    );
    r.write("apps/a/smart-app.yaml", &b);
    r.write("apps/b/smart-app.yaml", &a);
    let head = r.commit("swap");
    let gh = FakeGitHub::start();
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("result"), "fail");
    let comments = gh.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("app-id-changed"),
        "{}",
        comments[0].body
    );
    assert!(
        comments[0].body.contains("id changed from"),
        "{}",
        comments[0].body
    );
}

// Regression (issue 12 §3): a manifest renamed to `.yml` was a removed app, and the
// gate passed.
#[test]
fn a_yml_rename_under_ci_is_exit_2_and_the_comment_says_gating_stopped() {
    let (r, base) = two_app_release();
    r.git(&["mv", "apps/b/smart-app.yaml", "apps/b/smart-app.yml"]);
    let head = r.commit("yml");
    let gh = FakeGitHub::start();
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("::error title=scopegate::apps/b/smart-app.yaml")
            && run.stdout.contains("apps/b/smart-app.yml"),
        "{}",
        run.stdout
    );
    assert_eq!(run.output("result"), "fail");
    let comments = gh.comments();
    assert_eq!(comments.len(), 1);
    assert!(
        comments[0].body.contains("gating stopped for this app"),
        "{}",
        comments[0].body
    );
    assert!(
        comments[0].body.contains("UNAPPROVED"),
        "{}",
        comments[0].body
    );
}

/// `ci` judges the commit under review as git holds it. It used to read the manifests
/// and the ledger from the working tree, so a step before it that rewrote them (a
/// build, a generator, PR code run by a test) was judged instead of the commit: the
/// release's manifest written back gave NO CHANGE, exit 0; a check of the paths it
/// named missed a symlinked manifest's target. Each rewrite here leaves the verdict
/// the commit's: one unapproved escalation, exit 1.
#[test]
fn a_working_tree_rewritten_before_ci_is_not_what_it_judges() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    let control = pr_run(&r, &gh, &base, &head);
    assert_eq!(control.code, 1, "{}{}", control.stdout, control.stderr);
    assert_eq!(control.output("unapproved"), "1");

    let judged_as_the_commit = |what: &str| {
        let run = pr_run(&r, &gh, &base, &head);
        assert_eq!(run.code, 1, "{what}: {}{}", run.stdout, run.stderr);
        assert_eq!(run.output("unapproved"), "1", "{what}");
        assert!(
            run.stdout.contains("patient/MedicationStatement.crus"),
            "{what}: {}",
            run.stdout
        );
    };
    // The release's manifest written back over the change's.
    r.write("smart-app.yaml", &example());
    judged_as_the_commit("manifest rewritten");
    // A ledger in the tree that would not even parse: it is not what is read.
    r.git(&["checkout", "--", "smart-app.yaml"]);
    r.write(".scopegate/approvals.yaml", "approvals: [\n");
    judged_as_the_commit("ledger written");
    r.git(&["checkout", "--", "."]);
    r.git(&["clean", "-fdq"]);
}

/// A committed manifest that is a symlink to a tracked file is the app at the link's
/// path, at both ends (its target named it, so the app looked moved: "gating stops",
/// and every scope removed). In `ci`, a step that rewrites the target while the link
/// stays is not judged.
#[test]
fn a_symlinked_manifest_is_judged_at_its_path_and_its_target_rewritten_in_the_tree_is_not() {
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    r.git(&["init", "-q", "-b", "main"]);
    r.write("data/app.yaml", &example());
    std::os::unix::fs::symlink("data/app.yaml", r.dir.path().join("smart-app.yaml")).unwrap();
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    let t = r.read("data/app.yaml").replace(
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.crus",
    );
    r.write("data/app.yaml", &t);
    let head = r.commit("add update");
    let gh = FakeGitHub::start();

    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("unapproved"), "1", "{}", run.stdout);
    assert!(!run.stdout.contains("app-gating-stopped"), "{}", run.stdout);
    assert!(!run.stdout.contains("app-removed"), "{}", run.stdout);

    // The target rewritten to the release's manifest: still the commit's escalation.
    r.write("data/app.yaml", &example());
    let run = pr_run(&r, &gh, &base, &head);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.output("unapproved"), "1", "{}", run.stdout);

    // `gate` in the tree: the link is the app's path.
    r.git(&["checkout", "--", "data/app.yaml"]);
    let gate = scopegate_in(r.dir.path()).args(["gate"]).output().unwrap();
    let out = String::from_utf8_lossy(&gate.stdout);
    assert_eq!(gate.status.code(), Some(1), "{out}");
    assert!(out.contains("(smart-app.yaml:"), "{out}");
    assert!(!out.contains("app-gating-stopped"), "{out}");
}

/// A GitHub App's installation token cannot read `/user` and posts as `<app>[bot]`,
/// while the sticky comment was looked for as `github-actions[bot]`: every run posted
/// one more "sticky" comment. The login GitHub says a created comment was posted as is
/// now who the token is, so the run's own re-list keeps the oldest and deletes the
/// rest (one comment after every run), and a notice names `--comment-author`, with which
/// the next run finds its comment without posting first. Another bot's comment that
/// carries the marker (a workflow echoing a PR body) is never taken over.
#[test]
fn a_github_app_token_keeps_one_sticky_comment() {
    let (r, base, head) = pr_repo();
    let gh = FakeGitHub::start();
    gh.with(|s| {
        s.user = None;
        s.app_bot = Some("myapp[bot]".to_string());
    });
    let ev = event(r.dir.path(), "event", &head, &base, "dev", false);
    for run_no in 1..=3 {
        let run = ci(r.dir.path(), &gh, &ev, "pull_request", &[]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let ours: Vec<_> = gh
            .comments()
            .into_iter()
            .filter(|c| c.login == "myapp[bot]")
            .collect();
        assert_eq!(ours.len(), 1, "run {run_no}: {:?}", gh.comments());
        assert!(
            run.stdout.contains("--comment-author myapp[bot]"),
            "{}",
            run.stdout
        );
    }
    let kept = gh.comments()[0].id;
    // With the flag: found at once, nothing posted, nothing deleted.
    let posts_before = gh.writes().iter().filter(|w| w.method == "POST").count();
    let run = ci(
        r.dir.path(),
        &gh,
        &ev,
        "pull_request",
        &["--comment-author", "myapp[bot]"],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let posts_after = gh.writes().iter().filter(|w| w.method == "POST").count();
    assert_eq!(posts_before, posts_after, "{:?}", gh.writes());
    assert!(!run.stdout.contains("--comment-author"), "{}", run.stdout);
    assert_eq!(
        gh.comments().iter().map(|c| c.id).collect::<Vec<_>>(),
        [kept]
    );

    // Another bot's comment with the marker is left as it is.
    let marker =
        format!("<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml head={head} -->");
    let other = gh.with(|s| {
        s.next_id += 1;
        let id = s.next_id;
        s.comments.insert(
            0,
            fake_github::Comment {
                id,
                login: "github-actions[bot]".into(),
                body: format!("{marker}\necho of a PR body"),
            },
        );
        id
    });
    let run = ci(
        r.dir.path(),
        &gh,
        &ev,
        "pull_request",
        &["--comment-author", "myapp[bot]"],
    );
    assert_eq!(run.code, 1);
    let echo = gh.comments().into_iter().find(|c| c.id == other).unwrap();
    assert!(echo.body.ends_with("echo of a PR body"), "{}", echo.body);
}
