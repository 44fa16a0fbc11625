//! The I/O edge of `diff`, `gate` and `approve`: find the baseline, read the files at
//! both ends, hand them to the pure gate, and (for `approve`) write the ledger
//! atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::LoadErrors;
use super::early::Early;
use super::manifests::{self, Apps, Base, Tree};
use crate::approval::{self, Entry};
use crate::baseline::{Error as BaselineError, NoRelease, Repo, Resolved, Spec};
use crate::config::{self, Config};
use crate::gate::trust::{self, Judged, Trust};
use crate::gate::{self, App, Removed};
use crate::github;
use crate::glob::is_glob;
use crate::report::{self, Report};
use crate::signature::{self, AllowedSigners};
use crate::tenant::{self, Tenant};

/// Where the baseline comes from, as the user asked.
#[derive(clap::Args, Debug, Clone)]
pub struct BaseArgs {
    /// Baseline: a tag, branch or commit, or `none` for an app's first release.
    /// Default: the previous release tag.
    #[arg(long, conflicts_with = "base_file")]
    pub base: Option<String>,
    /// Baseline manifest read from a file instead of git (config and approvals then
    /// come from the working tree: advisory).
    #[arg(long)]
    pub base_file: Option<PathBuf>,
    /// The trusted commit: the previous release is searched in its history, its config
    /// names the release tags, and its ledger entries count as merged. Non-GitHub CI
    /// passes the branch the change merges into, e.g. `--trusted origin/main`.
    /// Default: the HEAD commit (never the working tree).
    #[arg(long, value_name = "REF", conflicts_with = "base_file")]
    pub trusted: Option<String>,
    /// Read config and approvals from the working tree instead of the baseline commit.
    /// The verdict is then advisory.
    #[arg(long)]
    pub config_from_worktree: bool,
    /// The current time for approval expiry, `YYYY-MM-DDTHH:MM:SSZ` (default: now).
    #[arg(long, hide = true)]
    pub now: Option<String>,
    /// Judge with the previous release's config, approvers, tenants and signers even
    /// when the trusted commit is explicit: the release-tag path (`ci` on a tag push).
    #[arg(skip)]
    pub judge_at_release: bool,
}

/// The baseline a run compares with, decided from the flags before anything is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseSpec {
    /// The previous release tag in the trusted commit's history (the default).
    PreviousRelease,
    /// `--base REF`: a tag, branch or commit.
    Ref(String),
    /// `--base none`: the app's first release; nothing to compare with.
    None,
    /// `--base-file`: a manifest file; config and approvals then come from the
    /// working tree (advisory).
    File(PathBuf),
}

/// [`BaseArgs`] resolved: the baseline, the trusted commit and the clock, validated
/// before any I/O (a bad `--now` stops the run before anything is read).
#[derive(Clone, Debug)]
pub struct Request {
    pub base: BaseSpec,
    pub trusted: Option<String>,
    pub config_from_worktree: bool,
    /// The current time for approval expiry, normalized: `--now`, else the clock.
    pub now: String,
    pub judge_at_release: bool,
}

impl BaseSpec {
    /// From `--base` and `--base-file`; the file wins (clap lets only one through).
    pub fn from_flags(base: Option<&str>, base_file: Option<&Path>) -> BaseSpec {
        match (base_file, base) {
            (Some(f), _) => BaseSpec::File(f.to_path_buf()),
            (None, Some("none")) => BaseSpec::None,
            (None, Some(b)) => BaseSpec::Ref(b.to_string()),
            (None, None) => BaseSpec::PreviousRelease,
        }
    }
}

impl BaseArgs {
    /// The validated request.
    pub fn resolve(&self) -> Result<Request> {
        Ok(Request {
            base: BaseSpec::from_flags(self.base.as_deref(), self.base_file.as_deref()),
            trusted: self.trusted.clone(),
            config_from_worktree: self.config_from_worktree,
            now: now_utc(self.now.as_deref())?,
            judge_at_release: self.judge_at_release,
        })
    }
}

/// Everything a gate run read, kept for `approve`.
pub struct Gathered {
    pub report: Report,
    /// The head ledger file, absolute.
    pub ledger_file: PathBuf,
    pub ledger_text: Option<String>,
    pub now: String,
    /// The judging config's `repository`, which approval signatures sign.
    pub repository: Option<String>,
}

pub fn now_utc(arg: Option<&str>) -> Result<String> {
    if let Some(a) = arg {
        return approval::normalize_time(a, false)
            .with_context(|| format!("`--now {a}` is not a timestamp"));
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Ok(approval::format_unix(secs))
}

fn parse_config(path: &str, bytes: Option<Vec<u8>>) -> Result<Config> {
    match bytes {
        None => Ok(Config::default()),
        Some(b) => config::from_bytes(path, &b).map_err(|e| LoadErrors(vec![e]).into()),
    }
}

pub(super) fn parse_ledger(path: &str, bytes: Option<&[u8]>) -> Result<Vec<Entry>> {
    match bytes {
        None => Ok(Vec::new()),
        Some(b) => approval::from_bytes(path, b).map_err(|e| LoadErrors(vec![e]).into()),
    }
}

/// The working tree's config (defaults when there is none) and the root it was
/// looked for in: the repository's working directory, or the current directory.
pub fn worktree_config() -> Result<(Config, PathBuf)> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = Repo::discover(&cwd).map_or(cwd, |r| r.workdir().to_path_buf());
    let config = parse_config(config::PATH, Tree::lazy(&root).read(config::PATH)?)?;
    Ok((config, root))
}

/// Where files at the baseline are read from.
pub(super) enum Reader<'a> {
    Git(&'a Repo, Resolved),
    /// The contents API at a commit: the clone does not have it (shallow checkout).
    Api {
        client: &'a github::Client,
        sha: String,
        name: String,
    },
}

