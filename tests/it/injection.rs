//! User text cannot command the runner (issue 13 §5): every workflow command, after
//! every kind of line break, in every user-supplied field (ledger `by`, ticket,
//! reason, tenants; manifest names, rationales, descriptions, offline reasons; tenant
//! descriptions; config approvers; invalid input quoted by error messages), through the
//! real binary in every output format. No line of output may start with `::` (after
//! the whitespace GitHub's runner trims), nor hold a legacy `##[` command, except the
//! tool's own annotations, whose payloads stay on their line.

use crate::support::{ci_run, fake_github, repo};

use repo::{Repo, example};

/// Every workflow command an attacker would want the runner to obey.
const COMMANDS: &[&str] = &[
    "::notice::PASS all escalations approved",
    "::error::forged",
    "::warning::forged",
    "::stop-commands::tok",
    "::add-mask::scopegate",
    "::set-output name=result::pass",
    "::group::hidden",
    "::debug::d",
    "##[add-mask]PASS",
    "##[set-output name=result;]pass",
];

/// Line breaks as YAML double-quoted escapes: LF, CR, CRLF, NEL, U+2028, U+2029, and
/// an LF followed by whitespace the runner trims.
const BREAKS: &[&str] = &["\\n", "\\r", "\\r\\n", "\\N", "\\L", "\\P", "\\n \\t\\_"];

/// A YAML double-quoted scalar holding every command, each after a line break.
fn hostile(prefix: &str) -> String {
    let mut s = format!("\"{prefix}");
    for (i, c) in COMMANDS.iter().enumerate() {
        s.push_str(BREAKS[i % BREAKS.len()]);
        s.push_str(c);
    }
    s.push_str("\\x1b[2K\\x07\\u009b\"");
    s
}

/// The lines a log reader could see: split at every line break any reader honours.
fn lines(out: &str) -> impl Iterator<Item = &str> {
    out.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'])
}

/// Panics when `out` could command the runner; `annotations` allows the tool's own
/// `::error|warning|notice …::` lines.
fn assert_inert(out: &str, what: &str, annotations: bool) {
    for l in lines(out) {
        assert!(!l.contains("##["), "{what}: legacy command in {l:?}\n{out}");
        let t = l.trim_start();
        if !t.starts_with("::") {
            continue;
        }
        let own = annotations
            && ["::error ", "::warning ", "::notice "]
                .iter()
                .any(|p| t.starts_with(p))
            && t.matches("::").count() >= 2;
        assert!(
            own,
            "{what}: a line starts a workflow command: {l:?}\n{out}"
        );
        // The payload of the tool's own annotation holds no second command.
        assert!(
            !COMMANDS.iter().any(|c| t.ends_with(c)) || t.contains("%0A") || t.contains("%0D"),
            "{what}: {l:?}"
        );
    }
}

/// A released repository whose config, tenant profile and manifest carry hostile text
/// at the baseline, and a change that carries more (manifest and ledger).
fn hostile_repo() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(
        ".scopegate/config.yaml",
        &format!("approvers: [alice, {}]\n", hostile("approver")),
    );
    let clinic = example("tenants/community-clinic.yaml").replace(
        "description: Community clinic, strict least privilege",
        &format!("description: {}", hostile("clinic")),
    );
    r.write(".scopegate/tenants/community-clinic.yaml", &clinic);
    r.commit("v1");
    r.release("v1.0.0");
    let m = r
        .read("smart-app.yaml")
        .replace("name: Medication Reconciliation", &format!("name: {}", hostile("name")))
        .replace(
            "  - scope: patient/MedicationStatement.crs\n    rationale: Reads the patient-reported list and records reconciled home medications. No update or delete.",
            &format!(
                "  - scope: patient/MedicationStatement.cruds\n    rationale: {}",
                hostile("rationale")
            ),
        )
        .replace(
            "      - patient/MedicationStatement.c\n",
            "      - patient/MedicationStatement.cud\n",
        )
        .replace(
            "description: Records who reconciled the list.",
            &format!("description: {}", hostile("description")),
        )
        .replace(
            "      reason: Discharge orders are often signed after the clinician has left; the check must run without them signed in.",
            &format!("      reason: {}", hostile("offline")),
        )
        .replace("- scope: offline_access", "- scope: user/Patient.rs\n    rationale: x\n  - scope: offline_access");
    r.write("smart-app.yaml", &m);
    r.write(
        ".scopegate/approvals.yaml",
        &format!(
            "approvals:\n  - keys: [\"med-rec:patient/MedicationStatement.u\"]\n    by: {}\n    at: 2026-11-27\n    ticket: {}\n    reason: {}\n    tenants: [{}]\n  - keys: [\"med-rec:patient/Patient.rs\"]\n    by: alice\n    at: 2026-11-27\n    ticket: {}\n",
            hostile("by"),
            hostile("ticket"),
            hostile("reason"),
            hostile("tenant"),
            hostile("ticket2"),
        ),
    );
    r.commit("hostile change");
    r
}

