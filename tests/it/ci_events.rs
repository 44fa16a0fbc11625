//! `scopegate ci` trusts only what it can verify (issue 13 §1, §2, §4), end to end:
//! the real binary on temp git repositories, against the fake GitHub on loopback.
//! Each attack sits next to a control.
//!
//! - Events: which can verify ledger entries a change adds, which leave them pending,
//!   which are refused; a push off the default branch is not judged against `before`.
//! - Head binding: the checked-out commit must be the PR head or its merge into the base.
//! - Reviewer independence: the approver wrote, committed and co-wrote none of the PR.

use crate::support::{ci_run, fake_github, git};

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use fake_github::{FakeGitHub, Fault};
use git::git_in;
use serde_json::{Value, json};

const NOW: &str = "2026-11-28T12:00:00Z";

/// A git identity: name, email. GitHub maps the email to a login (see [`feed`]).
type Who = (&'static str, &'static str);
const DEV: Who = ("Dev", "dev@corp.example");
const ALICE: Who = ("Alice", "alice@corp.example");
const BOB: Who = ("Bob", "bob@corp.example");
const STRANGER: Who = ("Stranger", "stranger@elsewhere.example");
/// What GitHub knows: email → login. The stranger's address is linked to no account.
const LOGINS: &[(&str, &str)] = &[
    ("dev@corp.example", "dev"),
    ("alice@corp.example", "alice"),
    ("bob@corp.example", "bob"),
    ("noreply@github.com", "web-flow"),
];

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
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
    fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
    /// Commits everything with this author and committer; returns the commit.
    fn commit_as(&self, msg: &str, author: Who, committer: Who) -> String {
        self.git(&["add", "-A"]);
        let out = Process::new("git")
            .args([
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                msg,
            ])
            .current_dir(self.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.path())
            .env("GIT_AUTHOR_NAME", author.0)
            .env("GIT_AUTHOR_EMAIL", author.1)
            .env("GIT_COMMITTER_NAME", committer.0)
            .env("GIT_COMMITTER_EMAIL", committer.1)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        self.head()
    }
    fn commit(&self, msg: &str, who: Who) -> String {
        self.commit_as(msg, who, who)
    }
}

fn example() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/med-rec.yaml"))
        .unwrap()
}

/// v1.0.0 on `main`: the med-rec app, `approvers: [alice, carol]`. Returns the commit.
fn released() -> (Repo, String) {
    let r = Repo {
        dir: tempfile::tempdir().unwrap(),
    };
    r.git(&["init", "-q", "-b", "main"]);
    r.write("smart-app.yaml", &example());
    r.write(".scopegate/config.yaml", "approvers: [alice, carol]\n");
    let base = r.commit("v1", DEV);
    r.git(&["tag", "v1.0.0"]);
    // As actions/checkout with `fetch-depth: 0` leaves it: the default branch's tip as
    // a remote-tracking ref, the trusted commit of events that name no base.
    r.git(&["update-ref", "refs/remotes/origin/main", &base]);
    (r, base)
}

/// Widens MedicationStatement from `crs` to `crus` (an escalation), committed as given.
fn escalate(r: &Repo, msg: &str, author: Who, committer: Who) -> String {
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
    r.commit_as(msg, author, committer)
}

fn scopegate_in(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("scopegate").unwrap();
    c.env_clear().env("NO_COLOR", "1").current_dir(dir);
    c
}

