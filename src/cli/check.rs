//! `scopegate check`: lint the working tree's manifests (and judge them with its
//! tenant profiles). Exit 1 on findings at or above `--fail-on`.

use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;

use super::gating;
use super::shared::{AlgebraArgs, Format, load_worktree};
use crate::manifest::Manifest;
use crate::render::{Style, text};
use crate::report::Report;
use crate::rules::Severity;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// Manifest files [default: the `manifests:` of .scopegate/config.yaml when there is
    /// one, else smart-app.yaml]
    manifests: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
    #[command(flatten)]
    algebra: AlgebraArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

/// What `check` was asked, resolved before anything is read.
struct Request {
    manifests: Vec<PathBuf>,
    format: Format,
    /// The lowest severity that fails; `None` never fails.
    threshold: Option<Severity>,
    user_covers_patient: bool,
}

impl Args {
    fn resolve(self) -> Request {
        Request {
            manifests: self.manifests,
            format: self.format,
            threshold: match self.fail_on {
                FailOn::Error => Some(Severity::Error),
                FailOn::Warning => Some(Severity::Warning),
                FailOn::Note => Some(Severity::Note),
                FailOn::Never => None,
            },
            user_covers_patient: self.algebra.user_covers_patient,
        }
    }
}

pub(super) fn run(args: Args, style: Style) -> Result<u8> {
    let req = args.resolve();
    // Locally the working tree's config applies (there is no baseline to judge
    // with): its manifest list, severities and level option.
    let (config, root) = gating::worktree_config()?;
    let loaded = load_worktree(&req.manifests, &config, &root)?;
    let mut options = config.options;
    options.user_covers_patient |= req.user_covers_patient;
    let findings = loaded
        .iter()
        .flat_map(|m| crate::lint::check_on_two_cores(m, options))
        .map(|mut f| {
            f.severity = config.severity_of(f.rule);
            f
        })
        .collect();
    let mut report = Report::new(loaded.len(), findings);
    // Tenant profiles in the working tree judge the manifests too; there is no
    // diff here, so the approvals column is not checked.
    let tenants = gating::worktree_tenants(&root)?;
    if !tenants.is_empty() {
        let refs: Vec<&Manifest> = loaded.iter().collect();
        let (rows, extra) = crate::tenant::matrix(&tenants, &refs, &config, |_| None);
        let mut findings = report.findings;
        findings.extend(extra);
        report = Report::new(loaded.len(), findings);
        report.tenant_mode = Some(config.tenant_mode);
        report.tenants = rows;
    }
    match req.format {
        Format::Text => super::shared::print(&text::report(&report, style))?,
        Format::Json => super::shared::print_json(&report)?,
    }
    // The same verdict as the gate's lint and tenant parts, at `--fail-on`.
    let lint_fails = crate::gate::failing_lint(&report.findings, req.threshold) > 0;
    let blocked = req.threshold.is_some()
        && !crate::gate::enforced_blocks(config.tenant_mode, &report.tenants).is_empty();
    // The process exits next and the OS takes the memory back at once (as in `gate`):
    // freeing a large report and its manifests one allocation at a time costs more.
    std::mem::forget(report);
    std::mem::forget(loaded);
    Ok(u8::from(lint_fails || blocked))
}
