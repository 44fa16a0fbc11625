//! The I/O edge of `diff`, `gate` and `approve`: find the baseline, read the files at
//! both ends, hand them to the pure gate, and (for `approve`) write the ledger
//! atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::manifests::{self, Apps, Base};
use super::{LoadErrors, read_limited};
use crate::approval::{self, Entry};
use crate::baseline::{Error as BaselineError, Repo, Resolved, Spec};
use crate::config::{self, Config};
use crate::gate::trust::{self, Judged, Trust};
use crate::gate::{self, App, Removed};
use crate::github;
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
    /// Read config and approvals from the working tree instead of the baseline commit.
    /// The verdict is then advisory.
    #[arg(long)]
    pub config_from_worktree: bool,
    /// The current time for approval expiry, `YYYY-MM-DDTHH:MM:SSZ` (default: now).
    #[arg(long, hide = true)]
    pub now: Option<String>,
}

/// Everything a gate run read, kept for `approve`.
pub struct Gathered {
    pub report: Report,
    /// The head ledger file, absolute.
    pub ledger_file: PathBuf,
    pub ledger_text: Option<String>,
    pub now: String,
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

pub(super) fn read_opt(path: &Path) -> Result<Option<Vec<u8>>> {
    match read_limited(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
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
    let config = parse_config(config::PATH, read_opt(&root.join(config::PATH))?)?;
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

impl Reader<'_> {
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
            Reader::Api { client, sha, .. } => client.dir_at(dir, sha).map_err(|e| {
                anyhow::anyhow!("listing {dir} at {sha} through the contents API: {e}")
            }),
        }
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

    pub(super) fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Reader::Git(r, res) => Ok(r.read(res, path)?),
            Reader::Api { client, sha, .. } => client.file_at(path, sha).map_err(|e| {
                anyhow::anyhow!("reading {path} at {sha} through the contents API: {e}")
            }),
        }
    }
}

/// On GitHub, a baseline missing from the clone is fetched through the API.
pub struct ApiFallback<'a> {
    pub client: &'a github::Client,
    /// The commit being judged (the PR head), for finding the previous release.
    pub head_sha: String,
}

/// Everything read at both ends, before judging.
pub struct Loaded {
    pub apps: Vec<App>,
    /// Apps the baseline had under the config's entries, gone at head.
    pub removed: Vec<Removed>,
    /// What names the manifests: the command-line paths, or the config's entries
    /// (paths and globs) as written. Stable across moves, so it names the comment.
    pub manifest_spec: Vec<String>,
    pub config: Config,
    pub advisory: bool,
    pub baseline: report::Baseline,
    pub base_ledger: Vec<Entry>,
    pub head_ledger: Vec<Entry>,
    pub tenants: Vec<Tenant>,
    /// `.scopegate/allowed_signers` from the judge (the baseline, or the working tree
    /// in an advisory run); empty when there is none.
    pub signers: AllowedSigners,
    pub ledger_file: PathBuf,
    pub ledger_text: Option<String>,
    pub now: String,
}

impl Loaded {
    /// Entries the change adds to the ledger.
    pub fn added_entries(&self) -> Vec<&Entry> {
        self.head_ledger
            .iter()
            .filter(|e| !self.base_ledger.contains(e))
            .collect()
    }

    /// Sorts the entries the change adds (every entry, in an advisory run) into those
    /// that count, those pending and those unverified. `reviewed` is what `ci` learnt
    /// from the pull request's reviews: the entries they do not back, with why; every
    /// other added entry they back. `None` where there are no reviews to ask.
    pub fn judge(&self, reviewed: Option<&[(Entry, String)]>) -> Judged {
        let t = Trust {
            advisory: self.advisory,
            approvers: &self.config.approvers,
            require_signed: self.config.require_signed_approvals,
            signers: &self.signers,
            now: &self.now,
        };
        let entries: Vec<&Entry> = if self.advisory {
            self.head_ledger.iter().collect()
        } else {
            self.added_entries()
        };
        trust::judge_all(entries, &t, &mut |e| {
            reviewed.map(|r| match r.iter().find(|(u, _)| u == e) {
                Some((_, why)) => Err(why.clone()),
                None => Ok(()),
            })
        })
    }

    pub fn gate(&self, judged: &Judged) -> Gathered {
        let mut report = gate::gate(&gate::Input {
            apps: &self.apps,
            removed: &self.removed,
            config: &self.config,
            advisory: self.advisory,
            baseline: self.baseline.clone(),
            base_ledger: &self.base_ledger,
            head_ledger: &self.head_ledger,
            ledger_path: approval::PATH,
            now: &self.now,
            untrusted: &judged.pending,
            unverified: &judged.unverified,
            signed: &judged.signed,
            tenants: &self.tenants,
        });
        report.manifests.clone_from(&self.manifest_spec);
        Gathered {
            report,
            ledger_file: self.ledger_file.clone(),
            ledger_text: self.ledger_text.clone(),
            now: self.now.clone(),
        }
    }
}

