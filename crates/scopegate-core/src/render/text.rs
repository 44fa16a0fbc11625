//! Terminal text for reports, explanations, suggestions and the rule catalogue.

use super::Style;
use crate::explain::{Explanation, level_phrase};
use crate::report::{AppReport, Report};
use crate::rules::{RULES, Severity, kind_name};
use crate::scope::Level;
use crate::suggest::Suggestion;
use crate::words::plural;

fn severity(st: Style, s: Severity) -> String {
    match s {
        Severity::Error => st.red("error"),
        Severity::Warning => st.yellow("warning"),
        Severity::Note => st.cyan("note"),
    }
}

/// The lint report; user text escaped ([`super::safe`]).
pub fn report(r: &Report, st: Style) -> String {
    super::safe::render(r, |r| report_raw(r, st))
}

fn report_raw(r: &Report, st: Style) -> String {
    use std::fmt::Write as _;
    // Written straight into `out`, sized once, with the styled words made once: a
    // report can hold thousands of findings.
    let size: usize = r
        .findings
        .iter()
        .map(|f| {
            f.location.file.len() + f.message.len() + f.hint.as_ref().map_or(0, String::len) + 64
        })
        .sum();
    let mut out = String::with_capacity(size + 256);
    let (bold, plain) = if st.color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    let [error, warning, note] =
        [Severity::Error, Severity::Warning, Severity::Note].map(|s| severity(st, s));
    let hint = st.cyan("hint:");
    for f in &r.findings {
        let sev = match f.severity {
            Severity::Error => &error,
            Severity::Warning => &warning,
            Severity::Note => &note,
        };
        let l = &f.location;
        let _ = writeln!(
            out,
            "{bold}{}:{}:{}{plain}: {sev}[{}]: {}",
            l.file, l.line, l.column, f.rule, f.message
        );
        if let Some(h) = &f.hint {
            let _ = writeln!(out, "  {hint} {h}");
        }
    }
    if let Some(l) = super::severity_legend(r.findings.iter().map(|f| f.severity)) {
        out.push_str(&format!("{}\n", st.dim(&l)));
    }
    out.push_str(&tenants(r, st));
    let s = &r.summary;
    let total = s.errors + s.warnings + s.notes;
    let checked = plural(s.manifests, "manifest");
    if total == 0 {
        out.push_str(&format!("{checked} checked: no findings\n"));
    } else {
        out.push_str(&format!(
            "{checked} checked: {}, {}, {}\n",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.notes, "note")
        ));
    }
    out
}

pub fn explanations(xs: &[Explanation], st: Style) -> String {
    super::safe::render(&xs.to_vec(), |xs| explanations_raw(xs, st))
}

fn explanations_raw(xs: &[Explanation], st: Style) -> String {
    let mut out = String::new();
    for x in xs {
        out.push_str(&st.bold(&x.scope));
        out.push('\n');
        if let Some(e) = &x.error {
            out.push_str(&format!("  {}: {e}\n", st.red("invalid")));
            if let Some(s) = &x.suggestion {
                out.push_str(&format!("  {} did you mean `{s}`?\n", st.cyan("hint:")));
            }
        }
        if let Some(n) = &x.normalized
            && n != &x.scope
        {
            out.push_str(&format!("  normalized: {n}\n"));
        }
        out.push_str(&format!("  {} scope: {}\n", x.kind, x.meaning));
        for g in &x.grants {
            let level = match g.level.as_str() {
                "patient" => level_phrase(Level::Patient),
                "user" => level_phrase(Level::User),
                _ => level_phrase(Level::System),
            };
            let restriction = g
                .restriction
                .as_ref()
                .map(|r| format!(" where {r}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  grants on {}{restriction}, {level}:\n    {}\n",
                g.resource,
                g.interactions.join(", ")
            ));
        }
    }
    out
}

pub fn suggestion(s: &Suggestion, st: Style) -> String {
    super::safe::render(s, |s| suggestion_raw(s, st))
}