/// `scopegate approve --by BY` for the current escalations, not committed.
fn approve(r: &Repo, by: &str) {
    let out = scopegate_in(r.path())
        .args(["approve", "--by", by, "--ticket", "SEC-1", "--now", NOW])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// Lists the commits `base..head` in the fake's PR commits API, oldest first, with
/// each git identity mapped to a login as GitHub would (`null` when unknown).
fn feed(gh: &FakeGitHub, r: &Repo, base: &str, head: &str) {
    let log = r.git(&[
        "log",
        "--reverse",
        "--format=%H%x1f%ae%x1f%ce%x1f%B%x1e",
        &format!("{base}..{head}"),
    ]);
    let login = |email: &str| LOGINS.iter().find(|(e, _)| *e == email).map(|(_, l)| *l);
    for rec in log.split('\x1e').map(str::trim).filter(|s| !s.is_empty()) {
        let f: Vec<&str> = rec.split('\x1f').collect();
        gh.add_pr_commit(f[0], login(f[1]), login(f[2]), f[3]);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    report: String,
    outputs: String,
}

impl Run {
    fn text(&self) -> String {
        format!("{}{}{}", self.stdout, self.stderr, self.report)
    }
}

fn ci(dir: &Path, gh: &FakeGitHub, event_name: &str, payload: &Value, extra: &[&str]) -> Run {
    let run = ci_run::CiJob::new(dir, &gh.url, NOW)
        .command([
            "ci",
            "--now",
            NOW,
            "--api-max-wait",
            "3",
            "--api-timeout",
            "5",
            "--comment",
            "never",
        ])
        .args(extra.iter().copied())
        .event(event_name, payload.clone())
        .token(Some("ghs_token"))
        .without("GITHUB_STEP_SUMMARY")
        .without("GITHUB_JOB")
        .run();
    Run {
        code: run.code,
        stdout: run.stdout,
        stderr: run.stderr,
        report: run.report.unwrap_or_default(),
        outputs: run.outputs,
    }
}

fn pr_payload(head: &str, base: &str, author: &str) -> Value {
    json!({
        "action": "synchronize",
        "pull_request": {
            "number": 7,
            "user": {"login": author},
            "head": {"sha": head, "repo": {"full_name": "acme/app"}},
            "base": {"sha": base, "repo": {"full_name": "acme/app"}},
        }
    })
}

fn push_payload(git_ref: &str, before: &str, after: &str) -> Value {
    json!({
        "ref": git_ref,
        "before": before,
        "after": after,
        "repository": {"full_name": "acme/app", "default_branch": "main"},
    })
}

/// A PR by dev: dev's escalation, then alice's ledger entry, approved by alice on
/// GitHub at the head. Returns the repo, its base and head.
fn approved_pr() -> (Repo, String, String, FakeGitHub) {
    let (r, base) = released();
    escalate(&r, "add update", DEV, DEV);
    approve(&r, "alice");
    let head = r.commit("approve", ALICE);
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    feed(&gh, &r, &base, &head);
    (r, base, head, gh)
}

// ---- §1 events -------------------------------------------------------------------

#[test]
fn a_reviewed_entry_counts_on_the_pull_request_but_is_pending_on_events_without_one() {
    let (r, base, head, gh) = approved_pr();
    // Control: on the pull request, the review verifies alice's entry.
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(
        run.report.contains("\"state\": \"approved\""),
        "{}",
        run.report
    );
    let got: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
    assert!(
        got.iter()
            .any(|p| p.starts_with("/repos/acme/app/pulls/7/commits")),
        "{got:?}"
    );
    // Attack: the same tree, the same self-approved entry, on events with nothing to
    // verify it against. It must not count, and the run says why.
    for name in ["workflow_dispatch", "schedule", "release"] {
        let run = ci(r.path(), &gh, name, &json!({}), &[]);
        assert_eq!(run.code, 1, "{name}: {}", run.text());
        assert!(run.report.contains("\"state\": \"pending\""), "{name}");
        assert!(
            run.stdout.contains(&format!(
                "1 ledger entries added since the baseline are pending: a `{name}` run has no pull request"
            )),
            "{name}: {}",
            run.stdout
        );
        assert!(run.outputs.contains("result=fail"), "{name}");
    }
}

/// An event judged from the default branch's tip whose `repository.default_branch` is
/// not a plain ref name fell back to HEAD as the trusted commit: the pushed commit
/// chose its own judge and release tags. Now exit 2 naming the field; a pull request,
/// whose base is the trusted commit, is judged as before (control).
#[test]
fn an_unusable_default_branch_is_refused_not_replaced_by_head() {
    let (r, base, head, gh) = approved_pr();
    let odd = json!({"repository": {"full_name": "acme/app", "default_branch": "--upload-pack=x"}});
    for name in ["workflow_dispatch", "schedule"] {
        let run = ci(r.path(), &gh, name, &odd, &[]);
        assert_eq!(run.code, 2, "{name}: {}", run.text());
        assert!(
            run.stdout.contains("repository.default_branch")
                && run.stdout.contains("not a branch name"),
            "{name}: {}",
            run.stdout
        );
        assert!(run.outputs.contains("result=error"), "{name}");
    }
    let mut pr = pr_payload(&head, &base, "dev");
    pr["repository"] = json!({"full_name": "acme/app", "default_branch": "--upload-pack=x"});
    let run = ci(r.path(), &gh, "pull_request", &pr, &[]);
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn events_that_cannot_be_bound_to_a_pull_request_are_refused() {
    let (r, base, head, gh) = approved_pr();
    // Their payloads may carry a pull request; it is not the checked-out tree's.
    for name in [
        "issue_comment",
        "pull_request_review_comment",
        "workflow_run",
        "repository_dispatch",
    ] {
        let run = ci(r.path(), &gh, name, &pr_payload(&head, &base, "dev"), &[]);
        assert_eq!(run.code, 2, "{name}: {}", run.text());
        assert!(
            run.stdout.contains("unsupported event")
                && run
                    .stdout
                    .contains("pull_request_review, merge_group, push"),
            "{name}: {}",
            run.stdout
        );
        assert!(run.outputs.contains("result=error"), "{name}");
        assert!(!run.text().contains("PASS"), "{name}");
    }
    // No GITHUB_EVENT_NAME at all: not in Actions.
    let out = scopegate_in(r.path())
        .args(["ci", "--now", NOW])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("GITHUB_EVENT_NAME is not set"));
}

#[test]
fn a_push_off_the_default_branch_is_judged_against_the_previous_release_not_before() {
    let (r, _) = released();
    r.git(&["checkout", "-q", "-b", "feature"]);
    let escalation = escalate(&r, "add update", DEV, DEV);
    // The attack: an empty commit after the escalation, so `before..after` is empty.
    let empty = r.commit("nothing to see", DEV);
    let gh = FakeGitHub::start();
    for (git_ref, extra) in [
        ("refs/heads/feature", &[][..]),
        ("refs/heads/feature", &["--baseline", "pr-base"][..]),
        ("refs/heads/main-2", &[][..]),
        ("refs/tags/v1.1.0", &[][..]),
    ] {
        let run = ci(
            r.path(),
            &gh,
            "push",
            &push_payload(git_ref, &escalation, &empty),
            extra,
        );
        assert_eq!(run.code, 1, "{git_ref} {extra:?}: {}", run.text());
        assert!(!run.stdout.contains("NO CHANGE"), "{}", run.stdout);
        assert!(run.outputs.contains("baseline=v1.0.0"), "{}", run.outputs);
        assert!(
            run.stdout.contains(&format!("a push to `{git_ref}`"))
                && run.stdout.contains("is not judged against `before`"),
            "{}",
            run.stdout
        );
    }
    // A payload that does not name the default branch is not trusted either.
    let mut p = push_payload("refs/heads/main", &escalation, &empty);
    p["repository"] = json!({"full_name": "acme/app"});
    let run = ci(r.path(), &gh, "push", &p, &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    // Control: on the default branch, `before` is the branch's previous tip (which
    // only reviewed merges move): nothing changed since, NO CHANGE.
    let run = ci(
        r.path(),
        &gh,
        "push",
        &push_payload("refs/heads/main", &escalation, &empty),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stdout.contains("NO CHANGE"), "{}", run.stdout);
    assert!(run.outputs.contains(&format!("baseline={escalation}")));
}

#[test]
fn a_push_to_the_default_branch_leaves_entries_it_adds_pending() {
    let (r, base) = released();
    escalate(&r, "add update", DEV, DEV);
    approve(&r, "alice");
    let head = r.commit("approve", ALICE);
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    // Attack: a direct push that adds the escalation and its own approval.
    let run = ci(
        r.path(),
        &gh,
        "push",
        &push_payload("refs/heads/main", &base, &head),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.report.contains("a `push` run has no pull request"));
    // Control: once the entry is at `before`, it counts (it merged reviewed).
    let next = r.commit("unrelated", DEV);
    let run = ci(
        r.path(),
        &gh,
        "push",
        &push_payload("refs/heads/main", &head, &next),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn a_merge_group_verifies_the_queued_pull_request_or_leaves_entries_pending() {
    let (r, base, head, gh) = approved_pr();
    // The queue's commit: the PR merged onto the base.
    r.git(&["checkout", "-q", "--detach", &base]);
    r.git(&["merge", "-q", "--no-ff", "--no-edit", &head]);
    let group = r.head();
    gh.with(|s| {
        s.pulls.insert(7, head.clone());
        s.pull_authors.insert(7, "dev".into());
    });
    let payload = |head_ref: &str| {
        json!({"merge_group": {"base_sha": base, "head_sha": group, "head_ref": head_ref,
            "base_ref": "refs/heads/main"}})
    };
    let queued = format!("refs/heads/gh-readonly-queue/main/pr-7-{base}");
    // Control: alice's review of PR #7's head verifies her entry.
    let run = ci(r.path(), &gh, "merge_group", &payload(&queued), &[]);
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.report.contains("\"state\": \"approved\""));
    let got: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
    assert!(
        got.contains(&"/repos/acme/app/pulls/7".to_string()),
        "{got:?}"
    );
    // Attack: a head_ref that names no single pull request.
    for odd in [
        "refs/heads/main",
        "refs/heads/gh-readonly-queue/main/pr-7-abc/pr-8-def",
    ] {
        let run = ci(r.path(), &gh, "merge_group", &payload(odd), &[]);
        assert_eq!(run.code, 1, "{odd}: {}", run.text());
        assert!(
            run.report.contains("names no single pull request"),
            "{}",
            run.report
        );
    }
    // Attack: the queued pull request cannot be read: fail closed.
    gh.fault(Fault::new("GET", "/pulls/7", 404).times(5));
    let run = ci(r.path(), &gh, "merge_group", &payload(&queued), &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report.contains("reading queued pull request #7"),
        "{}",
        run.report
    );
    // Attack: the review was for another head than the one queued.
    gh.with(|s| {
        s.faults.clear();
        s.pulls.insert(7, base.clone());
    });
    let run = ci(r.path(), &gh, "merge_group", &payload(&queued), &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    // Attack: the pulls API names the queued head by a branch, which git would resolve
    // to whatever it points at now: refused, so the entry stays pending.
    gh.with(|s| {
        s.pulls.insert(7, "topic".into());
    });
    let run = ci(r.path(), &gh, "merge_group", &payload(&queued), &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report
            .contains("queued pull request #7 from the pulls API: head.sha is not a commit id"),
        "{}",
        run.report
    );
    // A checkout that is not the queue's commit is refused.
    r.git(&["checkout", "-q", &head]);
    let run = ci(r.path(), &gh, "merge_group", &payload(&queued), &[]);
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stdout.contains("merge_group.head_sha"),
        "{}",
        run.stdout
    );
}

// ---- §2 head binding --------------------------------------------------------------

#[test]
fn pull_request_target_with_the_base_checked_out_is_refused() {
    let (r, base) = released();
    r.git(&["checkout", "-q", "-b", "pr"]);
    let head = escalate(&r, "add update", DEV, DEV);
    let gh = FakeGitHub::start();
    let payload = pr_payload(&head, &base, "dev");
    // Attack: pull_request_target's default checkout is the base branch, where nothing
    // changed: it must not read NO CHANGE.
    r.git(&["checkout", "-q", "main"]);
    let run = ci(r.path(), &gh, "pull_request_target", &payload, &[]);
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(!run.stdout.contains("NO CHANGE"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("ref: ${{ github.event.pull_request.head.sha }}"),
        "{}",
        run.stdout
    );
    assert!(run.outputs.contains("result=error"));
    // Control: with the PR head checked out, the escalation is judged.
    r.git(&["checkout", "-q", &head]);
    let run = ci(r.path(), &gh, "pull_request_target", &payload, &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.outputs.contains("unapproved=1"), "{}", run.outputs);
}

#[test]
fn only_a_merge_of_the_pr_head_into_the_base_branch_stands_for_the_head() {
    let (r, base) = released();
    r.git(&["checkout", "-q", "-b", "pr"]);
    let head = escalate(&r, "add update", DEV, DEV);
    r.git(&["checkout", "-q", "-b", "other", &base]);
    let other = r.commit("some other work", BOB);
    let gh = FakeGitHub::start();
    let payload = pr_payload(&head, &base, "dev");
    let merge = |first: &str, second: &str| -> String {
        r.git(&["checkout", "-q", "--detach", first]);
        r.git(&["merge", "-q", "--no-ff", "--no-edit", second]);
        r.head()
    };
    // Control: GitHub's merge commit, base then head.
    merge(&base, &head);
    let run = ci(r.path(), &gh, "pull_request", &payload, &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.outputs.contains("unapproved=1"), "{}", run.outputs);
    // Control: the base branch moved on since the event's base.
    r.git(&["checkout", "-q", "main"]);
    let later = r.commit("main moved on", BOB);
    merge(&later, &head);
    let run = ci(r.path(), &gh, "pull_request", &payload, &[]);
    assert_eq!(run.code, 1, "{}", run.text());
    // Attack: a merge whose second parent is some other commit.
    merge(&base, &other);
    let run = ci(r.path(), &gh, "pull_request", &payload, &[]);
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stdout.contains("not of the PR head"), "{}", run.stdout);
    // Attack: the head merged into history that is not the base branch's.
    r.git(&["checkout", "-q", "--orphan", "stray"]);
    r.git(&["rm", "-rqf", "."]);
    r.write("README", "unrelated\n");
    let stray = r.commit("stray", BOB);
    r.git(&["checkout", "-q", "--detach", &stray]);
    r.git(&[
        "merge",
        "-q",
        "--no-ff",
        "--no-edit",
        "--allow-unrelated-histories",
        &head,
    ]);
    let run = ci(r.path(), &gh, "pull_request_review", &payload, &[]);
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stdout.contains("not the base"), "{}", run.stdout);
    // Attack: some other commit altogether (the base itself).
    r.git(&["checkout", "-q", &base]);
    let run = ci(r.path(), &gh, "pull_request", &payload, &[]);
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(!run.stdout.contains("NO CHANGE"));
}

// ---- §4 reviewer independence ------------------------------------------------------

/// A PR opened by dev whose escalating commit is made as given, then alice's ledger
/// entry (as alice), approved by alice at the head.
fn pr_with_escalation_by(author: Who, committer: Who, msg: &str) -> (Repo, FakeGitHub, Run) {
    let (r, base) = released();
    escalate(&r, msg, author, committer);
    approve(&r, "alice");
    let head = r.commit("approve", ALICE);
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    feed(&gh, &r, &base, &head);
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    (r, gh, run)
}

#[test]
fn an_approver_who_wrote_the_escalation_cannot_approve_it_when_someone_else_opened_the_pr() {
    // Attack: alice writes the escalation, dev opens the PR, alice approves it.
    let (_, _, run) = pr_with_escalation_by(ALICE, ALICE, "add update");
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report.contains("\"state\": \"pending\""),
        "{}",
        run.report
    );
    assert!(
        run.report.contains("alice wrote commit")
            && run
                .report
                .contains("an approver must be independent of the change"),
        "{}",
        run.report
    );
    // Control: bob wrote it; alice's own commit only appends her entry to the ledger.
    let (_, _, run) = pr_with_escalation_by(BOB, BOB, "add update");
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn an_approver_who_committed_or_co_wrote_the_escalation_is_not_independent() {
    // bob wrote it, alice committed it (a rebase, a cherry-pick).
    let (_, _, run) = pr_with_escalation_by(BOB, ALICE, "add update");
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report.contains("alice committed commit"),
        "{}",
        run.report
    );
    // bob committed it with alice as co-author, by her GitHub noreply address.
    let (_, _, run) = pr_with_escalation_by(
        BOB,
        BOB,
        "add update\n\nCo-authored-by: Alice <5+alice@users.noreply.github.com>",
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report.contains("alice co-wrote commit"),
        "{}",
        run.report
    );
    // A co-author GitHub cannot map to a login could be alice: fail closed.
    let (_, _, run) = pr_with_escalation_by(
        BOB,
        BOB,
        "add update\n\nCo-authored-by: A. <a@private.example>",
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report.contains("linked to no GitHub account"),
        "{}",
        run.report
    );
    // Control: committed through the web UI (committer web-flow), written by bob.
    let (_, _, run) = pr_with_escalation_by(BOB, ("GitHub", "noreply@github.com"), "add update");
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn a_commit_linked_to_no_github_account_fails_closed() {
    let (_, _, run) = pr_with_escalation_by(STRANGER, STRANGER, "add update");
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report.contains("the author of commit")
            && run.report.contains("linked to no GitHub account"),
        "{}",
        run.report
    );
}

#[test]
fn an_approvers_commit_that_does_more_than_append_to_the_ledger_counts_against_her() {
    let (r, base) = released();
    escalate(&r, "add update", BOB, BOB);
    approve(&r, "alice");
    // alice's approval commit also edits the config (say, loosening a severity).
    r.write(
        ".scopegate/config.yaml",
        "approvers: [alice, carol]\nseverity:\n  write-access-added: note\n",
    );
    let head = r.commit("approve", ALICE);
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    feed(&gh, &r, &base, &head);
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.report.contains("alice wrote commit"), "{}", run.report);
}

#[test]
fn the_commits_api_failing_or_cut_off_fails_closed() {
    // A 500 on every attempt: the entry stays pending and says why.
    let (r, base, head, gh) = approved_pr();
    gh.fault(Fault::new("GET", "/pulls/7/commits", 500).times(10));
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.report
            .contains("independence from the change cannot be verified")
            && run.report.contains("listing the pull request's commits"),
        "{}",
        run.report
    );
    // GitHub lists at most 250 commits: with that many, the rest cannot be seen.
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    for i in 0..260 {
        gh.add_pr_commit(&format!("{i:040x}"), Some("bob"), Some("bob"), "work");
    }
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.report.contains("at most 250"), "{}", run.report);
    // A commit GitHub lists that the clone does not have (a shallow checkout).
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    gh.add_pr_commit(&"e".repeat(40), Some("bob"), Some("bob"), "elsewhere");
    feed(&gh, &r, &base, &head);
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.report.contains("in the clone"), "{}", run.report);
    // The commits of another head (the pull request moved since the event, or a
    // re-run of an older run): in the head judged bob wrote the escalation, and the
    // list GitHub gives now names only dev. It must end at the head judged.
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    gh.add_pr_commit(&"d".repeat(40), Some("dev"), Some("dev"), "the new head");
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.report.contains("not the head judged"), "{}", run.report);
}

