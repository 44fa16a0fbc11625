//! The gate: diff + lint + approvals in, one [`Report`] with a verdict out.
//!
//! Pure. It is given everything already loaded (the manifests at both ends, the config
//! and ledger from the baseline, the head ledger, the clock) and decides: an
//! escalation without a valid approval, a rewritten ledger entry, or a lint finding at
//! or above the configured threshold fails the gate.

use crate::approval::Entry;
use crate::config::{Config, LintGate};
use crate::diff::{classify, diff, justifying_workflows};
use crate::grant::{ScopeSet, covers};
use crate::lint;
use crate::manifest::{Manifest, Pos};
use crate::report::{
    AppReport, Approval, ApprovalState, Baseline, Change, Direction, Finding, Location, Report,
    TenantVerdict, Verdict,
};
use crate::rules::{RuleKind, Severity, rule};
use crate::scope::{Perms, ResourceScope, Scope};
use crate::tenant::{self, ApprovalColumn, Tenant};

/// One app: its head manifest and, when it existed, its baseline manifest.
pub struct App {
    pub head: Manifest,
    pub head_text: String,
    /// `(path at baseline, manifest, text)`; `None` for a new app.
    pub base: Option<(String, Manifest, String)>,
}

/// An app at the baseline with no manifest at head.
pub struct Removed {
    /// Where it was at the baseline.
    pub path: String,
    pub base: Manifest,
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
    pub head_ledger: &'a [Entry],
    pub ledger_path: &'a str,
    /// `YYYY-MM-DDTHH:MM:SSZ`, for expiry.
    pub now: &'a str,
    /// Entries the change adds that lack a qualifying review, with the reason (from
    /// `scopegate ci`). They approve nothing; what they would approve is `pending`.
    pub untrusted: &'a [(Entry, String)],
    /// Tenant profiles (from the baseline, like the config), by name.
    pub tenants: &'a [Tenant],
}