fn suggestion_raw(s: &Suggestion, st: Style) -> String {
    let mut out = format!(
        "{}\n",
        st.bold(&format!(
            "minimal scopes for {} (SMART {} syntax)",
            s.app, s.syntax
        ))
    );
    let width = super::column(s.scopes.iter().map(|x| x.scope.len()), 0);
    for x in &s.scopes {
        out.push_str(&format!(
            "  {:width$}  {}\n",
            x.scope,
            st.dim(&x.because.join(", "))
        ));
        if let Some(n) = &x.note {
            out.push_str(&format!("  {:width$}  {}\n", "", st.yellow(n)));
        }
    }
    out.push_str(&format!("\nscope string:\n  {}\n", s.scope_string));
    if !s.add.is_empty() {
        out.push_str(&format!(
            "\nneeded but not requested:\n  {}\n",
            s.add.join("\n  ")
        ));
    }
    if !s.remove.is_empty() {
        out.push_str(&format!(
            "\nrequested but not needed:\n  {}\n",
            s.remove.join("\n  ")
        ));
    }
    if !s.tenants_lacking.is_empty() {
        let cap = if s.syntax == "v1" {
            "permission-v1"
        } else {
            "permission-v2"
        };
        out.push_str(&format!(
            "\ntenants whose EHR does not list `{cap}` (SMART {} scopes may be refused there):\n  {}\n",
            s.syntax,
            s.tenants_lacking.join("\n  ")
        ));
    }
    out
}

pub fn rules(st: Style) -> String {
    let width = super::column(RULES.iter().map(|r| r.id.as_str().len()), 0);
    let mut out = String::new();
    for r in RULES {
        out.push_str(&format!(
            "{:width$}  {:4}  {:7}  {}\n",
            r.id,
            kind_name(r.kind),
            r.severity.as_str(),
            r.summary,
        ));
    }
    out.push_str(&st.dim("\nDocs: docs/rules.md, or `scopegate rules --format markdown`.\n"));
    out
}

fn risk(st: Style, s: Severity) -> String {
    match s {
        Severity::Error => st.red(s.risk()),
        Severity::Warning => st.yellow(s.risk()),
        Severity::Note => st.cyan(s.risk()),
    }
}

fn approval_text(st: Style, a: &crate::report::Approval) -> String {
    use crate::report::ApprovalState as A;
    let who = a.by.as_deref().unwrap_or("?");
    let added = a.provenance();
    match a.state {
        A::Approved => st.bold(&format!("approved by {who}{added}")),
        A::Unapproved => st.red("UNAPPROVED"),
        A::Expired => st.red(&format!("EXPIRED (approved by {who})")),
        A::Pending => st.red(&format!(
            "PENDING (ledger entry by {who}: {})",
            a.reason.as_deref().unwrap_or("needs a qualifying review")
        )),
        A::NotRequired => String::new(),
    }
}

/// The tenant matrix: one line per tenant; empty when there are no profiles.
fn tenants(r: &Report, st: Style) -> String {
    use crate::report::{Check, TenantMode, TenantVerdict};
    if r.tenants.is_empty() {
        return String::new();
    }
    let blocked = r
        .tenants
        .iter()
        .filter(|t| t.verdict == TenantVerdict::Blocked)
        .count();
    let mode = match r.tenant_mode {
        Some(TenantMode::Report) => "report only",
        _ => "enforced",
    };
    let mut out = format!(
        "{} ({mode}): ships to {} of {}\n",
        st.bold("Tenants"),
        r.tenants.len() - blocked,
        r.tenants.len()
    );
    let width = super::column(r.tenants.iter().map(|t| t.tenant.chars().count()), 6);
    out.push_str(&format!(
        "  {:width$}  {:11}  {:11}  {:11}  verdict\n",
        "tenant", "policy", "approvals", "ehr"
    ));
    let cell = |c: Check| {
        let w = format!("{:11}", c.as_str());
        match c {
            Check::Fail => st.red(&w),
            Check::Warn => st.yellow(&w),
            _ => w,
        }
    };
    for t in &r.tenants {
        let verdict = match t.verdict {
            TenantVerdict::Ship => st.bold("ship"),
            TenantVerdict::Blocked => st.red("BLOCKED"),
        };
        let why = if t.problems.is_empty() {
            String::new()
        } else {
            format!("  {}", t.problems.join("; "))
        };
        out.push_str(&format!(
            "  {:width$}  {}  {}  {}  {verdict}{why}\n",
            t.tenant,
            cell(t.policy),
            cell(t.approvals),
            cell(t.ehr),
        ));
    }
    out
}

