//! Which apps a gate run judges: the config's `manifests:` paths and globs expanded
//! at both ends, the files read, and each head manifest paired with its baseline
//! (same path first, then a move of the same id from a path gone at head).
//!
//! Globs are matched against the files git tracks at head (the index: untracked
//! build output and vendored copies never count) and against the baseline commit's
//! tree (git2, or the git trees API for a shallow clone on GitHub). Literal entries
//! are read as they are. A manifest is read only when it is a regular file, or a
//! symlink that resolves inside the repository to a regular file git tracks, reached
//! through no directory symlinked out of the repository; a gated
//! path that is anything else is never silently skipped. The pairing itself is pure
//! (the core's [`pairing::pair`]); this module does the reading around it and decides nothing about access.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};

use super::early::{Early, Parse};
use super::gating::{HeadCommit, Reader};
use super::{LoadErrors, read_limited};
use crate::baseline::Repo;
use crate::config::{self, Config};
use crate::gate::pairing;
use crate::gate::{App, Removed};
use crate::glob::{Glob, is_glob};
use crate::manifest::{self, Manifest};

/// Where the baseline manifests come from.
pub(super) enum Base<'a> {
    /// A commit: the same paths, and the config's globs expanded in its tree.
    Commit(&'a Reader<'a>),
    /// `--base-file`: one manifest, the baseline of every app.
    File(&'a Path),
    /// `--base none`: every app is new.
    None,
}

/// The apps to judge, and the apps the baseline had that are gone at head.
pub(super) struct Apps {
    pub apps: Vec<App>,
    /// Each app's place among the manifests [`Early`] parsed ahead, when it is one of
    /// them: its lint comes from there (see [`gate::Ahead`](crate::gate::Ahead)).
    pub ahead: Vec<Option<usize>>,
    pub removed: Vec<Removed>,
}

impl Apps {
    /// The apps of `heads`, the `i`th with `base_of(i)` as its baseline, and where
    /// each was parsed ahead.
    fn of(
        heads: Vec<Head>,
        removed: Vec<Removed>,
        mut base_of: impl FnMut(usize) -> Option<(String, Manifest, String)>,
    ) -> Apps {
        let (apps, ahead) = heads
            .into_iter()
            .enumerate()
            .map(|(i, (head, head_text, ahead))| {
                let base = base_of(i);
                let app = App {
                    head,
                    head_text,
                    base,
                };
                (app, ahead)
            })
            .unzip();
        Apps {
            apps,
            ahead,
            removed,
        }
    }
}

/// Paths in `files` matching `glob`, in order.
fn matching<'f>(glob: &Glob, files: &'f [String]) -> impl Iterator<Item = &'f String> {
    files.iter().filter(move |f| glob.matches(f))
}

/// A list without repeats, in first-seen order, in linear time.
#[derive(Default)]
struct Unique {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Unique {
    fn push(&mut self, s: &str) -> bool {
        if self.seen.contains(s) {
            return false;
        }
        self.seen.insert(s.to_string());
        self.list.push(s.to_string());
        true
    }

    fn contains(&self, s: &str) -> bool {
        self.seen.contains(s)
    }
}

/// What is at a manifest path in the working tree.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// A regular file, or a symlink to a regular file git tracks inside the repository:
    /// the file to read.
    Regular(PathBuf),
    Missing,
    /// Something a manifest must not be, and why (`is a directory`).
    Bad(String),
}

/// The files git tracks, and the repository root resolved, for following symlinks.
pub(super) struct Tree {
    /// The repository's root, every symlink resolved ...
    root: PathBuf,
    /// ... and as it was given (paths are joined to it).
    given: PathBuf,
    /// The files git tracks: given, or read from the index the first time a symlink
    /// needs them ([`Tree::lazy`]).
    tracked: std::sync::OnceLock<HashSet<String>>,
}

impl Tree {
    pub(super) fn new(root: &Path, index: &[String]) -> Tree {
        let t = Tree::lazy(root);
        let _ = t.tracked.set(index.iter().cloned().collect());
        t
    }

