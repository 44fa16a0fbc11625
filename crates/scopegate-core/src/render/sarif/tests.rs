//! Tests for `sarif`.
use super::*;
use crate::render::markdown::tests::sample;

fn parsed() -> Value {
    serde_json::from_str(&render(&sample())).expect("SARIF is JSON")
}

#[test]
fn output_is_a_sarif_2_1_0_log_with_one_run() {
    let v = parsed();
    assert_eq!(v["version"], "2.1.0");
    assert_eq!(v["$schema"], SCHEMA);
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(1));
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "scopegate");
    assert_eq!(
        run["tool"]["driver"]["semanticVersion"],
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(run["automationDetails"]["id"], "scopegate/");
}

#[test]
fn the_driver_lists_the_whole_catalogue() {
    let v = parsed();
    let rules = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules.len(), RULES.len());
    for (d, r) in rules.iter().zip(RULES) {
        assert_eq!(d["id"], r.id.as_str());
        for field in ["shortDescription", "fullDescription", "help"] {
            let t = d[field]["text"].as_str().unwrap_or_default();
            assert!(!t.is_empty() && t.chars().count() <= 1024 || field == "help");
        }
        assert!(d["help"]["markdown"].as_str().is_some());
        assert_eq!(d["defaultConfiguration"]["level"], level(r.severity));
        assert_eq!(d["properties"]["tags"][0], "security");
        assert_eq!(d["properties"]["tags"][1], kind_name(r.kind));
        assert!(d["properties"]["security-severity"].as_str().is_some());
    }
}

#[test]
fn every_result_names_a_rule_in_the_driver_at_its_index() {
    let v = parsed();
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let results = run["results"].as_array().cloned().unwrap_or_default();
    let r = sample();
    let pending = r
        .changes
        .iter()
        .filter(|c| c.approval.is_outstanding())
        .count();
    assert_eq!(results.len(), pending + r.findings.len());
    for res in &results {
        let i = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i]["id"], res["ruleId"]);
        let loc = &res["locations"][0]["physicalLocation"];
        let region = &loc["region"];
        for k in ["startLine", "startColumn", "endLine", "endColumn"] {
            assert!(region[k].as_u64().unwrap_or(0) >= 1, "{k}");
        }
        assert!(region["endColumn"].as_u64() > region["startColumn"].as_u64());
        assert!(
            !loc["artifactLocation"]["uri"]
                .as_str()
                .unwrap_or("")
                .is_empty()
        );
        assert!(!res["message"]["text"].as_str().unwrap_or("").is_empty());
        assert!(
            res["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .is_some()
        );
    }
}

#[test]
fn unapproved_and_expired_escalations_are_errors_the_rest_notes() {
    let v = parsed();
    let results = v["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let by_rule = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .cloned()
            .unwrap_or_default()
    };
    // Unapproved.
    let d = by_rule("delete-access-added");
    assert_eq!(d["level"], "error");
    assert!(
        d["message"]["text"].as_str().unwrap_or("").starts_with(
            "Unapproved escalation med-rec:patient/MedicationStatement.d (high risk). "
        )
    );
    // The scope as written spans the region.
    let region = &d["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startColumn"], 12);
    assert_eq!(
        region["endColumn"],
        12 + "patient/MedicationStatement.cruds".len()
    );
    // Expired.
    assert_eq!(by_rule("read-access-added")["level"], "error");
    // Approved escalations, reductions and workflow changes are not alerts.
    assert_eq!(by_rule("write-access-added"), Value::Null);
    assert_eq!(by_rule("access-removed"), Value::Null);
    assert_eq!(by_rule("workflow-added"), Value::Null);
    // Findings keep their own severity.
    assert_eq!(by_rule("unjustified-scope")["level"], "error");
    assert_eq!(by_rule("approval-stale")["level"], "note");
}

#[test]
fn fingerprints_ignore_line_numbers_and_tell_repeats_apart() {
    let mut a = sample();
    let before = log(&a);
    for c in &mut a.changes {
        c.location.line += 40;
    }
    for f in &mut a.findings {
        f.location.line += 40;
    }
    let after = log(&a);
    let hashes = |v: &Value| -> Vec<Value> {
        v["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["partialFingerprints"]["primaryLocationLineHash"].clone())
            .collect()
    };
    assert_eq!(hashes(&before), hashes(&after));
    let mut fp = Fingerprints::default();
    let one = fp.next(RuleId::InvalidScope, "k", "./a/b.yaml");
    let two = fp.next(RuleId::InvalidScope, "k", "a\\b.yaml");
    assert!(one.ends_with(":1") && two.ends_with(":2"));
    assert_eq!(one[..16], two[..16]);
}

#[test]
fn fnv1a64_matches_the_reference_vectors() {
    // From the FNV reference test suite.
    assert_eq!(fnv1a64(&[""]), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(&["a"]), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(&["foobar"]), 0x8594_4171_f739_67e8);
}

#[test]
fn uris_are_repo_relative_with_forward_slashes() {
    assert_eq!(artifact_uri("./apps\\med rec.yaml"), "apps/med%20rec.yaml");
    assert_eq!(artifact_uri("a:b#c.yaml"), "a%3Ab%23c.yaml");
    assert_eq!(artifact_uri("café.yaml"), "caf%C3%A9.yaml");
}

#[test]
fn typical_report() {
    insta::assert_snapshot!(render(&sample()));
}

/// The log written a result at a time is, byte for byte, the log built whole as a JSON
/// value tree (as it was before it streamed): a real gate's report with tenant rows,
/// approved and unapproved escalations, and findings.
#[test]
fn the_streamed_log_is_the_value_tree_byte_for_byte() {
    let mut r: Report = serde_json::from_str(include_str!(
        "../../../../../tests/fixtures/report/tenants-gate.json"
    ))
    .unwrap();
    assert!(!r.tenants.is_empty() && !r.findings.is_empty());
    // One escalation unapproved, one approved only by an advisory run (a suppression
    // under review), the rest approved (no result).
    let at = r
        .changes
        .iter()
        .position(|c| c.direction == Direction::Escalation)
        .unwrap();
    let mut reviewed = r.changes[at].clone();
    reviewed.key.push_str("-reviewed");
    reviewed.approval.state = ApprovalState::Approved;
    reviewed.approval.unverified = true;
    r.changes[at].approval.state = ApprovalState::Unapproved;
    r.changes.push(reviewed);
    let mut fp = Fingerprints::default();
    let mut results: Vec<Value> = r
        .changes
        .iter()
        .filter(|c| {
            c.direction == Direction::Escalation
                && (c.approval.is_outstanding() || c.approval.unverified)
        })
        .map(|c| change_result(c, &mut fp))
        .collect();
    assert!(!results.is_empty());
    results.extend(r.findings.iter().map(|f| finding_result(f, &mut fp)));
    let tree = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver() },
            "automationDetails": { "id": "scopegate/" },
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": { "tenantMode": r.tenant_mode, "tenants": r.tenants },
        }],
    });
    assert_eq!(render(&r), crate::render::json::render(&tree));
}