impl<'a> Reader<'a> {
    /// The contents API at commit (or ref) `sha`, named `name` in messages.
    fn api(client: &'a github::Client, sha: String, name: String) -> Reader<'a> {
        Reader::Api { client, sha, name }
    }

    pub(super) fn name(&self) -> &str {
        match self {
            Reader::Git(_, res) => &res.name,
            Reader::Api { name, .. } => name,
        }
    }

    fn commit(&self) -> &str {
        match self {
            Reader::Git(_, res) => &res.commit,
            Reader::Api { sha, .. } => sha,
        }
    }

    /// The files directly in directory `dir` at the baseline commit.
    fn list_dir(&self, dir: &str) -> Result<Vec<String>> {
        match self {
            Reader::Git(r, res) => Ok(r.list_dir(res, dir)?),
            Reader::Api { client, sha, .. } => {
                let names = client.dir_at(dir, sha).map_err(|e| {
                    anyhow::anyhow!("listing {dir} at {sha} through the contents API: {e}")
                })?;
                if names.is_empty() {
                    // (git holds no empty directory: empty is not there.)
                    self.absent_through_api(dir)?;
                }
                Ok(names)
            }
        }
    }

    /// Checks that nothing at `path` (the contents API's 404) means nothing is there:
    /// the API does not follow a directory that is a symlink, and answers 404 for any
    /// path beyond one. Where git follows it inside the tree, the API would make a
    /// symlinked `.scopegate` at the release an absent config, ledger and tenants.
    /// So the directories on the way are asked, from the top, until one is not there
    /// (nothing below it is either); one that is not a directory is an error. From the
    /// top, so that the requests stop at the first missing directory: a new app's path
    /// as deep as a change likes costs one request past the directories that exist
    /// (each asked once a run, `Client::kind_at`).
    fn absent_through_api(&self, path: &str) -> Result<()> {
        let Reader::Api { client, sha, .. } = self else {
            return Ok(());
        };
        let Some((parent, _)) = path.rsplit_once('/') else {
            return Ok(());
        };
        let mut end = 0;
        while end < parent.len() {
            end = parent[end..].find('/').map_or(parent.len(), |i| end + i);
            let dir = &parent[..end];
            end += 1;
            match client.kind_at(dir, sha).map_err(|e| {
                anyhow::anyhow!("reading {dir} at {sha} through the contents API: {e}")
            })? {
                None => return Ok(()),
                Some(kind) if kind == "dir" => {}
                Some(kind) => bail!(
                    "`{dir}` at {sha} is a {kind}, not a directory: the contents API does not follow it, so `{path}` cannot be read there\n  hint: fetch the whole history (actions/checkout with `fetch-depth: 0`) so that git reads the baseline, or make `{dir}` a directory"
                ),
            }
        }
        Ok(())
    }

    /// Every file path at the baseline commit, for expanding the manifest globs.
    pub(super) fn list(&self) -> Result<Vec<String>> {
        match self {
            Reader::Git(r, res) => Ok(r.files_at(res)?),
            Reader::Api { client, sha, .. } => client.tree_paths(sha).map_err(|e| {
                anyhow::anyhow!("listing the files at {sha} through the git trees API: {e}")
            }),
        }
    }

    /// The files at `paths`, in order (`None` where there is none).
    pub(super) fn read_many(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        match self {
            Reader::Git(r, res) => Ok(r.read_many(res, paths)?),
            Reader::Api { .. } => paths.iter().map(|p| self.read(p)).collect(),
        }
    }

    pub(super) fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Reader::Git(r, res) => Ok(r.read(res, path)?),
            Reader::Api { client, sha, .. } => {
                let bytes = client.file_at(path, sha).map_err(|e| {
                    anyhow::anyhow!("reading {path} at {sha} through the contents API: {e}")
                })?;
                if bytes.is_none() {
                    self.absent_through_api(path)?;
                }
                Ok(bytes)
            }
        }
    }
}

/// On GitHub, a baseline missing from the clone is fetched through the API.
pub struct ApiFallback<'a> {
    pub client: &'a github::Client,
    /// The commit being judged (the PR head): a tag on it is never its baseline.
    pub head_sha: String,
}

/// Where the head (the change being judged) is read from.
pub enum Head {
    /// The working tree (globs match the files git tracks): every command but `comment`.
    Worktree,
    /// A commit that is not checked out: `scopegate comment` judges a PR's head without
    /// running or checking out its code. Read with git2 when this clone has the commit
    /// (`git fetch origin pull/N/head`), else through the API.
    Commit(String),
}

/// The most files, and bytes, the head side may read through the API: a PR head
/// chooses how many manifests its globs match, and each costs a request against the
/// token's rate limit. Beyond either, the run stops (exit 2) rather than judging a part.
pub const MAX_HEAD_API_FILES: usize = 200;
pub const MAX_HEAD_API_BYTES: u64 = 16 << 20;

/// The head commit's files, with the API reads counted against the caps above.
pub(super) struct HeadCommit<'a> {
    reader: Reader<'a>,
    reads: std::cell::Cell<usize>,
    bytes: std::cell::Cell<u64>,
}

impl<'a> HeadCommit<'a> {
    fn new(reader: Reader<'a>) -> Self {
        HeadCommit {
            reader,
            reads: std::cell::Cell::new(0),
            bytes: std::cell::Cell::new(0),
        }
    }

    fn count(&self, bytes: usize) -> Result<()> {
        if !matches!(self.reader, Reader::Api { .. }) {
            return Ok(());
        }
        self.reads.set(self.reads.get() + 1);
        self.bytes.set(self.bytes.get() + bytes as u64);
        if self.reads.get() > MAX_HEAD_API_FILES || self.bytes.get() > MAX_HEAD_API_BYTES {
            bail!(
                "the head {} needs more than {MAX_HEAD_API_FILES} files or {} MiB read through the API; nothing is judged from a part of it\n  hint: fetch the PR head first (`git fetch origin pull/N/head`) so it is read with git",
                self.reader.commit(),
                MAX_HEAD_API_BYTES >> 20
            );
        }
        Ok(())
    }

    /// Every file path at the head commit.
    pub(super) fn list(&self) -> Result<Vec<String>> {
        let files = self.reader.list()?;
        self.count(0)?;
        Ok(files)
    }

    pub(super) fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let bytes = self.reader.read(path)?;
        self.count(bytes.as_ref().map_or(0, Vec::len))?;
        Ok(bytes)
    }
}

/// Everything read at both ends, before judging.
pub struct Loaded {
    pub apps: Vec<App>,
    /// The work started ahead, linting the heads, and each app's place in it: a gate
    /// run takes them (another run of the same `Loaded` lints again).
    early: Option<Early>,
    ahead: Vec<Option<usize>>,
    /// Apps the baseline had under the config's entries, gone at head.
    pub removed: Vec<Removed>,
    /// What names the manifests: the command-line paths, or the config's entries
    /// (paths and globs) as written. Stable across moves, so it names the comment.
    pub manifest_spec: Vec<String>,
    pub config: Config,
    pub advisory: bool,
    pub baseline: report::Baseline,
    pub base_ledger: Vec<Entry>,
    /// The ledger at an explicit trusted commit (a PR base, `--trusted`): entries
    /// merged since the release. Empty when the trusted commit is the default HEAD.
    pub merged_ledger: Vec<Entry>,
    pub head_ledger: Vec<Entry>,
    /// The baseline commit's ledger, when the run is judged by the baseline: its
    /// entries are spent (see `gate::Input::release_ledger`).
    pub release_ledger: Option<Vec<Entry>>,
    pub tenants: Vec<Tenant>,
    /// `.scopegate/allowed_signers` from the judge (the baseline, or the working tree
    /// in an advisory run); empty when there is none.
    pub signers: AllowedSigners,
    pub ledger_file: PathBuf,
    pub ledger_text: Option<String>,
    pub now: String,
    /// What judges (its config, approvers, tenants and signers), as messages name it:
    /// `the trusted commit <ref>`, `the release <tag>` or `the working tree`.
    pub judge_source: String,
    /// The repository the run read, kept open to the end: closing it frees libgit2's
    /// caches and packs (about 0.2 ms), which the gate leaves to the process's exit
    /// along with the rest of what it loaded.
    _repo: Option<Repo>,
}

