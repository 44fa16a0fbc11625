//! Many apps in one repository, end to end: the real binary on temporary git
//! repositories whose config names the manifests by glob. Three apps; between the
//! release and HEAD one moves to a new directory, gains a scope, is removed, or is
//! copied under a second path.

use crate::support::{fake_github, git, repo};

use assert_cmd::Command;
use fake_github::FakeGitHub;
use git::git_in;
use repo::{NOW, Repo, Run, example};
use serde_json::Value;

const CONFIG: &str =
    "manifests:\n  - apps/*/smart-app.yaml\n  - services/**/smart-app.yaml\napprovers: [alice]\n";
const MOVED_FROM: &str = "apps/patient-summary/smart-app.yaml";
const MOVED_TO: &str = "apps/summary/smart-app.yaml";

fn gate(r: &Repo) -> Run {
    r.run(&["gate", "--format", "json"])
}

/// Release v1.0.0 holds three apps under the globbed config; HEAD moves
/// patient-summary to `apps/summary/`. Returns the repo and the release commit.
fn three_apps_one_moved() -> (Repo, String) {
    let r = Repo::new();
    r.write("apps/med-rec/smart-app.yaml", &example("med-rec.yaml"));
    r.write(MOVED_FROM, &example("patient-summary.yaml"));
    r.write(
        "services/backend/population-health/smart-app.yaml",
        &example("population-health.yaml"),
    );
    r.write(".scopegate/config.yaml", CONFIG);
    // Alice's key is released with the config: the approvals she adds later verify.
    r.allow_signer("alice", "");
    let base = r.commit("v1");
    r.git(&["tag", "v1.0.0"]);
    std::fs::create_dir_all(r.path().join("apps/summary")).unwrap();
    r.git(&["mv", MOVED_FROM, MOVED_TO]);
    r.commit("move patient-summary");
    (r, base)
}

fn apps(v: &Value) -> Vec<(String, String, Option<String>)> {
    v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["app"].as_str().unwrap().to_string(),
                a["path"].as_str().unwrap().to_string(),
                a["baseline_path"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn three_apps_with_one_moved_pass_with_no_false_escalation() {
    let (r, _) = three_apps_one_moved();
    // Untracked junk under the glob is not a manifest (it would be a duplicate id).
    r.write("apps/scratch/smart-app.yaml", &example("med-rec.yaml"));
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "no-change");
    assert_eq!(v["changes"].as_array().unwrap().len(), 0, "{v:#}");
    assert_eq!(v["manifests"][0], "apps/*/smart-app.yaml");
    let mut got = apps(&v);
    got.sort();
    assert_eq!(
        got,
        [
            (
                "med-rec".to_string(),
                "apps/med-rec/smart-app.yaml".to_string(),
                Some("apps/med-rec/smart-app.yaml".to_string())
            ),
            (
                "patient-summary".to_string(),
                MOVED_TO.to_string(),
                Some(MOVED_FROM.to_string())
            ),
            (
                "population-health".to_string(),
                "services/backend/population-health/smart-app.yaml".to_string(),
                Some("services/backend/population-health/smart-app.yaml".to_string())
            ),
        ]
    );
    // The move is visible to a reader.
    let t = r.run(&["gate"]);
    assert_eq!(t.code, 0);
    assert!(
        t.stdout.contains(&format!("moved from {MOVED_FROM}")),
        "{}",
        t.stdout
    );
}

#[test]
fn the_moved_app_gaining_a_scope_fails_with_the_escalation_on_that_app() {
    let (r, _) = three_apps_one_moved();
    let t = r.read(MOVED_TO).replace(
        "  - scope: patient/Patient.rs\n",
        "  - scope: patient/Patient.rs\n    rationale: Demographics.\n  - scope: patient/Immunization.rs\n",
    );
    let t = t.replacen(
        "      - patient/Patient.rs\n",
        "      - patient/Patient.rs\n      - patient/Immunization.rs\n",
        1,
    );
    r.write(MOVED_TO, &t);
    r.commit("immunizations");
    let g = gate(&r);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let escalations: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["direction"] == "escalation")
        .collect();
    assert_eq!(escalations.len(), 1, "{v:#}");
    let c = escalations[0];
    assert_eq!(c["app"], "patient-summary");
    assert_eq!(c["key"], "patient-summary:patient/Immunization.rs");
    assert_eq!(c["rule"], "resource-access-added");
    assert_eq!(c["location"]["file"], MOVED_TO);
    assert_eq!(c["approval"]["state"], "unapproved");
    // The PR comment: a section for the app that changed, the others collapsed.
    let md = r.run(&["gate", "--format", "markdown"]);
    assert_eq!(md.code, 1);
    assert!(
        md.stdout.contains(&format!(
            "#### App `patient-summary` ({MOVED_TO}, moved from {MOVED_FROM})"
        )),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout
            .contains("<details><summary>2 apps without changes</summary>"),
        "{}",
        md.stdout
    );
    // Nothing else is claimed of the other apps.
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["app"] == "patient-summary"),
        "{v:#}"
    );
}

