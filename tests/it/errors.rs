//! Issue 16 §6 end to end: error messages a first-time user can act on, through the
//! real binary (YAML syntax causes, legends, hook patterns).

use crate::support::repo;

use repo::Repo;

const MANIFEST: &str = "\
id: labs
name: Labs
fhir_version: R4
launch: [standalone]
scopes:
  - scope: launch/patient
    rationale: standalone launch picks the patient
  - scope: patient/Observation.rs
    rationale: RATIONALE
workflows:
  - id: show-labs
    description: shows lab results
    needs: [launch/patient, patient/Observation.rs]
";

fn with_rationale(r: &str) -> String {
    MANIFEST.replace("RATIONALE", r)
}

/// An unquoted `: ` in a manifest value: exit 2, the place of the `: ` itself (not the
/// line's or the document's start), and the fix with the value quoted.
#[test]
fn an_unquoted_colon_in_a_manifest_value_is_named_at_the_colon() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("lab results: trends"));
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "smart-app.yaml:9:27: error: `: ` inside a value: YAML reads it as the start of a new key\n  hint: quote this value: `rationale: \"lab results: trends\"`"
        ),
        "{}",
        run.stderr
    );
    // A list item's value, and a colon at the end of the line.
    r.write(
        "smart-app.yaml",
        &MANIFEST
            .replace("RATIONALE", "labs")
            .replace("  - id: show-labs", "  - id: show: labs"),
    );
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("smart-app.yaml:11:13: error: `: ` inside a value")
            && run
                .stderr
                .contains("quote this value: `id: \"show: labs\"`"),
        "{}",
        run.stderr
    );
    r.write("smart-app.yaml", &with_rationale("labs for:"));
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("smart-app.yaml:9:24: error: `: ` inside a value"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_quoted_colon_in_a_manifest_value_loads() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("\"lab results: trends\""));
    let run = r.run(&["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // A colon without a space after it is text, not a key.
    r.write(
        "smart-app.yaml",
        &with_rationale("see https://example.org/labs"),
    );
    assert_eq!(r.run(&["check"]).code, 0);
}

/// A tab in the indentation: exit 2 at the tab's own line and column, whether the
/// parser stopped after the tab or at the start of a scalar the line continues.
#[test]
fn a_tab_used_for_indentation_is_named_at_the_tab() {
    let r = Repo::new();
    r.write(
        "smart-app.yaml",
        &with_rationale("labs").replace("  - scope: patient", "\t- scope: patient"),
    );
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "smart-app.yaml:8:1: error: a tab is used for indentation here: YAML indents with spaces only\n  hint: replace the tab with spaces"
        ),
        "{}",
        run.stderr
    );
    r.write(
        "smart-app.yaml",
        &with_rationale("labs").replace("    rationale: labs", "  \t  rationale: labs"),
    );
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("smart-app.yaml:9:3: error: a tab is used for indentation here"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_tab_inside_a_value_is_not_an_error() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("\"lab\\tresults\""));
    assert_eq!(r.run(&["check"]).code, 0);
    r.write("smart-app.yaml", &with_rationale("lab\tresults"));
    assert_eq!(r.run(&["check"]).code, 0);
}

/// The config goes through serde, not the manifest reader: the same words and places.
#[test]
fn the_config_names_the_same_causes_as_the_manifest() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("labs"));
    r.write(
        ".scopegate/config.yaml",
        "approvers: [rm-jane]\nrelease_tags: v*: x\n",
    );
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            ".scopegate/config.yaml:2:17: error: `: ` inside a value: YAML reads it as the start of a new key\n  hint: quote this value: `release_tags: \"v*: x\"`"
        ),
        "{}",
        run.stderr
    );
    // serde alone stops earlier, at a list that is not one ("expected sequence start").
    r.write(".scopegate/config.yaml", "manifests: apps: x\n");
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(".scopegate/config.yaml:1:16: error: `: ` inside a value"),
        "{}",
        run.stderr
    );
    r.write(".scopegate/config.yaml", "approvers:\n  - a\n\t- b\n");
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            ".scopegate/config.yaml:3:1: error: a tab is used for indentation here: YAML indents with spaces only"
        ),
        "{}",
        run.stderr
    );
    // Control: the same config, quoted and indented with spaces, loads.
    r.write(
        ".scopegate/config.yaml",
        "approvers:\n  - a\n  - b\nrelease_tags: \"v*\"\n",
    );
    let run = r.run(&["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

const RISK: &str = "risk — ";
const SEVERITY: &str = "severity — ";

/// A released app, then a change adding `patient/Observation.d` (high: delete) and
/// `patient/Condition.rs` (medium: a new type), neither needed by a workflow.
fn escalated() -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("labs"));
    r.commit("app");
    r.release("v1.0.0");
    r.write(
        "smart-app.yaml",
        &with_rationale("labs").replace(
            "workflows:",
            "  - scope: patient/Observation.d\n    rationale: cleanup\n  - scope: patient/Condition.rs\n    rationale: problems\nworkflows:",
        ),
    );
    r.commit("wider");
    r
}

