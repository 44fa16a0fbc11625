//! The I/O edge of `diff`, `gate` and `approve`: find the baseline, read the files at
//! both ends, hand them to the pure gate, and (for `approve`) write the ledger
//! atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{LoadErrors, read_limited};
use crate::approval::{self, Entry};
use crate::baseline::{Error as BaselineError, Repo, Resolved, Spec};
use crate::config::{self, Config};
use crate::gate::{self, App};
use crate::github;
use crate::manifest;
use crate::report::{self, Report};

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

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>> {
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

fn parse_ledger(path: &str, bytes: Option<&[u8]>) -> Result<Vec<Entry>> {
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
enum Reader<'a> {
    Git(&'a Repo, Resolved),
    /// The contents API at a commit: the clone does not have it (shallow checkout).
    Api {
        client: &'a github::Client,
        sha: String,
        name: String,
    },
}

impl Reader<'_> {
    fn name(&self) -> &str {
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

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
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
    pub config: Config,
    pub advisory: bool,
    pub baseline: report::Baseline,
    pub base_ledger: Vec<Entry>,
    pub head_ledger: Vec<Entry>,
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

    pub fn gate(&self, untrusted: &[(Entry, String)]) -> Gathered {
        let report = gate::gate(&gate::Input {
            apps: &self.apps,
            config: &self.config,
            advisory: self.advisory,
            baseline: self.baseline.clone(),
            base_ledger: &self.base_ledger,
            head_ledger: &self.head_ledger,
            ledger_path: approval::PATH,
            now: &self.now,
            untrusted,
        });
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
    Ok(load(manifests, args, None)?.gate(&[]))
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
    let paths: Vec<PathBuf> = if manifests.is_empty() {
        config.manifests.iter().map(|m| root.join(m)).collect()
    } else {
        manifests.to_vec()
    };
    let mut apps = Vec::new();
    let mut errors = Vec::new();
    for p in &paths {
        let shown = match &repo {
            Some(r) => r.relative(p).unwrap_or_else(|| p.display().to_string()),
            None => p.display().to_string(),
        };
        let bytes = read_limited(p).with_context(|| format!("cannot read {}", p.display()))?;
        let head_text = text_of(&bytes);
        // (label for messages, path at the baseline, bytes)
        let base_bytes = match (&reader, &args.base_file) {
            (Some((rd, _)), _) => rd.read(&shown)?.map(|b| (label(&shown), shown.clone(), b)),
            (None, Some(f)) => {
                let shown_base = f.display().to_string();
                let b = read_limited(f).with_context(|| format!("cannot read {shown_base}"))?;
                Some((shown_base.clone(), shown_base, b))
            }
            (None, None) => None,
        };
        // An unchanged manifest (most of a monorepo's) is parsed once.
        if let Some((label, path, b)) = &base_bytes
            && *b == bytes
        {
            match manifest::from_bytes(&shown, &bytes) {
                Ok(head) => {
                    let mut base = head.clone();
                    base.path = label.clone();
                    apps.push(App {
                        head,
                        head_text: head_text.clone(),
                        base: Some((path.clone(), base, head_text)),
                    });
                }
                Err(e) => errors.push(e),
            }
            continue;
        }
        // The two ends parse independently: overlap them.
        let (head, base) = std::thread::scope(|t| {
            let base = t.spawn(|| {
                base_bytes.as_ref().map(|(label, path, b)| {
                    manifest::from_bytes(label, b).map(|m| (path.clone(), m, text_of(b)))
                })
            });
            let head = manifest::from_bytes(&shown, &bytes);
            (
                head,
                base.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            )
        });
        let (head, base) = match (head, base.transpose()) {
            (Ok(h), Ok(b)) => (h, b),
            (h, b) => {
                errors.extend(h.err());
                errors.extend(b.err());
                continue;
            }
        };
        apps.push(App {
            head,
            head_text,
            base,
        });
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors).into());
    }
    if apps.is_empty() {
        bail!("no manifest to gate");
    }
    Ok(Loaded {
        apps,
        config,
        advisory: from_worktree,
        baseline,
        base_ledger,
        head_ledger,
        ledger_file,
        ledger_text: head_ledger_bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
        now,
    })
}

/// The file as text for the unified diff. A manifest that loads is UTF-8, and checking
/// that is much cheaper than the lossy conversion, which is only the fallback.
fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
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
