//! The GitHub client's boundary (issue 17 §1–§4, §7), through the real client against
//! fake servers on loopback: the token goes to the API origin only, no piece of it
//! is ever shown, every answer and every run is bounded, one sticky comment survives
//! racing runs and an older head never overwrites a newer one, and a redirected write
//! is not a success. Each attack sits next to a control that must pass.

use crate::support::fake_github;

use std::time::{Duration, Instant};

use fake_github::{FakeGitHub, Fault, Stream};
use scopegate::github::{Client, Error, Policy, Sticky};
use serde_json::json;

const TOKEN: &str = "ghp_Zq8RmT4vLx2Nw7KpYc3Hs9JdFb6GeVuA1o5i";
const REPO: &str = "acme/portal";
const BOT: &str = "github-actions[bot]";
const MARKER: &str = "<!-- scopegate:v1 job=gate manifests=apps.yaml -->";

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

fn client_at(url: &str, policy: Policy) -> Client {
    Client::new(url, TOKEN, REPO, policy).unwrap()
}

/// Every 8-byte piece of the token that occurs in `text`.
fn pieces_in(text: &str) -> Vec<&'static str> {
    (0..=TOKEN.len() - 8)
        .map(|i| &TOKEN[i..i + 8])
        .filter(|p| text.contains(p))
        .collect()
}

fn assert_no_piece(what: &str, text: &str) {
    let found = pieces_in(text);
    assert!(
        found.is_empty(),
        "{what} shows {found:?} of the token: {text}"
    );
}

/// `host:port` that each request was sent to, and whether it carried the token.
fn seen(fake: &FakeGitHub) -> Vec<(String, String, bool)> {
    fake.requests()
        .iter()
        .map(|r| {
            (
                r.header("host").unwrap_or("").to_string(),
                r.path.clone(),
                r.header("authorization").is_some_and(|a| a.contains(TOKEN)),
            )
        })
        .collect()
}

fn port(fake: &FakeGitHub) -> String {
    fake.url.rsplit(':').next().unwrap().to_string()
}

// ---- §1: the token goes to the API origin only ----

/// Regression (issue 17 §1): API → foreign origin → foreign origin again carried the
/// token on the second hop, because tower-http compared each hop with the previous one.
#[test]
fn a_redirect_through_a_foreign_origin_back_to_itself_never_reaches_it() {
    let api = FakeGitHub::start();
    let foreign = FakeGitHub::start();
    foreign.fault(
        Fault::new("GET", "/hop", 302)
            .header("location", &format!("{}/again", foreign.url))
            .times(10),
    );
    foreign.fault(
        Fault::new("GET", "/again", 302)
            .header("location", &format!("{}/again", foreign.url))
            .times(10),
    );
    for (name, location) in [
        ("another port", format!("{}/hop", foreign.url)),
        (
            "another port, as localhost",
            format!("http://localhost:{}/hop", port(&foreign)),
        ),
        // Same port, other host name: another origin.
        (
            "the API's port, as localhost",
            format!("http://localhost:{}/user", port(&api)),
        ),
        (
            "another scheme",
            format!("https://127.0.0.1:{}/user", port(&api)),
        ),
        (
            "protocol-relative",
            format!("//localhost:{}/hop", port(&foreign)),
        ),
    ] {
        api.with(|s| s.requests.clear());
        api.fault(Fault::new("GET", "/user", 302).header("location", &location));
        let c = client_at(&api.url, policy());
        let err = c.authenticated_login().unwrap_err();
        assert!(
            matches!(err, Error::Status { status: 302, .. }),
            "{name}: {err}"
        );
        assert!(
            err.to_string().contains("off the API origin"),
            "{name}: {err}"
        );
        assert!(
            foreign.requests().is_empty(),
            "{name}: {:?}",
            seen(&foreign)
        );
        let api_seen = seen(&api);
        assert_eq!(api_seen.len(), 1, "{name}: {api_seen:?}");
        assert_eq!(api_seen[0].0, format!("127.0.0.1:{}", port(&api)), "{name}");
    }
}