/// Reads everything at both ends and runs the gate.
pub fn gather(manifests: &[PathBuf], args: &BaseArgs) -> Result<Gathered> {
    let loaded = load(manifests, args, None)?;
    Ok(loaded.gate(&loaded.judge(None)))
}

/// The newest semver release tag whose commit the head descends from, asked of the
/// API (tags, then compare) when the clone cannot answer.
fn previous_release_via_api(fb: &ApiFallback<'_>, pattern: &str) -> Result<(String, String)> {
    let glob = pattern.strip_suffix('*');
    let mut tags: Vec<(semver::Version, String, String)> = fb
        .client
        .tags()
        .map_err(|e| anyhow::anyhow!("listing tags through the API: {e}"))?
        .into_iter()
        .filter(|(n, _)| glob.map_or(n == pattern, |g| n.starts_with(g)))
        .filter_map(|(n, sha)| Some((crate::baseline::version_of(&n)?, n, sha)))
        .collect();
    tags.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, name, sha) in tags {
        if sha == fb.head_sha {
            continue;
        }
        let status = fb
            .client
            .compare_status(&sha, &fb.head_sha)
            .map_err(|e| anyhow::anyhow!("comparing {name} with {}: {e}", fb.head_sha))?;
        if status == "ahead" {
            return Ok((name, sha));
        }
    }
    bail!(
        "no release tag matching `{pattern}` is an ancestor of {} (asked through the API)\n  hint: name a baseline with `--base REF`, or `--base none` for a first release",
        fb.head_sha
    )
}

