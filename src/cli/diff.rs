//! `scopegate diff`: the semantic authorization diff against the baseline, and the
//! report both `diff` and `gate` print (only the gate turns a failing verdict into
//! exit 1).

use std::path::PathBuf;

use anyhow::Result;
use clap::ValueEnum;

use super::gating;
use crate::manifest::Manifest;
use crate::render::{Style, json, text};
use crate::report::{self, Report};

// No argument group of its own: `gate` flattens these into its `Args`, and two groups
// named after the struct (`Args`) would clash.
#[derive(clap::Args, Debug)]
#[group(skip)]
pub(super) struct Args {
    /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
    manifests: Vec<PathBuf>,
    #[command(flatten)]
    base: gating::BaseArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

/// Formats a gate or diff report can be rendered in.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum ReportFormat {
    Text,
    Json,
    /// For a pull-request comment or the job summary.
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// A plain-language consent delta for release notes and customer notices.
    Notice,
}

/// What `diff` and `gate` were asked, resolved before anything is read.
pub(super) struct Request {
    pub(super) manifests: Vec<PathBuf>,
    pub(super) base: gating::Request,
    pub(super) format: ReportFormat,
    /// The gate: a failing verdict is exit 1 (`diff` exits 0).
    pub(super) gate: bool,
}

impl Args {
    /// The request, resolved before anything is read (a bad `--now` is an error here);
    /// `gate` makes a failing verdict exit 1.
    pub(super) fn request(self, gate: bool) -> Result<Request> {
        Ok(Request {
            manifests: self.manifests,
            base: self.base.resolve()?,
            format: self.format,
            gate,
        })
    }
}

pub(super) fn run(args: Args, style: Style) -> Result<u8> {
    report_against_baseline(&args.request(false)?, style)
}

/// `diff` and `gate`: the same report; only the gate turns a failing verdict into exit 1.
pub(super) fn report_against_baseline(req: &Request, style: Style) -> Result<u8> {
    let mut loaded = gating::load(&req.manifests, &req.base, None)?;
    let g = loaded.gate(&loaded.judge(None, false));
    if req.format == ReportFormat::Notice {
        // The notice quotes workflow descriptions and rationales from the head manifests.
        let heads: Vec<&Manifest> = loaded.apps.iter().map(|a| &*a.head).collect();
        let notice = crate::notice::build(&g.report, &heads);
        super::shared::print(&crate::render::notice::render(&notice))?;
    } else if matches!(req.format, ReportFormat::Json) {
        super::shared::print_json(&g.report)?;
    } else {
        super::shared::print(&render_gate(&g.report, req.format, style))?;
    }
    let fails = g.report.verdict == Some(report::Verdict::Fail);
    // A gated path that is there but unreadable, with its removal unapproved: the
    // report is shown, but the gate could not judge the app.
    let cannot = crate::gate::cannot_judge(&loaded.removed, &g.report);
    for m in &cannot {
        super::shared::say_err(&format!("error: {m}"));
    }
    // The process exits next, and the OS takes the memory back at once: freeing the
    // parsed manifests and the report one allocation at a time (about 10^5 of them for
    // a large manifest) would cost a CI run more than rendering the report.
    std::mem::forget(loaded);
    std::mem::forget(g);
    if !cannot.is_empty() {
        return Ok(2);
    }
    Ok(u8::from(req.gate && fails))
}

fn render_gate(r: &Report, format: ReportFormat, style: Style) -> String {
    match format {
        ReportFormat::Text => text::gate(r, style),
        ReportFormat::Json => json::render(r),
        ReportFormat::Markdown => crate::render::markdown::render(r, None),
        ReportFormat::Sarif => crate::render::sarif::render(r),
        ReportFormat::Github => crate::render::annotations::render(r),
        ReportFormat::Notice => {
            let notice = crate::notice::build(r, &[]);
            crate::render::notice::render(&notice)
        }
    }
}
