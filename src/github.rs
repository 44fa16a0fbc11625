//! The one adapter over the GitHub REST API (through octocrab): I/O at the edge.
//!
//! It owns the HTTP conversation: the base URL (GitHub.com, or GHES with its `/api/v3`
//! prefix), the token, timeouts, pagination through `Link: rel="next"`, the retry
//! policy (bounded waits that honour `retry-after` and the rate-limit headers, for GET
//! and PATCH only: a POST is never re-sent blindly), and the sticky-comment upsert,
//! which is a protocol over these endpoints. It must not analyse anything (no scopes,
//! no verdicts, no trust state read back out of comment bodies), must not print, and
//! must never put the token into an error or a message.
//!
//! The API is blocking: each call runs on the client's own current-thread tokio
//! runtime, because the rest of the CLI is synchronous.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Uri;
use http::header::{ACCEPT, HeaderMap, LINK};
use octocrab::Octocrab;
use serde_json::{Value, json};

mod repo;
#[cfg(test)]
use repo::decode_base64;

/// How long and how often to try before giving up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts per GET or PATCH, the first included. A POST always gets one.
    pub max_attempts: u32,
    /// The most one call may spend sleeping between attempts, all waits together.
    pub max_total_wait: Duration,
    /// The first wait after a 5xx or a transport error; doubled on each further one.
    pub backoff: Duration,
    pub connect_timeout: Duration,
    /// The longest silence while waiting for bytes of a response.
    pub read_timeout: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(60),
            backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// An issue or pull request comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    /// Empty when GitHub sends no user.
    pub login: String,
    pub body: String,
}

/// A pull request review, as GitHub lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// Empty when GitHub sends no user.
    pub login: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
    pub commit_id: Option<String>,
    pub submitted_at: Option<String>,
}

/// What [`Client::upsert_sticky_comment`] did; each carries the comment id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sticky {
    Created(u64),
    Updated(u64),
    /// Ours already had this exact body: nothing was written.
    Unchanged(u64),
}

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
    /// [`Client::new`] (API URL, repository, token) is unusable.
    Decode { path: String, message: String },
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
        }
    }
}

impl std::error::Error for Error {}

/// A GitHub REST client for one repository. Each method blocks until done.
pub struct Client {
    // Declared before `runtime` so it is dropped first: its tasks live on that runtime.
    crab: Octocrab,
    runtime: tokio::runtime::Runtime,
    owner: String,
    repo: String,
    policy: Policy,
    /// The API base, e.g. `https://api.github.com` or `https://ghes.example/api/v3`.
    base: Uri,
    /// The base's path without a trailing slash (`""` or `/api/v3`).
    base_path: String,
    /// Kept only to scrub it out of any message that could ever echo it.
    secret: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Get,
    Post,
    Patch,
}

impl Verb {
    fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
        }
    }
}

/// A response read to the end.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: String,
}

/// What a failed attempt calls for.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Final: not worth repeating (plain 4xx).
    Stop,
    /// Rate limited: GitHub says how long to wait (or 60 s when it does not).
    RateLimit(Duration),
    /// A server error with `retry-after`.
    After(Duration),
    /// A server or transport error: exponential backoff.
    Backoff,
}

/// GitHub's guidance when a rate limit names no time: "wait for at least one minute".
const UNTIMED_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