pub fn gate(input: &Input<'_>) -> Report {
    let opts = input.config.options;
    let mut findings: Vec<Finding> = Vec::new();
    let mut changes: Vec<Change> = Vec::new();
    let mut apps = Vec::new();
    for app in input.apps {
        let base = app.base.as_ref().map(|(_, m, _)| m);
        // The lint and the diff are independent: on a CI runner's two cores they overlap.
        let (lint_findings, app_changes) = std::thread::scope(|t| {
            let lint = t.spawn(|| lint::check(&app.head, opts));
            let changes = diff(base, &app.head, opts);
            (
                lint.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                changes,
            )
        });
        findings.extend(lint_findings);
        changes.extend(app_changes);
        apps.push(AppReport {
            app: app.head.id.value.clone(),
            path: app.head.path.clone(),
            baseline_path: app.base.as_ref().map(|(p, _, _)| p.clone()),
            new_app: app.base.is_none(),
            removed_app: false,
            text_diff: text_diff(app),
        });
    }
    for gone in input.removed {
        changes.extend(crate::diff::removed(&gone.base, opts));
        apps.push(AppReport {
            app: gone.base.id.value.clone(),
            path: gone.path.clone(),
            baseline_path: Some(gone.path.clone()),
            new_app: false,
            removed_app: true,
            text_diff: String::new(),
        });
    }
    for f in &mut findings {
        f.severity = input.config.severity_of(&f.rule);
    }
    for c in &mut changes {
        c.severity = input.config.severity_of(&c.rule);
    }

    let ledger = Ledger::new(input);
    findings.extend(ledger.rewritten());
    for c in changes
        .iter_mut()
        .filter(|c| c.direction == Direction::Escalation)
    {
        c.approval = ledger.approval_for(c);
    }
    // A change approved in part is shown as its approved and unapproved parts, so the
    // reviewer sees exactly what still needs a decision.
    let changes: Vec<Change> = changes
        .into_iter()
        .flat_map(|c| ledger.split_partly_approved(&c).unwrap_or_else(|| vec![c]))
        .collect();
    for c in changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
    {
        if c.approval.state == ApprovalState::Expired {
            findings.push(ledger.finding(
                "approval-expired",
                c.approval.entry_line,
                format!(
                    "the approval of `{}` expired; it needs a fresh approval",
                    c.key
                ),
            ));
        }
    }
    findings.extend(ledger.stale(&changes, input.apps, input.removed));
    findings.extend(ledger.unknown_tenants());
    let rows = tenant_matrix(input, &ledger, &changes, &mut findings);
    let blocked: Vec<&str> = rows
        .iter()
        .filter(|r| r.verdict == TenantVerdict::Blocked)
        .map(|r| r.tenant.as_str())
        .collect();
    let tenants_fail =
        input.config.tenant_mode == crate::report::TenantMode::Enforce && !blocked.is_empty();

    let lint_threshold = match input.config.fail_on_lint {
        LintGate::Error => Some(Severity::Error),
        LintGate::Warning => Some(Severity::Warning),
        LintGate::Never => None,
    };
    let lint_fails = findings.iter().any(|f| {
        rule(&f.rule).kind == RuleKind::Lint && lint_threshold.is_some_and(|t| f.severity >= t)
    });
    let ledger_fails = findings.iter().any(|f| f.rule == "ledger-rewritten");
    let unapproved = changes.iter().any(|c| c.approval.is_outstanding());
    let access_changed = changes.iter().any(|c| c.direction != Direction::Workflow);
    let mut reasons = Vec::new();
    let n_unapproved = changes
        .iter()
        .filter(|c| c.approval.is_outstanding())
        .count();
    if n_unapproved > 0 {
        reasons.push(count(n_unapproved, "unapproved escalation"));
    }
    if ledger_fails {
        reasons.push("the approvals ledger was rewritten".to_string());
    }
    if let Some(t) = lint_threshold.filter(|_| lint_fails) {
        let n = findings
            .iter()
            .filter(|f| rule(&f.rule).kind == RuleKind::Lint && f.severity >= t)
            .count();
        reasons.push(format!(
            "{} at or above `{}`",
            count(n, "lint finding"),
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

/// One row per tenant: its policy and EHR judged on the head manifests, and whether
/// every escalation has an approval that applies to it. Findings go to `findings`.
fn tenant_matrix(
    input: &Input<'_>,
    ledger: &Ledger<'_>,
    changes: &[Change],
    findings: &mut Vec<Finding>,
) -> Vec<crate::report::TenantRow> {
    let manifests: Vec<&Manifest> = input.apps.iter().map(|a| &a.head).collect();
    let escalations: Vec<&Change> = changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    let mut rows = Vec::new();
    for t in input.tenants {
        let (policy, ehr) = tenant::judge_all(t, &manifests, input.config);
        let name = t.profile.name.as_str();
        let mut column = ApprovalColumn {
            missing: Vec::new(),
            outstanding: 0,
        };
        for c in &escalations {
            if c.approval.is_outstanding() {
                column.outstanding += 1;
                continue;
            }
            let sensitive = Scope::parse(&c.scope)
                .ok()
                .and_then(|s| t.profile.sensitive_in(&s).map(str::to_string));
            let applies = |e: &Entry| {
                e.tenants.iter().any(|x| x == name) || (e.tenants.is_empty() && sensitive.is_none())
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
                column.missing.push(Finding {
                    rule: "tenant-approval-missing".into(),
                    severity: input.config.severity_of("tenant-approval-missing"),
                    app: c.app.clone(),
                    location: c.location.clone(),
                    message: format!("`{}` has no approval for tenant `{name}`{why}", c.key),
                    hint: Some(format!(
                        "scopegate approve --tenant {name} {} (by an authorized release manager)",
                        c.key
                    )),
                    tenant: Some(name.to_string()),
                });
            }
        }
        rows.push(tenant::row(t, &policy, &ehr, Some(&column)));
        findings.extend(policy);
        findings.extend(ehr);
        findings.extend(column.missing);
    }
    rows
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
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

/// Ledger entries with their provenance.
struct Ledger<'a> {
    /// `(entry, added by the change under review)`, trusted entries only.
    entries: Vec<(&'a Entry, bool)>,
    /// Added entries without a qualifying review, with the reason.
    pending: Vec<(&'a Entry, &'a str)>,
    input: &'a Input<'a>,
}

impl<'a> Ledger<'a> {
    fn new(input: &'a Input<'a>) -> Ledger<'a> {
        // Entries present at the baseline were reviewed when they merged; entries the
        // change adds are marked, and on GitHub count only with a qualifying review.
        let mut entries: Vec<(&Entry, bool)> =
            input.base_ledger.iter().map(|e| (e, false)).collect();
        let mut pending = Vec::new();
        for e in input
            .head_ledger
            .iter()
            .filter(|e| !input.base_ledger.contains(e))
        {
            match input.untrusted.iter().find(|(u, _)| u == e) {
                Some((_, why)) => pending.push((e, why.as_str())),
                None => entries.push((e, true)),
            }
        }
        Ledger {
            entries,
            pending,
            input,
        }
    }

    fn finding(&self, id: &str, line: Option<u32>, message: String) -> Finding {
        let r = rule(id);
        Finding {
            rule: r.id.to_string(),
            severity: self.input.config.severity_of(id),
            app: String::new(),
            location: Location::new(
                self.input.ledger_path,
                Pos {
                    line: line.unwrap_or(1),
                    column: 1,
                },
            ),
            message,
            hint: None,
            tenant: None,
        }
    }

    /// Entries limited to tenants that have no profile (a misspelt name approves nowhere).
    fn unknown_tenants(&self) -> Vec<Finding> {
        let known: Vec<&str> = self
            .input
            .tenants
            .iter()
            .map(|t| t.profile.name.as_str())
            .collect();
        let all = self
            .entries
            .iter()
            .map(|(e, _)| *e)
            .chain(self.pending.iter().map(|(e, _)| *e));
        let mut out = Vec::new();
        for e in all {
            for t in e.tenants.iter().filter(|t| !known.contains(&t.as_str())) {
                let mut f = self.finding(
                    "approval-unknown-tenant",
                    Some(e.pos.line),
                    format!(
                        "the approval by {} is limited to tenant `{t}`, which has no profile in {}/",
                        e.by,
                        tenant::DIR
                    ),
                );
                f.hint = crate::hint::did_you_mean(t, known.iter().copied())
                    .map(|n| format!("did you mean `{n}`?"))
                    .or_else(|| Some(format!("add {}/{t}.yaml", tenant::DIR)));
                out.push(f);
            }
        }
        out
    }

    /// Every baseline entry must still be there, unchanged and in order.
    fn rewritten(&self) -> Option<Finding> {
        let (base, head) = (self.input.base_ledger, self.input.head_ledger);
        let first_bad = base
            .iter()
            .zip(head.iter().map(Some).chain(std::iter::repeat(None)))
            .position(|(b, h)| h != Some(b))?;
        let line = head.get(first_bad).map(|e| e.pos.line);
        let mut f = self.finding(
            "ledger-rewritten",
            line,
            format!(
                "approval entry {} (line {} at the baseline) was edited or deleted; the ledger is append-only",
                first_bad + 1,
                base[first_bad].pos.line
            ),
        );
        f.hint = Some("restore the entry exactly as it was, and append a new entry instead".into());
        Some(f)
    }

    /// The approval state of a change, counting every entry; `tenants` names the
    /// tenants it is limited to when only tenant-limited entries approve it.
    fn approval_for(&self, c: &Change) -> Approval {
        let mut a = self.approval_among(c, &|_| true);
        if a.state == ApprovalState::Approved
            && self.approval_among(c, &|e| e.tenants.is_empty()).state != ApprovalState::Approved
        {
            let opts = self.input.config.options;
            let mut tenants: Vec<String> = Scope::parse(&c.scope)
                .map(|piece| {
                    self.entries
                        .iter()
                        .filter(|(e, _)| !e.expired_at(self.input.now))
                        .filter(|(e, _)| {
                            e.keys.iter().any(|k| {
                                k.app == c.app
                                    && (covers(&piece, &k.scope, opts)
                                        || covers(&k.scope, &piece, opts)
                                        || tenant::overlaps(&piece, &k.scope, opts))
                            })
                        })
                        .flat_map(|(e, _)| e.tenants.iter().cloned())
                        .collect()
                })
                .unwrap_or_default();
            tenants.sort();
            tenants.dedup();
            a.tenants = tenants;
        }
        a
    }

    /// The approval state of a change, counting only entries `applies` accepts.
    fn approval_among(&self, c: &Change, applies: &dyn Fn(&Entry) -> bool) -> Approval {
        let Ok(piece) = Scope::parse(&c.scope) else {
            return unapproved();
        };
        let opts = self.input.config.options;
        let now = self.input.now;
        let for_app = |e: &Entry| -> Vec<Scope> {
            e.keys
                .iter()
                .filter(|k| k.app == c.app)
                .map(|k| k.scope.clone())
                .collect()
        };
        let approved = |e: &Entry, added: bool| Approval {
            state: ApprovalState::Approved,
            by: Some(e.by.clone()),
            ticket: e.ticket.clone(),
            entry_line: Some(e.pos.line),
            added_in_change: added,
            reason: None,
            tenants: Vec::new(),
        };
        // One entry that covers it alone, reviewed entries first.
        let mut live: Vec<&(&Entry, bool)> = self
            .entries
            .iter()
            .filter(|(e, _)| !e.expired_at(now) && applies(e))
            .collect();
        live.sort_by_key(|(_, added)| *added);
        for (e, added) in &live {
            if ScopeSet::new(&for_app(e), opts).grants(&piece) {
                return approved(e, *added);
            }
        }
        // Several entries together.
        let together: Vec<Scope> = live.iter().flat_map(|(e, _)| for_app(e)).collect();
        if ScopeSet::new(&together, opts).grants(&piece) {
            let contributing: Vec<&(&Entry, bool)> = live
                .iter()
                .copied()
                .filter(|(e, _)| {
                    for_app(e)
                        .iter()
                        .any(|k| covers(&piece, k, opts) || covers(k, &piece, opts))
                })
                .collect();
            let by: Vec<&str> = contributing.iter().map(|(e, _)| e.by.as_str()).collect();
            return Approval {
                state: ApprovalState::Approved,
                by: Some(by.join(", ")),
                ticket: None,
                entry_line: contributing.first().map(|(e, _)| e.pos.line),
                added_in_change: contributing.iter().any(|(_, a)| *a),
                reason: None,
                tenants: Vec::new(),
            };
        }
        // Would the entries still waiting for a review approve it?
        let with_pending: Vec<Scope> = together
            .iter()
            .cloned()
            .chain(
                self.pending
                    .iter()
                    .filter(|(e, _)| applies(e))
                    .flat_map(|(e, _)| for_app(e)),
            )
            .collect();
        if ScopeSet::new(&with_pending, opts).grants(&piece) {
            let waiting: Vec<&(&Entry, &str)> = self
                .pending
                .iter()
                .filter(|(e, _)| applies(e))
                .filter(|(e, _)| {
                    for_app(e)
                        .iter()
                        .any(|k| covers(&piece, k, opts) || covers(k, &piece, opts))
                })
                .collect();
            let reasons: Vec<&str> = waiting.iter().map(|(_, why)| *why).collect();
            return Approval {
                state: ApprovalState::Pending,
                by: Some(
                    waiting
                        .iter()
                        .map(|(e, _)| e.by.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                ticket: waiting.first().and_then(|(e, _)| e.ticket.clone()),
                entry_line: waiting.first().map(|(e, _)| e.pos.line),
                added_in_change: true,
                reason: Some(reasons.join("; ")),
                tenants: Vec::new(),
            };
        }
        let expired = self.entries.iter().find(|(e, _)| {
            e.expired_at(now) && applies(e) && ScopeSet::new(&for_app(e), opts).grants(&piece)
        });
        if let Some((e, added)) = expired {
            return Approval {
                state: ApprovalState::Expired,
                ..approved(e, *added)
            };
        }
        unapproved()
    }

    /// The scopes live entries approve for `app`.
    fn approved_scopes(&self, app: &str) -> Vec<Scope> {
        self.entries
            .iter()
            .filter(|(e, _)| !e.expired_at(self.input.now))
            .flat_map(|(e, _)| {
                e.keys
                    .iter()
                    .filter(|k| k.app == app)
                    .map(|k| k.scope.clone())
            })
            .collect()
    }

    /// For an unapproved resource change that approvals cover in part (by letters),
    /// the approved part and the unapproved part as two changes.
    fn split_partly_approved(&self, c: &Change) -> Option<Vec<Change>> {
        if c.direction != Direction::Escalation || c.approval.state != ApprovalState::Unapproved {
            return None;
        }
        let Ok(Scope::Resource(r)) = Scope::parse(&c.scope) else {
            return None;
        };
        let opts = self.input.config.options;
        let residual = ScopeSet::new(&self.approved_scopes(&c.app), opts).uncovered(&r);
        if residual.is_empty()
            || residual == [r.clone()]
            || residual.iter().any(|x| x.restriction != r.restriction)
        {
            return None;
        }
        let missing = residual
            .iter()
            .fold(Perms::from_letters([]), |acc, x| acc.union(x.perms));
        let app = self.input.apps.iter().find(|a| a.head.id.value == c.app)?;
        let base: Vec<Scope> = app
            .base
            .as_ref()
            .map(|(_, b, _)| b.requested().cloned().collect())
            .unwrap_or_default();
        let part = |perms| {
            let s = Scope::Resource(ResourceScope { perms, ..r.clone() });
            let rules = classify(&s, &base, opts);
            let mut part = Change {
                rule: rules[0].to_string(),
                also: rules[1..].iter().map(|x| x.to_string()).collect(),
                severity: rules
                    .iter()
                    .map(|x| self.input.config.severity_of(x))
                    .max()
                    .unwrap_or(Severity::Note),
                key: format!("{}:{s}", c.app),
                scope: s.to_string(),
                workflows: justifying_workflows(&app.head, &s, opts),
                ..c.clone()
            };
            part.approval = self.approval_for(&part);
            part
        };
        Some(vec![part(r.perms.minus(missing)), part(missing)])
    }

    /// Live entries that approve nothing current and nothing the baseline already grants.
    fn stale(&self, changes: &[Change], apps: &[App], removed: &[Removed]) -> Vec<Finding> {
        let opts = self.input.config.options;
        let mut out = Vec::new();
        for (e, _) in &self.entries {
            if e.expired_at(self.input.now) {
                continue;
            }
            let matches_something = e.keys.iter().any(|k| {
                let current = changes.iter().any(|c| {
                    c.app == k.app
                        && c.direction == Direction::Escalation
                        && Scope::parse(&c.scope)
                            .is_ok_and(|p| covers(&k.scope, &p, opts) || covers(&p, &k.scope, opts))
                });
                let settled = apps.iter().any(|a| {
                    a.head.id.value == k.app
                        && a.base.as_ref().is_some_and(|(_, b, _)| {
                            ScopeSet::new(b.requested(), opts).grants(&k.scope)
                        })
                }) || removed.iter().any(|r| {
                    r.base.id.value == k.app
                        && ScopeSet::new(r.base.requested(), opts).grants(&k.scope)
                });
                current || settled
            });
            if !matches_something {
                let keys: Vec<String> = e.keys.iter().map(ToString::to_string).collect();
                out.push(self.finding(
                    "approval-stale",
                    Some(e.pos.line),
                    format!(
                        "the approval by {} ({}) matches no current change and nothing the baseline grants",
                        e.by,
                        keys.join(", ")
                    ),
                ));
            }
        }
        out
    }
}

fn unapproved() -> Approval {
    Approval {
        state: ApprovalState::Unapproved,
        ..Approval::not_required()
    }
}
