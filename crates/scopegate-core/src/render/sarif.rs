//! SARIF 2.1.0 for GitHub code scanning: the whole rule catalogue as the driver's
//! rules, and one result per finding and per escalation that still needs a decision
//! (unapproved or expired). Approved escalations, reductions and workflow changes are
//! not alerts: GitHub rates an alert by its rule's `security-severity`, so an approved
//! `delete-access-added` would still fail a code-scanning check. They are in the PR
//! comment and the JSON report.
//!
//! Owns the mapping to the properties GitHub reads (docs/design.md §9): levels,
//! `security-severity`, repo-relative URIs, regions and a line-independent
//! `primaryLocationLineHash`. Written by hand over `serde_json`: we need a dozen
//! objects, not a generated SARIF crate. It must not decide anything: a result's
//! level follows the approval state and severity the [`Report`] already holds.

use serde_json::{Map, Value, json};

use crate::report::{ApprovalState, Change, Direction, Finding, Location, Report};
use crate::rules::{RULES, Rule, RuleId, Severity, kind_name};

pub(crate) const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// GitHub's limit on `shortDescription.text` and `fullDescription.text`.
const MAX_DESCRIPTION: usize = 1024;
/// GitHub's limit on a rule's `name`.
const MAX_NAME: usize = 255;

/// The report as a SARIF log with one run, pretty-printed and newline-terminated.
pub fn render(r: &Report) -> String {
    super::json::render(&sarif_log(r))
}

/// The SARIF log as a JSON value.
#[cfg(test)]
pub(crate) fn log(r: &Report) -> Value {
    serde_json::to_value(sarif_log(r)).unwrap_or_default()
}

/// The SARIF log, its results made one at a time as they are written: built whole as a
/// JSON value tree, a report of 4,000 changes took about 18 times its output in memory,
/// and 40% of its time was the kernel zeroing that memory. The fields are in the order
/// a JSON object's keys are written (sorted), so the bytes are those of the value tree.
fn sarif_log(r: &Report) -> Log<'_> {
    // The tenant matrix is not a result: it rides in the run's property bag (SARIF
    // 2.1.0 §3.8), in the same shape as the JSON report's `tenants`.
    let properties = (!r.tenants.is_empty()).then(|| {
        json!({
            "tenantMode": r.tenant_mode,
            "tenants": r.tenants,
        })
    });
    Log {
        schema: SCHEMA,
        runs: [Run {
            automation_details: json!({ "id": "scopegate/" }),
            // serde-saphyr columns count characters.
            column_kind: "unicodeCodePoints",
            properties,
            results: Results(r),
            tool: json!({ "driver": driver() }),
        }],
        version: "2.1.0",
    }
}

/// The tool: scopegate, and the whole rule catalogue as its rules.
fn driver() -> Value {
    let mut driver = Map::new();
    driver.insert("name".into(), json!("scopegate"));
    driver.insert("semanticVersion".into(), json!(env!("CARGO_PKG_VERSION")));
    let repo = env!("CARGO_PKG_REPOSITORY");
    if !repo.is_empty() {
        driver.insert("informationUri".into(), json!(repo));
    }
    driver.insert(
        "rules".into(),
        Value::Array(RULES.iter().map(descriptor).collect()),
    );
    Value::Object(driver)
}

/// A SARIF log, its fields in sorted order.
#[derive(serde::Serialize)]
struct Log<'r> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [Run<'r>; 1],
    version: &'static str,
}

/// The log's one run, its fields in sorted order.
#[derive(serde::Serialize)]
struct Run<'r> {
    #[serde(rename = "automationDetails")]
    automation_details: Value,
    #[serde(rename = "columnKind")]
    column_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<Value>,
    results: Results<'r>,
    tool: Value,
}