impl Loaded {
    /// Entries the change adds to the ledger: in neither the baseline's nor the
    /// trusted commit's.
    pub fn added_entries(&self) -> Vec<&Entry> {
        // By hash: a scan of the baseline's entries per entry was quadratic.
        let base: rustc_hash::FxHashSet<&Entry> = self.base_ledger.iter().collect();
        let merged: rustc_hash::FxHashSet<&Entry> = self.merged_ledger.iter().collect();
        self.head_ledger
            .iter()
            .filter(|e| !base.contains(e) && !merged.contains(e))
            .collect()
    }

    /// A run on GitHub in `running_in` (`GITHUB_REPOSITORY`) under a judging config
    /// that names another `repository` is exit 2: approvals are signed for the
    /// repository the config names, so a config copied whole from another repository
    /// would let that repository's signed entries verify here.
    pub(super) fn check_repository(&self, running_in: Option<&str>) -> Result<()> {
        match (self.config.repository.as_deref(), running_in) {
            (Some(named), Some(here)) if !named.eq_ignore_ascii_case(here) => bail!(
                "the config at {judge} names repository `{named}`, and this run is in `{here}`: approvals signed for `{named}` would count here\n  hint: set `repository: {here}` in {path} (approvals signed since then verify only here)",
                judge = self.judge_source,
                path = config::PATH,
            ),
            (Some(named), None) => bail!(
                "the config at {judge} names repository `{named}`, and GITHUB_REPOSITORY does not say which repository this run is in",
                judge = self.judge_source,
            ),
            _ => Ok(()),
        }
    }

    /// Sorts the entries the change adds (every entry, in an advisory run) into those
    /// that count, those pending and those unverified. `reviewed` is what `ci` learnt
    /// from the pull request's reviews: the entries they do not back, with why; every
    /// other added entry they back. `None` where there are no reviews to ask. On a
    /// `pull_request` run the reviews are the verifier: a signature does not replace
    /// them (see `trust::Trust::pull_request`).
    pub fn judge(&self, reviewed: Option<&[(Entry, String)]>, pull_request: bool) -> Judged {
        let t = Trust {
            pull_request,
            advisory: self.advisory,
            approvers: &self.config.approvers,
            require_signed: self.config.require_signed_approvals,
            signers: &self.signers,
            now: &self.now,
            judge: &self.judge_source,
        };
        let entries: Vec<&Entry> = if self.advisory {
            self.head_ledger.iter().collect()
        } else {
            self.added_entries()
        };
        // By hash: a scan of the review verdicts per entry was quadratic in the ledger.
        let why: Option<rustc_hash::FxHashMap<&Entry, &String>> =
            reviewed.map(|r| r.iter().rev().map(|(e, why)| (e, why)).collect());
        trust::judge_all(entries, &t, &mut |e| {
            why.as_ref().map(|w| match w.get(e) {
                Some(why) => Err((*why).clone()),
                None => Ok(()),
            })
        })
    }

    pub fn gate(&mut self, judged: &Judged) -> Gathered {
        let early = self.early.take();
        let ahead = std::mem::take(&mut self.ahead);
        let lints = gate::Ahead {
            coming: ahead.iter().map(Option::is_some).collect(),
            wait: Box::new(move || {
                let mut done = early.map(Early::lints).unwrap_or_default();
                ahead
                    .iter()
                    .map(|a| a.and_then(|i| done.get_mut(i)?.take()))
                    .collect()
            }),
        };
        let mut report = gate::gate(
            &gate::Input {
                apps: &self.apps,
                removed: &self.removed,
                config: &self.config,
                advisory: self.advisory,
                baseline: self.baseline.clone(),
                base_ledger: &self.base_ledger,
                merged_ledger: &self.merged_ledger,
                head_ledger: &self.head_ledger,
                release_ledger: self.release_ledger.as_deref(),
                ledger_path: approval::PATH,
                now: &self.now,
                untrusted: &judged.pending,
                unverified: &judged.unverified,
                signed: &judged.signed,
                tenants: &self.tenants,
            },
            lints,
        );
        report.manifests.clone_from(&self.manifest_spec);
        Gathered {
            report,
            ledger_file: self.ledger_file.clone(),
            ledger_text: self.ledger_text.clone(),
            now: self.now.clone(),
            repository: self.config.repository.clone(),
        }
    }
}

/// Reads everything at both ends and runs the gate.
pub fn gather(manifests: &[PathBuf], req: &Request) -> Result<Gathered> {
    let mut loaded = load(manifests, req, None)?;
    Ok(loaded.gate(&loaded.judge(None, false)))
}

/// The newest semver release tag whose commit is the trusted commit or one of its
/// ancestors, and not the change, asked of the API (tags, then compare) when the clone
/// cannot answer.
fn previous_release_via_api(
    client: &github::Client,
    pattern: &str,
    trusted: &str,
    heads: &[&str],
) -> Result<(String, String)> {
    let glob = pattern.strip_suffix('*');
    let mut tags: Vec<(semver::Version, String, String)> = client
        .tags()
        .map_err(|e| anyhow::anyhow!("listing tags through the API: {e}"))?
        .into_iter()
        .filter(|(n, _)| glob.map_or(n == pattern, |g| n.starts_with(g)))
        .filter_map(|(n, sha)| Some((crate::baseline::version_of(&n)?, n, sha)))
        .collect();
    // Newest first, equal versions by name, as the git path orders them.
    tags.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (_, name, sha) in tags {
        if heads.contains(&sha.as_str()) {
            continue;
        }
        if sha == trusted {
            return Ok((name, sha));
        }
        // `trusted` is `ahead` of the tag: the tag is in its history.
        let status = client.compare_status(&sha, trusted).map_err(|e| {
            anyhow::anyhow!("comparing {name} with the trusted commit {trusted}: {e}")
        })?;
        if status == "ahead" || status == "identical" {
            return Ok((name, sha));
        }
    }
    bail!(
        "no release tag matching `{pattern}` is the trusted commit {trusted} or one of its ancestors (asked through the API)\n  hint: name a baseline with `--base REF`, or `--base none` for a first release"
    )
}

