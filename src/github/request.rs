//! One request to GitHub: the exchange through octocrab, read to the end, and the
//! retry policy around it (bounded waits that honour `retry-after` and the
//! rate-limit headers; GET and PATCH only).
//!
//! Part of the GitHub adapter. It must never re-send a POST (a POST that failed may
//! still have committed), never wait past the [`Policy`] bound, and never let the
//! token into a message: everything the transport or GitHub says goes through the
//! client's scrub.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use serde_json::Value;

use super::error::{describe, github_message};
use super::{Client, Error};

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verb {
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

/// GitHub's guidance when a rate limit names no time: "wait for at least one minute".
pub(super) const UNTIMED_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

impl Client {
    /// Sends one request, retrying GET and PATCH per the policy. Any status of 400 or
    /// more that is not retried (or no longer can be) becomes an `Err`.
    pub(super) async fn request(
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