/// A hop on the API origin is followed, and the next hop is still checked against the
/// API origin, not against the hop before it.
#[test]
fn redirects_on_the_api_origin_are_followed_and_each_hop_is_checked_against_it() {
    let api = FakeGitHub::start();
    let foreign = FakeGitHub::start();
    api.with(|s| s.user = Some("octo".into()));
    // Control: a same-origin redirect (absolute and relative) is followed, with the token.
    api.fault(Fault::new("GET", "/user", 301).header("location", &format!("{}/moved", api.url)));
    api.fault(Fault::new("GET", "/moved", 307).header("location", "/user"));
    let c = client_at(&api.url, policy());
    assert_eq!(c.authenticated_login().unwrap(), Some("octo".into()));
    let api_seen = seen(&api);
    assert_eq!(
        api_seen.iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["/user", "/moved", "/user"]
    );
    assert!(api_seen.iter().all(|s| s.2), "{api_seen:?}");

    // Attack: on-origin first, then off it.
    api.with(|s| s.requests.clear());
    api.fault(Fault::new("GET", "/user", 302).header("location", &format!("{}/moved", api.url)));
    api.fault(
        Fault::new("GET", "/moved", 302).header("location", &format!("{}/user", foreign.url)),
    );
    let err = c.authenticated_login().unwrap_err();
    assert!(err.to_string().contains("off the API origin"), "{err}");
    assert!(foreign.requests().is_empty());

    // A redirect loop on the origin ends.
    api.with(|s| s.requests.clear());
    api.fault(
        Fault::new("GET", "/user", 302)
            .header("location", "/user")
            .times(50),
    );
    let err = c.authenticated_login().unwrap_err();
    assert!(err.to_string().contains("redirects"), "{err}");
    assert_eq!(api.requests().len(), 6);
}

/// The API under `localhost`: `127.0.0.1` is another origin, although the same socket.
#[test]
fn an_api_url_named_localhost_does_not_follow_to_127_0_0_1() {
    let api = FakeGitHub::start();
    let url = format!("http://localhost:{}", port(&api));
    api.fault(
        Fault::new("GET", "/user", 302)
            .header("location", &format!("http://127.0.0.1:{}/user", port(&api))),
    );
    api.with(|s| s.user = Some("octo".into()));
    let c = client_at(&url, policy());
    let err = c.authenticated_login().unwrap_err();
    assert!(err.to_string().contains("off the API origin"), "{err}");
    let api_seen = seen(&api);
    assert_eq!(api_seen.len(), 1, "{api_seen:?}");
    assert_eq!(api_seen[0].0, format!("localhost:{}", port(&api)));
    // Control: the same client reaches the API under its own name.
    assert_eq!(c.authenticated_login().unwrap(), Some("octo".into()));
}

// ---- §7: a 3xx answer to a write is not a success ----

#[test]
fn a_write_answered_with_a_redirect_or_304_is_an_error_and_not_followed() {
    for status in [301, 302, 304, 307] {
        let fake = FakeGitHub::start();
        let id = fake.add_comment(BOT, &format!("{MARKER}\nold"));
        fake.fault(
            Fault::new("PATCH", "/issues/comments/", status)
                .header("location", &format!("{}/elsewhere", fake.url))
                .body(""),
        );
        let c = client_at(&fake.url, policy());
        let err = c
            .upsert_sticky_comment(7, MARKER, &format!("{MARKER}\nnew"), BOT)
            .unwrap_err();
        assert!(
            matches!(err, Error::Status { status: s, method: "PATCH", .. } if s == status),
            "{status}: {err}"
        );
        assert_eq!(fake.comments()[0].body, format!("{MARKER}\nold"));
        assert!(!fake.requests().iter().any(|r| r.path == "/elsewhere"));

        fake.fault(Fault::new("POST", "/issues/9/comments", status).body(""));
        let err = c.create_issue_comment(9, "hello").unwrap_err();
        assert!(matches!(err, Error::Status { .. }), "{status}: {err}");
        // Control: the same update without the fault lands.
        assert_eq!(
            c.upsert_sticky_comment(7, MARKER, &format!("{MARKER}\nnew"), BOT)
                .unwrap(),
            Sticky::Updated(id)
        );
    }
}

// ---- §2: no piece of the token is ever shown ----

