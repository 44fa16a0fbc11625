//! The gate: diff + lint + approvals in, one [`Report`] with a verdict out.
//!
//! Pure. It is given everything already loaded (the manifests at both ends, the config
//! and ledger from the baseline, the head ledger, the clock) and decides: an
//! escalation without a valid approval, a rewritten ledger entry, or a lint finding at
//! or above the configured threshold fails the gate.

use std::sync::Arc;

use crate::approval::Entry;
use crate::config::{Config, LintGate};
use crate::diff::{diff, diff_beside};

use crate::lint;
use crate::manifest::Manifest;
use crate::report::{
    AppReport, Approval, ApprovalState, Baseline, Change, Direction, Finding, Report, TenantMode,
    TenantRow, TenantVerdict, Verdict,
};
use crate::rules::{RuleId, RuleKind, Severity, rule};
use crate::scope::Scope;
use crate::tenant::{self, ApprovalColumn, Tenant};
use crate::words::plural;

mod ledger;
pub mod pairing;
#[cfg(test)]
mod tests;
pub mod trust;
use ledger::Ledger;

/// One app: its head manifest and, when it existed, its baseline manifest.
pub struct App {
    /// Shared: the caller may be linting it beside the gate (see [`Ahead`]).
    pub head: Arc<Manifest>,
    pub head_text: String,
    /// `(path at baseline, manifest, text)`; `None` for a new app.
    pub base: Option<(String, Manifest, String)>,
}

/// An app at the baseline with no manifest at head.
pub struct Removed {
    /// Where it was at the baseline.
    pub path: String,
    pub base: Manifest,
    /// What became of the manifest, for the reviewer.
    pub why: String,
    /// The path is there but is not a readable, tracked regular file (a directory, a
    /// symlink out of the repository, a FIFO), or the manifest went where the config
    /// does not look: unless the removal is approved, the gate cannot judge the app
    /// ([`cannot_judge`]).
    pub unreadable: bool,
}

/// Everything the gate judges with.
pub struct Input<'a> {
    pub apps: &'a [App],
    /// Apps the baseline gated that are gone at head.
    pub removed: &'a [Removed],
    pub config: &'a Config,
    /// Config and ledger came from the working tree: the verdict is advisory.
    pub advisory: bool,
    pub baseline: Baseline,
    /// The ledger at the baseline (reviewed when it merged) and in the working tree.
    pub base_ledger: &'a [Entry],
    /// The ledger at an explicit trusted commit (a PR base): entries merged since the
    /// release, reviewed when they merged. Empty when the trusted commit is only HEAD.
    pub merged_ledger: &'a [Entry],
    pub head_ledger: &'a [Entry],
    /// The ledger of the baseline release (the baseline commit), when the baseline is
    /// a commit judged by its own config. Its entries are spent: they approve nothing
    /// (see `gate/ledger.rs`). `None` for a file baseline, no baseline, or an advisory run.
    pub release_ledger: Option<&'a [Entry]>,
    pub ledger_path: &'a str,
    /// `YYYY-MM-DDTHH:MM:SSZ`, for expiry.
    pub now: &'a str,
    /// Entries the change adds that lack a qualifying review, with the reason (from
    /// `scopegate ci`). They approve nothing; what they would approve is `pending`.
    pub untrusted: &'a [(Entry, String)],
    /// Entries that count although no verifier confirmed them (advisory runs, see
    /// [`trust`]): what they approve is marked unverified.
    pub unverified: &'a [Entry],
    /// Entries a valid signature verified, with the key's fingerprint, shown with what
    /// they approve.
    pub signed: &'a [(Entry, String)],
    /// Tenant profiles (from the baseline, like the config), by name.
    pub tenants: &'a [Tenant],
}

/// The heads' lints, when the caller does them beside the gate (with
/// [`lint::Linted::check`], on another thread): the gate diffs meanwhile.
pub struct Ahead<'a> {
    /// `coming[i]`: a lint of `input.apps[i]`'s head is on its way.
    pub coming: Vec<bool>,
    /// Waits for them: one per app, `None` where none came.
    pub wait: Box<dyn FnOnce() -> Vec<Option<lint::Linted>> + 'a>,
}

