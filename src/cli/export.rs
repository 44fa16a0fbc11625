//! The I/O edge of `scopegate matrix`: read the head manifests, the ledger and the
//! tenant profiles from the working tree, build the matrix, hand it to a renderer.
//!
//! Everything comes from the working tree: the matrix describes the app as it is
//! checked out (a release tag in CI), not a change under review.

use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;

use super::gating;
use crate::approval;
use crate::manifest::Manifest;
use crate::render::{html, json, matrix as render};

/// Formats the scope matrix can be rendered in.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum MatrixFormat {
    Markdown,
    /// Versioned; `schemas/matrix.schema.json`.
    Json,
    /// RFC 4180, with formula-injection guard.
    Csv,
    /// One self-contained page (no external requests).
    Html,
}

/// Prints the scope matrix; exit 0, or an error (exit 2) when an input cannot be read.
pub fn matrix(manifests: &[PathBuf], format: MatrixFormat) -> Result<u8> {
    let (config, root) = gating::worktree_config()?;
    // As `check`: the paths given, else the config's entries, else `./smart-app.yaml`.
    let loaded = super::load_worktree(manifests, &config, &root)?;
    let ledger_bytes = gating::read_opt(&root.join(approval::PATH))?;
    let ledger = gating::parse_ledger(approval::PATH, ledger_bytes.as_deref())?;
    let tenants = gating::worktree_tenants(&root)?;
    let refs: Vec<&Manifest> = loaded.iter().collect();
    let m = crate::matrix::build(&refs, &ledger, &tenants, &config);
    let out = match format {
        MatrixFormat::Markdown => render::markdown(&m),
        MatrixFormat::Json => json::render(&m),
        MatrixFormat::Csv => render::csv(&m),
        MatrixFormat::Html => html::render(&m),
    };
    print!("{out}");
    Ok(0)
}