    /// A tree whose index is read only when a symlink is met (most reads meet none).
    pub(super) fn lazy(root: &Path) -> Tree {
        Tree {
            root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
            given: std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()),
            tracked: std::sync::OnceLock::new(),
        }
    }

    /// The files git tracks under the root, relative to it (the root may be a
    /// directory inside the repository, as `check` run in `apps/a`); none outside a
    /// repository, or when its index cannot be read (so no symlink is followed: fail
    /// closed).
    fn tracked(&self) -> &HashSet<String> {
        self.tracked.get_or_init(|| {
            let Some(repo) = Repo::discover(&self.given).ok() else {
                return HashSet::new();
            };
            let Some(under) = repo
                .workdir()
                .canonicalize()
                .ok()
                .and_then(|w| self.root.strip_prefix(w).ok().map(Path::to_path_buf))
            else {
                return HashSet::new();
            };
            repo.tracked_files()
                .unwrap_or_default()
                .iter()
                .filter_map(|f| Path::new(f).strip_prefix(&under).ok()?.to_str())
                .map(str::to_string)
                .collect()
        })
    }

    /// Reads the file at `rel`, a path relative to the repository's root, that the
    /// tool itself looks for or that a file in the repository names (`.scopegate/`
    /// files, a tenant's EHR snapshot): `None` when nothing is there. Everything the
    /// working tree holds is a pull request's to write, so the rules of [`Tree::find`]
    /// apply (no file in `.git`, none reached through a link out of the tree), and a
    /// path named outside the repository (absolute, or through `..`) is refused: such a read could block (a FIFO, `/proc/kmsg`) or carry a file of the
    /// runner's into the report.
    pub(super) fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        let file = self.given.join(rel);
        if !self.named_within(&file) || Path::new(rel).is_absolute() {
            bail!("cannot read {rel}: the path is outside the repository");
        }
        match self.find(&file) {
            Found::Missing => Ok(None),
            Found::Bad(why) => bail!("cannot read {rel}: it {why}"),
            Found::Regular(f) => Ok(Some(
                read_limited(&f).with_context(|| format!("cannot read {rel}"))?,
            )),
        }
    }

    /// Whether `file` is inside the repository once every symlink is resolved.
    pub(super) fn within(&self, file: &Path) -> bool {
        file.canonicalize().is_ok_and(|real| {
            real.strip_prefix(&self.root)
                .is_ok_and(|r| !r.as_os_str().is_empty())
        })
    }

    /// Whether `file` as written (`..` resolved by name, no symlink followed) names a
    /// path inside the repository.
    fn named_within(&self, file: &Path) -> bool {
        let Ok(abs) = std::path::absolute(file) else {
            return false;
        };
        let mut named = PathBuf::new();
        for part in abs.components() {
            match part {
                std::path::Component::ParentDir => {
                    named.pop();
                }
                std::path::Component::CurDir => {}
                other => named.push(other),
            }
        }
        named.starts_with(&self.root) || named.starts_with(&self.given)
    }

    /// What `file` is. A symlink is followed only to a regular file that git tracks
    /// inside the repository, and a file named inside the repository must stay inside
    /// it through every directory on the way; `lstat` comes first, so a FIFO is never
    /// opened.
    pub(super) fn find(&self, file: &Path) -> Found {
        use std::os::unix::fs::FileTypeExt;
        let md = match std::fs::symlink_metadata(file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Found::Missing,
            Err(e) => return Found::Bad(format!("cannot be read ({e})")),
        };
        let t = md.file_type();
        if t.is_file() {
            // A directory on the way may be a symlink out of the repository, or into
            // git's own directory (`.git/config` holds the checkout's token).
            if self.named_within(file) {
                let real = file.canonicalize().ok();
                let Some(rel) = real
                    .as_deref()
                    .and_then(|r| r.strip_prefix(&self.root).ok())
                    .filter(|r| !r.as_os_str().is_empty())
                else {
                    return Found::Bad(
                        "is reached through a directory symlinked outside the repository".into(),
                    );
                };
                if rel.components().any(|c| c.as_os_str() == ".git") {
                    return Found::Bad("is inside git's own directory, not the tree".into());
                }
            }
            return Found::Regular(file.to_path_buf());
        }
        if t.is_symlink() {
            let link =
                std::fs::read_link(file).map_or_else(|_| "?".into(), |l| l.display().to_string());
            let Ok(target) = file.canonicalize() else {
                return Found::Bad(format!("is a symlink to `{link}`, which does not exist"));
            };
            let Some(rel) = target
                .strip_prefix(&self.root)
                .ok()
                .and_then(Path::to_str)
                .filter(|r| !r.is_empty())
            else {
                return Found::Bad(format!("is a symlink to `{link}`, outside the repository"));
            };
            if !target.is_file() {
                return Found::Bad(format!(
                    "is a symlink to `{rel}`, which is not a regular file"
                ));
            }
            if !self.tracked().contains(rel) {
                return Found::Bad(format!("is a symlink to `{rel}`, which git does not track"));
            }
            return Found::Regular(target);
        }
        let what = if t.is_dir() {
            "a directory"
        } else if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_block_device() || t.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        Found::Bad(format!("is {what}"))
    }
}