#[test]
fn content_moved_into_the_manifest_by_someone_else_still_counts_against_its_writer() {
    // Attack: alice writes the escalated manifest under another name; bob's commit
    // only moves it into place. A rule that looked at manifest paths alone would
    // see only bob.
    let (r, base) = released();
    let widened = r
        .read("smart-app.yaml")
        .replace(
            "patient/MedicationStatement.crs",
            "patient/MedicationStatement.crus",
        )
        .replace(
            "      - patient/MedicationStatement.c\n",
            "      - patient/MedicationStatement.cu\n",
        );
    r.write("drafts/next.yaml", &widened);
    r.commit("draft", ALICE);
    r.git(&["mv", "-f", "drafts/next.yaml", "smart-app.yaml"]);
    r.commit("adopt the draft", BOB);
    approve(&r, "alice");
    let head = r.commit("approve", ALICE);
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    feed(&gh, &r, &base, &head);
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.report.contains("alice wrote commit"), "{}", run.report);
}

#[test]
fn merges_that_change_nothing_themselves_and_empty_commits_do_not_count() {
    // Control: alice brings the branch up to date with main (GitHub's "Update branch"
    // merge, which takes each file from one side) and a stranger's empty commit: she
    // is still independent of bob's escalation.
    let (r, base) = released();
    r.git(&["checkout", "-q", "-b", "pr"]);
    escalate(&r, "add update", BOB, BOB);
    r.git(&["checkout", "-q", "main"]);
    r.write("docs/notes.md", "unrelated\n");
    r.commit("docs", DEV);
    r.git(&["checkout", "-q", "pr"]);
    let out = Process::new("git")
        .args([
            "-c",
            "commit.gpgsign=false",
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            "main",
        ])
        .current_dir(r.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", r.path())
        .env("GIT_AUTHOR_NAME", ALICE.0)
        .env("GIT_AUTHOR_EMAIL", ALICE.1)
        .env("GIT_COMMITTER_NAME", "GitHub")
        .env("GIT_COMMITTER_EMAIL", "noreply@github.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    r.commit("retrigger", STRANGER);
    approve(&r, "alice");
    let head = r.commit("approve", ALICE);
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    let main = r.git(&["rev-parse", "main"]).trim().to_string();
    feed(&gh, &r, &main, &head);
    let run = ci(
        r.path(),
        &gh,
        "pull_request",
        &pr_payload(&head, &base, "dev"),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.text());
}

#[test]
fn a_shallow_checkout_of_githubs_merge_commit_is_bound_by_the_parents_it_records() {
    let (r, base) = released();
    r.git(&["checkout", "-q", "-b", "pr"]);
    let head = escalate(&r, "add update", DEV, DEV);
    r.git(&["checkout", "-q", "-b", "stray", &base]);
    let stray = r.commit("stray", BOB);
    let gh = FakeGitHub::start();
    gh.with(|s| {
        for f in ["smart-app.yaml", ".scopegate/config.yaml"] {
            let bytes = git_in(r.path(), &["show", &format!("{base}:{f}")]).into_bytes();
            s.contents.insert((f.to_string(), base.clone()), bytes);
        }
    });
    let clones = tempfile::tempdir().unwrap();
    // actions/checkout's default on pull_request: depth 1 of refs/pull/N/merge, so
    // the parents are named in the commit but not in the clone.
    let shallow = |second: &str, name: &str| -> PathBuf {
        r.git(&["checkout", "-q", "-B", name, &base]);
        r.git(&["merge", "-q", "--no-ff", "--no-edit", second]);
        let dir = clones.path().join(name);
        let url = format!("file://{}", r.path().display());
        git_in(
            r.path(),
            &[
                "clone",
                "-q",
                "--depth",
                "1",
                "--branch",
                name,
                &url,
                dir.to_str().unwrap(),
            ],
        );
        dir
    };
    let payload = pr_payload(&head, &base, "dev");
    // Control: the merge of the PR head is judged (the baseline through the API).
    let good = shallow(&head, "merge-ok");
    let run = ci(
        &good,
        &gh,
        "pull_request",
        &payload,
        &["--baseline", "pr-base"],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.outputs.contains("unapproved=1"), "{}", run.outputs);
    // Attack: a shallow merge of some other commit is still refused.
    let bad = shallow(&stray, "merge-bad");
    let run = ci(
        &bad,
        &gh,
        "pull_request",
        &payload,
        &["--baseline", "pr-base"],
    );
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stdout.contains("not of the PR head"), "{}", run.stdout);
}

/// A release tag push (examples/workflows/release-gate.yml): the PR that escalated and
/// its approval merged into `main`, then `main`'s tip is tagged. The entry is in the
/// ledger at the trusted commit (`origin/main`), so it counts as reviewed when it
/// merged; an entry that never reached `main` (a tag pushed on a side branch) stays
/// pending, and a tag on a side branch never moves the trusted commit.
#[test]
fn a_release_tag_on_the_default_branch_counts_merged_approvals_and_only_those() {
    let (r, base) = released();
    escalate(&r, "add update", DEV, DEV);
    approve(&r, "alice");
    let merged = r.commit("approve", ALICE);
    r.git(&["update-ref", "refs/remotes/origin/main", &merged]);
    r.git(&["tag", "v1.1.0"]);
    let gh = FakeGitHub::start();
    let run = ci(
        r.path(),
        &gh,
        "push",
        &push_payload("refs/tags/v1.1.0", &"0".repeat(40), &merged),
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.outputs.contains("baseline=v1.0.0"), "{}", run.outputs);
    assert!(run.stdout.contains("approved by alice"), "{}", run.stdout);

    // Attack: the same escalation and entry on a side branch that never merged, tagged
    // v1.2.0 there: `origin/main` is still the release, so the entry is the change's own.
    r.git(&["checkout", "-q", "-b", "side", &base]);
    r.git(&["update-ref", "refs/remotes/origin/main", &base]);
    escalate(&r, "add update", DEV, DEV);
    approve(&r, "alice");
    let side = r.commit("approve", ALICE);
    r.git(&["tag", "v1.2.0"]);
    let run = ci(
        r.path(),
        &gh,
        "push",
        &push_payload("refs/tags/v1.2.0", &"0".repeat(40), &side),
        &[],
    );
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stdout.contains("PENDING"), "{}", run.stdout);
}

