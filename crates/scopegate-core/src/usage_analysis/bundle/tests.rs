//! The streamed AuditEvent reader against its reference: whatever the layout of the
//! same events (a minified Bundle, a pretty one, `resourceType` after `entry`, Bundles
//! in entries, NDJSON lines that are Bundles), the report is that of the events as
//! plain NDJSON. Each hostile shape sits next to its control.

use serde_json::{Value, json};

use super::super::evidence::{EvidenceError, read_audit_events, read_audit_events_with};
use super::super::tally::{EvidenceKind, Tally};
use crate::manifest::{Manifest, from_str};
use crate::usage_analysis::analyze::{UsageOptions, analyze, restriction_params};

const FIXTURE: &str = include_str!("../../../../../tests/fixtures/usage/audit/bundle.json");

fn manifest() -> Manifest {
    from_str(
        "m.yaml",
        "id: patient-summary\nlaunch: [ehr]\nscopes:\n  - scope: patient/*.rs\n    rationale: r\n",
    )
    .unwrap()
}

/// The fixture's AuditEvents (one of them bad: no subtype).
fn events() -> Vec<Value> {
    let b: Value = serde_json::from_str(FIXTURE).unwrap();
    b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .collect()
}

fn bundle(entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "collection",
           "entry": entries.into_iter().map(|r| json!({"fullUrl": "urn:x", "resource": r})).collect::<Vec<_>>()})
}

fn ndjson(values: &[Value]) -> String {
    values.iter().map(|v| format!("{v}\n")).collect()
}

/// The JSON report, or the error; `limit` caps records.
fn read(text: &str, strict: bool, limit: usize) -> Result<Value, EvidenceError> {
    let m = manifest();
    let mut t = Tally::new("patient-summary", None, restriction_params(&m));
    let f = t.add_file("e.json", EvidenceKind::AuditEvents);
    read_audit_events_with(text.as_bytes(), &mut t, f, strict, limit)?;
    let r = analyze(&m, &t, UsageOptions::default());
    Ok(serde_json::from_str(&crate::render::json::render(&r)).unwrap())
}

fn records(v: &Value) -> &Value {
    &v["evidence"]["files"][0]["records"]
}

/// What the report counts, without where (a layout moves records to other lines).
fn counts(text: &str) -> Value {
    let v = read(text, false, 1 << 20).unwrap_or_else(|e| panic!("{e}"));
    let mut oom = v["out_of_manifest"].clone();
    for o in oom.as_array_mut().unwrap() {
        o.as_object_mut().unwrap().remove("first_seen");
    }
    json!({
        "records": records(&v),
        "bad_lines": v["evidence"]["bad_lines"],
        "skipped": v["evidence"]["skipped"],
        "scopes": v["scopes"],
        "out_of_manifest": oom,
        "operations": v["operations"],
    })
}

fn reference() -> Value {
    counts(&ndjson(&events()))
}

#[test]
fn a_minified_bundle_reads_as_its_events_in_ndjson() {
    let r = reference();
    assert_eq!(r["records"], 10, "{r}");
    // Control: pretty-printed, as it always was.
    let pretty = serde_json::to_string_pretty(&bundle(events())).unwrap();
    assert_eq!(counts(&pretty), r);
    // The whole Bundle on one line.
    let min = bundle(events()).to_string();
    assert!(!min.contains('\n'));
    assert_eq!(counts(&min), r);
    assert_eq!(counts(&format!("\n\n  {min}  \n\n")), r);
}

