//! Tenant profiles end to end: the three example tenants (strict least privilege,
//! sensitive resource types, an EHR without v2 or offline support) judge a repository
//! of three apps through the real binary, and the matrix is snapshot-tested.

use crate::support::{git, repo};

use git::git_in;
use repo::{Repo, example};
use serde_json::Value;

const CONFIG: &str = "approvers: [alice]\nmanifests:\n  - apps/med-rec.yaml\n  - apps/patient-summary.yaml\n  - apps/population-health.yaml\n";

/// Release v1.0.0 holds the three example apps, the three example tenants and their
/// EHR snapshots; HEAD then adds `u` on MedicationStatement to med-rec (sensitive at
/// the academic medical center).
fn repo() -> Repo {
    let r = Repo::new();
    r.write(".scopegate/config.yaml", CONFIG);
    for app in ["med-rec", "patient-summary", "population-health"] {
        r.write(
            &format!("apps/{app}.yaml"),
            &example(&format!("{app}.yaml")),
        );
    }
    for t in [
        "community-clinic.yaml",
        "academic-medical-center.yaml",
        "regional-hospital.yaml",
        "ehr/academic-medical-center.json",
        "ehr/regional-hospital.json",
    ] {
        r.write(
            &format!(".scopegate/tenants/{t}"),
            &example(&format!("tenants/{t}")),
        );
    }
    r.allow_signer("alice", "");
    r.commit("v1");
    git_in(r.path(), &["tag", "v1.0.0"]);
    let m = r.read("apps/med-rec.yaml").replace(
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.crus",
    );
    let m = m.replace(
        "      - patient/MedicationStatement.c\n",
        "      - patient/MedicationStatement.cu\n",
    );
    r.write("apps/med-rec.yaml", &m);
    r.commit("med-rec updates home medications");
    r
}

fn rows(v: &Value) -> Vec<(String, String, String, String, String)> {
    v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |k: &str| t[k].as_str().unwrap().to_string();
            (
                s("tenant"),
                s("policy"),
                s("approvals"),
                s("ehr"),
                s("verdict"),
            )
        })
        .collect()
}

fn row(t: &str, p: &str, a: &str, e: &str, v: &str) -> (String, String, String, String, String) {
    (t.into(), p.into(), a.into(), e.into(), v.into())
}