/// The trusted commit (docs/design.md §6): `--trusted REF`, else HEAD. On GitHub, one the
/// clone lacks (a shallow checkout) is read through the API.
fn trusted_reader<'a>(
    r: &'a Repo,
    name: Option<&str>,
    fallback: Option<&ApiFallback<'a>>,
) -> Result<Reader<'a>> {
    let name = name.unwrap_or("HEAD");
    match (r.resolve(&Spec::Ref(name.to_string())), fallback) {
        (Ok(res), _) => Ok(Reader::Git(r, res)),
        (Err(BaselineError::UnknownRef { .. } | BaselineError::Shallow { .. }), Some(fb))
            if name != "HEAD" =>
        {
            // The API knows a branch by its name, not by this clone's remote-tracking
            // ref. Asked by that name, a tag of the same name could answer instead (a
            // tag pushed as `main`): the branch's tip is asked of the branch refs alone,
            // and everything is read at that commit.
            match name.strip_prefix("refs/remotes/origin/") {
                Some(branch) => {
                    let sha = fb.client.branch_tip(branch).with_context(|| {
                        format!("cannot read the tip of branch `{branch}` through the API")
                    })?;
                    Ok(Reader::api(fb.client, sha, branch.to_string()))
                }
                None => Ok(Reader::api(fb.client, name.to_string(), name.to_string())),
            }
        }
        (Err(e), _) => Err(e.into()),
    }
}

/// Reads everything at both ends: the head from the working tree, the baseline from
/// git (or, on GitHub with a shallow clone, from the API).
pub fn load(
    manifests: &[PathBuf],
    req: &Request,
    fallback: Option<&ApiFallback<'_>>,
) -> Result<Loaded> {
    load_at(manifests, req, fallback, &Head::Worktree)
}

/// [`load`], with the head read from `head`.
pub fn load_at(
    manifests: &[PathBuf],
    req: &Request,
    fallback: Option<&ApiFallback<'_>>,
    head: &Head,
) -> Result<Loaded> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo = open_repo(&cwd, req, fallback, head)?;
    let root = repo
        .as_ref()
        .map_or(cwd.clone(), |r| r.workdir().to_path_buf());
    let head = head_reader(repo.as_ref(), head, fallback)?;
    let worktree_config = match &head {
        None => parse_config(config::PATH, Tree::lazy(&root).read(config::PATH)?)?,
        Some(h) => parse_config(config::PATH, h.read(config::PATH)?)?,
    };
    // The head manifests are parsed and linted on the second core meanwhile.
    let early = match &head {
        None => Early::start(
            &root,
            guess_heads(manifests, &worktree_config, repo.as_ref(), &root),
            worktree_config.options,
        ),
        Some(_) => Early::default(),
    };
    let trusted = trusted_commit(repo.as_ref(), req, fallback)?;
    let (reader, via_api) = baseline_reader(&BaselineCtx {
        repo: repo.as_ref(),
        req,
        fallback,
        manifests,
        head: head.as_ref(),
        worktree_config: &worktree_config,
        trusted: trusted.as_ref(),
    })?;
    let baseline = baseline_record(reader.as_ref(), via_api, req);

    let from_worktree = req.config_from_worktree || reader.is_none();
    if from_worktree && head.is_some() {
        bail!("a head commit is judged only with the config and approvals of a baseline commit");
    }
    let release = reader.as_ref().map(|(rd, _)| rd);
    let (judge, judge_source) = judge_of(req, from_worktree, trusted.as_ref(), release);
    let label = |path: &str| match judge {
        Some(j) => format!("{}:{path}", short_name(j.name())),
        None => path.to_string(),
    };
    let config = match judge {
        Some(j) => parse_config(&label(config::PATH), j.read(config::PATH)?)?,
        None => worktree_config,
    };
    // (The release's own config is then the judging one: nothing more to read.)
    let judge_is_release = matches!((judge, release), (Some(j), Some(r)) if std::ptr::eq(j, r));
    let base_ledger_bytes = match release {
        Some(rd) if !from_worktree => rd.read(approval::PATH)?,
        _ => None,
    };
    let tenants = match judge {
        Some(j) => load_tenants(&j.list_dir(tenant::DIR)?, &|ps| j.read_many(ps), &label)?,
        None => worktree_tenants(&root)?,
    };
    let signers = read_signers(
        judge,
        from_worktree,
        &root,
        &label,
        config.repository.as_deref(),
    )?;
    let ledgers = read_ledgers(
        req,
        from_worktree,
        trusted.as_ref(),
        release,
        base_ledger_bytes,
        head.as_ref(),
        &root,
    )?;

    // Manifests: as given, or as the config lists them (relative to the repo root).
    let base = match (&reader, &req.base) {
        (Some((rd, _)), _) => Base::Commit(rd),
        (None, BaseSpec::File(f)) => Base::File(f),
        (None, _) => Base::None,
    };
    let mut early = early;
    let Apps {
        apps,
        ahead,
        removed,
    } = manifests::load(
        manifests,
        &config,
        &released_entries(&base, manifests, &config, judge_is_release)?,
        repo.as_ref(),
        &root,
        &base,
        head.as_ref(),
        &mut early,
    )?;
    if apps.is_empty() && removed.is_empty() {
        bail!("no manifest to gate");
    }
    let manifest_spec = manifest_spec(manifests, &config, repo.as_ref());
    // What read through the repository is done with it.
    drop((reader, trusted, head));
    Ok(Loaded {
        apps,
        early: Some(early),
        ahead,
        removed,
        manifest_spec,
        config,
        advisory: from_worktree,
        baseline,
        base_ledger: ledgers.base,
        merged_ledger: ledgers.merged,
        head_ledger: ledgers.head,
        release_ledger: ledgers.release,
        tenants,
        signers,
        ledger_file: ledgers.file,
        ledger_text: ledgers.head_text,
        now: req.now.clone(),
        judge_source,
        _repo: repo,
    })
}

/// The working tree's manifests as the gate will most likely read them, as
/// `(label, file)`: the command-line paths, or the working tree config's literal
/// entries (the trusted config, read later, usually names the same). Only a guess for
/// [`Early`]: what it gets wrong is not used.
fn guess_heads(
    manifests: &[PathBuf],
    worktree_config: &Config,
    repo: Option<&Repo>,
    root: &Path,
) -> Vec<(String, PathBuf)> {
    let shown = |p: &Path| manifests::shown(repo, p);
    if manifests.is_empty() {
        worktree_config
            .manifests
            .iter()
            .filter(|e| !is_glob(e))
            .map(|e| {
                let file = root.join(e);
                (shown(&file), file)
            })
            .collect()
    } else {
        manifests.iter().map(|p| (shown(p), p.clone())).collect()
    }
}

/// What names the manifests: the command-line paths (repository-relative), or the
/// config's entries as written.
fn manifest_spec(manifests: &[PathBuf], config: &Config, repo: Option<&Repo>) -> Vec<String> {
    if manifests.is_empty() {
        return config.manifests.clone();
    }
    manifests
        .iter()
        .map(|p| manifests::shown(repo, p))
        .collect()
}