/// Each hostile answer echoes the token a different way; no message may show any
/// 8-byte piece of it.
#[test]
fn no_piece_of_the_token_survives_in_any_error() {
    let escaped: String = TOKEN
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let cases: Vec<(&str, Fault)> = vec![
        // Straddling the 500-character cut of a JSON message.
        (
            "json message cut",
            Fault::new("GET", "/user", 400)
                .body(&json!({"message": format!("{}{TOKEN}", "m".repeat(488))}).to_string()),
        ),
        // Straddling the 200-character cut of a non-JSON body.
        (
            "html body cut",
            Fault::new("GET", "/user", 400).body(&format!("{}{TOKEN}tail", "h".repeat(190))),
        ),
        // Only a JSON escape hides it from a scrub of the raw body.
        (
            "json-escaped",
            Fault::new("GET", "/user", 400).body(&format!(r#"{{"message":"x {escaped} y"}}"#)),
        ),
        (
            "validation errors",
            Fault::new("GET", "/user", 422).body(
                &json!({"message": "Validation Failed", "errors": [{"message": TOKEN}, TOKEN]})
                    .to_string(),
            ),
        ),
        (
            "accepted-permissions header",
            Fault::new("GET", "/user", 404)
                .header("x-accepted-github-permissions", &format!("issues={TOKEN}")),
        ),
        (
            "redirect location",
            Fault::new("GET", "/user", 302)
                .header("location", &format!("http://evil.example/?t={TOKEN}")),
        ),
        (
            "written redirect location",
            Fault::new("GET", "/user", 302).header("location", &format!("/x?t={}", &TOKEN[3..])),
        ),
    ];
    for (name, fault) in cases {
        let fake = FakeGitHub::start();
        fake.fault(fault.times(10));
        let c = client_at(&fake.url, policy());
        let shown = match c.authenticated_login() {
            Err(e) => format!("{e} | {e:?}"),
            Ok(v) => format!("{v:?}"),
        };
        assert_no_piece(name, &shown);
    }

    // Server fields put into messages: the compare `status`, the contents `type` and
    // `encoding`.
    let fake = FakeGitHub::start();
    fake.fault(
        Fault::new("GET", "/compare/", 200)
            .replace()
            .body(&json!({"status": format!("ahead{TOKEN}")}).to_string()),
    );
    fake.fault(
        Fault::new("GET", "/contents/a.yaml", 200)
            .replace()
            .body(&json!({"type": TOKEN, "encoding": "base64", "content": ""}).to_string()),
    );
    fake.fault(
        Fault::new("GET", "/contents/b.yaml", 200)
            .replace()
            .body(&json!({"type": "file", "encoding": TOKEN, "size": 1}).to_string()),
    );
    let c = client_at(&fake.url, policy());
    let e = c.compare_status("a", "b").unwrap_err();
    assert_no_piece("compare status", &format!("{e} {e:?}"));
    let e = c.file_at("a.yaml", "main").unwrap_err();
    assert_no_piece("contents type", &format!("{e} {e:?}"));
    let e = c.file_at("b.yaml", "main").unwrap_err();
    assert_no_piece("contents encoding", &format!("{e} {e:?}"));
    // Control: the fields are still reported, minus the token.
    assert!(e.to_string().contains("***"), "{e}");
}

/// The token is only ever in the Authorization header: a comment body that contains
/// it (or a piece of it) is scrubbed before it is sent.
#[test]
fn a_comment_body_never_carries_the_token() {
    let fake = FakeGitHub::start();
    let c = client_at(&fake.url, policy());
    let body = format!("{MARKER}\nreason: {} and {TOKEN}", &TOKEN[..12]);
    c.upsert_sticky_comment(7, MARKER, &body, BOT).unwrap();
    c.upsert_sticky_comment(7, MARKER, &format!("{body}!"), BOT)
        .unwrap();
    for r in fake.requests() {
        assert_no_piece(&format!("{} {}", r.method, r.path), &r.body);
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    assert!(fake.comments()[0].body.contains("reason: ***"));
}

// ---- §3: every answer and every run is bounded ----

#[test]
fn an_answer_over_the_byte_cap_is_refused_whether_or_not_it_says_its_length() {
    for stream in [
        Stream::Sized(5 << 20),
        Stream::Chunked(5 << 20),
        Stream::Endless,
    ] {
        let fake = FakeGitHub::start();
        fake.fault(Fault::new("GET", "/comments", 200).stream(stream));
        let c = client_at(&fake.url, policy());
        let start = Instant::now();
        let err = c.list_issue_comments(7).unwrap_err();
        assert!(
            matches!(&err, Error::Limit { message, .. } if message.contains("4194304 bytes")),
            "{stream:?}: {err}"
        );
        assert!(start.elapsed() < Duration::from_secs(5), "{stream:?}");
    }
    // Control: an answer just under the cap is read (and is then not JSON).
    let fake = FakeGitHub::start();
    fake.fault(Fault::new("GET", "/comments", 200).stream(Stream::Chunked(4 << 20)));
    let err = client_at(&fake.url, policy())
        .list_issue_comments(7)
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

/// Regression (issue 17 §3): the timeout was per read, so a body dripping a byte
/// every 20 s never ended.
#[test]
fn a_dripping_body_ends_at_the_call_deadline() {
    let fake = FakeGitHub::start();
    fake.fault(
        Fault::new("GET", "/comments", 200).stream(Stream::Drip(Duration::from_millis(200))),
    );
    let c = client_at(
        &fake.url,
        Policy {
            read_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(2),
            ..policy()
        },
    );
    let start = Instant::now();
    let err = c.list_issue_comments(7).unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(&err, Error::Limit { message, .. } if message.contains("--api-call-timeout")),
        "{err}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "{took:?}"
    );
    // Control: the next call, answered at once, is fine.
    assert!(c.list_issue_comments(7).unwrap().is_empty());
}

/// Rate-limit waits count against the run: four listings that each meet a 429 no
/// longer take four full waits.
#[test]
fn the_run_deadline_bounds_all_calls_and_their_rate_limit_waits_together() {
    let fake = FakeGitHub::start();
    fake.fault(
        Fault::new("GET", "/comments", 429)
            .header("retry-after", "1")
            .times(100),
    );
    let c = client_at(
        &fake.url,
        Policy {
            max_total_wait: Duration::from_secs(60),
            call_timeout: Duration::from_secs(60),
            run_timeout: Duration::from_millis(2500),
            ..policy()
        },
    );
    let start = Instant::now();
    let errors: Vec<Error> = (0..4)
        .map(|_| c.list_issue_comments(7).unwrap_err())
        .collect();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    let last = errors.last().unwrap();
    assert!(
        matches!(last, Error::Limit { message, .. } if message.contains("--api-run-timeout")),
        "{errors:?}"
    );
}

#[test]
fn an_endless_listing_stops_at_the_page_item_and_byte_caps() {
    let cases = [
        (
            Some(10),
            Policy {
                max_pages: 5,
                ..policy()
            },
            "--api-max-pages",
        ),
        (
            Some(10),
            Policy {
                max_items: 250,
                ..policy()
            },
            "--api-max-items",
        ),
        (
            Some(10_000),
            Policy {
                max_listing_bytes: 3 << 20,
                ..policy()
            },
            "--api-max-listing-bytes",
        ),
    ];
    for (filler, policy, flag) in cases {
        let fake = FakeGitHub::start();
        fake.with(|s| s.endless_pages = filler);
        let c = client_at(&fake.url, policy);
        let err = c.list_issue_comments(7).unwrap_err();
        assert!(
            matches!(&err, Error::Limit { message, .. } if message.contains(flag)),
            "{flag}: {err}"
        );
        let err = c.tags().unwrap_err();
        assert!(matches!(&err, Error::Limit { .. }), "{flag}: {err}");
        assert!(fake.requests().len() <= 20, "{flag}");
    }
    // Control: 450 comments over five pages are read whole under the same caps.
    let fake = FakeGitHub::start();
    for i in 0..450 {
        fake.add_comment("u", &format!("c{i}"));
    }
    let c = client_at(
        &fake.url,
        Policy {
            max_pages: 5,
            ..policy()
        },
    );
    assert_eq!(c.list_issue_comments(7).unwrap().len(), 450);
}

// ---- §4: one sticky comment, even when runs race ----

/// Regression (issue 17 §4): two first runs both listed, found nothing and created.
#[test]
fn two_racing_first_runs_leave_one_comment() {
    for round in 0..5 {
        let fake = FakeGitHub::start();
        fake.add_comment("someone", "hello");
        // Every listing takes 700 ms, so both runs list before either creates.
        fake.fault(
            Fault::new("GET", "/issues/7/comments", 200)
                .delay(Duration::from_millis(700))
                .times(100),
        );
        let url = fake.url.clone();
        let start = std::sync::Arc::new(std::sync::Barrier::new(2));
        let runs: Vec<_> = ["FAIL", "PASS"]
            .into_iter()
            .map(|verdict| {
                let url = url.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let c = client_at(&url, policy());
                    start.wait();
                    c.upsert_sticky_comment(7, MARKER, &format!("{MARKER}\n{verdict}"), BOT)
                        .unwrap()
                })
            })
            .collect();
        let results: Vec<Sticky> = runs.into_iter().map(|t| t.join().unwrap()).collect();
        let ours: Vec<_> = fake
            .comments()
            .into_iter()
            .filter(|c| c.login == BOT)
            .collect();
        assert_eq!(ours.len(), 1, "round {round}: {ours:?} {results:?}");
        let creates = fake
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count();
        assert_eq!(creates, 2, "round {round}: both raced to create");
        for r in results {
            assert!(
                matches!(r, Sticky::Created(id) | Sticky::Updated(id) if id == ours[0].id),
                "round {round}: {r:?}"
            );
        }
    }
}

/// A run that finds duplicates left behind (a racing run that died before it
/// cleaned up) keeps the oldest and deletes the rest; another's comments are never
/// touched.
#[test]
fn an_update_keeps_the_oldest_of_our_duplicates_and_deletes_the_rest() {
    let fake = FakeGitHub::start();
    let old = fake.add_comment(BOT, &format!("{MARKER}\nfirst"));
    let theirs = fake.add_comment("mallory", &format!("{MARKER}\nnot ours"));
    // Written before heads were named, and after: both forms are the same comment.
    let dup = fake.add_comment(
        BOT,
        "<!-- scopegate:v1 job=gate manifests=apps.yaml head=abc123 -->\nsecond",
    );
    let c = client_at(&fake.url, policy());
    let got = c
        .upsert_sticky_comment(7, MARKER, &format!("{MARKER}\nthird"), BOT)
        .unwrap();
    assert_eq!(got, Sticky::Updated(old));
    let ids: Vec<u64> = fake.comments().iter().map(|c| c.id).collect();
    assert_eq!(ids, [old, theirs]);
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.ends_with(&format!("/{dup}")))
    );
}

