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

use crate::report::{
    AppReport, Approval, ApprovalState, Change, Direction, Finding, Report, Verdict,
};
use crate::rules::Severity;

/// GitHub's limit on an issue or pull-request comment body, in characters.
pub const MAX_CHARS: usize = 65_536;

#[path = "markdown_escape.rs"]
mod escape;
pub(crate) use escape::{code, prose, text};
use escape::{longest_run, neutral_block};

/// The report as Markdown, at most [`MAX_CHARS`] characters. `marker`, when given,
/// is emitted verbatim as the first line (the caller guarantees it is a safe HTML
/// comment).
pub fn render(r: &Report, marker: Option<&str>) -> String {
    render_limited(r, marker, MAX_CHARS)
}

/// The report as Markdown, at most `max_chars` characters (not bytes). Detail is
/// dropped in this order until it fits: the text diff, the list of apps without
/// changes, workflow changes, reductions, findings, then escalation rows past the
/// most severe; a note says what was left out.
pub fn render_limited(r: &Report, marker: Option<&str>, max_chars: usize) -> String {
    let fits = |s: &String| s.chars().count() <= max_chars;
    let mut cut = Cut::default();
    let steps: [fn(&mut Cut); 6] = [
        |_| {},
        |c| c.diff = true,
        |c| c.unchanged = true,
        |c| c.workflow = true,
        |c| c.reductions = true,
        |c| c.findings = true,
    ];
    for step in steps {
        step(&mut cut);
        let out = compose(r, marker, cut, max_chars);
        if fits(&out) {
            return out;
        }
    }
    // Keep as many escalation rows as fit: the most severe come first.
    let total = count(r, Direction::Escalation);
    let with = |n: usize| {
        compose(
            r,
            marker,
            Cut {
                escalations: Some(n),
                ..cut
            },
            max_chars,
        )
    };
    let (mut lo, mut hi) = (0, total);
    let mut best = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        let out = with(mid);
        if fits(&out) {
            best = Some(out);
            lo = mid + 1;
        } else if mid == 0 {
            break;
        } else {
            hi = mid - 1;
        }
    }
    best.unwrap_or_else(|| last_resort(r, marker, max_chars))
}

/// What to leave out to fit the size limit.
#[derive(Clone, Copy, Debug, Default)]
struct Cut {
    diff: bool,
    /// The names of the apps without changes (their count stays).
    unchanged: bool,
    workflow: bool,
    reductions: bool,
    findings: bool,
    /// Show only this many escalation rows.
    escalations: Option<usize>,
}

impl Cut {
    fn any(self) -> bool {
        self.diff
            || self.unchanged
            || self.workflow
            || self.reductions
            || self.findings
            || self.escalations.is_some()
    }
}

fn count(r: &Report, d: Direction) -> usize {
    r.changes.iter().filter(|c| c.direction == d).count()
}

fn compose(r: &Report, marker: Option<&str>, cut: Cut, max_chars: usize) -> String {
    let mut out = String::new();
    if let Some(m) = marker {
        out.push_str(m);
        out.push('\n');
    }
    out.push_str(&heading(r));
    if cut.any() {
        out.push_str(&truncation_note(r, cut, max_chars));
    }
    tenant_matrix(&mut out, r);
    if r.apps.len() > 1 {
        by_app(&mut out, r, cut);
    } else {
        new_apps(&mut out, r);
        escalations(&mut out, r, None, cut.escalations, "####");
        if !cut.reductions {
            reductions(&mut out, r, None, "####");
        }
        if !cut.workflow {
            workflow_changes(&mut out, r, None, "####");
        }
    }
    if !cut.findings {
        findings(&mut out, r);
    }
    if !cut.diff {
        manifest_diff(&mut out, r);
    }
    how_to_approve(&mut out, r);
    out
}