/// The config's entries expanded in the working tree alone, for runs without a
/// baseline (`check`, `matrix`): `(repository-relative name, file)`, in entry order.
/// Globs match the files git tracks; an entry that matches nothing is an error, and
/// so is a matched path that is not a readable regular file.
pub(super) fn worktree(config: &Config, root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let repo = Repo::discover(root).ok();
    let globs = config.manifests.iter().any(|m| is_glob(m));
    let index = match (&repo, globs) {
        (_, false) => Vec::new(),
        (Some(r), true) => r.tracked_files()?,
        (None, true) => bail!(
            "the manifest globs in {} need a git repository (they match the files git tracks)\n  hint: run inside the repository, or name the manifests on the command line",
            config::PATH
        ),
    };
    let tree = Tree::new(root, &index);
    let mut names = Unique::default();
    let mut files: HashMap<String, PathBuf> = HashMap::new();
    let mut unmatched = Vec::new();
    let mut bad = Vec::new();
    let mut take = |name: &str, names: &mut Unique| match tree.find(&root.join(name)) {
        Found::Regular(f) => {
            if names.push(name) {
                files.insert(name.to_string(), f);
            }
            true
        }
        Found::Missing => false,
        Found::Bad(why) => {
            bad.push(format!("{name} {why}"));
            true
        }
    };
    for entry in &config.manifests {
        let mut matched = false;
        if is_glob(entry) {
            let glob = Glob::new(entry).map_err(|e| anyhow!("`{entry}`: {e}"))?;
            for f in matching(&glob, &index) {
                matched |= take(f, &mut names);
            }
        } else {
            matched = take(entry, &mut names);
        }
        if !matched {
            unmatched.push(format!("`{entry}`"));
        }
    }
    if !bad.is_empty() {
        bail!("{}\n  hint: {NOT_REGULAR_HINT}", bad.join("\n"));
    }
    if !unmatched.is_empty() {
        bail!(
            "{} in {} {} no manifest in the working tree (globs match the files git tracks)\n  hint: fix the path or pattern, or `git add` the manifest",
            unmatched.join(", "),
            config::PATH,
            if unmatched.len() == 1 {
                "matches"
            } else {
                "match"
            }
        );
    }
    Ok(names
        .list
        .into_iter()
        .map(|n| {
            let file = files.remove(&n).unwrap_or_else(|| root.join(&n));
            (n, file)
        })
        .collect())
}

const NOT_REGULAR_HINT: &str = "a manifest must be a regular file; a symlink may lead to a regular file git tracks inside the repository";

