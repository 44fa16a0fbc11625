//! `scopegate ci` against a hostile or misbehaving GitHub API (issue 17 §1–§4, §7),
//! end to end: the real binary in a real git repository, a fake GitHub on loopback.
//! Whatever the API does, the verdict and the outputs stand, the run ends, its memory
//! is bounded, no piece of the token is printed, and one sticky comment remains.
//! Memory is measured with `/usr/bin/time -v`.
#![allow(clippy::print_stderr)]

use crate::support::{ci_run, fake_github, repo};

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, Fault, Stream};
use repo::{NOW, Repo, example};
use serde_json::json;

const TOKEN: &str = "ghp_Zq8RmT4vLx2Nw7KpYc3Hs9JdFb6GeVuA1o5i";
const BOT: &str = "github-actions[bot]";
const MARKER: &str = "<!-- scopegate:v1 job=scopegate manifests=smart-app.yaml";

/// v1.0.0 with the med-rec app, then a PR commit that adds `u` on
/// MedicationStatement: the gate fails. `approvers` goes into the config.
fn pr_repo(approvers: &str) -> (Repo, String, String) {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(
        ".scopegate/config.yaml",
        &format!("approvers: [{approvers}]\n"),
    );
    let base = r.commit("v1");
    r.release("v1.0.0");
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
    let head = r.commit("add update");
    (r, base, head)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
    outputs: String,
    report: String,
    /// Peak resident memory in KiB, from `/usr/bin/time -v`.
    max_rss_kib: u64,
    took: Duration,
}

impl Run {
    fn output(&self, k: &str) -> Option<&str> {
        self.outputs
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(a, _)| *a == k)
            .map(|(_, v)| v)
            .next_back()
    }
    fn everything(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{}",
            self.stdout, self.stderr, self.summary, self.outputs, self.report
        )
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    cmd: Command,
}

fn setup(r: &Repo, gh: &FakeGitHub, event: &str, head: &str, base: &str, extra: &[&str]) -> Setup {
    let payload = json!({"pull_request": {"number": 7, "user": {"login": "dev"},
        "head": {"sha": head, "repo": {"full_name": "acme/app"}},
        "base": {"sha": base, "repo": {"full_name": "acme/app"}}}});
    let p = ci_run::CiJob::new(r.path(), &gh.url, NOW)
        .via(&["/usr/bin/time", "-v"])
        .command(["ci", "--now", NOW])
        .args(extra.iter().copied())
        .event(event, payload)
        // As a secret pasted with a newline: the client trims it, so must redaction.
        .token(Some(&format!(" {TOKEN}\n")))
        .prepare();
    Setup {
        dir: p.dir().to_path_buf(),
        _tmp: p.tmp,
        cmd: p.cmd,
    }
}

fn finish(s: &Setup, out: std::process::Output, took: Duration) -> Run {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let max_rss_kib = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let read = |name: &str| std::fs::read_to_string(s.dir.join(name)).unwrap_or_default();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        summary: read("summary.md"),
        outputs: read("output"),
        report: read("scopegate-report.json"),
        stderr,
        max_rss_kib,
        took,
    }
}

fn ci(r: &Repo, gh: &FakeGitHub, head: &str, base: &str, extra: &[&str]) -> Run {
    gh.with(|s| s.pulls.entry(7).or_insert_with(|| head.to_string()).clone());
    let mut s = setup(r, gh, "pull_request", head, base, extra);
    let start = Instant::now();
    let out = s.cmd.output().unwrap();
    finish(&s, out, start.elapsed())
}

fn spawn(s: &mut Setup) -> Child {
    s.cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn assert_no_piece(what: &str, text: &str) {
    let found: Vec<&str> = (0..=TOKEN.len() - 8)
        .map(|i| &TOKEN[i..i + 8])
        .filter(|p| text.contains(p))
        .collect();
    assert!(
        found.is_empty(),
        "{what} shows {found:?} of the token:\n{text}"
    );
}

/// The verdict stands: exit 1, `result=fail` written, the report and the summary there.
fn assert_verdict_stands(run: &Run) {
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.output("result"), Some("fail"), "{}", run.outputs);
    assert!(run.report.contains("\"verdict\""));
    assert!(run.summary.contains("❌ FAIL"), "{}", run.summary);
}

