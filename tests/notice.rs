//! `scopegate diff --format notice` on the demo's two releases: the consent delta a
//! release manager pastes into release notes.

use std::path::{Path, PathBuf};

#[path = "support/git.rs"]
mod git;

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
