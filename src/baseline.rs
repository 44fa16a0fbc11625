//! The baseline: which commit the change is judged against, and the files there.
//!
//! An adapter over git2 (no `git` subprocess); the release tags are listed from the ref
//! files where that is sure (the private `tags` module), else by libgit2. It finds the
//! previous release (the newest semver tag matching the trusted commit's glob whose
//! commit is the trusted commit or one of its ancestors, and not HEAD) or resolves an
//! explicit ref, and reads blobs at that commit. A shallow clone, a missing tag or an
//! unknown ref is an error with a fix, never "no changes". It also lists files, for the
//! config's manifest globs: the commit's tree at the baseline, and the index (tracked
//! files) at head. It analyses nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository};

mod tags;

/// What to compare against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Spec {
    /// The newest release tag matching the glob whose commit is `trusted` or one of
    /// its ancestors, and not HEAD: a tag on the change, or on a branch that never
    /// merged into trusted history, is not a release.
    PreviousRelease { pattern: String, trusted: Resolved },
    /// A tag, branch or commit.
    Ref(String),
}

/// A resolved baseline commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The tag or ref name.
    pub name: String,
    pub commit: String,
    oid: Oid,
}

/// Why the baseline could not be read. Each says how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    NotARepo {
        path: String,
        detail: String,
    },
    Shallow {
        what: String,
    },
    NoReleaseTag {
        pattern: String,
        /// The trusted commit searched from, as named (`HEAD`, a ref, a PR base).
        trusted: String,
        why: NoRelease,
    },
    UnknownRef {
        name: String,
        shallow: bool,
    },
    /// A short name that more than one ref answers to (`origin/main`, when a tag
    /// `origin/main` sits beside the remote-tracking branch): git would pick the tag.
    AmbiguousRef {
        name: String,
        refs: Vec<String>,
    },
    Git(String),
}

/// Why no previous release was found: each cause has its own fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoRelease {
    /// No tag in this clone matches the pattern. `fetched` says whether the clone's
    /// tags are known to be complete: `Some(false)` when tags matching the pattern
    /// exist upstream (the API says so) or the remote is configured `--no-tags`,
    /// `Some(true)` when upstream has none either, `None` when this clone cannot tell.
    NoTag { fetched: Option<bool> },
    /// The only matching releases in the trusted history are on the commit under
    /// judgement itself (a release is never its own baseline).
    OnlyJudged { tag: String },
    /// Tags match, but none is the trusted commit or in its history.
    NotInHistory { tags: usize },
    /// Tags match the pattern, but none is a semver version.
    NotSemver { tags: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotARepo { path, detail } => {
                write!(f, "{path} is not inside a git repository ({detail})")?;
                if detail.contains("not owned by current user") {
                    write!(
                        f,
                        "\n  hint: mark it safe: git config --global --add safe.directory {path}"
                    )?;
                } else {
                    write!(
                        f,
                        "\n  hint: run inside the repository, or compare with `--base-file PATH`"
                    )?;
                }
                Ok(())
            }
            Error::Shallow { what } => write!(
                f,
                "this is a shallow clone, so {what} cannot be determined\n  hint: fetch the full history: `git fetch --unshallow --tags`, or in GitHub Actions set `fetch-depth: 0` on actions/checkout"
            ),
            Error::NoReleaseTag {
                pattern,
                trusted,
                why,
            } => {
                let first = "`--base none` gates against nothing: every scope is new access that needs approval";
                match why {
                    NoRelease::NoTag {
                        fetched: Some(false),
                    } => write!(
                        f,
                        "tags matching `{pattern}` exist upstream but were not fetched into this clone, so there is no previous release to compare with\n  hint: fetch them: `git fetch --tags` (in GitHub Actions, `fetch-depth: 0` on actions/checkout fetches tags)"
                    ),
                    NoRelease::NoTag {
                        fetched: Some(true),
                    } => write!(
                        f,
                        "no tag matches `{pattern}`, here or upstream: this app has no release yet, so there is no previous release to compare with\n  hint: tag the first release when it ships (`git tag v1.0.0 <commit> && git push origin v1.0.0`); until then {first}"
                    ),
                    NoRelease::NoTag { fetched: None } => write!(
                        f,
                        "no tag in this clone matches `{pattern}`, so there is no previous release to compare with: either nothing has been released yet, or the tags were not fetched\n  hint: `git fetch --tags` fetches them if they exist (then run again); if this app has no release yet, tag the first one when it ships (`git tag v1.0.0 <commit> && git push origin v1.0.0`), and until then {first}"
                    ),
                    NoRelease::OnlyJudged { tag } => write!(
                        f,
                        "the only release matching `{pattern}` in the history of `{trusted}` is {tag}, on the commit under judgement itself: a release is never its own baseline, so this is the first release and there is nothing earlier to compare with\n  hint: to gate edits against {tag}, make them in the working tree (then {tag} is the baseline); to judge {tag} as the app's first release, pass `--base none` ({first})"
                    ),
                    NoRelease::NotInHistory { tags } => write!(
                        f,
                        "{tags} tag(s) match `{pattern}`, but none is the trusted commit `{trusted}` or in its history (they are on other branches)\n  hint: search from the branch releases are cut from (`--trusted origin/main`), name a baseline with `--base REF`, or fetch that branch's history"
                    ),
                    NoRelease::NotSemver { tags } => write!(
                        f,
                        "{tags} tag(s) match `{pattern}`, but none names a semver version (like v1.2.3), so none counts as a release\n  hint: set `release_tags` in .scopegate/config.yaml to the pattern your release tags follow, or name a baseline with `--base REF`"
                    ),
                }
            }
            Error::UnknownRef { name, shallow } => {
                write!(f, "unknown ref `{name}`")?;
                if *shallow {
                    write!(
                        f,
                        " (this is a shallow clone)\n  hint: fetch it: `git fetch origin {name}`, or in GitHub Actions set `fetch-depth: 0`"
                    )
                } else {
                    write!(
                        f,
                        "\n  hint: check the name, or fetch it: `git fetch origin {name}`"
                    )
                }
            }
            Error::AmbiguousRef { name, refs } => write!(
                f,
                "`{name}` names more than one ref ({}): git would take the first, so a ref \
                 anyone could push (a tag) may stand in for the one meant\n  hint: name it in \
                 full, e.g. `{}`",
                refs.join(", "),
                refs.iter()
                    .find(|r| !r.starts_with("refs/tags/"))
                    .unwrap_or(&refs[0])
            ),
            Error::Git(m) => write!(f, "git: {m}"),
        }
    }
}

