//! The command line: parse arguments, read files, call the pure stages, print.
//!
//! The only module that reads the filesystem and environment and writes to
//! stdout/stderr (with `render`), through `shared::print` and `shared::say_err` only:
//! `print!` and `eprintln!` panic when a write fails, and clippy's print lints keep
//! them out. Exit codes: 0 pass, 1 findings, 2 could not run.
//!
//! One module per command, each with its own `Args` and a `run`; this file is the
//! table of contents: the command list and the dispatch. What several commands share
//! (loading manifests, formats, the algebra flag) is in `shared`; reading both ends of
//! a gate run is `gating` and `manifests`, the GitHub flags `api`.

mod api;
mod approve;
mod check;
mod ci;
mod comment;
mod diff;
mod early;
mod explain;
mod gate;
mod gating;
mod init;
mod manifests;
mod matrix;
mod rules;
mod schema;
mod shared;
mod suggest;
mod usage;

use std::io::IsTerminal;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};

use crate::render::Style;

/// The manifest `check` and `suggest` read when none is named.
pub use crate::config::DEFAULT_MANIFEST;
pub(crate) use shared::{LoadErrors, read_limited};

#[derive(Parser, Debug)]
#[command(
    name = "scopegate",
    version,
    about = "Keeps SMART-on-FHIR apps at least privilege.",
    long_about = "Keeps SMART-on-FHIR apps at least privilege: lints scope manifests against their workflows.\n\nExit codes: 0 pass, 1 findings, 2 could not run."
)]
struct Cli {
    /// When to use colour (NO_COLOR turns it off in `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint manifests: every scope serves a workflow, every need is granted.
    Check(check::Args),
    /// Show the semantic authorization diff against the baseline (exit 0 or 2).
    Diff(diff::Args),
    /// The CI gate: diff + approvals + lint; exit 1 on any unapproved escalation.
    Gate(gate::Args),
    /// Append an approval for the current unapproved escalations (or the keys given)
    /// to .scopegate/approvals.yaml.
    Approve(approve::Args),
    /// The GitHub Actions entry point: gate, verify approvals, comment, summary, outputs.
    Ci(ci::Args),
    /// Post a report from `scopegate ci` as the sticky PR comment (fork-safe split).
    Comment(comment::Args),
    /// Explain what each scope token grants.
    Explain(explain::Args),
    /// Requested vs granted vs used: compare audit events, access logs and granted
    /// scopes with the manifest (unused scopes, over-grants, out-of-manifest use, drift).
    Usage(usage::Args),
    /// Print the minimal scope set that covers the manifest's workflows.
    Suggest(suggest::Args),
    /// Print a manifest skeleton for an existing scope string.
    Init(init::Args),
    /// List the rule catalogue.
    Rules(rules::Args),
    /// Export the scope matrix: one row per scope, with its rationale, workflows,
    /// risk, approval history and tenant verdicts.
    Matrix(matrix::Args),
    /// Print a JSON Schema.
    Schema(schema::Args),
}

/// Runs the CLI and returns the process exit code.
pub fn run() -> u8 {
    scopegate_core::threads::place_threads(early::PLACEMENT);
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let style = Style {
        color: match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        },
    };
    match execute(cli.command, style) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote input (a bad key, a YAML snippet): the same guard as any
            // report keeps a quoted line from commanding a CI runner.
            let msg = match e.downcast_ref::<LoadErrors>() {
                Some(errs) => errs.to_string(),
                None => format!("error: {e:#}"),
            };
            shared::say_err(&msg);
            2
        }
    }
}

/// Hands each command to its module.
fn execute(command: Command, style: Style) -> Result<u8> {
    match command {
        Command::Check(args) => check::run(args, style),
        Command::Diff(args) => diff::run(args, style),
        Command::Gate(args) => gate::run(args, style),
        Command::Approve(args) => approve::run(args),
        Command::Ci(args) => ci::run(&args),
        Command::Comment(args) => comment::run(&args),
        Command::Explain(args) => explain::run(args, style),
        Command::Usage(args) => usage::run(&args, style),
        Command::Suggest(args) => suggest::run(args, style),
        Command::Init(args) => init::run(args),
        Command::Rules(args) => rules::run(args, style),
        Command::Matrix(args) => matrix::run(args),
        Command::Schema(args) => schema::run(args),
    }
}
