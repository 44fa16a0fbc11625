//! The rule catalogue: every finding and change scopegate can report, as data.
//!
//! Owns rule ids (the [`RuleId`] enum, serialised as its stable kebab-case id, never
//! reused), default severities, whether a change needs approval, the docs that
//! `scopegate rules` and `docs/rules.md` show, and each rule's consent-notice sentence.
//! It decides nothing about a manifest; the lint and the diff name rules from here.

use schemars::JsonSchema;
use serde::Serialize;

/// How serious a finding is. Ordered: `Note < Warning < Error`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    /// The word for a change's risk: high, medium or low.
    pub(crate) fn risk(self) -> &'static str {
        match self {
            Severity::Error => "high",
            Severity::Warning => "medium",
            Severity::Note => "low",
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A property of one manifest (`scopegate check`).
    Lint,
    /// New access since the baseline; fails the gate until approved.
    Escalation,
    /// Access removed since the baseline; never needs approval.
    Reduction,
    /// A change to workflows or rationales, shown for information.
    Workflow,
    /// The approvals ledger itself.
    Ledger,
    /// A tenant's policy or EHR (one row of the tenant matrix).
    Tenant,
    /// Requested vs granted vs used (`scopegate usage`): evidence against the manifest.
    Usage,
}

/// Declares [`RuleId`] from `Variant = "kebab-id"` pairs, in catalogue order: the
/// enum, [`RuleId::ALL`] and [`RuleId::as_str`] come from this one list.
macro_rules! rule_ids {
    ($($variant:ident = $id:literal,)*) => {
        /// A rule of the catalogue. Serialised as its kebab-case id (`invalid-scope`),
        /// which is stable and never reused; [`rule`] gives its catalogue entry.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum RuleId {
            $($variant,)*
        }

        impl RuleId {
            /// Every rule, in catalogue order.
            pub const ALL: [RuleId; [$($id,)*].len()] = [$(RuleId::$variant,)*];

            /// The kebab-case id, as in reports, SARIF and `docs/rules.md`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }
    };
}

rule_ids! {
    InvalidScope = "invalid-scope",
    PermissionOrder = "permission-order",
    UnknownResourceType = "unknown-resource-type",
    UnknownScope = "unknown-scope",
    UnjustifiedScope = "unjustified-scope",
    UncoveredNeed = "uncovered-need",
    OverbroadWildcard = "overbroad-wildcard",
    OverbroadScope = "overbroad-scope",
    OfflineAccessWithoutReason = "offline-access-without-reason",
    MissingRationale = "missing-rationale",
    DuplicateScope = "duplicate-scope",
    RedundantScope = "redundant-scope",
    PatientScopeWithoutLaunchContext = "patient-scope-without-launch-context",
    DeprecatedProfileScope = "deprecated-profile-scope",
    ResourceAccessAdded = "resource-access-added",
    ReadAccessAdded = "read-access-added",
    WriteAccessAdded = "write-access-added",
    DeleteAccessAdded = "delete-access-added",
    WildcardTypeAdded = "wildcard-type-added",
    LevelWidened = "level-widened",
    RestrictionLoosened = "restriction-loosened",
    OfflineAccessAdded = "offline-access-added",
    OnlineAccessAdded = "online-access-added",
    IdentityScopeAdded = "identity-scope-added",
    LaunchContextAdded = "launch-context-added",
    OpaqueScopeAdded = "opaque-scope-added",
    InvalidScopeAdded = "invalid-scope-added",
    AccessRemoved = "access-removed",
    WorkflowAdded = "workflow-added",
    WorkflowNeedsWidened = "workflow-needs-widened",
    WorkflowRemoved = "workflow-removed",
    RationaleChanged = "rationale-changed",
    LedgerRewritten = "ledger-rewritten",
    ApprovalExpired = "approval-expired",
    ApprovalSpent = "approval-spent",
    ApprovalStale = "approval-stale",
    TenantDenied = "tenant-denied",
    TenantNotAllowed = "tenant-not-allowed",
    TenantLevelExceeded = "tenant-level-exceeded",
    TenantApprovalMissing = "tenant-approval-missing",
    EhrScopeUnlisted = "ehr-scope-unlisted",
    EhrCapabilityMissing = "ehr-capability-missing",
    ApprovalUnknownTenant = "approval-unknown-tenant",
    AppRemoved = "app-removed",
    OutOfManifestUse = "out-of-manifest-use",
    ScopeUnused = "scope-unused",
    ScopePartlyUsed = "scope-partly-used",
    ScopeOverGranted = "scope-over-granted",
    WorkflowNeedUnobserved = "workflow-need-unobserved",
    AppIdChanged = "app-id-changed",
    AppGatingStopped = "app-gating-stopped",
    MixedSmartVersions = "mixed-smart-versions",
    UnknownRestrictionCode = "unknown-restriction-code",
}

