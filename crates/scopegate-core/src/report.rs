//! The one value analysis produces: a [`Report`]. Renderers only format it.
//!
//! Owns the shape of findings and the JSON contract (`schemas/report.schema.json`).
//! It must not decide anything: verdicts are computed by the lint and stored here.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::manifest::Pos;
use crate::rules::{RuleId, Severity, rule};

/// Bumped when the JSON output changes incompatibly.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Where a finding points.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    /// The manifest path as given.
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub(crate) fn new(file: &str, pos: Pos) -> Location {
        Location {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
        }
    }
}

/// One problem found in a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// A rule id from the catalogue (`scopegate rules`).
    pub rule: RuleId,
    pub severity: Severity,
    /// The app id of the manifest.
    pub(crate) app: String,
    pub(crate) location: Location,
    pub(crate) message: String,
    /// A concrete fix, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    /// The token or tokens that replace the manifest entry, one entry each, when there
    /// is exactly one correction: `["offline_access"]` for `offline-access`, every
    /// token of a scope string pasted into one entry. Absent when there are several
    /// candidates (the hint lists them) or none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) suggestion: Vec<String>,
    /// The tenant whose profile or EHR the finding is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The `key` of the change the finding is about (`<app-id>:<scope>`), when it is
    /// about one change: `tenant-approval-missing`, `approval-expired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The SMART capability code the finding is about (`ehr-capability-missing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) capability: Option<String>,
}

impl Finding {
    /// A finding of `rule` at its catalogue severity, with no hint, tenant, key or
    /// capability; the `with_`/`for_` methods add them.
    pub fn new(rule_id: RuleId, app: &str, location: Location, message: String) -> Finding {
        Finding {
            rule: rule_id,
            severity: rule(rule_id).severity,
            app: app.to_string(),
            location,
            message,
            hint: None,
            suggestion: Vec::new(),
            tenant: None,
            key: None,
            capability: None,
        }
    }

    /// The severity the config gives the rule, when it overrides the catalogue's.
    pub(crate) fn with_severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    pub(crate) fn with_hint(mut self, hint: Option<String>) -> Finding {
        self.hint = hint;
        self
    }

    /// The corrected token(s) that replace the entry; see [`Finding::suggestion`].
    pub(crate) fn with_suggestion(mut self, suggestion: Vec<String>) -> Finding {
        self.suggestion = suggestion;
        self
    }

    pub fn for_tenant(mut self, tenant: &str) -> Finding {
        self.tenant = Some(tenant.to_string());
        self
    }

    pub fn with_key(mut self, key: &str) -> Finding {
        self.key = Some(key.to_string());
        self
    }

    pub(crate) fn with_capability(mut self, capability: &str) -> Finding {
        self.capability = Some(capability.to_string());
        self
    }
}

/// Counts for a quick verdict. `escalations`, `reductions` and `unapproved` count
/// changes to the access the app requests (summed over apps); workflow-level changes
/// are counted only in `workflow_changes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub escalations: usize,
    pub(crate) reductions: usize,
    pub unapproved: usize,
    pub(crate) workflow_changes: usize,
    pub(crate) manifests: usize,
    pub(crate) errors: usize,
    pub(crate) warnings: usize,
    pub(crate) notes: usize,
}

/// Whether the access change needs approval, and whether it has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalState {
    /// Reductions and workflow changes.
    NotRequired,
    Approved,
    Unapproved,
    /// Only expired approvals would cover it.
    Expired,
    /// Approved by an entry this change adds, which still lacks a qualifying review
    /// (on GitHub: an `APPROVED` review at the head commit by the named approver).
    Pending,
}

/// The ledger entry behind an approval state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    pub state: ApprovalState,
    /// Who approved (for `approved` and `expired`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The line of the ledger entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_line: Option<u32>,
    /// The entry was added by the change under review (not yet part of a release):
    /// on GitHub it counts only with a qualifying review.
    pub added_in_change: bool,
    /// The approving entries count only because the run is advisory: no review or
    /// signature verified them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unverified: bool,
    /// The SHA256 fingerprint of the SSH key whose signature verified the approving
    /// entry (signed approvals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_with: Option<String>,
    /// Why a `pending` approval does not count yet, and who may approve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The tenants the approval is limited to; empty when it applies to every tenant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<String>,
}

impl Approval {
    pub fn not_required() -> Approval {
        Approval {
            state: ApprovalState::NotRequired,
            by: None,
            ticket: None,
            entry_line: None,
            added_in_change: false,
            unverified: false,
            signed_with: None,
            reason: None,
            tenants: Vec::new(),
        }
    }

