//! The one value `scopegate usage` produces: a [`UsageReport`]. Renderers only format
//! it. Owns the JSON contract (`schemas/usage.schema.json`); decides nothing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::{Finding, Location};

/// Bumped when the JSON output changes incompatibly. 2: `granted` (per scope and in the
/// summary) is null when no granted-scopes evidence was given, where 1 wrote 0.
pub(crate) const FORMAT_VERSION: u32 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsageVerdict {
    Pass,
    Fail,
}

/// Counts for a quick verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct UsageSummary {
    /// Scopes the manifest requests (valid tokens).
    pub(crate) scopes: usize,
    /// Scopes granted (or, without grant evidence, requested) but not used, in whole
    /// or in part.
    pub(crate) unused: usize,
    pub(crate) over_granted: usize,
    pub(crate) out_of_manifest: usize,
    pub(crate) drift: usize,
    pub(crate) bad_lines: u64,
}

/// One evidence file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct EvidenceFile {
    pub(crate) path: String,
    /// `access-log`, `audit-events` or `granted`.
    pub(crate) kind: String,
    /// Records read.
    pub(crate) records: u64,
    pub(crate) bad_lines: u64,
}

/// A record that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct BadLine {
    pub(crate) file: String,
    pub(crate) line: u64,
    pub(crate) reason: String,
}

/// Records set aside on purpose (never silently dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct SkippedRecords {
    /// Records of other apps than `app`.
    pub(crate) other_app: u64,
    /// Records before `since`.
    pub(crate) before_window: u64,
    /// Capability statements (`GET [base]/metadata`): no scope needed.
    pub(crate) capabilities: u64,
    /// Batch or transaction requests logged without their entries.
    pub(crate) batch_without_entries: u64,
    /// AuditEvents that record no RESTful access of their own (logins; whole
    /// batches, whose entries are audited separately).
    pub(crate) not_access: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Evidence {
    pub(crate) files: Vec<EvidenceFile>,
    pub(crate) skipped: SkippedRecords,
    /// Exact count of bad lines over all files.
    pub(crate) bad_lines: u64,
    /// The first bad lines, by file and line (at most 20).
    pub(crate) bad_line_samples: Vec<BadLine>,
    /// Whether any granted-scopes evidence was given. Without it, "granted" is
    /// unknown and unused scopes are judged against what the manifest requests.
    pub(crate) grant_evidence: bool,
}

/// One scope in one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct TenantUsage {
    pub(crate) tenant: String,
    /// Token responses in the window whose scopes grant this scope whole (null:
    /// unknown, no granted-scopes evidence was given).
    pub(crate) granted: Option<u64>,
    /// Successful requests this scope was needed for (null: not observable, e.g.
    /// `openid` or `launch`).
    pub(crate) used: Option<u64>,
    /// Failed requests it would have covered.
    pub(crate) failed: u64,
    pub(crate) last_used: Option<String>,
}

/// Requested, granted and used, for one scope of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ScopeUsage {
    /// As written in the manifest.
    pub(crate) scope: String,
    /// Canonical SMART 2 form.
    pub(crate) normalized: String,
    pub(crate) requested: bool,
    pub(crate) location: Location,
    /// Whether use of this scope is visible in access evidence (resource scopes are;
    /// identity, launch and refresh scopes are not).
    pub(crate) observable: bool,
    /// Token responses granting it, over all tenants (null: no granted-scopes evidence).
    pub(crate) granted: Option<u64>,
    pub(crate) used: Option<u64>,
    pub(crate) tenants: Vec<TenantUsage>,
    /// What it was used for, as `Type.letters` (`*` for system level), sorted.
    pub(crate) used_for: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    /// Never used: remove the scope.
    Remove,
    /// Used in part: request `suggestion` instead.
    Narrow,
}

/// A scope granted but not (fully) used in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Unused {
    pub(crate) scope: String,
    pub(crate) location: Location,
    pub(crate) action: Action,
    /// The scopes to request instead (empty for `remove`), computed with the algebra.
    pub(crate) suggestion: Vec<String>,
    /// The access the suggestion gives up.
    pub(crate) drops: Vec<String>,
    /// Tenants that granted it without any use of it.
    pub(crate) idle_tenants: Vec<String>,
}

/// Access an EHR granted beyond what the manifest requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct OverGrant {
    pub(crate) tenant: String,
    /// The granted scope, normalized (`patient/Observation.read` is `patient/Observation.rs`).
    pub(crate) granted: String,
    /// The part of it the manifest does not request, in whole scopes.
    pub(crate) beyond_request: Vec<String>,
    pub(crate) responses: u64,
    pub(crate) last: String,
    pub(crate) first_seen: Location,
}

/// Observed access that no requested scope covers: an anomaly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct OutOfManifest {
    pub(crate) tenant: String,
    /// Null for system-level access without `_type`.
    pub(crate) resource: Option<String>,
    pub(crate) interaction: String,
    /// The search's restriction parameters, `p=v&…` (empty otherwise).
    pub(crate) parameters: String,
    /// The access as a scope body, `Type.letter[?p=v]` (the level is not observable).
    pub(crate) needs: String,
    pub(crate) requests: u64,
    pub(crate) failed: u64,
    pub(crate) last: Option<String>,
    pub(crate) first_seen: Location,
}

/// `$operation` requests: SMART defines no scopes for operations, so they are listed
/// for review rather than matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct OperationUse {
    pub(crate) tenant: String,
    pub(crate) resource: Option<String>,
    pub(crate) operation: String,
    pub(crate) requests: u64,
    pub(crate) failed: u64,
}

/// Access a workflow says it needs, never observed in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Drift {
    pub(crate) workflow: String,
    pub(crate) need: String,
    /// The part of the need never observed, in whole scopes.
    pub(crate) unobserved: Vec<String>,
    pub(crate) location: Location,
}

/// Everything one `scopegate usage` run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "scopegate usage report")]
pub struct UsageReport {
    pub(crate) format_version: u32,
    pub(crate) tool: String,
    pub(crate) app: String,
    pub(crate) manifest: String,
    /// The window's start (`--since`), or null for all evidence.
    pub(crate) since: Option<String>,
    pub verdict: UsageVerdict,
    pub(crate) reasons: Vec<String>,
    pub(crate) summary: UsageSummary,
    pub(crate) evidence: Evidence,
    /// Every tenant in the evidence, sorted.
    pub(crate) tenants: Vec<String>,
    /// One row per requested scope, in manifest order.
    pub(crate) scopes: Vec<ScopeUsage>,
    pub(crate) unused: Vec<Unused>,
    pub(crate) over_granted: Vec<OverGrant>,
    pub(crate) out_of_manifest: Vec<OutOfManifest>,
    pub(crate) operations: Vec<OperationUse>,
    pub(crate) drift: Vec<Drift>,
    /// The same results as findings (rule ids from `scopegate rules`), for SARIF.
    pub(crate) findings: Vec<Finding>,
}

/// The JSON Schema of the usage report (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(UsageReport)).unwrap_or_default()
}
