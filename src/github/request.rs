//! One request to GitHub: the exchange through octocrab, read to the end within its
//! caps, redirects on the API's own origin, and the retry policy around it (bounded
//! waits that honour `retry-after` and the rate-limit headers; GET, PATCH and DELETE
//! only).
//!
//! Part of the GitHub adapter. It must never re-send a POST (a POST that failed may
//! still have committed), never follow a redirect off the API origin (the token goes
//! with every request), never read past the [`Policy`] caps or wait past its
//! deadlines, and never let the token into a message: everything the transport or
//! GitHub says goes through the client's scrub before it is cut.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use http_body_util::BodyExt;
use serde_json::Value;

use super::error::{cut, describe, github_message};
use super::{Client, Error};

/// How long and how often to try before giving up, and how much to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Attempts per GET, PATCH or DELETE, the first included. A POST always gets one.
    pub max_attempts: u32,
    /// The most one call may spend sleeping between attempts, all waits together.
    pub max_total_wait: Duration,
    /// The first wait after a 5xx or a transport error; doubled on each further one.
    pub backoff: Duration,
    pub connect_timeout: Duration,
    /// The longest silence while waiting for bytes of a response.
    pub read_timeout: Duration,
    /// The most one call may take from start to end: every attempt, every byte of
    /// every answer, every wait. A body that drips a byte at a time still ends here.
    pub call_timeout: Duration,
    /// The most all calls of one client may take together, counted from
    /// [`Client::new`](super::Client::new); rate-limit waits count against it.
    pub run_timeout: Duration,
    /// The most bytes one response body may have (the contents API inlines files of
    /// at most 1 MB, about 1.4 MB as base64 in JSON).
    pub max_response_bytes: u64,
    /// The most pages one listing may have.
    pub max_pages: usize,
    /// The most items one listing may have, all pages together.
    pub max_items: usize,
    /// The most bytes one listing may have, all pages together.
    pub max_listing_bytes: u64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(60),
            backoff: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(120),
            run_timeout: Duration::from_secs(600),
            max_response_bytes: 4 << 20,
            max_pages: 100,
            max_items: 10_000,
            max_listing_bytes: 16 << 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verb {
    Get,
    Post,
    Patch,
    Delete,
}

impl Verb {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
}

/// A response read to the end, already scrubbed of the token.
pub(super) struct Reply {
    status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

/// What a failed attempt calls for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Final: not worth repeating (plain 4xx).
    Stop,
    /// Rate limited: GitHub says how long to wait (or 60 s when it does not).
    RateLimit(Duration),
    /// A server error with `retry-after`.
    After(Duration),
    /// A server or transport error: exponential backoff.
    Backoff,
}

/// Why one exchange did not give a [`Reply`].
enum Failed {
    /// Connection refused, reset, a read timeout: worth another attempt.
    Transport(String),
    /// A cap was reached: final.
    Limit(String),
}

/// GitHub's guidance when a rate limit names no time: "wait for at least one minute".
pub(super) const UNTIMED_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Redirects followed within one call (each on the API origin).
const MAX_REDIRECTS: usize = 5;

