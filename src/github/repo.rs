//! Reading a repository through the API, for when the clone cannot answer (a shallow
//! checkout): file contents, directory and tree listings, team membership, tags,
//! commit comparison and a pull request's head.
//!
//! Part of the GitHub adapter: the same client, retries and error rules; it decides
//! nothing about what it reads.

use std::sync::PoisonError;

use serde_json::Value;

use super::request::Verb;
use super::{Client, Error, encode, optional, parse, text};

/// The most entries the contents API lists of one directory (GitHub's documented
/// limit; beyond it the listing is cut without a word).
pub(crate) const CONTENTS_LIST_LIMIT: usize = 1000;

/// A pull request's commits and author, as the pulls API reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    pub head_sha: String,
    pub base_sha: String,
    pub author: String,
    /// `owner/name` of the head's repository; `None` when the fork was deleted.
    pub head_repo: Option<String>,
    pub base_repo: Option<String>,
}

impl Client {
    /// The bytes of file `path` at `git_ref` (contents API), or `None` on 404.
    /// A directory, a symlink, a submodule or a file too large to be inlined
    /// (over 1 MB) is an [`Error::Decode`].
    pub fn file_at(&self, path: &str, git_ref: &str) -> Result<Option<Vec<u8>>, Error> {
        let key = (path.to_string(), git_ref.to_string());
        let cache = || {
            self.small_files
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(known) = cache().get(&key) {
            return Ok(known.clone());
        }
        let read = self.file_at_uncached(path, git_ref)?;
        if read.as_ref().is_none_or(|b| b.len() <= super::SMALL_FILE) {
            cache().insert(key, read.clone());
        }
        Ok(read)
    }

    fn file_at_uncached(&self, path: &str, git_ref: &str) -> Result<Option<Vec<u8>>, Error> {
        self.block_on(async {
            let Some((v, shown)) = self.contents(path, git_ref).await? else {
                return Ok(None);
            };
            let bad = |message: String| Error::Decode {
                path: shown.clone(),
                message,
            };
            if v.is_array() {
                return Err(bad(format!("{path} is a directory, not a file")));
            }
            // `type` and `encoding` come from the server: scrubbed, then cut.
            let kind = optional(&v, "/type").unwrap_or_default();
            if kind != "file" {
                return Err(bad(format!(
                    "{path} is a {}, not a file",
                    self.field(&kind)
                )));
            }
            let encoding = optional(&v, "/encoding").unwrap_or_default();
            if encoding != "base64" {
                let size = v.pointer("/size").and_then(Value::as_u64).unwrap_or(0);
                return Err(bad(format!(
                    "{path} was not inlined (encoding {:?}, {size} bytes); \
                     the contents API inlines files up to 1 MB",
                    self.field(&encoding)
                )));
            }
            let content = text(&v, "/content", &shown)?;
            decode_base64(&content).map(Some).map_err(bad)
        })
    }

    /// What is at `path` at `git_ref` (contents API): `dir` for a directory, else the
    /// type GitHub names (`file`, `symlink`, `submodule`), scrubbed; `None` on 404.
    pub fn kind_at(&self, path: &str, git_ref: &str) -> Result<Option<String>, Error> {
        let key = (path.to_string(), git_ref.to_string());
        let known = |kinds: &std::collections::HashMap<_, Option<String>>| kinds.get(&key).cloned();
        if let Some(kind) = known(&self.kinds.lock().unwrap_or_else(PoisonError::into_inner)) {
            return Ok(kind);
        }
        let kind = self.kind_asked(path, git_ref)?;
        self.kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, kind.clone());
        Ok(kind)
    }

    fn kind_asked(&self, path: &str, git_ref: &str) -> Result<Option<String>, Error> {
        self.block_on(async {
            let Some((v, _)) = self.contents(path, git_ref).await? else {
                return Ok(None);
            };
            if v.is_array() {
                return Ok(Some("dir".to_string()));
            }
            Ok(Some(self.field(
                &optional(&v, "/type").unwrap_or_else(|| "entry of no type".into()),
            )))
        })
    }

