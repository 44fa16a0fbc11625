//! Pull request reviews, as GitHub lists them.
//!
//! Part of the GitHub adapter. It reports each review as GitHub sends it; whether a
//! review counts as an approval is decided elsewhere (`ci`), never here.

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

impl Client {
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