    /// How the approving entry came in, for the renderers: "", ", added in this change",
    /// the key that signed it, and the advisory mark when nothing verified it.
    pub(crate) fn provenance(&self) -> String {
        let signed = self
            .signed_with
            .as_deref()
            .map(|fp| format!(", signed with {fp}"))
            .unwrap_or_default();
        match (self.added_in_change, self.unverified) {
            (_, true) => {
                ", UNVERIFIED (advisory run: no review or signature checked it)".to_string()
            }
            (true, false) => format!(", added in this change{signed}"),
            (false, false) => signed,
        }
    }

    /// The change still needs a decision.
    pub(crate) fn is_outstanding(&self) -> bool {
        matches!(
            self.state,
            ApprovalState::Unapproved | ApprovalState::Expired | ApprovalState::Pending
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Escalation,
    Reduction,
    Workflow,
}

/// One semantic change between the baseline and this version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub app: String,
    pub direction: Direction,
    /// The rule that best names the risk; `also` lists the others that apply.
    pub rule: RuleId,
    pub also: Vec<RuleId>,
    /// The risk: error (high), warning (medium) or note (low).
    pub severity: Severity,
    /// `<app-id>:<scope>`: exactly the new (or removed) access; approvals bind to it.
    pub key: String,
    /// The new or removed access, as a whole canonical scope.
    pub scope: String,
    /// The scope as written in the head manifest that brings it (escalations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// Baseline scopes it widens or narrows.
    pub before: Vec<String>,
    /// A reviewer's sentence.
    pub description: String,
    pub location: Location,
    /// Workflows whose needs this access serves.
    pub workflows: Vec<String>,
    pub approval: Approval,
    /// On a pull request judged against an earlier release: whether this escalation is
    /// new relative to the PR's base commit (null when not computed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_in_pr: Option<bool>,
}

/// The verdict of a gate run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No change to requested access, and nothing failing.
    NoChange,
    Pass,
    Fail,
}

/// What the run compared against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Baseline {
    /// What was asked for: `previous release (v*)`, `--base main`, `--base-file …`, `none`.
    pub source: String,
    /// The resolved tag or ref, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl AppReport {
    /// The manifest is at another path than at the baseline.
    fn elsewhere(&self) -> bool {
        !self.removed_app && self.baseline_path.as_ref().is_some_and(|b| *b != self.path)
    }
}

impl Report {
    /// App `a`'s manifest moved since the baseline commit. A baseline file
    /// (`--base-file`), which has no commit, is compared with whatever it is named: its
    /// other path is no move.
    pub(crate) fn moved(&self, a: &AppReport) -> bool {
        a.elsewhere() && self.baseline.as_ref().is_none_or(|b| b.commit.is_some())
    }
}

/// One manifest's place in the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppReport {
    pub app: String,
    /// The manifest at head (for a removed app: where it was at the baseline).
    pub path: String,
    /// Where the manifest was at the baseline; null for a new app. It differs from
    /// `path` when the app moved (same id, its old path gone at head).
    pub baseline_path: Option<String>,
    pub new_app: bool,
    /// At the baseline, but no manifest with this id at head: all its access is
    /// reported as removed (`app-removed`).
    #[serde(default)]
    pub removed_app: bool,
    /// The app id the manifest at this path had at the baseline, when it now claims
    /// another (`app-id-changed`; its content is diffed against that path's baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_changed_from: Option<String>,
    /// For a removed app: why gating stopped (what became of its manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gating_stopped: Option<String>,
    /// Unified diff of the manifest text, baseline to head (empty when identical).
    pub text_diff: String,
}

/// The outcome of one column of the tenant matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Check {
    Pass,
    /// Worth a look, but not blocking (e.g. a scope the EHR does not list).
    Warn,
    Fail,
    /// Nothing to check: no EHR snapshot, or no baseline to approve against.
    NotChecked,
}

impl Check {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Check::Pass => "pass",
            Check::Warn => "warn",
            Check::Fail => "fail",
            Check::NotChecked => "not-checked",
        }
    }
}

/// Whether this release may ship to a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TenantVerdict {
    Ship,
    Blocked,
}

/// Whether a blocked tenant fails the gate (`enforce`) or is only shown (`report`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TenantMode {
    #[default]
    Enforce,
    Report,
}

/// One row of the tenant matrix: the head manifests judged by one tenant's profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TenantRow {
    pub tenant: String,
    /// The profile file.
    pub(crate) profile: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// Every requested scope is within the tenant's deny, allow and level policy.
    pub(crate) policy: Check,
    /// Every escalation has an approval that applies to this tenant.
    pub(crate) approvals: Check,
    /// The tenant's EHR supports what the apps request.
    pub(crate) ehr: Check,
    pub verdict: TenantVerdict,
    /// Why the row is not a clean pass, one phrase each.
    pub(crate) problems: Vec<String>,
}

