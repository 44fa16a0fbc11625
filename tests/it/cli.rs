//! End-to-end tests of the `scopegate` binary: exit codes, outputs, bad input.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with a cleared environment and the repo root as working directory.
fn scopegate() -> Command {
    let mut c = Command::cargo_bin("scopegate").unwrap();
    c.env_clear().env("NO_COLOR", "1").current_dir(root());
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

fn run(args: &[&str]) -> Run {
    run_in(&root(), args)
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let start = Instant::now();
    let out = scopegate().current_dir(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        took: start.elapsed(),
    }
}

#[test]
fn the_bundled_examples_pass_check() {
    let r = run(&[
        "check",
        "examples/patient-summary.yaml",
        "examples/med-rec.yaml",
        "examples/population-health.yaml",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "3 manifests checked: no findings\n");
}

#[test]
fn the_flawed_example_reports_every_finding() {
    let r = run(&["check", "examples/flawed/smart-app.yaml"]);
    assert_eq!(r.code, 1);
    insta::assert_snapshot!("flawed_text", r.stdout);
    let r = run(&[
        "check",
        "--format",
        "json",
        "examples/flawed/smart-app.yaml",
    ]);
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    insta::assert_json_snapshot!("flawed_json", v);
}

#[test]
fn fail_on_sets_the_threshold() {
    let f = "tests/fixtures/lint/missing-rationale.yaml";
    assert_eq!(run(&["check", f]).code, 1);
    assert_eq!(run(&["check", "--fail-on", "error", f]).code, 0);
    assert_eq!(
        run(&[
            "check",
            "--fail-on",
            "never",
            "examples/flawed/smart-app.yaml"
        ])
        .code,
        0
    );
}

#[test]
fn every_lint_rule_fires_on_its_fixture() {
    let dir = root().join("tests/fixtures/lint");
    let mut fired = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let rule = path.file_stem().unwrap().to_str().unwrap().to_string();
        let r = run(&["check", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(r.code, 1, "{rule}: {}", r.stdout);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let rules: Vec<&str> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&rule.as_str()),
            "{rule} fixture fired {rules:?}"
        );
        fired.extend(rules.iter().map(|s| s.to_string()));
    }
    for rule in scopegate::rules::RULES
        .iter()
        .filter(|r| r.kind == scopegate::rules::RuleKind::Lint)
    {
        assert!(
            fired.contains(rule.id.as_str()),
            "no fixture fires `{}`",
            rule.id
        );
    }
}

#[test]
fn explain_json_follows_the_contract() {
    let r = run(&[
        "explain",
        "--format",
        "json",
        "patient/Observation.read launch/patient",
        "user/Observation.sr",
    ]);
    assert_eq!(r.code, 1, "an invalid token makes explain exit 1");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    insta::assert_json_snapshot!("explain_json", v);
}

#[test]
fn explain_text_reads_like_the_ig() {
    let r = run(&["explain", "patient/Observation.rs?category=laboratory"]);
    assert_eq!(r.code, 0);
    insta::assert_snapshot!("explain_text", r.stdout);
}

#[test]
fn suggest_prints_the_minimal_scopes() {
    let r = run(&["suggest", "examples/med-rec.yaml"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!("suggest_med_rec", r.stdout);
}

#[test]
fn init_writes_a_skeleton_that_check_loads() {
    let scopes =
        "launch openid fhirUser patient/Observation.read patient/Patient.rs offline_access";
    let r = run(&["init", "--scopes", scopes]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("id: \"my-app\""));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("smart-app.yaml"), &r.stdout).unwrap();
    // With no path, check reads ./smart-app.yaml.
    let c = run_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(c.code, 1);
    let v: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
    for f in v["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        assert!(
            // The scope string mixes `.read` and `.rs`.
            rule == "missing-rationale"
                || rule == "offline-access-without-reason"
                || rule == "mixed-smart-versions",
            "unexpected finding {f}"
        );
    }
    // The skeleton's workflow descriptions are TODOs, not missing.
    let t = run_in(dir.path(), &["check"]);
    assert!(t.stdout.contains("has a TODO description"), "{}", t.stdout);
    assert!(!t.stdout.contains("has no description"), "{}", t.stdout);
    let r = run(&["init", "--scopes", "patient/*.read", "--id", "demo"]);
    assert!(r.stdout.contains("id: \"demo\""));
}

#[test]
fn committed_schemas_match_the_code() {
    for (name, file) in [
        ("manifest", "manifest.schema.json"),
        ("report", "report.schema.json"),
        ("config", "config.schema.json"),
        ("approvals", "approvals.schema.json"),
        ("tenant", "tenant.schema.json"),
        ("matrix", "matrix.schema.json"),
        ("usage", "usage.schema.json"),
    ] {
        let r = run(&["schema", name]);
        assert_eq!(r.code, 0);
        let committed =
            std::fs::read_to_string(root().join("schemas").join(file)).unwrap_or_default();
        assert!(
            committed == r.stdout,
            "schemas/{file} is stale: run `cargo run -- schema {name} > schemas/{file}`"
        );
    }
}

#[test]
fn rules_lists_every_rule() {
    let r = run(&["rules"]);
    assert_eq!(r.code, 0);
    for rule in scopegate::rules::RULES {
        assert!(r.stdout.contains(rule.id.as_str()));
    }
}

#[test]
fn a_missing_default_manifest_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_in(dir.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("smart-app.yaml"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["check", "--format", "xml"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
    assert_eq!(run(&["--version"]).code, 0);
}

// ---- bad input: a clear located error, exit 2, within a second, no panic ----

fn bad_input(name: &str, bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    let r = run(&["check", p.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{name}: {}{}", r.stdout, r.stderr);
    assert!(r.took < Duration::from_secs(1), "{name} took {:?}", r.took);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no report on bad input");
    r
}

#[test]
fn malformed_yaml_is_located() {
    let r = bad_input("m.yaml", b"id: a\nscopes: [\n  - x\n");
    assert!(r.stderr.contains("m.yaml:"), "{}", r.stderr);
    assert!(r.stderr.contains(": error: "), "{}", r.stderr);
}

#[test]
fn unknown_keys_say_did_you_mean() {
    let r = bad_input("m.yaml", b"id: a\nscopes: []\nworkflow: []\n");
    assert!(
        r.stderr
            .contains("m.yaml:3:1: error: unknown key `workflow`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did you mean `workflows`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn non_utf8_bytes_are_located() {
    let r = bad_input("m.yaml", b"id: a\nscopes: []\nname: \xff\xfe\n");
    assert!(
        r.stderr
            .contains("m.yaml:3:7: error: the file is not valid UTF-8"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_50_mb_file_is_refused_quickly() {
    let mut big = b"id: a\nscopes: []\n".to_vec();
    big.resize(50 << 20, b'#');
    let r = bad_input("big.yaml", &big);
    assert!(r.stderr.contains("larger than"), "{}", r.stderr);
}

#[test]
fn deep_nesting_is_refused() {
    let mut t = b"id: a\nscopes: []\nname: ".to_vec();
    t.extend(std::iter::repeat_n(b'[', 100_000));
    let r = bad_input("deep.yaml", &t);
    assert!(r.stderr.contains("deep.yaml:3:"), "{}", r.stderr);
    let mut t = String::from("id: a\nscopes: []\nname:\n");
    for i in 0..200 {
        t.push_str(&format!("{}k{i}:\n", " ".repeat(i + 1)));
    }
    bad_input("deep-block.yaml", t.as_bytes());
}

#[test]
fn alias_bombs_are_refused() {
    let mut t = String::from("id: a\nscopes: []\nname: &a [\"lol\"]\n");
    let mut prev = "a".to_string();
    for i in 0..9 {
        let cur = format!("b{i}");
        t.push_str(&format!(
            "x{i}: &{cur} [{}]\n",
            vec![format!("*{prev}"); 9].join(", ")
        ));
        prev = cur;
    }
    let r = bad_input("bomb.yaml", t.as_bytes());
    assert!(r.stderr.contains("anchors and aliases"), "{}", r.stderr);
}

#[test]
fn every_broken_manifest_is_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, "id: a\nscopes: []\nbogus: 1\n").unwrap();
    std::fs::write(&b, "scopes: []\n").unwrap();
    let r = run(&["check", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("a.yaml:3:1") && r.stderr.contains("b.yaml:1:1"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_missing_file_is_exit_2() {
    let r = run(&["check", "does/not/exist.yaml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot read does/not/exist.yaml"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_uses_the_working_tree_config() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/lint/missing-rationale.yaml")).unwrap();
    std::fs::create_dir_all(dir.path().join("apps")).unwrap();
    std::fs::write(dir.path().join("apps/a.yaml"), fixture).unwrap();
    std::fs::create_dir_all(dir.path().join(".scopegate")).unwrap();
    std::fs::write(
        dir.path().join(".scopegate/config.yaml"),
        "manifests: [apps/a.yaml]\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["check"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("apps/a.yaml") && r.stdout.contains("missing-rationale"),
        "{}",
        r.stdout
    );
    std::fs::write(
        dir.path().join(".scopegate/config.yaml"),
        "manifests: [apps/a.yaml]\nseverity:\n  missing-rationale: note\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["check"]);
    assert_eq!(
        r.code, 0,
        "a note does not fail at the default threshold: {}",
        r.stdout
    );
    assert!(r.stdout.contains("note[missing-rationale]"), "{}", r.stdout);
    std::fs::write(dir.path().join(".scopegate/config.yaml"), "severty: {}\n").unwrap();
    let r = run_in(dir.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("did you mean `severity`?"),
        "{}",
        r.stderr
    );
}

/// A v1 app (`.read`, `.write`, `.*`): the manifest a v1-only tenant can run.
const V1_APP: &str = "id: med-rec
fhir_version: R4
launch: [ehr]
scopes:
  - scope: launch
    rationale: Opened from the EHR.
  - scope: patient/MedicationStatement.write
    rationale: Corrects home medications.
  - scope: patient/Observation.*
    rationale: Shows labs.
workflows:
  - id: reconcile
    description: The clinician reconciles home medications.
    needs: [patient/MedicationStatement.cu, patient/Observation.rs]
";

/// A temporary repository with the example tenants (the regional hospital's EHR
/// speaks only SMART v1) and `manifest` as smart-app.yaml.
fn v1_repo(manifest: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let t = d.path().join(".scopegate/tenants/ehr");
    std::fs::create_dir_all(&t).unwrap();
    for f in std::fs::read_dir(root().join("examples/tenants")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "yaml") {
            std::fs::copy(&p, t.parent().unwrap().join(p.file_name().unwrap())).unwrap();
        }
    }
    for f in std::fs::read_dir(root().join("examples/tenants/ehr")).unwrap() {
        let p = f.unwrap().path();
        std::fs::copy(&p, t.join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(d.path().join("smart-app.yaml"), manifest).unwrap();
    d
}

/// Attack on the app's version: a v1 manifest must not be told to request v2 scopes
/// without being told so. Control: the same manifest in v2 gets v2 hints.
#[test]
fn hints_stay_in_the_manifests_smart_version() {
    let d = v1_repo(V1_APP);
    let r = run_in(d.path(), &["check"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("hint: request `patient/Observation.read` instead"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "hint: needs SMART v2: `patient/MedicationStatement.cu`; in v1 the narrowest is `.write`"
        ),
        "{}",
        r.stdout
    );
    assert!(
        !r.stdout
            .contains("request `patient/MedicationStatement.cu`"),
        "{}",
        r.stdout
    );
    // The uncovered-need hint too: a v1 app missing a need is told the v1 scope.
    let missing = V1_APP.replace(
        "  - scope: patient/Observation.*\n    rationale: Shows labs.\n",
        "",
    );
    std::fs::write(d.path().join("smart-app.yaml"), &missing).unwrap();
    let r = run_in(d.path(), &["check"]);
    assert!(
        r.stdout
            .contains("hint: request `patient/Observation.read`"),
        "{}",
        r.stdout
    );

    let v2 = V1_APP
        .replace("MedicationStatement.write", "MedicationStatement.cud")
        .replace("Observation.*", "Observation.cruds");
    std::fs::write(d.path().join("smart-app.yaml"), &v2).unwrap();
    let r = run_in(d.path(), &["check"]);
    assert!(
        r.stdout
            .contains("hint: request `patient/MedicationStatement.cu` instead"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("hint: request `patient/Observation.rs` instead"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("SMART v2:"), "{}", r.stdout);
}

/// `suggest` answers in the manifest's syntax by default, in the other one with
/// `--syntax`, and names the tenants whose EHR lacks the capability that syntax needs.
#[test]
fn suggest_follows_the_syntax_and_names_tenants_lacking_it() {
    let d = v1_repo(V1_APP);
    let r = run_in(d.path(), &["suggest"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(SMART v1 syntax)"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("launch patient/MedicationStatement.write patient/Observation.read"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("needs SMART v2: `patient/MedicationStatement.cu`"),
        "{}",
        r.stdout
    );
    // v1 cannot take away `.d` from `.write`: not advice it can follow.
    assert!(
        !r.stdout.contains("patient/MedicationStatement.d"),
        "{}",
        r.stdout
    );
    // Every example EHR lists `permission-v1`.
    assert!(!r.stdout.contains("tenants whose EHR"), "{}", r.stdout);

    let r = run_in(d.path(), &["suggest", "--syntax", "v2"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("launch patient/MedicationStatement.cu patient/Observation.rs"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "tenants whose EHR does not list `permission-v2` (SMART v2 scopes may be refused there):\n  regional-hospital\n"
        ),
        "{}",
        r.stdout
    );
    let r = run_in(d.path(), &["suggest", "--syntax", "v2", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["syntax"], "v2");
    assert_eq!(
        v["tenants_lacking"],
        serde_json::json!(["regional-hospital"])
    );

    // A v2 manifest asked for v1.
    let r = run(&["suggest", "--syntax", "v1", "examples/med-rec.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("(SMART v1 syntax)"), "{}", r.stdout);
    assert!(!r.stdout.contains(".rs "), "{}", r.stdout);
    let r = run(&["suggest", "--syntax", "v3", "examples/med-rec.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// Mixed v1 and v2 syntax is a warning at the first scope in the other syntax.
#[test]
fn a_manifest_mixing_smart_versions_is_linted() {
    let r = run(&["check", "tests/fixtures/lint/mixed-smart-versions.yaml"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "mixed-smart-versions.yaml:11:12: warning[mixed-smart-versions]: `patient/Condition.rs` is SMART v2 syntax, but `patient/Observation.read` on line 9 is SMART v1"
        ),
        "{}",
        r.stdout
    );
    // Control: one syntax throughout is no finding.
    let r = run(&["check", "examples/med-rec.yaml"]);
    assert!(!r.stdout.contains("mixed-smart-versions"), "{}", r.stdout);
}

/// Permission typos get a did-you-mean (a transposition too); letters that spell
/// neither get none. Renamed FHIR types get their counterpart, not a near spelling.
#[test]
fn typos_and_renamed_types_say_what_was_meant() {
    let r = run(&[
        "explain",
        "patient/Observation.raed",
        "patient/Observation.wirte",
        "patient/Observation.xyz",
        "patient/MedicationUsage.rs",
        "patient/DeviceUsage.rs",
    ]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    for want in [
        "hint: did you mean `patient/Observation.read`?",
        "hint: did you mean `patient/Observation.write`?",
        "hint: did you mean `patient/MedicationStatement.rs`?",
        "hint: did you mean `patient/DeviceUseStatement.rs`?",
    ] {
        assert!(r.stdout.contains(want), "{want}\n{}", r.stdout);
    }
    let xyz = r.stdout.split("patient/Observation.xyz").nth(1).unwrap();
    assert!(
        !xyz.split("patient/").next().unwrap().contains("hint:"),
        "{xyz}"
    );
    // An invalid token lists no grants; a valid one does (control).
    assert!(!r.stdout.contains("grants on"), "{}", r.stdout);
    let r = run(&["explain", "patient/MedicationStatement.rs"]);
    assert!(
        r.stdout.contains("grants on MedicationStatement"),
        "{}",
        r.stdout
    );
    let r = run(&[
        "explain",
        "--format",
        "json",
        "--fhir-version",
        "R4",
        "patient/MedicationUsage.rs",
    ]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["grants"], serde_json::json!([]), "{v}");

    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("smart-app.yaml"),
        "id: t\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: x\n  - scope: patient/MedicationUsage.rs\n    rationale: x\nworkflows:\n  - id: w\n    description: d\n    needs: [patient/MedicationUsage.rs]\n",
    )
    .unwrap();
    let r = run_in(d.path(), &["check"]);
    assert!(
        r.stdout.contains(
            "hint: `MedicationUsage` is `MedicationStatement` in FHIR R4 (renamed between releases): request `patient/MedicationStatement.rs`"
        ),
        "{}",
        r.stdout
    );
}

/// `?category=labratory` is a warning with a did-you-mean; a known code (control), a
/// code of another system, and parameters with no known value set are not.
#[test]
fn restriction_codes_of_known_value_sets_are_checked() {
    let r = run(&["check", "tests/fixtures/lint/unknown-restriction-code.yaml"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(
            "unknown-restriction-code.yaml:8:12: warning[unknown-restriction-code]: `patient/Observation.rs?category=labratory`: `labratory` is not a code of `Observation?category=`"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("hint: did you mean `category=laboratory`?"),
        "{}",
        r.stdout
    );
    let d = tempfile::tempdir().unwrap();
    let manifest = |scope: &str| {
        format!(
            "id: t\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: x\n  - scope: \"{scope}\"\n    rationale: x\nworkflows:\n  - id: w\n    description: d\n    needs: [\"{scope}\"]\n"
        )
    };
    for (scope, warns) in [
        ("patient/Condition.rs?category=problem-list-itme", true),
        ("patient/Condition.rs?category=health-concern", false),
        (
            "patient/Observation.rs?category=laboratory,vital-signs",
            false,
        ),
        (
            "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|labs",
            true,
        ),
        (
            "patient/Observation.rs?category=http://example.org/local|labs",
            false,
        ),
        ("patient/Observation.rs?code=http://loinc.org|1234-5", false),
    ] {
        std::fs::write(d.path().join("smart-app.yaml"), manifest(scope)).unwrap();
        let r = run_in(d.path(), &["check"]);
        assert_eq!(
            r.stdout.contains("unknown-restriction-code"),
            warns,
            "{scope}: {}",
            r.stdout
        );
    }
}
