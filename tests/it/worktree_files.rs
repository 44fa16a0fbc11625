//! The files scopegate looks for in the working tree (`.scopegate/config.yaml`, the
//! approvals ledger, `allowed_signers`, tenant profiles, the EHR snapshots they name,
//! the default `smart-app.yaml`) are a pull request's to write. Each is read under the
//! rules a manifest is read under: a symlink only to a file git tracks inside the
//! repository, no directory on the way symlinked out of it, nothing but a regular file,
//! no path named outside the repository or inside `.git/`. Otherwise exit 2, saying
//! why: such a read could block the gate (a FIFO, `/proc/kmsg`) or carry a file of the
//! runner's (`.git/config`, which holds the checkout's token, or `/proc/self/environ`)
//! into the report. Each attack is next to a control that reads the file.

use std::os::unix::fs::symlink;

use crate::support::{ci_run, fake_github, repo};

use repo::{NOW, Repo, Run, example};

const CONFIG: &str = "manifests:\n  - smart-app.yaml\napprovers: [alice]\n";
const LEDGER: &str = "approvals: []\n";

/// Release v1.0.0 with one app, its config and an empty ledger; then a commit.
fn released() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(".scopegate/config.yaml", CONFIG);
    r.write(".scopegate/approvals.yaml", LEDGER);
    r.commit("v1");
    r.release("v1.0.0");
    r.commit("after the release");
    r
}

fn exit_2(run: &Run, why: &str) {
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(why),
        "wanted `{why}` in:\n{}",
        run.stderr
    );
}

/// Replaces `rel` in `r` by a symlink to `target`.
fn link(r: &Repo, target: &std::path::Path, rel: &str) {
    let p = r.path().join(rel);
    let _ = std::fs::remove_file(&p);
    symlink(target, p).unwrap();
}

#[test]
fn a_ledger_symlinked_out_of_the_repository_is_exit_2_and_a_regular_one_is_read() {
    let r = released();
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("approvals.yaml");
    std::fs::write(&file, LEDGER).unwrap();
    link(&r, &file, ".scopegate/approvals.yaml");
    exit_2(&r.run(&["gate"]), "outside the repository");
    // Control: the same ledger as a regular file.
    std::fs::remove_file(r.path().join(".scopegate/approvals.yaml")).unwrap();
    r.write(".scopegate/approvals.yaml", LEDGER);
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
}

#[test]
fn a_ledger_symlinked_to_the_checkouts_git_config_is_exit_2_and_its_token_is_not_shown() {
    let r = released();
    // actions/checkout leaves the token in .git/config, inside the repository.
    r.git(&[
        "config",
        "http.https://github.com/.extraheader",
        "AUTHORIZATION: basic c2VjcmV0LXRva2Vu",
    ]);
    link(
        &r,
        std::path::Path::new("../.git/config"),
        ".scopegate/approvals.yaml",
    );
    let g = r.run(&["gate"]);
    exit_2(&g, "git does not track");
    assert!(!g.stderr.contains("c2VjcmV0LXRva2Vu") && !g.stderr.contains("extraheader"));
}

#[test]
fn a_fifo_or_a_proc_file_as_the_ledger_is_exit_2_without_blocking() {
    let r = released();
    let p = r.path().join(".scopegate/approvals.yaml");
    std::fs::remove_file(&p).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .unwrap();
    assert!(made.success());
    exit_2(&r.run(&["gate"]), "is a FIFO");
    std::fs::remove_file(&p).unwrap();
    // /proc/kmsg blocks a reader as root; /proc/self/environ holds the runner's
    // secrets. Neither is read.
    for proc_file in ["/proc/kmsg", "/proc/self/environ"] {
        link(
            &r,
            std::path::Path::new(proc_file),
            ".scopegate/approvals.yaml",
        );
        let g = r.run(&["gate"]);
        exit_2(&g, "outside the repository");
        assert!(!g.stderr.contains("NO_COLOR"), "{}", g.stderr);
    }
}

#[test]
fn a_scopegate_directory_symlinked_out_of_the_repository_is_exit_2_for_check_and_gate() {
    let r = released();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("config.yaml"), CONFIG).unwrap();
    std::fs::write(outside.path().join("approvals.yaml"), LEDGER).unwrap();
    std::fs::remove_dir_all(r.path().join(".scopegate")).unwrap();
    symlink(outside.path(), r.path().join(".scopegate")).unwrap();
    exit_2(
        &r.run(&["check"]),
        "through a directory symlinked outside the repository",
    );
    exit_2(
        &r.run(&["gate"]),
        "through a directory symlinked outside the repository",
    );
    exit_2(
        &r.run(&["gate", "--config-from-worktree"]),
        "through a directory symlinked outside the repository",
    );
    exit_2(
        &r.run(&["matrix"]),
        "through a directory symlinked outside the repository",
    );
}

