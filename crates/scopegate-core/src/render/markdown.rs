//! Markdown for the pull-request comment and the job summary: the verdict first,
//! then escalations, reductions, workflow changes, findings, the manifest diff and
//! how to approve.
//!
//! Owns the escaping of user text (app and workflow ids, descriptions that quote
//! rationales, paths, messages, approver names, text diffs) so that none of it can
//! inject HTML, `@mentions`, links, images or the hidden marker the comment updater
//! searches for, and the size limit (GitHub rejects comments over 65,536 characters).
//! It must not decide anything: every count, state and verdict comes from the
//! [`Report`].
//!
//! This file lays the comment out and renders the heading, findings, manifest diff
//! and approval how-to. The other sections and concerns live beside it: `escape`
//! (user text), `truncation` (fitting the size limit), `tenant` (the tenant matrix),
//! `app` (one section per app in a monorepo) and `change` (the escalation, reduction
//! and workflow-change tables).

use crate::report::{Finding, Report, Verdict};

/// GitHub's limit on an issue or pull-request comment body, in characters.
pub(crate) const MAX_CHARS: usize = 65_536;

mod escape;
pub(crate) use escape::{code, prose, text};
use escape::{longest_run, neutral_block};

mod app;
mod change;
mod tenant;
mod truncation;

use app::{by_app, new_apps};
use change::{escalations, ranked, reductions, workflow_changes};
use tenant::tenant_matrix;
pub(crate) use truncation::render_limited;
pub use truncation::render_limited_bytes;
use truncation::{Cut, truncation_note};

/// The report as Markdown, at most `MAX_CHARS` characters. `marker`, when given,
/// is emitted verbatim as the first line (the caller guarantees it is a safe HTML
/// comment).
pub fn render(r: &Report, marker: Option<&str>) -> String {
    render_limited(r, marker, MAX_CHARS)
}

/// The report laid out under `cut`. Once the text is over four bytes per allowed
/// character it cannot fit whatever follows, so the sections stop adding to it: a
/// cut that cannot fit costs about the limit, not the report's size.
fn compose(r: &Report, marker: Option<&str>, cut: Cut, max_chars: usize) -> String {
    let budget = max_chars.saturating_mul(4);
    let mut out = String::new();
    if let Some(m) = marker {
        out.push_str(m);
        out.push('\n');
    }
    out.push_str(&heading(r));
    if cut.any() {
        out.push_str(&truncation_note(r, cut, max_chars));
    }
    tenant_matrix(&mut out, r, !cut.tenants);
    // Said once, under the first escalations table shown.
    let mut legend = super::risk_legend(
        r.changes
            .iter()
            .filter(|c| c.direction == crate::report::Direction::Escalation)
            .map(|c| c.severity),
    );
    if r.apps.len() > 1 {
        by_app(&mut out, r, cut, budget, &mut legend);
    } else {
        new_apps(&mut out, r);
        let rows = ranked(r);
        escalations(
            &mut out,
            &rows,
            cut.escalations,
            "####",
            budget,
            &mut legend,
        );
        if !cut.reductions {
            reductions(&mut out, &rows, "####", budget);
        }
        if !cut.workflow {
            workflow_changes(&mut out, &rows, "####", budget);
        }
    }
    if !cut.findings {
        findings(&mut out, r, budget);
    }
    if !cut.diff {
        manifest_diff(&mut out, r, budget);
    }
    how_to_approve(&mut out, r);
    // Code spans keep user text literally: the shared guard (before the size is
    // measured) keeps a `##[` or a line start from commanding a runner's log.
    super::safe::guard(out)
}

// ---- sections ------------------------------------------------------------------

