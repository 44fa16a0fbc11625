//! The I/O edge of `diff`, `gate` and `approve`: find the baseline, read the files at
//! both ends, hand them to the pure gate, and (for `approve`) write the ledger
//! atomically.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{LoadErrors, read_limited};
use crate::approval::{self, Entry};
use crate::baseline::{Repo, Resolved, Spec};
use crate::config::{self, Config};
use crate::gate::{self, App};
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

/// Reads everything at both ends and runs the gate.
pub fn gather(manifests: &[PathBuf], args: &BaseArgs) -> Result<Gathered> {
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
    let worktree_config_bytes = read_opt(&root.join(config::PATH))?;
    let worktree_config = parse_config(config::PATH, worktree_config_bytes.clone())?;

    // Resolve the baseline commit. The tag pattern in force is the baseline's own: if
    // the working tree's differs, resolve again with the baseline's.
    let resolved: Option<(&Repo, Resolved, report::Baseline)> =
        match (&repo, &args.base, &args.base_file) {
            (_, _, Some(_)) => None,
            (_, Some(b), _) if b == "none" => None,
            (Some(r), Some(b), _) => {
                let res = r.resolve(&Spec::Ref(b.clone()))?;
                let info = report::Baseline {
                    source: format!("--base {b}"),
                    name: Some(res.name.clone()),
                    commit: Some(res.commit.clone()),
                };
                Some((r, res, info))
            }
            (Some(r), None, _) => {
                let mut pattern = worktree_config.release_tags.clone();
                let mut res = r.resolve(&Spec::PreviousRelease {
                    pattern: pattern.clone(),
                })?;
                let at_base = parse_config(config::PATH, r.read(&res, config::PATH)?)?;
                if at_base.release_tags != pattern {
                    pattern = at_base.release_tags;
                    res = r.resolve(&Spec::PreviousRelease {
                        pattern: pattern.clone(),
                    })?;
                }
                let info = report::Baseline {
                    source: format!("previous release ({pattern})"),
                    name: Some(res.name.clone()),
                    commit: Some(res.commit.clone()),
                };
                Some((r, res, info))
            }
            (None, _, _) => unreachable!("no repository is an error unless --base-file is given"),
        };
    let baseline_info = match (&resolved, &args.base_file) {
        (Some((_, _, info)), _) => info.clone(),
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
    let from_worktree = args.config_from_worktree || resolved.is_none();
    let (config, base_ledger_bytes) = match &resolved {
        Some((r, res, _)) if !from_worktree => (
            parse_config(
                &format!("{}:{}", res.name, config::PATH),
                r.read(res, config::PATH)?,
            )?,
            r.read(res, approval::PATH)?,
        ),
        _ => (worktree_config, None),
    };
    let ledger_file = root.join(approval::PATH);
    let head_ledger_bytes = read_opt(&ledger_file)?;
    let head_ledger = parse_ledger(approval::PATH, head_ledger_bytes.as_deref())?;
    let base_ledger = match &resolved {
        Some((_, res, _)) if !from_worktree => parse_ledger(
            &format!("{}:{}", res.name, approval::PATH),
            base_ledger_bytes.as_deref(),
        )?,
        // No reviewed baseline ledger to compare with: the working tree's entries count
        // as they are (the run is advisory).
        _ => head_ledger.clone(),
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
        let head_text = String::from_utf8_lossy(&bytes).into_owned();
        // (label for messages, path at the baseline, bytes)
        let base_bytes = match (&resolved, &args.base_file) {
            (Some((r, res, _)), _) => r
                .read(res, &shown)?
                .map(|b| (format!("{}:{shown}", res.name), shown.clone(), b)),
            (None, Some(f)) => {
                let shown_base = f.display().to_string();
                let b = read_limited(f).with_context(|| format!("cannot read {shown_base}"))?;
                Some((shown_base.clone(), shown_base, b))
            }
            (None, None) => None,
        };
        // The two ends parse independently: overlap them.
        let (head, base) = std::thread::scope(|t| {
            let base = t.spawn(|| {
                base_bytes.as_ref().map(|(label, path, b)| {
                    manifest::from_bytes(label, b)
                        .map(|m| (path.clone(), m, String::from_utf8_lossy(b).into_owned()))
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
    let report = gate::gate(&gate::Input {
        apps: &apps,
        config: &config,
        advisory: from_worktree,
        baseline: baseline_info,
        base_ledger: &base_ledger,
        head_ledger: &head_ledger,
        ledger_path: approval::PATH,
        now: &now,
        untrusted: &[],
    });
    Ok(Gathered {
        report,
        ledger_file,
        ledger_text: head_ledger_bytes.map(|b| String::from_utf8_lossy(&b).into_owned()),
        now,
    })
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