/// The repository around `cwd`. A file baseline needs none, nor does a head read
/// through the API; everything else does.
fn open_repo(
    cwd: &Path,
    req: &Request,
    fallback: Option<&ApiFallback<'_>>,
    head: &Head,
) -> Result<Option<Repo>> {
    match Repo::discover(cwd) {
        Ok(r) => Ok(Some(r)),
        Err(_) if matches!(req.base, BaseSpec::File(_)) => Ok(None),
        Err(_) if matches!(head, Head::Commit(_)) && fallback.is_some() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Where the head is read from: `None` for the working tree; a head commit this
/// clone has is read with git, any other through the API.
fn head_reader<'a>(
    repo: Option<&'a Repo>,
    head: &Head,
    fallback: Option<&ApiFallback<'a>>,
) -> Result<Option<HeadCommit<'a>>> {
    let sha = match head {
        Head::Worktree => return Ok(None),
        Head::Commit(sha) => sha,
    };
    // Only the very commit asked for counts as present (not a ref by that name).
    let local = repo.map(|r| {
        let res = r.resolve(&Spec::Ref(sha.clone()));
        (
            r,
            res.map_err(|e| e.to_string()).and_then(|res| {
                if res.commit.eq_ignore_ascii_case(sha) {
                    Ok(res)
                } else {
                    Err(format!("`{sha}` names {}, not that commit", res.commit))
                }
            }),
        )
    });
    Ok(Some(HeadCommit::new(match (local, fallback) {
        (Some((r, Ok(res))), _) => Reader::Git(r, res),
        (_, Some(fb)) => Reader::api(fb.client, sha.clone(), sha.clone()),
        (Some((_, Err(e))), None) => bail!("cannot read the head {sha}: {e}"),
        (None, None) => bail!("no repository, and no API, to read the head {sha} from"),
    })))
}

/// The trusted commit: the previous release is searched in its history, and its
/// config names the release tags. Never the working tree, never the change.
fn trusted_commit<'a>(
    repo: Option<&'a Repo>,
    req: &Request,
    fallback: Option<&ApiFallback<'a>>,
) -> Result<Option<Reader<'a>>> {
    Ok(match (repo, &req.base) {
        (_, BaseSpec::File(_) | BaseSpec::None) => None,
        (Some(r), BaseSpec::PreviousRelease) => {
            Some(trusted_reader(r, req.trusted.as_deref(), fallback)?)
        }
        (Some(r), BaseSpec::Ref(_)) if req.trusted.is_some() => {
            Some(trusted_reader(r, req.trusted.as_deref(), fallback)?)
        }
        // No clone (`scopegate comment` in a job that checked nothing out): the
        // trusted commit, a PR base, is read through the API.
        (None, _) => match (req.trusted.as_deref(), fallback) {
            (Some(t), Some(fb)) => Some(Reader::api(fb.client, t.to_string(), t.to_string())),
            _ => None,
        },
        _ => None,
    })
}

/// What the baseline commit is resolved from.
struct BaselineCtx<'a, 'c> {
    repo: Option<&'a Repo>,
    req: &'c Request,
    fallback: Option<&'c ApiFallback<'a>>,
    manifests: &'c [PathBuf],
    head: Option<&'c HeadCommit<'a>>,
    worktree_config: &'c Config,
    trusted: Option<&'c Reader<'a>>,
}

/// The baseline commit, with how it was chosen (`--base REF`, or the previous
/// release), and whether it is read through the API. `None` for `--base none` and
/// `--base-file`.
#[allow(clippy::type_complexity)]
fn baseline_reader<'a>(cx: &BaselineCtx<'a, '_>) -> Result<(Option<(Reader<'a>, String)>, bool)> {
    let req = cx.req;
    match (cx.repo, &req.base) {
        (_, BaseSpec::File(_) | BaseSpec::None) => Ok((None, false)),
        (Some(r), BaseSpec::Ref(b)) => {
            let mut via_api = false;
            let reader = match (r.resolve(&Spec::Ref(b.clone())), cx.fallback) {
                (Ok(res), _) => Reader::Git(r, res),
                (
                    Err(BaselineError::UnknownRef { .. } | BaselineError::Shallow { .. }),
                    Some(fb),
                ) => {
                    via_api = true;
                    Reader::api(fb.client, b.clone(), b.clone())
                }
                (Err(e), _) => return Err(e.into()),
            };
            Ok((Some((reader, format!("--base {b}"))), via_api))
        }
        (None, BaseSpec::Ref(b)) => {
            // A head read through the API, no clone: so is the baseline.
            let fb = cx
                .fallback
                .context("no repository to read the baseline from")?;
            let reader = Reader::api(fb.client, b.clone(), b.clone());
            Ok((Some((reader, format!("--base {b}"))), true))
        }
        (_, BaseSpec::PreviousRelease) => {
            let (reader, source) = previous_release(cx)?;
            let via_api = matches!(reader, Reader::Api { .. });
            Ok((Some((reader, source)), via_api))
        }
    }
}

/// The previous release: the newest release tag (named by the trusted commit's
/// config) in the trusted commit's history that is not a commit under judgement.
fn previous_release<'a>(cx: &BaselineCtx<'a, '_>) -> Result<(Reader<'a>, String)> {
    let req = cx.req;
    let t = cx.trusted.context("the trusted commit was not resolved")?;
    let label = format!("{}:{}", t.name(), config::PATH);
    let pattern = parse_config(&label, t.read(config::PATH)?)?.release_tags;
    // The commits under judgement are never their own baseline: HEAD, a head
    // commit judged without being checked out, the PR head.
    // (HEAD is the judged commit only when the head is the working tree.)
    // A developer editing manifests in the working tree (the default trusted
    // HEAD, no head commit) is judged as the worktree, not HEAD: HEAD's own
    // release tag is then the baseline. A clean tree, or any explicit trusted
    // commit (CI), keeps HEAD as the commit under judgement.
    let worktree_edits = match cx.repo {
        Some(r) if cx.head.is_none() && req.trusted.is_none() => {
            manifests_edited(r, cx.manifests, cx.worktree_config)?
        }
        _ => false,
    };
    let local_head = cx
        .repo
        .filter(|_| cx.head.is_none() && !worktree_edits)
        .and_then(|r| r.resolve(&Spec::Ref("HEAD".into())).ok());
    let mut heads: Vec<&str> = local_head.iter().map(|h| h.commit.as_str()).collect();
    if let Some(h) = cx.head {
        heads.push(h.reader.commit());
    }
    if let Some(fb) = cx.fallback {
        heads.push(&fb.head_sha);
    }
    let reader = match (t, cx.repo) {
        (Reader::Git(_, res), Some(r)) => {
            release_in_clone(cx, r, res, &pattern, &heads, worktree_edits)?
        }
        (
            Reader::Api {
                client, sha: at, ..
            },
            _,
        ) => {
            let (name, sha) = previous_release_via_api(client, &pattern, at, &heads)?;
            Reader::api(client, sha, name)
        }
        (Reader::Git(..), None) => bail!("the trusted commit was read without a clone"),
    };
    // A PR base is a full commit id; the renderers show 12 characters too.
    let from = match &req.trusted {
        Some(name) => format!(" from {}", short_sha(name)),
        None => String::new(),
    };
    Ok((reader, format!("previous release ({pattern}){from}")))
}