fn heading(r: &Report) -> String {
    let s = &r.summary;
    let (verdict, tail) = match r.verdict {
        // Reasons quote tenant names and thresholds in backticks: code spans, not
        // literal backticks.
        Some(Verdict::Fail) => (
            "❌ FAIL",
            r.reasons.iter().map(|x| prose(x, false)).collect(),
        ),
        Some(Verdict::Pass) => {
            let mut parts = Vec::new();
            if s.escalations > 0 {
                parts.push(plural(s.escalations, "escalation"));
            }
            if s.reductions > 0 {
                parts.push(plural(s.reductions, "reduction"));
            }
            ("✅ PASS", parts)
        }
        Some(Verdict::NoChange) => ("NO CHANGE", Vec::new()),
        None => ("report", Vec::new()),
    };
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(" — {}", tail.join(", "))
    };
    let mut out = format!("### scopegate: {verdict}{tail}\n\n");
    out.push_str(&format!(
        "{} ({} unapproved) · {} · {} · {}, {}, {} · {} checked\n",
        plural(s.escalations, "escalation"),
        thousands(s.unapproved),
        plural(s.reductions, "reduction"),
        plural(s.workflow_changes, "workflow change"),
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
        plural(s.manifests, "manifest"),
    ));
    if let Some(b) = &r.baseline {
        out.push_str(&format!("\nBaseline: {}", text(&b.source)));
        if let Some(n) = &b.name {
            out.push_str(&format!(", {}", code(n, false)));
        }
        if let Some(c) = &b.commit {
            let short: String = c.chars().take(12).collect();
            out.push_str(&format!(" at {}", text(&short)));
        }
        out.push('\n');
    }
    if r.advisory {
        out.push_str(
            "\n> [!WARNING]\n> **Advisory:** the config and approvals were read from the working tree, \
             not from the baseline, so this verdict is advisory.\n",
        );
    }
    out
}

fn findings(out: &mut String, r: &Report, budget: usize) {
    if r.findings.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n#### Findings ({})\n\n| severity | rule | location | message |\n|---|---|---|---|\n",
        thousands(r.findings.len())
    ));
    for f in &r.findings {
        if out.len() > budget {
            return;
        }
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            f.severity.as_str(),
            text(f.rule.as_str()),
            place_col(f),
            message(f),
        ));
    }
    if let Some(l) = super::severity_legend(r.findings.iter().map(|f| f.severity)) {
        out.push_str(&format!("\n<sub>{l}</sub>\n"));
    }
}

fn message(f: &Finding) -> String {
    match &f.hint {
        Some(h) => format!("{}<br>hint: {}", prose(&f.message, true), prose(h, true)),
        None => prose(&f.message, true),
    }
}

fn manifest_diff(out: &mut String, r: &Report, budget: usize) {
    let apps: Vec<_> = r.apps.iter().filter(|a| !a.text_diff.is_empty()).collect();
    if apps.is_empty() {
        return;
    }
    out.push_str("\n<details><summary>Manifest diff</summary>\n");
    for a in apps {
        if out.len() > budget {
            return;
        }
        let body = neutral_block(&a.text_diff);
        // CommonMark: a fence closes only on a run at least as long as the opener.
        let fence = "`".repeat((longest_run(&body, '`') + 1).max(3));
        out.push_str(&format!(
            "\nManifest {} ({}):\n\n{fence}diff\n{body}",
            code(&a.app, false),
            text(&a.path),
        ));
        if !body.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&fence);
        out.push('\n');
    }
    out.push_str("\n</details>\n");
}

fn how_to_approve(out: &mut String, r: &Report) {
    let n = r.summary.unapproved;
    if n == 0 {
        return;
    }
    // The keys are not pasted into the command: they are user text, and a reviewer
    // would run it in a shell.
    let keys = if n == 1 { "" } else { " [--key <key> …]" };
    out.push_str(&format!(
        "\n#### How to approve\n\nA release manager records the approval in `.scopegate/approvals.yaml` with:\n\n\
         ```sh\nscopegate approve --by <you> --ticket <ticket>{keys}\n```\n"
    ));
}

// ---- cells ---------------------------------------------------------------------

fn place_col(f: &Finding) -> String {
    format!(
        "{}:{}:{}",
        text(&f.location.file),
        f.location.line,
        f.location.column
    )
}

/// [`crate::words::plural`], with thousands separators.
fn plural(n: usize, word: &str) -> String {
    crate::words::plural_shown(n == 1, thousands(n), word)
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests;
