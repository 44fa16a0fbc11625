//! Running the git CLI in test repositories, with an identity and no signing, so the
//! tests work on a machine with no git configuration. Only tests use the CLI: scopegate
//! itself reads repositories with git2.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs `git args…` in `dir` and returns its stdout; panics with git's stderr on failure.
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
