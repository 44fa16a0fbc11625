//! Approvals judged against the ledger: which entries count, what each change's
//! approval state is (per tenant too), and the ledger's own findings (rewritten,
//! stale, unknown tenants).
//!
//! Pure, part of the gate. It reads no files; entries come parsed from
//! [`crate::approval`].

use super::{App, Input, Removed};
use crate::approval::Entry;
use crate::diff::{classify, justifying_workflows};
use crate::grant::{ScopeSet, covers};
use crate::manifest::Pos;
use crate::report::{Approval, ApprovalState, Change, Direction, Finding, Location};
use crate::rules::{Severity, rule};
use crate::scope::{Perms, ResourceScope, Scope};
use crate::tenant;

/// Ledger entries with their provenance.
pub(super) struct Ledger<'a> {
    /// `(entry, added by the change under review)`, trusted entries only.
    entries: Vec<(&'a Entry, bool)>,
    /// Added entries without a qualifying review, with the reason.
    pending: Vec<(&'a Entry, &'a str)>,
    /// The unverified entries by position (sorted), so that marking an approval costs
    /// a lookup, not a scan of the ledger.
    unverified: Vec<(Pos, &'a Entry)>,
    /// The signed entries by position (sorted), with the key's fingerprint.
    signed: Vec<(Pos, &'a Entry, &'a str)>,
    input: &'a Input<'a>,
}

impl<'a> Ledger<'a> {
    pub(super) fn new(input: &'a Input<'a>) -> Ledger<'a> {
        // Entries present at the baseline were reviewed when they merged; entries the
        // change adds are marked, and on GitHub count only with a qualifying review.
        let mut entries: Vec<(&Entry, bool)> =
            input.base_ledger.iter().map(|e| (e, false)).collect();
        let mut pending = Vec::new();
        // By position, then equality: a lookup per added entry, not a scan.
        let mut untrusted: Vec<(Pos, &Entry, &str)> = input
            .untrusted
            .iter()
            .map(|(e, why)| (e.pos, e, why.as_str()))
            .collect();
        untrusted.sort_by_key(|(p, _, _)| (p.line, p.column));
        for e in input
            .head_ledger
            .iter()
            .filter(|e| !input.base_ledger.contains(e))
        {
            let why = untrusted
                .binary_search_by_key(&(e.pos.line, e.pos.column), |(p, _, _)| (p.line, p.column))
                .ok()
                .filter(|i| untrusted[*i].1 == e)
                .map(|i| untrusted[i].2);
            match why {
                Some(why) => pending.push((e, why)),
                None => entries.push((e, true)),
            }
        }
        let mut unverified: Vec<(Pos, &Entry)> =
            input.unverified.iter().map(|e| (e.pos, e)).collect();
        unverified.sort_by_key(|(p, _)| (p.line, p.column));
        let mut signed: Vec<(Pos, &Entry, &str)> = input
            .signed
            .iter()
            .map(|(e, fp)| (e.pos, e, fp.as_str()))
            .collect();
        signed.sort_by_key(|(p, _, _)| (p.line, p.column));
        Ledger {
            entries,
            pending,
            unverified,
            signed,
            input,
        }
    }

    /// The fingerprint of the key whose signature verified `e`.
    fn signed_with(&self, e: &Entry) -> Option<String> {
        self.signed
            .binary_search_by_key(&(e.pos.line, e.pos.column), |(p, _, _)| (p.line, p.column))
            .ok()
            .filter(|i| self.signed[*i].1 == e)
            .map(|i| self.signed[i].2.to_string())
    }

    /// Whether `e` counts only because the run is advisory.
    fn is_unverified(&self, e: &Entry) -> bool {
        self.unverified
            .binary_search_by_key(&(e.pos.line, e.pos.column), |(p, _)| (p.line, p.column))
            .is_ok_and(|i| self.unverified[i].1 == e)
    }

    pub(super) fn finding(&self, id: &str, line: Option<u32>, message: String) -> Finding {
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
            key: None,
            capability: None,
        }
    }

    /// Entries limited to tenants that have no profile (a misspelt name approves nowhere).
    pub(super) fn unknown_tenants(&self) -> Vec<Finding> {
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
    pub(super) fn rewritten(&self) -> Option<Finding> {
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
    pub(super) fn approval_for(&self, c: &Change) -> Approval {
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
    pub(super) fn approval_among(&self, c: &Change, applies: &dyn Fn(&Entry) -> bool) -> Approval {
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
            unverified: self.is_unverified(e),
            signed_with: self.signed_with(e),
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
                unverified: contributing.iter().any(|(e, _)| self.is_unverified(e)),
                signed_with: None,
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
                unverified: false,
                signed_with: None,
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
    pub(super) fn split_partly_approved(&self, c: &Change) -> Option<Vec<Change>> {
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
    pub(super) fn stale(
        &self,
        changes: &[Change],
        apps: &[App],
        removed: &[Removed],
    ) -> Vec<Finding> {
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