#[test]
fn a_removed_app_is_reported_as_reductions_and_its_removal_needs_an_approval() {
    let (r, _) = three_apps_one_moved();
    r.git(&[
        "rm",
        "-q",
        "services/backend/population-health/smart-app.yaml",
    ]);
    r.commit("retire population-health");
    let g = gate(&r);
    // Gating stops for the app: that is a change of its own, unapproved here.
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "fail");
    let changes = v["changes"].as_array().unwrap();
    let (stopped, reductions): (Vec<&Value>, Vec<&Value>) = changes
        .iter()
        .partition(|c| c["rule"] == "app-gating-stopped");
    assert_eq!(stopped.len(), 1, "{v:#}");
    assert_eq!(stopped[0]["key"], "population-health:*removed*");
    assert_eq!(stopped[0]["approval"]["state"], "unapproved");
    assert!(!reductions.is_empty());
    for c in reductions {
        assert_eq!(c["app"], "population-health", "{c:#}");
        assert_eq!(c["direction"], "reduction");
        assert_eq!(c["rule"], "app-removed");
        assert_eq!(
            c["location"]["file"],
            "services/backend/population-health/smart-app.yaml"
        );
    }
    let gone: Vec<&Value> = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["removed_app"] == true)
        .collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0]["app"], "population-health");
    assert!(
        gone[0]["gating_stopped"]
            .as_str()
            .unwrap()
            .contains("is gone"),
        "{v:#}"
    );
    // Approved, the removal passes, and the report still says gating stopped.
    let a = r.approve_signed(
        "alice",
        &["--ticket", "RET-1", "--key", "population-health:*removed*"],
    );
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    let g = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["verdict"], "pass");
    let md = r.run(&["gate", "--format", "markdown"]);
    assert!(
        md.stdout.contains("removed: gating stopped for this app"),
        "{}",
        md.stdout
    );
}