/// [`previous_release`] searched in the clone (the API when the clone is shallow).
fn release_in_clone<'a>(
    cx: &BaselineCtx<'a, '_>,
    r: &'a Repo,
    trusted: &Resolved,
    pattern: &str,
    heads: &[&str],
    worktree_edits: bool,
) -> Result<Reader<'a>> {
    let spec = Spec::PreviousRelease {
        pattern: pattern.to_string(),
        trusted: trusted.clone(),
    };
    let head_is_local = matches!(cx.head, Some(h) if matches!(h.reader, Reader::Git(..)));
    let found = match cx.head {
        Some(h) if head_is_local => r.resolve_from(&spec, h.reader.commit()),
        _ if worktree_edits => r.resolve_for_worktree(&spec),
        _ => r.resolve(&spec),
    };
    let found = with_upstream_tags(found, cx.fallback);
    Ok(match (found, cx.fallback) {
        (Ok(found), _) if !heads.contains(&found.commit.as_str()) => Reader::Git(r, found),
        (Ok(found), _) => bail!(
            "the previous release {} is the commit under judgement",
            found.name
        ),
        (Err(BaselineError::Shallow { .. }), Some(fb)) => {
            let (name, sha) = previous_release_via_api(fb.client, pattern, &trusted.commit, heads)?;
            Reader::api(fb.client, sha, name)
        }
        (Err(e), _) => return Err(e.into()),
    })
}

/// The clone has no matching tag: the API says whether upstream has.
fn with_upstream_tags(
    found: Result<Resolved, BaselineError>,
    fallback: Option<&ApiFallback<'_>>,
) -> Result<Resolved, BaselineError> {
    match (found, fallback) {
        (
            Err(BaselineError::NoReleaseTag {
                pattern,
                trusted,
                why: NoRelease::NoTag { fetched: None },
            }),
            Some(fb),
        ) => {
            let upstream = fb.client.tags().ok().map(|tags| {
                let glob = crate::glob::Glob::new(&pattern).ok();
                tags.iter()
                    .any(|(n, _)| glob.as_ref().is_some_and(|g| g.matches(n)))
            });
            Err(BaselineError::NoReleaseTag {
                pattern,
                trusted,
                why: NoRelease::NoTag {
                    fetched: upstream.map(|any| !any),
                },
            })
        }
        (found, _) => found,
    }
}

/// The report's account of the baseline.
fn baseline_record(
    reader: Option<&(Reader<'_>, String)>,
    via_api: bool,
    req: &Request,
) -> report::Baseline {
    let api_note = if via_api { " via the contents API" } else { "" };
    match (reader, &req.base) {
        (Some((rd, source)), _) => report::Baseline {
            source: format!("{source}{api_note}"),
            name: Some(rd.name().to_string()),
            commit: Some(rd.commit().to_string()),
        },
        (None, BaseSpec::File(f)) => report::Baseline {
            source: format!("--base-file {}", f.display()),
            name: None,
            commit: None,
        },
        (None, _) => report::Baseline {
            source: "none (first release)".into(),
            name: None,
            commit: None,
        },
    }
}

/// The judge: config, approvers, tenants and signers. On an explicit trusted commit
/// (a PR base, a merge group's base, the default branch's tip, `--trusted REF`) its
/// own: what merged there was reviewed, so a team adopts scopegate (approvers,
/// tenants, keys) without waiting for a release. The release-tag path and the
/// default HEAD (a local commit could name its own judges) keep the release's.
/// Never the change under judgement, unless told to be advisory (`None`: the
/// working tree). With it, the judge as messages name it: `the trusted commit <ref>`,
/// `the release <tag>` or `the working tree`.
fn judge_of<'r, 'a>(
    req: &Request,
    from_worktree: bool,
    trusted: Option<&'r Reader<'a>>,
    release: Option<&'r Reader<'a>>,
) -> (Option<&'r Reader<'a>>, String) {
    let at_trusted = req.trusted.is_some() && !req.judge_at_release;
    match (trusted, release) {
        _ if from_worktree => (None, "the working tree".to_string()),
        (Some(t), Some(_)) if at_trusted => (
            Some(t),
            format!("the trusted commit {}", short_name(t.name())),
        ),
        (_, Some(rd)) => (Some(rd), format!("the release {}", rd.name())),
        (_, None) => (None, "the working tree".to_string()),
    }
}

/// `.scopegate/allowed_signers` from the judge (empty when there is none).
fn read_signers(
    judge: Option<&Reader<'_>>,
    from_worktree: bool,
    root: &Path,
    label: &dyn Fn(&str) -> String,
    repository: Option<&str>,
) -> Result<AllowedSigners> {
    let bytes = match judge {
        Some(j) => j.read(signature::SIGNERS_PATH)?,
        None => Tree::lazy(root).read(signature::SIGNERS_PATH)?,
    };
    let Some(b) = bytes else {
        return Ok(AllowedSigners::default());
    };
    let path = if from_worktree {
        signature::SIGNERS_PATH.to_string()
    } else {
        label(signature::SIGNERS_PATH)
    };
    let text = crate::yaml::text_of(crate::yaml::FileKind::AllowedSigners, &path, &b)
        .map_err(|e| LoadErrors(vec![e]))?;
    Ok(AllowedSigners::parse(&path, text)
        .map_err(|e| LoadErrors(vec![e]))?
        .bound_to(repository))
}

/// The approvals ledger at every end that counts.
struct Ledgers {
    base: Vec<Entry>,
    merged: Vec<Entry>,
    head: Vec<Entry>,
    release: Option<Vec<Entry>>,
    file: PathBuf,
    head_text: Option<String>,
}

/// Reads the ledger at the baseline, at an explicit trusted commit, and at head.
fn read_ledgers(
    req: &Request,
    from_worktree: bool,
    trusted: Option<&Reader<'_>>,
    release: Option<&Reader<'_>>,
    base_bytes: Option<Vec<u8>>,
    head: Option<&HeadCommit<'_>>,
    root: &Path,
) -> Result<Ledgers> {
    let file = root.join(approval::PATH);
    let head_bytes = match head {
        None => Tree::lazy(root).read(approval::PATH)?,
        Some(h) => h.read(approval::PATH)?,
    };
    let head_ledger = parse_ledger(approval::PATH, head_bytes.as_deref())?;
    let base = match release {
        Some(rd) if !from_worktree => parse_ledger(
            &format!("{}:{}", rd.name(), approval::PATH),
            base_bytes.as_deref(),
        )?,
        // No reviewed baseline ledger to compare with: the working tree's entries count
        // as they are (the run is advisory).
        _ => head_ledger.clone(),
    };
    // Entries at an explicit trusted commit (a PR base, `--trusted`) were reviewed when
    // they merged, and the change must keep them (docs/design.md §7). At the default HEAD a
    // local commit would vouch for its own entries, so only the baseline's count there.
    let merged = match (trusted, release) {
        (Some(t), Some(rd))
            if req.trusted.is_some() && !from_worktree && t.commit() != rd.commit() =>
        {
            parse_ledger(
                &format!("{}:{}", t.name(), approval::PATH),
                t.read(approval::PATH)?.as_deref(),
            )?
        }
        _ => Vec::new(),
    };
    let release_ledger = (release.is_some() && !from_worktree).then(|| base.clone());
    Ok(Ledgers {
        base,
        merged,
        head: head_ledger,
        release: release_ledger,
        file,
        head_text: head_bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
    })
}

/// Whether the working tree's manifests differ from HEAD's: a path git sees changed
/// (staged, unstaged, untracked) that a manifest argument or the config's `manifests`
/// names, or the file a symlinked one leads to. git looks only where they can be: the
/// named files, the entries and the fixed directory of each glob (the whole tree when
/// a glob starts with a wildcard). A monorepo's status then costs what its manifests'
/// directories cost, not what its 30,000 other files do; what it finds is still
/// matched exactly.
fn manifests_edited(r: &Repo, manifests: &[PathBuf], config: &Config) -> Result<bool> {
    let spec = &config.manifests;
    let root = r.workdir();
    let literal = spec.iter().filter(|e| !is_glob(e)).map(|e| root.join(e));
    let mut named: Vec<String> = Vec::new();
    for p in manifests.iter().cloned().chain(literal) {
        named.extend(r.relative(&p));
        // A symlink's target, which an edit changes while the link stays as it is.
        let target = p
            .canonicalize()
            .ok()
            .and_then(|t| Some(t.strip_prefix(root).ok()?.to_str()?.to_string()));
        named.extend(target.filter(|t| !t.is_empty()));
    }
    let globs: Vec<crate::glob::Glob> = spec
        .iter()
        .filter_map(|m| crate::glob::Glob::new(m).ok())
        .collect();
    let mut within: Vec<String> = named.iter().chain(spec).cloned().collect();
    let mut whole_tree = false;
    for g in &globs {
        match g.fixed_prefix() {
            p if p.is_empty() => whole_tree = true,
            p => within.push(p),
        }
    }
    if within.is_empty() && !whole_tree {
        return Ok(false);
    }
    let changed = r.changed_paths((!whole_tree).then_some(within.as_slice()))?;
    Ok(changed
        .iter()
        .any(|c| named.contains(c) || spec.contains(c) || globs.iter().any(|g| g.matches(c))))
}

/// The `manifests:` entries of the baseline release's own config that the judging
/// config does not have: the apps gated under them at the release are still judged
/// (their gating stopped). Only the release config's `manifests:` are read, so one an
/// older scopegate wrote (a key since removed) still counts.
fn released_entries(
    base: &manifests::Base<'_>,
    explicit: &[PathBuf],
    config: &Config,
    judge_is_release: bool,
) -> Result<Vec<String>> {
    let manifests::Base::Commit(rd) = base else {
        return Ok(Vec::new());
    };
    if !explicit.is_empty() || judge_is_release {
        return Ok(Vec::new());
    }
    let label = format!("{}:{}", rd.name(), config::PATH);
    // Only its entries are wanted: a release config this scopegate no longer accepts
    // as a whole (a key an older one took) still names the apps it gated. One that
    // does not even say that is exit 2: what it gated cannot be known.
    let released = match rd.read(config::PATH)? {
        None => Config::default().manifests,
        Some(bytes) => config::manifest_entries(&label, &bytes).map_err(|e| LoadErrors(vec![e]))?,
    };
    Ok(released
        .into_iter()
        .filter(|m| !config.manifests.contains(m))
        .collect())
}

/// A ref name as messages show it: a full commit id cut to 12 characters, a
/// remote-tracking ref without its `refs/remotes/` prefix.
fn short_name(name: &str) -> &str {
    let short = short_sha(name);
    if short.len() < name.len() {
        short
    } else {
        name.strip_prefix("refs/remotes/").unwrap_or(name)
    }
}

/// A full commit id cut to the 12 characters the renderers show; any other name as is.
fn short_sha(name: &str) -> &str {
    if name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        &name[..12]
    } else {
        name
    }
}