/// The refs a short name may mean, in the order git tries them after the name itself
/// (gitrevisions(7)).
const DWIM_RULES: [&str; 5] = [
    "refs/{}",
    "refs/tags/{}",
    "refs/heads/{}",
    "refs/remotes/{}",
    "refs/remotes/{}/HEAD",
];

/// `name` split where its revision operators start (`~`, `^`, `:`, `@{`): the name
/// part and the rest.
fn split_revision(name: &str) -> (&str, &str) {
    let at = [name.find(['~', '^', ':']), name.find("@{")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(name.len());
    name.split_at(at)
}

fn is_full_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl std::error::Error for Error {}

fn git(e: git2::Error) -> Error {
    Error::Git(e.message().to_string())
}

pub struct Repo {
    repo: Repository,
    workdir: PathBuf,
}

impl Repo {
    /// Opens the repository containing `path`.
    pub fn discover(path: &Path) -> Result<Repo, Error> {
        // libgit2 re-hashes every object it reads (SHA-1 with collision detection: for
        // the two manifest blobs, more work than inflating them). git itself does not
        // on a read (`git show`, `git cat-file`); zlib's checksum still catches a
        // damaged object, and anyone who can rewrite `.git` controls the baseline anyway.
        git2::opts::strict_hash_verification(false);
        let repo = Repository::discover(path).map_err(|e| Error::NotARepo {
            path: path.display().to_string(),
            detail: e.message().to_string(),
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Error::Git("a bare repository has no working tree".into()))?
            .to_path_buf();
        let workdir = workdir.canonicalize().unwrap_or(workdir);
        Ok(Repo { repo, workdir })
    }

    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// `path` (absolute, or relative to the current directory) relative to the
    /// repository root, with `/` separators, as git stores it. The directories on the
    /// way are resolved; the last part is kept as named: a manifest that is a symlink
    /// is the path git tracks it at (its target would name another file, which the
    /// baseline has under another path, and the app would look moved).
    pub fn relative(&self, path: &Path) -> Option<String> {
        let abs = match (path.parent(), path.file_name()) {
            (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => {
                dir.canonicalize().ok()?.join(name)
            }
            (Some(_), Some(name)) => std::env::current_dir()
                .ok()?
                .canonicalize()
                .ok()?
                .join(name),
            _ => path.canonicalize().ok()?,
        };
        std::fs::symlink_metadata(&abs).ok()?;
        let rel = abs.strip_prefix(&self.workdir).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    fn head(&self) -> Result<Oid, Error> {
        let head = self.repo.head().map_err(git)?;
        Ok(head.peel_to_commit().map_err(git)?.id())
    }

    pub fn resolve(&self, spec: &Spec) -> Result<Resolved, Error> {
        match spec {
            Spec::Ref(name) => {
                let spec = self.unambiguous(name)?;
                let obj = self
                    .repo
                    .revparse_single(&spec)
                    .map_err(|e| match e.code() {
                        ErrorCode::NotFound | ErrorCode::Ambiguous | ErrorCode::InvalidSpec => {
                            Error::UnknownRef {
                                name: name.clone(),
                                shallow: self.is_shallow(),
                            }
                        }
                        _ => git(e),
                    })?;
                let commit = obj.peel_to_commit().map_err(git)?;
                Ok(Resolved {
                    name: name.clone(),
                    commit: commit.id().to_string(),
                    oid: commit.id(),
                })
            }
            Spec::PreviousRelease { pattern, trusted } => {
                self.previous_release(pattern, trusted, Some(self.head()?))
            }
        }
    }

    /// `name` as `revparse` should read it, or why it cannot be read safely. A full
    /// object id is only ever that object: libgit2 looked a missing one (a shallow
    /// clone) up as a ref of the same name, so a tag named after a PR's base commit
    /// became the judge. A short name is taken only when the name itself is a ref
    /// (`HEAD`, `FETCH_HEAD`, `refs/…`), or one ref at most answers to it: with a tag
    /// `origin/main` beside the remote-tracking branch, `--trusted origin/main` was the
    /// tag's commit.
    fn unambiguous(&self, name: &str) -> Result<String, Error> {
        let (base, _) = split_revision(name);
        if base == "HEAD" && self.repo.is_empty().unwrap_or(false) {
            return Err(Error::Git(
                "the repository has no commit yet, so there is no HEAD to judge\n  hint: commit the manifest first (`git add smart-app.yaml && git commit`); the gate compares with a release, so tag the first one when it ships".into(),
            ));
        }
        if is_full_object_id(base) {
            let oid = Oid::from_str(base).map_err(git)?;
            if self.repo.find_object(oid, None).is_err() {
                return Err(Error::UnknownRef {
                    name: name.to_string(),
                    shallow: self.is_shallow(),
                });
            }
            return Ok(name.to_string());
        }
        if base.is_empty() || base == "@" || self.repo.find_reference(base).is_ok() {
            return Ok(name.to_string());
        }
        let refs: Vec<String> = DWIM_RULES
            .iter()
            .map(|rule| rule.replace("{}", base))
            .filter(|r| self.repo.find_reference(r).is_ok())
            .collect();
        // A short object id that is also a ref's name is as ambiguous.
        let short_id = base.len() >= 4
            && base.bytes().all(|b| b.is_ascii_hexdigit())
            && self.repo.find_object_by_prefix(base, None).is_ok();
        if refs.len() > 1 || (short_id && !refs.is_empty()) {
            let mut named = refs;
            if short_id {
                named.push(format!("commit {base}…"));
            }
            return Err(Error::AmbiguousRef {
                name: name.to_string(),
                refs: named,
            });
        }
        Ok(name.to_string())
    }

    /// As [`Repo::resolve`], for a run that judges the working tree's edits rather than
    /// HEAD: HEAD's own release tag may then be the baseline (a developer editing on a
    /// tagged commit compares with that release, not the one before).
    pub fn resolve_for_worktree(&self, spec: &Spec) -> Result<Resolved, Error> {
        match spec {
            Spec::PreviousRelease { pattern, trusted } => {
                self.previous_release(pattern, trusted, None)
            }
            Spec::Ref(_) => self.resolve(spec),
        }
    }

    /// The paths whose working-tree state differs from HEAD: staged, unstaged and
    /// untracked (not ignored) files, renames as both paths. With `within`, only at
    /// those paths and under those directories (literal paths, not patterns), so the
    /// cost follows them, not the size of the tree.
    pub fn changed_paths(&self, within: Option<&[String]>) -> Result<Vec<String>, Error> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .renames_head_to_index(true);
        if let Some(paths) = within {
            opts.disable_pathspec_match(true);
            for p in paths {
                opts.pathspec(p.as_str());
            }
        }
        let statuses = self.repo.statuses(Some(&mut opts)).map_err(git)?;
        let mut out = Vec::new();
        for e in statuses.iter() {
            if e.status() == git2::Status::CURRENT || e.status().is_ignored() {
                continue;
            }
            for d in [e.head_to_index(), e.index_to_workdir()]
                .into_iter()
                .flatten()
            {
                for f in [d.old_file(), d.new_file()] {
                    if let Some(p) = f.path().and_then(|p| p.to_str()) {
                        out.push(p.to_string());
                    }
                }
            }
            if let Ok(p) = e.path() {
                out.push(p.to_string());
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// As [`Repo::resolve`], but the previous release is counted back from commit
    /// `from` (a commit being judged that is not checked out) instead of HEAD. A
    /// commit this clone does not have is [`Error::UnknownRef`].
    pub fn resolve_from(&self, spec: &Spec, from: &str) -> Result<Resolved, Error> {
        let Spec::PreviousRelease { pattern, trusted } = spec else {
            return self.resolve(spec);
        };
        let from = self.resolve(&Spec::Ref(from.to_string()))?;
        self.previous_release(pattern, trusted, Some(from.oid))
    }

    /// Semver order needs no object lookups, so tags are sorted by name first and only
    /// the newest are peeled and checked for reachability, stopping at the first hit:
    /// no walk of the whole history per tag.
    /// `judged` is the commit under judgement (HEAD, or a head that is not checked out):
    /// never its own baseline.
    fn previous_release(
        &self,
        pattern: &str,
        trusted: &Resolved,
        judged: Option<Oid>,
    ) -> Result<Resolved, Error> {
        if self.is_shallow() {
            return Err(Error::Shallow {
                what: format!("the previous release (`{pattern}`)"),
            });
        }
        // The tags, each with the object it names, read from the ref files; where that
        // reader is unsure, libgit2's list (`references_glob` lists names without
        // looking each tag up again: `tag_names` stats every ref), each tag looked up
        // when its turn comes.
        let names: Vec<(String, Option<Oid>)> = match tags::matching(self.repo.commondir(), pattern)
        {
            Some(tags) => tags.into_iter().map(|(n, oid)| (n, Some(oid))).collect(),
            None => {
                let mut refs = self
                    .repo
                    .references_glob(&format!("refs/tags/{pattern}"))
                    .map_err(git)?;
                refs.names()
                    .filter_map(Result::ok)
                    .filter_map(|n| n.strip_prefix("refs/tags/").map(|n| (n.to_string(), None)))
                    .collect()
            }
        };
        let count = names.len();
        // Newest version first (equal versions by name): a heap, since usually only the
        // first tag is looked at, and sorting thousands of versions cost more than that.
        let mut tags: BinaryHeap<(semver::Version, Reverse<String>, Option<Oid>)> = names
            .into_iter()
            .filter_map(|(n, oid)| Some((version_of(&n)?, Reverse(n), oid)))
            .collect();
        let semver_tags = tags.len();
        let mut on_judged: Option<String> = None;
        while let Some((_, Reverse(name), oid)) = tags.pop() {
            // Lightweight and annotated tags alike; a tag of a tree or a blob is no release.
            let commit = match oid {
                // A name git would refuse is no ref: libgit2's lookup would skip it.
                Some(_) if !git2::Reference::is_valid_name(&format!("refs/tags/{name}")) => {
                    continue;
                }
                Some(oid) => self
                    .repo
                    .find_object(oid, None)
                    .and_then(|o| o.peel_to_commit()),
                None => self
                    .repo
                    .find_reference(&format!("refs/tags/{name}"))
                    .and_then(|r| r.peel_to_commit()),
            };
            let Ok(commit) = commit else {
                continue;
            };
            let oid = commit.id();
            // HEAD is the change (or, in Actions, its merge commit): never its own baseline.
            if Some(oid) == judged {
                on_judged.get_or_insert(name);
                continue;
            }
            if oid == trusted.oid
                || self
                    .repo
                    .graph_descendant_of(trusted.oid, oid)
                    .map_err(git)?
            {
                return Ok(Resolved {
                    name,
                    commit: oid.to_string(),
                    oid,
                });
            }
        }
        let why = match (count, semver_tags, on_judged) {
            (0, _, _) => NoRelease::NoTag {
                fetched: self.no_tags_fetched().then_some(false),
            },
            (_, 0, _) => NoRelease::NotSemver { tags: count },
            (_, _, Some(tag)) => NoRelease::OnlyJudged { tag },
            (_, n, None) => NoRelease::NotInHistory { tags: n },
        };
        Err(Error::NoReleaseTag {
            pattern: pattern.to_string(),
            trusted: trusted.name.clone(),
            why,
        })
    }

    /// Whether a remote of this clone is configured never to fetch tags.
    fn no_tags_fetched(&self) -> bool {
        let Ok(config) = self.repo.config() else {
            return false;
        };
        let Ok(remotes) = self.repo.remotes() else {
            return false;
        };
        remotes.iter().flatten().flatten().any(|r| {
            config
                .get_string(&format!("remote.{r}.tagopt"))
                .is_ok_and(|v| v == "--no-tags")
        })
    }

    /// The bytes of `path` at the baseline commit; `None` when the file does not exist
    /// there (a new app, or no config yet). A symlink is followed inside the tree, as
    /// [`Repo::read_many`] does: its target's text is never read as the file.
    pub fn read(&self, at: &Resolved, path: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut one = self.read_many(at, &[path.to_string()])?;
        Ok(one.pop().flatten())
    }
}

impl Repo {
    /// The files at `paths` at the baseline commit, as [`Repo::read`] reads each, but
    /// resolving every directory once: a directory of 20,000 apps is one tree object,
    /// and looking each file up from the root would inflate it once per file.
    pub fn read_many(
        &self,
        at: &Resolved,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let commit = self.repo.find_commit(at.oid).map_err(git)?;
        let mut dirs = Dirs::new();
        dirs.insert(String::new(), Some(commit.tree().map_err(git)?));
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            // A symlink is followed inside the tree, as at head: a released manifest
            // may be a link to a tracked file, never to anything outside.
            let mut current = path.clone();
            let mut hops = 0;
            let blob = loop {
                let (dir, name) = current.rsplit_once('/').unwrap_or(("", &current));
                // A link that leads nowhere is an error, never a missing file: a
                // missing config or ledger has a meaning of its own.
                let dangling = || {
                    Error::Git(format!(
                        "`{path}` at {} is a symlink to `{current}`, which does not exist",
                        at.name
                    ))
                };
                let Some(tree) = self.dir_at(&mut dirs, dir, &at.name)? else {
                    if hops > 0 {
                        return Err(dangling());
                    }
                    break None;
                };
                let Some(entry) = tree.get_name(name) else {
                    if hops > 0 {
                        return Err(dangling());
                    }
                    break None;
                };
                let link = entry.filemode() == 0o120_000;
                let not_a_file = |what: &str| {
                    Error::Git(format!("`{path}` at {} is {what}, not a file", at.name))
                };
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => return Err(not_a_file("a directory")),
                    // A gitlink: its commit is another repository's, not in this one.
                    Some(git2::ObjectType::Commit) => return Err(not_a_file("a submodule")),
                    _ => {}
                }
                let obj = entry.to_object(&self.repo).map_err(git)?;
                let Ok(b) = obj.into_blob() else {
                    return Err(Error::Git(format!("`{path}` at {} is not a file", at.name)));
                };
                if !link {
                    break Some(b.content().to_vec());
                }
                hops += 1;
                let target = std::str::from_utf8(b.content()).ok();
                match target
                    .and_then(|t| resolve_link(dir, t))
                    .filter(|_| hops <= MAX_LINK_HOPS)
                {
                    Some(next) => current = next,
                    None => {
                        return Err(Error::Git(format!(
                            "`{path}` at {} is a symlink that leads out of the repository",
                            at.name
                        )));
                    }
                }
            };
            out.push(blob);
        }
        Ok(out)
    }

    /// The tree of directory `dir` (`a/b`), from `dirs` or resolved from its parent and
    /// remembered; `None` when there is no such directory. A directory on the way that
    /// is a symlink is followed inside the tree, as the working tree follows it: read as
    /// no directory, a symlinked `.scopegate` made the release's config, ledger and
    /// tenants silently absent. A symlink that leads out of the repository, to nothing
    /// or to no directory, or round in a loop, is an error.
    fn dir_at<'r>(
        &'r self,
        dirs: &mut Dirs<'r>,
        dir: &str,
        at: &str,
    ) -> Result<Option<git2::Tree<'r>>, Error> {
        self.dir_via(dirs, dir, at, 0)
    }

    fn dir_via<'r>(
        &'r self,
        dirs: &mut Dirs<'r>,
        dir: &str,
        at: &str,
        hops: usize,
    ) -> Result<Option<git2::Tree<'r>>, Error> {
        if let Some(t) = dirs.get(dir) {
            return Ok(t.clone());
        }
        let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
        let tree = match self.dir_via(dirs, parent, at, hops)? {
            None => None,
            Some(p) => match p.get_name(name) {
                Some(e) if e.kind() == Some(git2::ObjectType::Tree) => {
                    Some(self.repo.find_tree(e.id()).map_err(git)?)
                }
                Some(e) if e.filemode() == 0o120_000 => {
                    let bad =
                        |why: String| Error::Git(format!("`{dir}` at {at} is a symlink {why}"));
                    let obj = e.to_object(&self.repo).map_err(git)?;
                    let target = obj
                        .as_blob()
                        .and_then(|b| std::str::from_utf8(b.content()).ok())
                        .map(str::to_string);
                    let Some(next) = target.as_deref().and_then(|t| resolve_link(parent, t)) else {
                        return Err(bad("that leads out of the repository".into()));
                    };
                    if hops >= MAX_LINK_HOPS {
                        return Err(bad(format!(
                            "to `{next}`: too many links on the way (a loop?)"
                        )));
                    }
                    // What the link names must be a directory (or a link to one).
                    let (np, nn) = next.rsplit_once('/').unwrap_or(("", &next));
                    let named = self
                        .dir_via(dirs, np, at, hops + 1)?
                        .and_then(|t| t.get_name(nn).map(|e| (e.kind(), e.filemode())));
                    let linked = match named {
                        Some((Some(git2::ObjectType::Tree), _) | (_, 0o120_000)) => {
                            self.dir_via(dirs, &next, at, hops + 1)?
                        }
                        _ => None,
                    };
                    match linked {
                        Some(t) => Some(t),
                        None => {
                            return Err(bad(format!(
                                "to `{next}`, which is not a directory there"
                            )));
                        }
                    }
                }
                // A file or a submodule where a directory belongs: what the path names
                // cannot be there, and is not absent either (as at head, where the
                // read fails).
                Some(e) => {
                    let what = if e.kind() == Some(git2::ObjectType::Commit) {
                        "a submodule"
                    } else {
                        "a file"
                    };
                    return Err(Error::Git(format!(
                        "`{dir}` at {at} is {what}, not a directory"
                    )));
                }
                None => None,
            },
        };
        dirs.insert(dir.to_string(), tree.clone());
        Ok(tree)
    }

    /// The names of the entries directly in directory `dir` at the baseline commit
    /// (files, directories, submodules: [`Repo::read_many`] refuses what is not a
    /// file), sorted; empty when there is no `dir`, an error when `dir` is not a
    /// directory.
    pub fn list_dir(&self, at: &Resolved, dir: &str) -> Result<Vec<String>, Error> {
        let commit = self.repo.find_commit(at.oid).map_err(git)?;
        let mut dirs = Dirs::new();
        dirs.insert(String::new(), Some(commit.tree().map_err(git)?));
        let (parent, name) = dir.rsplit_once('/').unwrap_or(("", dir));
        let Some(entry) = self
            .dir_at(&mut dirs, parent, &at.name)?
            .and_then(|p| p.get_name(name).map(|e| (e.kind(), e.filemode())))
        else {
            return Ok(Vec::new());
        };
        // A file or a submodule where the directory belongs is an error, never an
        // empty directory: what it would have held is not there to judge. A symlink is
        // followed inside the tree, as on the way to a file.
        let not_a_dir = || Error::Git(format!("`{dir}` at {} is not a directory", at.name));
        if entry.0 != Some(git2::ObjectType::Tree) && entry.1 != 0o120_000 {
            return Err(not_a_dir());
        }
        let sub = self
            .dir_at(&mut dirs, dir, &at.name)?
            .ok_or_else(not_a_dir)?;
        // Every entry, whatever it is: a directory or a submodule with a file's name is
        // refused when read, never left out of the listing unsaid.
        let mut names: Vec<String> = sub
            .iter()
            .filter_map(|e| e.name().ok().map(str::to_string))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every file path (blobs; not submodules) in the baseline commit's tree, sorted.
    pub fn files_at(&self, at: &Resolved) -> Result<Vec<String>, Error> {
        let commit = self.repo.find_commit(at.oid).map_err(git)?;
        let tree = commit.tree().map_err(git)?;
        let mut out = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob)
                && let Ok(name) = std::str::from_utf8(entry.name_bytes())
            {
                out.push(format!("{dir}{name}"));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(git)?;
        out.sort();
        Ok(out)
    }

    /// The paths git tracks (the index, so staged new files count), sorted, whatever
    /// the working tree holds there now (the caller looks, without following
    /// symlinks). Untracked and ignored files (build output, vendored copies) are never
    /// picked up by a glob.
    pub fn tracked_files(&self) -> Result<Vec<String>, Error> {
        let index = self.repo.index().map_err(git)?;
        let mut out: Vec<String> = index
            .iter()
            .filter_map(|e| String::from_utf8(e.path).ok())
            .collect();
        out.sort();
        // Conflicted paths appear once per stage.
        out.dedup();
        Ok(out)
    }
}

impl Repo {
    /// HEAD's commit id and its parents' ids, as the commit itself records them (a
    /// shallow clone cuts history at HEAD, but the commit still names its parents).
    pub fn head_commit(&self) -> Result<(String, Vec<String>), Error> {
        let head = self.head()?;
        let commit = self.repo.find_commit(head).map_err(git)?;
        Ok((head.to_string(), recorded_parents(&commit)))
    }

    /// Whether commit `descendant` is `ancestor` or descends from it; `None` when either
    /// is not in the clone (a shallow checkout), so the caller can ask elsewhere.
    pub fn descends_from(&self, descendant: &str, ancestor: &str) -> Option<bool> {
        let d = self
            .repo
            .find_commit(Oid::from_str(descendant).ok()?)
            .ok()?;
        let a = self.repo.find_commit(Oid::from_str(ancestor).ok()?).ok()?;
        if d.id() == a.id() {
            return Some(true);
        }
        if self.is_shallow() {
            // The walk would stop at the cut and could answer "no" wrongly.
            return None;
        }
        self.repo.graph_descendant_of(d.id(), a.id()).ok()
    }

    /// What commit `sha` changes by itself: the paths that differ from every parent
    /// (what a merge took unchanged from one side is that side's change), or every
    /// file of a root commit; with its parents' ids. A commit or parent missing from
    /// the clone is an error that says to fetch the history.
    pub fn own_changes(&self, sha: &str) -> Result<(Vec<String>, Vec<String>), Error> {
        let missing = || Error::UnknownRef {
            name: sha.to_string(),
            shallow: self.is_shallow(),
        };
        let oid = Oid::from_str(sha).map_err(|_| missing())?;
        let commit = self.repo.find_commit(oid).map_err(|_| missing())?;
        let tree = commit.tree().map_err(git)?;
        let parents = recorded_parents(&commit);
        let mut own: Option<std::collections::BTreeSet<String>> = None;
        let trees: Vec<Option<git2::Tree<'_>>> = if parents.is_empty() {
            vec![None]
        } else {
            let mut t = Vec::new();
            for p in &parents {
                let pc = Oid::from_str(p)
                    .ok()
                    .and_then(|o| self.repo.find_commit(o).ok())
                    .ok_or_else(|| Error::UnknownRef {
                        name: p.clone(),
                        shallow: self.is_shallow(),
                    })?;
                t.push(Some(pc.tree().map_err(git)?));
            }
            t
        };
        for parent_tree in &trees {
            let diff = self
                .repo
                .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None)
                .map_err(git)?;
            let mut paths = std::collections::BTreeSet::new();
            for d in diff.deltas() {
                for f in [d.old_file(), d.new_file()] {
                    if let Some(p) = f.path_bytes() {
                        paths.insert(String::from_utf8_lossy(p).into_owned());
                    }
                }
            }
            own = Some(match own {
                None => paths,
                Some(prev) => prev.intersection(&paths).cloned().collect(),
            });
        }
        Ok((own.unwrap_or_default().into_iter().collect(), parents))
    }

    /// Whether this clone has commit `sha` (a full id; a ref name does not count).
    pub fn has_commit(&self, sha: &str) -> bool {
        Oid::from_str(sha)
            .ok()
            .filter(|o| o.to_string().eq_ignore_ascii_case(sha))
            .is_some_and(|o| self.repo.find_commit(o).is_ok())
    }

    /// The bytes of `path` at commit `sha`; `None` when the file does not exist there.
    pub fn read_at(&self, sha: &str, path: &str) -> Result<Option<Vec<u8>>, Error> {
        let at = self.resolve(&Spec::Ref(sha.to_string()))?;
        self.read(&at, path)
    }
}

