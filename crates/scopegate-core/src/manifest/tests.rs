//! Loader tests: every kind of bad input gets a located, worded error.

use super::*;

const GOOD: &str = "\
id: med-rec
name: Medication Reconciliation
fhir_version: R4
launch: [ehr]
scopes:
  - scope: launch
    rationale: EHR launch
  - scope: patient/MedicationRequest.read
    rationale: list active medications
workflows:
  - id: reconcile
    description: compare lists
    needs: [patient/MedicationRequest.rs]
    offline:
      reason: nightly sync
";

fn problems(text: &str) -> Vec<String> {
    let e = from_str("m.yaml", text).expect_err("should fail");
    e.problems
        .iter()
        .map(|p| {
            format!(
                "{}: {}{}",
                p.pos,
                p.message,
                p.hint
                    .as_ref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn a_good_manifest_loads_with_positions() {
    let m = from_str("m.yaml", GOOD).unwrap();
    assert_eq!(m.id.value, "med-rec");
    assert_eq!(m.fhir_version, FhirVersion::R4);
    assert_eq!(m.launch, vec![LaunchMode::Ehr]);
    assert_eq!(m.scopes.len(), 2);
    assert_eq!(
        m.scopes[1].token.text.pos,
        Pos {
            line: 8,
            column: 12
        }
    );
    assert_eq!(
        m.scopes[1].token.scope().unwrap().to_string(),
        "patient/MedicationRequest.rs"
    );
    assert_eq!(
        m.workflows[0].needs[0].text.pos,
        Pos {
            line: 13,
            column: 13
        }
    );
    assert_eq!(
        m.workflows[0].offline.as_ref().unwrap().value,
        "nightly sync"
    );
}

#[test]
fn unknown_keys_get_did_you_mean() {
    let t = GOOD.replace("rationale: EHR launch", "ratonale: EHR launch");
    assert_eq!(
        problems(&t),
        ["7:5: unknown key `ratonale` (did you mean `rationale`?)"]
    );
}

#[test]
fn duplicate_keys_are_errors() {
    let t = format!("{GOOD}id: other\n");
    assert_eq!(
        problems(&t),
        ["16:1: duplicate key `id` (the first `id` is at 1:1; keep one)"]
    );
}

#[test]
fn every_unknown_key_in_the_file_is_reported() {
    let t = GOOD
        .replace("rationale: EHR launch", "ratonale: EHR launch")
        .replace("description:", "descripton:")
        .replace("reason:", "why:")
        + "bogus: 1\n";
    assert_eq!(
        problems(&t),
        [
            "7:5: unknown key `ratonale` (did you mean `rationale`?)",
            "12:5: unknown key `descripton` (did you mean `description`?)",
            "15:7: unknown key `why` (known keys here: reason)",
            "15:7: missing required key `reason` (add `reason:`, why the workflow runs with no user present)",
            "16:1: unknown key `bogus` (known keys here: id, name, fhir_version, launch, scopes, workflows)",
        ]
    );
}

/// Every problem is found, but a file's error shows the first
/// [`crate::yaml::SHOWN_PROBLEMS`] and then how many more: on both sides of the bound.
#[test]
fn a_file_of_many_errors_shows_the_first_hundred_and_counts_the_rest() {
    let with = |n: usize| {
        let mut t = GOOD.to_string() + "  - id: extra\n    description: d\n    needs: []\n";
        for i in 0..n {
            t.push_str(&format!("    bogus{i}: 1\n"));
        }
        from_str("m.yaml", &t).expect_err("unknown keys")
    };
    let shown = crate::yaml::SHOWN_PROBLEMS;
    let at = with(shown);
    assert_eq!(at.problems.len(), shown);
    let text = at.to_string();
    assert_eq!(text.matches(": error: ").count(), shown);
    assert!(!text.contains("not shown"), "{text}");
    let over = with(shown + 1_000);
    assert_eq!(over.problems.len(), shown + 1_000, "every problem is found");
    let text = over.to_string();
    assert_eq!(text.matches(": error: ").count(), shown);
    assert!(text.contains("`bogus0`") && text.contains(&format!("`bogus{}`", shown - 1)));
    assert!(!text.contains(&format!("`bogus{shown}`")), "{text}");
    assert!(
        text.ends_with("m.yaml: 1000 more errors not shown (the first 100 are above)"),
        "{}",
        &text[text.len() - 200..]
    );
}

#[test]
fn values_of_the_wrong_shape_say_what_was_expected() {
    let t =
        "id: [a]\nname: {x: 1}\nscopes: [launch, {scope: [x]}]\nlaunch: ehr\nworkflows: {a: b}\n";
    assert_eq!(
        problems(t),
        [
            "1:5: expected a string for `id`, found a list (`id` is a stable id of letters, digits, `.`, `_` or `-`)",
            "2:7: expected a string for `name`, found a mapping (`name` is the app's name, on one line)",
            "3:10: expected a scope entry (`scope:` and `rationale:`), found a string (write the entry as `- scope: launch`, with a `rationale:`)",
            "3:26: expected a string for `scope`, found a list (`scope` is one scope token, e.g. `scope: patient/Observation.rs`)",
            "4:9: expected a list of launch modes for `launch`, found a string (`launch` is a list of launch modes, e.g. `launch: [ehr, standalone]`)",
            "5:12: expected a list of workflows for `workflows`, found a mapping (`workflows` is a list of workflows, each `- id: <workflow id>` with its `needs:`)",
        ]
    );
    let t = "id: a\nscopes: []\nworkflows:\n  - id: w\n    needs: [[x], ~]\n    offline: soon\n";
    assert_eq!(
        problems(t),
        [
            "5:13: expected a scope token, found a list (`needs` is a list of scope tokens, e.g. `needs: [patient/Observation.rs]`)",
            "5:18: expected a scope token, found nothing (`needs` is a list of scope tokens, e.g. `needs: [patient/Observation.rs]`)",
            "6:14: expected a mapping for `offline`, found a string (`offline` is a mapping with the reason, e.g. `offline: {reason: nightly sync}`)",
        ]
    );
}

#[test]
fn a_required_key_with_no_value_is_an_error() {
    assert_eq!(
        problems("id:\nscopes: ~\n"),
        [
            "1:3: expected a string for `id`, found nothing (`id` is a stable id of letters, digits, `.`, `_` or `-`)",
            "2:9: expected a list of scope entries for `scopes`, found nothing (write `scopes: []` for none)",
        ]
    );
}

#[test]
fn null_optional_values_are_absent() {
    let t = "id: a\nname: ~\nfhir_version: null\nlaunch:\nscopes:\n  - scope: launch\n    rationale:\nworkflows:\n  - id: w\n    description: NULL\n    needs:\n    offline: ~\n";
    let m = from_str("m", t).unwrap();
    assert_eq!(m.name, None);
    assert_eq!(m.fhir_version, FhirVersion::R4);
    assert!(m.launch.is_empty());
    assert!(m.scopes[0].rationale.is_none());
    let w = &m.workflows[0];
    assert!(w.description.is_none() && w.needs.is_empty() && w.offline.is_none());
    // Quoted, or tagged `!!str`, it is text.
    let m = from_str(
        "m",
        "id: a\nname: \"~\"\nscopes: [{scope: x, rationale: !!str null}]\n",
    )
    .unwrap();
    assert_eq!(m.name.as_deref(), Some("~"));
    assert_eq!(m.scopes[0].rationale.as_ref().unwrap().value, "null");
}

#[test]
fn plain_scalars_are_kept_as_written() {
    let m = from_str(
        "m",
        "id: 1.10\nname: NO\nscopes: [{scope: true, rationale: 0o17}]\nworkflows: [{id: 012, needs: [on, 1_000]}]\n",
    )
    .unwrap();
    assert_eq!(m.id.value, "1.10");
    assert_eq!(m.name.as_deref(), Some("NO"));
    assert_eq!(m.scopes[0].token.text.value, "true");
    assert_eq!(m.scopes[0].rationale.as_ref().unwrap().value, "0o17");
    assert_eq!(m.workflows[0].id.value, "012");
    let needs: Vec<_> = m.workflows[0]
        .needs
        .iter()
        .map(|n| n.text.value.as_str())
        .collect();
    assert_eq!(needs, ["on", "1_000"]);
}

#[test]
fn tags_are_refused_unless_they_restate_the_shape() {
    assert_eq!(
        problems("id: !!int 1\nscopes: []\nname: !custom x\n"),
        [
            "1:5: YAML tag `!!int` is not allowed in a manifest (remove the tag: every value is read as text)",
            "3:7: YAML tag `!custom` is not allowed in a manifest (remove the tag: every value is read as text)",
        ]
    );
    let m = from_str("m", "!!map\nid: !!str a\nscopes: !!seq []\n").unwrap();
    assert_eq!(m.id.value, "a");
}

#[test]
fn merge_keys_and_complex_keys_are_refused() {
    assert_eq!(
        problems("id: a\nscopes: []\n<<: {name: x}\n? [k]\n: v\n"),
        [
            "3:1: YAML merge keys (`<<`) are not allowed in a manifest (write each key out in full)",
            "4:3: expected a key, found a list (known keys here: id, name, fhir_version, launch, scopes, workflows)",
        ]
    );
}

#[test]
fn a_second_document_is_refused() {
    assert_eq!(
        problems("id: a\nscopes: []\n---\nid: b\nscopes: []\n"),
        [
            "3:1: a manifest is one YAML document; this `---` starts a second one (remove the `---` line and what follows it)"
        ]
    );
    // One document with its markers is fine.
    assert!(from_str("m", "%YAML 1.2\n---\nid: a\nscopes: []\n...\n").is_ok());
}

#[test]
fn a_manifest_that_is_not_a_mapping_is_refused() {
    assert_eq!(
        problems("- a\n- b\n"),
        [
            "1:1: expected a mapping of the manifest's keys, found a list (a manifest starts with `id:` and `scopes:`; see `scopegate init`)"
        ]
    );
}

#[test]
fn syntax_errors_are_located_with_a_hint() {
    assert_eq!(
        problems("id: a\nscopes: []\nname: 'x\n"),
        ["3:7: unclosed quote (close the quote)"]
    );
}

/// A YAML syntax error names its likely cause at the offending character, and the
/// serde reading (config, ledger, tenant profiles) words and places it the same.
#[test]
fn syntax_errors_name_an_unquoted_colon_or_a_tab_the_same_on_both_paths() {
    let cases: &[(&str, &str)] = &[
        (
            "id: a\nscopes: []\nname: app: for labs\n",
            "3:10: `: ` inside a value: YAML reads it as the start of a new key (quote this value: `name: \"app: for labs\"`)",
        ),
        (
            "id: a\nscopes:\n  - scope: launch\n    rationale: needed: \"now\" \\ here\n",
            "4:22: `: ` inside a value: YAML reads it as the start of a new key (quote this value: `rationale: \"needed: \\\"now\\\" \\\\ here\"`)",
        ),
        (
            "id: a\nscopes:\n\t- scope: launch\n",
            "3:1: a tab is used for indentation here: YAML indents with spaces only (replace the tab with spaces)",
        ),
        (
            "id: a\nscopes:\n  - scope: launch\n  \t rationale: x\n",
            "4:3: a tab is used for indentation here: YAML indents with spaces only (replace the tab with spaces)",
        ),
        // Controls: other syntax errors keep the parser's words and place.
        (
            "id: a\nscopes: []\nname: 'x\n",
            "3:7: unclosed quote (close the quote)",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(problems(text), [*want], "{text:?}");
        let serde = serde_from_str("m", text).unwrap_err();
        let walker = from_str("m", text).unwrap_err();
        assert_eq!(serde, walker, "{text:?}");
    }
    // Quoted, the same values load.
    assert!(from_str("m", &GOOD.replace("name: ", "name: \"app: for labs\" #")).is_ok());
}

#[test]
fn yaml_one_point_one_booleans_do_not_sneak_in() {
    // strict_booleans: `yes` is not a bool, and a bool where a string belongs is an error.
    let t = GOOD.replace("launch: [ehr]", "launch: [yes]");
    assert_eq!(problems(&t).len(), 1);
}

#[test]
fn unknown_launch_modes_list_the_choices() {
    let t = GOOD.replace("launch: [ehr]", "launch: [ehr, sso]");
    assert_eq!(
        problems(&t),
        ["4:15: unknown value `sso` (expected one of: ehr, standalone, backend)"]
    );
}

#[test]
fn semantic_problems_are_all_collected() {
    let t = GOOD
        .replace("fhir_version: R4", "fhir_version: R44")
        .replace("id: med-rec", "id: med rec")
        .replace("launch: [ehr]", "launch: [ehr, ehr]")
        + "  - id: reconcile\n";
    assert_eq!(
        problems(&t),
        [
            "1:5: app id `med rec` must be letters, digits, `.`, `_` or `-`",
            "3:15: unknown FHIR version `R44` (did you mean `R4`?)",
            "4:15: launch mode listed twice",
            "16:9: workflow id `reconcile` is used twice",
        ]
    );
}

#[test]
fn numeric_fhir_versions_are_accepted() {
    let m = from_str(
        "m",
        &GOOD.replace("fhir_version: R4", "fhir_version: 4.0.1"),
    )
    .unwrap();
    assert_eq!(m.fhir_version, FhirVersion::R4);
    let m = from_str(
        "m",
        &GOOD.replace("fhir_version: R4", "fhir_version: \"5.0.0\""),
    )
    .unwrap();
    assert_eq!(m.fhir_version, FhirVersion::R5);
}

#[test]
fn missing_required_keys_are_named() {
    assert_eq!(
        problems("scopes: []\n"),
        [
            "1:1: missing required key `id` (add `id:`, a stable id of letters, digits, `.`, `_` or `-`)"
        ]
    );
    assert_eq!(
        problems("id: a\nscopes: [{rationale: r}]\nworkflows: [{needs: []}]\n"),
        [
            "2:10: missing required key `scope` (add `scope:`, one scope token, e.g. `scope: patient/Observation.rs`)",
            "3:13: missing required key `id` (add `id:`, a stable id of letters, digits, `.`, `_` or `-`)",
        ]
    );
}

#[test]
fn empty_and_non_mapping_files_are_errors() {
    assert_eq!(problems("").len(), 1);
    assert_eq!(problems("\n# only a comment\n").len(), 1);
    assert_eq!(problems("- a\n- b\n").len(), 1);
    for empty in ["", "\n# only a comment\n", "---\n", "~\n", "--- # c\n...\n"] {
        assert_eq!(
            problems(empty),
            ["1:1: the manifest is empty (start from `scopegate init --scopes \"…\"`)"],
            "{empty:?}"
        );
    }
}

#[test]
fn anchors_and_aliases_are_refused() {
    let t = "id: &x a\nscopes: []\nname: *x\n";
    assert_eq!(
        problems(t),
        [
            "1:8: YAML anchors and aliases are not allowed in a manifest (write each value out in full)"
        ]
    );
    // An alias with no anchor, and an anchor on a collection.
    for t in ["id: a\nscopes: []\nname: *x\n", "id: a\nscopes: &s []\n"] {
        assert_eq!(problems(t).len(), 1);
        assert!(problems(t)[0].contains("anchors and aliases"), "{t}");
    }
}

#[test]
fn too_many_values_are_refused() {
    let t = format!(
        "id: a\nscopes: []\nworkflows: [{{id: w, needs: [{}]}}]\n",
        "x,".repeat(250_000)
    );
    let p = problems(&t);
    assert_eq!(p.len(), 1);
    assert!(p[0].contains("too large to be a manifest"), "{p:?}");
}

#[test]
fn deep_nesting_is_refused_quickly() {
    let t = format!("id: a\nscopes: []\nname: {}\n", "[".repeat(100_000));
    let start = std::time::Instant::now();
    assert_eq!(problems(&t).len(), 1);
    assert!(start.elapsed().as_secs() < 1);
}

#[test]
fn deep_nesting_anywhere_stops_the_walk_without_recursion() {
    // In a key, in an unknown key's value, in a list item, flow and block: the walker
    // passes over values it does not want by counting, and the depth limit stops it.
    let deep = "[".repeat(100_000);
    let mut block = String::new();
    for i in 0..200 {
        block.push_str(&format!("{}- k{i}:\n", " ".repeat(2 * i + 2)));
    }
    for t in [
        format!("id: a\nscopes: []\n? {deep}\n"),
        format!("id: a\nscopes: []\nbogus: {deep}\n"),
        format!("id: a\nscopes: [{{scope: x, rationale: {deep}}}]\n"),
        format!("id: a\nscopes: []\nworkflows: [{{id: w, needs: [{deep}]}}]\n"),
        format!("id: a\nscopes:\n{block}"),
    ] {
        let start = std::time::Instant::now();
        let p = problems(&t);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("nested deeper than 32 levels"), "{p:?}");
        assert!(start.elapsed().as_secs() < 1);
    }
}

#[test]
fn non_utf8_is_located() {
    let mut bytes = b"id: a\nscopes: []\nname: caf".to_vec();
    bytes.push(0xE9);
    let e = from_bytes("m", &bytes).unwrap_err();
    assert_eq!(
        e.problems[0].pos,
        Pos {
            line: 3,
            column: 10
        }
    );
    assert!(e.problems[0].message.contains("UTF-8"));
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let big = vec![b'#'; MAX_BYTES + 1];
    let e = from_bytes("m", &big).unwrap_err();
    assert!(e.problems[0].message.contains("larger than"));
}

#[test]
fn invalid_scope_tokens_are_kept_for_the_lint() {
    let m = from_str(
        "m",
        &GOOD.replace("scope: launch", "scope: patient/Observation.sr"),
    )
    .unwrap();
    assert!(m.scopes[0].token.parsed.is_err());
}

#[test]
fn the_schema_names_every_key() {
    let s = json_schema().to_string();
    for key in [
        "fhir_version",
        "rationale",
        "needs",
        "offline",
        "reason",
        "additionalProperties",
    ] {
        assert!(s.contains(key), "{key}");
    }
}

// ---- the serde reading the walker replaced, kept as the reference it is checked against ----

/// The loader as it was before the event walker: serde-saphyr into `RawManifest`.
fn serde_from_str(path: &str, text: &str) -> Result<Manifest, LoadError> {
    if text.trim().is_empty() {
        return Err(empty(path));
    }
    let raw: RawManifest = yaml::parse(yaml::FileKind::Manifest, path, text)?;
    let scopes_pos = Pos::of(&raw.scopes);
    let scopes = raw
        .scopes
        .value
        .into_iter()
        .map(|s| ScopeEntry {
            pos: Pos::of(&s),
            token: Token::of(Text::of(s.value.scope)),
            rationale: s.value.rationale.map(Text::of),
        })
        .collect();
    let draft = Draft {
        id: Some(Text::of(raw.id)),
        name: raw.name,
        fhir_version: raw.fhir_version.map(Text::of),
        launch: raw.launch.iter().map(|m| (m.value, Pos::of(m))).collect(),
        scopes: Some((scopes_pos, scopes)),
        workflows: raw
            .workflows
            .into_iter()
            .map(|w| Workflow {
                id: Text::of(w.value.id),
                description: w.value.description.map(Text::of),
                needs: w
                    .value
                    .needs
                    .into_iter()
                    .map(|n| Token::of(Text::of(n)))
                    .collect(),
                offline: w.value.offline.map(|o| Text::of(o.value.reason)),
            })
            .collect(),
    };
    let mut problems = Vec::new();
    match validate(draft, &mut problems) {
        Some(m) if problems.is_empty() => Ok(Manifest {
            path: path.to_string(),
            ..m
        }),
        _ => Err(LoadError {
            path: path.to_string(),
            problems,
        }),
    }
}

fn yaml_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

/// The walker replaced serde's reading of manifests: on every manifest in the
/// repository it must read the same thing, positions included.
#[test]
fn the_walker_reads_what_serde_read_on_every_manifest_in_the_repo() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut files = Vec::new();
    for dir in ["examples", "tests/fixtures/lint", "tests/fixtures/diff"] {
        yaml_files(&root.join(dir), &mut files);
    }
    files.sort();
    let mut compared = 0;
    for f in &files {
        let name = f.strip_prefix(root).unwrap().display().to_string();
        let text = std::fs::read_to_string(f).unwrap();
        match (serde_from_str(&name, &text), from_str(&name, &text)) {
            (Ok(old), Ok(new)) => {
                // Debug shows every field: texts, positions, parsed tokens.
                assert_eq!(format!("{old:#?}"), format!("{new:#?}"), "{name}");
                compared += 1;
            }
            // Not a manifest (a config, a CI workflow): both refuse it.
            (Err(_), Err(_)) => {}
            (old, new) => panic!("{name}: serde {:?}, walker {:?}", old.err(), new.err()),
        }
    }
    assert!(compared >= 50, "only {compared} manifests compared");
}

/// A small deterministic generator of valid manifests in many YAML spellings.
struct Gen(u64);

impl Gen {
    fn next(&mut self, n: usize) -> usize {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next(from.len())]
    }

    /// A string value, spelled plain, single- or double-quoted.
    fn text(&mut self, words: &[&str], flow: bool) -> String {
        let n = 1 + self.next(3);
        let v: Vec<&str> = (0..n).map(|_| self.pick(words)).collect();
        let v = v.join(" ");
        match self.next(3) {
            // Plain, where YAML reads it back as this same text.
            0 if !(v.contains('#')
                || matches!(v.as_str(), "~" | "null")
                || flow && v.contains(',')) =>
            {
                v
            }
            1 => format!("'{}'", v.replace('\'', "''")),
            _ => format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")),
        }
    }

    fn optional_null(&mut self) -> &'static str {
        self.pick(&["", " ~", " null", " Null", " NULL"])
    }

    fn gap(&mut self, out: &mut String, indent: &str) {
        match self.next(6) {
            0 => out.push('\n'),
            1 => out.push_str(&format!("{indent}# a comment: with [brackets]\n")),
            _ => {}
        }
    }
}

const WORDS: &[&str] = &[
    "reads", "the", "chart", "é", "naïve", "café→", "it's", "a\"b", "x,y", "1.10", "NO", "true",
    "~", "null", "0o17", "#1", "50%", "tab\tin",
];
const TOKENS: &[&str] = &[
    "launch",
    "openid",
    "patient/Observation.rs",
    "user/*.cruds",
    "patient/Observation.rs?category=laboratory",
    "system/Patient.read",
    "offline_access",
    "fhirUser",
];

fn generated_manifest(g: &mut Gen) -> String {
    let mut t = String::new();
    g.gap(&mut t, "");
    t.push_str(&format!(
        "id: {}\n",
        g.pick(&["app", "'app-2'", "\"med.rec_1\"", "1.10"])
    ));
    if g.next(2) == 0 {
        t.push_str(&format!("name: {}\n", g.text(WORDS, false)));
    } else if g.next(2) == 0 {
        t.push_str(&format!("name:{}\n", g.optional_null()));
    }
    if g.next(2) == 0 {
        t.push_str(&format!(
            "fhir_version: {}\n",
            g.pick(&["R4", "R5", "\"4.0.1\"", "STU3"])
        ));
    }
    if g.next(2) == 0 {
        t.push_str(&format!(
            "launch: [{}]\n",
            g.pick(&["ehr", "ehr, standalone", "backend"])
        ));
    }
    let entries = g.next(5);
    if entries == 0 && g.next(2) == 0 {
        t.push_str("scopes: []\n");
    } else {
        t.push_str("scopes:\n");
        let dash = g.pick(&["  - ", "- ", "    -   "]);
        let inner = " ".repeat(dash.len());
        for _ in 0..entries.max(1) {
            g.gap(&mut t, &inner);
            let token = g.pick(TOKENS);
            let token = match g.next(3) {
                0 => token.to_string(),
                1 => format!("'{token}'"),
                _ => format!("\"{token}\""),
            };
            match g.next(4) {
                0 => t.push_str(&format!("{dash}{{scope: {token}}}\n")),
                1 => t.push_str(&format!(
                    "{dash}{{ scope: {token}, rationale: {} }}\n",
                    g.text(WORDS, true)
                )),
                2 => t.push_str(&format!(
                    "{dash}scope: {token}\n{inner}rationale:{}\n",
                    g.optional_null()
                )),
                _ => t.push_str(&format!(
                    "{dash}rationale: {}\n{inner}scope: {token}\n",
                    g.text(WORDS, false)
                )),
            }
        }
    }
    if g.next(3) > 0 {
        t.push_str("workflows:\n");
        for w in 0..1 + g.next(3) {
            g.gap(&mut t, "    ");
            t.push_str(&format!("  - id: wf-{w}\n"));
            if g.next(2) == 0 {
                t.push_str(&format!("    description: {}\n", g.text(WORDS, false)));
            }
            match g.next(3) {
                0 => t.push_str(&format!(
                    "    needs: [{}, {}]\n",
                    g.pick(TOKENS),
                    g.pick(TOKENS)
                )),
                1 => t.push_str(&format!(
                    "    needs:\n      - {}\n      - \"{}\"\n",
                    g.pick(TOKENS),
                    g.pick(TOKENS)
                )),
                _ => {}
            }
            match g.next(3) {
                0 => t.push_str(&format!(
                    "    offline:\n      reason: {}\n",
                    g.text(WORDS, false)
                )),
                1 => t.push_str(&format!(
                    "    offline: {{reason: {}}}\n",
                    g.text(WORDS, true)
                )),
                _ => t.push_str(&format!("    offline:{}\n", g.optional_null())),
            }
        }
    }
    g.gap(&mut t, "");
    t
}

/// The same check on generated manifests: every quoting style, flow and block
/// collections, comments and blank lines, nulls, non-ASCII text before positions.
#[test]
fn the_walker_reads_what_serde_read_on_generated_manifests() {
    let mut g = Gen(0x5eed_cafe_f00d_0001);
    for _ in 0..2_000 {
        let t = generated_manifest(&mut g);
        let old = serde_from_str("g.yaml", &t).unwrap_or_else(|e| panic!("{t}\n{e}"));
        let new = from_str("g.yaml", &t).unwrap_or_else(|e| panic!("{t}\n{e}"));
        assert_eq!(format!("{old:#?}"), format!("{new:#?}"), "{t}");
    }
}