fn tenant_rules(v: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            Some((
                f["tenant"].as_str()?.to_string(),
                f["rule"].as_str()?.to_string(),
            ))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn the_matrix_shows_where_the_release_may_ship_before_and_after_approvals() {
    let r = repo();
    let g = r.run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 1, "{}", g.stderr);
    let v = g.json();
    assert_eq!(v["tenant_mode"], "enforce");
    assert_eq!(
        rows(&v),
        [
            row("academic-medical-center", "pass", "fail", "pass", "blocked"),
            row("community-clinic", "fail", "fail", "not-checked", "blocked"),
            row("regional-hospital", "pass", "fail", "fail", "blocked"),
        ]
    );
    assert_eq!(
        tenant_rules(&v),
        [
            ("community-clinic".into(), "tenant-denied".into()),
            ("community-clinic".into(), "tenant-not-allowed".into()),
            ("regional-hospital".into(), "ehr-capability-missing".into()),
            ("regional-hospital".into(), "ehr-scope-unlisted".into()),
        ]
    );
    // A missing capability is named as data; other findings gain no such field.
    for f in v["findings"].as_array().unwrap() {
        let is_cap = f["rule"] == "ehr-capability-missing";
        assert_eq!(f.get("capability").is_some(), is_cap, "{f}");
        if is_cap {
            let cap = f["capability"].as_str().unwrap();
            assert!(f["message"].as_str().unwrap().contains(cap), "{f}");
        }
    }
    let text = r.run(&["gate"]).stdout;
    let start = text.find("Tenants (").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    insta::assert_snapshot!("matrix_unapproved_text", &text[start..end]);

    // A global approval settles the escalation everywhere but where the type is
    // sensitive: the academic medical center needs an approval that names it.
    let a = r.approve_signed("alice", &["--ticket", "SEC-7"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    r.commit("approve");
    let v = r.run(&["gate", "--format", "json"]).json();
    assert_eq!(v["summary"]["unapproved"], 0);
    assert_eq!(
        rows(&v),
        [
            row("academic-medical-center", "pass", "fail", "pass", "blocked"),
            row("community-clinic", "fail", "pass", "not-checked", "blocked"),
            row("regional-hospital", "pass", "pass", "fail", "blocked"),
        ]
    );
    let missing: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "tenant-approval-missing")
        .collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["tenant"], "academic-medical-center");
    // The finding names its change by key, as data.
    let key = missing[0]["key"].as_str().unwrap();
    assert!(
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["key"] == key && c["direction"] == "escalation"),
        "{key}"
    );
    assert_eq!(missing[0]["location"]["file"], "apps/med-rec.yaml");
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("`MedicationStatement` is sensitive"),
        "{}",
        missing[0]["message"]
    );

    // The finding's hint is the command that settles it (regression: it once put the
    // key where `approve` reads manifest paths).
    let hint = missing[0]["hint"].as_str().unwrap();
    let command = hint.split('`').nth(1).expect("a command in backticks");
    let args: Vec<&str> = command
        .split_whitespace()
        .skip(1) // `scopegate`
        .map(|w| match w {
            "<you>" => "alice",
            "<ticket>" => "AMC-31",
            w => w,
        })
        .collect();
    assert_eq!(
        args,
        [
            "approve",
            "--by",
            "alice",
            "--ticket",
            "AMC-31",
            "--tenant",
            "academic-medical-center",
            "--key",
            key
        ]
    );
    // Signed, so that the gate (judged by the baseline) can verify it.
    let key = r.key("alice");
    let mut args = args;
    args.extend(["--sign", key.to_str().unwrap()]);
    let a = r.run(&args);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        a.stdout.contains("for tenant academic-medical-center"),
        "{}",
        a.stdout
    );
    assert!(
        r.read(".scopegate/approvals.yaml")
            .contains("tenants: [\"academic-medical-center\"]")
    );
    r.commit("approve for the academic medical center");
    let g = r.run(&["gate", "--format", "json"]);
    let v = g.json();
    assert_eq!(
        rows(&v)[0],
        row("academic-medical-center", "pass", "pass", "pass", "ship")
    );
    // Still blocked elsewhere, and `tenants: enforce` (the default) fails the gate.
    assert_eq!(g.code, 1);
    assert!(
        v["reasons"][0]
            .as_str()
            .unwrap()
            .contains("`community-clinic`, `regional-hospital`"),
        "{}",
        v["reasons"]
    );
    insta::assert_snapshot!(
        "matrix_markdown",
        markdown_matrix(&r.run(&["diff", "--format", "markdown"]).stdout)
    );
}

/// The tenant section of a markdown report.
fn markdown_matrix(md: &str) -> String {
    let start = md.find("#### Tenants").expect("a tenant section");
    let rest = &md[start..];
    let end = rest[1..].find("\n#### ").map_or(rest.len(), |i| i + 1);
    rest[..end].to_string()
}

#[test]
fn in_report_mode_blocked_tenants_do_not_fail_the_gate() {
    let r = repo();
    r.run(&["approve", "--by", "alice", "--ticket", "SEC-7"]);
    r.write(
        ".scopegate/config.yaml",
        &format!("{CONFIG}tenants: report\n"),
    );
    r.commit("approve; tenants report only");
    // The config is read from the baseline: still enforced until it is released.
    assert_eq!(r.run(&["gate"]).code, 1);
    git_in(r.path(), &["tag", "v1.1.0"]);
    let m = r
        .read("apps/patient-summary.yaml")
        .replace("name:", "# reworded\nname:");
    r.write("apps/patient-summary.yaml", &m);
    r.commit("reword");
    let g = r.run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["tenant_mode"], "report");
    assert!(rows(&v).iter().any(|t| t.4 == "blocked"));
}

#[test]
fn profiles_are_read_from_the_baseline_so_a_change_cannot_loosen_its_own_judge() {
    let r = repo();
    r.write(
        ".scopegate/tenants/community-clinic.yaml",
        "description: anything goes\n",
    );
    r.commit("loosen the clinic");
    let v = r.run(&["gate", "--format", "json"]).json();
    assert_eq!(rows(&v)[1].1, "fail", "the baseline profile still applies");
    let v = r
        .run(&["gate", "--format", "json", "--config-from-worktree"])
        .json();
    assert_eq!(rows(&v)[1].1, "pass");
    assert_eq!(v["advisory"], true);
}

