//! The GitHub adapter against a fake GitHub on loopback. Each test asserts the
//! requests the fake received (method, path, body), not only what the client returned.

use crate::support::fake_github;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fake_github::{FakeGitHub, Fault, Request};
use scopegate::github::{Client, Error, Policy, Sticky};
use serde_json::json;

const TOKEN: &str = "ghs_SECRET_TOKEN_123";
const REPO: &str = "acme/portal";
const BOT: &str = "github-actions[bot]";
const MARKER: &str = "<!-- scopegate:v1 workflow=ci job=gate manifest=apps.yaml -->";
const COMMENTS: &str = "/repos/acme/portal/issues/7/comments";

/// Tiny waits, so retries cost milliseconds.
fn policy() -> Policy {
    Policy {
        max_attempts: 3,
        max_total_wait: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        ..Policy::default()
    }
}

fn client(fake: &FakeGitHub) -> Client {
    Client::new(&fake.url, TOKEN, REPO, policy()).unwrap()
}

fn sticky(text: &str) -> String {
    format!("{MARKER}\n{text}")
}

/// `METHOD path?query` of every request, in order.
fn lines(fake: &FakeGitHub) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn writes(fake: &FakeGitHub) -> Vec<Request> {
    fake.writes()
}

/// The token must never surface in what a user or a log could see.
fn assert_secret_free(e: &Error) {
    let shown = format!("{e} | {e:?}");
    assert!(!shown.contains(TOKEN), "token leaked: {shown}");
    assert!(!shown.contains("SECRET"), "token leaked: {shown}");
}

fn assert_authorized(fake: &FakeGitHub) {
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{} {}",
            r.method,
            r.path
        );
    }
}

fn others(fake: &FakeGitHub, n: usize) {
    for i in 0..n {
        fake.add_comment(&format!("user{}", i % 7), &format!("comment {i}"));
    }
}

#[test]
fn ours_on_page_two_of_150_comments_is_updated_in_place() {
    let fake = FakeGitHub::start();
    others(&fake, 120);
    let ours = fake.add_comment(BOT, &sticky("old verdict"));
    others(&fake, 29);
    let c = client(&fake);

    let got = c
        .upsert_sticky_comment(7, MARKER, &sticky("new verdict"), BOT)
        .unwrap();

    assert_eq!(got, Sticky::Updated(ours));
    assert_eq!(
        lines(&fake),
        [
            format!("GET {COMMENTS}?per_page=100"),
            format!("GET {COMMENTS}?per_page=100&page=2"),
            format!("PATCH /repos/acme/portal/issues/comments/{ours}"),
        ]
    );
    assert_eq!(
        writes(&fake)[0].json(),
        json!({"body": sticky("new verdict")})
    );
    let stored = fake.comments();
    assert_eq!(stored.len(), 150);
    assert_eq!(
        stored.iter().find(|c| c.id == ours).unwrap().body,
        sticky("new verdict")
    );
    assert_authorized(&fake);
}

#[test]
fn first_upsert_creates_then_a_new_body_updates_the_same_id_then_the_same_body_writes_nothing() {
    let fake = FakeGitHub::start();
    others(&fake, 3);
    let c = client(&fake);

    let Sticky::Created(id) = c
        .upsert_sticky_comment(7, MARKER, &sticky("v1"), BOT)
        .unwrap()
    else {
        panic!("expected Created")
    };
    assert_eq!(
        c.upsert_sticky_comment(7, MARKER, &sticky("v2"), BOT)
            .unwrap(),
        Sticky::Updated(id)
    );
    assert_eq!(
        c.upsert_sticky_comment(7, MARKER, &sticky("v2"), BOT)
            .unwrap(),
        Sticky::Unchanged(id)
    );

    assert_eq!(
        lines(&fake),
        [
            format!("GET {COMMENTS}?per_page=100"),
            format!("POST {COMMENTS}"),
            // After a create: listed again, for a racing run's duplicate.
            format!("GET {COMMENTS}?per_page=100"),
            format!("GET {COMMENTS}?per_page=100"),
            format!("PATCH /repos/acme/portal/issues/comments/{id}"),
            format!("GET {COMMENTS}?per_page=100"),
        ]
    );
    let w = writes(&fake);
    assert_eq!(w[0].json(), json!({"body": sticky("v1")}));
    assert_eq!(w[1].json(), json!({"body": sticky("v2")}));
    let ours: Vec<_> = fake
        .comments()
        .into_iter()
        .filter(|c| c.body.contains(MARKER))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!((ours[0].id, ours[0].login.as_str()), (id, BOT));
}

