//! End-to-end tests of `scopegate usage` through the real binary: FHIR R4 AuditEvent
//! fixtures (Bundle and NDJSON), generated access logs covering every URL form, the
//! wildcard-narrowing fixture, bad lines, `--strict` and exit codes.

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(root())
        .arg("usage")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let r = run(&a);
    let v =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr));
    (r.code, v)
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// `scope used used_for` for each resource scope.
fn used(v: &Value) -> Vec<String> {
    v["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["observable"] == true)
        .map(|s| {
            format!(
                "{} {} {}",
                s["scope"].as_str().unwrap(),
                s["used"],
                strs(&s["used_for"]).join(",")
            )
        })
        .collect()
}

const SUMMARY: &str = "examples/patient-summary.yaml";

#[test]
fn a_wildcard_used_for_two_types_suggests_exactly_those_two() {
    let (code, v) = json(&[
        "tests/fixtures/usage/wildcard/smart-app.yaml",
        "--access-log",
        "tests/fixtures/usage/wildcard/access.jsonl",
    ]);
    assert_eq!(
        code, 0,
        "unused scopes do not fail without --fail-on unused"
    );
    assert_eq!(v["unused"].as_array().unwrap().len(), 1);
    assert_eq!(v["unused"][0]["scope"], "patient/*.rs");
    assert_eq!(v["unused"][0]["action"], "narrow");
    assert_eq!(
        strs(&v["unused"][0]["suggestion"]),
        ["patient/Condition.rs", "patient/Observation.rs"]
    );
    assert_eq!(v["findings"][0]["rule"], "scope-partly-used");
    let (code, _) = json(&[
        "tests/fixtures/usage/wildcard/smart-app.yaml",
        "--access-log",
        "tests/fixtures/usage/wildcard/access.jsonl",
        "--fail-on",
        "unused",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn r4_audit_events_in_a_bundle_and_as_ndjson_give_the_same_matches() {
    let (code, b) = json(&[
        SUMMARY,
        "--audit-events",
        "tests/fixtures/usage/audit/bundle.json",
    ]);
    let (_, n) = json(&[
        SUMMARY,
        "--audit-events",
        "tests/fixtures/usage/audit/events.ndjson",
    ]);
    assert_eq!(
        code, 1,
        "the unrestricted Observation search and the create are out of manifest"
    );
    let expect = [
        "patient/Patient.rs 1 Patient.r",
        "patient/Condition.rs?category=problem-list-item 1 Condition.s",
        "patient/AllergyIntolerance.rs 0 ",
        "patient/MedicationRequest.rs 1 MedicationRequest.r",
        // The vread (2013, outside no window) and the laboratory search.
        "patient/Observation.rs?category=vital-signs,laboratory 2 Observation.rs",
    ];
    assert_eq!(used(&b), expect);
    assert_eq!(used(&n), expect);
    for v in [&b, &n] {
        let oom: Vec<String> = v["out_of_manifest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                format!(
                    "{} {} ok={} failed={}",
                    o["tenant"].as_str().unwrap(),
                    o["needs"].as_str().unwrap(),
                    o["requests"],
                    o["failed"]
                )
            })
            .collect();
        assert_eq!(
            oom,
            [
                "north MedicationRequest.c ok=0 failed=1",
                "north Observation.s ok=1 failed=0"
            ]
        );
        assert_eq!(strs(&v["tenants"]), ["north", "south"]);
        assert_eq!(v["evidence"]["skipped"]["other_app"], 1);
        assert_eq!(v["evidence"]["skipped"]["not_access"], 1, "the login event");
        assert_eq!(v["evidence"]["bad_lines"], 1);
    }
    // The bad entry is reported at the line its entry starts on.
    assert_eq!(b["evidence"]["bad_line_samples"][0]["line"], 661);
    assert_eq!(n["evidence"]["bad_line_samples"][0]["line"], 7);
    assert_eq!(
        b["evidence"]["bad_line_samples"][0]["reason"],
        "entry 7: no `subtype` coding from http://hl7.org/fhir/restful-interaction"
    );
}

/// Every URL form of the issue, through a generated log: (method, url, expected
/// `needs` of the access when nothing is requested).
const FORMS: &[(&str, &str, &str)] = &[
    ("GET", "/Observation/1", "Observation.r"),
    ("GET", "/Observation/1/_history/2", "Observation.r"),
    ("GET", "/Observation/1/_history", "Observation.r"),
    (
        "GET",
        "/Observation?patient=1&category=laboratory",
        "Observation.s?category=laboratory",
    ),
    ("POST", "/Condition/_search", "Condition.s"),
    ("POST", "/Condition", "Condition.c"),
    ("PUT", "/Condition/1", "Condition.u"),
    ("PATCH", "/Condition/1", "Condition.u"),
    ("DELETE", "/Condition/1", "Condition.d"),
    ("GET", "/Encounter/_history", "Encounter.s"),
    ("GET", "/_history", "*.s"),
    ("GET", "/?_type=Procedure,Immunization", "Immunization.s"),
];

#[test]
fn generated_logs_cover_every_url_form_with_exact_matches() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("smart-app.yaml");
    // Requests only launch, and a category-restricted scope that the lab search uses.
    std::fs::write(
        &manifest,
        "id: forms\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: r\n  - scope: user/Observation.s?category=laboratory\n    rationale: r\n",
    )
    .unwrap();
    let mut log = String::new();
    for (m, u, _) in FORMS {
        log.push_str(&format!(
            "{{\"time\":\"2026-11-02T10:00:00Z\",\"tenant\":\"t\",\"app\":\"forms\",\"method\":\"{m}\",\"url\":\"https://ehr.example/fhir/R4{u}\",\"status\":200}}\n"
        ));
    }
    // An operation, a capability statement and a batch with its entries.
    log.push_str("{\"time\":\"2026-11-02T10:00:00Z\",\"tenant\":\"t\",\"app\":\"forms\",\"method\":\"GET\",\"url\":\"/Patient/1/$everything\",\"status\":200}\n");
    log.push_str("{\"time\":\"2026-11-02T10:00:00Z\",\"tenant\":\"t\",\"app\":\"forms\",\"method\":\"GET\",\"url\":\"/metadata\",\"status\":200}\n");
    log.push_str("{\"time\":\"2026-11-02T10:00:00Z\",\"tenant\":\"t\",\"app\":\"forms\",\"method\":\"POST\",\"url\":\"/\",\"status\":200,\"entries\":[{\"method\":\"GET\",\"url\":\"Goal/1\"},{\"method\":\"DELETE\",\"url\":\"Goal/2\",\"status\":404}]}\n");
    let path = dir.path().join("access.jsonl");
    std::fs::write(&path, log).unwrap();
    let (code, v) = json(&[
        manifest.to_str().unwrap(),
        "--access-log",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let got: Vec<String> = v["out_of_manifest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {} {}",
                o["interaction"].as_str().unwrap(),
                o["needs"].as_str().unwrap(),
                o["requests"].as_u64().unwrap() + o["failed"].as_u64().unwrap()
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            // Sorted by tenant, type, then the R4 interaction order.
            "history-system *.s 1",
            "update Condition.u 1",
            "patch Condition.u 1",
            "delete Condition.d 1",
            "create Condition.c 1",
            "search-type Condition.s 1",
            "history-type Encounter.s 1",
            "read Goal.r 1",
            "delete Goal.d 1",
            "search-system Immunization.s 1",
            "read Observation.r 1",
            "vread Observation.r 1",
            "history-instance Observation.r 1",
            "search-system Procedure.s 1",
        ]
    );
    // The lab search is the one access the manifest covers.
    assert_eq!(
        used(&v),
        ["user/Observation.s?category=laboratory 1 Observation.s"]
    );
    assert_eq!(v["operations"][0]["operation"], "$everything");
    assert_eq!(v["evidence"]["skipped"]["capabilities"], 1);
    // Every expected `needs` of the table appears.
    for (_, _, n) in FORMS.iter().filter(|f| !f.2.contains("laboratory")) {
        assert!(got.iter().any(|g| g.contains(&format!(" {n} "))), "{n}");
    }
}

#[test]
fn bad_lines_are_counted_and_listed_by_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"time":"2026-11-02T10:00:00Z","tenant":"t","app":"patient-summary","method":"GET","url":"/Patient/1","status":200}"#;
    let mut text = String::new();
    for i in 1..=30 {
        text.push_str(if i % 2 == 0 {
            "not json at all\n"
        } else {
            good
        });
        if i % 2 == 1 {
            text.push('\n');
        }
    }
    text.push_str(r#"{"time":"yesterday","tenant":"t","app":"patient-summary","method":"GET","url":"/Patient/1","status":200}"#);
    text.push('\n');
    text.push_str(r#"{"time":"2026-11-02T10:00:00Z","tenant":"t","app":"patient-summary","method":"GET","url":"/Pateint/1","status":200}"#);
    let path = dir.path().join("access.jsonl");
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    let (code, v) = json(&[SUMMARY, "--access-log", p]);
    assert_eq!(code, 0);
    assert_eq!(v["evidence"]["bad_lines"], 17, "the count stays exact");
    let samples = v["evidence"]["bad_line_samples"].as_array().unwrap();
    assert_eq!(samples.len(), 17);
    let lines: Vec<u64> = samples
        .iter()
        .map(|s| s["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines[..3], [2, 4, 6]);
    assert_eq!(lines[15..], [31, 32]);
    assert_eq!(
        samples[15]["reason"],
        "`time` `yesterday` is not an instant"
    );
    assert_eq!(
        samples[16]["reason"],
        "`Pateint` in `/Pateint/1` is not a FHIR resource type"
    );
    assert_eq!(used(&v)[0], "patient/Patient.rs 15 Patient.r");

    let r = run(&[SUMMARY, "--access-log", p, "--strict"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains(&format!("{p}:2: not an access-log record")),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn unreadable_evidence_exits_2_with_file_and_line() {
    let r = run(&[SUMMARY, "--access-log", "no/such/file.jsonl"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no/such/file.jsonl: cannot open"),
        "{}",
        r.stderr
    );

    let r = run(&[SUMMARY, "--access-log", "README.md"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("README.md:1: not access-log evidence"),
        "{}",
        r.stderr
    );

    let r = run(&[SUMMARY, "--audit-events", "examples/patient-summary.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("bundle.json");
    std::fs::write(
        &broken,
        "{\n  \"resourceType\": \"Bundle\",\n  \"entry\": [\n    {\"resource\": \n",
    )
    .unwrap();
    let r = run(&[SUMMARY, "--audit-events", broken.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not a JSON Bundle or NDJSON"),
        "{}",
        r.stderr
    );

    let r = run(&[SUMMARY]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--access-log"), "{}", r.stderr);
    let r = run(&[
        SUMMARY,
        "--access-log",
        "tests/fixtures/usage/wildcard/access.jsonl",
        "--since",
        "last week",
    ]);
    assert_eq!(r.code, 2);
}

fn example(format: &str) -> Run {
    run(&[
        SUMMARY,
        "--access-log",
        "examples/evidence/access.jsonl",
        "--audit-events",
        "examples/evidence/audit-events.json",
        "--granted",
        "examples/evidence/granted.jsonl",
        "--since",
        "2026-10-01",
        "--format",
        format,
    ])
}

#[test]
fn the_bundled_example_evidence_reads_as_in_the_usage_guide() {
    let r = example("text");
    assert_eq!(r.code, 1, "the social-history search is out of manifest");
    insta::assert_snapshot!("usage_example_text", r.stdout);
    let guide = std::fs::read_to_string(root().join("docs/guide/usage.md")).unwrap();
    assert!(
        guide.contains(&r.stdout),
        "docs/guide/usage.md's example output is stale:\n{}",
        r.stdout
    );
    let r = example("markdown");
    insta::assert_snapshot!("usage_example_markdown", r.stdout);
    let r = example("sarif");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let results: Vec<String> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{} {}",
                x["ruleId"].as_str().unwrap(),
                x["level"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        results.contains(&"out-of-manifest-use error".to_string()),
        "{results:?}"
    );
    assert!(
        results.contains(&"scope-unused warning".to_string()),
        "{results:?}"
    );
    let (_, v) = json(&[
        SUMMARY,
        "--access-log",
        "examples/evidence/access.jsonl",
        "--audit-events",
        "examples/evidence/audit-events.json",
        "--granted",
        "examples/evidence/granted.jsonl",
        "--since",
        "2026-10-01",
    ]);
    insta::assert_json_snapshot!("usage_example_json", v);
}

/// Evidence naming more tenants than `usage` tells apart (65,534) is refused, exit 2 with
/// why, where the tenants past the last were folded into one and some tenant's access
/// was reported as another's. Control: 1,000 tenants are each reported.
#[test]
fn evidence_of_more_tenants_than_usage_tells_apart_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = |n: usize| {
        let path = dir.path().join(format!("access-{n}.jsonl"));
        let text: String = (0..n)
            .map(|i| {
                format!(
                    "{{\"time\":\"2026-11-02T08:00:00Z\",\"tenant\":\"t{i}\",\"app\":\"chart-viewer\",\"method\":\"GET\",\"url\":\"https://ehr.example/fhir/R4/Observation?patient=1&category=vital-signs\",\"status\":200}}\n"
                )
            })
            .collect();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let manifest = "tests/fixtures/usage/wildcard/smart-app.yaml";
    let many = log(65_600);
    let r = run(&[manifest, "--access-log", &many]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("more than 65534 distinct tenants") && r.stdout.is_empty(),
        "{}",
        r.stderr
    );
    let few = log(1_000);
    let (code, v) = json(&[manifest, "--access-log", &few]);
    assert_eq!(code, 0);
    assert_eq!(v["tenants"].as_array().map(Vec::len), Some(1_000), "{v:#}");
}