impl RuleId {
    /// The rule with this kebab-case id, if there is one.
    pub(crate) fn parse(id: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == id)
    }
}

/// The ids, joined by `sep`: `a, b`.
pub(crate) fn join(ids: &[RuleId], sep: &str) -> String {
    ids.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(sep)
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Ordered by id text, as the `String` ids were: findings sort by rule.
impl Ord for RuleId {
    fn cmp(&self, other: &RuleId) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for RuleId {
    fn partial_cmp(&self, other: &RuleId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for RuleId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RuleId, D::Error> {
        let id = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RuleId::parse(&id)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unknown rule `{id}`")))
    }
}

/// A string in the JSON schemas: the ids are listed in `docs/rules.md`, and a schema
/// that enumerated them would reject the reports of a newer scopegate.
impl JsonSchema for RuleId {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        String::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: RuleId,
    pub kind: RuleKind,
    pub(crate) severity: Severity,
    /// Whether a change this rule reports fails the gate until approved.
    pub(crate) needs_approval: bool,
    pub(crate) summary: &'static str,
    /// Why it matters.
    pub(crate) why: &'static str,
    /// A manifest fragment that triggers it.
    pub(crate) example: &'static str,
    /// Where the behaviour comes from, when a spec says so.
    pub(crate) citation: Option<&'static str>,
    /// The sentence for the consent notice (`scopegate diff --format notice`), in plain
    /// language. Placeholders: `{access}` (what the scope lets the app do, a verb phrase),
    /// `{workflows}` (` (workflow: id — description)` or nothing), `{workflow}`,
    /// `{tenant}`, `{scope}` (the token as written) and `{detail}`.
    #[serde(skip)]
    pub(crate) notice: &'static str,
    /// The notice sentence for several findings of this rule at one tenant: `{access}`
    /// lists what each is about (separated by semicolons), `{detail}` their details.
    #[serde(skip)]
    pub(crate) notice_grouped: Option<&'static str>,
}

const IG_SCOPES: &str = "SMART App Launch 2.2, Scopes and Launch Context (hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)";

/// Every rule, in catalogue order. Append only: ids are never reused or renamed.
pub static RULES: &[Rule] = &CATALOGUE;

/// The catalogue, one entry per [`RuleId`] at the index of its variant (checked when
/// this compiles), so that [`rule`] is an index, not a search.
const CATALOGUE: [Rule; RuleId::ALL.len()] = [
    Rule {
        id: RuleId::InvalidScope,
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A scope token is not in the SMART grammar.",
        why: "Servers may ignore, replace or reject a malformed scope, so the app silently gets different access than reviewed. scopegate refuses to reason about it.",
        example: "scopes:\n  - scope: patient/Observation.\n    rationale: vitals",
        citation: Some(IG_SCOPES),
        notice: "The app asks for “{scope}”, which is not a valid SMART permission.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::PermissionOrder,
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "Permission letters are repeated or not in `cruds` order.",
        why: "\"Valid suffixes are a subset of the in-order string .cruds\"; a request such as `.dus` \"is not a defined scope request\" and MAY be ignored, replaced or rejected.",
        example: "scopes:\n  - scope: patient/Observation.sr\n    rationale: vitals",
        citation: Some(IG_SCOPES),
        notice: "The app asks for “{scope}”, whose permission letters are not in the standard order.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::UnknownResourceType,
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A resource type does not exist in the manifest's FHIR version.",
        why: "A misspelled or retired type (e.g. `DeviceUseStatement` on R5) grants nothing, so the workflow breaks, or a later fix silently widens access.",
        example: "fhir_version: R4\nscopes:\n  - scope: patient/Obsevation.rs\n    rationale: vitals",
        citation: Some(
            "FHIR resource type lists: hl7.org/fhir/R4/resourcelist.html (and DSTU2, STU3, R4B, R5)",
        ),
        notice: "The app asks for “{scope}”, which names a type of record that does not exist in its FHIR version.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::UnknownScope,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A token is neither a SMART scope nor an extension scope.",
        why: "scopegate cannot say what an unknown token grants; extension scopes should be a full URI or start with `__`.",
        example: "scopes:\n  - scope: email\n    rationale: contact",
        citation: Some(IG_SCOPES),
        notice: "The app asks for “{scope}”, a permission whose meaning is not defined by SMART.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::UnjustifiedScope,
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A scope, or part of one, is not needed by any workflow.",
        why: "Least privilege: \"remove any scope not used by at least one approved workflow\". Every extra scope is more patient data exposed.",
        example: "scopes:\n  - scope: patient/Observation.crus\n    rationale: vitals\nworkflows:\n  - id: vitals\n    needs: [patient/Observation.rs]",
        citation: None,
        notice: "The app asks to {access}, but none of its workflows needs all of it.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::UncoveredNeed,
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A workflow needs access that no requested scope grants.",
        why: "The workflow will fail at run time, and the fix usually arrives as a rushed, broad scope.",
        example: "scopes: []\nworkflows:\n  - id: vitals\n    needs: [patient/Observation.rs]",
        citation: None,
        notice: "A workflow needs access the app does not ask for: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OverbroadWildcard,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A `*` resource-type scope is requested, but the workflows need only some types.",
        why: "`*` covers every resource type \"now and in the future\"; naming the needed types keeps the grant from growing with the server.",
        example: "scopes:\n  - scope: patient/*.rs\n    rationale: chart\nworkflows:\n  - id: chart\n    needs: [patient/Observation.rs, patient/Condition.rs]",
        citation: Some(IG_SCOPES),
        notice: "The app asks to {access}, though its workflows need only some types of records.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OverbroadScope,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A scope is broader than every workflow that uses it (a restriction or level could be narrower).",
        why: "Workflows that need only `?category=laboratory` should not receive every Observation.",
        example: "scopes:\n  - scope: patient/Observation.rs\n    rationale: labs\nworkflows:\n  - id: labs\n    needs: [patient/Observation.rs?category=laboratory]",
        citation: Some(IG_SCOPES),
        notice: "The app asks to {access}, more than any of its workflows needs.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OfflineAccessWithoutReason,
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "`offline_access` is requested, but no workflow gives a reason to run with no user present.",
        why: "A refresh token usable while the user is offline outlives the session; if the app cannot explain why in one sentence tied to a workflow, it does not need one.",
        example: "scopes:\n  - scope: offline_access\n    rationale: convenience",
        citation: Some(IG_SCOPES),
        notice: "The app asks to {access}, but no workflow says why it must run after you log out.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::MissingRationale,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A scope has no rationale, or a workflow has no description (or a TODO placeholder).",
        why: "Reviewers and consent screens need the reason for each scope; an unexplained scope cannot be reviewed.",
        example: "scopes:\n  - scope: patient/Observation.rs",
        citation: None,
        notice: "The app does not explain part of what it asks for: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::DuplicateScope,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "The same scope is requested twice, possibly in another spelling (`.read` and `.rs`).",
        why: "Duplicates add nothing and hide which rationale applies.",
        example: "scopes:\n  - scope: patient/Observation.read\n  - scope: patient/Observation.rs",
        citation: Some(IG_SCOPES),
        notice: "The app asks twice to {access}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::RedundantScope,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A requested scope is already granted by another requested scope.",
        why: "The narrower scope adds nothing; its presence suggests the broader one was added without review.",
        example: "scopes:\n  - scope: patient/*.rs\n  - scope: patient/Observation.rs",
        citation: None,
        notice: "The app asks to {access}, which another permission it asks for already allows.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::PatientScopeWithoutLaunchContext,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "`patient/` scopes are requested without `launch` or `launch/patient`.",
        why: "The EHR \"MAY refuse authorization requests including patient/ that do not also include a valid launch\" (EHR launch) or `launch/patient` (standalone).",
        example: "scopes:\n  - scope: patient/Observation.rs",
        citation: Some(IG_SCOPES),
        notice: "The app asks for one patient's records without asking which patient is in context.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::DeprecatedProfileScope,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "The `profile` scope is deprecated; use `openid fhirUser`.",
        why: "SMART 1.0 allowed `openid profile` but said the profile claim \"is being deprecated\"; SMART 2.x defines only `fhirUser`.",
        example: "scopes:\n  - scope: profile",
        citation: Some("SMART App Launch 1.0, Scopes for requesting identity data"),
        notice: "The app asks for the retired “profile” permission; “openid fhirUser” replaces it.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ResourceAccessAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Warning,
        needs_approval: true,
        summary: "Access to a resource type the app could not reach before.",
        why: "A new resource type is new patient data in every consent screen and every tenant.",
        example: "base: [patient/Observation.rs]\nhead: [patient/Observation.rs, patient/Condition.rs]",
        citation: None,
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ReadAccessAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Note,
        needs_approval: true,
        summary: "New read or search interactions on a resource type the app already accessed.",
        why: "`r` adds read, vread and instance history; `s` adds type and system search and history: search reaches records the app was never pointed at.",
        example: "base: [patient/Observation.r]\nhead: [patient/Observation.rs]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::WriteAccessAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Warning,
        needs_approval: true,
        summary: "New create (`c`) or update (`u`) access.",
        why: "Writes change the legal medical record; SMART 1.0: \"write access does not imply read access\", and the reverse holds too.",
        example: "base: [patient/MedicationStatement.rs]\nhead: [patient/MedicationStatement.crs]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::DeleteAccessAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Error,
        needs_approval: true,
        summary: "New delete (`d`) access.",
        why: "Deleting clinical records is rarely needed by an app and hard to undo.",
        example: "base: [patient/Observation.crus]\nhead: [patient/Observation.cruds]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}. Deleted records are hard to recover.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::WildcardTypeAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Error,
        needs_approval: true,
        summary: "A `*` resource type: every type, now and in the future.",
        why: "The IG spells out that `*` covers types \"both now and in the future\": the grant grows with the server without another review.",
        example: "base: [patient/Observation.rs]\nhead: [patient/*.rs]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}. This includes types of records the EHR adds in the future.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::LevelWidened,
        kind: RuleKind::Escalation,
        severity: Severity::Error,
        needs_approval: true,
        summary: "Access at a new level (`patient/` to `user/` or `system/`).",
        why: "`user/` reaches every patient the user may see and `system/` every patient the client may see, not just the patient in context. The IG states no containment between levels.",
        example: "base: [patient/Observation.rs]\nhead: [user/Observation.rs]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}. This reaches more patients than before.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::RestrictionLoosened,
        kind: RuleKind::Escalation,
        severity: Severity::Warning,
        needs_approval: true,
        summary: "A query restriction removed or loosened (e.g. a dropped `?category=`).",
        why: "`?category=laboratory` means \"laboratory observations but not other observations\"; dropping or widening it exposes the rest.",
        example: "base: [patient/Observation.rs?category=laboratory]\nhead: [patient/Observation.rs]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}. Before, it could reach only some of these records.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OfflineAccessAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Error,
        needs_approval: true,
        summary: "`offline_access`: a refresh token usable with no user present.",
        why: "A stolen refresh token keeps access long after the session; it extends every other grant in time.",
        example: "base: [launch, patient/Observation.rs]\nhead: [launch, patient/Observation.rs, offline_access]",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OnlineAccessAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Warning,
        needs_approval: true,
        summary: "`online_access`: a refresh token usable while the user stays online.",
        why: "Refresh tokens extend access beyond one access token's lifetime.",
        example: "head adds: online_access",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::IdentityScopeAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Note,
        needs_approval: true,
        summary: "An identity scope (`openid`, `fhirUser`, `profile`).",
        why: "The app learns who the user is; combined with data scopes this links records to a person.",
        example: "head adds: openid fhirUser",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::LaunchContextAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Note,
        needs_approval: true,
        summary: "A launch context scope (`launch`, `launch/patient`, `launch/<type>`).",
        why: "New context changes which records the app is pointed at.",
        example: "head adds: launch/encounter",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OpaqueScopeAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Warning,
        needs_approval: true,
        summary: "An extension or unknown scope, which scopegate cannot reason about.",
        why: "What an opaque scope grants is defined by the server alone, so every addition needs a person to look.",
        example: "head adds: __profilePhoto.manage",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}. What this permission allows is defined by your EHR.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::InvalidScopeAdded,
        kind: RuleKind::Escalation,
        severity: Severity::Error,
        needs_approval: true,
        summary: "A token that is not a valid SMART scope, counted as opaque new access whatever the lint settings.",
        why: "The IG lets a server ignore, replace or reject a malformed scope, and some servers honour near-misses (`patient/*.sr`, `Patient/*.read`), so what it grants is unknown: it needs a person to look. Its key names the token in double quotes, with `\\u{hex}` for anything that is not printable ASCII.",
        example: "base: [patient/Observation.rs]\nhead: [patient/*.sr]   # key: app:\"patient/*.sr\"",
        citation: Some(IG_SCOPES),
        notice: "This version can now {access}{workflows}. It is not a valid SMART permission, so what it allows is up to your EHR.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::AccessRemoved,
        kind: RuleKind::Reduction,
        severity: Severity::Note,
        needs_approval: false,
        summary: "Access the baseline granted and this version does not.",
        why: "Reductions are good news; they are shown so reviewers can confirm no workflow breaks.",
        example: "base: [patient/*.rs]\nhead: [patient/Observation.rs]",
        citation: None,
        notice: "This version can no longer {access}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::WorkflowAdded,
        kind: RuleKind::Workflow,
        severity: Severity::Note,
        needs_approval: false,
        summary: "A new workflow.",
        why: "New workflows are why scopes change; reviewers read them next to the escalations they justify.",
        example: "head adds workflow: refill-request",
        citation: None,
        notice: "New workflow: {workflow}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::WorkflowNeedsWidened,
        kind: RuleKind::Workflow,
        severity: Severity::Note,
        needs_approval: false,
        summary: "A workflow now needs more access than at the baseline.",
        why: "Shows which workflow drives an escalation.",
        example: "base needs: [patient/Observation.rs]\nhead needs: [patient/Observation.crs]",
        citation: None,
        notice: "The workflow {workflow} now also needs to {access}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::WorkflowRemoved,
        kind: RuleKind::Workflow,
        severity: Severity::Note,
        needs_approval: false,
        summary: "A workflow was removed.",
        why: "Scopes that only served it should go too (the lint reports them as unjustified).",
        example: "base has workflow: legacy-export; head does not",
        citation: None,
        notice: "The workflow {workflow} was removed.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::RationaleChanged,
        kind: RuleKind::Workflow,
        severity: Severity::Note,
        needs_approval: false,
        summary: "The rationale of an unchanged scope was reworded.",
        why: "Shown for information: consent text and reviews quote rationales.",
        example: "rationale: Vitals -> rationale: Vitals and lab trends",
        citation: None,
        notice: "The reason the app gives to {access} now reads: “{detail}”.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::LedgerRewritten,
        kind: RuleKind::Ledger,
        severity: Severity::Error,
        needs_approval: false,
        summary: "An approvals-ledger entry that exists at the baseline was edited or deleted.",
        why: "The ledger is append-only: a change must not be able to rewrite the approvals that judge it.",
        example: "an entry's `keys` or `by` changed in the pull request",
        citation: None,
        notice: "An approval already on record was edited or removed: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ApprovalExpired,
        kind: RuleKind::Ledger,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "An approval that would cover a current change has expired, is older than `approval_max_age`, or is dated more than a day after the gate's clock.",
        why: "Expired approvals do not count; the change needs a fresh review.",
        example: "expires: 2025-01-31",
        citation: None,
        notice: "An approval for this version has expired: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ApprovalSpent,
        kind: RuleKind::Ledger,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "An approval that would cover a current change was already in the baseline release's ledger: it is spent.",
        why: "An approval is good for the release it goes out with. If that release shipped the access, it is no change now; if the release went out without it, the access was given up, and bringing it back needs a new decision.",
        example: "2025: user/*.cruds approved and released; 2026: removed in v2; later: re-added with the 2025 entry",
        citation: None,
        notice: "An approval on record was used up by an earlier release and no longer counts: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ApprovalStale,
        kind: RuleKind::Ledger,
        severity: Severity::Note,
        needs_approval: false,
        summary: "An approval matches no current change and no access the baseline grants.",
        why: "Usually a mistyped key or a reverted change; the ledger is append-only, so it stays, reported.",
        example: "keys: [med-rec:patient/Obsevation.c]",
        citation: None,
        notice: "An approval on record matches nothing this version asks for: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::TenantDenied,
        kind: RuleKind::Tenant,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A requested scope grants access a tenant's profile denies.",
        why: "Each tenant is its own security boundary: a scope allowed at one health system may be refused at another, and the app must not ship there asking for it.",
        example: "# .scopegate/tenants/community-clinic.yaml\ndeny: ['*/*.d', offline_access]\n# smart-app.yaml\nscopes:\n  - scope: offline_access",
        citation: None,
        notice: "At {tenant}: the organization's policy does not allow the app to {access}.",
        notice_grouped: Some(
            "At {tenant}: the organization's policy does not allow the app to: {access}.",
        ),
    },
    Rule {
        id: RuleId::TenantNotAllowed,
        kind: RuleKind::Tenant,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A requested scope grants access outside a tenant's `allow` list.",
        why: "A tenant with an allow list permits only what it names; anything beyond is a policy exception that tenant has not granted.",
        example: "allow: ['patient/*.rs']\n# the app asks for patient/Observation.cruds",
        citation: None,
        notice: "At {tenant}: permission to {access} is outside what the organization allows.",
        notice_grouped: Some(
            "At {tenant}: these permissions are outside what the organization allows: {access}.",
        ),
    },
    Rule {
        id: RuleId::TenantLevelExceeded,
        kind: RuleKind::Tenant,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A requested scope is at a level above the tenant's `max_level`.",
        why: "`user/` and `system/` scopes reach beyond the patient in context; a tenant may allow only patient-level access.",
        example: "max_level: patient\n# the app asks for user/Patient.rs",
        citation: Some(
            "SMART App Launch 2.x, Scopes for requesting FHIR resources: patient-, user- and system-level scopes",
        ),
        notice: "At {tenant}: permission to {access} reaches more patients than the organization allows.",
        notice_grouped: Some(
            "At {tenant}: these permissions reach more patients than the organization allows: {access}.",
        ),
    },
    Rule {
        id: RuleId::TenantApprovalMissing,
        kind: RuleKind::Tenant,
        severity: Severity::Error,
        needs_approval: false,
        summary: "An escalation has no approval that applies to this tenant.",
        why: "Approvals may be limited to some tenants, and new access to a tenant's sensitive resource types needs an approval naming that tenant: one organisation's exception must not become another's default.",
        example: "approvals:\n  - keys: [med-rec:patient/MedicationStatement.c]\n    tenants: [academic-medical-center]",
        citation: None,
        notice: "At {tenant}: the new permission to {access} still needs the organization's approval.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::EhrScopeUnlisted,
        kind: RuleKind::Tenant,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A requested scope is not in the tenant EHR's `scopes_supported`.",
        why: "EHRs differ: some reject wildcards, v2 permission letters or granular scopes. The list is not exhaustive, so this is a warning to check before shipping.",
        example: "scopes_supported: [launch, patient/Observation.read]\n# the app asks for patient/Observation.rs",
        citation: Some(
            "SMART App Launch 2.x, Conformance: `scopes_supported`, \"Array of scopes a client may request\"",
        ),
        notice: "At {tenant}: the EHR does not list permission to {access}; confirm it is supported.",
        notice_grouped: Some(
            "At {tenant}: the EHR does not list these permissions; confirm they are supported: {access}.",
        ),
    },
    Rule {
        id: RuleId::EhrCapabilityMissing,
        kind: RuleKind::Tenant,
        severity: Severity::Error,
        needs_approval: false,
        summary: "The tenant EHR lacks a capability the app requires.",
        why: "An EHR without `permission-v2` cannot process v2 scopes, and one without `permission-offline` issues no refresh token for `offline_access`: the app breaks at that tenant.",
        example: "capabilities: [launch-ehr, permission-patient, permission-v1]\n# the app asks for patient/Observation.rs and offline_access",
        citation: Some("SMART App Launch 2.x, Conformance: Capabilities"),
        notice: "At {tenant}: the EHR lacks a feature this version needs ({detail}).",
        notice_grouped: Some("At {tenant}: the EHR lacks features this version needs ({detail})."),
    },
    Rule {
        id: RuleId::ApprovalUnknownTenant,
        kind: RuleKind::Ledger,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "An approval is limited to a tenant that has no profile.",
        why: "Usually a misspelt tenant name: the approval then applies nowhere the matrix knows.",
        example: "tenants: [comunity-clinic]",
        citation: None,
        notice: "An approval names an organization that has no profile: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::AppRemoved,
        kind: RuleKind::Reduction,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "An app gated at the baseline has no manifest at head: all its access is reported as removed.",
        why: "Usually a retired app, which is good news. The removal itself needs an approval (`app-gating-stopped`): a manifest that moved outside the config's `manifests:` paths and globs also looks removed, and from then on is no longer gated.",
        example: "base: apps/legacy/smart-app.yaml (id: legacy)\nhead: no manifest with id `legacy`",
        citation: None,
        notice: "This app was retired: it can no longer {access}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::OutOfManifestUse,
        kind: RuleKind::Usage,
        severity: Severity::Error,
        needs_approval: false,
        summary: "The app accessed data that no scope in its manifest grants.",
        why: "Either the EHR granted more than the app requested and the app uses it, or the evidence belongs to a build that is not this manifest. Both mean the reviewed manifest no longer describes what the app does.",
        example: "scopes:\n  - scope: patient/Observation.rs\n    rationale: vitals\n# access log: GET /Condition?patient=123",
        citation: Some(IG_SCOPES),
        notice: "The app was seen using access that no permission it requests covers: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ScopeUnused,
        kind: RuleKind::Usage,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A scope was granted but not used within the window.",
        why: "Every granted scope is data exposed if the app or its token is compromised. A scope that is granted everywhere but never used should be removed.",
        example: "scopes:\n  - scope: patient/AllergyIntolerance.rs\n    rationale: allergy banner\n# no AllergyIntolerance request in the access log since --since",
        citation: None,
        notice: "The permission to {access} was granted but not used, and can be removed.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ScopePartlyUsed,
        kind: RuleKind::Usage,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A scope was used only for some of the types or interactions it grants.",
        why: "A wildcard or a broad permission that is used for two types is scope creep waiting to happen; the narrower scopes that match the observed use are the least privilege.",
        example: "scopes:\n  - scope: patient/*.rs\n    rationale: chart\n# only Observation and Condition requests observed",
        citation: None,
        notice: "The permission to {access} was used only in part: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::ScopeOverGranted,
        kind: RuleKind::Usage,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "An EHR granted more access than the manifest requests.",
        why: "Over-granting EHRs hand the app access nobody reviewed; the app should not rely on it, and the tenant's registration should be fixed.",
        example: "scopes:\n  - scope: patient/Observation.rs\n    rationale: vitals\n# token response: scope=patient/*.read",
        citation: Some("RFC 6749 §3.3 (the authorization server may grant a different scope)"),
        notice: "An EHR granted more than this version asks for: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::WorkflowNeedUnobserved,
        kind: RuleKind::Usage,
        severity: Severity::Note,
        needs_approval: false,
        summary: "A workflow need was never observed in the evidence (drift).",
        why: "The manifest justifies scopes by workflows. A need that the app never exercises may belong to a retired workflow, and the scope it justifies may no longer be needed.",
        example: "workflows:\n  - id: reconcile\n    needs: [patient/MedicationStatement.c]\n# no POST /MedicationStatement in the access log",
        citation: None,
        notice: "The workflow {workflow} was never seen to {access}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::AppIdChanged,
        kind: RuleKind::Escalation,
        severity: Severity::Error,
        needs_approval: true,
        summary: "The manifest at a path gated at the baseline now claims another app id.",
        why: "Approvals are keyed by app id, and the id is free text in the manifest. Renaming an app in place to the id of another app, or of a retired app with old ledger entries, would let that app's approvals cover this manifest; two apps swapping ids would read as two moves. The head content is diffed against the same path's baseline, and the new identity needs its own approval, `<new-id>:*id-changed-from:<old-id>*`.",
        example: "base: apps/a/smart-app.yaml (id: scheduler)\nhead: apps/a/smart-app.yaml (id: billing)",
        citation: None,
        notice: "The app's identifier changed: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::AppGatingStopped,
        kind: RuleKind::Escalation,
        severity: Severity::Warning,
        needs_approval: true,
        summary: "An app gated at the baseline has no manifest at head, so nothing gates it from now on.",
        why: "A retired app is good news, but a manifest renamed (`.yaml` to `.yml`), moved outside the config's `manifests:`, replaced by a directory, a symlink or a device looks the same, and the app would silently leave the gate. The removal needs an approval of its own, `<app-id>:*removed*`; a gated path that is there but not a readable regular file is exit 2 until then.",
        example: "base: apps/legacy/smart-app.yaml (id: legacy)\nhead: no manifest with id `legacy`",
        citation: None,
        notice: "This app is no longer reviewed by this release process: {detail}.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::MixedSmartVersions,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A manifest writes some resource scopes in SMART v1 syntax (`.read`, `.write`) and others in v2 (`.rs`, `.cruds`).",
        why: "An EHR lists `permission-v1`, `permission-v2` or both in its `capabilities`: one that accepts only one syntax rejects or ignores the other scopes, so part of the app fails at some tenants. One syntax also keeps hints and `suggest` in the app's version.",
        example: "scopes:\n  - scope: patient/Observation.read\n  - scope: patient/Condition.rs",
        citation: Some(IG_SCOPES),
        notice: "The app writes its permissions in two versions of SMART, which some EHRs do not both accept.",
        notice_grouped: None,
    },
    Rule {
        id: RuleId::UnknownRestrictionCode,
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A restriction's value is not a code of the well-known value set of its search parameter (`Observation?category=`, `Condition?category=`).",
        why: "A misspelt code (`?category=labratory`) matches no record: the app gets nothing where it expected laboratory results, or an EHR rejects the scope. Codes are checked against observation-category (terminology.hl7.org/CodeSystem/observation-category) and condition-category plus US Core's `health-concern`.",
        example: "scopes:\n  - scope: patient/Observation.rs?category=labratory",
        citation: Some(IG_SCOPES),
        notice: "The app asks for “{scope}”, whose restriction names a code the standard does not define.",
        notice_grouped: None,
    },
];

const _: () = {
    let mut i = 0;
    while i < CATALOGUE.len() {
        assert!(
            CATALOGUE[i].id as usize == i,
            "the catalogue's entries must be in `RuleId` order"
        );
        i += 1;
    }
};

/// The catalogue entry of a rule.
pub fn rule(id: RuleId) -> &'static Rule {
    &CATALOGUE[id as usize]
}

/// `docs/rules.md`, generated from the catalogue.
pub fn markdown() -> String {
    let mut out = String::from(
        "# scopegate rules\n\n<!-- Generated by `scopegate rules --format markdown`; do not edit. -->\n\n\
         | id | kind | severity | needs approval | summary |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        out.push_str(&format!(
            "| [`{id}`](#{id}) | {kind} | {sev} | {appr} | {sum} |\n",
            id = r.id,
            kind = kind_name(r.kind),
            sev = r.severity.as_str(),
            appr = if r.needs_approval { "yes" } else { "no" },
            sum = r.summary,
        ));
    }
    for r in RULES {
        out.push_str(&format!(
            "\n## {}\n\n{}\n\n**Why:** {}\n",
            r.id.as_str(),
            r.summary,
            r.why
        ));
        if let Some(c) = r.citation {
            out.push_str(&format!("\n**Source:** {c}\n"));
        }
        out.push_str(&format!("\n**Example:**\n\n```yaml\n{}\n```\n", r.example));
    }
    out
}