/// Risk levels and severities are explained once, where they first appear, in the
/// text report and in the markdown (the PR comment), naming only the levels shown.
#[test]
fn risk_and_severity_legends_follow_their_first_appearance() {
    let r = escalated();
    let run = r.run(&["gate"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert_eq!(out.matches(RISK).count(), 1, "{out}");
    assert_eq!(out.matches(SEVERITY).count(), 1, "{out}");
    // Under the escalations (after the first risk word), before the findings.
    let first_high = out.find("  high ").unwrap();
    let legend = out.find(RISK).unwrap();
    assert!(
        first_high < legend && legend < out.find("Findings").unwrap(),
        "{out}"
    );
    assert!(out.contains("high: e.g. delete") && out.contains("medium: e.g. a new type"));
    assert!(!out.contains("low: e.g."), "only the levels shown: {out}");
    assert!(out.contains("severity — error: must be fixed"), "{out}");
    assert!(out.find(SEVERITY).unwrap() > out.find("Findings").unwrap());

    let md = r.run(&["gate", "--format", "markdown"]);
    assert_eq!(md.code, 1);
    let out = &md.stdout;
    assert_eq!(out.matches(RISK).count(), 1, "{out}");
    assert!(
        out.contains("\n<sub>risk — high: e.g. delete, every type (`*`), a new level, offline access; medium: e.g. a new type, create or update, a loosened restriction (each rule's: `scopegate rules`)</sub>\n"),
        "{out}"
    );
    let table_end = out.find("| medium |").unwrap();
    assert!(table_end < out.find(RISK).unwrap());
    assert!(out.find(RISK).unwrap() < out.find("#### Findings").unwrap());
    assert!(
        out.contains("\n<sub>severity — error: must be fixed"),
        "{out}"
    );
}

/// No levels, no legend: a clean check and an unchanged gate say nothing extra.
#[test]
fn no_legend_without_a_risk_or_a_finding() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("labs"));
    r.commit("app");
    r.release("v1.0.0");
    r.commit("again");
    for args in [
        &["check"][..],
        &["gate"][..],
        &["gate", "--format", "markdown"][..],
    ] {
        let run = r.run(args);
        assert_eq!(run.code, 0, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            !run.stdout.contains(RISK) && !run.stdout.contains(SEVERITY),
            "{args:?}: {}",
            run.stdout
        );
    }
    // A warning only: the severity legend names warnings, not errors or risks.
    r.write("smart-app.yaml", &with_rationale("TODO"));
    let run = r.run(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("severity — warning: likely a mistake")
            && !run.stdout.contains("error: must be fixed")
            && !run.stdout.contains(RISK),
        "{}",
        run.stdout
    );
}