/// A merged change drops `services/**` from `manifests:`: it was judged by the config
/// before it, which still gated population-health, so it showed no change; every later
/// change was judged by the config without it, so population-health's escalations
/// passed unseen (exit 0). The apps the release gated under its own config's entries
/// stay judged: the one no longer listed has its gating stopped, an approval of its own.
#[test]
fn an_app_ungated_by_dropping_its_glob_from_the_config_is_gating_stopped_not_gone() {
    let (r, _) = three_apps_one_moved();
    r.write(
        ".scopegate/config.yaml",
        "manifests:\n  - apps/*/smart-app.yaml\napprovers: [alice]\n",
    );
    r.commit("drop services from the gate");
    let backend = "services/backend/population-health/smart-app.yaml";
    let t = r
        .read(backend)
        .replace("system/Patient.rs", "system/*.cruds");
    r.write(backend, &t);
    r.commit("widen the ungated app");
    // Judged as CI judges a PR: by its base, where the config change was merged.
    let g = r.run(&["gate", "--format", "json", "--trusted", "HEAD~1"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let stopped: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == "app-gating-stopped")
        .collect();
    assert_eq!(stopped.len(), 1, "{v:#}");
    assert_eq!(stopped[0]["key"], "population-health:*removed*");
    assert_eq!(stopped[0]["approval"]["state"], "unapproved");
    let gone = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["removed_app"] == true)
        .unwrap();
    let why = gone["gating_stopped"].as_str().unwrap();
    assert!(
        why.contains("services/**/smart-app.yaml") && why.contains("no longer gated"),
        "{why}"
    );
    // Control: the config unchanged since the release gates the app as before, and the
    // moved app is still a move.
    let (r, _) = three_apps_one_moved();
    r.write("NOTES", "merged\n");
    r.commit("a merged change");
    let t = r
        .read(backend)
        .replace("system/Patient.rs", "system/*.cruds");
    r.write(backend, &t);
    r.commit("widen the gated app");
    let g = r.run(&["gate", "--format", "json", "--trusted", "HEAD~1"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["rule"] != "app-gating-stopped"),
        "{v:#}"
    );
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["app"] == "population-health" && c["direction"] == "escalation"),
        "{v:#}"
    );
}

#[test]
fn two_manifests_with_one_app_id_are_exit_2_naming_both_files() {
    let (r, _) = three_apps_one_moved();
    r.write("apps/med-rec-copy/smart-app.yaml", &example("med-rec.yaml"));
    r.commit("copy");
    let g = gate(&r);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("`med-rec`")
            && g.stderr.contains("apps/med-rec/smart-app.yaml")
            && g.stderr.contains("apps/med-rec-copy/smart-app.yaml"),
        "{}",
        g.stderr
    );
}

