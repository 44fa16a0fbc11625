//! Issue and pull request comments: listing, creating, updating, and the
//! sticky-comment upsert, a protocol over those three endpoints.
//!
//! Part of the GitHub adapter. It must never leave two sticky comments (a create that
//! may have committed is checked before it is tried again), and must not read any
//! trust state back out of comment bodies: only the marker and the author decide
//! which comment is ours.

use serde_json::{Value, json};

use super::request::Verb;
use super::{Client, Error, optional, parse};

/// An issue or pull request comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    /// Empty when GitHub sends no user.
    pub login: String,
    pub body: String,
}

/// What [`Client::upsert_sticky_comment`] did; each carries the comment id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sticky {
    Created(u64),
    Updated(u64),
    /// Ours already had this exact body: nothing was written.
    Unchanged(u64),
}

impl Client {
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
}

/// A 5xx or a transport failure: the request may have reached GitHub and committed.
fn may_have_committed(e: &Error) -> bool {
    match e {
        Error::Status { status, .. } => *status >= 500,
        Error::Transport { .. } => true,
        Error::RateLimited { .. } | Error::Decode { .. } => false,
    }
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
