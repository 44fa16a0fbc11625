//! Pull request reviews and commits, as GitHub lists them.
//!
//! Part of the GitHub adapter. It reports each review and commit as GitHub sends it;
//! whether a review counts as an approval, or a reviewer as independent, is decided
//! elsewhere (`ci`), never here.

use super::{Client, Error, optional, text};

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

/// A commit of a pull request, as the PR commits API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullCommit {
    pub sha: String,
    /// The GitHub account of the git author; `None` when GitHub links none.
    pub author: Option<String>,
    /// The GitHub account of the git committer; `None` when GitHub links none.
    pub committer: Option<String>,
    pub message: String,
}

impl Client {
    /// The commits of pull request `number`, all pages, oldest first. GitHub lists at
    /// most 250; the caller decides what a full list means.
    pub fn list_pull_commits(&self, number: u64) -> Result<Vec<PullCommit>, Error> {
        self.runtime.block_on(async {
            let first = format!("{}/pulls/{number}/commits?per_page=100", self.route());
            let shown = self.shown(&first);
            let items = self.all_pages(first).await?;
            items
                .iter()
                .map(|v| {
                    Ok(PullCommit {
                        sha: text(v, "/sha", &shown)?,
                        author: optional(v, "/author/login").filter(|l| !l.is_empty()),
                        committer: optional(v, "/committer/login").filter(|l| !l.is_empty()),
                        message: optional(v, "/commit/message").unwrap_or_default(),
                    })
                })
                .collect()
        })
    }

    /// Every review of pull request `number`, all pages, in GitHub's (chronological) order.
    pub fn list_reviews(&self, number: u64) -> Result<Vec<Review>, Error> {
        self.block_on(async {
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
}
