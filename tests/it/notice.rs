//! `scopegate diff --format notice` on the demo's two releases: the consent delta a
//! release manager pastes into release notes.

use std::path::{Path, PathBuf};

use crate::support::git;

use assert_cmd::Command;
use git::git_in;

fn demo(file: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("examples/demo")
            .join(file),
    )
    .unwrap()
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .args(["--now", "2026-11-28T12:00:00Z"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The demo history: v1.0.0, then the change that escalates.
fn demo_repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    git_in(p, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(p.join(".scopegate")).unwrap();
    std::fs::write(p.join(".scopegate/config.yaml"), demo("config.yaml")).unwrap();
    std::fs::write(p.join("smart-app.yaml"), demo("v1.0.0.yaml")).unwrap();
    git_in(p, &["add", "-A"]);
    git_in(p, &["commit", "-qm", "Release 1.0.0"]);
    git_in(p, &["tag", "v1.0.0"]);
    std::fs::write(p.join("smart-app.yaml"), demo("v1.1.0.yaml")).unwrap();
    git_in(
        p,
        &[
            "commit",
            "-qam",
            "Correct home medication doses; show indications",
        ],
    );
    d
}

#[test]
fn demo_notice() {
    let d = demo_repo();
    let (code, out) = run(d.path(), &["diff", "--format", "notice"]);
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn the_reverse_change_is_what_the_app_can_no_longer_do() {
    let d = demo_repo();
    let (code, out) = run(
        d.path(),
        &[
            "diff",
            "--format",
            "notice",
            "--base-file",
            "smart-app.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("No change to what this app can access."),
        "{out}"
    );
    std::fs::write(d.path().join("smart-app.yaml"), demo("v1.0.0.yaml")).unwrap();
    std::fs::write(d.path().join("newer.yaml"), demo("v1.1.0.yaml")).unwrap();
    let (_, out) = run(
        d.path(),
        &["diff", "--format", "notice", "--base-file", "newer.yaml"],
    );
    assert!(
        out.contains("- This version can no longer update MedicationStatement records for the patient in context."),
        "{out}"
    );
    assert!(
        out.contains("The workflow correct-home-med was removed."),
        "{out}"
    );
}

/// The narrowing fixture pairs through the binary, in every format: the notice says
/// what access is now limited to (never "can no longer read … Observation records"
/// while laboratory ones stay readable), and every format points at the narrowing
/// scope's line (7), not at `launch` (5).
#[test]
fn narrowing_is_said_as_a_limit_in_every_format() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff");
    let d = tempfile::tempdir().unwrap();
    let mut sentences = String::new();
    for case in [
        "narrowed-restriction-added",
        "narrowed-letters-removed",
        "narrowed-wildcard-replaced",
        "narrowed-level",
    ] {
        for f in ["base.yaml", "head.yaml"] {
            std::fs::copy(fixtures.join(case).join(f), d.path().join(f)).unwrap();
        }
        let args = |format: &'static str| {
            [
                "diff",
                "--format",
                format,
                "--base-file",
                "base.yaml",
                "head.yaml",
            ]
        };
        let (code, notice) = run(d.path(), &args("notice"));
        assert_eq!(code, 0, "{case}: {notice}");
        sentences += &format!("## {case}\n");
        for l in notice.lines().filter(|l| l.starts_with("- ")) {
            sentences += &format!("{l}\n");
        }
        // SARIF carries only outstanding escalations (code scanning alerts): it must
        // still run, and say nothing of a removal.
        let (code, out) = run(d.path(), &args("sarif"));
        assert_eq!(code, 0, "{case} sarif: {out}");
        assert!(
            !out.contains("(removed: `patient/Observation.rs`)"),
            "{out}"
        );
        for format in ["text", "json", "markdown", "github"] {
            let (code, out) = run(d.path(), &args(format));
            assert_eq!(code, 0, "{case} {format}: {out}");
            assert!(out.contains("narrowed to"), "{case} {format}: {out}");
            let at = match format {
                "text" | "markdown" => "head.yaml:7",
                "json" => "\"line\": 7",
                _ => "line=7",
            };
            assert!(out.contains(at), "{case} {format}: {out}");
        }
    }
    // The attack on the truth: the sentence of the restriction pair must not claim
    // Observation reads are gone. The control: removed letters are said as gone.
    assert!(
        !sentences.contains("can no longer read and search Observation"),
        "{sentences}"
    );
    assert!(
        sentences.contains("now limited to laboratory records"),
        "{sentences}"
    );
    assert!(
        sentences.contains("can no longer create, update and delete Observation records"),
        "{sentences}"
    );
    insta::assert_snapshot!(sentences);
}

/// A finding on a workflow's need names its token in the notice: it is not at a scope
/// entry, and the sentence quoted nothing (“”).
#[test]
fn a_finding_on_a_need_names_its_token_in_the_notice() {
    let d = crate::support::repo::base_file_pair(
        "med-rec.yaml",
        "patient/Observation.rs?category=laboratory",
        "patient/Observation.sr?category=laboratory",
    );
    let (code, out) = run(
        d.path(),
        &[
            "diff",
            "--base-file",
            "old.yaml",
            "new.yaml",
            "--format",
            "notice",
        ],
    );
    assert!(code == 0 || code == 1, "{out}");
    assert!(!out.contains("“”"), "{out}");
    assert!(
        out.contains("“patient/Observation.sr?category=laboratory”"),
        "{out}"
    );
}