/// The PR comment's markdown: a heading quotes a tenant as code (no literal
/// backticks), a timestamp reads as written (no `10\:33\:29Z`), and a pending
/// approval's instruction is a code span, not escaped backticks.
#[test]
fn markdown_shows_timestamps_and_quoted_names_as_written() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("labs"));
    r.write(".scopegate/config.yaml", "approvers: [alice]\n");
    r.write(".scopegate/tenants/clinic.yaml", "deny:\n  - '*/*.d'\n");
    r.allow_signer("alice", "");
    r.commit("app");
    r.release("v1.0.0");
    r.write(
        "smart-app.yaml",
        &with_rationale("labs")
            .replace(
                "workflows:",
                "  - scope: patient/Observation.d\n    rationale: cleanup\nworkflows:",
            )
            .replace(
                "patient/Observation.rs]",
                "patient/Observation.rs, patient/Observation.d]",
            ),
    );
    r.commit("delete");
    let a = r.approve_signed(
        "alice",
        &[
            "--ticket",
            "SEC-1",
            "--expires",
            "2026-11-20T10:33:29Z",
            "--now",
            "2026-11-01T10:33:29Z",
        ],
    );
    assert_eq!(a.code, 0, "{}{}", a.stdout, a.stderr);
    r.commit("approval");
    let run = r.run(&["gate", "--format", "markdown"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let md = &run.stdout;
    let heading = md.lines().next().unwrap();
    assert_eq!(
        heading,
        "### scopegate: ❌ FAIL — 1 unapproved escalation, blocked for tenant `clinic` \\(tenants\\: enforce\\)",
        "{md}"
    );
    assert!(md.contains("2026-11-20T10:33:29Z"), "{md}");
    assert!(!md.contains("10\\:33"), "{md}");
    assert!(!md.contains("\\`"), "no literal backticks: {md}");

    // An unsigned entry is pending: its instruction is a code span in the table.
    r.write(
        ".scopegate/approvals.yaml",
        "approvals:\n  - keys: [\"labs:patient/Observation.d\"]\n    by: alice\n    at: \"2026-11-27T10:33:29Z\"\n    ticket: SEC-2\n",
    );
    r.commit("unsigned");
    let md = r.run(&["gate", "--format", "markdown"]).stdout;
    assert!(md.contains("⏳ **PENDING**"), "{md}");
    assert!(
        md.contains("`scopegate approve --sign <private key> --by alice …`"),
        "{md}"
    );
    assert!(!md.contains("\\`"), "no literal backticks: {md}");
}

/// `matrix` says which commit and version it describes, in every format, and says
/// "working tree" when a file it read is not committed; a change elsewhere does not.
#[test]
fn the_matrix_states_its_commit_and_version() {
    let r = Repo::new();
    r.write("smart-app.yaml", &with_rationale("labs"));
    r.commit("app");
    let sha = r.commit("again");
    r.release("v1.4.0");
    let short = &sha[..12];
    let at = format!("at commit {short} (v1.4.0)");
    let md = r.run(&["matrix", "--format", "markdown"]);
    assert_eq!(md.code, 0, "{}", md.stderr);
    assert!(
        md.stdout.contains(&format!(
            "Generated by scopegate {} at commit {short} \\(v1.4.0\\).",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        md.stdout
    );
    let html = r.run(&["matrix", "--format", "html"]).stdout;
    assert!(html.contains(&at), "{html}");
    let csv = r.run(&["matrix", "--format", "csv"]).stdout;
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",source"), "{header}");
    assert!(csv.lines().skip(1).all(|l| l.ends_with(&at)), "{csv}");
    let json = r.run(&["matrix", "--format", "json"]).json();
    assert_eq!(json["checkout"]["commit"], sha.as_str());
    assert_eq!(json["checkout"]["version"], "v1.4.0");
    assert_eq!(json["checkout"]["uncommitted"], false);

    // Control: a change to a file the matrix does not read.
    r.write("README.md", "notes\n");
    assert!(r.run(&["matrix", "--format", "html"]).stdout.contains(&at));

    // An edited manifest, or an uncommitted file under .scopegate/: the working tree.
    let dirty =
        format!("from the working tree, with uncommitted changes on commit {short} (v1.4.0)");
    r.write("smart-app.yaml", &with_rationale("lab results"));
    let html = r.run(&["matrix", "--format", "html"]).stdout;
    assert!(html.contains(&dirty) && !html.contains(&at), "{html}");
    r.git(&["checkout", "-q", "smart-app.yaml"]);
    r.write(".scopegate/tenants/clinic.yaml", "max_level: user\n");
    let json = r.run(&["matrix", "--format", "json"]).json();
    assert_eq!(json["checkout"]["uncommitted"], true);
    assert!(
        r.run(&["matrix", "--format", "csv"])
            .stdout
            .contains(&dirty)
    );

    // A commit without a release tag says so.
    r.commit("tenant");
    let md = r.run(&["matrix", "--format", "markdown"]).stdout;
    assert!(
        md.contains("(no release tag)") || md.contains("\\(no release tag\\)"),
        "{md}"
    );

    // Outside git.
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("smart-app.yaml"), with_rationale("labs")).unwrap();
    let out = repo::run_in(plain.path(), &["matrix", "--format", "html"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("from a working tree with no git commit")
    );
}

/// In the HTML matrix a scope is unbreakable pieces split after `/`, `.`, `?`, `,`
/// and `&`, so it never breaks mid-token (tests/matrix_html.rs measures it in Chromium).
#[test]
fn the_html_matrix_breaks_scopes_only_between_pieces() {
    let r = Repo::new();
    r.write(
        "smart-app.yaml",
        &with_rationale("labs")
            .replace(
                "patient/Observation.rs\n",
                "patient/Observation.rs?category=laboratory,vital-signs\n",
            )
            .replace(
                "patient/Observation.rs]",
                "patient/Observation.rs?category=laboratory,vital-signs]",
            ),
    );
    let html = r.run(&["matrix", "--format", "html"]);
    assert_eq!(html.code, 0, "{}", html.stderr);
    assert!(
        html.stdout.contains(
            "<code class=\"scope\"><span>patient/</span><wbr><span>Observation.</span><wbr><span>rs?</span><wbr><span>category=laboratory,</span><wbr><span>vital-signs</span></code>"
        ),
        "{}",
        html.stdout
    );
    assert!(
        html.stdout
            .contains("code.scope span { white-space: nowrap; }")
    );
}

/// The `files:` pattern of every hook in `.pre-commit-hooks.yaml`, unquoted.
fn hook_file_patterns() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let hooks = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap();
    hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("files: "))
        .map(
            |v| match v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(q) => q.replace("''", "'"),
                None => v.to_string(),
            },
        )
        .collect()
}