/// Reads and pairs the manifests. `explicit` are the command-line paths (used as
/// they are); when empty, the config's entries are expanded, and apps the baseline
/// had under them but head does not are reported as removed, with what became of
/// their manifest. Head is the working tree, or `head_commit` (its tree for globs,
/// repository-relative paths as given; a symlink there is followed inside its tree, as
/// at the baseline).
#[allow(clippy::too_many_arguments)]
pub(super) fn load(
    explicit: &[PathBuf],
    config: &Config,
    released: &[String],
    repo: Option<&Repo>,
    root: &Path,
    base: &Base<'_>,
    head_commit: Option<&HeadCommit<'_>>,
    early: &mut Early,
) -> Result<Apps> {
    let from_config = explicit.is_empty();
    let globs = from_config && config.manifests.iter().any(|m| is_glob(m));
    let index = head_index(globs, repo, head_commit)?;
    let tree = Tree::new(root, &index);
    let cx = Where {
        repo,
        root,
        base,
        head_commit,
        tree: &tree,
        index: &index,
        base_list: std::cell::OnceCell::new(),
    };
    let mut g = if from_config {
        let mut g = from_entries(&cx, config, globs)?;
        dropped_entries(&cx, &mut g, released)?;
        g
    } else {
        from_arguments(&cx, explicit)?
    };
    let head_bytes = read_heads(&cx, &mut g)?;
    let base_read = read_bases(base, &g)?;
    let at_base: HashSet<&str> = match base {
        Base::Commit(_) => base_read.iter().map(|(p, _, _)| p.as_str()).collect(),
        _ => HashSet::new(),
    };
    refuse_unmatched(config, from_config, base, &at_base, &mut g)?;
    let (heads, bases) = parse_both(&g.head_paths.list, &head_bytes, &base_read, early)?;
    match base {
        Base::File(_) => {
            let (path, m, text) = bases
                .into_iter()
                .next()
                .context("the baseline file was not read")?;
            Ok(Apps::of(heads, Vec::new(), |_| {
                Some((path.clone(), m.clone(), text.clone()))
            }))
        }
        _ => assemble(&cx, from_config, &g, heads, bases),
    }
}

/// A path as reports show it: repository-relative when it can be.
pub(super) fn shown(repo: Option<&Repo>, p: &Path) -> String {
    match repo {
        Some(r) => r.relative(p).unwrap_or_else(|| p.display().to_string()),
        None => p.display().to_string(),
    }
}

/// Where a gate run's manifests are looked for.
struct Where<'a, 'r> {
    repo: Option<&'a Repo>,
    root: &'a Path,
    base: &'a Base<'r>,
    head_commit: Option<&'a HeadCommit<'r>>,
    tree: &'a Tree,
    index: &'a [String],
    /// Every path at the baseline commit, listed once, on the first glob that needs it
    /// (through the API it is a trees request).
    base_list: std::cell::OnceCell<Vec<String>>,
}

impl Where<'_, '_> {
    /// Every path at the baseline commit; none without one.
    fn base_files(&self) -> Result<&[String]> {
        if let Some(l) = self.base_list.get() {
            return Ok(l);
        }
        let listed = match self.base {
            Base::Commit(rd) => rd.list()?,
            _ => Vec::new(),
        };
        Ok(self.base_list.get_or_init(|| listed))
    }

    /// A path as reports show it: repository-relative when it can be.
    fn shown_of(&self, p: &Path) -> String {
        shown(self.repo, p)
    }
}

/// The paths a run gates, before anything is read.
#[derive(Default)]
struct Gated {
    /// Head: the path shown and matched on ...
    head_paths: Unique,
    /// ... and, in the working tree, the file to read.
    head_files: HashMap<String, PathBuf>,
    /// Paths under the config's entries that hold something a manifest must not be.
    bad: HashMap<String, String>,
    /// Baseline candidates from the config's entries.
    base_paths: Unique,
    /// Entries that match nothing.
    unmatched: Vec<String>,
    /// Head files of a commit, read once: a literal entry is looked up by reading it.
    head_read: HashMap<String, Vec<u8>>,
    /// Baseline paths only the release's own config listed, with its entry.
    dropped: HashMap<String, String>,
}

/// Every path in the index (or the head commit's tree), whatever is in the working
/// tree there now; listed only when the config's globs need it.
fn head_index(
    globs: bool,
    repo: Option<&Repo>,
    head_commit: Option<&HeadCommit<'_>>,
) -> Result<Vec<String>> {
    Ok(match (globs, repo, head_commit) {
        (true, _, Some(h)) => h.list()?,
        (false, _, Some(_)) => Vec::new(),
        (false, Some(r), None) => r.tracked_files()?,
        (false, None, None) => Vec::new(),
        (true, Some(r), None) => r.tracked_files()?,
        (true, None, None) => bail!(
            "the manifest globs in {} need a git repository (they match the files git tracks)\n  hint: run inside the repository, or name the manifests on the command line",
            config::PATH
        ),
    })
}