impl Client {
    /// Builds a client for `repository` (`owner/repo`) against `api_url`
    /// (`GITHUB_API_URL`; a GHES `/api/v3` prefix is kept on every request).
    /// An empty token makes anonymous requests. A malformed URL, repository or token
    /// is an [`Error::Decode`]; failing to set up the HTTP client, an
    /// [`Error::Transport`].
    pub fn new(
        api_url: &str,
        token: &str,
        repository: &str,
        policy: Policy,
    ) -> Result<Client, Error> {
        let shown_url = without_userinfo(api_url.trim());
        let bad_url = || Error::Decode {
            path: "the API URL".to_string(),
            message: format!("expected https://host or https://host/api/v3, got {shown_url:?}"),
        };
        let setup = |message: &str| Error::Transport {
            path: shown_url.clone(),
            message: message.to_string(),
        };
        let base: Uri = api_url
            .trim()
            .trim_end_matches('/')
            .parse()
            .map_err(|_| bad_url())?;
        if !matches!(base.scheme_str(), Some("http" | "https"))
            || base.authority().is_none()
            || base.query().is_some()
        {
            return Err(bad_url());
        }
        let base_path = base.path().trim_end_matches('/').to_string();

        let (owner, repo) = match repository.split_once('/') {
            Some((o, r)) if !o.is_empty() && !r.is_empty() && !r.contains('/') => (o, r),
            _ => {
                return Err(Error::Decode {
                    path: "the repository".to_string(),
                    message: format!("expected owner/repo, got {repository:?}"),
                });
            }
        };

        // octocrab unwraps `"Bearer {token}".parse()`: a stray newline would panic.
        let token = token.trim();
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Decode {
                path: "the token".to_string(),
                message: "the token contains characters that cannot be sent in an HTTP header"
                    .to_string(),
            });
        }

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| setup(&format!("could not start the I/O runtime: {e}")))?;
        let crab = {
            // octocrab's service buffer spawns its worker on the current runtime.
            let _entered = runtime.enter();
            let mut builder = Octocrab::builder()
                .base_uri(base.clone())
                .map_err(|_| bad_url())?
                .add_header(ACCEPT, "application/vnd.github+json".to_string())
                .set_connect_timeout(Some(policy.connect_timeout))
                .set_read_timeout(Some(policy.read_timeout));
            if !token.is_empty() {
                builder = builder.personal_token(token.to_string());
            }
            builder.build().map_err(|e| {
                setup(&format!(
                    "could not build the HTTP client: {}",
                    describe(&e)
                ))
            })?
        };
        Ok(Client {
            crab,
            runtime,
            owner: owner.to_string(),
            repo: repo.to_string(),
            policy,
            base,
            base_path,
            secret: token.to_string(),
        })
    }

    /// The login the token acts as (`GET /user`), or `None` when the token may not
    /// read it (401/403): an Actions `GITHUB_TOKEN` cannot, and its comments are
    /// authored by `github-actions[bot]`.
    pub fn authenticated_login(&self) -> Result<Option<String>, Error> {
        self.runtime.block_on(async {
            match self.request(Verb::Get, "/user", None).await {
                Ok(reply) => {
                    let v = parse(&reply.body, "/user")?;
                    Ok(Some(text(&v, "/login", "/user")?))
                }
                Err(Error::Status {
                    status: 401 | 403, ..
                }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// Every comment on issue or pull request `number`, all pages, oldest first.
    pub fn list_issue_comments(&self, number: u64) -> Result<Vec<Comment>, Error> {
        self.runtime.block_on(self.comments(number))
    }

    /// Posts a comment. Exactly one attempt: a POST that failed may still have
    /// committed, so only a caller that can check (see
    /// [`Client::upsert_sticky_comment`]) may try again.
    pub fn create_issue_comment(&self, number: u64, body: &str) -> Result<Comment, Error> {
        self.runtime.block_on(self.create(number, body))
    }

    /// Replaces a comment's body (`PATCH`, idempotent, so retried per the policy).
    pub fn update_issue_comment(&self, id: u64, body: &str) -> Result<(), Error> {
        self.runtime.block_on(self.update(id, body))
    }

    /// Every review of pull request `number`, all pages, in GitHub's (chronological) order.
    pub fn list_reviews(&self, number: u64) -> Result<Vec<Review>, Error> {
        self.runtime.block_on(async {
            let first = format!("{}/pulls/{number}/reviews?per_page=100", self.route());
            let shown = self.shown(&first);
            let items = self.all_pages(first).await?;
            items
                .iter()
                .map(|v| {
                    Ok(Review {
                        login: optional(v, "/user/login").unwrap_or_default(),
                        state: text(v, "/state", &shown)?,
                        commit_id: optional(v, "/commit_id"),
                        submitted_at: optional(v, "/submitted_at"),
                    })
                })
                .collect()
        })
    }

    /// Makes the one comment on `number` that contains `marker` and is authored by
    /// `author` say `body`: creates it, updates it, or leaves it when identical.
    ///
    /// A create that fails with a 5xx or a transport error may have committed, so the
    /// comments are listed again before the single further create; this never leaves
    /// two comments. A 403/422 on create is returned (a fork PR's read-only token).
    pub fn upsert_sticky_comment(
        &self,
        number: u64,
        marker: &str,
        body: &str,
        author: &str,
    ) -> Result<Sticky, Error> {
        self.runtime.block_on(async {
            // Anyone can post our marker; only the token's own comment is ours.
            let ours = |comments: Vec<Comment>| {
                comments
                    .into_iter()
                    .find(|c| c.body.contains(marker) && c.login.eq_ignore_ascii_case(author))
            };
            if let Some(existing) = ours(self.comments(number).await?) {
                if existing.body == body {
                    return Ok(Sticky::Unchanged(existing.id));
                }
                self.update(existing.id, body).await?;
                return Ok(Sticky::Updated(existing.id));
            }
            match self.create(number, body).await {
                Ok(created) => Ok(Sticky::Created(created.id)),
                Err(e) if may_have_committed(&e) => match ours(self.comments(number).await?) {
                    Some(existing) => {
                        if existing.body != body {
                            self.update(existing.id, body).await?;
                        }
                        Ok(Sticky::Created(existing.id))
                    }
                    None => Ok(Sticky::Created(self.create(number, body).await?.id)),
                },
                Err(e) => Err(e),
            }
        })
    }

    // ---- endpoints shared by the public calls (async: no nested `block_on`) ----

    async fn comments(&self, number: u64) -> Result<Vec<Comment>, Error> {
        let first = format!("{}/issues/{number}/comments?per_page=100", self.route());
        let shown = self.shown(&first);
        let items = self.all_pages(first).await?;
        items.iter().map(|v| comment(v, &shown)).collect()
    }

    async fn create(&self, number: u64, body: &str) -> Result<Comment, Error> {
        let target = format!("{}/issues/{number}/comments", self.route());
        let reply = self
            .request(Verb::Post, &target, Some(&json!({ "body": body })))
            .await?;
        comment(&parse(&reply.body, &target)?, &target)
    }

    async fn update(&self, id: u64, body: &str) -> Result<(), Error> {
        let target = format!("{}/issues/comments/{id}", self.route());
        self.request(Verb::Patch, &target, Some(&json!({ "body": body })))
            .await
            .map(drop)
    }

    /// Follows `Link: rel="next"` from `first` to the end, concatenating the arrays.
    async fn all_pages(&self, first: String) -> Result<Vec<Value>, Error> {
        let mut target = first;
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        loop {
            let shown = self.shown(&target);
            let reply = self.request(Verb::Get, &target, None).await?;
            match parse(&reply.body, &shown)? {
                Value::Array(page) => items.extend(page),
                _ => {
                    return Err(Error::Decode {
                        path: shown,
                        message: "expected a list".to_string(),
                    });
                }
            }
            let Some(next) = next_link(&reply.headers) else {
                return Ok(items);
            };
            let next = self.same_origin(&next, &shown)?;
            if !seen.insert(next.clone()) {
                return Err(Error::Decode {
                    path: shown,
                    message: "the next-page link repeats an earlier page".to_string(),
                });
            }
            target = next;
        }
    }

    /// A `Link` URL turned into a path on our API base. GitHub sends absolute URLs;
    /// one that leaves the API host is refused rather than followed.
    fn same_origin(&self, url: &str, shown: &str) -> Result<String, Error> {
        let bad = |message: &str| Error::Decode {
            path: shown.to_string(),
            message: message.to_string(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|_| bad("the next-page link is not a URL"))?;
        if uri.authority().is_some()
            && (uri.authority() != self.base.authority() || uri.scheme() != self.base.scheme())
        {
            return Err(bad("the next-page link points away from the API host"));
        }
        Ok(uri
            .path_and_query()
            .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()))
    }

    /// `/repos/{owner}/{repo}`, encoded.
    fn route(&self) -> String {
        format!(
            "/repos/{}/{}",
            encode(&self.owner, b""),
            encode(&self.repo, b"")
        )
    }

    /// The path to show in errors: no query string, no GHES prefix.
    fn shown(&self, target: &str) -> String {
        let path = target.split('?').next().unwrap_or(target);
        match path.strip_prefix(self.base_path.as_str()) {
            Some(rest) if !self.base_path.is_empty() && rest.starts_with('/') => rest.to_string(),
            _ => path.to_string(),
        }
    }

    /// Defence in depth: nothing GitHub or the transport says should echo the token,
    /// but if it ever did, it stops here.
    fn scrub(&self, message: String) -> String {
        if self.secret.is_empty() {
            message
        } else {
            message.replace(&self.secret, "***")
        }
    }

    // ---- the retry loop ----

    /// Sends one request, retrying GET and PATCH per the policy. Any status of 400 or
    /// more that is not retried (or no longer can be) becomes an `Err`.
    async fn request(
        &self,
        verb: Verb,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Error> {
        let shown = self.shown(target);
        // A POST is not idempotent: it gets one attempt, whatever happens.
        let retryable = verb != Verb::Post;
        let attempts = if retryable {
            self.policy.max_attempts.max(1)
        } else {
            1
        };
        let mut waited = Duration::ZERO;
        let mut backoff = self.policy.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = !retryable || attempt >= attempts;
            let (error, wait) = match self.send_once(verb, target, body).await {
                Ok(reply) if reply.status < 400 => return Ok(reply),
                Ok(reply) => {
                    let error = self.status_error(verb, &shown, &reply);
                    let message = match &error {
                        Error::Status { message, .. } => message.as_str(),
                        _ => "",
                    };
                    match next_step(reply.status, &reply.headers, message, unix_now()) {
                        Next::Stop => return Err(error),
                        Next::RateLimit(wait) => {
                            if last || waited + wait > self.policy.max_total_wait {
                                return Err(Error::RateLimited {
                                    path: shown,
                                    wait_secs: ceil_secs(wait),
                                });
                            }
                            (error, wait)
                        }
                        Next::After(wait) => (error, wait),
                        Next::Backoff => (error, next_backoff(&mut backoff)),
                    }
                }
                Err(message) => (
                    Error::Transport {
                        path: shown.clone(),
                        message,
                    },
                    next_backoff(&mut backoff),
                ),
            };
            // A failing server is reported as itself, not as a rate limit.
            if last || waited + wait > self.policy.max_total_wait {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// One exchange, read to the end. `Err` is a transport failure, already described.
    async fn send_once(
        &self,
        verb: Verb,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        // The raw `_get`/`_post`/`_patch` hand back the response as is, headers
        // included; octocrab's typed calls would turn a 403 into an error without them.
        let response = match verb {
            Verb::Get => self.crab._get(target).await,
            Verb::Post => self.crab._post(target, body).await,
            Verb::Patch => self.crab._patch(target, body).await,
        }
        .map_err(|e| self.scrub(describe(&e)))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = self
            .crab
            .body_to_string(response)
            .await
            .map_err(|e| self.scrub(describe(&e)))?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn status_error(&self, verb: Verb, shown: &str, reply: &Reply) -> Error {
        let accepted_permissions = if reply.status == 403 {
            header(&reply.headers, "x-accepted-github-permissions").map(str::to_string)
        } else {
            None
        };
        Error::Status {
            method: verb.as_str(),
            path: shown.to_string(),
            status: reply.status,
            message: self.scrub(github_message(&reply.body)),
            accepted_permissions,
        }
    }
}

/// A 5xx or a transport failure: the request may have reached GitHub and committed.
fn may_have_committed(e: &Error) -> bool {
    match e {
        Error::Status { status, .. } => *status >= 500,
        Error::Transport { .. } => true,
        Error::RateLimited { .. } | Error::Decode { .. } => false,
    }
}

/// What a failed reply calls for. GitHub docs, "Troubleshooting the REST API": honour
/// `retry-after`; with `x-ratelimit-remaining: 0` wait until `x-ratelimit-reset`;
/// otherwise wait at least a minute. A secondary limit may come as a 403 whose
/// message names it, with no headers at all.
fn next_step(status: u16, headers: &HeaderMap, message: &str, now: u64) -> Next {
    let retry_after = header(headers, "retry-after").and_then(|v| v.parse::<u64>().ok());
    let exhausted = header(headers, "x-ratelimit-remaining") == Some("0");
    let rate_limited = status == 429
        || (status == 403
            && (retry_after.is_some()
                || exhausted
                || message.to_ascii_lowercase().contains("rate limit")));
    if rate_limited {
        if let Some(secs) = retry_after {
            return Next::RateLimit(Duration::from_secs(secs));
        }
        if exhausted {
            let reset = header(headers, "x-ratelimit-reset").and_then(|v| v.parse::<u64>().ok());
            return Next::RateLimit(match reset {
                Some(reset) => Duration::from_secs(reset.saturating_sub(now).max(1)),
                None => UNTIMED_RATE_LIMIT_WAIT,
            });
        }
        return Next::RateLimit(UNTIMED_RATE_LIMIT_WAIT);
    }
    if status >= 500 {
        return match retry_after {
            Some(secs) => Next::After(Duration::from_secs(secs)),
            None => Next::Backoff,
        };
    }
    Next::Stop
}

fn next_backoff(backoff: &mut Duration) -> Duration {
    let wait = *backoff;
    *backoff = backoff.saturating_mul(2);
    wait
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The URL of `rel="next"` in a `Link` header (RFC 8288), if any.
fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(LINK) {
        let Ok(mut rest) = value.to_str() else {
            continue;
        };
        while let Some(open) = rest.find('<') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('>') else {
                break;
            };
            let url = &after[..close];
            rest = &after[close + 1..];
            let params = rest.find('<').map_or(rest, |next| &rest[..next]);
            let is_next = params.split([';', ',']).any(|param| {
                param.trim().strip_prefix("rel=").is_some_and(|rel| {
                    rel.trim_matches('"')
                        .split_whitespace()
                        .any(|r| r == "next")
                })
            });
            if is_next {
                return Some(url.to_string());
            }
        }
    }
    None
}

/// GitHub's `message`, with any validation details; else the start of the body.
fn github_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return body.trim().chars().take(200).collect();
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
    message.chars().take(500).collect()
}

/// An error and its sources as one line, without repeats, backtraces or
/// octocrab's "Service Error" wrapper.
fn describe(e: &dyn std::error::Error) -> String {
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

fn parse(body: &str, shown: &str) -> Result<Value, Error> {
    serde_json::from_str(body).map_err(|e| Error::Decode {
        path: shown.to_string(),
        message: format!("GitHub's answer is not JSON ({e})"),
    })
}

fn text(v: &Value, pointer: &str, shown: &str) -> Result<String, Error> {
    optional(v, pointer).ok_or_else(|| Error::Decode {
        path: shown.to_string(),
        message: format!("missing string field {pointer}"),
    })
}

fn optional(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn comment(v: &Value, shown: &str) -> Result<Comment, Error> {
    let id = v
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Decode {
            path: shown.to_string(),
            message: "a comment has no numeric id".to_string(),
        })?;
    Ok(Comment {
        id,
        login: optional(v, "/user/login").unwrap_or_default(),
        body: optional(v, "/body").unwrap_or_default(),
    })
}

/// Percent-encodes all but RFC 3986 unreserved bytes and those in `keep`.
fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `url` without any `user:password@` (the URL is echoed in setup errors).
fn without_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &url[start + at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
#[path = "github_tests.rs"]
mod tests;
