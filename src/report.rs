//! The one value analysis produces: a [`Report`]. Renderers only format it.
//!
//! Owns the shape of findings and the JSON contract (`schemas/report.schema.json`).
//! It must not decide anything: verdicts are computed by the lint and stored here.

use schemars::JsonSchema;
use serde::Serialize;

use crate::manifest::Pos;
use crate::rules::Severity;

/// Bumped when the JSON output changes incompatibly.
pub const FORMAT_VERSION: u32 = 1;

/// Where a finding points.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct Location {
    /// The manifest path as given.
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn new(file: &str, pos: Pos) -> Location {
        Location {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
        }
    }
}

/// One problem found in a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Finding {
    /// A rule id from the catalogue (`scopegate rules`).
    pub rule: String,
    pub severity: Severity,
    /// The app id of the manifest.
    pub app: String,
    pub location: Location,
    pub message: String,
    /// A concrete fix, when one is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Counts for a quick verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Summary {
    pub manifests: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

/// Everything one run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Report {
    /// The JSON format version; see `schemas/report.schema.json`.
    pub format_version: u32,
    pub tool: String,
    pub summary: Summary,
    /// Sorted by file, line, column, rule.
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn new(manifests: usize, mut findings: Vec<Finding>) -> Report {
        findings.sort_by(|a, b| {
            (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message))
        });
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            manifests,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
        };
        Report {
            format_version: FORMAT_VERSION,
            tool: format!("scopegate {}", env!("CARGO_PKG_VERSION")),
            summary,
            findings,
        }
    }

    /// True when any finding is at or above `threshold`.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= threshold)
    }
}

/// The JSON Schema of the report (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Report)).unwrap_or_default()
}
