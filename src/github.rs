//! The one adapter over the GitHub REST API (through octocrab): I/O at the edge.
//!
//! It owns the HTTP conversation: the base URL (GitHub.com, or GHES with its `/api/v3`
//! prefix), the token, timeouts and deadlines, the caps on what it reads, pagination
//! through `Link: rel="next"`, redirects (followed only on the API's own origin), the
//! retry policy (bounded waits that honour `retry-after` and the rate-limit headers,
//! never for a POST: it is never re-sent blindly), and the sticky-comment upsert,
//! which is a protocol over these endpoints. It must not analyse anything (no scopes,
//! no verdicts, no trust state read back out of comment bodies), must not print, must
//! never send the token anywhere but the API origin, and must never put any piece of
//! it into an error or a message: every string from the network is scrubbed before
//! it is cut or shown, and every error is scrubbed again on its way out.
//!
//! The API is blocking: each call runs on the client's own current-thread tokio
//! runtime, because the rest of the CLI is synchronous.
//!
//! This file holds the [`Client`] itself: setting it up, addressing the repository,
//! scrubbing the token, and reading fields out of GitHub's JSON. One request and its
//! retries live in `request`, `Link` pagination in `pagination`, [`Error`] and its
//! messages in `error`; the endpoints are grouped by what they read or write:
//! `comment`, `review` and `repo`.

use std::fmt;
use std::future::Future;
use std::time::Instant;

use http::Uri;
use http::header::ACCEPT;
use octocrab::Octocrab;
use serde_json::Value;

mod comment;
mod error;
mod pagination;
mod redact;
mod repo;
mod request;
mod review;

pub use comment::{Comment, Sticky, is_marked};
pub use error::Error;
use error::cut;
use error::describe;
pub use redact::redact;
pub use repo::Pull;
pub use request::Policy;
use request::Verb;
pub use review::{PullCommit, Review};

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
    /// Exactly the token sent (trimmed), kept only to scrub it out of anything that
    /// could ever echo it.
    secret: String,
    /// When the run's time for API calls ends ([`Policy::run_timeout`]).
    deadline: Instant,
    /// What [`Client::kind_at`] found at each `(path, ref)`: several missing files
    /// under one directory ask about it once.
    kinds: std::sync::Mutex<std::collections::HashMap<(String, String), Option<String>>>,
    /// Small files [`Client::file_at`] read (or found missing) at each `(path, ref)`:
    /// the judging config is asked for by several parts of a run, one request.
    small_files: std::sync::Mutex<FileCache>,
    /// The login a comment this client created was posted as, when it was not the
    /// author it was asked to look for ([`Client::posted_as`]).
    posted_as: std::sync::Mutex<Option<String>>,
}

type FileCache = std::collections::HashMap<(String, String), Option<Vec<u8>>>;

/// Files up to this size are kept by [`Client::file_at`] for the run.
const SMALL_FILE: usize = 64 << 10;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

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
            policy: policy.clone(),
            base,
            base_path,
            secret: token.to_string(),
            deadline: Instant::now() + policy.run_timeout,
            kinds: std::sync::Mutex::default(),
            small_files: std::sync::Mutex::default(),
            posted_as: std::sync::Mutex::default(),
        })
    }

    /// The login the token acts as (`GET /user`), or `None` when the token may not
    /// read it (401/403): an Actions `GITHUB_TOKEN` cannot, and its comments are
    /// authored by `github-actions[bot]`.
    pub fn authenticated_login(&self) -> Result<Option<String>, Error> {
        self.block_on(async {
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

    /// The login a sticky comment was posted as, when it was not the author looked
    /// for (a GitHub App's token posts as `<app>[bot]`, and cannot read `/user`): the
    /// caller should look for that author from the start.
    pub fn posted_as(&self) -> Option<String> {
        self.posted_as
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn note_posted_as(&self, login: &str) {
        *self
            .posted_as
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(login.to_string());
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

    /// The token, and any piece of it of [`redact::PIECE`] bytes or more, taken out.
    /// Nothing GitHub or the transport says should echo it, but if it ever did, it
    /// stops here, before any cut.
    fn scrub(&self, text: &str) -> String {
        redact(&self.secret, text)
    }

    /// A server-sent field for a message: scrubbed, then cut.
    fn field(&self, text: &str) -> String {
        cut(&self.scrub(text), 100)
    }

    /// Runs one public call to the end; its error, whatever made it, leaves scrubbed.
    fn block_on<T>(&self, call: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        self.runtime.block_on(call).map_err(|e| self.scrub_error(e))
    }

    fn scrub_error(&self, e: Error) -> Error {
        match e {
            Error::Status {
                method,
                path,
                status,
                message,
                accepted_permissions,
            } => Error::Status {
                method,
                path: self.scrub(&path),
                status,
                message: self.scrub(&message),
                accepted_permissions: accepted_permissions.map(|p| self.scrub(&p)),
            },
            Error::RateLimited { path, wait_secs } => Error::RateLimited {
                path: self.scrub(&path),
                wait_secs,
            },
            Error::Transport { path, message } => Error::Transport {
                path: self.scrub(&path),
                message: self.scrub(&message),
            },
            Error::Decode { path, message } => Error::Decode {
                path: self.scrub(&path),
                message: self.scrub(&message),
            },
            Error::Limit { path, message } => Error::Limit {
                path: self.scrub(&path),
                message: self.scrub(&message),
            },
        }
    }
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
mod tests;