impl Ahead<'_> {
    /// No lint done beside the gate: it lints every head itself.
    #[cfg(test)]
    pub(crate) fn none() -> Ahead<'static> {
        Ahead {
            coming: Vec::new(),
            wait: Box::new(Vec::new),
        }
    }
}

/// The gate's report. A lint that comes from `ahead` for `input.apps[i]` is used as it
/// is, without a copy, when it is of that very manifest with the config's options.
/// Otherwise the gate lints the head itself.
pub fn gate(input: &Input<'_>, ahead: Ahead<'_>) -> Report {
    let Diffed {
        lints,
        changes,
        apps,
    } = diff_apps(input, &ahead.coming);
    // The ledger is judged on the changes alone: it waits for no lint. Its findings
    // come after the lints', as they always have.
    let mut later = Vec::new();
    let ledger = Ledger::new(input);
    let approvals = approvals(&ledger, &changes);
    let changes = apply_ledger(&ledger, changes, approvals, &mut later);
    later.extend(ledger.stale(&changes, input.apps, input.removed));
    later.extend(ledger.unknown_tenants());
    let rows = tenant_matrix(input, &ledger, &changes, &mut later);
    let mut findings = lint_findings(input, lints, ahead);
    findings.extend(later);
    let blocked = enforced_blocks(input.config.tenant_mode, &rows);
    let (verdict, reasons) = verdict(input, &findings, &changes, &blocked);
    let mut report = Report::build(
        input.apps.len(),
        findings,
        changes,
        apps,
        Some(input.baseline.clone()),
        Some(verdict),
        input.advisory,
    );
    report.reasons = reasons;
    if !input.tenants.is_empty() {
        report.tenant_mode = Some(input.config.tenant_mode);
    }
    report.tenants = rows;
    report
}

/// Every app (and every removed one) diffed on its own, at the config's severities,
/// before any approval is applied.
struct Diffed {
    /// Per app, its findings when the gate linted it itself (`None` where a lint is
    /// coming).
    lints: Vec<Option<Vec<Finding>>>,
    changes: Vec<Change>,
    /// The app rows (one per app, then one per removed app).
    apps: Vec<AppReport>,
}

/// Diffs every app. An app whose lint is `coming` is only diffed, with its text diff
/// made among the diff's parts (its lint runs on another core); any other is linted
/// on a second core beside its diff and text diff.
fn diff_apps(input: &Input<'_>, coming: &[bool]) -> Diffed {
    let opts = input.config.options;
    let mut lints = Vec::with_capacity(input.apps.len());
    let mut changes: Vec<Change> = Vec::new();
    let mut apps = Vec::new();
    for (i, app) in input.apps.iter().enumerate() {
        let base = app.base.as_ref().map(|(_, m, _)| m);
        let (lint, app_changes, text) = if coming.get(i).copied().unwrap_or(false) {
            let (changes, text) = diff_beside(base, &app.head, opts, &|| text_diff(app));
            (None, changes, text)
        } else {
            std::thread::scope(|t| {
                let lint = crate::threads::spawn(t, || lint::check(&app.head, opts));
                let changes = diff(base, &app.head, opts);
                let text = text_diff(app);
                (Some(crate::joined(lint)), changes, text)
            })
        };
        lints.push(lint);
        crate::append(&mut changes, app_changes);
        apps.push(app_row(app, text));
    }
    for gone in input.removed {
        changes.extend(crate::diff::removed(&gone.base, &gone.why, opts));
        apps.push(AppReport {
            app: gone.base.id.value.clone(),
            path: gone.path.clone(),
            baseline_path: Some(gone.path.clone()),
            new_app: false,
            removed_app: true,
            id_changed_from: None,
            gating_stopped: Some(gone.why.clone()),
            text_diff: String::new(),
        });
    }
    for c in &mut changes {
        c.severity = input.config.severity_of(c.rule);
    }
    Diffed {
        lints,
        changes,
        apps,
    }
}