#[test]
fn marker_in_someone_elses_comment_is_not_ours() {
    let fake = FakeGitHub::start();
    // Anyone can paste our marker; updating theirs would be wrong (and forbidden).
    let theirs = fake.add_comment("mallory", &sticky("approved, trust me"));
    let c = client(&fake);

    let got = c
        .upsert_sticky_comment(7, MARKER, &sticky("verdict"), BOT)
        .unwrap();

    let Sticky::Created(id) = got else {
        panic!("expected Created, got {got:?}")
    };
    assert_ne!(id, theirs);
    assert_eq!(
        lines(&fake),
        [
            format!("GET {COMMENTS}?per_page=100"),
            format!("POST {COMMENTS}"),
            format!("GET {COMMENTS}?per_page=100"),
        ]
    );
    let stored = fake.comments();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].body, sticky("approved, trust me"));
}

#[test]
fn post_502_that_committed_leaves_exactly_one_comment() {
    let fake = FakeGitHub::start();
    fake.fault(Fault::new("POST", COMMENTS, 502).applied());
    let c = client(&fake);

    let got = c
        .upsert_sticky_comment(7, MARKER, &sticky("verdict"), BOT)
        .unwrap();

    let stored = fake.comments();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(got, Sticky::Created(stored[0].id));
    // The re-list found the committed comment: no second POST, no PATCH (then the
    // check for a racing run's duplicate).
    assert_eq!(
        lines(&fake),
        [
            format!("GET {COMMENTS}?per_page=100"),
            format!("POST {COMMENTS}"),
            format!("GET {COMMENTS}?per_page=100"),
            format!("GET {COMMENTS}?per_page=100"),
        ]
    );
}

#[test]
fn post_502_that_did_not_commit_is_created_once_after_relisting() {
    let fake = FakeGitHub::start();
    fake.fault(Fault::new("POST", COMMENTS, 502));
    let c = client(&fake);

    let got = c
        .upsert_sticky_comment(7, MARKER, &sticky("verdict"), BOT)
        .unwrap();

    let stored = fake.comments();
    assert_eq!(stored.len(), 1);
    assert_eq!(got, Sticky::Created(stored[0].id));
    assert_eq!(
        lines(&fake),
        [
            format!("GET {COMMENTS}?per_page=100"),
            format!("POST {COMMENTS}"),
            format!("GET {COMMENTS}?per_page=100"),
            format!("POST {COMMENTS}"),
            format!("GET {COMMENTS}?per_page=100"),
        ]
    );
    for w in writes(&fake) {
        assert_eq!(w.json(), json!({"body": sticky("verdict")}));
    }
}

