//! Why a GitHub call could not be completed ([`Error`]), and the one-line messages
//! made from what GitHub or the transport said.
//!
//! Part of the GitHub adapter. It must never hold the token: the client scrubs every
//! string from the network before it gets here, and a message is cut only after it
//! was scrubbed (a cut could split the token and hide it from the scrub). Which failures are worth retrying is `request`'s
//! business, not this file's.

use std::fmt;

use serde_json::Value;

use super::optional;

/// Why a call could not be completed. No variant ever holds the token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// GitHub answered with a status the call cannot use.
    Status {
        method: &'static str,
        /// The API path, without the query string.
        path: String,
        status: u16,
        /// GitHub's `message` (and validation details), or the start of the body.
        message: String,
        /// `x-accepted-github-permissions` on a 403: what the token would need.
        accepted_permissions: Option<String>,
    },
    /// Rate limited, and waiting as GitHub asks would exceed the policy's bound.
    RateLimited { path: String, wait_secs: u64 },
    /// No usable answer: connection refused, timeout, reset; or the HTTP client
    /// could not be set up.
    Transport { path: String, message: String },
    /// GitHub answered, but not in the shape this client expects; or an input to
    /// [`Client::new`](super::Client::new) (API URL, repository, token) is unusable.
    Decode { path: String, message: String },
    /// A cap was reached: an answer too large, a listing too long, a call or the run
    /// out of time. The answer is not used; nothing partial is.
    Limit { path: String, message: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Status {
                method,
                path,
                status,
                message,
                accepted_permissions,
            } => {
                write!(f, "GitHub answered {status} to {method} {path}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(permissions) = accepted_permissions {
                    write!(f, " (the token needs: {permissions})")?;
                }
                if *status == 403
                    && let Some(permission) = workflow_permission(method, path)
                {
                    write!(
                        f,
                        "; this call needs the job's `permissions:` to grant `{permission}`"
                    )?;
                }
                Ok(())
            }
            Error::RateLimited { path, wait_secs } => write!(
                f,
                "GitHub rate limit on {path}: it asks to wait {wait_secs} s, more than the retry budget allows"
            ),
            Error::Transport { path, message } => {
                write!(f, "could not talk to GitHub for {path}: {message}")
            }
            Error::Decode { path, message } => {
                write!(f, "could not use {path}: {message}")
            }
            Error::Limit { path, message } => {
                write!(f, "gave up on {path}: {message}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// The workflow `permissions:` entry a REST call needs, from its method and path
/// (`/repos/{owner}/{repo}/…`): what a 403 most likely lacks. `None` for calls outside
/// a repository or of a kind this client does not make.
fn workflow_permission(method: &str, path: &str) -> Option<&'static str> {
    let mut parts = path.trim_start_matches('/').split('/');
    if parts.next() != Some("repos") {
        return None;
    }
    let kind = parts.nth(2)?;
    let read = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    let rest: Vec<&str> = parts.collect();
    Some(match (kind, read) {
        // Comments on a pull request are issue comments; a PR's token may write them
        // with `pull-requests: write`.
        ("pulls", true) => "pull-requests: read",
        ("pulls", false) => "pull-requests: write",
        ("issues", true) if rest.contains(&"comments") => "pull-requests: read",
        ("issues", false) if rest.contains(&"comments") => "pull-requests: write",
        ("contents" | "git" | "commits" | "compare" | "tags" | "branches" | "readme", true) => {
            "contents: read"
        }
        ("contents" | "git", false) => "contents: write",
        ("actions", true) => "actions: read",
        ("statuses", false) => "statuses: write",
        ("statuses", true) => "statuses: read",
        _ => return None,
    })
}

/// GitHub's `message`, with any validation details; else the start of the body.
/// `scrub` runs on the whole text, before it is cut.
pub(super) fn github_message(body: &str, scrub: impl Fn(&str) -> String) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return cut(scrub(body).trim(), 200);
    };
    let mut message = optional(&v, "/message").unwrap_or_default();
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        let details: Vec<String> = errors
            .iter()
            .filter_map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .or_else(|| optional(e, "/message"))
                    .or_else(|| optional(e, "/code"))
            })
            .collect();
        if !details.is_empty() {
            message = format!("{message} ({})", details.join("; "));
        }
    }
    cut(&scrub(&message), 500)
}

/// The first `max` characters of `text`, with `…` when there was more. Only ever
/// called on scrubbed text.
pub(super) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// An error and its sources as one line, without repeats, backtraces or
/// octocrab's "Service Error" wrapper.
pub(super) fn describe(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut current = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        let line = text.lines().next().unwrap_or("").trim();
        let line = line.strip_prefix("Service Error: ").unwrap_or(line);
        if !line.is_empty() && !out.contains(line) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(line);
        }
        current = err.source();
    }
    out
}

#[cfg(test)]
mod permission_tests {
    use super::*;

    #[test]
    fn each_call_names_the_permission_it_needs() {
        let r = "/repos/o/r";
        for (method, path, want) in [
            ("GET", "/pulls/7", Some("pull-requests: read")),
            ("GET", "/pulls/7/reviews", Some("pull-requests: read")),
            ("GET", "/pulls/7/commits", Some("pull-requests: read")),
            ("GET", "/issues/7/comments", Some("pull-requests: read")),
            ("POST", "/issues/7/comments", Some("pull-requests: write")),
            ("PATCH", "/issues/comments/9", Some("pull-requests: write")),
            ("DELETE", "/issues/comments/9", Some("pull-requests: write")),
            ("GET", "/contents/smart-app.yaml", Some("contents: read")),
            ("GET", "/git/trees/abc", Some("contents: read")),
            ("GET", "/tags", Some("contents: read")),
            ("GET", "/compare/a...b", Some("contents: read")),
            ("POST", "/statuses/abc", Some("statuses: write")),
            ("GET", "/issues/7", None),
            ("GET", "/collaborators/x/permission", None),
        ] {
            assert_eq!(
                workflow_permission(method, &format!("{r}{path}")),
                want,
                "{method} {path}"
            );
        }
        assert_eq!(workflow_permission("GET", "/orgs/o/teams/t/members"), None);
        assert_eq!(workflow_permission("GET", "/repos/o"), None);
        let e = Error::Status {
            method: "GET",
            path: "/repos/o/r/pulls/7/reviews".into(),
            status: 403,
            message: "Resource not accessible by integration".into(),
            accepted_permissions: None,
        };
        assert!(
            e.to_string().ends_with(
                "this call needs the job's `permissions:` to grant `pull-requests: read`"
            ),
            "{e}"
        );
        let e = Error::Status {
            method: "GET",
            path: "/repos/o/r/pulls/7/reviews".into(),
            status: 404,
            message: "Not Found".into(),
            accepted_permissions: None,
        };
        assert!(!e.to_string().contains("permissions"), "{e}");
    }
}
