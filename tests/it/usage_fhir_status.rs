//! Evidence as FHIR writes it (issue 15 §5), through the real binary.
//!
//! - A batch/transaction entry's status in FHIR's form (`Bundle.entry.response.status`:
//!   "SHALL start with a 3 digit HTTP code (e.g. 404) and may contain the standard HTTP
//!   description", FHIR R4 bundle-definitions.html#Bundle.entry.response.status) reads as
//!   the number does; any other string stays a bad line, with the reason.
//! - Without `--granted`, the `granted` column is unknown (`—` in text and Markdown,
//!   `null` in JSON), not 0; with it, the counts (0 included) are shown.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::repo::{Run, run_in};

const SUMMARY: &str = "examples/patient-summary.yaml";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn usage(args: &[&str]) -> Run {
    let mut all = vec!["usage", SUMMARY, "--since", "2026-10-01"];
    all.extend_from_slice(args);
    run_in(&root(), &all)
}

/// One batch line whose entries read `Patient/p1` and search AllergyIntolerance, with
/// the entries' statuses as given (raw JSON values).
fn batch(n: u32, patient: &str, allergy: &str) -> String {
    format!(
        r#"{{"time":"2026-11-02T08:00:{n:02}Z","tenant":"north","app":"patient-summary","method":"POST","url":"https://ehr-north.example.org/fhir/R4","status":200,"entries":[{{"method":"GET","url":"Patient/p1","status":{patient}}},{{"method":"GET","url":"AllergyIntolerance?patient=p1","status":{allergy}}}]}}"#
    )
}

fn log(dir: &Path, lines: &[String]) -> String {
    let p = dir.join("access.jsonl");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.to_str().unwrap().to_string()
}

fn json(r: &Run) -> Value {
    r.json()
}

/// `(scope, tenant, granted, used, failed)` per row.
fn rows(v: &Value) -> Vec<(String, String, Value, Value, Value)> {
    let mut out = Vec::new();
    for s in v["scopes"].as_array().unwrap() {
        for t in s["tenants"].as_array().unwrap() {
            out.push((
                s["scope"].as_str().unwrap().to_string(),
                t["tenant"].as_str().unwrap().to_string(),
                t["granted"].clone(),
                t["used"].clone(),
                t["failed"].clone(),
            ));
        }
    }
    out
}

fn row<'a>(
    rows: &'a [(String, String, Value, Value, Value)],
    scope: &str,
) -> &'a (String, String, Value, Value, Value) {
    rows.iter().find(|r| r.0 == scope).unwrap()
}