/// A tag push in a clone without `origin/main` (a shallow checkout of the tag): the
/// trusted commit, the default branch's tip, is read through the API. Asked by the bare
/// name `main`, a tag pushed as `main` (on a commit whose ledger approves the change)
/// could answer for the branch. The branch's tip is asked of the branch refs alone
/// (`git/ref/heads/main`), and every file is read at that commit.
#[test]
fn the_default_branch_read_through_the_api_is_its_tip_never_a_tag_of_its_name() {
    let (r, base) = released();
    r.git(&["checkout", "-q", "-b", "side"]);
    escalate(&r, "add update", DEV, DEV);
    approve(&r, "alice");
    let side = r.commit("approve", ALICE);
    r.git(&["tag", "v1.1.0"]);
    r.git(&["update-ref", "-d", "refs/remotes/origin/main"]);
    let gh = FakeGitHub::start();
    let files = [
        "smart-app.yaml",
        ".scopegate/config.yaml",
        ".scopegate/approvals.yaml",
    ];
    gh.with(|s| {
        s.tags.push(("v1.1.0".into(), side.clone()));
        s.tags.push(("main".into(), side.clone()));
        s.tags.push(("v1.0.0".into(), base.clone()));
        s.compare
            .insert((base.clone(), base.clone()), "identical".into());
        s.compare
            .insert((side.clone(), base.clone()), "behind".into());
        s.compare
            .insert((base.clone(), side.clone()), "ahead".into());
        s.compare
            .insert((side.clone(), side.clone()), "identical".into());
        s.branches.insert("main".into(), base.clone());
        for f in files {
            for (at, from) in [(base.as_str(), base.as_str()), ("main", side.as_str())] {
                let shown = Process::new("git")
                    .args(["show", &format!("{from}:{f}")])
                    .current_dir(r.path())
                    .output()
                    .unwrap();
                if shown.status.success() {
                    s.contents
                        .insert((f.to_string(), at.to_string()), shown.stdout);
                }
            }
        }
    });
    let tag_push = || {
        ci(
            r.path(),
            &gh,
            "push",
            &push_payload("refs/tags/v1.1.0", &"0".repeat(40), &side),
            &[],
        )
    };
    let run = tag_push();
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(run.stdout.contains("PENDING"), "{}", run.stdout);
    let asked: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
    assert!(
        asked.contains(&"/repos/acme/app/git/ref/heads/main".to_string()),
        "{asked:?}"
    );
    assert!(
        asked
            .iter()
            .any(|p| p.ends_with(&format!("approvals.yaml?ref={base}"))),
        "{asked:?}"
    );
    assert!(!asked.iter().any(|p| p.contains("ref=main")), "{asked:?}");

    // Control: the branch's tip is the commit with the entry (it merged): it counts.
    gh.with(|s| {
        s.branches.insert("main".into(), side.clone());
        for f in files {
            let bytes = s
                .contents
                .get(&(f.to_string(), "main".to_string()))
                .cloned();
            if let Some(b) = bytes {
                s.contents.insert((f.to_string(), side.clone()), b);
            }
        }
    });
    let run = tag_push();
    assert_eq!(run.code, 0, "{}", run.text());

    // A branch the API does not know is exit 2, never a read by its bare name.
    gh.with(|s| s.branches.clear());
    let run = tag_push();
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("tip of branch `main`"),
        "{}",
        run.text()
    );
}