#[test]
fn tenants_notice() {
    // The consent delta names where the release cannot be used as it is.
    let r = repo();
    let n = r.run(&["diff", "--format", "notice"]);
    assert_eq!(n.code, 0, "{}", n.stderr);
    insta::assert_snapshot!(n.stdout);
}

#[test]
fn every_format_carries_the_matrix() {
    let r = repo();
    let text = r.run(&["diff"]).stdout;
    assert!(
        text.contains("Tenants (enforced): ships to 0 of 3"),
        "{text}"
    );
    let sarif: Value = serde_json::from_str(&r.run(&["diff", "--format", "sarif"]).stdout).unwrap();
    let props = &sarif["runs"][0]["properties"];
    assert_eq!(props["tenantMode"], "enforce");
    assert_eq!(props["tenants"].as_array().unwrap().len(), 3);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|x| x["ruleId"] == "ehr-capability-missing")
    );
    let gh = r.run(&["diff", "--format", "github"]).stdout;
    assert!(
        gh.lines().last().unwrap().contains(
            "ships to 0 of 3 tenants (blocked: academic-medical-center, community-clinic, regional-hospital)"
        ),
        "{gh}"
    );
    let md = r.run(&["diff", "--format", "markdown"]).stdout;
    assert!(md.contains("| `community-clinic` | ❌ fail |"), "{md}");
}

#[test]
fn check_judges_the_working_tree_against_the_profiles_without_approvals() {
    let r = repo();
    let c = r.run(&["check", "--format", "json"]);
    assert_eq!(
        c.code, 1,
        "blocked tenants fail under enforce: {}",
        c.stdout
    );
    let v = c.json();
    assert_eq!(
        rows(&v),
        [
            row(
                "academic-medical-center",
                "pass",
                "not-checked",
                "pass",
                "ship"
            ),
            row(
                "community-clinic",
                "fail",
                "not-checked",
                "not-checked",
                "blocked"
            ),
            row(
                "regional-hospital",
                "pass",
                "not-checked",
                "fail",
                "blocked"
            ),
        ]
    );
    let text = r.run(&["check"]).stdout;
    let start = text.find("Tenants (").expect("a tenant section");
    insta::assert_snapshot!("check_matrix_text", &text[start..]);
}

#[test]
fn approvals_for_unknown_tenants_are_refused_or_reported() {
    let r = repo();
    let a = r.run(&[
        "approve",
        "--by",
        "alice",
        "--ticket",
        "X",
        "--tenant",
        "community-clnic",
    ]);
    assert_eq!(a.code, 2);
    assert!(
        a.stderr.contains("did you mean `community-clinic`?"),
        "{}",
        a.stderr
    );
    r.write(
        ".scopegate/approvals.yaml",
        "approvals:\n  - keys: ['med-rec:patient/MedicationStatement.u']\n    by: alice\n    at: 2026-11-27\n    ticket: X\n    tenants: [acme-hospital]\n",
    );
    // Advisory, so the unsigned entry counts (unverified) and its tenants show.
    let v = r
        .run(&["gate", "--format", "json", "--config-from-worktree"])
        .json();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "approval-unknown-tenant")
        .expect("an unknown-tenant finding");
    assert_eq!(f["location"]["file"], ".scopegate/approvals.yaml");
    assert_eq!(f["location"]["line"], 2);
    // It approves the key where it says, which is nowhere the matrix knows.
    assert_eq!(v["changes"][0]["approval"]["tenants"][0], "acme-hospital");
}

#[test]
fn a_broken_profile_or_snapshot_is_exit_2_with_its_location() {
    let r = repo();
    git_in(r.path(), &["tag", "-d", "v1.0.0"]);
    r.write(
        ".scopegate/tenants/community-clinic.yaml",
        "deny:\n  - patient/Observation.rx\nmax_level: admin\n",
    );
    r.write(
        ".scopegate/tenants/ehr/regional-hospital.json",
        "{\"capabilities\": [\n",
    );
    r.commit("break");
    git_in(r.path(), &["tag", "v1.0.0"]);
    r.commit("after the release");
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2, "{}", g.stdout);
    for want in [
        "v1.0.0:.scopegate/tenants/community-clinic.yaml:2:5",
        "v1.0.0:.scopegate/tenants/community-clinic.yaml:3:12",
        "v1.0.0:.scopegate/tenants/ehr/regional-hospital.json:2:",
    ] {
        assert!(g.stderr.contains(want), "{want} in {}", g.stderr);
    }
    r.write(
        ".scopegate/tenants/academic-medical-center.yaml",
        "ehr: nowhere.json\n",
    );
    let c = r.run(&["check"]);
    assert_eq!(c.code, 2);
    assert!(
        c.stderr.contains("academic-medical-center.yaml:1:6"),
        "{}",
        c.stderr
    );
}

