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

use crate::report::{Approval, ApprovalState, Change, Direction, Finding, Report, Verdict};
use crate::rules::Severity;

/// GitHub's limit on an issue or pull-request comment body, in characters.
pub const MAX_CHARS: usize = 65_536;

/// User text longer than this (in characters) is clipped in a table cell, so that
/// one huge value cannot crowd out every other row.
const MAX_CELL: usize = 1_000;

/// Zero-width joiner after `@`: GitHub's mention filter no longer sees a login.
/// (`&#64;` would not do: entities are decoded before GitHub looks for mentions.)
const AT: &str = "@\u{200D}";
/// Zero-width space inside `<!--`, so user text never contains a hidden-marker opener.
const COMMENT_OPEN: &str = "<\u{200B}!--";

/// The report as Markdown, at most [`MAX_CHARS`] characters. `marker`, when given,
/// is emitted verbatim as the first line (the caller guarantees it is a safe HTML
/// comment).
pub fn render(r: &Report, marker: Option<&str>) -> String {
    render_limited(r, marker, MAX_CHARS)
}

/// The report as Markdown, at most `max_chars` characters (not bytes). Detail is
/// dropped in this order until it fits: the text diff, workflow changes,
/// reductions, findings, then escalation rows past the first few; a note says what
/// was left out.
pub fn render_limited(r: &Report, marker: Option<&str>, max_chars: usize) -> String {
    let fits = |s: &String| s.chars().count() <= max_chars;
    let mut cut = Cut::default();
    let steps: [fn(&mut Cut); 5] = [
        |_| {},
        |c| c.diff = true,
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
    workflow: bool,
    reductions: bool,
    findings: bool,
    /// Show only this many escalation rows.
    escalations: Option<usize>,
}

impl Cut {
    fn any(self) -> bool {
        self.diff || self.workflow || self.reductions || self.findings || self.escalations.is_some()
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
    new_apps(&mut out, r);
    escalations(&mut out, r, cut.escalations);
    if !cut.reductions {
        reductions(&mut out, r);
    }
    if !cut.workflow {
        workflow_changes(&mut out, r);
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

fn escalations(out: &mut String, r: &Report, limit: Option<usize>) {
    let all: Vec<&Change> = r
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    if all.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n#### Escalations ({})\n\n| risk | change | justification | approval | key |\n|---|---|---|---|---|\n",
        thousands(all.len())
    ));
    let shown = limit.unwrap_or(all.len()).min(all.len());
    for c in &all[..shown] {
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

fn reductions(out: &mut String, r: &Report) {
    let cs: Vec<&Change> = r
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Reduction)
        .collect();
    if cs.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n#### Reductions ({})\n\n| change | key |\n|---|---|\n",
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

fn workflow_changes(out: &mut String, r: &Report) {
    let cs: Vec<&Change> = r
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Workflow)
        .collect();
    if cs.is_empty() {
        return;
    }
    out.push_str(&format!(
        "\n#### Workflow changes ({})\n\n| change | rule | location |\n|---|---|---|\n",
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

// ---- escaping ------------------------------------------------------------------

/// At most [`MAX_CELL`] characters, marked with `…` when clipped.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_CELL) {
        None => s.into(),
        Some((i, _)) => format!("{}…", &s[..i]).into(),
    }
}

/// Bidi overrides and isolates can make text read differently from what it is
/// (CVE-2021-42574); C0 controls have no business in a comment.
fn hostile(ch: char) -> bool {
    matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || (ch.is_control() && ch != '\t' && ch != '\n' && ch != '\r')
}

/// User text as inert inline Markdown: HTML-significant characters as entities,
/// Markdown-significant ones backslash-escaped, `@` broken for the mention filter
/// (and for email autolinks), bare URLs broken for the autolinker, newlines as
/// spaces. Escaping `<` also means `<!--` cannot appear.
fn text(s: &str) -> String {
    let s = clip(s);
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            // GFM autolinks bare `scheme:` URLs and `www.` hosts; an escaped `:` or
            // `.` is the same text to the reader but starts no link.
            ':' => out.push_str("\\:"),
            '.' if out
                .get(out.len().saturating_sub(3)..)
                .is_some_and(|t| t.eq_ignore_ascii_case("www")) =>
            {
                out.push_str("\\.");
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str(AT),
            '\n' | '\r' => out.push(' '),
            // `$` starts GitHub math; the rest are CommonMark/GFM inline syntax
            // (links, images, emphasis, strikethrough, code, table cells).
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '#' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            c if hostile(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The shared neutralising for text shown literally (code spans, code blocks):
/// no hidden-marker opener, no mention, no hostile characters.
fn neutral(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '@' => out.push_str(AT),
            c if hostile(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.replace("<!--", COMMENT_OPEN)
}

/// User text as a code span. Inside a code span HTML, links and mentions are inert;
/// the fence is one backtick longer than any run inside. In a table, `|` must still
/// be escaped (GFM splits cells before it parses code spans).
pub(super) fn code(s: &str, in_table: bool) -> String {
    let one_line: String = clip(s)
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let mut body = neutral(&one_line);
    if body.is_empty() {
        return String::new();
    }
    if in_table {
        body = body.replace('|', "\\|");
    }
    let fence = "`".repeat(longest_run(&body, '`') + 1);
    // CommonMark strips one space from each side when both have one.
    let pad = body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' ') && !body.trim().is_empty());
    let sp = if pad { " " } else { "" };
    format!("{fence}{sp}{body}{sp}{fence}")
}

/// Text in scopegate's own style, where backticks quote scopes and ids (descriptions,
/// messages, hints): paired backticks become code spans, everything else is
/// escaped text. Whatever the user put inside, each piece is inert on its own.
pub(super) fn prose(s: &str, in_table: bool) -> String {
    let s = clip(s);
    let parts: Vec<&str> = s.split('`').collect();
    let last = parts.len() - 1;
    let mut out = String::new();
    let mut prev_code = false;
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 0 {
            out.push_str(&text(p));
            prev_code = p.is_empty() && prev_code;
        } else if i == last {
            // An unpaired backtick.
            out.push_str("\\`");
            out.push_str(&text(p));
            prev_code = false;
        } else if p.is_empty() {
            out.push_str("\\`\\`");
            prev_code = false;
        } else {
            if prev_code {
                // Two adjacent spans would read as one run of two backticks.
                out.push('\u{200B}');
            }
            out.push_str(&code(p, in_table));
            prev_code = true;
        }
    }
    out
}

/// A text diff for a fenced code block: one line ending, and no marker opener.
fn neutral_block(s: &str) -> String {
    neutral(&s.replace("\r\n", "\n").replace('\r', "\n"))
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
pub(crate) mod tests;
