//! Which apps a gate run judges: the config's `manifests:` paths and globs expanded
//! at both ends, the files read, and each head manifest paired with its baseline by
//! app id (same path first, then a move, then an id renamed in place).
//!
//! Globs are matched against the files git tracks at head (the index: untracked
//! build output and vendored copies never count) and against the baseline commit's
//! tree (git2, or the git trees API for a shallow clone on GitHub). Literal entries
//! are read as they are. The pairing itself is pure ([`pair`]); this module does the
//! reading around it and decides nothing about access.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::gating::{HeadCommit, Reader};
use super::{LoadErrors, read_limited};
use crate::baseline::Repo;
use crate::config::{self, Config};
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
    pub removed: Vec<Removed>,
}

/// The result of [`pair`]: for each head manifest, the index of its baseline (if
/// any); and the baseline manifests no head manifest claims.
#[derive(Debug, PartialEq, Eq)]
pub struct Pairing {
    pub base_of: Vec<Option<usize>>,
    pub unclaimed: Vec<usize>,
}

/// Pairs head manifests with baseline manifests, both given as `(path, app id)`.
/// Each baseline manifest pairs at most once, in this order: the same path and id;
/// the same id at another path (the app moved); the same path with another id (the
/// id was renamed in place, so the old content stays the baseline). Two head
/// manifests with the same id are an error naming both paths.
pub fn pair(head: &[(&str, &str)], base: &[(&str, &str)]) -> Result<Pairing, String> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (path, id) in head {
        if let Some(first) = seen.insert(id, path) {
            return Err(format!(
                "two manifests have the app id `{id}`: {first} and {path}\n  hint: each app needs its own id; the gate matches an app to its baseline by id"
            ));
        }
    }
    let mut base_of = vec![None; head.len()];
    let mut taken = vec![false; base.len()];
    // (same path, same id) required in each round.
    for (path, id) in [(true, true), (false, true), (true, false)] {
        let round =
            |h: &(&str, &str), b: &(&str, &str)| (!path || h.0 == b.0) && (!id || h.1 == b.1);
        for (i, h) in head.iter().enumerate() {
            if base_of[i].is_some() {
                continue;
            }
            if let Some(j) = (0..base.len()).find(|&j| !taken[j] && round(h, &base[j])) {
                taken[j] = true;
                base_of[i] = Some(j);
            }
        }
    }
    let unclaimed = (0..base.len()).filter(|&j| !taken[j]).collect();
    Ok(Pairing { base_of, unclaimed })
}

/// Paths in `files` matching `glob`, in order.
fn matching<'f>(glob: &Glob, files: &'f [String]) -> impl Iterator<Item = &'f String> {
    files.iter().filter(move |f| glob.matches(f))
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The config's entries expanded in the working tree alone, for runs without a
/// baseline (`check`, `matrix`): `(repository-relative name, file)`, in entry order.
/// Globs match the files git tracks; an entry that matches nothing is an error.
pub(super) fn worktree(config: &Config, root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let repo = Repo::discover(root).ok();
    let globs = config.manifests.iter().any(|m| is_glob(m));
    let tracked = match (&repo, globs) {
        (_, false) => Vec::new(),
        (Some(r), true) => r.tracked_files()?,
        (None, true) => bail!(
            "the manifest globs in {} need a git repository (they match the files git tracks)\n  hint: run inside the repository, or name the manifests on the command line",
            config::PATH
        ),
    };
    let mut names: Vec<String> = Vec::new();
    let mut unmatched = Vec::new();
    for entry in &config.manifests {
        let before = names.len();
        if is_glob(entry) {
            let glob = Glob::new(entry).map_err(|e| anyhow!("`{entry}`: {e}"))?;
            for f in matching(&glob, &tracked) {
                push_unique(&mut names, f.clone());
            }
        } else if root.join(entry).is_file() {
            push_unique(&mut names, entry.clone());
        }
        if names.len() == before {
            unmatched.push(format!("`{entry}`"));
        }
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
        .into_iter()
        .map(|n| {
            let file = root.join(&n);
            (n, file)
        })
        .collect())
}

