//! Tests for `github`.
use std::time::Duration;

use http::{HeaderMap, HeaderValue};

use super::error::github_message;
use super::pagination::next_link;
use super::repo::decode_base64;
use super::request::{Next, UNTIMED_RATE_LIMIT_WAIT, next_step};
use super::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn base64_round_trips_every_byte_and_ignores_line_breaks() {
    let bytes: Vec<u8> = (0..=255u8).chain([0xff, 0x80, 0]).collect();
    // 260 bytes → 348 chars, wrapped like the contents API.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut plain = String::new();
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            plain.push(if i <= chunk.len() {
                char::from(T[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    let wrapped: String = plain
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(decode_base64(&wrapped).unwrap(), bytes);
    for n in 0..4 {
        let sub = &bytes[..n];
        let enc = match n {
            0 => "",
            1 => "AA==",
            2 => "AAE=",
            _ => "AAEC",
        };
        assert_eq!(decode_base64(enc).unwrap(), sub, "{enc}");
    }
}

#[test]
fn base64_rejects_garbage_and_truncation() {
    assert!(decode_base64("QUJD*").is_err());
    assert!(decode_base64("QUJDR").is_err());
    assert!(decode_base64("QQ==QQ==").is_err());
}

#[test]
fn next_link_finds_rel_next_among_others() {
    let h = headers(&[(
        "link",
        r#"<https://api.github.com/repositories/1/issues/2/comments?page=1>; rel="prev", <https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3>; rel="next", <https://x/last?page=9>; rel="last""#,
    )]);
    assert_eq!(
        next_link(&h).as_deref(),
        Some("https://api.github.com/repositories/1/issues/2/comments?per_page=100&page=3")
    );
    assert_eq!(
        next_link(&headers(&[("link", r#"<https://x/?page=1>; rel="first""#)])),
        None
    );
    assert_eq!(next_link(&HeaderMap::new()), None);
}

#[test]
fn rate_limit_headers_decide_the_wait() {
    let now = 1_000_000;
    let h = headers(&[("retry-after", "7")]);
    assert_eq!(
        next_step(429, &h, "", now),
        Next::RateLimit(Duration::from_secs(7))
    );
    assert_eq!(
        next_step(403, &h, "", now),
        Next::RateLimit(Duration::from_secs(7))
    );
    let h = headers(&[
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "1003600"),
    ]);
    assert_eq!(
        next_step(403, &h, "", now),
        Next::RateLimit(Duration::from_secs(3600))
    );
    // A reset already past still waits a moment, never zero.
    let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "5")]);
    assert_eq!(
        next_step(429, &h, "", now),
        Next::RateLimit(Duration::from_secs(1))
    );
    assert_eq!(
        next_step(429, &HeaderMap::new(), "", now),
        Next::RateLimit(UNTIMED_RATE_LIMIT_WAIT)
    );
    assert_eq!(
        next_step(
            403,
            &HeaderMap::new(),
            "You have exceeded a secondary rate limit",
            now
        ),
        Next::RateLimit(UNTIMED_RATE_LIMIT_WAIT)
    );
    // A plain 403 (permissions) is final, even with rate-limit headers to spare.
    let h = headers(&[("x-ratelimit-remaining", "4999")]);
    assert_eq!(
        next_step(403, &h, "Resource not accessible by integration", now),
        Next::Stop
    );
    assert_eq!(
        next_step(404, &HeaderMap::new(), "Not Found", now),
        Next::Stop
    );
    assert_eq!(
        next_step(422, &HeaderMap::new(), "Validation Failed", now),
        Next::Stop
    );
    assert_eq!(next_step(502, &HeaderMap::new(), "", now), Next::Backoff);
    let h = headers(&[("retry-after", "2")]);
    assert_eq!(
        next_step(503, &h, "", now),
        Next::After(Duration::from_secs(2))
    );
}

#[test]
fn github_message_includes_validation_details() {
    let body = r#"{"message":"Validation Failed","errors":[{"resource":"IssueComment","code":"custom","message":"Body is too long (maximum is 65536 characters)"}]}"#;
    assert_eq!(
        github_message(body, str::to_string),
        "Validation Failed (Body is too long (maximum is 65536 characters))"
    );
    assert_eq!(
        github_message("<html>bad gateway</html>", str::to_string),
        "<html>bad gateway</html>"
    );
}

#[test]
fn encode_keeps_unreserved_and_chosen_bytes() {
    assert_eq!(encode("a b/c~d", b"/"), "a%20b/c~d");
    assert_eq!(encode("dependabot[bot]", b""), "dependabot%5Bbot%5D");
    assert_eq!(encode("é", b""), "%C3%A9");
}

#[test]
fn userinfo_is_dropped_from_shown_urls() {
    assert_eq!(
        without_userinfo("https://u:p@ghe.example/api/v3"),
        "https://ghe.example/api/v3"
    );
    assert_eq!(
        without_userinfo("https://api.github.com"),
        "https://api.github.com"
    );
    assert_eq!(
        without_userinfo("https://h/api/v3?x=a@b"),
        "https://h/api/v3?x=a@b"
    );
}

#[test]
fn the_marker_names_the_head_and_both_forms_are_the_same_comment() {
    let plain = crate::events::marker("gate", &["apps.yaml".to_string()]);
    let at = crate::events::marker_at(&plain, "ABCdef0123");
    assert_eq!(
        at,
        "<!-- scopegate:v1 job=gate manifests=apps.yaml head=ABCdef0123 -->"
    );
    assert!(is_marked(&format!("{at}\nbody"), &plain));
    assert!(is_marked(&format!("{plain}\nbody"), &plain));
    // Only hex digits of the head are kept: it cannot close the comment or forge one.
    assert_eq!(
        crate::events::marker_at(&plain, "--> <!-- x"),
        "<!-- scopegate:v1 job=gate manifests=apps.yaml -->"
    );
    // Another manifest list is another comment, with or without a head.
    let other = crate::events::marker("gate", &["apps.yaml".to_string(), "b.yaml".to_string()]);
    assert!(!is_marked(&crate::events::marker_at(&other, "ab"), &plain));
    assert!(!is_marked(&other, &plain));
}

#[test]
fn messages_are_cut_only_after_they_are_scrubbed() {
    let token = "ghs_0123456789abcdefghij";
    let body = format!("{}{token}", "x".repeat(495));
    let msg = github_message(&format!(r#"{{"message":"{body}"}}"#), |m| {
        super::redact(token, m)
    });
    assert!(msg.ends_with("***"), "{msg}");
    let msg = github_message(&format!("{}{token}", "y".repeat(190)), |m| {
        super::redact(token, m)
    });
    assert!(!msg.contains("ghs_0123"), "{msg}");
    assert_eq!(error::cut("abcdef", 3), "abc…");
    assert_eq!(error::cut("abc", 3), "abc");
}