/// The config's entries expanded at both ends: globs against the head's index and
/// the baseline's tree, literal paths as they are.
fn from_entries(cx: &Where<'_, '_>, config: &Config, globs: bool) -> Result<Gated> {
    let mut g = Gated::default();
    let base_files = if globs { cx.base_files()? } else { &[] };
    for entry in &config.manifests {
        let (mut at_head, mut at_base) = (false, false);
        if is_glob(entry) {
            let glob = Glob::new(entry).map_err(|e| anyhow!("`{entry}`: {e}"))?;
            for f in matching(&glob, cx.index) {
                at_head |= take(cx, &mut g, f.clone(), &cx.root.join(f));
            }
            for f in matching(&glob, base_files) {
                at_base = true;
                g.base_paths.push(f);
            }
        } else if let Some(h) = cx.head_commit {
            if let Some(b) = h.read(entry)? {
                g.head_read.insert(entry.clone(), b);
                at_head = take(cx, &mut g, entry.clone(), Path::new(entry));
            }
            if let Base::Commit(_) = cx.base {
                g.base_paths.push(entry);
                at_base = true;
            }
        } else {
            let file = cx.root.join(entry);
            at_head = take(cx, &mut g, cx.shown_of(&file), &file);
            if let Base::Commit(_) = cx.base {
                // Whether it exists there is learnt when it is read.
                g.base_paths.push(entry);
                at_base = true;
            }
        }
        if !at_head && !at_base {
            g.unmatched.push(entry.clone());
        }
    }
    Ok(g)
}

/// The apps the baseline release gated under entries of its own config that the
/// judging config no longer has (`released`): baseline paths with no head side, so
/// each is an app whose gating stopped, never an app that drops out of the gate
/// unseen (a change that removed `services/**` from `manifests:` was judged by the
/// config before it, which still had it; every change after it, by the config
/// without it).
fn dropped_entries(cx: &Where<'_, '_>, g: &mut Gated, released: &[String]) -> Result<()> {
    if !matches!(cx.base, Base::Commit(_)) {
        return Ok(());
    }
    for entry in released {
        let paths: Vec<String> = if is_glob(entry) {
            let glob = Glob::new(entry).map_err(|e| anyhow!("`{entry}`: {e}"))?;
            matching(&glob, cx.base_files()?).cloned().collect()
        } else {
            vec![entry.clone()]
        };
        for p in paths {
            if !g.base_paths.contains(&p) && !g.head_paths.contains(&p) {
                g.base_paths.push(&p);
                g.dropped.insert(p, entry.clone());
            }
        }
    }
    Ok(())
}

/// Takes a head path an entry names; whether something is there.
fn take(cx: &Where<'_, '_>, g: &mut Gated, name: String, file: &Path) -> bool {
    if cx.head_commit.is_some() {
        // Listed in (or read from) the head commit's tree: it is there.
        g.head_paths.push(&name);
        return true;
    }
    match cx.tree.find(file) {
        Found::Regular(f) => {
            if g.head_paths.push(&name) {
                g.head_files.insert(name, f);
            }
            true
        }
        Found::Missing => false,
        Found::Bad(why) => {
            g.bad.insert(name, why);
            true
        }
    }
}

/// The manifests named on the command line; each must be a regular file.
fn from_arguments(cx: &Where<'_, '_>, explicit: &[PathBuf]) -> Result<Gated> {
    let mut g = Gated::default();
    if cx.head_commit.is_some() {
        for p in explicit {
            // Repository-relative, as git stores it.
            let shown = p.display().to_string().trim_start_matches("./").to_string();
            g.head_paths.push(&shown);
        }
        return Ok(g);
    }
    let mut problems = Vec::new();
    for p in explicit {
        let shown = cx.shown_of(p);
        match cx.tree.find(p) {
            Found::Regular(f) => {
                if g.head_paths.push(&shown) {
                    g.head_files.insert(shown, f);
                }
            }
            Found::Missing => problems.push(format!("cannot read {}: no such file", p.display())),
            Found::Bad(why) => problems.push(format!("{} {why}", p.display())),
        }
    }
    if !problems.is_empty() {
        bail!("{}\n  hint: {NOT_REGULAR_HINT}", problems.join("\n"));
    }
    Ok(g)
}