/// Everything else failed to fit (a tiny bound, or a huge marker or heading): whole
/// lines of the heading and the note, then a hard cut.
fn last_resort(r: &Report, marker: Option<&str>, max_chars: usize) -> String {
    let mut out = String::new();
    if let Some(m) = marker {
        out.push_str(m);
        out.push('\n');
    }
    out.push_str(&heading(r));
    let all = Cut {
        diff: true,
        unchanged: true,
        workflow: true,
        reductions: true,
        findings: true,
        escalations: Some(0),
    };
    out.push_str(&truncation_note(r, all, max_chars));
    let mut kept = String::new();
    let mut n = 0;
    for line in out.split_inclusive('\n') {
        let len = line.chars().count();
        if n + len > max_chars {
            break;
        }
        kept.push_str(line);
        n += len;
    }
    if kept.is_empty() {
        kept = out.chars().take(max_chars).collect();
    }
    kept
}

// ---- sections ------------------------------------------------------------------

fn heading(r: &Report) -> String {
    let s = &r.summary;
    let (verdict, tail) = match r.verdict {
        Some(Verdict::Fail) => ("❌ FAIL", r.reasons.iter().map(|x| text(x)).collect()),
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

fn truncation_note(r: &Report, cut: Cut, max_chars: usize) -> String {
    let mut left_out = Vec::new();
    let has_diff = r.apps.iter().any(|a| !a.text_diff.is_empty());
    if cut.diff && has_diff {
        left_out.push("the manifest diff".to_string());
    }
    let quiet = unchanged_apps(r).len();
    if cut.unchanged && quiet > 0 && r.apps.len() > 1 {
        left_out.push(format!(
            "the names of {} without changes",
            plural(quiet, "app")
        ));
    }
    let n = count(r, Direction::Workflow);
    if cut.workflow && n > 0 {
        left_out.push(plural(n, "workflow change"));
    }
    let n = count(r, Direction::Reduction);
    if cut.reductions && n > 0 {
        left_out.push(plural(n, "reduction"));
    }
    if cut.findings && !r.findings.is_empty() {
        left_out.push(plural(r.findings.len(), "finding"));
    }
    let total = count(r, Direction::Escalation);
    if let Some(shown) = cut.escalations
        && shown < total
    {
        left_out.push(format!(
            "{} of {}",
            thousands(total - shown),
            plural(total, "escalation")
        ));
    }
    let what = match left_out.len() {
        0 => "some detail".to_string(),
        1 => left_out.remove(0),
        _ => {
            let last = left_out.pop().unwrap_or_default();
            format!("{} and {last}", left_out.join(", "))
        }
    };
    format!(
        "\n> [!NOTE]\n> Truncated to fit the {}-character limit: left out {what}. \
         The full report is in the JSON output (`--format json`) and the job artifacts.\n",
        thousands(max_chars)
    )
}

fn new_apps(out: &mut String, r: &Report) {
    for a in r.apps.iter().filter(|a| a.new_app) {
        out.push_str(&format!(
            "\nNew app {} ({}): everything it requests is an addition.\n",
            code(&a.app, false),
            text(&a.path)
        ));
    }
}

/// Apps with no change of any kind, and nothing special about their place.
fn unchanged_apps(r: &Report) -> Vec<&AppReport> {
    r.apps
        .iter()
        .filter(|a| {
            !a.new_app && !a.removed_app && !a.moved() && !r.changes.iter().any(|c| c.app == a.app)
        })
        .collect()
}

/// Many apps: one section per app with changes (or that moved, appeared or went),
/// then the apps without changes collapsed into one list. Under a cut, an app whose
/// rows were all left out gets no section (the note counts what is missing).
fn by_app(out: &mut String, r: &Report, cut: Cut) {
    let quiet = unchanged_apps(r);
    for a in r
        .apps
        .iter()
        .filter(|a| !quiet.iter().any(|q| q.app == a.app))
    {
        let mut body = String::new();
        escalations(&mut body, r, Some(&a.app), cut.escalations, "#####");
        if !cut.reductions {
            reductions(&mut body, r, Some(&a.app), "#####");
        }
        if !cut.workflow {
            workflow_changes(&mut body, r, Some(&a.app), "#####");
        }
        let kept = cut.escalations.map_or(usize::MAX, |n| n);
        let shows_rows = r
            .changes
            .iter()
            .filter(|c| c.direction == Direction::Escalation)
            .take(kept)
            .any(|c| c.app == a.app)
            || (!cut.reductions && !of_app(r, Direction::Reduction, Some(&a.app)).is_empty())
            || (!cut.workflow && !of_app(r, Direction::Workflow, Some(&a.app)).is_empty());
        if cut.any() && !shows_rows {
            continue;
        }
        let place = if a.new_app {
            format!(
                "{}, new: everything it requests is an addition",
                text(&a.path)
            )
        } else if a.removed_app {
            format!(
                "{}, removed: no manifest with this id at head",
                text(&a.path)
            )
        } else if a.moved() {
            format!(
                "{}, moved from {}",
                text(&a.path),
                text(a.baseline_path.as_deref().unwrap_or_default())
            )
        } else {
            text(&a.path)
        };
        out.push_str(&format!("\n#### App {} ({place})\n", code(&a.app, false)));
        if body.is_empty() {
            out.push_str("\nNo access or workflow change.\n");
        }
        out.push_str(&body);
    }
    if quiet.is_empty() {
        return;
    }
    let title = format!("{} without changes", plural(quiet.len(), "app"));
    if cut.unchanged {
        out.push_str(&format!("\n{title} (the list was left out to fit).\n"));
        return;
    }
    out.push_str(&format!("\n<details><summary>{title}</summary>\n\n"));
    for a in quiet {
        out.push_str(&format!("- {} ({})\n", code(&a.app, false), text(&a.path)));
    }
    out.push_str("\n</details>\n");
}

/// Escalation rows (of one app, or all). `limit` keeps the most severe rows of the
/// whole report, so a cut never keeps a low-risk row of one app over a high-risk row
/// of another.
fn escalations(out: &mut String, r: &Report, app: Option<&str>, limit: Option<usize>, h: &str) {
    let every: Vec<&Change> = r
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    let kept = limit.unwrap_or(every.len()).min(every.len());
    let all: Vec<&Change> = every
        .iter()
        .copied()
        .filter(|c| app.is_none_or(|a| c.app == a))
        .collect();
    if all.is_empty() {
        return;
    }
    out.push_str(&format!("\n{h} Escalations ({})\n\n", thousands(all.len())));
    let rows: Vec<&Change> = every[..kept]
        .iter()
        .copied()
        .filter(|c| app.is_none_or(|a| c.app == a))
        .collect();
    let shown = rows.len();
    if shown > 0 {
        out.push_str("| risk | change | justification | approval | key |\n|---|---|---|---|---|\n");
    }
    for c in rows {
        let justification = if c.workflows.is_empty() {
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
}

fn of_app<'r>(r: &'r Report, d: Direction, app: Option<&str>) -> Vec<&'r Change> {
    r.changes
        .iter()
        .filter(|c| c.direction == d && app.is_none_or(|a| c.app == a))
        .collect()
}

fn reductions(out: &mut String, r: &Report, app: Option<&str>, h: &str) {
    let cs = of_app(r, Direction::Reduction, app);
    if cs.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n{h} Reductions ({})\n\n| change | key |\n|---|---|\n",
        thousands(cs.len())
    ));
    for c in cs {
        out.push_str(&format!(
            "| {}<br><sub>{} · {}</sub> | {} |\n",
            prose(&c.description, true),
            rules_of(c),
            place(&c.location.file, c.location.line),
            code(&c.key, true),
        ));
    }
}