#[test]
fn resource_type_after_entry_still_makes_a_bundle() {
    let r = reference();
    let entries = bundle(events())["entry"].clone();
    // serde_json's Map is sorted: write the members in the order wanted by hand.
    let late = format!(r#"{{"type":"collection","entry":{entries},"resourceType":"Bundle"}}"#);
    assert_eq!(counts(&late), r);
    let pretty = format!("{{\n\"entry\": {entries:#},\n\"resourceType\": \"Bundle\"\n}}\n");
    assert_eq!(counts(&pretty), r);
    // An escaped key is the same key.
    let escaped = late.replace("\"resourceType\"", "\"resource\\u0054ype\"");
    assert_eq!(counts(&escaped), r);
}

#[test]
fn an_object_with_entry_that_is_not_a_bundle_is_read_as_a_record() {
    // An AuditEvent has no `entry`: one that carries one, before or after its
    // resourceType, is still that AuditEvent, and the entries are not counted.
    let ev = events();
    let first = ev[0].to_string();
    let inner = bundle(vec![ev[1].clone(), ev[2].clone()])["entry"].clone();
    let before = format!(r#"{{"entry":{inner},{}"#, &first[1..]);
    let after = format!(r#"{},"entry":{inner}}}"#, &first[..first.len() - 1]);
    let control = counts(&ndjson(&ev[..1]));
    assert_eq!(control["records"], 1);
    assert_eq!(counts(&format!("{before}\n")), control);
    assert_eq!(counts(&format!("{after}\n")), control);
    // A Patient with entries is a bad record, and its entries count for nothing.
    let patient = format!(r#"{{"entry":{inner},"resourceType":"Patient"}}"#);
    let v = read(&format!("{first}\n{patient}\n"), false, 1 << 20).unwrap();
    assert_eq!(records(&v), 1);
    assert_eq!(v["evidence"]["bad_lines"], 1);
    assert_eq!(
        v["evidence"]["bad_line_samples"][0]["reason"],
        "resourceType is `Patient`, not AuditEvent"
    );
}

#[test]
fn bundles_in_entries_are_streamed_too() {
    let r = reference();
    let ev = events();
    let nested = bundle(vec![
        ev[0].clone(),
        bundle(ev[1..5].to_vec()),
        bundle(vec![bundle(ev[5..9].to_vec()), ev[9].clone()]),
    ]);
    assert_eq!(counts(&nested.to_string()), r);
    assert_eq!(counts(&serde_json::to_string_pretty(&nested).unwrap()), r);
    // The bad entry is named by its path.
    let v = read(&nested.to_string(), false, 1 << 20).unwrap();
    assert_eq!(
        v["evidence"]["bad_line_samples"][0]["reason"],
        "entry 3: entry 1: entry 2: no `subtype` coding from http://hl7.org/fhir/restful-interaction"
    );
}

#[test]
fn bundles_nested_past_the_limit_are_bad_not_a_stack_overflow() {
    let ev = events();
    let mut deep = bundle(vec![ev[0].clone()]);
    for _ in 0..super::MAX_NESTING + 4 {
        deep = bundle(vec![deep]);
    }
    let v = read(&deep.to_string(), false, 1 << 20).unwrap_err();
    assert!(v.message.contains("no record"), "{v}");
    // Control: within the limit, the event counts.
    let mut ok = bundle(vec![ev[0].clone()]);
    for _ in 0..super::MAX_NESTING - 2 {
        ok = bundle(vec![ok]);
    }
    assert_eq!(*records(&read(&ok.to_string(), false, 1 << 20).unwrap()), 1);
    // Brackets a million deep: an error, not a crash.
    let brackets = format!(
        r#"{{"resourceType":"Bundle","x":{}}}"#,
        "[".repeat(1_000_000)
    );
    let e = read(&brackets, false, 2 << 20).unwrap_err();
    assert!(e.message.contains("not JSON"), "{e}");
}

#[test]
fn ndjson_lines_that_are_bundles_count_whole_or_not_at_all() {
    let r = reference();
    let ev = events();
    let lines = ndjson(&[
        bundle(ev[..3].to_vec()),
        ev[3].clone(),
        bundle(ev[4..].to_vec()),
    ]);
    assert_eq!(counts(&lines), r);
    // A Bundle line cut short: that line is bad, none of its entries counts.
    let cut = bundle(ev[4..].to_vec()).to_string();
    let cut = &cut[..cut.len() - 3];
    let text = format!("{}\n{}\n{cut}\n", bundle(ev[..3].to_vec()), ev[3]);
    let v = read(&text, false, 1 << 20).unwrap();
    let control = read(&ndjson(&ev[..4]), false, 1 << 20).unwrap();
    assert_eq!(v["scopes"], control["scopes"]);
    assert_eq!(records(&v), 4);
    assert_eq!(v["evidence"]["bad_line_samples"][0]["line"], 3);
    assert!(
        v["evidence"]["bad_line_samples"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("not JSON: the line ends inside a"),
        "{v}"
    );
    // Under --strict the bad entry of a Bundle line stops the run at its line.
    let e = read(&lines, true, 1 << 20).unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.starts_with("entry 3: no `subtype`"), "{e}");
}

#[test]
fn a_duplicate_resource_type_is_bad_whichever_way_round() {
    let ev = events();
    let entries = bundle(ev[..2].to_vec())["entry"].clone();
    for text in [
        format!(r#"{{"resourceType":"Bundle","entry":{entries},"resourceType":"AuditEvent"}}"#),
        format!(r#"{{"resourceType":"AuditEvent","entry":{entries},"resourceType":"Bundle"}}"#),
    ] {
        let v = read(&format!("{}\n{text}\n", ev[0]), false, 1 << 20).unwrap();
        assert_eq!(records(&v), 1, "{text}");
        assert_eq!(v["evidence"]["bad_lines"], 1, "{text}");
    }
}

#[test]
fn a_record_longer_than_the_limit_is_an_error_a_long_bundle_is_not() {
    let ev = events();
    let one = ev[0].to_string();
    let limit = one.len() + 100;
    // Control: a Bundle far longer than the limit, of entries within it, on one line.
    let many = bundle(vec![ev[0].clone(); 200]).to_string();
    assert!(many.len() > 50 * limit);
    let v = read(&many, false, limit).unwrap();
    assert_eq!(records(&v), 200);
    // One AuditEvent past the limit, alone or in a Bundle, in NDJSON or pretty.
    let mut big = ev[0].clone();
    big["id"] = json!("x".repeat(limit));
    for text in [
        format!("{one}\n{big}\n"),
        format!("{one}\n{}\n", bundle(vec![big.clone()])),
        serde_json::to_string_pretty(&bundle(vec![ev[0].clone(), big.clone()])).unwrap(),
    ] {
        let e = read(&text, false, limit).unwrap_err();
        assert!(
            e.message.contains(&format!("longer than {limit} bytes")),
            "{e}"
        );
        assert!(e.message.contains("--max-record-bytes"), "{e}");
        assert!(e.line >= 2, "{e}");
        // Control: the default limit reads it.
        assert!(read(&text, false, 1 << 20).is_ok());
    }
}

#[test]
fn broken_documents_are_errors_broken_lines_are_bad_lines() {
    let ev = events();
    // A pretty Bundle broken inside an entry: exit 2 at its line.
    let pretty = serde_json::to_string_pretty(&bundle(ev.clone())).unwrap();
    let broken = pretty.replacen("\"recorded\"", "\"recorded\" 5", 3);
    let e = read(&broken, false, 1 << 20).unwrap_err();
    assert!(e.message.starts_with("not a JSON Bundle or NDJSON"), "{e}");
    let trailing = format!("{pretty}\n{{}}\n");
    let e = read(&trailing, false, 1 << 20).unwrap_err();
    assert!(e.message.contains("trailing characters"), "{e}");
    // A multi-line value that is not a Bundle.
    let e = read(
        &serde_json::to_string_pretty(&ev[0]).unwrap(),
        false,
        1 << 20,
    )
    .unwrap_err();
    assert!(e.message.contains("must be a Bundle"), "{e}");
    // NDJSON: bad lines are skipped, the good ones count.
    let text = format!("{}\nnot json\n{} {{}}\n[1,\n{}\n", ev[0], ev[1], ev[2]);
    let v = read(&text, false, 1 << 20).unwrap();
    assert_eq!(records(&v), 2);
    let lines: Vec<u64> = v["evidence"]["bad_line_samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 3, 4]);
    // Empty input is no evidence and no error.
    assert_eq!(*records(&read("", false, 1 << 20).unwrap()), 0);
    assert_eq!(*records(&read(" \n\n", false, 1 << 20).unwrap()), 0);
}

/// Generates a minified Bundle of `n` copies of an entry, never holding it whole.
struct Endless {
    head: Vec<u8>,
    entry: Vec<u8>,
    left: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl std::io::Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
            if !self.head.is_empty() {
                self.buf = std::mem::take(&mut self.head);
            } else if self.left > 0 {
                self.left -= 1;
                self.buf.extend_from_slice(&self.entry);
                self.buf.push(if self.left == 0 { b']' } else { b',' });
                if self.left == 0 {
                    self.buf.push(b'}');
                }
            } else {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_bundle_larger_than_the_limit_many_times_over_is_read_to_the_end() {
    let ev = events();
    let entry = json!({"resource": ev[0]}).to_string().into_bytes();
    let n = 20_000;
    let r = Endless {
        head: br#"{"resourceType":"Bundle","entry":["#.to_vec(),
        entry,
        left: n,
        buf: Vec::new(),
        pos: 0,
    };
    let m = manifest();
    let mut t = Tally::new("patient-summary", None, restriction_params(&m));
    let f = t.add_file("e.json", EvidenceKind::AuditEvents);
    // 20,000 entries of ~1.3 KB (26 MB) under a 4 KiB record limit.
    super::super::evidence::read_audit_events_with(r, &mut t, f, true, 4096).unwrap();
    assert_eq!(t.files[f].records, n as u64);
    // And the default entry point reads the fixture.
    let mut t = Tally::new("patient-summary", None, Vec::new());
    let f = t.add_file("e.json", EvidenceKind::AuditEvents);
    read_audit_events(FIXTURE.as_bytes(), &mut t, f, false).unwrap();
    assert_eq!(t.files[f].records, 10);
}