#[test]
fn control_fhir_status_strings_read_as_their_numbers() {
    let dir = tempfile::tempdir().unwrap();
    // The same two requests, once with numbers, once as FHIR writes them.
    let numbers = log(dir.path(), &[batch(0, "200", "403")]);
    let a = usage(&["--access-log", &numbers, "--format", "json"]);
    let dir2 = tempfile::tempdir().unwrap();
    let fhir = log(
        dir2.path(),
        &[batch(0, r#""200 OK""#, r#""403 Forbidden""#)],
    );
    let b = usage(&["--access-log", &fhir, "--format", "json"]);
    assert_eq!(a.code, b.code, "{}{}", b.stdout, b.stderr);
    let (va, vb) = (json(&a), json(&b));
    assert_eq!(vb["evidence"]["bad_lines"], 0, "{vb}");
    assert_eq!(rows(&va), rows(&vb));
    let r = rows(&vb);
    let p = row(&r, "patient/Patient.rs");
    assert_eq!((&p.3, &p.4), (&Value::from(1), &Value::from(0)), "{p:?}");
    let al = row(&r, "patient/AllergyIntolerance.rs");
    assert_eq!((&al.3, &al.4), (&Value::from(0), &Value::from(1)), "{al:?}");
}

#[test]
fn control_every_fhir_form_is_read_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    // Success forms (2xx, 3xx) count as use; 4xx/5xx as failed, whatever the text.
    let lines = [
        batch(0, r#""200""#, r#""500 Internal Server Error""#),
        batch(1, r#""201 Created""#, r#""404 Not Found""#),
        batch(2, r#""304 Not Modified""#, r#""401""#),
        batch(3, r#""200 OK: served from cache""#, "null"),
    ];
    let p = log(dir.path(), &lines);
    let r = usage(&["--access-log", &p, "--format", "json"]);
    let v = json(&r);
    assert_eq!(v["evidence"]["bad_lines"], 0, "{v}");
    assert_eq!(v["evidence"]["files"][0]["records"], 4, "{v}");
    let rs = rows(&v);
    let pt = row(&rs, "patient/Patient.rs");
    assert_eq!(pt.3, 4, "{pt:?}");
    let al = row(&rs, "patient/AllergyIntolerance.rs");
    // `null` takes the line's status (200): one use; three failures.
    assert_eq!((&al.3, &al.4), (&Value::from(1), &Value::from(3)), "{al:?}");
}

#[test]
fn attack_other_status_strings_stay_bad_lines_with_the_reason() {
    for bad in [
        r#""OK""#,
        r#""OK 200""#,
        r#""200OK""#,
        r#"" 200 OK""#,
        r#""2000 OK""#,
        r#""20 OK""#,
        r#""099 Early""#,
        r#""600 Beyond""#,
        r#""２００ OK""#,
        r#""""#,
        "200.5",
        "-200",
        "true",
        r#"{"code":200}"#,
    ] {
        let dir = tempfile::tempdir().unwrap();
        // A good line first, so the bad one is counted, not the whole file refused.
        let p = log(dir.path(), &[batch(0, "200", "200"), batch(1, bad, "200")]);
        let r = usage(&["--access-log", &p, "--format", "json"]);
        assert!(r.code < 2, "{bad}: {}{}", r.stdout, r.stderr);
        let v = json(&r);
        assert_eq!(v["evidence"]["bad_lines"], 1, "{bad}: {v}");
        let reason = v["evidence"]["bad_line_samples"][0]["reason"]
            .as_str()
            .unwrap();
        assert_eq!(v["evidence"]["bad_line_samples"][0]["line"], 2, "{bad}");
        assert!(
            reason.contains("not an access-log record") && reason.contains("entries[].status"),
            "{bad}: {reason}"
        );
        // The bad line's requests are not counted as use.
        assert_eq!(row(&rows(&v), "patient/Patient.rs").3, 1, "{bad}");

        // --strict refuses the file at that line.
        let r = usage(&["--access-log", &p, "--strict"]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stdout);
        assert!(
            r.stderr.contains(":2: not an access-log record"),
            "{bad}: {}",
            r.stderr
        );
    }
}

#[test]
fn attack_without_granted_the_column_is_unknown_not_zero() {
    let dir = tempfile::tempdir().unwrap();
    let p = log(dir.path(), &[batch(0, "200", "200")]);

    let v = json(&usage(&["--access-log", &p, "--format", "json"]));
    assert_eq!(v["evidence"]["grant_evidence"], false);
    for s in v["scopes"].as_array().unwrap() {
        assert!(s["granted"].is_null(), "{s}");
        for t in s["tenants"].as_array().unwrap() {
            assert!(t["granted"].is_null(), "{s}");
        }
    }

    let text = usage(&["--access-log", &p]).stdout;
    assert!(text.contains("`granted` is unknown (—)"), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("patient/Patient.rs"))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[..4],
        ["patient/Patient.rs", "north", "—", "1"],
        "{line}"
    );

    let md = usage(&["--access-log", &p, "--format", "markdown"]).stdout;
    assert!(md.contains("`granted` is unknown (—)"), "{md}");
    assert!(
        md.lines()
            .any(|l| l.contains("patient/Patient.rs") && l.contains("| — | 1 |")),
        "{md}"
    );
    assert!(!md.contains("| north | 0 |"), "{md}");
}

#[test]
fn control_with_granted_the_counts_are_shown_zero_included() {
    let dir = tempfile::tempdir().unwrap();
    let p = log(dir.path(), &[batch(0, "200", "200")]);
    // North granted only Patient, once.
    let g = dir.path().join("granted.jsonl");
    std::fs::write(
        &g,
        r#"{"time":"2026-11-02T07:59:00Z","tenant":"north","app":"patient-summary","scope":"launch patient/Patient.rs"}"#
            .to_string()
            + "\n",
    )
    .unwrap();
    let g = g.to_str().unwrap();
    let v = json(&usage(&[
        "--access-log",
        &p,
        "--granted",
        g,
        "--format",
        "json",
    ]));
    assert_eq!(v["evidence"]["grant_evidence"], true);
    let rs = rows(&v);
    assert_eq!(row(&rs, "patient/Patient.rs").2, 1);
    assert_eq!(row(&rs, "patient/MedicationRequest.rs").2, 0, "known zero");

    let text = usage(&["--access-log", &p, "--granted", g]).stdout;
    assert!(!text.contains("unknown (—)"), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("patient/MedicationRequest.rs"))
        .unwrap();
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cells[..3],
        ["patient/MedicationRequest.rs", "north", "0"],
        "{line}"
    );
    let md = usage(&["--access-log", &p, "--granted", g, "--format", "markdown"]).stdout;
    assert!(!md.contains("| — |"), "{md}");
}