/// Every app's lint findings in app order, at the config's severities: the gate's
/// own (`lints`), or the one coming from `ahead` when it is of that very manifest with
/// the config's options, or else a lint made now.
fn lint_findings(
    input: &Input<'_>,
    lints: Vec<Option<Vec<Finding>>>,
    ahead: Ahead<'_>,
) -> Vec<Finding> {
    let opts = input.config.options;
    let mut came = if ahead.coming.contains(&true) {
        (ahead.wait)()
    } else {
        Vec::new()
    }
    .into_iter();
    let mut findings = Vec::new();
    for (app, lint) in input.apps.iter().zip(lints) {
        let came = came.next().flatten();
        let app_findings = lint.unwrap_or_else(|| {
            came.and_then(|l| l.into_findings(&app.head, opts))
                .unwrap_or_else(|| lint::check(&app.head, opts))
        });
        crate::append(&mut findings, app_findings);
    }
    for f in &mut findings {
        f.severity = input.config.severity_of(f.rule);
    }
    findings
}

/// An app's row in the report.
fn app_row(app: &App, text_diff: String) -> AppReport {
    AppReport {
        app: app.head.id.value.clone(),
        path: app.head.path.clone(),
        baseline_path: app.base.as_ref().map(|(p, _, _)| p.clone()),
        new_app: app.base.is_none(),
        removed_app: false,
        id_changed_from: app
            .base
            .as_ref()
            .map(|(_, b, _)| &b.id.value)
            .filter(|b| **b != app.head.id.value)
            .cloned(),
        gating_stopped: None,
        text_diff,
    }
}

/// From this many escalations, their approvals are found on two cores, in chunks taken
/// by whichever core is free: a release of 2,000 new scopes, each waiting for a
/// review, spent 2.2 ms on one.
const APPROVALS_ON_TWO_FROM: usize = 200;

/// How many pieces [`approvals`] cuts a large release's escalations into: enough that
/// the two cores end close together.
const APPROVAL_CHUNKS: usize = 8;

/// Each escalation's approval, by its index in `changes`, in order.
fn approvals(ledger: &Ledger<'_>, changes: &[Change]) -> Vec<(usize, Approval)> {
    approvals_from(ledger, changes, APPROVALS_ON_TWO_FROM)
}

/// [`approvals`], on two cores from `on_two_from` escalations.
fn approvals_from(
    ledger: &Ledger<'_>,
    changes: &[Change],
    on_two_from: usize,
) -> Vec<(usize, Approval)> {
    let escalations: Vec<usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.direction == Direction::Escalation)
        .map(|(i, _)| i)
        .collect();
    let approve = |at: &[usize]| -> Vec<(usize, Approval)> {
        at.iter()
            .map(|&i| (i, ledger.approval_for(&changes[i])))
            .collect()
    };
    if escalations.len() < on_two_from {
        return approve(&escalations);
    }
    let jobs: Vec<_> = escalations
        .chunks(escalations.len().div_ceil(APPROVAL_CHUNKS))
        .map(|at| move || approve(at))
        .collect();
    let jobs: Vec<&(dyn Fn() -> Vec<(usize, Approval)> + Sync)> =
        jobs.iter().map(|j| j as _).collect();
    crate::threads::on_two(&jobs)
        .into_iter()
        .flatten()
        .collect()
}