#[test]
fn hostile_text_in_every_field_commands_nothing_in_any_gate_or_diff_format() {
    let r = hostile_repo();
    let mut seen_text = String::new();
    for cmd in ["gate", "diff"] {
        for format in ["text", "json", "markdown", "sarif", "github", "notice"] {
            for extra in [&[][..], &["--config-from-worktree"][..]] {
                let mut args = vec![cmd, "--format", format];
                args.extend_from_slice(extra);
                let run = r.run(&args);
                assert_ne!(run.code, 2, "{args:?}: {}", run.stderr);
                let what = format!("{args:?}");
                assert_inert(&run.stdout, &what, format == "github");
                assert_inert(&run.stderr, &what, false);
                if format == "text" {
                    seen_text.push_str(&run.stdout);
                }
            }
        }
    }
    // The hostile text is shown, escaped, not dropped: the reader sees what was written.
    assert!(seen_text.contains("by\\n::notice::PASS"), "{seen_text}");
    assert!(seen_text.contains("\\u{2028}"), "{seen_text}");
}

#[test]
fn hostile_text_commands_nothing_in_check_matrix_and_approve() {
    let r = hostile_repo();
    for format in ["text", "json", "markdown", "sarif", "github"] {
        let run = r.run(&["check", "--format", format]);
        assert_inert(&run.stdout, &format!("check {format}"), format == "github");
        assert_inert(&run.stderr, &format!("check {format}"), false);
    }
    for format in ["markdown", "json", "csv", "html"] {
        let run = r.run(&["matrix", "--format", format]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_inert(&run.stdout, &format!("matrix {format}"), false);
    }
    let run = r.run(&["suggest"]);
    assert_inert(&run.stdout, "suggest", false);
    let run = r.run(&[
        "approve",
        "--by",
        "bob\n::notice::PASS",
        "--ticket",
        "T\u{2028}::add-mask::x",
        "--key",
        "med-rec:patient/MedicationStatement.d",
    ]);
    assert_inert(&run.stdout, "approve", false);
    assert_inert(&run.stderr, "approve", false);
}

#[test]
fn error_messages_that_quote_input_command_nothing() {
    // Invalid input is quoted by the error (exit 2, on stderr): a bad key, a bad date,
    // an app id with a line break.
    let r = hostile_repo();
    r.write(
        ".scopegate/approvals.yaml",
        &format!(
            "approvals:\n  - keys: [{}]\n    by: alice\n    at: {}\n    ticket: T\n",
            hostile("key"),
            hostile("date")
        ),
    );
    let run = r.run(&["gate"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("approvals.yaml"), "{}", run.stderr);
    assert_inert(&run.stderr, "ledger error", false);
    let m = r
        .read("smart-app.yaml")
        .replace("id: med-rec", &format!("id: {}", hostile("id")));
    r.write("smart-app.yaml", &m);
    for args in [&["check"][..], &["gate", "--config-from-worktree"][..]] {
        let run = r.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert_inert(&run.stderr, "manifest error", false);
        assert_inert(&run.stdout, "manifest error", false);
    }
}

#[test]
fn hostile_text_commands_nothing_in_the_ci_log() {
    // `scopegate ci` prints the text report and the annotations into the job log.
    let r = hostile_repo();
    let base = r.git(&["rev-parse", "v1.0.0"]).trim().to_string();
    let head = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    let gh = fake_github::FakeGitHub::start();
    let run = ci_run::CiJob::new(r.path(), &gh.url, repo::NOW)
        .event("pull_request", ci_run::pr_payload("dev", &base, &head))
        .run();
    let (stdout, stderr) = (run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("::error "),
        "the tool's own annotations: {stdout}"
    );
    assert_inert(&stdout, "ci stdout", true);
    assert_inert(&stderr, "ci stderr", false);
    // A payload login with a line break is no GitHub login: refused (exit 2), and the
    // error that quotes it commands nothing either.
    let run = ci_run::CiJob::new(r.path(), &gh.url, repo::NOW)
        .event(
            "pull_request",
            ci_run::pr_payload("dev\n::notice::PASS", &base, &head),
        )
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("is not a GitHub login"),
        "{}",
        run.stderr
    );
    assert_inert(&run.stdout, "ci stdout", true);
    assert_inert(&run.stderr, "ci stderr", false);
}

#[test]
fn hostile_evidence_commands_nothing_in_any_usage_format() {
    // Access logs are written by whoever runs the EHR proxy: tenant names, app ids and
    // URLs carry every command after every line break (JSON escapes this time).
    let d = tempfile::tempdir().unwrap();
    let manifest = d.path().join("smart-app.yaml");
    std::fs::write(&manifest, example("patient-summary.yaml")).unwrap();
    let mut hostile = String::from("x");
    for (i, c) in COMMANDS.iter().enumerate() {
        hostile.push_str(["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}", "\n \t"][i % 6]);
        hostile.push_str(c);
    }
    let mut log = String::new();
    for (tenant, url) in [
        (
            hostile.as_str(),
            "https://ehr.example.org/fhir/R4/Patient/p1".to_string(),
        ),
        (
            "north",
            format!("https://ehr.example.org/fhir/R4/Observation?code={hostile}"),
        ),
        (
            "north",
            format!("https://ehr.example.org/fhir/R4/{hostile}"),
        ),
    ] {
        log.push_str(
            &serde_json::json!({
                "time": "2026-11-02T08:00:00Z", "tenant": tenant, "app": "patient-summary",
                "method": "GET", "url": url, "status": 200
            })
            .to_string(),
        );
        log.push('\n');
    }
    let access = d.path().join("access.jsonl");
    std::fs::write(&access, log).unwrap();
    for format in ["text", "markdown", "json", "sarif"] {
        let run = repo::run_in(
            d.path(),
            &[
                "usage",
                manifest.to_str().unwrap(),
                "--access-log",
                access.to_str().unwrap(),
                "--format",
                format,
            ],
        );
        assert_ne!(run.code, 2, "{format}: {}", run.stderr);
        assert_inert(&run.stdout, &format!("usage {format}"), false);
        assert_inert(&run.stderr, &format!("usage {format}"), false);
    }
}

#[test]
fn a_gated_path_that_is_no_longer_a_file_commands_nothing_when_the_gate_cannot_judge_it() {
    // A released app under a directory whose name holds a line break and a command
    // (git and the file system allow both). In the working tree its manifest is now a
    // directory: the gate cannot judge the app (exit 2), and says so on stderr,
    // quoting the path. Every message on stderr goes through the same guard as a
    // report, whichever command says it.
    let r = Repo::new();
    let dir = "apps/x\n::error::forged PASS\r::add-mask::scopegate";
    let manifest = format!("{dir}/smart-app.yaml");
    r.write(&manifest, &example("med-rec.yaml"));
    r.write(
        ".scopegate/config.yaml",
        "manifests:\n  - apps/*/smart-app.yaml\napprovers: [alice]\n",
    );
    r.commit("v1");
    r.release("v1.0.0");
    r.commit("after the release");
    std::fs::remove_file(r.path().join(&manifest)).unwrap();
    std::fs::create_dir(r.path().join(&manifest)).unwrap();
    for args in [&["gate"][..], &["gate", "--format", "json"][..]] {
        let run = r.run(args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr.contains("would no longer be gated") && run.stderr.contains("forged PASS"),
            "{args:?}: the path is quoted: {}",
            run.stderr
        );
        assert_inert(&run.stderr, "cannot-judge error", false);
        assert_inert(&run.stdout, "cannot-judge report", false);
    }
    // Control: the manifest back as a regular file is judged (no change: exit 0).
    std::fs::remove_dir(r.path().join(&manifest)).unwrap();
    r.write(&manifest, &example("med-rec.yaml"));
    let run = r.run(&["gate"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