/// Reads and pairs the manifests. `explicit` are the command-line paths (used as
/// they are); when empty, the config's entries are expanded, and apps the baseline
/// had under them but head does not are reported as removed. Head is the working
/// tree, or `head_commit` (its tree for globs, repository-relative paths as given).
pub(super) fn load(
    explicit: &[PathBuf],
    config: &Config,
    repo: Option<&Repo>,
    root: &Path,
    base: &Base<'_>,
    head_commit: Option<&HeadCommit<'_>>,
) -> Result<Apps> {
    let from_config = explicit.is_empty();
    let shown_of = |p: &Path| match repo {
        Some(r) => r.relative(p).unwrap_or_else(|| p.display().to_string()),
        None => p.display().to_string(),
    };

    // Head: (path shown and matched on, file to read).
    let mut head_paths: Vec<String> = Vec::new();
    let mut head_files: HashMap<String, PathBuf> = HashMap::new();
    // Baseline candidates from the config's entries, and entries that match nothing.
    let mut base_paths: Vec<String> = Vec::new();
    let mut unmatched: Vec<String> = Vec::new();
    // Head files of a commit, read once: a literal entry is looked up by reading it.
    let mut head_read: HashMap<String, Vec<u8>> = HashMap::new();
    if from_config {
        let globs = config.manifests.iter().any(|m| is_glob(m));
        let tracked = match (globs, repo, head_commit) {
            (false, _, _) => Vec::new(),
            (true, _, Some(h)) => h.list()?,
            (true, Some(r), None) => r.tracked_files()?,
            (true, None, None) => bail!(
                "the manifest globs in {} need a git repository (they match the files git tracks)\n  hint: run inside the repository, or name the manifests on the command line",
                config::PATH
            ),
        };
        let base_files = match base {
            Base::Commit(rd) if globs => rd.list()?,
            _ => Vec::new(),
        };
        for entry in &config.manifests {
            let (mut at_head, mut at_base) = (false, false);
            if is_glob(entry) {
                let glob = Glob::new(entry).map_err(|e| anyhow!("`{entry}`: {e}"))?;
                for f in matching(&glob, &tracked) {
                    at_head = true;
                    head_files.insert(f.clone(), root.join(f));
                    push_unique(&mut head_paths, f.clone());
                }
                for f in matching(&glob, &base_files) {
                    at_base = true;
                    push_unique(&mut base_paths, f.clone());
                }
            } else if let Some(h) = head_commit {
                if let Some(b) = h.read(entry)? {
                    at_head = true;
                    head_read.insert(entry.clone(), b);
                    push_unique(&mut head_paths, entry.clone());
                }
                if let Base::Commit(_) = base {
                    push_unique(&mut base_paths, entry.clone());
                    at_base = true;
                }
            } else {
                let file = root.join(entry);
                if file.is_file() {
                    at_head = true;
                    let shown = shown_of(&file);
                    head_files.insert(shown.clone(), file);
                    push_unique(&mut head_paths, shown);
                }
                if let Base::Commit(_) = base {
                    // Whether it exists there is learnt when it is read.
                    push_unique(&mut base_paths, entry.clone());
                    at_base = true;
                }
            }
            if !at_head && !at_base {
                unmatched.push(entry.clone());
            }
        }
    } else if head_commit.is_some() {
        for p in explicit {
            // Repository-relative, as git stores it.
            let shown = p.display().to_string().trim_start_matches("./").to_string();
            push_unique(&mut head_paths, shown);
        }
    } else {
        for p in explicit {
            let shown = shown_of(p);
            head_files.insert(shown.clone(), p.clone());
            push_unique(&mut head_paths, shown);
        }
    }

    // Read both ends. Every head path is also looked up at the same path.
    let mut head_bytes = Vec::new();
    for p in &head_paths {
        if let Some(h) = head_commit {
            let b = match head_read.remove(p) {
                Some(b) => b,
                None => h
                    .read(p)?
                    .with_context(|| format!("{p} does not exist at the head commit"))?,
            };
            head_bytes.push(b);
            continue;
        }
        let file = &head_files[p];
        head_bytes
            .push(read_limited(file).with_context(|| format!("cannot read {}", file.display()))?);
    }
    let mut base_read: Vec<(String, String, Vec<u8>)> = Vec::new(); // (path, label, bytes)
    match base {
        Base::Commit(rd) => {
            let mut wanted = base_paths.clone();
            for p in &head_paths {
                push_unique(&mut wanted, p.clone());
            }
            for p in wanted {
                if let Some(b) = rd.read(&p)? {
                    base_read.push((p.clone(), format!("{}:{p}", rd.name()), b));
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
    // A literal entry missing at head and at the baseline names nothing.
    if let Base::Commit(_) = base {
        for entry in config.manifests.iter().filter(|m| !is_glob(m)) {
            let at_base = base_read.iter().any(|(p, _, _)| p == entry);
            if from_config && !at_base && !head_paths.iter().any(|h| h == entry) {
                unmatched.push(entry.clone());
            }
        }
    }
    if !unmatched.is_empty() {
        let list: Vec<String> = unmatched.iter().map(|u| format!("`{u}`")).collect();
        bail!(
            "{} in {} {} no manifest, at head or at the baseline (globs match the files git tracks)\n  hint: fix the path or pattern, or `git add` the manifest",
            list.join(", "),
            config::PATH,
            if unmatched.len() == 1 {
                "matches"
            } else {
                "match"
            }
        );
    }

    let (heads, bases) = parse_both(&head_paths, &head_bytes, &base_read)?;

    let apps = match base {
        Base::File(_) => {
            let (path, m, text) = bases
                .into_iter()
                .next()
                .context("the baseline file was not read")?;
            heads
                .into_iter()
                .map(|(head, head_text)| App {
                    head,
                    head_text,
                    base: Some((path.clone(), m.clone(), text.clone())),
                })
                .collect()
        }
        _ => {
            let h: Vec<(&str, &str)> = heads
                .iter()
                .map(|(m, _)| (m.path.as_str(), m.id.value.as_str()))
                .collect();
            let b: Vec<(&str, &str)> = bases
                .iter()
                .map(|(p, m, _)| (p.as_str(), m.id.value.as_str()))
                .collect();
            let pairing = pair(&h, &b).map_err(|e| anyhow!(e))?;
            let removed_ids: Vec<usize> = if from_config {
                // A baseline manifest whose id lives on at head (a duplicate id at the
                // baseline) is not a removed app.
                pairing
                    .unclaimed
                    .iter()
                    .copied()
                    .filter(|&j| base_paths.contains(&bases[j].0))
                    .filter(|&j| !h.iter().any(|(_, id)| *id == b[j].1))
                    .collect()
            } else {
                Vec::new()
            };
            let mut bases: Vec<Option<(String, Manifest, String)>> =
                bases.into_iter().map(Some).collect();
            let removed = removed_ids
                .into_iter()
                .filter_map(|j| bases[j].take())
                .map(|(path, mut base, _)| {
                    // Locations name the file, not the `ref:path` label.
                    base.path = path.clone();
                    Removed { path, base }
                })
                .collect();
            let apps = heads
                .into_iter()
                .zip(pairing.base_of)
                .map(|((head, head_text), j)| App {
                    head,
                    head_text,
                    base: j.and_then(|j| bases[j].take()),
                })
                .collect();
            return Ok(Apps { apps, removed });
        }
    };
    Ok(Apps {
        apps,
        removed: Vec::new(),
    })
}

type Parsed = (Vec<(Manifest, String)>, Vec<(String, Manifest, String)>);

/// Parses every head and baseline manifest, each end on its own thread; a baseline
/// file byte-identical to a head file (most of a monorepo's, moved or not) is parsed
/// once. Every problem in every file is reported together.
fn parse_both(
    head_paths: &[String],
    head_bytes: &[Vec<u8>],
    base_read: &[(String, String, Vec<u8>)],
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
    let (heads, bases) = std::thread::scope(|t| {
        let bases = t.spawn(|| {
            base_read
                .iter()
                .filter(|(_, _, b)| !same.contains_key(b.as_slice()))
                .map(|(_, label, b)| (label.as_str(), manifest::from_bytes(label, b)))
                .collect::<Vec<_>>()
        });
        let heads: Vec<_> = head_paths
            .iter()
            .zip(head_bytes)
            .map(|(p, b)| manifest::from_bytes(p, b))
            .collect();
        (
            heads,
            bases
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        )
    });
    let mut errors = Vec::new();
    let heads: Vec<(Manifest, String)> = heads
        .into_iter()
        .zip(head_bytes)
        .filter_map(|(m, b)| m.map_err(|e| errors.push(e)).ok().map(|m| (m, text(b))))
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
                    let mut m = heads[i].0.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn paired(head: &[(&str, &str)], base: &[(&str, &str)]) -> (Vec<Option<usize>>, Vec<usize>) {
        let p = pair(head, base).unwrap();
        (p.base_of, p.unclaimed)
    }

    #[test]
    fn the_same_path_and_id_pairs_first() {
        assert_eq!(
            paired(
                &[("a/x.yaml", "a"), ("b/x.yaml", "b")],
                &[("b/x.yaml", "b"), ("a/x.yaml", "a")]
            ),
            (vec![Some(1), Some(0)], vec![])
        );
    }

    #[test]
    fn a_moved_manifest_is_followed_by_its_id() {
        assert_eq!(
            paired(&[("new/x.yaml", "a")], &[("old/x.yaml", "a")]),
            (vec![Some(0)], vec![])
        );
    }

    #[test]
    fn a_new_app_at_a_moved_apps_old_path_is_new_and_the_move_is_followed() {
        // `a` moved from old/ to new/, and a new app `c` took old/.
        assert_eq!(
            paired(
                &[("old/x.yaml", "c"), ("new/x.yaml", "a")],
                &[("old/x.yaml", "a")]
            ),
            (vec![None, Some(0)], vec![])
        );
    }

    #[test]
    fn an_id_renamed_in_place_keeps_its_old_content_as_the_baseline() {
        assert_eq!(
            paired(&[("x.yaml", "new-id")], &[("x.yaml", "old-id")]),
            (vec![Some(0)], vec![])
        );
    }

    #[test]
    fn a_baseline_app_no_head_manifest_claims_is_unclaimed() {
        assert_eq!(
            paired(
                &[("a.yaml", "a")],
                &[("a.yaml", "a"), ("gone.yaml", "gone")]
            ),
            (vec![Some(0)], vec![1])
        );
    }

    #[test]
    fn two_head_manifests_with_one_id_are_an_error_naming_both() {
        let e = pair(&[("apps/a/x.yaml", "dup"), ("apps/b/x.yaml", "dup")], &[]).unwrap_err();
        assert!(e.contains("`dup`: apps/a/x.yaml and apps/b/x.yaml"), "{e}");
    }
}
