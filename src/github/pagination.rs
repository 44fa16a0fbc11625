//! Pagination: following `Link: rel="next"` to the last page of a list.
//!
//! Part of the GitHub adapter. It must never follow a link off the API host (the
//! token would go with it), never loop on a page it has already read, and never read
//! past the policy's caps on pages, items and bytes per listing: an endless listing
//! is an [`Error::Limit`], never a partial list.

use std::collections::HashSet;

use http::Uri;
use http::header::{HeaderMap, LINK};
use serde_json::Value;

use super::request::Verb;
use super::{Client, Error, parse};

impl Client {
    /// Follows `Link: rel="next"` from `first` to the end, concatenating the arrays.
    pub(super) async fn all_pages(&self, first: String) -> Result<Vec<Value>, Error> {
        let mut target = first;
        let mut seen = HashSet::new();
        let mut items = Vec::new();
        let mut pages = 0usize;
        let mut bytes = 0u64;
        let policy = &self.policy;
        loop {
            let shown = self.shown(&target);
            let limit = |message: String| Error::Limit {
                path: shown.clone(),
                message,
            };
            pages += 1;
            if pages > policy.max_pages {
                return Err(limit(format!(
                    "the listing has more than {} pages (the page cap, --api-max-pages)",
                    policy.max_pages
                )));
            }
            let reply = self.request(Verb::Get, &target, None).await?;
            bytes += reply.body.len() as u64;
            if bytes > policy.max_listing_bytes {
                return Err(limit(format!(
                    "the listing is larger than {} bytes (the listing cap, --api-max-listing-bytes)",
                    policy.max_listing_bytes
                )));
            }
            match parse(&reply.body, &shown)? {
                Value::Array(page) => {
                    if items.len() + page.len() > policy.max_items {
                        return Err(limit(format!(
                            "the listing has more than {} items (the item cap, --api-max-items)",
                            policy.max_items
                        )));
                    }
                    items.extend(page);
                }
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
}

/// The URL of `rel="next"` in a `Link` header (RFC 8288), if any.
pub(super) fn next_link(headers: &HeaderMap) -> Option<String> {
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