/// Everything one run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    /// The JSON format version; see `schemas/report.schema.json`.
    pub(crate) format_version: u32,
    pub(crate) tool: String,
    pub summary: Summary,
    /// The gate's verdict; null for `check`.
    pub verdict: Option<Verdict>,
    /// Why the verdict is `fail`, one phrase per cause (empty otherwise).
    pub(crate) reasons: Vec<String>,
    /// True when config and ledger came from the working tree, not the baseline: the
    /// verdict is then advisory.
    pub(crate) advisory: bool,
    pub baseline: Option<Baseline>,
    /// What named the manifests: the config's `manifests:` entries (paths and globs)
    /// as written, or the paths given on the command line. Empty for `check`.
    #[serde(default)]
    pub manifests: Vec<String>,
    pub(crate) apps: Vec<AppReport>,
    /// Escalations first (by severity), then reductions, then workflow changes.
    pub changes: Vec<Change>,
    /// Sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
    /// How blocked tenants count; null when there are no tenant profiles.
    #[serde(default)]
    pub tenant_mode: Option<TenantMode>,
    /// The tenant matrix: one row per profile in `.scopegate/tenants/`, by name.
    #[serde(default)]
    pub tenants: Vec<TenantRow>,
}

/// Sorts `v` stably by `cmp`, as `sort_by` does, moving each element at most once
/// into place: the numbers of the elements are sorted, then the elements follow.
/// Changes and findings are a few hundred bytes each, and a merge sort moves every one
/// at each of its passes (4,000 changes: 18 MB copied, and a buffer of 0.7 MB).
fn sort_large_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> std::cmp::Ordering) {
    let Ok(n) = u32::try_from(v.len()) else {
        v.sort_by(cmp);
        return;
    };
    // `order[k]`: the number of the element that belongs at `k`.
    let mut order: Vec<u32> = (0..n).collect();
    order.sort_by(|&i, &j| cmp(&v[i as usize], &v[j as usize]));
    // Each cycle of the permutation is followed once: the element that belongs at
    // `here` is swapped in from where it is, and `here` moves on to that place.
    for start in 0..v.len() {
        let mut here = start;
        while order[here] as usize != start {
            let from = order[here] as usize;
            v.swap(here, from);
            order[here] = u32::try_from(here).unwrap_or(u32::MAX);
            here = from;
        }
        order[here] = u32::try_from(here).unwrap_or(u32::MAX);
    }
}

impl Report {
    /// A lint-only report (`scopegate check`).
    pub fn new(manifests: usize, findings: Vec<Finding>) -> Report {
        Report::build(
            manifests,
            findings,
            Vec::new(),
            Vec::new(),
            None,
            None,
            false,
        )
    }

    /// Sorts and counts; the verdict is computed by the gate and passed in.
    pub fn build(
        manifests: usize,
        mut findings: Vec<Finding>,
        mut changes: Vec<Change>,
        apps: Vec<AppReport>,
        baseline: Option<Baseline>,
        verdict: Option<Verdict>,
        advisory: bool,
    ) -> Report {
        sort_large_by(&mut findings, |a, b| {
            (&a.location, &a.rule, &a.tenant, &a.message).cmp(&(
                &b.location,
                &b.rule,
                &b.tenant,
                &b.message,
            ))
        });
        let dir_rank = |d: Direction| match d {
            Direction::Escalation => 0,
            Direction::Reduction => 1,
            Direction::Workflow => 2,
        };
        sort_large_by(&mut changes, |a, b| {
            (
                dir_rank(a.direction),
                std::cmp::Reverse(a.severity),
                &a.app,
                &a.location,
                &a.key,
            )
                .cmp(&(
                    dir_rank(b.direction),
                    std::cmp::Reverse(b.severity),
                    &b.app,
                    &b.location,
                    &b.key,
                ))
        });
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let dir = |d| changes.iter().filter(|c| c.direction == d).count();
        let summary = Summary {
            escalations: dir(Direction::Escalation),
            reductions: dir(Direction::Reduction),
            unapproved: changes
                .iter()
                .filter(|c| c.approval.is_outstanding())
                .count(),
            workflow_changes: dir(Direction::Workflow),
            manifests,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
        };
        Report {
            format_version: FORMAT_VERSION,
            tool: format!("scopegate {}", env!("CARGO_PKG_VERSION")),
            summary,
            verdict,
            reasons: Vec::new(),
            advisory,
            baseline,
            manifests: Vec::new(),
            apps,
            changes,
            findings,
            tenant_mode: None,
            tenants: Vec::new(),
        }
    }
}

/// The JSON Schema of the report (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// Sorting by the elements' numbers then moving each into place is `sort_by`:
        /// the same order, ties kept in the order they came (stable).
        #[test]
        fn sort_large_by_is_a_stable_sort(keys in proptest::collection::vec(0u8..8, 0..300)) {
            let items: Vec<(u8, usize)> = keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect();
            let mut want = items.clone();
            want.sort_by_key(|a| a.0);
            let mut got = items;
            super::sort_large_by(&mut got, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(got, want);
        }
    }
}