/// Reads everything at both ends: the head from the working tree, the baseline from
/// git (or, on GitHub with a shallow clone, from the API).
pub fn load(
    manifests: &[PathBuf],
    args: &BaseArgs,
    fallback: Option<&ApiFallback<'_>>,
) -> Result<Loaded> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let now = now_utc(args.now.as_deref())?;
    let repo = match Repo::discover(&cwd) {
        Ok(r) => Some(r),
        // A file baseline needs no repository; everything else does.
        Err(_) if args.base_file.is_some() => None,
        Err(e) => return Err(e.into()),
    };
    let root = repo
        .as_ref()
        .map_or(cwd.clone(), |r| r.workdir().to_path_buf());
    let worktree_config = parse_config(config::PATH, read_opt(&root.join(config::PATH))?)?;

    // Resolve the baseline commit. The tag pattern in force is the baseline's own: if
    // the working tree's differs, resolve again with the baseline's.
    let mut via_api = false;
    let reader: Option<(Reader<'_>, String)> = match (&repo, &args.base, &args.base_file) {
        (_, _, Some(_)) => None,
        (_, Some(b), _) if b == "none" => None,
        (Some(r), Some(b), _) => {
            let reader = match (r.resolve(&Spec::Ref(b.clone())), fallback) {
                (Ok(res), _) => Reader::Git(r, res),
                (
                    Err(BaselineError::UnknownRef { .. } | BaselineError::Shallow { .. }),
                    Some(fb),
                ) => {
                    via_api = true;
                    Reader::Api {
                        client: fb.client,
                        sha: b.clone(),
                        name: b.clone(),
                    }
                }
                (Err(e), _) => return Err(e.into()),
            };
            Some((reader, format!("--base {b}")))
        }
        (Some(r), None, _) => {
            let resolve = |pattern: &str| -> Result<Reader<'_>> {
                match (
                    r.resolve(&Spec::PreviousRelease {
                        pattern: pattern.to_string(),
                    }),
                    fallback,
                ) {
                    (Ok(res), _) => Ok(Reader::Git(r, res)),
                    (Err(BaselineError::Shallow { .. }), Some(fb)) => {
                        let (name, sha) = previous_release_via_api(fb, pattern)?;
                        Ok(Reader::Api {
                            client: fb.client,
                            sha,
                            name,
                        })
                    }
                    (Err(e), _) => Err(e.into()),
                }
            };
            let mut pattern = worktree_config.release_tags.clone();
            let mut reader = resolve(&pattern)?;
            let at_base = parse_config(config::PATH, reader.read(config::PATH)?)?;
            if at_base.release_tags != pattern {
                pattern = at_base.release_tags;
                reader = resolve(&pattern)?;
            }
            via_api = matches!(reader, Reader::Api { .. });
            Some((reader, format!("previous release ({pattern})")))
        }
        (None, _, _) => unreachable!("no repository is an error unless --base-file is given"),
    };
    let api_note = if via_api { " via the contents API" } else { "" };
    let baseline = match (&reader, &args.base_file) {
        (Some((rd, source)), _) => report::Baseline {
            source: format!("{source}{api_note}"),
            name: Some(rd.name().to_string()),
            commit: Some(rd.commit().to_string()),
        },
        (None, Some(f)) => report::Baseline {
            source: format!("--base-file {}", f.display()),
            name: None,
            commit: None,
        },
        (None, None) => report::Baseline {
            source: "none (first release)".into(),
            name: None,
            commit: None,
        },
    };

    // The judge: config and ledger from the baseline commit, unless told otherwise.
    let from_worktree = args.config_from_worktree || reader.is_none();
    let label = |path: &str| match &reader {
        Some((rd, _)) => format!("{}:{path}", rd.name()),
        None => path.to_string(),
    };
    let (config, base_ledger_bytes) = match &reader {
        Some((rd, _)) if !from_worktree => (
            parse_config(&label(config::PATH), rd.read(config::PATH)?)?,
            rd.read(approval::PATH)?,
        ),
        _ => (worktree_config, None),
    };
    let tenants = match &reader {
        Some((rd, _)) if !from_worktree => {
            load_tenants(&rd.list_dir(tenant::DIR)?, &|p| rd.read(p), &label)?
        }
        _ => worktree_tenants(&root)?,
    };
    let signers_bytes = match &reader {
        Some((rd, _)) if !from_worktree => rd.read(signature::SIGNERS_PATH)?,
        _ => read_opt(&root.join(signature::SIGNERS_PATH))?,
    };
    let signers = match signers_bytes {
        None => AllowedSigners::default(),
        Some(b) => {
            let path = if from_worktree {
                signature::SIGNERS_PATH.to_string()
            } else {
                label(signature::SIGNERS_PATH)
            };
            let text = crate::yaml::text_of(&path, &b).map_err(|e| LoadErrors(vec![e]))?;
            AllowedSigners::parse(&path, text).map_err(|e| LoadErrors(vec![e]))?
        }
    };
    let ledger_file = root.join(approval::PATH);
    let head_ledger_bytes = read_opt(&ledger_file)?;
    let head_ledger = parse_ledger(approval::PATH, head_ledger_bytes.as_deref())?;
    let base_ledger = if reader.is_some() && !from_worktree {
        parse_ledger(&label(approval::PATH), base_ledger_bytes.as_deref())?
    } else {
        // No reviewed baseline ledger to compare with: the working tree's entries count
        // as they are (the run is advisory).
        head_ledger.clone()
    };

    // Manifests: as given, or as the config lists them (relative to the repo root).
    let base = match (&reader, &args.base_file) {
        (Some((rd, _)), _) => Base::Commit(rd),
        (None, Some(f)) => Base::File(f),
        (None, None) => Base::None,
    };
    let Apps { apps, removed } = manifests::load(manifests, &config, repo.as_ref(), &root, &base)?;
    if apps.is_empty() && removed.is_empty() {
        bail!("no manifest to gate");
    }
    let manifest_spec = if manifests.is_empty() {
        config.manifests.clone()
    } else {
        manifests
            .iter()
            .map(|p| match &repo {
                Some(r) => r.relative(p).unwrap_or_else(|| p.display().to_string()),
                None => p.display().to_string(),
            })
            .collect()
    };
    Ok(Loaded {
        apps,
        removed,
        manifest_spec,
        config,
        advisory: from_worktree,
        baseline,
        base_ledger,
        head_ledger,
        tenants,
        signers,
        ledger_file,
        ledger_text: head_ledger_bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
        now,
    })
}

/// The tenant profiles in the working tree's `.scopegate/tenants/`.
pub fn worktree_tenants(root: &Path) -> Result<Vec<Tenant>> {
    let dir = root.join(tenant::DIR);
    let names: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    load_tenants(&names, &|p| read_opt(&root.join(p)), &|p| p.to_string())
}

/// Parses the profiles named in a listing of `.scopegate/tenants/`, and the EHR
/// snapshots they name, read with `read`; `label` names a path in messages. Every
/// problem in every file is reported together.
fn load_tenants(
    names: &[String],
    read: &dyn Fn(&str) -> Result<Option<Vec<u8>>>,
    label: &dyn Fn(&str) -> String,
) -> Result<Vec<Tenant>> {
    let mut names: Vec<&String> = names
        .iter()
        .filter(|n| tenant::name_of(n).is_some())
        .collect();
    names.sort();
    let mut tenants = Vec::new();
    let mut errors = Vec::new();
    for n in names {
        let path = format!("{}/{n}", tenant::DIR);
        let Some(bytes) = read(&path)? else { continue };
        let profile = match tenant::from_bytes(&label(&path), &bytes) {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let ehr = match &profile.ehr {
            None => None,
            Some((p, pos)) => match read(p)? {
                Some(b) => match tenant::ehr_from_bytes(&label(p), &b) {
                    Ok(e) => Some(e),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                },
                None => {
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
    let dir = path.parent().context("the ledger path has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("ledger"),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