#[test]
fn a_config_symlinked_to_a_tracked_file_in_the_repository_is_read_and_an_untracked_one_is_not() {
    let r = released();
    r.write("config/scopegate.yaml", CONFIG);
    link(
        &r,
        std::path::Path::new("../config/scopegate.yaml"),
        ".scopegate/config.yaml",
    );
    // Not yet tracked: refused, and says so.
    exit_2(&r.run(&["check"]), "git does not track");
    // Control: tracked, the link is followed.
    r.commit("config moved");
    let c = r.run(&["check"]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
}

#[test]
fn allowed_signers_symlinked_out_of_the_repository_is_exit_2() {
    let r = released();
    r.allow_signer("alice", "");
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("allowed_signers");
    std::fs::copy(r.path().join(".scopegate/allowed_signers"), &file).unwrap();
    let g = r.run(&["gate", "--config-from-worktree"]);
    assert_eq!(g.code, 0, "control: {}{}", g.stdout, g.stderr);
    link(&r, &file, ".scopegate/allowed_signers");
    exit_2(
        &r.run(&["gate", "--config-from-worktree"]),
        "outside the repository",
    );
}

/// A tenant profile names its EHR snapshot: the path is the profile's to write.
#[test]
fn a_tenants_ehr_snapshot_outside_the_repository_or_in_git_is_exit_2() {
    let r = released();
    let outside = tempfile::tempdir().unwrap();
    let snapshot = example("tenants/ehr/regional-hospital.json");
    std::fs::write(outside.path().join("ehr.json"), &snapshot).unwrap();
    let escape = format!("{}/ehr.json", outside.path().display());
    for (ehr, why) in [
        (escape.as_str(), "outside the repository"),
        (
            "../../../../../../../../etc/hostname",
            "outside the repository",
        ),
        ("/proc/self/environ", "outside the repository"),
        (".git/config", "inside git's own directory"),
        ("./.git/HEAD", "inside git's own directory"),
    ] {
        r.write(
            ".scopegate/tenants/clinic.yaml",
            &format!("description: a clinic\nehr: {ehr}\n"),
        );
        let c = r.run(&["check"]);
        exit_2(&c, why);
        assert!(!c.stderr.contains("NO_COLOR"), "{}", c.stderr);
    }
    // Control: the snapshot inside the repository.
    r.write(".scopegate/tenants/ehr/clinic.json", &snapshot);
    r.write(
        ".scopegate/tenants/clinic.yaml",
        "description: a clinic\nehr: .scopegate/tenants/ehr/clinic.json\n",
    );
    let c = r.run(&["check", "--format", "json"]);
    assert!(c.code < 2, "{}{}", c.stdout, c.stderr);
    assert_eq!(c.json()["tenants"][0]["tenant"], "clinic", "{}", c.stdout);
}

/// A symlinked tenant profile is judged, never skipped: skipping it would drop its
/// policy without a word.
#[test]
fn a_tenant_profile_symlinked_out_of_the_repository_is_exit_2_not_skipped() {
    let r = released();
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("strict.yaml");
    std::fs::write(&file, "description: strict\ndeny:\n  - offline_access\n").unwrap();
    std::fs::create_dir_all(r.path().join(".scopegate/tenants")).unwrap();
    link(&r, &file, ".scopegate/tenants/strict.yaml");
    exit_2(&r.run(&["check"]), "outside the repository");
    // Control: the profile as a regular file denies what the app asks for.
    std::fs::remove_file(r.path().join(".scopegate/tenants/strict.yaml")).unwrap();
    std::fs::copy(&file, r.path().join(".scopegate/tenants/strict.yaml")).unwrap();
    let c = r.run(&["check", "--format", "json"]);
    assert_eq!(c.json()["tenants"][0]["tenant"], "strict", "{}", c.stdout);
}

/// Without a config, `check` looks for `./smart-app.yaml`: the same rules.
#[test]
fn the_default_manifest_symlinked_out_of_the_repository_is_exit_2() {
    let r = Repo::new();
    let outside = tempfile::tempdir().unwrap();
    let file = outside.path().join("smart-app.yaml");
    std::fs::write(&file, example("med-rec.yaml")).unwrap();
    symlink(&file, r.path().join("smart-app.yaml")).unwrap();
    exit_2(&r.run(&["check"]), "outside the repository");
    // Named on the command line, the user chose it: read.
    let c = r.run(&["check", file.to_str().unwrap()]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    // Control: a regular file.
    std::fs::remove_file(r.path().join("smart-app.yaml")).unwrap();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    let c = r.run(&["check"]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
}

/// A symlink's target is a path, never the file's text: `ln -s '{}' config.yaml` is a
/// link that leads nowhere, not an empty config (defaults), in the working tree, at
/// head in git, and at the release.
#[test]
fn a_config_symlink_that_leads_nowhere_is_exit_2_never_an_empty_config() {
    let r = released();
    link(&r, std::path::Path::new("{}"), ".scopegate/config.yaml");
    exit_2(&r.run(&["check"]), "which does not exist");
    r.commit("config as a link");
    exit_2(&r.run(&["gate"]), "which does not exist");
    r.release("v1.1.0");
    // The working tree's config is a file again; the release's is still the link.
    std::fs::remove_file(r.path().join(".scopegate/config.yaml")).unwrap();
    r.write(".scopegate/config.yaml", CONFIG);
    r.commit("config as a file");
    let g = r.run(&["gate"]);
    exit_2(&g, "which does not exist");
    assert!(g.stderr.contains("v1.1.0"), "{}", g.stderr);
}

/// Without RUNNER_TEMP, `scopegate ci` writes its report in the working directory,
/// the change's checkout: a symlink the change committed there is replaced by the
/// report, never written through.
#[test]
fn the_ci_report_replaces_a_symlink_the_change_committed_at_its_path() {
    let r = released();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    symlink(&victim, r.path().join("scopegate-report.json")).unwrap();
    let head = r.commit("plant a link");
    let base = r.git(&["rev-parse", "v1.0.0"]).trim().to_string();
    let gh = fake_github::FakeGitHub::start();
    gh.add_pull(7, &head, &base, "dev", "acme/app");
    let run = ci_run::CiJob::new(r.path(), &gh.url, NOW)
        .args(["--comment", "never", "--no-summary"])
        .event("pull_request", ci_run::pr_payload("dev", &base, &head))
        .without("RUNNER_TEMP")
        .without("GITHUB_STEP_SUMMARY")
        .run();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let report = r.path().join("scopegate-report.json");
    assert!(
        std::fs::symlink_metadata(&report).unwrap().is_file(),
        "{}{}",
        run.stdout,
        run.stderr
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    assert_eq!(v["verdict"], "no-change", "{}{}", run.stdout, run.stderr);
}

/// A directory the change links to `.git` leads a path written inside the tree to
/// git's own files: refused as `.git/` itself is.
#[test]
fn a_directory_symlinked_into_git_does_not_reach_the_checkouts_git_config() {
    let r = released();
    r.git(&[
        "config",
        "http.https://github.com/.extraheader",
        "AUTHORIZATION: basic c2VjcmV0LXRva2Vu",
    ]);
    symlink(".git", r.path().join("snapshots")).unwrap();
    r.write(
        ".scopegate/tenants/clinic.yaml",
        "description: a clinic\nehr: snapshots/config\n",
    );
    let c = r.run(&["check"]);
    exit_2(&c, "inside git's own directory");
    assert!(!c.stderr.contains("c2VjcmV0LXRva2Vu") && !c.stderr.contains("extraheader"));
    // The same for the ledger, reached through a linked `.scopegate/`.
    std::fs::remove_file(r.path().join("snapshots")).unwrap();
    std::fs::remove_dir_all(r.path().join(".scopegate")).unwrap();
    std::fs::write(r.path().join(".git/approvals.yaml"), LEDGER).unwrap();
    symlink(".git", r.path().join(".scopegate")).unwrap();
    exit_2(&r.run(&["gate"]), "inside git's own directory");
}

/// `check` run in an app's directory of a larger repository: a default manifest that
/// links to a tracked file beside it is read; to an untracked one, it is refused.
#[test]
fn in_a_subdirectory_the_default_manifest_may_link_to_a_tracked_file_only() {
    let r = Repo::new();
    r.write("apps/a/med-rec.yaml", &example("med-rec.yaml"));
    symlink("med-rec.yaml", r.path().join("apps/a/smart-app.yaml")).unwrap();
    r.write("apps/a/draft.yaml", &example("med-rec.yaml"));
    r.commit("app a");
    let dir = r.path().join("apps/a");
    let c = repo::run_in(&dir, &["check"]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    std::fs::remove_file(dir.join("smart-app.yaml")).unwrap();
    std::fs::rename(dir.join("draft.yaml"), dir.join("untracked.yaml")).unwrap();
    symlink("untracked.yaml", dir.join("smart-app.yaml")).unwrap();
    exit_2(&repo::run_in(&dir, &["check"]), "git does not track");
}