/// Applies the ledger to the escalations: their approval state (`approvals`, by
/// index), approved parts split from the rest, and findings for expired and spent
/// approvals (and a rewritten ledger).
fn apply_ledger(
    ledger: &Ledger<'_>,
    mut changes: Vec<Change>,
    approvals: Vec<(usize, Approval)>,
    findings: &mut Vec<Finding>,
) -> Vec<Change> {
    findings.extend(ledger.rewritten());
    for (i, approval) in approvals {
        changes[i].approval = approval;
    }
    // A change approved in part is shown as its approved and unapproved parts, so the
    // reviewer sees exactly what still needs a decision. Most runs split nothing, and a
    // copy of every change is megabytes: they are rebuilt only when some split.
    let mut splits = changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| ledger.split_partly_approved(c).map(|parts| (i, parts)))
        .collect::<Vec<_>>()
        .into_iter()
        .peekable();
    if splits.peek().is_some() {
        let mut rebuilt = Vec::with_capacity(changes.len() + splits.len());
        for (i, c) in changes.into_iter().enumerate() {
            match splits.next_if(|(at, _)| *at == i) {
                Some((_, parts)) => rebuilt.extend(parts),
                None => rebuilt.push(c),
            }
        }
        changes = rebuilt;
    }
    for c in changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
    {
        if c.approval.state == ApprovalState::Expired {
            let why = c
                .approval
                .reason
                .as_deref()
                .map_or_else(String::new, |r| format!(" ({r})"));
            let mut f = ledger.ledger_finding(
                RuleId::ApprovalExpired,
                c.approval.entry_line,
                format!(
                    "the approval of `{}` expired{why}; it needs a fresh approval",
                    c.key
                ),
            );
            f.key = Some(c.key.clone());
            findings.push(f);
        } else if c.approval.state == ApprovalState::Unapproved {
            findings.extend(ledger.spent_finding(c));
        }
    }
    changes
}

/// The verdict and the reasons it fails: unapproved escalations, a rewritten
/// ledger, lint findings at or above `fail_on_lint`, tenants blocked under
/// `tenants: enforce`.
fn verdict(
    input: &Input<'_>,
    findings: &[Finding],
    changes: &[Change],
    blocked: &[&str],
) -> (Verdict, Vec<String>) {
    let tenants_fail = !blocked.is_empty();
    let lint_threshold = match input.config.fail_on_lint {
        LintGate::Error => Some(Severity::Error),
        LintGate::Warning => Some(Severity::Warning),
        LintGate::Never => None,
    };
    let n_lint = failing_lint(findings, lint_threshold);
    let lint_fails = n_lint > 0;
    let ledger_fails = findings.iter().any(|f| f.rule == RuleId::LedgerRewritten);
    let unapproved = changes.iter().any(|c| c.approval.is_outstanding());
    let access_changed = changes.iter().any(|c| c.direction != Direction::Workflow);
    let mut reasons = Vec::new();
    let n_unapproved = changes
        .iter()
        .filter(|c| c.approval.is_outstanding())
        .count();
    if n_unapproved > 0 {
        reasons.push(plural(n_unapproved, "unapproved escalation"));
    }
    if ledger_fails {
        reasons.push("the approvals ledger was rewritten".to_string());
    }
    if let Some(t) = lint_threshold.filter(|_| lint_fails) {
        reasons.push(format!(
            "{} at or above `{}`",
            plural(n_lint, "lint finding"),
            t.as_str()
        ));
    }
    if tenants_fail {
        reasons.push(format!(
            "blocked for {} `{}` (tenants: enforce)",
            if blocked.len() == 1 {
                "tenant"
            } else {
                "tenants"
            },
            blocked.join("`, `")
        ));
    }
    let verdict = if lint_fails || ledger_fails || unapproved || tenants_fail {
        Verdict::Fail
    } else if access_changed {
        Verdict::Pass
    } else {
        Verdict::NoChange
    };
    (verdict, reasons)
}

/// The lint part of a verdict, the same for `check` and the gate: how many lint
/// findings are at or above `threshold` (none without a threshold). Ledger, tenant
/// and change findings are judged on their own terms, never by this threshold.
pub fn failing_lint(findings: &[Finding], threshold: Option<Severity>) -> usize {
    let Some(t) = threshold else { return 0 };
    findings
        .iter()
        .filter(|f| rule(f.rule).kind == RuleKind::Lint && f.severity >= t)
        .count()
}

/// The tenants whose verdict blocks the release and fails the run: those `blocked`
/// in the matrix when the config enforces it (`tenants: enforce`); none under
/// `tenants: report`.
pub fn enforced_blocks(mode: TenantMode, rows: &[TenantRow]) -> Vec<&str> {
    if mode != TenantMode::Enforce {
        return Vec::new();
    }
    rows.iter()
        .filter(|r| r.verdict == TenantVerdict::Blocked)
        .map(|r| r.tenant.as_str())
        .collect()
}