#[test]
fn a_config_entry_that_matches_nothing_at_either_end_is_exit_2() {
    let (r, _) = three_apps_one_moved();
    r.write(
        ".scopegate/config.yaml",
        &CONFIG.replace("services/**", "servces/**"),
    );
    r.commit("typo");
    let g = r.run(&["gate", "--config-from-worktree"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("`servces/**/smart-app.yaml`")
            && g.stderr.contains("matches no manifest"),
        "{}",
        g.stderr
    );
}

/// `scopegate ci` on a shallow clone: the baseline's file list comes from the git
/// trees API and its files from the contents API.
fn shallow_ci(truncated: bool) -> (std::process::Output, FakeGitHub, String) {
    let (r, base) = three_apps_one_moved();
    let head = r.git(&["rev-parse", "HEAD"]).trim().to_string();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", r.path().display());
    git_in(clone.path(), &["clone", "-q", "--depth", "1", &url, "c"]);
    let c = clone.path().join("c");
    let gh = FakeGitHub::start();
    let files: Vec<String> = r
        .git(&["ls-tree", "-r", "--name-only", &base])
        .lines()
        .map(str::to_string)
        .collect();
    gh.with(|s| {
        s.tags.push(("v1.0.0".into(), base.clone()));
        s.compare
            .insert((base.clone(), head.clone()), "ahead".into());
        for f in &files {
            let bytes = git_in(r.path(), &["show", &format!("{base}:{f}")]).into_bytes();
            s.contents.insert((f.clone(), base.clone()), bytes);
        }
        if truncated {
            s.truncated_trees.push(base.clone());
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let ev = tmp.path().join("push.json");
    std::fs::write(&ev, serde_json::json!({"after": head}).to_string()).unwrap();
    let out = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(&c)
        .args([
            "ci",
            "--now",
            NOW,
            "--baseline",
            "previous-release",
            "--api-timeout",
            "5",
        ])
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_EVENT_PATH", &ev)
        .env("GITHUB_SHA", &head)
        .env("GITHUB_REPOSITORY", "acme/app")
        .env("GITHUB_API_URL", &gh.url)
        .env("GITHUB_TOKEN", "t0ken")
        .env("RUNNER_TEMP", tmp.path())
        .output()
        .unwrap();
    (out, gh, base)
}

#[test]
fn a_shallow_clone_expands_the_globs_at_the_baseline_through_the_trees_api() {
    let (out, gh, base) = shallow_ci(false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("NO CHANGE"), "{stdout}");
    assert!(
        stdout.contains(&format!("moved from {MOVED_FROM}")),
        "{stdout}"
    );
    let got: Vec<String> = gh.requests().into_iter().map(|q| q.path).collect();
    assert!(
        got.contains(&format!("/repos/acme/app/git/trees/{base}?recursive=1")),
        "{got:?}"
    );
    assert!(
        got.contains(&format!("/repos/acme/app/contents/{MOVED_FROM}?ref={base}")),
        "{got:?}"
    );
}

#[test]
fn a_truncated_baseline_tree_is_exit_2_not_a_partial_gate() {
    let (out, _, _) = shallow_ci(true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("truncated"), "{stdout}");
}

#[test]
fn check_and_matrix_expand_the_config_globs_in_the_working_tree() {
    let (r, _) = three_apps_one_moved();
    // An untracked copy is never picked up by a glob.
    r.write("apps/scratch/smart-app.yaml", &example("med-rec.yaml"));
    let run = |args: &[&str]| {
        Command::cargo_bin("scopegate")
            .unwrap()
            .env_clear()
            .env("NO_COLOR", "1")
            .current_dir(r.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["manifests"], 3);
    let out = run(&["matrix", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let m = String::from_utf8(out.stdout).unwrap();
    // Named as in the repository, whatever the checkout's absolute path.
    for path in [
        "apps/med-rec/smart-app.yaml",
        MOVED_TO,
        "services/backend/population-health/smart-app.yaml",
    ] {
        assert!(m.contains(&format!("\"{path}\"")), "{path} in {m}");
    }
    assert!(!m.contains("scratch"), "{m}");
    assert!(!m.contains(&r.path().display().to_string()), "{m}");

    r.write(".scopegate/config.yaml", "manifests: ['tools/*.yaml']\n");
    let out = run(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`tools/*.yaml` in .scopegate/config.yaml matches no manifest"),
        "{out:?}"
    );
}

/// The release's own `manifests:` are read from its config even when this scopegate
/// no longer accepts that config whole (a key an older one took): it was read whole,
/// failed, and counted as listing nothing, so an app only it gated dropped out of the
/// gate unseen (exit 0). A release config that does not say what it gated is exit 2.
#[test]
fn a_release_config_with_a_key_since_removed_still_names_the_apps_it_gated() {
    let backend = "services/backend/population-health/smart-app.yaml";
    let setup = |released_config: &str| {
        let r = Repo::new();
        r.write("apps/med-rec/smart-app.yaml", &example("med-rec.yaml"));
        r.write(backend, &example("population-health.yaml"));
        r.write(".scopegate/config.yaml", released_config);
        r.commit("v1");
        r.git(&["tag", "v1.0.0"]);
        r.write(
            ".scopegate/config.yaml",
            "manifests:\n  - apps/*/smart-app.yaml\napprovers: [alice]\n",
        );
        r.commit("drop services from the gate");
        let t = r
            .read(backend)
            .replace("system/Patient.rs", "system/*.cruds");
        r.write(backend, &t);
        r.commit("widen the ungated app");
        r.run(&["gate", "--format", "json", "--trusted", "HEAD~1"])
    };
    let stopped = |g: &Run| {
        g.json()["changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rule"] == "app-gating-stopped")
            .count()
    };
    let legacy = format!("{CONFIG}a_key_an_older_scopegate_took: true\n");
    let g = setup(&legacy);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert_eq!(stopped(&g), 1, "{}", g.stdout);
    // Control: the same config without the key.
    let g = setup(CONFIG);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    assert_eq!(stopped(&g), 1, "{}", g.stdout);
    // A release config whose `manifests:` is not a list: what it gated is unknown.
    let g = setup("manifests: {services: yes}\n");
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("v1.0.0:.scopegate/config.yaml:1:")
            && g.stderr.contains("the previous release's config"),
        "{}",
        g.stderr
    );
}