fn comment_skipped(run: &Run) -> bool {
    run.stdout
        .contains("::notice title=scopegate::The PR comment was skipped")
}

// ---- §2 ----

/// Regression (issue 17 §2): a team lookup failed with a message whose end was cut
/// at 500 characters before the token was scrubbed, and the part of the token left
/// went into the report, the job summary and the public PR comment.
#[test]
fn no_piece_of_the_token_reaches_any_output_or_request_body() {
    let (r, base, _) = pr_repo("acme/release");
    let out = r.run(&["approve", "--by", "alice", "--ticket", "SEC-1"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let head = r.commit("approve");
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    gh.fault(
        Fault::new("GET", "/orgs/acme/teams/release/memberships/alice", 403)
            .body(
                &json!({"message": format!("{}{TOKEN} in a message", "m".repeat(488))}).to_string(),
            )
            .times(5),
    );
    let run = ci(&r, &gh, &head, &base, &[]);
    assert_verdict_stands(&run);
    // Control: the reason is reported (scrubbed), the comment was posted.
    assert!(run.summary.contains("403"), "{}", run.summary);
    assert_eq!(gh.comments().len(), 1);
    assert_no_piece("the run", &run.everything());
    for q in gh.requests() {
        assert_no_piece(&format!("{} {}", q.method, q.path), &q.body);
    }

    // The comment write refused with the token in a JSON-escaped message and in a
    // header: the notice shows neither.
    let escaped: String = TOKEN
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let gh = FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    gh.with(|s| {
        s.teams
            .insert(("acme".into(), "release".into()), vec!["alice".into()])
    });
    gh.fault(
        Fault::new("POST", "/issues/7/comments", 403)
            .body(&format!(r#"{{"message":"denied {escaped}"}}"#))
            .header(
                "x-accepted-github-permissions",
                &format!("pull_requests={TOKEN}"),
            ),
    );
    let run = ci(&r, &gh, &head, &base, &["--fail-on", "never"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(comment_skipped(&run), "{}", run.stdout);
    assert_no_piece("the run", &run.everything());
}

// ---- §1, §7 ----

#[test]
fn a_redirect_off_the_api_origin_is_not_followed_and_the_verdict_stands() {
    let (r, base, head) = pr_repo("alice");
    let gh = FakeGitHub::start();
    let foreign = FakeGitHub::start();
    foreign.fault(
        Fault::new("GET", "/", 302)
            .header("location", &format!("{}/again", foreign.url))
            .times(10),
    );
    gh.fault(
        Fault::new("GET", "/issues/7/comments", 302)
            .header("location", &format!("{}/list", foreign.url)),
    );
    let run = ci(&r, &gh, &head, &base, &[]);
    assert_verdict_stands(&run);
    assert!(comment_skipped(&run), "{}", run.stdout);
    assert!(run.stdout.contains("off the API origin"), "{}", run.stdout);
    assert!(foreign.requests().is_empty());
    assert!(gh.comments().is_empty());
    assert_eq!(run.output("comment-id"), Some(""));
}

/// Regression (issue 17 §7): a PATCH answered with 304 or 302 set `comment-id` and
/// said nothing, although the comment did not change.
#[test]
fn a_comment_update_answered_with_3xx_sets_no_comment_id() {
    let (r, base, head) = pr_repo("alice");
    for status in [302, 304] {
        let gh = FakeGitHub::start();
        let id = gh.add_comment(BOT, &format!("{MARKER} -->\nold"));
        gh.fault(
            Fault::new("PATCH", "/issues/comments/", status)
                .header("location", &format!("{}/x", gh.url))
                .body(""),
        );
        let run = ci(&r, &gh, &head, &base, &[]);
        assert_verdict_stands(&run);
        assert!(comment_skipped(&run), "{status}: {}", run.stdout);
        assert_eq!(run.output("comment-id"), Some(""), "{status}");
        assert_eq!(gh.comments()[0].body, format!("{MARKER} -->\nold"));
        // Control: the next run, answered normally, updates it.
        let run = ci(&r, &gh, &head, &base, &[]);
        assert_eq!(run.output("comment-id"), Some(id.to_string().as_str()));
    }
}

// ---- §3 ----

/// Regression (issue 17 §3): a 400 MB body cost 0.9–1.6 GB; an endless one aborted
/// the process (exit 134) with no `result`; an endless listing reached 4.9 GB.
#[test]
fn huge_endless_and_endless_paginated_answers_are_bounded_in_memory_and_keep_the_verdict() {
    let (r, base, head) = pr_repo("alice");
    let control = ci(&r, &FakeGitHub::start(), &head, &base, &[]);
    assert_verdict_stands(&control);
    assert!(control.max_rss_kib > 0, "no /usr/bin/time figure");
    type Hostile = Box<dyn Fn(&FakeGitHub)>;
    let cases: Vec<(&str, Hostile)> = vec![
        (
            "400 MB announced",
            Box::new(|gh| {
                gh.fault(Fault::new("GET", "/comments", 200).stream(Stream::Sized(400 << 20)))
            }),
        ),
        (
            "400 MB chunked",
            Box::new(|gh| {
                gh.fault(Fault::new("GET", "/comments", 200).stream(Stream::Chunked(400 << 20)))
            }),
        ),
        (
            "endless body",
            Box::new(|gh| gh.fault(Fault::new("GET", "/comments", 200).stream(Stream::Endless))),
        ),
        (
            "endless listing",
            Box::new(|gh| gh.with(|s| s.endless_pages = Some(20_000))),
        ),
    ];
    for (name, hostile) in cases {
        let gh = FakeGitHub::start();
        hostile(&gh);
        let run = ci(&r, &gh, &head, &base, &[]);
        assert_verdict_stands(&run);
        assert!(comment_skipped(&run), "{name}: {}", run.stdout);
        assert!(run.stdout.contains("cap"), "{name}: {}", run.stdout);
        assert_eq!(run.output("comment-id"), Some(""), "{name}");
        eprintln!(
            "{name}: max RSS {} KiB (control {} KiB), {:?}",
            run.max_rss_kib, control.max_rss_kib, run.took
        );
        // The caps: 4 MiB per answer, 16 MiB per listing. Generous against noise,
        // far below the gigabytes an uncapped read takes.
        assert!(
            run.max_rss_kib < control.max_rss_kib + 160 * 1024,
            "{name}: {} KiB",
            run.max_rss_kib
        );
        assert!(run.took < Duration::from_secs(60), "{name}: {:?}", run.took);
    }
}

/// Regression (issue 17 §3): the timeout was per read, so a body dripping one byte
/// every 20 s never ended.
#[test]
fn a_dripping_answer_ends_at_the_call_deadline_and_the_verdict_stands() {
    let (r, base, head) = pr_repo("alice");
    let gh = FakeGitHub::start();
    gh.fault(Fault::new("GET", "/comments", 200).stream(Stream::Drip(Duration::from_secs(20))));
    let run = ci(
        &r,
        &gh,
        &head,
        &base,
        &["--api-timeout", "30", "--api-call-timeout", "3"],
    );
    assert_verdict_stands(&run);
    assert!(run.stdout.contains("--api-call-timeout"), "{}", run.stdout);
    assert!(run.took < Duration::from_secs(15), "{:?}", run.took);
    // And the run deadline, over calls that each wait out a rate limit.
    let gh = FakeGitHub::start();
    gh.fault(
        Fault::new("GET", "/", 429)
            .header("retry-after", "1")
            .times(1000),
    );
    let run = ci(&r, &gh, &head, &base, &["--api-run-timeout", "2"]);
    assert_verdict_stands(&run);
    assert!(run.took < Duration::from_secs(10), "{:?}", run.took);
}

/// The outputs are written before the comment step: a run killed while the API
/// hangs still has its `result`.
#[test]
fn the_outputs_are_written_before_the_comment_step() {
    let (r, base, head) = pr_repo("alice");
    let gh = FakeGitHub::start();
    gh.with(|s| s.pulls.insert(7, head.clone()));
    gh.fault(Fault::new("GET", "/comments", 200).stream(Stream::Drip(Duration::from_secs(1))));
    let mut s = setup(&r, &gh, "pull_request", &head, &base, &[]);
    let mut child = spawn(&mut s);
    let outputs = s.dir.join("output");
    let start = Instant::now();
    while !gh.requests().iter().any(|q| q.path.contains("/comments")) {
        assert!(start.elapsed() < Duration::from_secs(60), "no comment step");
        std::thread::sleep(Duration::from_millis(50));
    }
    // In the comment step, stuck on the dripping listing.
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    child.wait().unwrap();
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert!(written.contains("result=fail\n"), "{written}");
    assert!(written.contains("unapproved=1\n"), "{written}");
    assert!(!written.contains("comment-id="), "{written}");
}

// ---- §4 ----

/// Regression (issue 17 §4): a `pull_request` and a `pull_request_review` run both
/// listed, found nothing and created: ten pairs out of ten left two comments.
#[test]
fn two_racing_runs_leave_one_sticky_comment() {
    let (r, base, head) = pr_repo("alice");
    let gh = FakeGitHub::start();
    gh.with(|s| s.pulls.insert(7, head.clone()));
    gh.fault(
        Fault::new("GET", "/issues/7/comments", 200)
            .delay(Duration::from_millis(700))
            .times(100),
    );
    let mut a = setup(&r, &gh, "pull_request", &head, &base, &[]);
    let mut b = setup(&r, &gh, "pull_request_review", &head, &base, &[]);
    let (ca, cb) = (spawn(&mut a), spawn(&mut b));
    let runs: Vec<Run> = [(a, ca), (b, cb)]
        .into_iter()
        .map(|(s, c)| {
            let out = c.wait_with_output().unwrap();
            finish(&s, out, Duration::ZERO)
        })
        .collect();
    let comments = gh.comments();
    assert_eq!(comments.len(), 1, "{comments:?}");
    let posts = gh.requests().iter().filter(|q| q.method == "POST").count();
    assert_eq!(posts, 2, "the runs did not race");
    for run in &runs {
        assert_verdict_stands(run);
        assert_eq!(
            run.output("comment-id"),
            Some(comments[0].id.to_string().as_str())
        );
    }
}

/// Regression (issue 17 §4): an older head's run overwrote the newer head's verdict.
#[test]
fn a_run_for_an_older_head_leaves_the_newer_heads_comment_alone() {
    let (r, base, head) = pr_repo("alice");
    let newer = "b".repeat(40);
    let gh = FakeGitHub::start();
    gh.with(|s| s.pulls.insert(7, newer.clone()));
    let theirs = format!("{MARKER} head={newer} -->\nFAIL on the newer head");
    let id = gh.add_comment(BOT, &theirs);
    let run = ci(&r, &gh, &head, &base, &[]);
    assert_verdict_stands(&run);
    assert!(run.stdout.contains("has moved on to"), "{}", run.stdout);
    assert_eq!(gh.comments()[0].body, theirs);
    assert!(gh.writes().is_empty());
    assert_eq!(run.output("comment-id"), Some(""));
    // Control: once the PR's head is the run's, the comment is updated, naming it.
    gh.with(|s| s.pulls.insert(7, head.clone()));
    let run = ci(&r, &gh, &head, &base, &[]);
    assert_eq!(run.output("comment-id"), Some(id.to_string().as_str()));
    assert!(
        gh.comments()[0]
            .body
            .starts_with(&format!("{MARKER} head={head} -->"))
    );
}

// ---- §5 (the comment renderer) ----

/// A report as a fork's `scopegate ci` could upload it: `apps` apps, each with one
/// unapproved escalation.
fn report_with_changed_apps(apps: usize) -> String {
    use scopegate::report::{
        AppReport, Approval, ApprovalState, Change, Direction, Location, Report, Verdict,
    };
    use scopegate::rules::Severity;
    let mut changes = Vec::new();
    let mut app_reports = Vec::new();
    for i in 0..apps {
        let id = format!("app-{i:05}");
        let path = format!("apps/{id}/smart-app.yaml");
        changes.push(Change {
            app: id.clone(),
            direction: Direction::Escalation,
            rule: scopegate::rules::RuleId::WriteAccessAdded,
            also: Vec::new(),
            severity: if i % 7 == 0 {
                Severity::Error
            } else {
                Severity::Warning
            },
            key: format!("{id}:patient/Observation.u"),
            scope: "patient/Observation.u".into(),
            head: Some("patient/Observation.cu".into()),
            before: Vec::new(),
            description: "`patient/Observation.u` added".into(),
            location: Location {
                file: path.clone(),
                line: 9,
                column: 7,
            },
            workflows: vec!["chart".into()],
            approval: Approval {
                state: ApprovalState::Unapproved,
                by: None,
                ticket: None,
                entry_line: None,
                added_in_change: false,
                unverified: false,
                signed_with: None,
                reason: None,
                tenants: Vec::new(),
            },
            new_in_pr: Some(true),
        });
        app_reports.push(AppReport {
            app: id,
            path: path.clone(),
            baseline_path: Some(path),
            new_app: false,
            removed_app: false,
            gating_stopped: None,
            id_changed_from: None,
            text_diff: "-  - patient/Observation.c\n+  - patient/Observation.cu\n".into(),
        });
    }
    let mut r = Report::build(
        apps,
        Vec::new(),
        changes,
        app_reports,
        None,
        Some(Verdict::Fail),
        false,
    );
    r.manifests = vec!["apps/*/smart-app.yaml".into()];
    scopegate::render::json::render(&r)
}

/// The PR comment for a report of `apps` changed apps, rendered as `scopegate ci` and
/// `scopegate comment` render it (the comment job now recomputes its report, so the
/// renderer, not a posted file, is what an attacker can make large): the time it took
/// and the body.
fn comment_run(apps: usize) -> (Duration, String) {
    let report: scopegate::report::Report =
        serde_json::from_str(&report_with_changed_apps(apps)).unwrap();
    let start = Instant::now();
    let body = scopegate::render::markdown::render(&report, Some("<!-- scopegate:v1 -->"));
    (start.elapsed(), body)
}

/// Regression (issue 17 §5): a fork-uploaded report with 40,000 changed apps took
/// over 120 s to render in the job that holds `pull-requests: write`: each app's
/// section scanned every change of the report.
#[test]
fn a_report_with_40000_changed_apps_renders_in_near_linear_time() {
    let (small, body) = comment_run(4_000);
    assert!(body.chars().count() <= 65_536);
    let (big, body) = comment_run(40_000);
    eprintln!("PR comment: 4,000 changed apps {small:?}, 40,000 {big:?}");
    assert!(body.chars().count() <= 65_536);
    assert!(body.contains("left out"), "{}", &body[..500]);
    // The most severe rows of all apps are kept.
    assert!(body.contains("| **high** |"));
    // Ten times the apps: about ten times the time when linear, a hundred when
    // quadratic. The bound leaves room for a loaded machine.
    assert!(
        big < small * 30 + Duration::from_secs(5),
        "{small:?} → {big:?}"
    );
    assert!(big < Duration::from_secs(60), "{big:?}");
}