/// Regression (issue 17 §4): an older head's "NO CHANGE" overwrote the newer head's FAIL.
#[test]
fn an_older_head_never_overwrites_the_comment_of_a_newer_head() {
    let fake = FakeGitHub::start();
    let newer = "b".repeat(40);
    let older = "a".repeat(40);
    fake.with(|s| s.pulls.insert(7, newer.clone()));
    let marked = |head: &str, text: &str| {
        format!("<!-- scopegate:v1 job=gate manifests=apps.yaml head={head} -->\n{text}")
    };
    let id = fake.add_comment(BOT, &marked(&newer, "FAIL"));
    let c = client_at(&fake.url, policy());
    let got = c
        .upsert_sticky_comment_at(7, MARKER, &marked(&older, "NO CHANGE"), BOT, Some(&older))
        .unwrap();
    assert_eq!(
        got,
        Sticky::Stale {
            current: newer.clone()
        }
    );
    assert_eq!(fake.comments()[0].body, marked(&newer, "FAIL"));
    assert!(fake.writes().is_empty());
    // Nor does it create one when there is none yet.
    let empty = FakeGitHub::start();
    empty.with(|s| s.pulls.insert(7, newer.clone()));
    let got = client_at(&empty.url, policy())
        .upsert_sticky_comment_at(7, MARKER, &marked(&older, "NO CHANGE"), BOT, Some(&older))
        .unwrap();
    assert!(matches!(got, Sticky::Stale { .. }));
    assert!(empty.comments().is_empty());
    // Control: the run for the current head writes.
    let got = c
        .upsert_sticky_comment_at(7, MARKER, &marked(&newer, "PASS"), BOT, Some(&newer))
        .unwrap();
    assert_eq!(got, Sticky::Updated(id));
    assert_eq!(fake.comments()[0].body, marked(&newer, "PASS"));
}