/// Whether each path matches `pattern` the way pre-commit matches `files:` (Python's
/// `re.search` on the repository-relative path), from python3 itself.
fn python_search(pattern: &str, paths: &[&str]) -> Vec<bool> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import re, sys\np = re.compile(sys.argv[1])\nfor f in sys.argv[2:]:\n    print(bool(p.search(f)))",
            pattern,
        ])
        .args(paths)
        .output()
        .expect("python3 (pre-commit's own regex engine) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "True")
        .collect()
}

/// The hooks run when the default manifest (from the config defaults), one in a
/// subdirectory, or anything under `.scopegate/` changes, and not for other files.
#[test]
fn the_pre_commit_hooks_files_pattern_matches_the_default_manifest() {
    let patterns = hook_file_patterns();
    assert_eq!(patterns.len(), 2, "one `files:` per hook: {patterns:?}");
    let defaults = scopegate::config::Config::default().manifests;
    assert_eq!(defaults, ["smart-app.yaml"]);
    let mut must: Vec<&str> = defaults.iter().map(String::as_str).collect();
    must.extend([
        "apps/med-rec/smart-app.yaml",
        "smart-app.yml",
        "billing.smart-app.yaml",
        ".scopegate/config.yaml",
        ".scopegate/approvals.yaml",
        ".scopegate/tenants/clinic.yaml",
        ".scopegate/allowed_signers",
    ]);
    let must_not = [
        "README.md",
        "src/main.rs",
        "smart-app.yaml.orig",
        "not-smart-app.yaml",
        "docs/.scopegate/notes.md",
    ];
    for p in &patterns {
        assert!(
            python_search(p, &must).iter().all(|m| *m),
            "{p} misses one of {must:?}: {:?}",
            python_search(p, &must)
        );
        assert!(
            python_search(p, &must_not).iter().all(|m| !*m),
            "{p} matches one of {must_not:?}: {:?}",
            python_search(p, &must_not)
        );
    }
}

