//! The composite action's scripts, run as GitHub runs them: `action/install.sh` against
//! a local directory of fake assets, and `action/run.sh` with the documented env on a
//! temporary repository and event payload, against the fake GitHub server.

use crate::support::{fake_github, git};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git::git_in;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

struct Install {
    _dir: tempfile::TempDir,
    out: Output,
    github_path: String,
    bin_dir: PathBuf,
    cargo_log: String,
}

/// Builds a fake release (a tarball holding a `scopegate` script) and runs install.sh.
fn install(os: &str, arch: &str, tamper: bool, mode: &str) -> Install {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().to_path_buf();
    let assets = tmp.join("assets");
    let stage = tmp.join("stage");
    std::fs::create_dir_all(&assets).unwrap();
    std::fs::create_dir_all(&stage).unwrap();
    std::fs::write(stage.join("scopegate"), "#!/bin/sh\necho fake scopegate\n").unwrap();
    let tarball = assets.join("scopegate-9.9.9-x86_64-unknown-linux-musl.tar.gz");
    let ok = Command::new("tar")
        .args([
            "-czf",
            tarball.to_str().unwrap(),
            "-C",
            stage.to_str().unwrap(),
            "scopegate",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let mut sum = sha256(&tarball);
    if tamper {
        sum = sum.replace(&sum[..1], if &sum[..1] == "0" { "1" } else { "0" });
    }
    let release = tmp.join("release.txt");
    std::fs::write(
        &release,
        format!(
            "# test release\nversion 9.9.9\nLinux X64 x86_64-unknown-linux-musl https://example.invalid/download/{} {sum}\n",
            tarball.file_name().unwrap().to_str().unwrap()
        ),
    )
    .unwrap();
    // A stand-in for cargo that records how it was called (the real `cargo install`
    // path is exercised by the pre-commit test in .ci/run).
    let cargo = tmp.join("cargo");
    std::fs::write(
        &cargo,
        format!("#!/bin/sh\necho \"$@\" > {}/cargo.log\n", tmp.display()),
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x", cargo.to_str().unwrap()])
        .status()
        .unwrap();
    let github_path = tmp.join("github_path");
    let runner_temp = tmp.join("runner");
    std::fs::create_dir_all(&runner_temp).unwrap();
    let out = Command::new("bash")
        .arg(root().join("action/install.sh"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GITHUB_ACTION_PATH", root())
        .env("GITHUB_PATH", &github_path)
        .env("RUNNER_TEMP", &runner_temp)
        .env("RUNNER_OS", os)
        .env("RUNNER_ARCH", arch)
        .env("INPUT_INSTALL", mode)
        .env("SCOPEGATE_RELEASE_FILE", &release)
        .env("SCOPEGATE_ASSET_DIR", &assets)
        .env("SCOPEGATE_CARGO", &cargo)
        .output()
        .unwrap();
    Install {
        _dir: dir,
        out,
        github_path: std::fs::read_to_string(&github_path).unwrap_or_default(),
        bin_dir: runner_temp.join("scopegate/bin"),
        cargo_log: std::fs::read_to_string(tmp.join("cargo.log")).unwrap_or_default(),
    }
}

#[test]
fn a_correct_checksum_installs_the_prebuilt_binary() {
    let i = install("Linux", "X64", false, "auto");
    assert!(
        i.out.status.success(),
        "{}",
        String::from_utf8_lossy(&i.out.stderr)
    );
    assert!(i.bin_dir.join("scopegate").exists());
    assert_eq!(i.github_path.trim(), i.bin_dir.display().to_string());
    let run = Command::new(i.bin_dir.join("scopegate")).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "fake scopegate"
    );
    assert!(i.cargo_log.is_empty(), "no source build");
}

#[test]
fn a_wrong_checksum_refuses_to_install() {
    let i = install("Linux", "X64", true, "auto");
    assert!(!i.out.status.success());
    let err = String::from_utf8_lossy(&i.out.stderr);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(!i.bin_dir.join("scopegate").exists());
    assert!(i.github_path.is_empty());
    assert!(
        i.cargo_log.is_empty(),
        "no silent fallback to a source build"
    );
}

#[test]
fn an_unknown_os_or_arch_takes_the_source_path() {
    for (os, arch) in [("Linux", "PPC64"), ("FreeBSD", "X64")] {
        let i = install(os, arch, false, "auto");
        assert!(
            i.out.status.success(),
            "{}",
            String::from_utf8_lossy(&i.out.stderr)
        );
        assert!(
            i.cargo_log.starts_with("install --locked --root "),
            "{}",
            i.cargo_log
        );
        assert!(
            i.cargo_log
                .contains(&format!("--path {}", root().display())),
            "{}",
            i.cargo_log
        );
        assert!(
            String::from_utf8_lossy(&i.out.stdout)
                .contains(&format!("no prebuilt binary for {os}/{arch}"))
        );
    }
    let i = install("Linux", "X64", false, "source");
    assert!(
        i.cargo_log.starts_with("install --locked"),
        "install: source always builds"
    );
    let i = install("Linux", "X64", false, "binary");
    assert_eq!(i.out.status.code(), Some(2), "unknown install mode");
}

#[test]
fn the_run_step_drives_scopegate_ci_with_the_documented_env() {
    // A repository released at v1.0.0, then a PR commit that escalates.
    let repo = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| git_in(repo.path(), args);
    git(&["init", "-q", "-b", "main"]);
    let example = std::fs::read_to_string(root().join("examples/med-rec.yaml")).unwrap();
    std::fs::write(repo.path().join("smart-app.yaml"), &example).unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "v1"]);
    git(&["tag", "v1.0.0"]);
    let base = git(&["rev-parse", "HEAD"]).trim().to_string();
    std::fs::write(
        repo.path().join("smart-app.yaml"),
        example.replace(
            "patient/MedicationStatement.crs",
            "patient/MedicationStatement.crus",
        ),
    )
    .unwrap();
    git(&["commit", "-q", "-am", "add update"]);
    let head = git(&["rev-parse", "HEAD"]).trim().to_string();

    let tmp = tempfile::tempdir().unwrap();
    let event = tmp.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"number": 3, "user": {"login": "dev"},
            "head": {"sha": head, "repo": {"full_name": "acme/app"}},
            "base": {"sha": base, "repo": {"full_name": "acme/app"}}}})
        .to_string(),
    )
    .unwrap();
    let gh = fake_github::FakeGitHub::start();
    gh.with(|s| s.pulls.insert(3, head.clone()));
    let output = tmp.path().join("output");
    let summary = tmp.path().join("summary");
    // As action.yml's run step: inputs arrive as INPUT_* env, the token as GITHUB_TOKEN.
    let out = Command::new("bash")
        .arg(root().join("action/run.sh"))
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("SCOPEGATE_BIN", env!("CARGO_BIN_EXE_scopegate"))
        .env("GITHUB_ACTION_PATH", root())
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", &gh.url)
        .env("GITHUB_TOKEN", "ghs_action_token_1")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_JOB", "gate")
        .env("RUNNER_TEMP", tmp.path())
        .env("INPUT_MANIFEST", "smart-app.yaml")
        .env("INPUT_BASELINE", "auto")
        .env("INPUT_FAIL_ON", "unapproved")
        .env("INPUT_COMMENT", "auto")
        .env("INPUT_SUMMARY", "true")
        .env("INPUT_ANNOTATIONS", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outputs = std::fs::read_to_string(&output).unwrap();
    assert!(
        outputs.contains("result=fail\n") && outputs.contains("unapproved=1\n"),
        "{outputs}"
    );
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("UNAPPROVED")
    );
    assert!(stdout.contains("::error file=smart-app.yaml"), "{stdout}");
    let comments = gh.comments();
    assert_eq!(comments.len(), 1);
    assert!(comments[0].body.starts_with(&format!(
        "<!-- scopegate:v1 job=gate manifests=smart-app.yaml head={head} -->"
    )));
    assert!(!stdout.contains("ghs_action_token_1"));

    // `fail-on: never`, no summary, no annotations: exit 0, and only the outputs.
    let out = Command::new("bash")
        .arg(root().join("action/run.sh"))
        .current_dir(repo.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("SCOPEGATE_BIN", env!("CARGO_BIN_EXE_scopegate"))
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", &gh.url)
        .env("GITHUB_OUTPUT", &output)
        .env("RUNNER_TEMP", tmp.path())
        .env("INPUT_FAIL_ON", "never")
        .env("INPUT_COMMENT", "never")
        .env("INPUT_SUMMARY", "false")
        .env("INPUT_ANNOTATIONS", "false")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("::error file="));
}