#[test]
fn every_tenant_rule_fires_on_the_example_tenants() {
    let r = repo();
    // A fourth tenant with only a level limit, so that rule names its own findings.
    r.write(".scopegate/tenants/home-health.yaml", "max_level: user\n");
    r.write(
        ".scopegate/approvals.yaml",
        "approvals:\n  - keys: ['med-rec:patient/MedicationStatement.u']\n    by: alice\n    at: 2026-11-27\n    ticket: X\n  - keys: ['med-rec:patient/MedicationStatement.u']\n    by: alice\n    at: 2026-11-27\n    ticket: X\n    tenants: [acme-hospital]\n",
    );
    r.commit("a fourth tenant, and approvals");
    let v = r
        .run(&["gate", "--format", "json", "--config-from-worktree"])
        .json();
    let fired: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for rule in scopegate::rules::RULES.iter().filter(|r| {
        r.kind == scopegate::rules::RuleKind::Tenant
            || r.id == scopegate::rules::RuleId::ApprovalUnknownTenant
    }) {
        assert!(
            fired.contains(&rule.id.as_str()),
            "`{}` did not fire: {fired:?}",
            rule.id
        );
    }
}

/// At the judging release, a profile that is not a file (a directory, a submodule), or a
/// `.scopegate/tenants` that is not a directory, is exit 2 with the path named: a
/// listing of files only left that tenant's policy out of the gate without a word.
#[test]
fn a_released_profile_that_is_not_a_file_is_exit_2_not_skipped() {
    let released = |shape: &str| -> Repo {
        let r = Repo::new();
        r.write(
            ".scopegate/config.yaml",
            "approvers: [alice]\nmanifests: [apps/med-rec.yaml]\n",
        );
        r.write("apps/med-rec.yaml", &example("med-rec.yaml"));
        match shape {
            "file" => r.write(".scopegate/tenants/strict.yaml", "deny: [launch]\n"),
            "directory" => r.write(
                ".scopegate/tenants/strict.yaml/inner.yaml",
                "deny: [launch]\n",
            ),
            "tenants is a file" => r.write(".scopegate/tenants", "deny: [launch]\n"),
            _ => {}
        }
        r.git(&["add", "-A"]);
        if shape == "submodule" {
            r.git(&[
                "update-index",
                "--add",
                "--cacheinfo",
                "160000,0123456789abcdef0123456789abcdef01234567,.scopegate/tenants/strict.yaml",
            ]);
        }
        r.git(&["commit", "-q", "-m", "v1"]);
        r.release("v1.0.0");
        let m = r
            .read("apps/med-rec.yaml")
            .replace("name:", "# reworded\nname:");
        r.write("apps/med-rec.yaml", &m);
        r.git(&["commit", "-q", "-am", "reword"]);
        r
    };
    for (shape, why) in [
        (
            "directory",
            "`.scopegate/tenants/strict.yaml` at v1.0.0 is a directory, not a file",
        ),
        (
            "submodule",
            "`.scopegate/tenants/strict.yaml` at v1.0.0 is a submodule, not a file",
        ),
        (
            "tenants is a file",
            "`.scopegate/tenants` at v1.0.0 is not a directory",
        ),
    ] {
        let g = released(shape).run(&["gate"]);
        assert_eq!(g.code, 2, "{shape}: {}{}", g.stdout, g.stderr);
        assert!(
            g.stderr.contains(why),
            "{shape}: wanted `{why}` in {}",
            g.stderr
        );
    }
    // Control: the same profile as a file is judged (the manifest asks for `launch`, so
    // the tenant blocks), and a release without tenants has none.
    let g = released("file").run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 1, "{}{}", g.stdout, g.stderr);
    let v = g.json();
    assert_eq!(v["tenants"][0]["tenant"], "strict", "{}", g.stdout);
    assert_eq!(v["tenants"][0]["policy"], "fail", "{}", g.stdout);
    let g = released("none").run(&["gate", "--format", "json"]);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(g.json()["tenants"], serde_json::json!([]));
}