/// The tenant profiles in the working tree's `.scopegate/tenants/`.
pub fn worktree_tenants(root: &Path) -> Result<Vec<Tenant>> {
    let dir = root.join(tenant::DIR);
    let names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let mut names = Vec::new();
            for e in entries.filter_map(|e| e.ok()) {
                let Some(name) = e.file_name().to_str().map(str::to_string) else {
                    continue;
                };
                // A symlink is listed too: `Tree::read` follows it only to a tracked file
                // inside the repository, and refuses it otherwise (never skips it).
                if e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()) {
                    names.push(name);
                } else if tenant::name_of(&name).is_some() {
                    // A directory or a FIFO with a profile's name: never skipped unsaid.
                    bail!(
                        "{}/{name} is not a regular file; a tenant profile must be one",
                        tenant::DIR
                    );
                }
            }
            names
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    let tree = Tree::lazy(root);
    load_tenants(
        &names,
        &|ps| ps.iter().map(|p| tree.read(p)).collect(),
        &|p| p.to_string(),
    )
}

/// A profile name for a misnamed one: lower-case extension, other characters as `-`.
fn suggested_profile_name(file: &str) -> String {
    let (stem, _) = file.rsplit_once('.').unwrap_or((file, ""));
    let stem: String = stem
        .trim_start_matches('.')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{}.yaml", if stem.is_empty() { "tenant" } else { &stem })
}

/// Reads the files at the paths given, in order (`None` where there is none).
type ReadMany<'r> = dyn Fn(&[String]) -> Result<Vec<Option<Vec<u8>>>> + 'r;

