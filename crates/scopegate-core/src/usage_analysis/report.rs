//! The one value `scopegate usage` produces: a [`UsageReport`]. Renderers only format
//! it. Owns the JSON contract (`schemas/usage.schema.json`); decides nothing.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::{Finding, Location};

/// Bumped when the JSON output changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UsageVerdict {
    Pass,
    Fail,
}

/// Counts for a quick verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct UsageSummary {
    /// Scopes the manifest requests (valid tokens).
    pub scopes: usize,
    /// Scopes granted (or, without grant evidence, requested) but not used, in whole
    /// or in part.
    pub unused: usize,
    pub over_granted: usize,
    pub out_of_manifest: usize,
    pub drift: usize,
    pub bad_lines: u64,
}

/// One evidence file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EvidenceFile {
    pub path: String,
    /// `access-log`, `audit-events` or `granted`.
    pub kind: String,
    /// Records read.
    pub records: u64,
    pub bad_lines: u64,
}

/// A record that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BadLine {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Records set aside on purpose (never silently dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedRecords {
    /// Records of other apps than `app`.
    pub other_app: u64,
    /// Records before `since`.
    pub before_window: u64,
    /// Capability statements (`GET [base]/metadata`): no scope needed.
    pub capabilities: u64,
    /// Batch or transaction requests logged without their entries.
    pub batch_without_entries: u64,
    /// AuditEvents that record no RESTful access of their own (logins; whole
    /// batches, whose entries are audited separately).
    pub not_access: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub files: Vec<EvidenceFile>,
    pub skipped: SkippedRecords,
    /// Exact count of bad lines over all files.
    pub bad_lines: u64,
    /// The first bad lines, by file and line (at most 20).
    pub bad_line_samples: Vec<BadLine>,
    /// Whether any granted-scopes evidence was given. Without it, "granted" is
    /// unknown and unused scopes are judged against what the manifest requests.
    pub grant_evidence: bool,
}

/// One scope in one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TenantUsage {
    pub tenant: String,
    /// Token responses in the window whose scopes grant this scope whole (null:
    /// unknown, no granted-scopes evidence was given).
    pub granted: Option<u64>,
    /// Successful requests this scope was needed for (null: not observable, e.g.
    /// `openid` or `launch`).
    pub used: Option<u64>,
    /// Failed requests it would have covered.
    pub failed: u64,
    pub last_used: Option<String>,
}

/// Requested, granted and used, for one scope of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScopeUsage {
    /// As written in the manifest.
    pub scope: String,
    /// Canonical SMART 2 form.
    pub normalized: String,
    pub requested: bool,
    pub location: Location,
    /// Whether use of this scope is visible in access evidence (resource scopes are;
    /// identity, launch and refresh scopes are not).
    pub observable: bool,
    /// Token responses granting it, over all tenants (null: no granted-scopes evidence).
    pub granted: Option<u64>,
    pub used: Option<u64>,
    pub tenants: Vec<TenantUsage>,
    /// What it was used for, as `Type.letters` (`*` for system level), sorted.
    pub used_for: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Never used: remove the scope.
    Remove,
    /// Used in part: request `suggestion` instead.
    Narrow,
}

/// A scope granted but not (fully) used in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Unused {
    pub scope: String,
    pub location: Location,
    pub action: Action,
    /// The scopes to request instead (empty for `remove`), computed with the algebra.
    pub suggestion: Vec<String>,
    /// The access the suggestion gives up.
    pub drops: Vec<String>,
    /// Tenants that granted it without any use of it.
    pub idle_tenants: Vec<String>,
}

/// Access an EHR granted beyond what the manifest requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OverGrant {
    pub tenant: String,
    /// The granted scope, normalized (`patient/Observation.read` is `patient/Observation.rs`).
    pub granted: String,
    /// The part of it the manifest does not request, in whole scopes.
    pub beyond_request: Vec<String>,
    pub responses: u64,
    pub last: String,
    pub first_seen: Location,
}

/// Observed access that no requested scope covers: an anomaly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutOfManifest {
    pub tenant: String,
    /// Null for system-level access without `_type`.
    pub resource: Option<String>,
    pub interaction: String,
    /// The search's restriction parameters, `p=v&…` (empty otherwise).
    pub parameters: String,
    /// The access as a scope body, `Type.letter[?p=v]` (the level is not observable).
    pub needs: String,
    pub requests: u64,
    pub failed: u64,
    pub last: Option<String>,
    pub first_seen: Location,
}

/// `$operation` requests: SMART defines no scopes for operations, so they are listed
/// for review rather than matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OperationUse {
    pub tenant: String,
    pub resource: Option<String>,
    pub operation: String,
    pub requests: u64,
    pub failed: u64,
}

/// Access a workflow says it needs, never observed in the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Drift {
    pub workflow: String,
    pub need: String,
    /// The part of the need never observed, in whole scopes.
    pub unobserved: Vec<String>,
    pub location: Location,
}

/// Everything one `scopegate usage` run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "scopegate usage report")]
pub struct UsageReport {
    pub format_version: u32,
    pub tool: String,
    pub app: String,
    pub manifest: String,
    /// The window's start (`--since`), or null for all evidence.
    pub since: Option<String>,
    pub verdict: UsageVerdict,
    pub reasons: Vec<String>,
    pub summary: UsageSummary,
    pub evidence: Evidence,
    /// Every tenant in the evidence, sorted.
    pub tenants: Vec<String>,
    /// One row per requested scope, in manifest order.
    pub scopes: Vec<ScopeUsage>,
    pub unused: Vec<Unused>,
    pub over_granted: Vec<OverGrant>,
    pub out_of_manifest: Vec<OutOfManifest>,
    pub operations: Vec<OperationUse>,
    pub drift: Vec<Drift>,
    /// The same results as findings (rule ids from `scopegate rules`), for SARIF.
    pub findings: Vec<Finding>,
}

/// The JSON Schema of the usage report (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(UsageReport)).unwrap_or_default()
}