/// One row per tenant: its policy and EHR judged on the head manifests, and whether
/// every escalation has an approval that applies to it. Findings go to `findings`.
fn tenant_matrix(
    input: &Input<'_>,
    ledger: &Ledger<'_>,
    changes: &[Change],
    findings: &mut Vec<Finding>,
) -> Vec<crate::report::TenantRow> {
    let manifests: Vec<&Manifest> = input.apps.iter().map(|a| &*a.head).collect();
    let escalations: Vec<&Change> = changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    let (rows, tenant_findings) = tenant::matrix(input.tenants, &manifests, input.config, |t| {
        Some(approval_column(t, input.config, ledger, &escalations))
    });
    findings.extend(tenant_findings);
    rows
}

/// The approvals column for one tenant: escalations with no valid approval at all,
/// and those whose approvals do not apply to this tenant.
fn approval_column(
    t: &Tenant,
    config: &Config,
    ledger: &Ledger<'_>,
    escalations: &[&Change],
) -> ApprovalColumn {
    let name = t.profile.name.as_str();
    let mut column = ApprovalColumn {
        missing: Vec::new(),
        outstanding: 0,
    };
    for c in escalations {
        if c.approval.is_outstanding() {
            column.outstanding += 1;
            continue;
        }
        let sensitive = Scope::parse_shown(&c.scope)
            .ok()
            .and_then(|s| t.profile.sensitive_in(&s).map(str::to_string));
        let applies = |e: &Entry| {
            ledger.names_tenant(e, name) || (e.tenants.is_empty() && sensitive.is_none())
        };
        if ledger.approval_among(c, &applies).state != ApprovalState::Approved {
            let why = match &sensitive {
                Some(ty) => format!(
                    "; `{ty}` is sensitive for this tenant, so the approval must name it in `tenants:`"
                ),
                None => format!(
                    "; its approval is limited to {}",
                    c.approval.tenants.join(", ")
                ),
            };
            let id = RuleId::TenantApprovalMissing;
            let message = format!("`{}` has no approval for tenant `{name}`{why}", c.key);
            let hint = format!(
                "an authorized release manager runs `scopegate approve --by <you> --ticket <ticket> --tenant {name} --key {}`",
                c.key
            );
            let f = Finding::new(id, &c.app, c.location.clone(), message)
                .with_severity(config.severity_of(id))
                .with_hint(Some(hint))
                .for_tenant(name)
                .with_key(&c.key);
            column.missing.push(f);
        }
    }
    column
}

/// Why the gate cannot judge this run, one message per app: a path gated at the
/// baseline that is there but not a readable regular file (or whose manifest moved
/// where the config does not look), when its removal is not approved. The CLI exits 2
/// with these; an approved removal is a reviewed decision and passes.
pub fn cannot_judge(removed: &[Removed], report: &Report) -> Vec<String> {
    removed
        .iter()
        .filter(|r| r.unreadable)
        .filter(|r| {
            let key = crate::approval::Key::removed(&r.base.id.value).to_string();
            report
                .changes
                .iter()
                .any(|c| c.key == key && c.approval.state != ApprovalState::Approved)
        })
        .map(|r| {
            // The path and the reason are repository content: each stays on its line.
            let id = crate::render::safe::escape(&r.base.id.value);
            let path = crate::render::safe::escape(&r.path);
            format!(
                "{path}: {}; app `{id}` was gated at the baseline and would no longer be gated\n  hint: put the manifest back at {path} as a regular file, or, if the app is retired, approve its removal: scopegate approve --by <you> --ticket <ticket> --key '{id}:*removed*'",
                crate::render::safe::escape(&r.why),
            )
        })
        .collect()
}

fn text_diff(app: &App) -> String {
    let (old_path, old) = match &app.base {
        Some((p, _, t)) => (format!("a/{p}"), t.as_str()),
        None => ("/dev/null".to_string(), ""),
    };
    if old == app.head_text {
        return String::new();
    }
    similar::TextDiff::from_lines(old, app.head_text.as_str())
        .unified_diff()
        .context_radius(3)
        .header(&old_path, &format!("b/{}", app.head.path))
        .to_string()
}
