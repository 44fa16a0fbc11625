//! Issue 16 §6 end to end: error messages a first-time user can act on, through the
//! real binary (YAML syntax causes, legends, hook patterns).

#[path = "support/git.rs"]
mod git;
#[path = "support/repo.rs"]
mod repo;

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