#[test]
fn post_failing_twice_gives_up_after_one_further_post() {
    let fake = FakeGitHub::start();
    fake.fault(Fault::new("POST", COMMENTS, 502).times(5));
    let c = client(&fake);

    let err = c
        .upsert_sticky_comment(7, MARKER, &sticky("verdict"), BOT)
        .unwrap_err();

    assert!(
        matches!(
            err,
            Error::Status {
                status: 502,
                method: "POST",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(writes(&fake).len(), 2);
    assert!(fake.comments().is_empty());
    assert_secret_free(&err);
}

#[test]
fn create_issue_comment_is_never_retried() {
    let fake = FakeGitHub::start();
    fake.fault(Fault::new("POST", COMMENTS, 502));
    let c = client(&fake);

    let err = c.create_issue_comment(7, "hello").unwrap_err();
    assert!(matches!(err, Error::Status { status: 502, .. }), "{err:?}");
    assert_secret_free(&err);
    // 422: the fake's 65,536-character limit.
    let err = c.create_issue_comment(7, &"x".repeat(65_537)).unwrap_err();
    assert!(matches!(err, Error::Status { status: 422, .. }), "{err:?}");
    assert!(err.to_string().contains("Body is too long"), "{err}");

    assert_eq!(
        lines(&fake),
        [format!("POST {COMMENTS}"), format!("POST {COMMENTS}")]
    );
    let created = c.create_issue_comment(7, "hello").unwrap();
    assert_eq!(
        (created.login.as_str(), created.body.as_str()),
        (BOT, "hello")
    );
}

#[test]
fn update_issue_comment_sends_patch_and_retries_a_5xx() {
    let fake = FakeGitHub::start();
    let id = fake.add_comment(BOT, "old");
    fake.fault(Fault::new("PATCH", "/issues/comments/", 500));
    let c = client(&fake);

    c.update_issue_comment(id, "new").unwrap();

    let path = format!("PATCH /repos/acme/portal/issues/comments/{id}");
    assert_eq!(lines(&fake), [path.clone(), path]);
    assert_eq!(writes(&fake)[1].json(), json!({"body": "new"}));
    assert_eq!(fake.comments()[0].body, "new");
}

#[test]
fn retry_after_on_429_is_honoured() {
    let fake = FakeGitHub::start();
    others(&fake, 2);
    fake.fault(Fault::new("GET", COMMENTS, 429).header("retry-after", "1"));
    let c = client(&fake);

    let start = Instant::now();
    let got = c.list_issue_comments(7).unwrap();
    let took = start.elapsed();

    assert_eq!(got.len(), 2);
    assert!(took >= Duration::from_secs(1), "waited only {took:?}");
    assert!(took < Duration::from_secs(5), "waited {took:?}");
    let get = format!("GET {COMMENTS}?per_page=100");
    assert_eq!(lines(&fake), [get.clone(), get]);
}

#[test]
fn primary_rate_limit_beyond_the_budget_fails_at_once() {
    let fake = FakeGitHub::start();
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    fake.fault(
        Fault::new("GET", COMMENTS, 403)
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", &reset.to_string())
            .body(r#"{"message":"API rate limit exceeded for installation ID 1."}"#),
    );
    let c = Client::new(
        &fake.url,
        TOKEN,
        REPO,
        Policy {
            max_total_wait: Duration::from_secs(2),
            ..policy()
        },
    )
    .unwrap();

    let start = Instant::now();
    let err = c.list_issue_comments(7).unwrap_err();

    assert!(
        start.elapsed() < Duration::from_secs(1),
        "slept {:?}",
        start.elapsed()
    );
    match &err {
        Error::RateLimited { path, wait_secs } => {
            assert_eq!(path, COMMENTS);
            assert!((3590..=3600).contains(wait_secs), "{wait_secs}");
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert_eq!(lines(&fake), [format!("GET {COMMENTS}?per_page=100")]);
    assert_secret_free(&err);
}

#[test]
fn bare_429_needs_a_minute_so_it_is_rate_limited_without_sleeping() {
    let fake = FakeGitHub::start();
    fake.fault(Fault::new("GET", "/tags", 429));
    let start = Instant::now();
    let err = client(&fake).tags().unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        matches!(err, Error::RateLimited { wait_secs: 60, .. }),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn server_errors_on_get_are_retried_with_backoff() {
    let fake = FakeGitHub::start();
    fake.with(|s| s.tags = vec![("v1.0.0".into(), "a1".into())]);
    fake.fault(Fault::new("GET", "/tags", 502).times(2));
    let c = client(&fake);

    assert_eq!(
        c.tags().unwrap(),
        [("v1.0.0".to_string(), "a1".to_string())]
    );
    let get = "GET /repos/acme/portal/tags?per_page=100".to_string();
    assert_eq!(lines(&fake), [get.clone(), get.clone(), get.clone()]);

    // Three failures exhaust max_attempts = 3: the last status is reported.
    fake.fault(Fault::new("GET", "/tags", 503).times(3));
    let err = c.tags().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                status: 503,
                method: "GET",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 6);
    assert_secret_free(&err);
}

#[test]
fn response_slower_than_the_read_timeout_is_a_transport_error() {
    let fake = FakeGitHub::start();
    fake.fault(
        Fault::new("GET", COMMENTS, 200)
            .delay(Duration::from_secs(3))
            .times(2),
    );
    let c = Client::new(
        &fake.url,
        TOKEN,
        REPO,
        Policy {
            max_attempts: 2,
            read_timeout: Duration::from_secs(1),
            ..policy()
        },
    )
    .unwrap();

    let start = Instant::now();
    let err = c.list_issue_comments(7).unwrap_err();
    let took = start.elapsed();

    assert!(
        matches!(&err, Error::Transport { path, .. } if path == COMMENTS),
        "{err:?}"
    );
    assert!(err.to_string().contains("timed out"), "{err}");
    // Both attempts timed out after about a second each.
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(fake.requests().len(), 2);
    assert_secret_free(&err);
}

#[test]
fn fork_403_on_post_names_the_permissions_the_token_needs() {
    let fake = FakeGitHub::start();
    fake.fault(
        Fault::new("POST", COMMENTS, 403)
            .header("x-accepted-github-permissions", "issues=write; pull_requests=write")
            .body(r#"{"message":"Resource not accessible by integration","documentation_url":"https://docs.github.com/rest"}"#),
    );
    let c = client(&fake);

    let err = c
        .upsert_sticky_comment(7, MARKER, &sticky("verdict"), BOT)
        .unwrap_err();

    assert_eq!(
        err,
        Error::Status {
            method: "POST",
            path: COMMENTS.to_string(),
            status: 403,
            message: "Resource not accessible by integration".to_string(),
            accepted_permissions: Some("issues=write; pull_requests=write".to_string()),
        }
    );
    let shown = err.to_string();
    assert!(
        shown.contains("issues=write; pull_requests=write"),
        "{shown}"
    );
    assert!(shown.contains(&format!("POST {COMMENTS}")), "{shown}");
    assert_eq!(
        lines(&fake),
        [
            format!("GET {COMMENTS}?per_page=100"),
            format!("POST {COMMENTS}")
        ]
    );
    assert!(fake.comments().is_empty());
    assert_secret_free(&err);
}

#[test]
fn reviews_are_read_across_pages_in_order() {
    let fake = FakeGitHub::start();
    for i in 0..130 {
        let state = if i == 129 { "APPROVED" } else { "COMMENTED" };
        fake.add_review(&format!("rev{i}"), state, &format!("sha{i}"));
    }
    let reviews = client(&fake).list_reviews(7).unwrap();

    assert_eq!(reviews.len(), 130);
    assert_eq!(reviews[0].login, "rev0");
    let last = &reviews[129];
    assert_eq!(
        (last.login.as_str(), last.state.as_str()),
        ("rev129", "APPROVED")
    );
    assert_eq!(last.commit_id.as_deref(), Some("sha129"));
    assert_eq!(last.submitted_at.as_deref(), Some("2026-11-28T10:10:00Z"));
    assert_eq!(
        lines(&fake),
        [
            "GET /repos/acme/portal/pulls/7/reviews?per_page=100",
            "GET /repos/acme/portal/pulls/7/reviews?per_page=100&page=2",
        ]
    );
    assert_authorized(&fake);
}

#[test]
fn file_at_decodes_binary_content_and_missing_is_none() {
    let fake = FakeGitHub::start();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).chain([0xff, 0x80]).collect();
    fake.with(|s| {
        s.contents
            .insert(("scopes/apps.yaml".into(), "v1.2.0".into()), bytes.clone())
    });
    let c = client(&fake);

    assert_eq!(
        c.file_at("scopes/apps.yaml", "v1.2.0").unwrap(),
        Some(bytes)
    );
    assert_eq!(c.file_at("scopes/apps.yaml", "v0.9.0").unwrap(), None);
    assert_eq!(
        lines(&fake),
        [
            "GET /repos/acme/portal/contents/scopes/apps.yaml?ref=v1.2.0",
            "GET /repos/acme/portal/contents/scopes/apps.yaml?ref=v0.9.0",
        ]
    );
}

#[test]
fn tree_paths_lists_every_file_at_a_commit_and_no_directories() {
    let fake = FakeGitHub::start();
    let sha = "a".repeat(40);
    fake.with(|s| {
        for f in [
            "smart-app.yaml",
            "apps/a/smart-app.yaml",
            "apps/b/deep/smart-app.yaml",
        ] {
            s.contents
                .insert((f.into(), sha.clone()), b"id: x\n".to_vec());
        }
    });
    let c = client(&fake);
    assert_eq!(
        c.tree_paths(&sha).unwrap(),
        [
            "apps/a/smart-app.yaml",
            "apps/b/deep/smart-app.yaml",
            "smart-app.yaml"
        ]
    );
    // An unknown commit is GitHub's 404, not an empty tree.
    let err = c.tree_paths(&"b".repeat(40)).unwrap_err();
    assert!(matches!(err, Error::Status { status: 404, .. }), "{err:?}");
    assert_eq!(
        lines(&fake),
        [
            format!("GET /repos/acme/portal/git/trees/{sha}?recursive=1"),
            format!(
                "GET /repos/acme/portal/git/trees/{}?recursive=1",
                "b".repeat(40)
            ),
        ]
    );
    assert_authorized(&fake);
}

#[test]
fn a_truncated_tree_is_an_error_not_a_partial_list() {
    let fake = FakeGitHub::start();
    fake.with(|s| {
        s.contents.insert(
            ("apps/a/smart-app.yaml".into(), "v1.0.0".into()),
            Vec::new(),
        );
        s.truncated_trees.push("v1.0.0".into());
    });
    let err = client(&fake).tree_paths("v1.0.0").unwrap_err();
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("truncated")),
        "{err:?}"
    );
    assert_secret_free(&err);
    assert_eq!(
        lines(&fake),
        ["GET /repos/acme/portal/git/trees/v1.0.0?recursive=1"]
    );
}

#[test]
fn file_at_a_directory_or_an_uninlined_file_is_a_decode_error() {
    let fake = FakeGitHub::start();
    fake.fault(
        Fault::new("GET", "/contents/scopes", 200)
            .body(r#"[{"type":"file","name":"apps.yaml","path":"scopes/apps.yaml"}]"#)
            .replace(),
    );
    fake.fault(
        Fault::new("GET", "/contents/big.bin", 200)
            .body(r#"{"type":"file","encoding":"none","size":5000000,"content":""}"#)
            .replace(),
    );
    let c = client(&fake);

    let err = c.file_at("scopes", "main").unwrap_err();
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("directory")),
        "{err:?}"
    );
    assert_secret_free(&err);
    let err = c.file_at("big.bin", "main").unwrap_err();
    assert!(
        matches!(&err, Error::Decode { message, .. } if message.contains("5000000")),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 2);
}

#[test]
fn dir_at_lists_every_entry_directly_in_a_directory_and_missing_is_empty() {
    let fake = FakeGitHub::start();
    fake.with(|s| {
        for p in [
            ".scopegate/tenants/b.yaml",
            ".scopegate/tenants/a.yaml",
            ".scopegate/tenants/ehr/a.json",
        ] {
            s.contents
                .insert((p.into(), "abc123".into()), b"x".to_vec());
        }
    });
    let c = client(&fake);
    assert_eq!(
        c.dir_at(".scopegate/tenants", "abc123").unwrap(),
        ["a.yaml", "b.yaml", "ehr"],
        "every entry, sorted: the ehr/ subdirectory too (a reader refuses what is not a file)"
    );
    assert!(c.dir_at(".scopegate/tenants", "def456").unwrap().is_empty());
    assert_eq!(
        lines(&fake),
        [
            "GET /repos/acme/portal/contents/.scopegate/tenants?ref=abc123",
            "GET /repos/acme/portal/contents/.scopegate/tenants?ref=def456",
        ]
    );
}

#[test]
fn team_membership_is_true_when_active_false_on_404_and_an_error_when_forbidden() {
    let fake = FakeGitHub::start();
    fake.with(|s| {
        s.teams
            .insert(("acme".into(), "fhir-owners".into()), vec!["alice".into()])
    });
    let c = client(&fake);

    assert!(c.team_member("acme", "fhir-owners", "alice").unwrap());
    assert!(!c.team_member("acme", "fhir-owners", "bob").unwrap());
    fake.fault(
        Fault::new("GET", "/memberships/", 403)
            .body(r#"{"message":"Resource not accessible by integration"}"#),
    );
    let err = c.team_member("acme", "fhir-owners", "alice").unwrap_err();
    assert!(matches!(err, Error::Status { status: 403, .. }), "{err:?}");
    assert_secret_free(&err);

    let path = "GET /orgs/acme/teams/fhir-owners/memberships";
    assert_eq!(
        lines(&fake),
        [
            format!("{path}/alice"),
            format!("{path}/bob"),
            format!("{path}/alice")
        ]
    );
}

#[test]
fn tags_are_read_across_pages_and_compare_reports_the_status() {
    let fake = FakeGitHub::start();
    let tags: Vec<(String, String)> = (0..120)
        .rev()
        .map(|i| (format!("v1.{i}.0"), format!("sha{i}")))
        .collect();
    fake.with(|s| {
        s.tags = tags.clone();
        s.compare
            .insert(("v1.119.0".into(), "feature/x".into()), "ahead".into());
    });
    let c = client(&fake);

    assert_eq!(c.tags().unwrap(), tags);
    assert_eq!(c.compare_status("v1.119.0", "feature/x").unwrap(), "ahead");
    let err = c.compare_status("v0", "v9").unwrap_err();
    assert!(matches!(err, Error::Status { status: 404, .. }), "{err:?}");

    assert_eq!(
        lines(&fake),
        [
            "GET /repos/acme/portal/tags?per_page=100",
            "GET /repos/acme/portal/tags?per_page=100&page=2",
            "GET /repos/acme/portal/compare/v1.119.0...feature/x?per_page=1",
            "GET /repos/acme/portal/compare/v0...v9?per_page=1",
        ]
    );
}

#[test]
fn ghes_api_v3_prefix_is_kept_on_every_request_including_next_pages() {
    let fake = FakeGitHub::start();
    others(&fake, 150);
    fake.with(|s| s.user = Some("octo".into()));
    let c = Client::new(&format!("{}/api/v3/", fake.url), TOKEN, REPO, policy()).unwrap();

    assert_eq!(c.authenticated_login().unwrap().as_deref(), Some("octo"));
    assert_eq!(c.list_issue_comments(7).unwrap().len(), 150);
    assert_eq!(
        c.upsert_sticky_comment(7, MARKER, &sticky("v1"), "octo")
            .unwrap(),
        Sticky::Created(fake.comments()[150].id)
    );

    let raw: Vec<String> = fake
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.raw_path))
        .collect();
    let page1 = format!("GET /api/v3{COMMENTS}?per_page=100");
    let page2 = format!("GET /api/v3{COMMENTS}?per_page=100&page=2");
    assert_eq!(
        raw,
        [
            "GET /api/v3/user".to_string(),
            page1.clone(),
            page2.clone(),
            page1.clone(),
            page2.clone(),
            format!("POST /api/v3{COMMENTS}"),
            page1,
            page2,
        ]
    );
    assert_authorized(&fake);
}

#[test]
fn authenticated_login_is_none_for_an_actions_token() {
    let fake = FakeGitHub::start();
    let c = client(&fake);
    assert_eq!(c.authenticated_login().unwrap(), None);
    fake.with(|s| s.user = Some("octo".into()));
    assert_eq!(c.authenticated_login().unwrap().as_deref(), Some("octo"));
    assert_eq!(lines(&fake), ["GET /user", "GET /user"]);
}

#[test]
fn token_is_sent_as_bearer_and_never_shown_in_errors() {
    let fake = FakeGitHub::start();
    others(&fake, 101);
    let c = client(&fake);
    c.list_issue_comments(7).unwrap();
    // Page 2 comes from an absolute `Link` URL: it must still carry the token.
    assert_eq!(fake.requests().len(), 2);
    assert_authorized(&fake);

    let mut errors = Vec::new();
    // Nothing listens on a port just released: connection refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = Client::new(&format!("http://127.0.0.1:{port}"), TOKEN, REPO, policy()).unwrap();
    errors.push(refused.tags().unwrap_err());
    errors.push(Client::new(&fake.url, &format!("{TOKEN}\nx"), REPO, policy()).unwrap_err());
    errors.push(Client::new(&fake.url, TOKEN, "no-slash", policy()).unwrap_err());
    errors.push(Client::new("not a url", TOKEN, REPO, policy()).unwrap_err());
    fake.fault(Fault::new("POST", COMMENTS, 403).header(
        "x-accepted-github-permissions",
        "issues=write; pull_requests=write",
    ));
    errors.push(c.create_issue_comment(7, "x").unwrap_err());
    fake.fault(Fault::new("GET", "/tags", 429).header("retry-after", "600"));
    errors.push(c.tags().unwrap_err());
    fake.fault(Fault::new("GET", "/tags", 200).body("[not json").replace());
    errors.push(c.tags().unwrap_err());

    assert!(
        matches!(errors[0], Error::Transport { .. }),
        "{:?}",
        errors[0]
    );
    assert!(matches!(errors[1], Error::Decode { .. }), "{:?}", errors[1]);
    assert!(matches!(errors[2], Error::Decode { .. }), "{:?}", errors[2]);
    assert!(matches!(errors[3], Error::Decode { .. }), "{:?}", errors[3]);
    assert!(
        matches!(errors[4], Error::Status { status: 403, .. }),
        "{:?}",
        errors[4]
    );
    assert!(
        matches!(errors[5], Error::RateLimited { wait_secs: 600, .. }),
        "{:?}",
        errors[5]
    );
    assert!(matches!(errors[6], Error::Decode { .. }), "{:?}", errors[6]);
    for e in &errors {
        assert_secret_free(e);
    }
}

#[test]
fn pull_request_commits_are_read_across_pages_with_unlinked_identities_as_none() {
    let fake = FakeGitHub::start();
    for i in 0..120 {
        let (author, committer) = match i {
            0 => (None, Some("web-flow")),
            1 => (Some("alice"), None),
            _ => (Some("dev"), Some("dev")),
        };
        fake.add_pr_commit(&format!("{i:040x}"), author, committer, &format!("c{i}"));
    }
    let commits = client(&fake).list_pull_commits(7).unwrap();

    assert_eq!(commits.len(), 120);
    assert_eq!(commits[0].sha, format!("{:040x}", 0));
    assert_eq!(
        (
            commits[0].author.as_deref(),
            commits[0].committer.as_deref()
        ),
        (None, Some("web-flow"))
    );
    assert_eq!(
        (
            commits[1].author.as_deref(),
            commits[1].committer.as_deref()
        ),
        (Some("alice"), None)
    );
    assert_eq!(commits[119].message, "c119");
    assert_eq!(
        lines(&fake),
        [
            "GET /repos/acme/portal/pulls/7/commits?per_page=100",
            "GET /repos/acme/portal/pulls/7/commits?per_page=100&page=2",
        ]
    );
    assert_authorized(&fake);
}

/// GitHub's contents API lists at most 1,000 entries of a directory and cuts the rest
/// without a word: 999 are listed whole, a listing of 1,000 is an error (some may be
/// missing), never a silently short list.
#[test]
fn dir_at_refuses_a_listing_the_contents_api_may_have_cut() {
    let fake = FakeGitHub::start();
    fake.with(|s| {
        for i in 0..999 {
            s.contents
                .insert((format!("t/p{i:04}.yaml"), "abc123".into()), b"x".to_vec());
        }
    });
    let c = client(&fake);
    assert_eq!(c.dir_at("t", "abc123").unwrap().len(), 999);
    fake.with(|s| {
        for i in 999..1001 {
            s.contents
                .insert((format!("t/p{i:04}.yaml"), "abc123".into()), b"x".to_vec());
        }
    });
    let e = c.dir_at("t", "abc123").unwrap_err().to_string();
    assert!(e.contains("as many as the contents API lists"), "{e}");
    assert!(e.contains("fetch-depth: 0"), "{e}");
}