pub(crate) fn kind_name(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Lint => "lint",
        RuleKind::Escalation => "escalation",
        RuleKind::Reduction => "reduction",
        RuleKind::Workflow => "workflow",
        RuleKind::Ledger => "ledger",
        RuleKind::Tenant => "tenant",
        RuleKind::Usage => "usage",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id.as_str()).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
    }

    #[test]
    fn ids_serialise_as_their_kebab_case_text_and_parse_back() {
        for id in RuleId::ALL {
            assert_eq!(rule(id).id, id);
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
            assert_eq!(serde_json::from_str::<RuleId>(&json).unwrap(), id);
            assert_eq!(RuleId::parse(id.as_str()), Some(id));
        }
        assert_eq!(RuleId::parse("Invalid-Scope"), None);
        let e = serde_json::from_str::<RuleId>("\"no-such-rule\"").unwrap_err();
        assert!(e.to_string().contains("unknown rule `no-such-rule`"), "{e}");
    }

    #[test]
    fn ids_order_as_their_text() {
        let mut ids = RuleId::ALL.to_vec();
        ids.sort();
        let mut texts: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        texts.sort_unstable();
        assert_eq!(ids.iter().map(|r| r.as_str()).collect::<Vec<_>>(), texts);
    }

    #[test]
    fn every_rule_has_a_notice_sentence_with_known_placeholders() {
        const PLACEHOLDERS: &[&str] = &[
            "access",
            "workflows",
            "workflow",
            "tenant",
            "scope",
            "detail",
        ];
        for r in RULES {
            assert!(r.notice.ends_with('.'), "{}: {}", r.id, r.notice);
            for t in std::iter::once(r.notice).chain(r.notice_grouped) {
                let mut filled = t.to_string();
                for p in PLACEHOLDERS {
                    filled = filled.replace(&format!("{{{p}}}"), "x");
                }
                assert!(!filled.contains(['{', '}']), "{}: {t}", r.id);
            }
            if r.notice_grouped.is_some() {
                assert_eq!(
                    r.kind,
                    RuleKind::Tenant,
                    "{}: grouped sentences are for tenant rules",
                    r.id
                );
            }
        }
    }

    #[test]
    fn the_id_list_is_stable() {
        // Ids are a public contract: this list may only grow at the end.
        let ids: Vec<&str> = RULES.iter().map(|r| r.id.as_str()).collect();
        insta::assert_snapshot!(ids.join("\n"));
    }

    #[test]
    fn docs_rules_md_is_generated_from_the_catalogue() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/rules.md"))
                .unwrap_or_default();
        assert!(
            committed == markdown(),
            "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
        );
    }
}
