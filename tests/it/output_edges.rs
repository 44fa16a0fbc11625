//! Output at its edges, through the real binary: a reader that stops reading, and cells
//! wider than Rust's formatter pads. Each once panicked (exit 101); a panic is never an
//! answer, and the exit code must still say what the command found.

use std::io::Read;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;

use crate::support::repo::Repo;

/// A manifest of `n` scopes with a code `Observation?category=` does not know: each is
/// a warning, so `check` writes far more than a pipe holds.
fn noisy(n: usize) -> String {
    let mut m = String::from(
        "id: noisy\nname: Noisy\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: ehr launch\n",
    );
    let mut needs = String::from("launch");
    for i in 0..n {
        m.push_str(&format!(
            "  - scope: patient/Observation.rs?category=c{i}\n    rationale: reads category c{i}\n"
        ));
        needs.push_str(&format!(", patient/Observation.rs?category=c{i}"));
    }
    m.push_str(&format!(
        "workflows:\n  - id: all\n    description: reads them all\n    needs: [{needs}]\n"
    ));
    m
}

/// `args` run in `dir` with standard output closed by its reader before the command
/// writes: (exit code, stderr).
fn with_closed_stdout(dir: &std::path::Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    (status.code().expect("ended by a signal"), stderr)
}

/// `scopegate check | head`: the reader goes away. No panic, and the exit code is the
/// verdict the full run gives (here: a failing one at `--fail-on warning`, and a
/// passing one without it), in text and JSON.
#[test]
fn a_reader_that_stops_reading_changes_no_verdict() {
    let r = Repo::new();
    r.write("smart-app.yaml", &noisy(3_000));
    for args in [
        &["check", "--fail-on", "warning"][..],
        &["check", "--fail-on", "warning", "--format", "json"],
        &["check"],
        &["check", "--format", "json"],
    ] {
        let full = r.run(args);
        assert!(full.stdout.len() > 1 << 17, "more than a pipe holds");
        let (code, stderr) = with_closed_stdout(r.path(), args);
        assert_eq!(code, full.code, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert_eq!(r.run(&["check", "--fail-on", "warning"]).code, 1);
}

/// A 70,000-character scope (Rust's formatter pads to at most 65,535) in the text
/// tables of `suggest` and `usage`, and a tenant name as long in an access log: written
/// whole, past the column's width, and no panic.
#[test]
fn cells_wider_than_a_formatter_pads_are_written_whole() {
    let r = Repo::new();
    let code = "a".repeat(70_000);
    let long = format!("patient/Observation.rs?category={code}");
    r.write(
        "smart-app.yaml",
        &format!(
            "id: wide\nname: Wide\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: ehr launch\n  - scope: \"{long}\"\n    rationale: one very long code\nworkflows:\n  - id: read\n    description: reads it\n    needs: [launch, \"{long}\"]\n"
        ),
    );
    let run = r.run(&["suggest", "smart-app.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&long), "the scope is written whole");
    let tenant = "t".repeat(70_000);
    r.write(
        "access.jsonl",
        &format!(
            "{{\"time\": \"2026-11-02T08:00:00Z\", \"tenant\": \"{tenant}\", \"app\": \"wide\", \"method\": \"GET\", \"url\": \"https://ehr/fhir/R4/Observation?category={code}\", \"status\": 200}}\n"
        ),
    );
    let run = r.run(&["usage", "smart-app.yaml", "--access-log", "access.jsonl"]);
    assert!(
        !run.stderr.contains("panicked") && run.code != 101,
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains(&tenant) && run.stdout.contains(&long));
}

/// Standard output or standard error on a full disk (`/dev/full`): exit 2 for output
/// that is not whole, no panic either way; a message that cannot be written to stderr
/// is lost, and the exit code still says what happened (here: a manifest that does not
/// parse, exit 2).
#[test]
fn a_full_disk_under_stdout_or_stderr_is_no_panic() {
    let r = Repo::new();
    r.write("smart-app.yaml", &noisy(10));
    r.write("broken.yaml", "id: x\nscopes: [\n");
    let run = |args: &[&str], stdout_full: bool| {
        let full = || {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap()
        };
        let mut c = Command::cargo_bin("scopegate").unwrap();
        c.env_clear()
            .env("NO_COLOR", "1")
            .current_dir(r.path())
            .args(args);
        if stdout_full {
            c.stdout(full()).stderr(Stdio::piped());
        } else {
            c.stdout(Stdio::piped()).stderr(full());
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["check", "smart-app.yaml"], true);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    assert_eq!(run(&["check", "broken.yaml"], false).0, Some(2));
    assert_eq!(
        run(&["check", "--fail-on", "warning", "smart-app.yaml"], false).0,
        Some(1)
    );
}

/// `GITHUB_EVENT_PATH` that is not a payload GitHub would send: a device that never
/// ends (`/dev/zero` filled the memory), a FIFO (the run blocked), a file over 32 MiB.
/// Each is exit 2 with why, at once; the API on loopback is never reached.
#[test]
fn an_event_payload_github_would_not_send_is_refused_at_once() {
    let r = Repo::new();
    let fifo = r.path().join("event.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let big = r.path().join("event.json");
    std::fs::write(&big, vec![b' '; (32 << 20) + 1]).unwrap();
    for (path, why) in [
        (std::path::PathBuf::from("/dev/zero"), "not a regular file"),
        (fifo, "not a regular file"),
        (big, "is over 32 MiB"),
    ] {
        let out = assert_cmd::Command::cargo_bin("scopegate")
            .unwrap()
            .env_clear()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &path)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .current_dir(r.path())
            .arg("ci")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {stderr}", path.display());
        assert!(stderr.contains(why), "{}: {stderr}", path.display());
    }
}