/// What is special about an app's place in the run, if anything.
fn app_status(r: &Report, a: &AppReport) -> Option<String> {
    if a.new_app {
        Some(format!(
            "new app ({}): everything it requests is an addition",
            a.path
        ))
    } else if a.removed_app {
        Some(match &a.gating_stopped {
            Some(why) => format!(
                "removed ({}): gating stopped for this app; {why}; its access is reported as removed",
                a.path
            ),
            None => format!(
                "removed ({}): no manifest with this id at head; its access is reported as removed",
                a.path
            ),
        })
    } else if let Some(from) = &a.id_changed_from {
        Some(format!("{}, id changed from `{from}`", a.path))
    } else if r.moved(a) {
        Some(format!(
            "{}, moved from {}",
            a.path,
            a.baseline_path.as_deref().unwrap_or_default()
        ))
    } else {
        None
    }
}

/// Many apps: one block per app that changed (or moved, appeared or went), then
/// one line naming the apps with no changes.
fn by_app(out: &mut String, r: &Report, st: Style, legend: &mut bool) {
    let mut quiet = Vec::new();
    // Each app's changes, gathered once (not a scan of every change per app).
    let mut of_app: rustc_hash::FxHashMap<&str, Vec<&crate::report::Change>> =
        rustc_hash::FxHashMap::default();
    for c in &r.changes {
        of_app.entry(c.app.as_str()).or_default().push(c);
    }
    for a in &r.apps {
        let cs = of_app.get(a.app.as_str()).map_or(&[][..], Vec::as_slice);
        let has_changes = !cs.is_empty();
        let status = app_status(r, a);
        if !has_changes && status.is_none() {
            quiet.push(a.app.as_str());
            continue;
        }
        let place = status.unwrap_or_else(|| a.path.clone());
        out.push_str(&format!(
            "\n{} ({place})\n",
            st.bold(&format!("app {}", a.app))
        ));
        if has_changes {
            changes(out, r, cs, st, "  ", legend);
        } else {
            out.push_str("  no access or workflow change\n");
        }
    }
    if !quiet.is_empty() {
        out.push_str(&format!(
            "\n{} without changes: {}\n",
            plural(quiet.len(), "app"),
            quiet.join(", ")
        ));
    }
}

/// The changes `of` (one app's, or all of `r`'s), by direction, each line indented by
/// `indent`. The risk legend follows the first escalations shown, once (`legend` says
/// it was).
fn changes(
    out: &mut String,
    r: &Report,
    of: &[&crate::report::Change],
    st: Style,
    indent: &str,
    legend: &mut bool,
) {
    use crate::report::Direction;
    let mut section = |out: &mut String, title: &str, dir: Direction| {
        let cs: Vec<_> = of.iter().filter(|c| c.direction == dir).collect();
        if cs.is_empty() {
            return;
        }
        out.push_str(&format!("\n{indent}{}\n", st.bold(title)));
        for c in cs {
            let rules = if c.also.is_empty() {
                c.rule.to_string()
            } else {
                let also = crate::rules::join(&c.also, ", ");
                format!("{}, also {also}", c.rule)
            };
            let state = approval_text(st, &c.approval);
            let lead = match dir {
                Direction::Escalation => format!("{:6} ", risk(st, c.severity)),
                _ => String::new(),
            };
            out.push_str(&format!("{indent}  {lead}{}  [{rules}]  {state}\n", c.key));
            out.push_str(&format!(
                "{indent}         {}  ({}:{})\n",
                c.description, c.location.file, c.location.line
            ));
            if dir == Direction::Escalation && !crate::diff::is_identity_change(c.rule) {
                let wf = if c.workflows.is_empty() {
                    st.yellow("no workflow needs it")
                } else {
                    c.workflows.join(", ")
                };
                out.push_str(&format!("{indent}         workflows: {wf}\n"));
            }
        }
        if dir == Direction::Escalation && !*legend {
            *legend = true;
            let all = r.changes.iter().filter(|c| c.direction == dir);
            if let Some(l) = super::risk_legend(all.map(|c| c.severity)) {
                out.push_str(&format!("{indent}  {}\n", st.dim(&l)));
            }
        }
    };
    section(out, "Escalations", Direction::Escalation);
    section(out, "Reductions", Direction::Reduction);
    section(out, "Workflow changes", Direction::Workflow);
}