/// The head manifests' bytes, in the order of `g.head_paths`.
fn read_heads(cx: &Where<'_, '_>, g: &mut Gated) -> Result<Vec<Vec<u8>>> {
    let mut head_bytes = Vec::with_capacity(g.head_paths.list.len());
    for p in &g.head_paths.list {
        if let Some(h) = cx.head_commit {
            let b = match g.head_read.remove(p) {
                Some(b) => b,
                None => h
                    .read(p)?
                    .with_context(|| format!("{p} does not exist at the head commit"))?,
            };
            head_bytes.push(b);
            continue;
        }
        let file = &g.head_files[p];
        head_bytes
            .push(read_limited(file).with_context(|| format!("cannot read {}", file.display()))?);
    }
    Ok(head_bytes)
}

/// The baseline manifests as `(path, label, bytes)`: every candidate, and every
/// head path looked up at the same path.
fn read_bases(base: &Base<'_>, g: &Gated) -> Result<Vec<(String, String, Vec<u8>)>> {
    let mut base_read = Vec::new();
    match base {
        Base::Commit(rd) => {
            let mut wanted = g.base_paths.list.clone();
            wanted.extend(
                g.head_paths
                    .list
                    .iter()
                    .filter(|p| !g.base_paths.contains(p))
                    .cloned(),
            );
            let bytes = rd.read_many(&wanted)?;
            for (p, b) in wanted.into_iter().zip(bytes) {
                if let Some(b) = b {
                    let label = format!("{}:{p}", rd.name());
                    base_read.push((p, label, b));
                }
            }
        }
        Base::File(f) => {
            let shown = f.display().to_string();
            let b = read_limited(f).with_context(|| format!("cannot read {shown}"))?;
            base_read.push((shown.clone(), shown, b));
        }
        Base::None => {}
    }
    Ok(base_read)
}

/// Refuses entries that name nothing at either end, and something that is not a
/// manifest where the baseline had none (nothing to remove, nothing to read).
fn refuse_unmatched(
    config: &Config,
    from_config: bool,
    base: &Base<'_>,
    at_base: &HashSet<&str>,
    g: &mut Gated,
) -> Result<()> {
    // A literal entry missing at head and at the baseline names nothing.
    if let Base::Commit(_) = base {
        for entry in config.manifests.iter().filter(|m| !is_glob(m)) {
            if from_config
                && !at_base.contains(entry.as_str())
                && !g.head_paths.contains(entry)
                && !g.bad.contains_key(entry)
            {
                g.unmatched.push(entry.clone());
            }
        }
    }
    if !g.unmatched.is_empty() {
        let list: Vec<String> = g.unmatched.iter().map(|u| format!("`{u}`")).collect();
        bail!(
            "{} in {} {} no manifest, at head or at the baseline (globs match the files git tracks)\n  hint: fix the path or pattern, or `git add` the manifest",
            list.join(", "),
            config::PATH,
            if g.unmatched.len() == 1 {
                "matches"
            } else {
                "match"
            }
        );
    }
    let mut new_bad: Vec<String> = g
        .bad
        .iter()
        .filter(|(p, _)| !at_base.contains(p.as_str()))
        .map(|(p, why)| format!("{p} {why}"))
        .collect();
    if !new_bad.is_empty() {
        new_bad.sort();
        bail!("{}\n  hint: {NOT_REGULAR_HINT}", new_bad.join("\n"));
    }
    Ok(())
}

