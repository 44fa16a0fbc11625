//! At a commit the gate judges by (the release, a trusted commit), a directory on the
//! way to a file that is a symlink is followed inside the tree, as the working tree
//! follows it. Read as no directory, a symlinked `.scopegate` made the release's
//! config, ledger and tenant profiles silently absent: the gate judged with the
//! default config, and an escalation in a manifest only the real config named passed
//! unseen. A symlink that leads out of the repository, to nothing, to a file or round
//! in a loop is exit 2, never an absent file.

use crate::support::repo;

use repo::{Repo, example};

/// The release keeps its scopegate files under `policy/scopegate`, with `.scopegate` a
/// symlink to it: its config gates `app.yaml` and `smart-app.yaml`, and a tenant
/// profile denies deletes.
fn released_through_a_link() -> Repo {
    let r = Repo::new();
    r.write("app.yaml", &example("med-rec.yaml"));
    r.write("smart-app.yaml", &example("patient-summary.yaml"));
    r.write(
        "policy/scopegate/config.yaml",
        "manifests: [app.yaml, smart-app.yaml]\napprovers: [alice]\n",
    );
    r.write(
        "policy/scopegate/tenants/clinic.yaml",
        "description: a clinic\ndeny:\n  - '*/*.d'\n",
    );
    std::os::unix::fs::symlink("policy/scopegate", r.path().join(".scopegate")).unwrap();
    r.commit("v1");
    r.release("v1.0.0");
    r
}

#[test]
fn a_scopegate_directory_symlinked_inside_the_repository_is_followed_at_the_release() {
    let r = released_through_a_link();
    // Control: no change since the release, judged by the release's own config (both
    // manifests, the tenant profile listed through the link).
    r.commit("after the release");
    let g = r.run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["summary"]["manifests"], 2, "{v:#}");
    assert_eq!(v["tenants"][0]["tenant"], "clinic", "{v:#}");
    // Attack: delete access added to `app.yaml`, which only the release's config names
    // (the default config gates `smart-app.yaml` alone).
    let m = r.read("app.yaml").replace(
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.cruds",
    );
    r.write("app.yaml", &m);
    r.commit("delete access");
    let g = r.run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    let keys: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["med-rec:patient/MedicationStatement.ud"], "{v:#}");
    // The release's tenant profile, read through the link, denies the deletes.
    assert_eq!(v["tenants"][0]["policy"], "fail", "{v:#}");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "tenant-denied"
                && f["tenant"] == "clinic"
                && f["message"]
                    .as_str()
                    .unwrap()
                    .contains("MedicationStatement")),
        "{v:#}"
    );
}

#[test]
fn a_directory_at_the_release_that_is_a_link_out_nowhere_to_a_file_or_round_or_a_file_is_exit_2() {
    for (links, why) in [
        (
            &[(".scopegate", "../outside")][..],
            "leads out of the repository",
        ),
        (&[(".scopegate", "/etc")][..], "leads out of the repository"),
        (
            &[(".scopegate", "policy/missing")][..],
            "which is not a directory there",
        ),
        (
            &[(".scopegate", "README")][..],
            "which is not a directory there",
        ),
        (
            &[(".scopegate", "a"), ("a", ".scopegate")][..],
            "too many links",
        ),
        // No link: a file where the directory belongs is no more absent than a link.
        (&[(".scopegate", "")][..], "is a file, not a directory"),
    ] {
        let r = Repo::new();
        r.write("smart-app.yaml", &example("med-rec.yaml"));
        r.write("README", "docs\n");
        for (at, to) in links {
            if to.is_empty() {
                r.write(at, "not a directory\n");
            } else {
                std::os::unix::fs::symlink(to, r.path().join(at)).unwrap();
            }
        }
        r.commit("v1");
        r.release("v1.0.0");
        // At HEAD the scopegate files are a plain directory: only the release's link
        // is read through git.
        for (at, _) in links {
            std::fs::remove_file(r.path().join(at)).unwrap();
        }
        r.write(".scopegate/config.yaml", "approvers: [alice]\n");
        r.commit("after the release");
        let g = r.run(&["gate"]);
        assert_eq!(g.code, 2, "{links:?}: {}{}", g.stdout, g.stderr);
        assert!(
            g.stderr.contains(".scopegate") && g.stderr.contains(why),
            "{links:?}: wanted `{why}` in {}",
            g.stderr
        );
    }
}

/// The tenant profiles' directory itself a link at the release (`.scopegate/tenants` to
/// `policy/tenants`): listed and read through it, as the working tree does, so the
/// release's tenant policy holds; a link of it out of the repository is exit 2.
#[test]
fn a_tenants_directory_symlinked_at_the_release_is_listed_through_the_link() {
    let released = |to: &str| {
        let r = Repo::new();
        r.write("smart-app.yaml", &example("med-rec.yaml"));
        r.write(".scopegate/config.yaml", "approvers: [alice]\n");
        r.write(
            "policy/tenants/clinic.yaml",
            "description: a clinic\ndeny:\n  - '*/*.d'\n",
        );
        std::os::unix::fs::symlink(to, r.path().join(".scopegate/tenants")).unwrap();
        r.commit("v1");
        r.release("v1.0.0");
        let m = r.read("smart-app.yaml").replace(
            "patient/MedicationStatement.crs",
            "patient/MedicationStatement.cruds",
        );
        r.write("smart-app.yaml", &m);
        r
    };
    // At HEAD, the tenants as a plain directory with no profile: only the release's
    // link can bring the clinic's policy.
    let plain = |r: &Repo| {
        std::fs::remove_file(r.path().join(".scopegate/tenants")).unwrap();
        r.commit("delete access; tenants moved");
    };
    let r = released("../policy/tenants");
    plain(&r);
    let g = r.run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["tenants"][0]["tenant"], "clinic", "{v:#}");
    assert_eq!(v["tenants"][0]["policy"], "fail", "{v:#}");
    let r = released("../../outside");
    plain(&r);
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains(".scopegate/tenants") && g.stderr.contains("leads out of the repository"),
        "{}",
        g.stderr
    );
}
