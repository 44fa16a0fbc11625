//! Issue and pull request comments: listing, creating, updating, deleting, and the
//! sticky-comment upsert, a protocol over those endpoints.
//!
//! Part of the GitHub adapter. It must leave one sticky comment even when two runs
//! race (a create that may have committed is checked before it is tried again, and
//! after a create the comments are listed again: the oldest stays, newer duplicates
//! go), must never overwrite the verdict on a newer head with an older one, and must
//! not read any trust state back out of comment bodies: only the marker and the
//! author decide which comment is ours.

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

/// What [`Client::upsert_sticky_comment`] did; each but `Stale` carries the comment id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sticky {
    Created(u64),
    Updated(u64),
    /// Ours already had this exact body: nothing was written.
    Unchanged(u64),
    /// The pull request's head is no longer the commit this body judged (it is
    /// `current`): nothing was written, so a newer verdict is never overwritten.
    Stale {
        current: String,
    },
}

/// Whether `body` carries `marker`: as given, or with a judged head inside it
/// (`<!-- … head=SHA -->`, see [`crate::events::marker_at`]).
pub fn is_marked(body: &str, marker: &str) -> bool {
    if body.contains(marker) {
        return true;
    }
    match marker.strip_suffix(" -->") {
        Some(open) => body.contains(&format!("{open} head=")),
        None => false,
    }
}

impl Client {
    /// Every comment on issue or pull request `number`, all pages, oldest first.
    pub fn list_issue_comments(&self, number: u64) -> Result<Vec<Comment>, Error> {
        self.block_on(self.comments(number))
    }

    /// The sticky comment on `number`: the oldest carrying `marker` by `author`.
    pub fn sticky_comment(
        &self,
        number: u64,
        marker: &str,
        author: &str,
    ) -> Result<Option<Comment>, Error> {
        self.block_on(async { Ok(self.ours(number, marker, author).await?.into_iter().next()) })
    }

    /// Posts a comment. Exactly one attempt: a POST that failed may still have
    /// committed, so only a caller that can check (see
    /// [`Client::upsert_sticky_comment`]) may try again.
    pub fn create_issue_comment(&self, number: u64, body: &str) -> Result<Comment, Error> {
        self.block_on(self.create(number, &self.scrub(body)))
    }

    /// Replaces a comment's body (`PATCH`, idempotent, so retried per the policy).
    pub fn update_issue_comment(&self, id: u64, body: &str) -> Result<(), Error> {
        self.block_on(self.update(id, &self.scrub(body)))
    }

    /// Makes the one comment on `number` that contains `marker` and is authored by
    /// `author` say `body`: creates it, updates it, or leaves it when identical.
    /// Same as [`Client::upsert_sticky_comment_at`] with no head to check.
    pub fn upsert_sticky_comment(
        &self,
        number: u64,
        marker: &str,
        body: &str,
        author: &str,
    ) -> Result<Sticky, Error> {
        self.upsert_sticky_comment_at(number, marker, body, author, None)
    }