/// Parses the profiles named in a listing of `.scopegate/tenants/`, and the EHR
/// snapshots they name, read with `read_many`; `label` names a path in messages. Every
/// problem in every file is reported together. A listed profile that cannot be read
/// is an error, never skipped.
fn load_tenants(
    names: &[String],
    read_many: &ReadMany<'_>,
    label: &dyn Fn(&str) -> String,
) -> Result<Vec<Tenant>> {
    // A file that is YAML by its extension (any case) but not named as a profile is an
    // error: skipped, `Acme.YAML` or `st-mary's.yaml` left its tenant out of the matrix,
    // `ship-to` and `blocked-tenants` unsaid. Other files (a README) are not profiles.
    let misnamed: Vec<&String> = names
        .iter()
        .filter(|n| {
            let lower = n.to_ascii_lowercase();
            (lower.ends_with(".yaml") || lower.ends_with(".yml")) && tenant::name_of(n).is_none()
        })
        .collect();
    if let Some(first) = misnamed.first() {
        bail!(
            "{} is not read as a tenant profile: a profile is named `<tenant>.yaml` (or `.yml`, in lower case), the tenant with letters, digits, `.`, `_` or `-`{}\n  hint: rename it, e.g. `{}`; skipped, its tenant would be left out of the matrix unsaid",
            label(&format!("{}/{first}", tenant::DIR)),
            if misnamed.len() > 1 {
                format!(" ({} files are so named)", misnamed.len())
            } else {
                String::new()
            },
            suggested_profile_name(first)
        );
    }
    let mut names: Vec<&String> = names
        .iter()
        .filter(|n| tenant::name_of(n).is_some())
        .collect();
    names.sort();
    // Read together: from git, each file read alone looked the directory up again (a
    // tree of 8,000 profiles read 8,000 times: 3.9 s).
    let paths: Vec<String> = names
        .iter()
        .map(|n| format!("{}/{n}", tenant::DIR))
        .collect();
    let mut profiles = Vec::with_capacity(paths.len());
    for (path, bytes) in paths.iter().zip(read_many(&paths)?) {
        let Some(bytes) = bytes else {
            bail!(
                "{} is listed in {} but could not be read",
                label(path),
                tenant::DIR
            );
        };
        profiles.push(tenant::from_bytes(&label(path), &bytes));
    }
    let ehr_paths: Vec<String> = profiles
        .iter()
        .filter_map(|p| Some(p.as_ref().ok()?.ehr.as_ref()?.0.clone()))
        .collect();
    let mut snapshots = ehr_paths.iter().zip(read_many(&ehr_paths)?);
    let mut tenants = Vec::new();
    let mut errors = Vec::new();
    for profile in profiles {
        let profile = match profile {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let ehr = match &profile.ehr {
            None => None,
            Some((p, pos)) => match snapshots.next() {
                Some((_, Some(b))) => match tenant::ehr_from_bytes(&label(p), &b) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
                _ => {
                    errors.push(crate::yaml::fail(
                        &profile.path,
                        *pos,
                        format!("the EHR snapshot `{p}` does not exist"),
                        Some("give a path relative to the repository root".into()),
                    ));
                    continue;
                }
            },
        };
        tenants.push(Tenant { profile, ehr });
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors).into());
    }
    Ok(tenants)
}

/// Writes `text` to `path` atomically: a temporary file in the same directory, synced,
/// then renamed over the target, so an interrupted run leaves the old file intact.
pub fn write_atomic(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .with_context(|| format!("{} has no directory", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ledger");
    // The directory may be a checkout of someone else's change, holding whatever it
    // committed: the temporary file is created new (`O_EXCL`, which never follows a
    // symlink), so a planted `.approvals.yaml.tmp-<pid>` link cannot redirect the
    // write, and the rename replaces a link at `path` instead of writing through it.
    let (tmp, mut f) = (0u32..)
        .map(|n| dir.join(format!(".{name}.tmp-{}-{n}", std::process::id())))
        .take(100)
        .find_map(|tmp| {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
            {
                Ok(f) => Some(Ok((tmp, f))),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                Err(e) => Some(Err(e)),
            }
        })
        .unwrap_or_else(|| {
            Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "100 temporary names beside it are taken",
            ))
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
    let result = (|| -> std::io::Result<()> {
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    /// A change can commit files beside the ledger: a link at the temporary name the
    /// write would use (this process's id) or at the target itself is never written
    /// through. Control: the text lands at the path.
    #[test]
    fn write_atomic_writes_through_no_planted_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let target = dir.path().join("approvals.yaml");
        for n in 0..3 {
            let tmp = dir
                .path()
                .join(format!(".approvals.yaml.tmp-{}-{n}", std::process::id()));
            std::os::unix::fs::symlink(&victim, tmp).unwrap();
        }
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_atomic(&target, "approvals: []\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&target).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "approvals: []\n");
    }

    /// The profiles are read in one batch and their EHR snapshots in another, however
    /// many there are (from git, each file read alone looked its directory up again:
    /// 8,000 profiles took 3.9 s). Each is still judged on its own: a profile that
    /// does not parse and a snapshot that is not there are each an error, in name order.
    #[test]
    fn tenant_profiles_and_snapshots_are_read_in_two_batches() {
        use std::cell::RefCell;
        let ehr = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/tenants/ehr/regional-hospital.json"
        ))
        .unwrap();
        let mut files: std::collections::HashMap<String, Vec<u8>> = (0..50)
            .map(|i| {
                (
                    format!(".scopegate/tenants/t{i:02}.yaml"),
                    format!("description: tenant {i}\nehr: ehr/t{i:02}.json\n").into_bytes(),
                )
            })
            .collect();
        for i in (0..50).filter(|i| *i != 17) {
            files.insert(format!("ehr/t{i:02}.json"), ehr.clone());
        }
        files.insert(".scopegate/tenants/t30.yaml".into(), b"deny: [".to_vec());
        let batches = RefCell::new(Vec::new());
        let read_many = |paths: &[String]| -> anyhow::Result<Vec<Option<Vec<u8>>>> {
            batches.borrow_mut().push(paths.len());
            Ok(paths.iter().map(|p| files.get(p).cloned()).collect())
        };
        let mut names: Vec<String> = (0..50).rev().map(|i| format!("t{i:02}.yaml")).collect();
        names.push("notes.txt".into());
        let err = super::load_tenants(&names, &read_many, &|p| p.to_string()).unwrap_err();
        assert_eq!(*batches.borrow(), [50, 49]);
        let msg = format!("{err}");
        let (snapshot, parse) = (
            msg.find("the EHR snapshot `ehr/t17.json` does not exist")
                .unwrap(),
            msg.find(".scopegate/tenants/t30.yaml").unwrap(),
        );
        assert!(snapshot < parse, "{msg}");
        // Control: with both fixed, every tenant loads, with its snapshot, in order.
        files.insert("ehr/t17.json".into(), ehr.clone());
        files.insert(
            ".scopegate/tenants/t30.yaml".into(),
            b"ehr: ehr/t30.json\n".to_vec(),
        );
        batches.borrow_mut().clear();
        let read_many = |paths: &[String]| -> anyhow::Result<Vec<Option<Vec<u8>>>> {
            batches.borrow_mut().push(paths.len());
            Ok(paths.iter().map(|p| files.get(p).cloned()).collect())
        };
        let tenants = super::load_tenants(&names, &read_many, &|p| p.to_string()).unwrap();
        assert_eq!(*batches.borrow(), [50, 50]);
        assert_eq!(tenants.len(), 50);
        assert!(tenants.iter().all(|t| t.ehr.is_some()));
        assert_eq!(tenants[3].profile.name, "t03");
        // A listed profile the reader has nothing for is an error, never skipped.
        files.remove(".scopegate/tenants/t05.yaml");
        let read_many = |paths: &[String]| -> anyhow::Result<Vec<Option<Vec<u8>>>> {
            Ok(paths.iter().map(|p| files.get(p).cloned()).collect())
        };
        let err = super::load_tenants(&names, &read_many, &|p| p.to_string()).unwrap_err();
        assert!(
            format!("{err}").contains(".scopegate/tenants/t05.yaml is listed"),
            "{err}"
        );
    }
}
