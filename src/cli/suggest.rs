//! `scopegate suggest`: the minimal scope set that covers a manifest's workflows,
//! and the working tree's tenants whose EHR lacks the syntax suggested.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::gating;
use super::shared::{AlgebraArgs, Format, load_all};
use crate::render::{Style, json, text};
use crate::syntax::{self, Syntax};

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// Manifest file [default: smart-app.yaml]
    manifest: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// SMART syntax of the suggestion: v1 (`.read`, `.write`) or v2 (`.rs`, `.cu`).
    /// Default: the manifest's own (v1 when all its resource scopes are v1).
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
    #[command(flatten)]
    algebra: AlgebraArgs,
}

/// `--syntax`: the core's [`Syntax`], as clap parses it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum SyntaxArg {
    /// SMART App Launch 1.0: `.read`, `.write`, `.*`.
    V1,
    /// SMART App Launch 2.x: `.cruds` letters, restrictions.
    V2,
}

impl SyntaxArg {
    fn syntax(self) -> Syntax {
        match self {
            SyntaxArg::V1 => Syntax::V1,
            SyntaxArg::V2 => Syntax::V2,
        }
    }
}

pub(super) fn run(args: Args, style: Style) -> Result<u8> {
    let paths: Vec<PathBuf> = args.manifest.into_iter().collect();
    let loaded = load_all(&paths)?;
    let syntax = args
        .syntax
        .map(SyntaxArg::syntax)
        .unwrap_or_else(|| syntax::detect(&loaded[0]));
    let mut s = crate::suggest::suggest_in(&loaded[0], args.algebra.options(), syntax);
    // The working tree's tenants whose EHR snapshot lacks this syntax.
    let tenants = gating::worktree_tenants(Path::new("."))?;
    s.tenants_lacking = syntax::lacking(
        tenants.iter().map(|t| {
            (
                t.profile.name.as_str(),
                t.ehr.as_ref().and_then(|e| e.capabilities.as_ref()),
            )
        }),
        syntax.capability(),
    );
    match args.format {
        Format::Text => super::shared::print(&text::suggestion(&s, style))?,
        Format::Json => super::shared::print(&json::render(&s))?,
    }
    Ok(0)
}