    /// Makes the one comment on pull request `number` that contains `marker` and is
    /// authored by `author` say `body`: creates it, updates it, or leaves it when
    /// identical. With `head`, the commit `body` judged, nothing is written unless the
    /// pull request's head is still that commit ([`Sticky::Stale`]), checked just
    /// before writing.
    ///
    /// A create that fails with a 5xx or a transport error may have committed, so the
    /// comments are listed again before the single further create. After a create
    /// they are listed once more: when another run created one at the same time, the
    /// oldest is kept (and given this body) and the newer ones are deleted. Newer
    /// duplicates found on an update are deleted too. A 403/422 on create is returned
    /// (a fork PR's read-only token). The body is scrubbed of the token before it is
    /// sent.
    pub fn upsert_sticky_comment_at(
        &self,
        number: u64,
        marker: &str,
        body: &str,
        author: &str,
        head: Option<&str>,
    ) -> Result<Sticky, Error> {
        let body = self.scrub(body);
        let body = body.as_str();
        self.block_on(async {
            let mine = self.ours(number, marker, author).await?;
            if let Some((oldest, newer)) = mine.split_first() {
                self.delete_all(newer).await?;
                if oldest.body == body {
                    return Ok(Sticky::Unchanged(oldest.id));
                }
                if let Some(current) = self.moved_on(number, head).await? {
                    return Ok(Sticky::Stale { current });
                }
                self.update(oldest.id, body).await?;
                return Ok(Sticky::Updated(oldest.id));
            }
            if let Some(current) = self.moved_on(number, head).await? {
                return Ok(Sticky::Stale { current });
            }
            let created = match self.create(number, body).await {
                Ok(created) => created,
                Err(e) if may_have_committed(&e) => {
                    match self.ours(number, marker, author).await?.into_iter().next() {
                        Some(existing) => existing,
                        None => self.create(number, body).await?,
                    }
                }
                Err(e) => return Err(e),
            };
            // What GitHub says posted it is who the token is: a GitHub App's token,
            // which cannot read `/user`, posts as `<app>[bot]`, not as the Actions bot
            // assumed. Its earlier comments are found by that login from here on (they
            // were not found above, so each run posted one more).
            let author = if created.login.is_empty() || created.login.eq_ignore_ascii_case(author) {
                author.to_string()
            } else {
                self.note_posted_as(&created.login);
                created.login.clone()
            };
            let (author, created) = (author.as_str(), created.id);
            // Another run may have listed nothing at the same time and created too.
            let Ok(mine) = self.ours(number, marker, author).await else {
                // Ours is there; a duplicate, if any, goes on the next run.
                return Ok(Sticky::Created(created));
            };
            match mine.split_first() {
                Some((oldest, newer)) if oldest.id != created => {
                    self.delete_all(newer).await?;
                    if oldest.body != body {
                        self.update(oldest.id, body).await?;
                    }
                    Ok(Sticky::Updated(oldest.id))
                }
                Some((_, newer)) => {
                    self.delete_all(newer).await?;
                    Ok(Sticky::Created(created))
                }
                None => Ok(Sticky::Created(created)),
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

    /// Ours on `number`: `marker` in the body, `author` as the user; oldest first.
    async fn ours(&self, number: u64, marker: &str, author: &str) -> Result<Vec<Comment>, Error> {
        // Anyone can post our marker; only the token's own comment is ours.
        let mut mine: Vec<Comment> = self
            .comments(number)
            .await?
            .into_iter()
            .filter(|c| is_marked(&c.body, marker) && c.login.eq_ignore_ascii_case(author))
            .collect();
        mine.sort_by_key(|c| c.id);
        Ok(mine)
    }

    /// The pull request's head when it is no longer `head`; `None` when it still is
    /// (or no head is to be checked).
    async fn moved_on(&self, number: u64, head: Option<&str>) -> Result<Option<String>, Error> {
        let Some(head) = head else {
            return Ok(None);
        };
        let current = self.head_of(number).await?;
        Ok((!current.eq_ignore_ascii_case(head)).then_some(current))
    }

    /// Deletes duplicates; one already gone (404: another run deleted it) is fine.
    async fn delete_all(&self, comments: &[Comment]) -> Result<(), Error> {
        for c in comments {
            let target = format!("{}/issues/comments/{}", self.route(), c.id);
            match self.request(Verb::Delete, &target, None).await {
                Ok(_) | Err(Error::Status { status: 404, .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sets commit status `context` on `sha`: `state` is `success`, `failure`, `error`
    /// or `pending`; `description` is cut to GitHub's 140 characters. One attempt (a
    /// POST); a status set twice is the later one, so a caller may run again.
    pub fn set_commit_status(
        &self,
        sha: &str,
        state: &str,
        context: &str,
        description: &str,
    ) -> Result<(), Error> {
        let description: String = self.scrub(description).chars().take(140).collect();
        let target = format!("{}/statuses/{sha}", self.route());
        let body = json!({ "state": state, "context": context, "description": description });
        self.block_on(async {
            self.request(Verb::Post, &target, Some(&body))
                .await
                .map(drop)
        })
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
        // A deadline or a cap on the answer may strike after GitHub committed.
        Error::Transport { .. } | Error::Limit { .. } => true,
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
