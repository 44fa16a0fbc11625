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
use std::path::{Path, PathBuf};

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
fn link(r: &Repo, target: impl AsRef<Path>, rel: &str) {
    let p = r.path().join(rel);
    let _ = std::fs::remove_file(&p);
    symlink(target, p).unwrap();
}

/// Replaces `rel` in `r` (a link, say) by a regular file holding `text`.
fn regular(r: &Repo, rel: &str, text: &str) {
    let _ = std::fs::remove_file(r.path().join(rel));
    r.write(rel, text);
}

/// A file `name` holding `text` in a directory outside any repository; the directory
/// lives as long as the first value.
fn outside(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

#[test]
fn a_ledger_symlinked_out_of_the_repository_is_exit_2_and_a_regular_one_is_read() {
    let r = released();
    let (_dir, file) = outside("approvals.yaml", LEDGER);
    link(&r, &file, ".scopegate/approvals.yaml");
    exit_2(&r.run(&["gate"]), "outside the repository");
    // Control: the same ledger as a regular file.
    regular(&r, ".scopegate/approvals.yaml", LEDGER);
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
    link(&r, "../.git/config", ".scopegate/approvals.yaml");
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
        link(&r, proc_file, ".scopegate/approvals.yaml");
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
    for args in [
        &["check"][..],
        &["gate"],
        &["gate", "--config-from-worktree"],
        &["matrix"],
    ] {
        exit_2(
            &r.run(args),
            "through a directory symlinked outside the repository",
        );
    }
}

#[test]
fn a_config_symlinked_to_a_tracked_file_in_the_repository_is_read_and_an_untracked_one_is_not() {
    let r = released();
    r.write("config/scopegate.yaml", CONFIG);
    link(&r, "../config/scopegate.yaml", ".scopegate/config.yaml");
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
    let (_dir, file) = outside("allowed_signers", &r.read(".scopegate/allowed_signers"));
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
    let snapshot = example("tenants/ehr/regional-hospital.json");
    let (_dir, file) = outside("ehr.json", &snapshot);
    let escape = file.display().to_string();
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
    let strict = "description: strict\ndeny:\n  - offline_access\n";
    let (_dir, file) = outside("strict.yaml", strict);
    std::fs::create_dir_all(r.path().join(".scopegate/tenants")).unwrap();
    link(&r, &file, ".scopegate/tenants/strict.yaml");
    exit_2(&r.run(&["check"]), "outside the repository");
    // Control: the profile as a regular file denies what the app asks for.
    regular(&r, ".scopegate/tenants/strict.yaml", strict);
    let c = r.run(&["check", "--format", "json"]);
    assert_eq!(c.json()["tenants"][0]["tenant"], "strict", "{}", c.stdout);
}

/// A directory or a FIFO with a tenant profile's name is exit 2, never skipped: skipping
/// it dropped that tenant's policy without a word.
#[test]
fn a_tenant_profile_that_is_a_directory_or_a_fifo_is_exit_2_not_skipped() {
    let r = released();
    let dir = r.path().join(".scopegate/tenants/strict.yaml");
    std::fs::create_dir_all(&dir).unwrap();
    exit_2(&r.run(&["check"]), "is not a regular file");
    std::fs::remove_dir(&dir).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&dir)
            .status()
            .unwrap()
            .success()
    );
    exit_2(&r.run(&["check"]), "is not a regular file");
    std::fs::remove_file(&dir).unwrap();
    // Control: the profile as a regular file is judged, and a directory with another
    // name (`ehr/`, for snapshots) is not a profile.
    regular(
        &r,
        ".scopegate/tenants/strict.yaml",
        "description: strict\n",
    );
    std::fs::create_dir_all(r.path().join(".scopegate/tenants/ehr")).unwrap();
    let c = r.run(&["check", "--format", "json"]);
    assert_eq!(c.json()["tenants"][0]["tenant"], "strict", "{}", c.stdout);
}

/// Without a config, `check` looks for `./smart-app.yaml`: the same rules.
#[test]
fn the_default_manifest_symlinked_out_of_the_repository_is_exit_2() {
    let r = Repo::new();
    let (_dir, file) = outside("smart-app.yaml", &example("med-rec.yaml"));
    link(&r, &file, "smart-app.yaml");
    exit_2(&r.run(&["check"]), "outside the repository");
    // Named on the command line, the user chose it: read.
    let c = r.run(&["check", file.to_str().unwrap()]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    // Control: a regular file.
    regular(&r, "smart-app.yaml", &example("med-rec.yaml"));
    let c = r.run(&["check"]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
}

/// A symlink's target is a path, never the file's text: `ln -s '{}' config.yaml` is a
/// link that leads nowhere, not an empty config (defaults), in the working tree, at
/// head in git, and at the release.
#[test]
fn a_config_symlink_that_leads_nowhere_is_exit_2_never_an_empty_config() {
    let r = released();
    link(&r, "{}", ".scopegate/config.yaml");
    exit_2(&r.run(&["check"]), "which does not exist");
    r.commit("config as a link");
    exit_2(&r.run(&["gate"]), "which does not exist");
    r.release("v1.1.0");
    // The working tree's config is a file again; the release's is still the link.
    regular(&r, ".scopegate/config.yaml", CONFIG);
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
    let (_dir, victim) = outside("victim", "precious");
    link(&r, &victim, "scopegate-report.json");
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
    link(&r, ".git", "snapshots");
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
    link(&r, "med-rec.yaml", "apps/a/smart-app.yaml");
    r.write("apps/a/draft.yaml", &example("med-rec.yaml"));
    r.commit("app a");
    let dir = r.path().join("apps/a");
    let c = repo::run_in(&dir, &["check"]);
    assert_eq!(c.code, 0, "{}{}", c.stdout, c.stderr);
    std::fs::rename(dir.join("draft.yaml"), dir.join("untracked.yaml")).unwrap();
    link(&r, "untracked.yaml", "apps/a/smart-app.yaml");
    exit_2(&repo::run_in(&dir, &["check"]), "git does not track");
}

/// A manifest that is a symlink to a tracked file is the app at the link's path: the
/// report names `smart-app.yaml` at both ends (naming the target, the app looked moved
/// away from the path the release had it at). An edit to the target is an edit to the
/// manifest: with HEAD tagged, the tag becomes the baseline, and the edit is gated.
#[test]
fn a_manifest_symlinked_to_a_tracked_file_is_gated_at_its_path_and_an_edit_to_its_target_is_seen() {
    let r = Repo::new();
    r.write("data/app.yaml", &example("med-rec.yaml"));
    link(&r, "data/app.yaml", "smart-app.yaml");
    r.write(".scopegate/config.yaml", CONFIG);
    r.commit("v1");
    r.release("v1.0.0");
    // Control: nothing edited, HEAD is the release.
    let run = r.run(&["gate", "--base", "v1.0.0", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);

    let t = r.read("data/app.yaml").replace(
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.crus",
    );
    r.write("data/app.yaml", &t);
    let run = r.run(&["gate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("baseline previous release (v*): v1.0.0"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(smart-app.yaml:"), "{}", run.stdout);
    assert!(!run.stdout.contains("app-gating-stopped"), "{}", run.stdout);
    assert!(!run.stdout.contains("app-removed"), "{}", run.stdout);
}
