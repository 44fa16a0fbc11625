//! `scopegate gate`: the diff's report, judged: exit 1 on any unapproved escalation
//! (or, with `--advisory`, said and exit 0).

use anyhow::Result;

use super::diff;
use crate::render::Style;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The manifests, the baseline and the format, as `diff` takes them.
    #[command(flatten)]
    report: diff::Args,
    /// Report, never block (the pre-commit hook): findings, and no previous release
    /// to compare with (no tag, only HEAD tagged, a shallow clone), are said and
    /// exit 0. Input that cannot be read still exits 2.
    #[arg(long)]
    advisory: bool,
}

pub(super) fn run(args: Args, style: Style) -> Result<u8> {
    let result = args
        .report
        .request(true)
        .and_then(|req| diff::report_against_baseline(&req, style));
    if !args.advisory {
        return result;
    }
    match result {
        Ok(1) => {
            super::shared::say_err(
                "note: advisory run (--advisory): the findings above would fail the gate in CI; exit 0",
            );
            Ok(0)
        }
        Err(e) if no_previous_release(&e) => {
            super::shared::say_err(&format!(
                "note: advisory run (--advisory): nothing to compare with, so nothing was gated; exit 0\n  why: {e:#}"
            ));
            Ok(0)
        }
        other => other,
    }
}

/// The gate found no previous release to compare with: no matching tag, only HEAD
/// tagged, or a shallow clone.
fn no_previous_release(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<crate::baseline::Error>(),
            Some(
                crate::baseline::Error::NoReleaseTag { .. }
                    | crate::baseline::Error::Shallow { .. }
            )
        )
    })
}