fn workflow_changes(out: &mut String, r: &Report, app: Option<&str>, h: &str) {
    let cs = of_app(r, Direction::Workflow, app);
    if cs.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n{h} Workflow changes ({})\n\n| change | rule | location |\n|---|---|---|\n",
        thousands(cs.len())
    ));
    for c in cs {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            prose(&c.description, true),
            rules_of(c),
            place(&c.location.file, c.location.line),
        ));
    }
}

fn tenant_matrix(out: &mut String, r: &Report) {
    use crate::report::{Check, TenantMode, TenantVerdict};
    if r.tenants.is_empty() {
        return;
    }
    let ships = r
        .tenants
        .iter()
        .filter(|t| t.verdict == TenantVerdict::Ship)
        .count();
    let mode = match r.tenant_mode {
        Some(TenantMode::Report) => "report only: blocked tenants do not fail the gate",
        _ => "enforced: a blocked tenant fails the gate",
    };
    out.push_str(&format!(
        "\n#### Tenants: ships to {} of {} ({mode})\n\n| tenant | policy | approvals | EHR | verdict | why |\n|---|---|---|---|---|---|\n",
        thousands(ships),
        thousands(r.tenants.len())
    ));
    let cell = |c: Check| match c {
        Check::Pass => "✅ pass",
        Check::Warn => "⚠️ warn",
        Check::Fail => "❌ fail",
        Check::NotChecked => "—",
    };
    for t in &r.tenants {
        let verdict = match t.verdict {
            TenantVerdict::Ship => "**ship**",
            TenantVerdict::Blocked => "**blocked**",
        };
        let why: Vec<String> = t.problems.iter().map(|p| prose(p, true)).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {verdict} | {} |\n",
            code(&t.tenant, true),
            cell(t.policy),
            cell(t.approvals),
            cell(t.ehr),
            why.join("<br>"),
        ));
    }
}

