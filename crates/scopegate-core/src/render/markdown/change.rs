//! The change tables: escalations (with their justification and approval), reductions
//! and workflow changes, for one app or all, and the cells they are made of.
//!
//! Part of the Markdown renderer. Rows come in the report's order (the most severe
//! escalations first); it must not re-sort, re-rate or re-judge a change.

use crate::report::{Approval, ApprovalState, Change, Direction, Report};
use crate::rules::Severity;

use super::{code, plural, prose, text, thousands};

/// A change with its rank among all the report's escalations (`usize::MAX` for
/// other directions): a cut keeps the escalations ranked below its limit.
pub(super) type Ranked<'r> = (usize, &'r Change);

/// Every change of the report in order, ranked: built once per rendering, so that
/// no section scans the whole report again (a report with tens of thousands of apps
/// would be quadratic).
pub(super) fn ranked(r: &Report) -> Vec<Ranked<'_>> {
    let mut rank = 0;
    r.changes
        .iter()
        .map(|c| {
            if c.direction == Direction::Escalation {
                rank += 1;
                (rank - 1, c)
            } else {
                (usize::MAX, c)
            }
        })
        .collect()
}

/// Escalation rows among `rows` (one app's changes, or all). `limit` keeps the most
/// severe rows of the whole report (by rank), so a cut never keeps a low-risk row of
/// one app over a high-risk row of another.
///
/// Rendering stops once `out` is over `budget` bytes: the text can no longer fit,
/// and its caller drops it for a shorter cut.
pub(super) fn escalations(
    out: &mut String,
    rows: &[Ranked<'_>],
    limit: Option<usize>,
    h: &str,
    budget: usize,
    legend: &mut Option<String>,
) {
    let all: Vec<Ranked<'_>> = rows
        .iter()
        .copied()
        .filter(|(_, c)| c.direction == Direction::Escalation)
        .collect();
    if all.is_empty() {
        return;
    }
    out.push_str(&format!("\n{h} Escalations ({})\n\n", thousands(all.len())));
    let kept = limit.unwrap_or(usize::MAX);
    let rows: Vec<&Change> = all
        .iter()
        .filter(|(rank, _)| *rank < kept)
        .map(|(_, c)| *c)
        .collect();
    let shown = rows.len();
    if shown > 0 {
        out.push_str("| risk | change | justification | approval | key |\n|---|---|---|---|---|\n");
    }
    for c in rows {
        if out.len() > budget {
            return;
        }
        let justification = if crate::diff::is_identity_change(c.rule) {
            "identity change".to_string()
        } else if c.workflows.is_empty() {
            "⚠️ no workflow needs it".to_string()
        } else {
            c.workflows
                .iter()
                .map(|w| code(w, true))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let origin = match c.new_in_pr {
            Some(true) => " · 🆕 in this PR",
            Some(false) => " · merged earlier, since the release",
            None => "",
        };
        out.push_str(&format!(
            "| {} | {}<br><sub>{} · {}{origin}</sub> | {} | {} | {} |\n",
            risk(c.severity),
            prose(&c.description, true),
            rules_of(c),
            place(&c.location.file, c.location.line),
            justification,
            approval(&c.approval),
            code(&c.key, true),
        ));
    }
    if shown < all.len() {
        out.push_str(&format!(
            "\n…and {} more, left out to fit the size limit.\n",
            plural(all.len() - shown, "escalation")
        ));
    }
    if shown > 0
        && let Some(l) = legend.take()
    {
        out.push_str(&format!("\n<sub>{l}</sub>\n"));
    }
}

/// The changes among `rows` in direction `d`.
pub(super) fn of<'r>(rows: &[Ranked<'r>], d: Direction) -> Vec<&'r Change> {
    rows.iter()
        .filter(|(_, c)| c.direction == d)
        .map(|(_, c)| *c)
        .collect()
}

/// Stops once `out` is over `budget` bytes, as [`escalations`].
pub(super) fn reductions(out: &mut String, rows: &[Ranked<'_>], h: &str, budget: usize) {
    let cs = of(rows, Direction::Reduction);
    if cs.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n{h} Reductions ({})\n\n| change | key |\n|---|---|\n",
        thousands(cs.len())
    ));
    for c in cs {
        if out.len() > budget {
            return;
        }
        out.push_str(&format!(
            "| {}<br><sub>{} · {}</sub> | {} |\n",
            prose(&c.description, true),
            rules_of(c),
            place(&c.location.file, c.location.line),
            code(&c.key, true),
        ));
    }
}

/// Stops once `out` is over `budget` bytes, as [`escalations`].
pub(super) fn workflow_changes(out: &mut String, rows: &[Ranked<'_>], h: &str, budget: usize) {
    let cs = of(rows, Direction::Workflow);
    if cs.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n{h} Workflow changes ({})\n\n| change | rule | location |\n|---|---|---|\n",
        thousands(cs.len())
    ));
    for c in cs {
        if out.len() > budget {
            return;
        }
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            prose(&c.description, true),
            rules_of(c),
            place(&c.location.file, c.location.line),
        ));
    }
}

// ---- cells ---------------------------------------------------------------------

fn risk(s: Severity) -> String {
    match s {
        Severity::Error => format!("**{}**", s.risk()),
        _ => s.risk().to_string(),
    }
}

fn approval(a: &Approval) -> String {
    let who = a.by.as_deref().map_or_else(|| "?".to_string(), text);
    let ticket = a
        .ticket
        .as_deref()
        .map(|t| format!(" ({})", text(t)))
        .unwrap_or_default();
    let added = a.provenance();
    match a.state {
        ApprovalState::Approved => format!("✅ approved by {who}{ticket}{added}"),
        ApprovalState::Unapproved => "❌ **UNAPPROVED**".to_string(),
        ApprovalState::Expired => format!("⌛ **EXPIRED**: approved by {who}{ticket}"),
        ApprovalState::Pending => format!(
            "⏳ **PENDING**: ledger entry by {who}{ticket}; {}",
            prose(
                a.reason.as_deref().unwrap_or("needs a qualifying review"),
                true
            )
        ),
        ApprovalState::NotRequired => "—".to_string(),
    }
}

fn rules_of(c: &Change) -> String {
    let mut s = text(c.rule.as_str());
    if !c.also.is_empty() {
        let also: Vec<String> = c.also.iter().map(|a| text(a.as_str())).collect();
        s.push_str(&format!(", also {}", also.join(", ")));
    }
    s
}

fn place(file: &str, line: u32) -> String {
    format!("{}:{line}", text(file))
}