/// A permission typo's did-you-mean is a scope that passes: its type is made one of
/// the manifest's FHIR version too (renamed counterpart, else the nearest name).
#[test]
fn a_permission_typo_on_an_unknown_type_suggests_a_scope_that_passes() {
    let r = Repo::new();
    let with = |scope: &str| {
        with_rationale("labs")
            .replace(
                "  - scope: patient/Observation.rs\n",
                &format!("  - scope: {scope}\n"),
            )
            .replace("patient/Observation.rs]", &format!("{scope}]"))
    };
    for (typo, fix) in [
        (
            "patient/MedicationUsage.raed",
            "patient/MedicationStatement.read",
        ),
        ("patient/Observaton.wirte", "patient/Observation.write"),
        // Control: a known type keeps its name.
        ("patient/Observation.raed", "patient/Observation.read"),
    ] {
        r.write("smart-app.yaml", &with(typo));
        let run = r.run(&["check"]);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains(&format!("hint: did you mean `{fix}`?")),
            "{typo}: {}",
            run.stdout
        );
        // `explain` gives the same suggestion, and lists no grants for the typo.
        let x = r.run(&["explain", typo]);
        assert!(
            x.stdout.contains(&format!("hint: did you mean `{fix}`?"))
                && !x.stdout.contains("grants on"),
            "{typo}: {}",
            x.stdout
        );
        // The suggestion itself loads without an invalid-scope or unknown-type error.
        r.write("smart-app.yaml", &with(fix));
        let run = r.run(&["check"]);
        assert!(
            !run.stdout.contains("error[invalid-scope]")
                && !run.stdout.contains("error[unknown-resource-type]"),
            "{fix}: {}",
            run.stdout
        );
    }
}

/// Attack: a clock that is not a timestamp must stop every command that takes one
/// before anything is read: the error names `--now`, not the missing repository,
/// event or token it would otherwise meet first (exit 2, never a panic). Control: a
/// valid clock gets past it to the first real read, which fails for its own reason.
#[test]
fn a_bad_clock_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 5] = [
        &["gate"],
        &["diff"],
        &["approve", "--by", "a", "--ticket", "T-1"],
        &["ci"],
        &["comment", "--pr", "1"],
    ];
    for cmd in commands {
        for (now, bad) in [("yesterday", true), ("2026-11-28T12:00:00Z", false)] {
            let mut args = cmd.to_vec();
            args.extend(["--now", now]);
            let r = repo::run_in(dir.path(), &args);
            let said = format!("{}{}", r.stdout, r.stderr);
            assert_eq!(r.code, 2, "{args:?}: {said}");
            assert_eq!(
                said.contains("`--now yesterday` is not a timestamp"),
                bad,
                "{args:?}: {said}"
            );
            assert!(!said.contains("panicked"), "{args:?}: {said}");
        }
    }
}

/// A manifest of thousands of errors: exit 2 with the first hundred located, then how
/// many more, never megabytes of stderr (125,000 unknown keys printed 6 MB).
#[test]
fn thousands_of_errors_show_the_first_hundred_and_a_count() {
    let r = Repo::new();
    let mut m = with_rationale("labs");
    for i in 0..5_000 {
        m.push_str(&format!("    bogus{i}: 1\n"));
    }
    r.write("smart-app.yaml", &m);
    let run = r.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.stderr.matches(": error: unknown key").count(), 100);
    assert!(
        run.stderr
            .contains("smart-app.yaml:14:5: error: unknown key `bogus0`"),
        "{}",
        &run.stderr[..300]
    );
    assert!(
        run.stderr
            .contains("smart-app.yaml: 4900 more errors not shown (the first 100 are above)"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.len() < 20_000, "{} bytes", run.stderr.len());
}

/// `gate` in a repository with no commit yet said "unknown ref `HEAD`" with a hint to
/// fetch it; the fix is a first commit. Control: after it, the error is the next step's
/// (no release to compare with).
#[test]
fn a_gate_before_the_first_commit_says_to_commit_first() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::git::git_in(dir.path(), &["init", "-q"]);
    std::fs::write(
        dir.path().join("smart-app.yaml"),
        repo::example("med-rec.yaml"),
    )
    .unwrap();
    let g = repo::run_in(dir.path(), &["gate"]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(
        g.stderr.contains("no commit yet") && g.stderr.contains("git commit"),
        "{}",
        g.stderr
    );
    assert!(!g.stderr.contains("git fetch origin HEAD"), "{}", g.stderr);
    crate::support::git::git_in(dir.path(), &["add", "-A"]);
    crate::support::git::git_in(dir.path(), &["commit", "-qm", "first"]);
    let g = repo::run_in(dir.path(), &["gate"]);
    assert_eq!(g.code, 2, "{}", g.stderr);
    assert!(!g.stderr.contains("no commit yet"), "{}", g.stderr);
}