/// The parent ids written in a commit's header, whatever grafts the clone has.
fn recorded_parents(commit: &git2::Commit<'_>) -> Vec<String> {
    let header = String::from_utf8_lossy(commit.raw_header_bytes()).into_owned();
    header
        .lines()
        .filter_map(|l| l.strip_prefix("parent "))
        .map(|p| p.trim().to_string())
        .collect()
}

/// The trees of the directories looked up so far, by path (`None`: no directory there).
type Dirs<'r> = std::collections::HashMap<String, Option<git2::Tree<'r>>>;

/// How many symlinks a path may pass through: more is a loop, as for a file.
const MAX_LINK_HOPS: usize = 8;

/// The repository path a symlink in directory `dir` with target `target` names;
/// `None` when it is absolute or climbs out of the repository.
fn resolve_link(dir: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The semver version a tag names: `v1.2.3`, `release-1.2.3`, `1.2.3-rc.1`.
pub fn version_of(tag: &str) -> Option<semver::Version> {
    let start = tag.find(|c: char| c.is_ascii_digit())?;
    semver::Version::parse(&tag[start..]).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_resolves_inside_the_tree_or_not_at_all() {
        assert_eq!(
            resolve_link("apps/a", "../../manifests/a.yaml").as_deref(),
            Some("manifests/a.yaml")
        );
        assert_eq!(resolve_link("", "./x.yaml").as_deref(), Some("x.yaml"));
        assert_eq!(resolve_link("apps", "../../etc/passwd"), None);
        assert_eq!(resolve_link("apps", "/etc/passwd"), None);
    }

    /// An attack on the tag reader: a loose ref whose name git refuses (a component
    /// starting with `.`) but whose tail is a newer version must not become the baseline,
    /// as it does not through libgit2's lookup. The control: the same version under a
    /// name git accepts is the baseline.
    #[test]
    fn a_tag_name_git_refuses_is_no_release_even_when_read_from_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        git(&["commit", "-q", "--allow-empty", "-m", "one"]);
        git(&["tag", "v1.0.0"]);
        git(&["commit", "-q", "--allow-empty", "-m", "two"]);
        let repo = Repo::discover(dir.path()).unwrap();
        let head = repo.head().unwrap();
        let first = repo.repo.revparse_single("HEAD~1").unwrap().id();
        let trusted = Resolved {
            name: "HEAD".into(),
            commit: head.to_string(),
            oid: head,
        };
        let tags = repo.repo.commondir().join("refs/tags");
        let baseline = |planted: &str| {
            let file = tags.join(planted);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, format!("{first}\n")).unwrap();
            let name = repo
                .previous_release("v*", &trusted, Some(head))
                .unwrap()
                .name;
            std::fs::remove_dir_all(tags.join("v")).unwrap();
            name
        };
        assert_eq!(baseline("v/.evil/9.0.0"), "v1.0.0");
        assert_eq!(baseline("v/ok/9.0.0"), "v/ok/9.0.0", "control");
    }

    #[test]
    fn versions_come_from_the_tag_name() {
        assert_eq!(version_of("v1.2.3"), Some(semver::Version::new(1, 2, 3)));
        assert_eq!(
            version_of("release-2.0.0"),
            Some(semver::Version::new(2, 0, 0))
        );
        assert!(version_of("v1.2").is_none());
        assert!(version_of("latest").is_none());
        // Pre-releases sort below their release.
        assert!(version_of("v2.0.0-rc.1") < version_of("v2.0.0"));
        assert!(version_of("v1.10.0") > version_of("v1.9.0"));
    }
}
