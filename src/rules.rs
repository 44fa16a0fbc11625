//! The rule catalogue: every finding and change scopegate can report, as data.
//!
//! Owns rule ids (stable, kebab-case, never reused), default severities, whether a
//! change needs approval, and the docs that `scopegate rules` and `docs/rules.md` show.
//! It decides nothing about a manifest; the lint and the diff name rules from here.

use schemars::JsonSchema;
use serde::Serialize;

/// How serious a finding is. Ordered: `Note < Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
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
}

#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub kind: RuleKind,
    pub severity: Severity,
    /// Whether a change this rule reports fails the gate until approved.
    pub needs_approval: bool,
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// A manifest fragment that triggers it.
    pub example: &'static str,
    /// Where the behaviour comes from, when a spec says so.
    pub citation: Option<&'static str>,
}

const IG_SCOPES: &str = "SMART App Launch 2.2, Scopes and Launch Context (hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html)";

/// Every rule, in catalogue order. Append only: ids are never reused or renamed.
pub static RULES: &[Rule] = &[
    Rule {
        id: "invalid-scope",
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A scope token is not in the SMART grammar.",
        why: "Servers may ignore, replace or reject a malformed scope, so the app silently gets different access than reviewed. scopegate refuses to reason about it.",
        example: "scopes:\n  - scope: patient/Observation.\n    rationale: vitals",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "permission-order",
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "Permission letters are repeated or not in `cruds` order.",
        why: "\"Valid suffixes are a subset of the in-order string .cruds\"; a request such as `.dus` \"is not a defined scope request\" and MAY be ignored, replaced or rejected.",
        example: "scopes:\n  - scope: patient/Observation.sr\n    rationale: vitals",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "unknown-resource-type",
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A resource type does not exist in the manifest's FHIR version.",
        why: "A misspelled or retired type (e.g. `DeviceUseStatement` on R5) grants nothing, so the workflow breaks, or a later fix silently widens access.",
        example: "fhir_version: R4\nscopes:\n  - scope: patient/Obsevation.rs\n    rationale: vitals",
        citation: Some(
            "FHIR resource type lists: hl7.org/fhir/R4/resourcelist.html (and STU3, R4B, R5)",
        ),
    },
    Rule {
        id: "unknown-scope",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A token is neither a SMART scope nor an extension scope.",
        why: "scopegate cannot say what an unknown token grants; extension scopes should be a full URI or start with `__`.",
        example: "scopes:\n  - scope: email\n    rationale: contact",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "unjustified-scope",
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A scope, or part of one, is not needed by any workflow.",
        why: "Least privilege: \"remove any scope not used by at least one approved workflow\". Every extra scope is more patient data exposed.",
        example: "scopes:\n  - scope: patient/Observation.crus\n    rationale: vitals\nworkflows:\n  - id: vitals\n    needs: [patient/Observation.rs]",
        citation: None,
    },
    Rule {
        id: "uncovered-need",
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "A workflow needs access that no requested scope grants.",
        why: "The workflow will fail at run time, and the fix usually arrives as a rushed, broad scope.",
        example: "scopes: []\nworkflows:\n  - id: vitals\n    needs: [patient/Observation.rs]",
        citation: None,
    },
    Rule {
        id: "overbroad-wildcard",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A `*` resource-type scope is requested, but the workflows need only some types.",
        why: "`*` covers every resource type \"now and in the future\"; naming the needed types keeps the grant from growing with the server.",
        example: "scopes:\n  - scope: patient/*.rs\n    rationale: chart\nworkflows:\n  - id: chart\n    needs: [patient/Observation.rs, patient/Condition.rs]",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "overbroad-scope",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A scope is broader than every workflow that uses it (a restriction or level could be narrower).",
        why: "Workflows that need only `?category=laboratory` should not receive every Observation.",
        example: "scopes:\n  - scope: patient/Observation.rs\n    rationale: labs\nworkflows:\n  - id: labs\n    needs: [patient/Observation.rs?category=laboratory]",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "offline-access-without-reason",
        kind: RuleKind::Lint,
        severity: Severity::Error,
        needs_approval: false,
        summary: "`offline_access` is requested, but no workflow gives a reason to run with no user present.",
        why: "A refresh token usable while the user is offline outlives the session; if the app cannot explain why in one sentence tied to a workflow, it does not need one.",
        example: "scopes:\n  - scope: offline_access\n    rationale: convenience",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "missing-rationale",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A scope has no rationale, or a workflow has no description (or a TODO placeholder).",
        why: "Reviewers and consent screens need the reason for each scope; an unexplained scope cannot be reviewed.",
        example: "scopes:\n  - scope: patient/Observation.rs",
        citation: None,
    },
    Rule {
        id: "duplicate-scope",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "The same scope is requested twice, possibly in another spelling (`.read` and `.rs`).",
        why: "Duplicates add nothing and hide which rationale applies.",
        example: "scopes:\n  - scope: patient/Observation.read\n  - scope: patient/Observation.rs",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "redundant-scope",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "A requested scope is already granted by another requested scope.",
        why: "The narrower scope adds nothing; its presence suggests the broader one was added without review.",
        example: "scopes:\n  - scope: patient/*.rs\n  - scope: patient/Observation.rs",
        citation: None,
    },
    Rule {
        id: "patient-scope-without-launch-context",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "`patient/` scopes are requested without `launch` or `launch/patient`.",
        why: "The EHR \"MAY refuse authorization requests including patient/ that do not also include a valid launch\" (EHR launch) or `launch/patient` (standalone).",
        example: "scopes:\n  - scope: patient/Observation.rs",
        citation: Some(IG_SCOPES),
    },
    Rule {
        id: "deprecated-profile-scope",
        kind: RuleKind::Lint,
        severity: Severity::Warning,
        needs_approval: false,
        summary: "The `profile` scope is deprecated; use `openid fhirUser`.",
        why: "SMART 1.0 allowed `openid profile` but said the profile claim \"is being deprecated\"; SMART 2.x defines only `fhirUser`.",
        example: "scopes:\n  - scope: profile",
        citation: Some("SMART App Launch 1.0, Scopes for requesting identity data"),
    },
];

/// The rule with this id. Panics on an unknown id: ids are compile-time constants in
/// this crate, and a test checks every id the code names.
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("rule `{id}` is not in the catalogue"))
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
            r.id, r.summary, r.why
        ));
        if let Some(c) = r.citation {
            out.push_str(&format!("\n**Source:** {c}\n"));
        }
        out.push_str(&format!("\n**Example:**\n\n```yaml\n{}\n```\n", r.example));
    }
    out
}

pub fn kind_name(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Lint => "lint",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
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
    fn the_id_list_is_stable() {
        // Ids are a public contract: this list may only grow at the end.
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        insta::assert_snapshot!(ids.join("\n"));
    }

    #[test]
    fn docs_rules_md_is_generated_from_the_catalogue() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md"))
                .unwrap_or_default();
        assert!(
            committed == markdown(),
            "docs/rules.md is stale: run `cargo run -- rules --format markdown > docs/rules.md`"
        );
    }
}