/// The run's results: one per escalation that still needs a decision (an approval only
/// an advisory run counted is shown too, marked unverified), then one per finding.
struct Results<'r>(&'r Report);

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let alerts = || {
            self.0.changes.iter().filter(|c| {
                c.direction == Direction::Escalation
                    && (c.approval.is_outstanding() || c.approval.unverified)
            })
        };
        let mut fingerprints = Fingerprints::default();
        let mut seq = s.serialize_seq(Some(alerts().count() + self.0.findings.len()))?;
        for c in alerts() {
            seq.serialize_element(&change_result(c, &mut fingerprints))?;
        }
        for f in &self.0.findings {
            seq.serialize_element(&finding_result(f, &mut fingerprints))?;
        }
        seq.end()
    }
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub: over 9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "8.0",
        Severity::Warning => "5.0",
        Severity::Note => "2.0",
    }
}

fn descriptor(r: &Rule) -> Value {
    let mut help = format!("{}\n\nWhy: {}\n", r.summary, r.why);
    let mut help_md = format!("{}\n\n**Why:** {}\n", r.summary, r.why);
    if let Some(c) = r.citation {
        help.push_str(&format!("\nSource: {c}\n"));
        help_md.push_str(&format!("\n**Source:** {c}\n"));
    }
    help.push_str(&format!("\nExample:\n{}\n", r.example));
    help_md.push_str(&format!("\n**Example:**\n\n```yaml\n{}\n```\n", r.example));
    json!({
        "id": r.id,
        "name": clip(&pascal(r.id.as_str()), MAX_NAME),
        "shortDescription": { "text": clip(r.summary, MAX_DESCRIPTION) },
        "fullDescription": { "text": clip(r.why, MAX_DESCRIPTION) },
        "help": { "text": help, "markdown": help_md },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "tags": ["security", kind_name(r.kind)],
            "security-severity": security_severity(r.severity),
        },
    })
}

/// The level and message of a change: what it is, how risky, who approved it.
fn change_message(c: &Change) -> (&'static str, String) {
    let risk = c.severity.risk();
    let justification = if c.workflows.is_empty() {
        "No workflow needs it.".to_string()
    } else {
        format!("Needed by workflows: {}.", c.workflows.join(", "))
    };
    let (by, ticket) = super::approver(&c.approval);
    let desc = sentence(&c.description);
    match (c.direction, &c.approval.state) {
        (Direction::Escalation, ApprovalState::Unapproved) => (
            "error",
            format!(
                "Unapproved escalation {} ({risk} risk). {desc} {justification} \
                 Approve with `scopegate approve --by <you> --ticket <ticket> --key {}`.",
                c.key,
                super::shell_word(&c.key)
            ),
        ),
        (Direction::Escalation, ApprovalState::Expired) => (
            "error",
            format!(
                "Escalation {} has only an expired approval ({risk} risk). {desc} {justification} \
                 The approval by {by}{ticket} has expired.",
                c.key
            ),
        ),
        (Direction::Escalation, ApprovalState::Pending) => (
            "error",
            format!(
                "Escalation {} is approved only by a ledger entry still pending review ({risk} risk). {desc} {justification} {}",
                c.key,
                c.approval.reason.as_deref().unwrap_or("")
            ),
        ),
        (Direction::Escalation, ApprovalState::Approved) => {
            let added = c.approval.provenance();
            (
                "note",
                format!(
                    "Approved escalation {} ({risk} risk). {desc} {justification} \
                     Approved by {by}{ticket}{added}.",
                    c.key
                ),
            )
        }
        (Direction::Escalation, ApprovalState::NotRequired) => (
            "note",
            format!("Escalation {} ({risk} risk). {desc} {justification}", c.key),
        ),
        (Direction::Reduction, _) => ("note", format!("Access removed: {}. {desc}", c.key)),
        (Direction::Workflow, _) => (
            "note",
            format!("Workflow change in {} ({}). {desc}", c.app, c.rule),
        ),
    }
}

/// The change's `properties`: its key, direction, approval state and related scopes.
fn change_properties(c: &Change) -> Value {
    let state = match c.approval.state {
        ApprovalState::NotRequired => "not-required",
        ApprovalState::Approved => "approved",
        ApprovalState::Unapproved => "unapproved",
        ApprovalState::Expired => "expired",
        ApprovalState::Pending => "pending",
    };
    let direction = match c.direction {
        Direction::Escalation => "escalation",
        Direction::Reduction => "reduction",
        Direction::Workflow => "workflow",
    };
    json!({
        "key": c.key,
        "direction": direction,
        "approval": state,
        "also": c.also,
    })
}