impl Client {
    /// Sends one request, retrying GET, PATCH and DELETE per the policy. Only a 2xx is
    /// an answer: a 3xx that stays on the API origin is followed for a GET, any other
    /// is an `Err` naming where it pointed (a redirected write did not happen); any
    /// status of 400 or more that is not retried (or no longer can be) is an `Err`.
    pub(super) async fn request(
        &self,
        verb: Verb,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Error> {
        let shown = self.shown(target);
        let started = Instant::now();
        let call_deadline = started + self.policy.call_timeout;
        let deadline = call_deadline.min(self.deadline);
        // A POST is not idempotent: it gets one attempt, whatever happens.
        let retryable = verb != Verb::Post;
        let attempts = if retryable {
            self.policy.max_attempts.max(1)
        } else {
            1
        };
        let mut target = target.to_string();
        let mut redirects = 0;
        let mut waited = Duration::ZERO;
        let mut backoff = self.policy.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = !retryable || attempt >= attempts;
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Err(self.out_of_time(&shown, call_deadline));
            };
            let exchange = tokio::time::timeout(left, self.send_once(verb, &target, body)).await;
            let (error, wait) = match exchange {
                Err(_) => return Err(self.out_of_time(&shown, call_deadline)),
                Ok(Err(Failed::Limit(message))) => {
                    return Err(Error::Limit {
                        path: shown,
                        message,
                    });
                }
                Ok(Ok(reply)) if (200..300).contains(&reply.status) => return Ok(reply),
                Ok(Ok(reply)) if (300..400).contains(&reply.status) => {
                    let location = header(&reply.headers, "location").unwrap_or("");
                    match self.on_origin(location) {
                        Some(next) if verb == Verb::Get && redirects < MAX_REDIRECTS => {
                            redirects += 1;
                            target = next;
                            attempt -= 1;
                            continue;
                        }
                        _ => return Err(self.redirect_error(verb, &shown, &reply, location)),
                    }
                }
                Ok(Ok(reply)) => {
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
                            // The wait counts against the call's and the run's time.
                            if Instant::now() + wait >= deadline {
                                return Err(self.out_of_time(&shown, call_deadline));
                            }
                            (error, wait)
                        }
                        Next::After(wait) => (error, wait),
                        Next::Backoff => (error, next_backoff(&mut backoff)),
                    }
                }
                Ok(Err(Failed::Transport(message))) => (
                    Error::Transport {
                        path: shown.clone(),
                        message,
                    },
                    next_backoff(&mut backoff),
                ),
            };
            // A failing server is reported as itself, not as a rate limit.
            if last
                || waited + wait > self.policy.max_total_wait
                || Instant::now() + wait >= deadline
            {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }

    /// One exchange, read to the end or to the response cap.
    async fn send_once(
        &self,
        verb: Verb,
        target: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Failed> {
        let transport = |e: &dyn std::error::Error| Failed::Transport(self.scrub(&describe(e)));
        // The raw `_get`/`_post`/`_patch` hand back the response as is, headers
        // included; octocrab's typed calls would turn a 403 into an error without them.
        let response = match verb {
            Verb::Get => self.crab._get(target).await,
            Verb::Post => self.crab._post(target, body).await,
            Verb::Patch => self.crab._patch(target, body).await,
            Verb::Delete => self.crab._delete(target, body).await,
        }
        .map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let cap = self.policy.max_response_bytes;
        let too_large = || {
            Failed::Limit(format!(
                "the answer is larger than {cap} bytes (the response cap, --api-max-response-bytes)"
            ))
        };
        let declared = header(&headers, "content-length").and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > cap) {
            return Err(too_large());
        }
        let mut stream = response.into_body();
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(frame) = stream.frame().await {
            let frame = frame.map_err(|e| transport(&e))?;
            if let Ok(data) = frame.into_data() {
                if (bytes.len() + data.len()) as u64 > cap {
                    return Err(too_large());
                }
                bytes.extend_from_slice(&data);
            }
        }
        let body = String::from_utf8(bytes)
            .map_err(|_| Failed::Transport("the answer is not UTF-8".to_string()))?;
        Ok(Reply {
            status,
            headers,
            // Everything from the network is scrubbed before anything reads it.
            body: self.scrub(&body),
        })
    }

    /// `location` as a target on the API origin (scheme, host and port all equal to
    /// `GITHUB_API_URL`'s), or `None`. Each hop is checked against the API origin,
    /// never against the hop before it.
    fn on_origin(&self, location: &str) -> Option<String> {
        if location.starts_with('/') && !location.starts_with("//") {
            return location
                .parse::<http::Uri>()
                .ok()
                .map(|_| location.to_string());
        }
        let uri: http::Uri = location.parse().ok()?;
        if uri.authority().is_none()
            || uri.authority() != self.base.authority()
            || uri.scheme() != self.base.scheme()
        {
            return None;
        }
        Some(
            uri.path_and_query()
                .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
        )
    }

    fn redirect_error(&self, verb: Verb, shown: &str, reply: &Reply, location: &str) -> Error {
        let message = if location.is_empty() {
            "a redirect with no Location, which is not followed".to_string()
        } else if verb != Verb::Get {
            format!(
                "redirected to {}; a redirected write did not happen",
                cut(&self.scrub(location), 200)
            )
        } else if self.on_origin(location).is_some() {
            format!(
                "redirected to {} after {MAX_REDIRECTS} redirects; not followed further",
                cut(&self.scrub(location), 200)
            )
        } else {
            format!(
                "redirected to {}, off the API origin; not followed (the token goes only to GITHUB_API_URL)",
                cut(&self.scrub(location), 200)
            )
        };
        Error::Status {
            method: verb.as_str(),
            path: shown.to_string(),
            status: reply.status,
            message,
            accepted_permissions: None,
        }
    }

    /// The deadline of the call, or of the run, has passed.
    fn out_of_time(&self, shown: &str, call_deadline: Instant) -> Error {
        let message = if call_deadline <= self.deadline {
            format!(
                "no complete answer within {} s (the per-call deadline, --api-call-timeout)",
                self.policy.call_timeout.as_secs()
            )
        } else {
            format!(
                "the run's {} s for GitHub API calls are spent (the run deadline, --api-run-timeout)",
                self.policy.run_timeout.as_secs()
            )
        };
        Error::Limit {
            path: shown.to_string(),
            message,
        }
    }

    fn status_error(&self, verb: Verb, shown: &str, reply: &Reply) -> Error {
        let accepted_permissions = if reply.status == 403 {
            header(&reply.headers, "x-accepted-github-permissions")
                .map(|p| cut(&self.scrub(p), 200))
        } else {
            None
        };
        Error::Status {
            method: verb.as_str(),
            path: shown.to_string(),
            status: reply.status,
            message: github_message(&reply.body, |m| self.scrub(m)),
            accepted_permissions,
        }
    }
}

/// What a failed reply calls for. GitHub docs, "Troubleshooting the REST API": honour
/// `retry-after`; with `x-ratelimit-remaining: 0` wait until `x-ratelimit-reset`;
/// otherwise wait at least a minute. A secondary limit may come as a 403 whose
/// message names it, with no headers at all.
pub(super) fn next_step(status: u16, headers: &HeaderMap, message: &str, now: u64) -> Next {
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
