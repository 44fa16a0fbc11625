#![no_main]

//! Evidence readers and the FHIR REST URL parser on arbitrary bytes: no panic, and
//! the bad-line count never exceeds the lines read. The access-log scanner is held to
//! serde_json: when it accepts a line, serde_json accepts it with the same record; and
//! reading with the scanner on worker threads over tiny chunks gives the reference
//! report (serde_json, one thread), or the same error. The streamed AuditEvent reader
//! never panics at any record limit, and when the input is one JSON Bundle its layout
//! does not matter: minified on one line, pretty-printed, or twice as NDJSON lines
//! (twice the counts), the report counts the same.

use libfuzzer_sys::fuzz_target;
use scopegate_core::usage_analysis::access_log;
use scopegate_core::usage_analysis::analyze::{UsageOptions, analyze, restriction_params};
use scopegate_core::usage_analysis::evidence::{
    AccessParser, DEFAULT_MAX_RECORD, read_access_log, read_access_log_with, read_audit_events,
    read_audit_events_with, read_granted,
};
use scopegate_core::usage_analysis::fhir_url;
use scopegate_core::usage_analysis::lines::Plan;
use scopegate_core::usage_analysis::tally::{EvidenceKind, Tally};

const MANIFEST: &str = "id: app\nlaunch: [ehr]\nscopes:\n  - scope: patient/*.rs\n    rationale: r\n  - scope: patient/Observation.rs?category=laboratory\n    rationale: r\nworkflows:\n  - id: w\n    description: d\n    needs: [patient/Observation.rs]\n";

fn report(data: &[u8], strict: bool, plan: Plan, parser: AccessParser) -> Result<String, String> {
    let m = scopegate_core::manifest::from_str("m.yaml", MANIFEST).unwrap();
    let mut t = Tally::new("app", None, restriction_params(&m));
    let f = t.add_file("a", EvidenceKind::AccessLog);
    read_access_log_with(data, &mut t, f, strict, plan, parser).map_err(|e| e.to_string())?;
    let r = analyze(&m, &t, UsageOptions::default());
    Ok(scopegate_core::render::json::render(&r))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        for line in s.lines() {
            let (method, url) = line.split_once(' ').unwrap_or(("GET", line));
            let _ = fhir_url::parse(method, url);
            let _ = scopegate_core::usage_analysis::instant::parse(line);
        }
    }
    for line in std::iter::once(data).chain(data.split(|b| *b == b'\n')) {
        let line = line.trim_ascii();
        if let Some(fast) = access_log::scan(line) {
            match access_log::parse_serde(line) {
                Ok(reference) => assert_eq!(fast, reference),
                Err(e) => panic!("the scanner accepted what serde_json refuses: {e}"),
            }
        }
    }
    let one = Plan {
        threads: 1,
        chunk: 1 << 20,
        max_line: DEFAULT_MAX_RECORD,
    };
    let tiny = Plan {
        threads: 3,
        chunk: 1 + data.first().map_or(0, |b| usize::from(*b % 64)),
        max_line: DEFAULT_MAX_RECORD,
    };
    for strict in [false, true] {
        assert_eq!(
            report(data, strict, tiny, AccessParser::Scanner),
            report(data, strict, one, AccessParser::Serde)
        );
    }
    let mut t = Tally::new("app", None, vec!["category".into()]);
    let a = t.add_file("a", EvidenceKind::AccessLog);
    let _ = read_access_log(data, &mut t, a, false);
    let g = t.add_file("g", EvidenceKind::Granted);
    let _ = read_granted(data, &mut t, g, false);
    let e = t.add_file("e", EvidenceKind::AuditEvents);
    let _ = read_audit_events(data, &mut t, e, false);
    let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    assert!(t.bad_count <= 3 * lines);
    // Any record limit: an error or a report, never a panic.
    let limit = 1 + data.last().map_or(0, |b| usize::from(*b) * 8);
    let mut t = Tally::new("app", None, Vec::new());
    let e = t.add_file("e", EvidenceKind::AuditEvents);
    let _ = read_audit_events_with(data, &mut t, e, false, limit);
    layout_does_not_matter(data);
});

/// What a report counts, wherever its records were.
fn counts(text: &[u8]) -> Result<String, String> {
    let m = scopegate_core::manifest::from_str("m.yaml", MANIFEST).unwrap();
    let mut t = Tally::new("app", None, restriction_params(&m));
    let f = t.add_file("e", EvidenceKind::AuditEvents);
    read_audit_events(text, &mut t, f, false).map_err(|e| e.message)?;
    let r = analyze(&m, &t, UsageOptions::default());
    let v: serde_json::Value = serde_json::from_str(&scopegate_core::render::json::render(&r)).unwrap();
    Ok(format!(
        "{} {} {} {}",
        v["evidence"]["files"][0]["records"],
        v["evidence"]["bad_lines"],
        v["evidence"]["skipped"],
        v["scopes"]
    ))
}

fn layout_does_not_matter(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if v.get("resourceType").and_then(|t| t.as_str()) != Some("Bundle") {
        return;
    }
    let min = v.to_string();
    let pretty = serde_json::to_string_pretty(&v).unwrap();
    let one = counts(min.as_bytes());
    if pretty.contains('\n') {
        assert_eq!(counts(pretty.as_bytes()), one, "pretty");
    }
    // Two NDJSON lines of the Bundle count twice.
    if let (Ok(a), Ok(b)) = (&one, &counts(format!("{min}\n{min}\n").as_bytes())) {
        let records = |s: &str| s.split(' ').next().unwrap().parse::<u64>().unwrap();
        assert_eq!(records(b), 2 * records(a), "twice");
    }
}