fn change_result(c: &Change, fp: &mut Fingerprints) -> Value {
    let (lvl, text) = change_message(c);
    let (by, ticket) = super::approver(&c.approval);
    // The scope as written is what sits at the location; otherwise mark one column.
    let width = c
        .head
        .as_deref()
        .map_or(1, |h| h.chars().count().max(1) as u32);
    let mut result = base_result(
        c.rule,
        lvl,
        text,
        &c.location,
        width,
        fp.next(c.rule, &c.key, &c.location.file),
    );
    result.insert("properties".into(), change_properties(c));
    if c.approval.state == ApprovalState::Approved {
        // SARIF §3.35: an accepted external suppression is what an approval is.
        result.insert(
            "suppressions".into(),
            json!([{
                "kind": "external",
                "status": if c.approval.unverified { "underReview" } else { "accepted" },
                "justification": format!("approved by {by}{ticket}"),
            }]),
        );
    }
    Value::Object(result)
}

fn finding_result(f: &Finding, fp: &mut Fingerprints) -> Value {
    let mut text = sentence(&f.message);
    if let Some(h) = &f.hint {
        text.push_str(&format!(" Hint: {}", sentence(h)));
    }
    let hash = fp.next(f.rule, &f.message, &f.location.file);
    let mut result = base_result(f.rule, level(f.severity), text, &f.location, 1, hash);
    if !f.suggestion.is_empty() {
        // The corrected token(s), as in the JSON report (SARIF §3.8: a property bag).
        result.insert("properties".into(), json!({ "suggestion": f.suggestion }));
    }
    Value::Object(result)
}

fn base_result(
    rule: RuleId,
    level: &str,
    text: String,
    at: &Location,
    width: u32,
    hash: String,
) -> Map<String, Value> {
    let line = at.line.max(1);
    let column = at.column.max(1);
    let mut m = Map::new();
    m.insert("ruleId".into(), json!(rule));
    m.insert("ruleIndex".into(), json!(rule as usize));
    m.insert("level".into(), json!(level));
    m.insert("message".into(), json!({ "text": text }));
    m.insert(
        "locations".into(),
        json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": artifact_uri(&at.file) },
                "region": {
                    "startLine": line,
                    "startColumn": column,
                    "endLine": line,
                    "endColumn": column.saturating_add(width),
                },
            },
        }]),
    );
    m.insert(
        "partialFingerprints".into(),
        json!({ "primaryLocationLineHash": hash }),
    );
    m
}

/// A manifest path as GitHub matches it: forward slashes, no leading `./`.
pub(crate) fn repo_path(file: &str) -> String {
    let mut p = file.replace('\\', "/");
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    p
}

/// A repo-relative URI reference: unreserved characters and `/` as they are, every
/// other byte percent-encoded (so a `:` cannot read as a scheme, nor `#` as a
/// fragment).
fn artifact_uri(file: &str) -> String {
    let mut out = String::new();
    for b in repo_path(file).bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fingerprints that ignore line numbers, so an alert survives edits above it;
/// repeats of the same (rule, key or message, file) are told apart by a count.
#[derive(Default)]
struct Fingerprints {
    seen: std::collections::BTreeMap<u64, usize>,
}

impl Fingerprints {
    fn next(&mut self, rule: RuleId, what: &str, file: &str) -> String {
        let h = fnv1a64(&[rule.as_str(), what, &repo_path(file)]);
        let n = self.seen.entry(h).or_insert(0);
        *n += 1;
        format!("{h:016x}:{n}")
    }
}

/// FNV-1a, 64-bit, over the parts separated by NUL (which none of them contains).
fn fnv1a64(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = OFFSET;
    for b in parts.join("\0").bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// `kebab-case-id` → `KebabCaseId`, the conventional SARIF rule name.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) => {
            let mut t: String = s.chars().take(max - 1).collect();
            t.push('…');
            t
        }
    }
}

/// Ends the text with a full stop unless it already ends a sentence.
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

#[cfg(test)]
mod tests;