fn findings(out: &mut String, r: &Report) {
    if r.findings.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n#### Findings ({})\n\n| severity | rule | location | message |\n|---|---|---|---|\n",
        thousands(r.findings.len())
    ));
    for f in &r.findings {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            f.severity.as_str(),
            text(&f.rule),
            place_col(f),
            message(f),
        ));
    }
}

fn message(f: &Finding) -> String {
    match &f.hint {
        Some(h) => format!("{}<br>hint: {}", prose(&f.message, true), prose(h, true)),
        None => prose(&f.message, true),
    }
}

fn manifest_diff(out: &mut String, r: &Report) {
    let apps: Vec<_> = r.apps.iter().filter(|a| !a.text_diff.is_empty()).collect();
    if apps.is_empty() {
        return;
    }
    out.push_str("\n<details><summary>Manifest diff</summary>\n");
    for a in apps {
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
    let added = if a.added_in_change {
        ", added in this change"
    } else {
        ""
    };
    match a.state {
        ApprovalState::Approved => format!("✅ approved by {who}{ticket}{added}"),
        ApprovalState::Unapproved => "❌ **UNAPPROVED**".to_string(),
        ApprovalState::Expired => format!("⌛ **EXPIRED**: approved by {who}{ticket}"),
        ApprovalState::Pending => format!(
            "⏳ **PENDING**: ledger entry by {who}{ticket}; {}",
            text(a.reason.as_deref().unwrap_or("needs a qualifying review"))
        ),
        ApprovalState::NotRequired => "—".to_string(),
    }
}

fn rules_of(c: &Change) -> String {
    let mut s = text(&c.rule);
    if !c.also.is_empty() {
        let also: Vec<String> = c.also.iter().map(|a| text(a)).collect();
        s.push_str(&format!(", also {}", also.join(", ")));
    }
    s
}

fn place(file: &str, line: u32) -> String {
    format!("{}:{line}", text(file))
}

fn place_col(f: &Finding) -> String {
    format!(
        "{}:{}:{}",
        text(&f.location.file),
        f.location.line,
        f.location.column
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{} {word}s", thousands(n))
    }
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
#[path = "markdown_tests.rs"]
pub(crate) mod tests;