/// Each API cap input becomes its `scopegate ci` flag; an empty one leaves the
/// binary's default.
#[test]
fn the_run_step_passes_the_api_caps_as_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("scopegate");
    std::fs::write(&fake, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n").unwrap();
    Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let out = Command::new("bash")
        .arg(root().join("action/run.sh"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("SCOPEGATE_BIN", &fake)
        .env("INPUT_API_CALL_TIMEOUT", "45")
        .env("INPUT_API_MAX_RESPONSE_BYTES", "1048576")
        .env("INPUT_API_MAX_PAGES", "7; rm -rf /")
        .env("INPUT_API_RUN_TIMEOUT", "")
        .output()
        .unwrap();
    let args = String::from_utf8(out.stdout).unwrap();
    let args: Vec<&str> = args.lines().collect();
    let pair = |flag: &str| {
        args.iter()
            .position(|a| *a == flag)
            .map(|i| args[i + 1].to_string())
    };
    assert_eq!(pair("--api-call-timeout").as_deref(), Some("45"));
    assert_eq!(pair("--api-max-response-bytes").as_deref(), Some("1048576"));
    // One argument, for scopegate to refuse: never a shell word.
    assert_eq!(pair("--api-max-pages").as_deref(), Some("7; rm -rf /"));
    assert_eq!(pair("--api-run-timeout"), None);
}