/// Pairs the parsed manifests (the core's [`pairing`]) and says what became of each
/// removed app.
fn assemble(
    cx: &Where<'_, '_>,
    from_config: bool,
    g: &Gated,
    heads: Vec<Head>,
    bases: Vec<(String, Manifest, String)>,
) -> Result<Apps> {
    let h: Vec<(&str, &str)> = heads
        .iter()
        .map(|(m, _, _)| (m.path.as_str(), m.id.value.as_str()))
        .collect();
    let b: Vec<(&str, &str)> = bases
        .iter()
        .map(|(p, m, _)| (p.as_str(), m.id.value.as_str()))
        .collect();
    let pairing = pairing::pair(&h, &b).map_err(|e| anyhow!(e))?;
    let removed_ids = pairing.removed(from_config, |j| g.base_paths.contains(&bases[j].0));
    let head_set: HashSet<&str> = h.iter().map(|(p, _)| *p).collect();
    let mut vanished = Vanished::new(cx.tree, cx.root, cx.index, &head_set);
    let mut bases: Vec<Option<(String, Manifest, String)>> = bases.into_iter().map(Some).collect();
    let removed = removed_ids
        .into_iter()
        .filter_map(|j| bases[j].take())
        .map(|(path, mut base, _)| {
            // Locations name the file, not the `ref:path` label.
            base.path = path.clone();
            let (why, unreadable) = match (g.bad.get(&path), g.dropped.get(&path)) {
                (Some(w), _) => (format!("{path} {w}"), true),
                (None, Some(entry)) => (
                    format!(
                        "{path} is no longer gated: the release's config listed it under `{entry}` in `manifests:`, and the judging config does not"
                    ),
                    false,
                ),
                (None, None) => vanished.why(&path, &base.id.value),
            };
            Removed {
                path,
                base,
                why,
                unreadable,
            }
        })
        .collect();
    Ok(Apps::of(heads, removed, |i| {
        pairing.base_of[i].and_then(|j| bases[j].take())
    }))
}

/// Paths grouped by a part of their name.
type Near<'a> = HashMap<&'a str, Vec<&'a str>>;

/// What became of a gated manifest that no head manifest claims.
struct Vanished<'a> {
    tree: &'a Tree,
    root: &'a Path,
    index: &'a [String],
    head: &'a HashSet<&'a str>,
    /// Tracked paths outside the head manifests, by directory and by file name; built
    /// on first use.
    near: Option<(Near<'a>, Near<'a>)>,
}

/// At most this many nearby files are read to find where a manifest went.
const NEARBY_MAX: usize = 32;

impl<'a> Vanished<'a> {
    fn new(
        tree: &'a Tree,
        root: &'a Path,
        index: &'a [String],
        head: &'a HashSet<&'a str>,
    ) -> Vanished<'a> {
        Vanished {
            tree,
            root,
            index,
            head,
            near: None,
        }
    }

    /// Why the manifest at `path` (app `id`) is gone, and whether the gate cannot
    /// judge it: something is at the path that is not a readable tracked file, or the
    /// manifest is now where the config does not look (renamed, moved out of the globs).
    fn why(&mut self, path: &str, id: &str) -> (String, bool) {
        match self.tree.find(&self.root.join(path)) {
            Found::Bad(w) => return (format!("{path} {w}"), true),
            Found::Regular(_) => {
                return (
                    format!(
                        "{path} is not tracked by git (the config's globs match tracked files)"
                    ),
                    true,
                );
            }
            Found::Missing => {}
        }
        if let Some(q) = self.moved_to(path, id) {
            return (
                format!("its manifest is now {q}, which the config's `manifests:` do not match"),
                true,
            );
        }
        (
            format!(
                "{path} is gone and no manifest with id `{id}` is where the config looks (deleted, or renamed or moved outside the config's `manifests:`)"
            ),
            false,
        )
    }

    /// A tracked file in the same directory or with the same name as `path`, outside
    /// the head manifests, that is a manifest with id `id`.
    fn moved_to(&mut self, path: &str, id: &str) -> Option<String> {
        let (index, head) = (self.index, self.head);
        let (by_dir, by_name) = self.near.get_or_insert_with(|| {
            let mut by_dir: HashMap<&str, Vec<&str>> = HashMap::new();
            let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
            for f in index
                .iter()
                .map(String::as_str)
                .filter(|f| !head.contains(f))
            {
                let (dir, name) = f.rsplit_once('/').unwrap_or(("", f));
                by_dir.entry(dir).or_default().push(f);
                by_name.entry(name).or_default().push(f);
            }
            (by_dir, by_name)
        });
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let candidates = by_dir
            .get(dir)
            .into_iter()
            .flatten()
            .chain(by_name.get(name).into_iter().flatten())
            .filter(|f| **f != path)
            .take(NEARBY_MAX);
        for f in candidates {
            let Found::Regular(file) = self.tree.find(&self.root.join(f)) else {
                continue;
            };
            let Ok(bytes) = read_limited(&file) else {
                continue;
            };
            if manifest::from_bytes(f, &bytes).is_ok_and(|m| m.id.value == id) {
                return Some((*f).to_string());
            }
        }
        None
    }
}

