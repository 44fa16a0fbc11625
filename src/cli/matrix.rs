//! The I/O edge of `scopegate matrix`: read the head manifests, the ledger and the
//! tenant profiles from the working tree, build the matrix, hand it to a renderer.
//!
//! Everything comes from the working tree: the matrix describes the app as it is
//! checked out (a release tag in CI), not a change under review.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::ValueEnum;

use super::gating;
use crate::approval;
use crate::manifest::Manifest;
use crate::matrix::Checkout;
use crate::render::{html, json, matrix as render};

/// Formats the scope matrix can be rendered in.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum MatrixFormat {
    Markdown,
    /// Versioned; `schemas/matrix.schema.json`.
    Json,
    /// RFC 4180, with formula-injection guard.
    Csv,
    /// One self-contained page (no external requests).
    Html,
}

/// The commit the working tree at `root` has checked out, its release tag, and whether
/// any file the matrix read (`manifests`, anything under `.scopegate/`) differs from
/// it or is untracked. Outside git (or before the first commit): no commit.
fn checkout(root: &Path, release_tags: &str, manifests: &[PathBuf]) -> Checkout {
    let Ok(repo) = git2::Repository::discover(root) else {
        return Checkout::default();
    };
    let Some(commit) = repo.head().ok().and_then(|h| h.peel_to_commit().ok()) else {
        return Checkout {
            uncommitted: true,
            ..Checkout::default()
        };
    };
    let id = commit.id();
    let glob = crate::glob::Glob::new(release_tags).ok();
    let mut tags: Vec<String> = repo
        .tag_names(None)
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.ok().flatten().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    tags.retain(|t| {
        glob.as_ref().is_some_and(|g| g.matches(t))
            && repo
                .revparse_single(&format!("refs/tags/{t}"))
                .and_then(|o| o.peel_to_commit())
                .is_ok_and(|c| c.id() == id)
    });
    tags.sort_by_key(|t| crate::baseline::version_of(t));
    let workdir = repo
        .workdir()
        .map(|w| w.canonicalize().unwrap_or(w.to_path_buf()));
    let cwd = std::env::current_dir().unwrap_or_default();
    let read: Vec<String> = manifests
        .iter()
        .filter_map(|p| {
            let abs = if p.is_absolute() {
                p.clone()
            } else {
                cwd.join(p)
            };
            let abs = abs
                .canonicalize()
                .ok()
                .or_else(|| root.join(p).canonicalize().ok())?;
            let rel = abs.strip_prefix(workdir.as_deref()?).ok()?;
            Some(rel.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let uncommitted = repo.statuses(Some(&mut opts)).map_or(true, |st| {
        st.iter()
            .filter_map(|e| e.path().ok().map(str::to_string))
            .any(|p| p.starts_with(".scopegate/") || read.contains(&p))
    });
    Checkout {
        commit: Some(id.to_string()),
        version: tags.pop(),
        uncommitted,
    }
}

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// Manifest files [default: the config's `manifests`, else smart-app.yaml]
    manifests: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = MatrixFormat::Markdown)]
    format: MatrixFormat,
}

/// Prints the scope matrix; exit 0, or an error (exit 2) when an input cannot be read.
pub(super) fn run(args: Args) -> Result<u8> {
    let (config, root) = gating::worktree_config()?;
    // As `check`: the paths given, else the config's entries, else `./smart-app.yaml`.
    let loaded = super::shared::load_worktree(&args.manifests, &config, &root)?;
    let ledger_bytes = super::manifests::Tree::lazy(&root).read(approval::PATH)?;
    let ledger = gating::parse_ledger(approval::PATH, ledger_bytes.as_deref())?;
    let tenants = gating::worktree_tenants(&root)?;
    let refs: Vec<&Manifest> = loaded.iter().collect();
    let mut m = crate::matrix::build(&refs, &ledger, &tenants, &config);
    let read: Vec<PathBuf> = loaded.iter().map(|m| PathBuf::from(&m.path)).collect();
    m.checkout = checkout(&root, &config.release_tags, &read);
    let out = match args.format {
        MatrixFormat::Markdown => render::markdown(&m),
        MatrixFormat::Json => json::render(&m),
        MatrixFormat::Csv => render::csv(&m),
        MatrixFormat::Html => html::render(&m),
    };
    super::shared::print(&out)?;
    Ok(0)
}