/// The gate or diff report for a terminal.
/// The gate report (the default in `ci`'s log); user text escaped ([`super::safe`]).
pub fn gate(r: &Report, st: Style) -> String {
    super::safe::render(r, |r| gate_raw(r, st))
}

fn gate_raw(r: &Report, st: Style) -> String {
    use crate::report::Verdict;
    let mut out = String::new();
    let verdict = match r.verdict {
        Some(Verdict::Fail) => st.red("FAIL"),
        Some(Verdict::Pass) => st.bold("PASS"),
        Some(Verdict::NoChange) => st.bold("NO CHANGE"),
        None => String::new(),
    };
    let base = r.baseline.as_ref().map_or(String::new(), |b| {
        let commit = b
            .commit
            .as_deref()
            .map(|c| format!(" {}", &c[..c.len().min(12)]))
            .unwrap_or_default();
        let name = b
            .name
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        format!("baseline {}{name}{commit}", b.source)
    });
    let s = &r.summary;
    out.push_str(&format!(
        "scopegate: {verdict} — {}, {} unapproved, {}, {} ({base})\n",
        plural(s.escalations, "escalation"),
        s.unapproved,
        plural(s.reductions, "reduction"),
        plural(s.workflow_changes, "workflow change"),
    ));
    if r.advisory {
        out.push_str(&st.yellow(
            "advisory: config and approvals were read from the working tree, not the baseline\n",
        ));
    }
    if !r.reasons.is_empty() {
        out.push_str(&format!("failed: {}\n", r.reasons.join("; ")));
    }
    if !r.tenants.is_empty() {
        out.push('\n');
        out.push_str(&tenants(r, st));
    }
    let mut legend = false;
    if r.apps.len() > 1 {
        by_app(&mut out, r, st, &mut legend);
    } else {
        for a in &r.apps {
            if a.new_app {
                out.push_str(&format!(
                    "new app: {} ({}): everything it requests is an addition\n",
                    a.app, a.path
                ));
            } else if let Some(line) = app_status(r, a) {
                out.push_str(&format!("app {}: {line}\n", a.app));
            }
        }
        let all: Vec<&crate::report::Change> = r.changes.iter().collect();
        changes(&mut out, r, &all, st, "", &mut legend);
    }
    if !r.findings.is_empty() {
        out.push_str(&format!("\n{}\n", st.bold("Findings")));
        let lint = report_raw(
            &Report {
                changes: Vec::new(),
                tenants: Vec::new(),
                ..r.clone()
            },
            st,
        );
        // The findings lines without the closing count line.
        for line in lint.lines().filter(|l| !l.contains(" checked: ")) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    if s.unapproved > 0 {
        out.push_str(&format!(
            "\nTo approve (release managers): scopegate approve --by <you> --ticket <ticket>{} --sign <private key>\n  (on GitHub, an approving review of the pull request verifies the entry instead: drop --sign)\n",
            if s.unapproved == 1 {
                ""
            } else {
                "  [--key <key> …]"
            }
        ));
    }
    out
}