/// A head manifest, its text, and its place among those parsed ahead.
type Head = (Arc<Manifest>, String, Option<usize>);
type Parsed = (Vec<Head>, Vec<(String, Manifest, String)>);

/// Parses every head and baseline manifest, each end on its own thread; a baseline
/// file byte-identical to a head file (most of a monorepo's, moved or not) is parsed
/// once. A head manifest the [`Early`] work already parsed (same label, same bytes) is
/// not parsed again, and its lint comes with it. Every problem in every file is
/// reported together.
fn parse_both(
    head_paths: &[String],
    head_bytes: &[Vec<u8>],
    base_read: &[(String, String, Vec<u8>)],
    early: &mut Early,
) -> Result<Parsed> {
    // Keyed by whole files: FxHash reads them 8 bytes a step, SipHash byte by byte.
    let same: rustc_hash::FxHashMap<&[u8], usize> = head_bytes
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_slice(), i))
        .collect();
    // The file as text for the unified diff. A manifest that loads is UTF-8, and
    // checking that is cheaper than the lossy conversion, which is only the fallback.
    let text = |b: &[u8]| match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    };
    let ahead: Vec<Option<usize>> = head_paths
        .iter()
        .zip(head_bytes)
        .map(|(p, b)| early.has(p, b))
        .collect();
    let parse_bases = || {
        base_read
            .iter()
            .filter(|(_, _, b)| !same.contains_key(b.as_slice()))
            .map(|(_, label, b)| (label.as_str(), manifest::from_bytes(label, b)))
            .collect::<Vec<_>>()
    };
    let (now, bases) = if ahead.iter().all(Option::is_some) {
        // The heads are (being) parsed ahead: the bases here, meanwhile.
        (Vec::new(), parse_bases())
    } else {
        std::thread::scope(|t| {
            let bases = t.spawn(parse_bases);
            let now: Vec<_> = head_paths
                .iter()
                .zip(head_bytes)
                .zip(&ahead)
                .filter(|(_, a)| a.is_none())
                .map(|((p, b), _)| manifest::from_bytes(p, b))
                .collect();
            (
                now,
                bases
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        })
    };
    let mut done = early.parses();
    let mut now = now.into_iter();
    let heads: Vec<(Parse, Option<usize>)> = ahead
        .iter()
        .map(|a| match a {
            Some(i) => (
                done[*i]
                    .take()
                    .expect("each manifest parsed ahead is one head's"),
                Some(*i),
            ),
            None => (now.next().expect("each head is parsed").map(Arc::new), None),
        })
        .collect();
    let mut errors = Vec::new();
    let heads: Vec<Head> = heads
        .into_iter()
        .zip(head_bytes)
        .filter_map(|((m, lint), b)| {
            m.map_err(|e| errors.push(e))
                .ok()
                .map(|m| (m, text(b), lint))
        })
        .collect();
    let mut parsed_bases: HashMap<&str, Manifest> = HashMap::new();
    for (label, m) in bases {
        match m {
            Ok(m) => {
                parsed_bases.insert(label, m);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors).into());
    }
    let bases = base_read
        .iter()
        .map(|(path, label, b)| {
            let m = match same.get(b.as_slice()) {
                Some(&i) => {
                    let mut m = Manifest::clone(&heads[i].0);
                    m.path = label.clone();
                    m
                }
                // Each label (`<tag>:<path>`) is read once: the parse moves out.
                None => parsed_bases
                    .remove(label.as_str())
                    .expect("every baseline file unlike the head files was parsed"),
            };
            (path.clone(), m, text(b))
        })
        .collect();
    Ok((heads, bases))
}