/// A profile whose file name is YAML but not a profile's (`Acme.YAML`, a space, a quote)
/// was skipped: its tenant vanished from the matrix, `ship-to` and `blocked-tenants`
/// unsaid, so a deploy job shipping to every tenant not blocked shipped to it. Now exit
/// 2, naming the file and a name that works, in `check` and at a release; a README in
/// the directory is no profile (control).
#[test]
fn a_misnamed_profile_is_exit_2_not_skipped() {
    let r = repo();
    r.write(".scopegate/tenants/README.md", "Our tenants.\n");
    let c = r.run(&["check"]);
    assert_eq!(c.code, 1, "{}{}", c.stdout, c.stderr);
    for (name, suggested) in [
        ("Acme.YAML", "Acme.yaml"),
        ("st-mary's.yaml", "st-mary-s.yaml"),
        ("big clinic.yml", "big-clinic.yaml"),
    ] {
        r.write(
            &format!(".scopegate/tenants/{name}"),
            "deny:\n  - user/*.*\n",
        );
        let c = r.run(&["check"]);
        assert_eq!(c.code, 2, "{name}: {}{}", c.stdout, c.stderr);
        assert!(
            c.stderr.contains(name) && c.stderr.contains(suggested),
            "{name}: {}",
            c.stderr
        );
        std::fs::remove_file(r.path().join(".scopegate/tenants").join(name)).unwrap();
    }
    // At a release: the gate reads the released listing.
    git_in(r.path(), &["tag", "-d", "v1.0.0"]);
    r.write(".scopegate/tenants/Acme.YAML", "deny:\n  - user/*.*\n");
    r.commit("a misnamed profile");
    git_in(r.path(), &["tag", "v1.0.0"]);
    r.commit("after the release");
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2, "{}{}", g.stdout, g.stderr);
    assert!(
        g.stderr.contains("v1.0.0:.scopegate/tenants/Acme.YAML"),
        "{}",
        g.stderr
    );
}

/// A tenant's policy, through the gate, with the escalation approved by a signed entry
/// that names no tenant: only the policy can stop it. A deny on a `string` parameter
/// (`name=Smith`, which `name=Smi` matches and more), and SMART's URI written in another
/// case (`HTTP://SmartHealthIT.org/…/system/*.cruds`, the same URI) passed, exit 0, the
/// tenant marked "ship". Control: a scope the policy does not touch passes.
#[test]
fn a_tenant_policy_is_not_passed_by_another_spelling_of_what_it_denies() {
    let gated = |profile: &str, added: &str| {
        let r = Repo::new();
        r.write(
            ".scopegate/config.yaml",
            "approvers: [alice]\nfail_on_lint: never\n",
        );
        r.write("smart-app.yaml", &example("med-rec.yaml"));
        r.write(".scopegate/tenants/clinic.yaml", profile);
        r.allow_signer("alice", "");
        r.commit("v1");
        git_in(r.path(), &["tag", "v1.0.0"]);
        let m = r.read("smart-app.yaml").replace(
            "  - scope: offline_access\n",
            &format!("  - scope: '{added}'\n    rationale: Added.\n  - scope: offline_access\n"),
        );
        r.write("smart-app.yaml", &m);
        r.commit("add a scope");
        let a = r.approve_signed("alice", &["--ticket", "SEC-1"]);
        assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
        r.commit("approve");
        r.run(&["gate", "--format", "json"])
    };
    for (profile, added) in [
        (
            "deny: ['patient/Patient.rs?name=Smith']\n",
            "patient/Patient.rs?name=Smi",
        ),
        (
            "deny: ['system/*.*']\n",
            "HTTP://SmartHealthIT.org/fhir/scopes/system/*.cruds",
        ),
        (
            "max_level: patient\n",
            "http://smarthealthit.org:80/fhir/scopes/system/*.cruds",
        ),
    ] {
        let g = gated(profile, added);
        assert_eq!(g.code, 1, "{added}: {}", g.stdout);
        assert_eq!(
            g.json()["tenants"][0]["verdict"],
            "blocked",
            "{added}: {}",
            g.stdout
        );
    }
    let g = gated(
        "deny: ['patient/Patient.rs?name=Smith']\n",
        "patient/Observation.rs?category=laboratory",
    );
    assert_eq!(g.code, 0, "{}", g.stdout);
}