    /// `GET /contents/{path}?ref={git_ref}` (no `ref` when empty: the default branch),
    /// parsed, with the request as messages show it; `None` on 404.
    async fn contents(&self, path: &str, git_ref: &str) -> Result<Option<(Value, String)>, Error> {
        let mut target = format!(
            "{}/contents/{}",
            self.route(),
            encode(path.trim_start_matches('/'), b"/")
        );
        if !git_ref.is_empty() {
            target.push_str("?ref=");
            target.push_str(&encode(git_ref, b"/"));
        }
        let shown = self.shown(&target);
        let reply = match self.request(Verb::Get, &target, None).await {
            Ok(reply) => reply,
            Err(Error::Status { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some((parse(&reply.body, &shown)?, shown)))
    }

    /// The names of the entries directly in directory `path` at `git_ref` (contents
    /// API), whatever their type, sorted; empty on 404.
    pub fn dir_at(&self, path: &str, git_ref: &str) -> Result<Vec<String>, Error> {
        self.block_on(async {
            let Some((v, shown)) = self.contents(path, git_ref).await? else {
                return Ok(Vec::new());
            };
            let Some(items) = v.as_array() else {
                return Err(Error::Decode {
                    path: shown,
                    message: format!("{path} is not a directory"),
                });
            };
            // The contents API lists at most 1,000 entries of a directory, and says
            // nothing of the rest: a listing that long may be cut, and what was cut
            // (a tenant's profile) would be dropped unsaid.
            if items.len() >= CONTENTS_LIST_LIMIT {
                return Err(Error::Decode {
                    path: shown,
                    message: format!(
                        "{path} lists {} entries, as many as the contents API lists, so some may be missing; fetch the whole history (actions/checkout with `fetch-depth: 0`) so that git lists it",
                        items.len()
                    ),
                });
            }
            // Every entry, whatever its type: a directory or a submodule with a file's
            // name is refused when read ([`Client::file_at`]), never left out unsaid.
            let mut names = Vec::new();
            for item in items {
                names.push(text(item, "/name", &shown)?);
            }
            names.sort();
            Ok(names)
        })
    }

    /// Every file path (blobs; not directories or submodules) in the tree of
    /// `git_ref` (a commit sha, or a branch or tag name), through the git trees API
    /// with `recursive=1`. GitHub cuts a recursive listing past its limits (100,000
    /// entries or 7 MB) and says `truncated: true`: that is an [`Error::Decode`], never
    /// a silently partial list. A missing commit (404) is an [`Error::Status`].
    pub fn tree_paths(&self, git_ref: &str) -> Result<Vec<String>, Error> {
        self.block_on(async {
            let target = format!(
                "{}/git/trees/{}?recursive=1",
                self.route(),
                encode(git_ref, b"/")
            );
            let shown = self.shown(&target);
            let reply = self.request(Verb::Get, &target, None).await?;
            let v = parse(&reply.body, &shown)?;
            let bad = |message: String| Error::Decode {
                path: shown.clone(),
                message,
            };
            if v.pointer("/truncated").and_then(Value::as_bool) == Some(true) {
                return Err(bad(format!(
                    "GitHub truncated the file list of {git_ref} (too many files for one \
                     recursive listing), so the manifest globs cannot be expanded there; \
                     fetch the history instead (`fetch-depth: 0`)"
                )));
            }
            let Some(entries) = v.pointer("/tree").and_then(Value::as_array) else {
                return Err(bad("expected a `tree` list".to_string()));
            };
            let mut paths = Vec::new();
            for e in entries {
                if optional(e, "/type").as_deref() == Some("blob") {
                    paths.push(text(e, "/path", &shown)?);
                }
            }
            paths.sort();
            Ok(paths)
        })
    }

    /// Whether `user` is an active member of `org`'s team `team` (slug). 404 → `false`;
    /// any other refusal (403: this token cannot read the team) is an error, since
    /// membership then cannot be verified.
    pub fn team_member(&self, org: &str, team: &str, user: &str) -> Result<bool, Error> {
        self.block_on(async {
            let target = format!(
                "/orgs/{}/teams/{}/memberships/{}",
                encode(org, b""),
                encode(team, b""),
                encode(user, b"")
            );
            match self.request(Verb::Get, &target, None).await {
                Ok(reply) => {
                    let v = parse(&reply.body, &target)?;
                    Ok(text(&v, "/state", &target)? == "active")
                }
                Err(Error::Status { status: 404, .. }) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    /// Every tag as `(name, commit sha)`, all pages, in GitHub's order.
    pub fn tags(&self) -> Result<Vec<(String, String)>, Error> {
        self.block_on(async {
            let first = format!("{}/tags?per_page=100", self.route());
            let shown = self.shown(&first);
            let items = self.all_pages(first).await?;
            items
                .iter()
                .map(|v| Ok((text(v, "/name", &shown)?, text(v, "/commit/sha", &shown)?)))
                .collect()
        })
    }

    /// The head commit of pull request `number`.
    pub fn pull_head_sha(&self, number: u64) -> Result<String, Error> {
        self.block_on(self.head_of(number))
    }

    pub(super) async fn head_of(&self, number: u64) -> Result<String, Error> {
        let target = format!("{}/pulls/{number}", self.route());
        let shown = self.shown(&target);
        let reply = self.request(Verb::Get, &target, None).await?;
        text(&parse(&reply.body, &shown)?, "/head/sha", &shown)
    }

    /// Pull request `number` as the pulls API describes it now.
    pub fn pull_request(&self, number: u64) -> Result<Pull, Error> {
        self.runtime.block_on(async {
            let target = format!("{}/pulls/{number}", self.route());
            let shown = self.shown(&target);
            let reply = self.request(Verb::Get, &target, None).await?;
            let v = parse(&reply.body, &shown)?;
            Ok(Pull {
                number: v
                    .pointer("/number")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| Error::Decode {
                        path: shown.clone(),
                        message: "missing number field /number".to_string(),
                    })?,
                head_sha: text(&v, "/head/sha", &shown)?,
                base_sha: text(&v, "/base/sha", &shown)?,
                author: text(&v, "/user/login", &shown)?,
                head_repo: optional(&v, "/head/repo/full_name"),
                base_repo: optional(&v, "/base/repo/full_name"),
            })
        })
    }

    /// Pull request `number`'s head commit and the login of the account that opened it.
    pub fn pull_head_and_author(&self, number: u64) -> Result<(String, String), Error> {
        self.pull_request(number).map(|p| (p.head_sha, p.author))
    }

    /// The commit at the tip of branch `branch`: `git/ref/heads/{branch}`, which names
    /// branches only (a ref by a bare name, as the contents API takes it, may be a tag).
    /// A branch that is not there is [`Error::Status`] 404; an answer that is not a
    /// commit's full id is [`Error::Decode`].
    pub fn branch_tip(&self, branch: &str) -> Result<String, Error> {
        self.block_on(async {
            let target = format!("{}/git/ref/heads/{}", self.route(), encode(branch, b"/"));
            let shown = self.shown(&target);
            let reply = self.request(Verb::Get, &target, None).await?;
            let v = parse(&reply.body, &shown)?;
            let kind = text(&v, "/object/type", &shown)?;
            let sha = text(&v, "/object/sha", &shown)?;
            let full_id = sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit());
            if kind != "commit" || !full_id {
                return Err(Error::Decode {
                    path: shown,
                    message: format!(
                        "a branch's ref names {} {}, not a commit",
                        self.field(&kind),
                        self.field(&sha)
                    ),
                });
            }
            Ok(sha.to_ascii_lowercase())
        })
    }

    /// How `head` relates to `base`: `ahead`, `behind`, `identical` or `diverged`.
    pub fn compare_status(&self, base: &str, head: &str) -> Result<String, Error> {
        self.block_on(async {
            // `per_page=1` keeps the commit list short; `status` covers the whole range.
            let target = format!(
                "{}/compare/{}...{}?per_page=1",
                self.route(),
                encode(base, b"/:"),
                encode(head, b"/:")
            );
            let shown = self.shown(&target);
            let reply = self.request(Verb::Get, &target, None).await?;
            let status = text(&parse(&reply.body, &shown)?, "/status", &shown)?;
            match status.as_str() {
                "ahead" | "behind" | "identical" | "diverged" => Ok(status),
                _ => Err(Error::Decode {
                    path: shown,
                    message: format!("unknown comparison status {:?}", self.field(&status)),
                }),
            }
        })
    }
}

/// Standard base64, ignoring whitespace (the contents API wraps lines at 60).
pub(super) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut padding = false;
    for &b in text.as_bytes() {
        let sextet = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding = true;
                continue;
            }
            b'\n' | b'\r' | b' ' | b'\t' => continue,
            _ => return Err(format!("content is not base64 (byte 0x{b:02x})")),
        };
        if padding {
            return Err("content has base64 data after padding".to_string());
        }
        acc = (acc << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // A lone trailing character carries six bits: less than one byte.
    if bits >= 6 {
        return Err("content is truncated base64".to_string());
    }
    Ok(out)
}
