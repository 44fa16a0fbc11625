//! Fixture pairs in `tests/fixtures/diff/<case>/{base,head}.yaml`: each change rule
//! fires on the pair named after it, every fixture diffed against itself yields
//! nothing (cargo-semver-checks' no-false-positive test), and `reword-*` pairs yield
//! nothing at all. A case with no `head.yaml` is an app removed at head.

use std::path::PathBuf;

use scopegate::diff::{diff, removed};
use scopegate::grant::Options;
use scopegate::manifest::{Manifest, from_str};
use scopegate::rules::{RULES, RuleKind};

fn load(path: &PathBuf) -> Manifest {
    let text = std::fs::read_to_string(path).unwrap();
    from_str(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"))
}

/// `(name, base, head)`; `head` is `None` for an app removed at head.
fn cases() -> Vec<(String, Manifest, Option<Manifest>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            let head = p.join("head.yaml");
            let head = head.exists().then(|| load(&head));
            (name, load(&p.join("base.yaml")), head)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_change_rule_fires_on_its_fixture_pair() {
    let cases = cases();
    for r in RULES.iter().filter(|r| {
        matches!(
            r.kind,
            RuleKind::Escalation | RuleKind::Reduction | RuleKind::Workflow
        )
    }) {
        let (_, base, head) = cases
            .iter()
            .find(|(n, _, _)| n == r.id.as_str())
            .unwrap_or_else(|| panic!("no fixture pair for `{}`", r.id));
        let changes = match head {
            Some(head) => diff(Some(base), head, Options::default()),
            None => removed(base, "gone", Options::default()),
        };
        let fired: Vec<&str> = changes.iter().map(|c| c.rule.as_str()).collect();
        assert!(
            fired.contains(&r.id.as_str()),
            "`{}` pair fired {fired:?}",
            r.id
        );
    }
}

#[test]
fn diffing_any_fixture_against_itself_yields_nothing() {
    for (name, base, head) in cases() {
        for m in std::iter::once(&base).chain(head.as_ref()) {
            let changes = diff(Some(m), m, Options::default());
            assert!(changes.is_empty(), "{name}: {changes:#?}");
        }
    }
}

#[test]
fn rewordings_are_no_change() {
    let rewords: Vec<_> = cases()
        .into_iter()
        .filter(|(n, _, _)| n.starts_with("reword-"))
        .collect();
    assert!(rewords.len() >= 3);
    for (name, base, head) in rewords {
        let changes: Vec<_> = diff(Some(&base), head.as_ref().unwrap(), Options::default())
            .into_iter()
            .filter(|c| c.rule.as_str() != "rationale-changed")
            .collect();
        assert!(changes.is_empty(), "{name}: {changes:#?}");
    }
}

#[test]
fn escalation_keys_name_exactly_the_new_access() {
    let cases = cases();
    let get = |n: &str| {
        let (x, b, h) = cases.iter().find(|(x, _, _)| x == n).unwrap();
        (x, b, h.as_ref().unwrap())
    };
    let (_, b, h) = get("write-access-added");
    let c = diff(Some(b), h, Options::default());
    assert_eq!(c[0].key, "app:patient/MedicationStatement.c");
    assert_eq!(
        c[0].description,
        "`patient/MedicationStatement.rs` widened to `patient/MedicationStatement.crs` (new: `patient/MedicationStatement.c`)"
    );
    let (_, b, h) = get("wildcard-type-added");
    let c = diff(Some(b), h, Options::default());
    assert_eq!(c[0].key, "app:patient/*.rs");
    assert_eq!(
        c[0].description,
        "`patient/Observation.rs` widened to `patient/*.rs`"
    );
    let (_, b, h) = get("level-widened");
    let c: Vec<_> = diff(Some(b), h, Options::default());
    assert_eq!(
        c.iter()
            .filter(|c| c.rule.as_str() == "level-widened")
            .count(),
        1
    );
    assert_eq!(
        c.iter()
            .find(|c| c.rule.as_str() == "access-removed")
            .unwrap()
            .key,
        "app:patient/Observation.rs"
    );
}

#[test]
fn a_new_app_is_all_additions() {
    let (_, _, head) = cases()
        .into_iter()
        .find(|(n, _, _)| n == "identity-scope-added")
        .unwrap();
    let c = diff(None, head.as_ref().unwrap(), Options::default());
    let esc: Vec<&str> = c
        .iter()
        .filter(|c| c.direction == scopegate::report::Direction::Escalation)
        .map(|c| c.scope.as_str())
        .collect();
    assert_eq!(esc.len(), 4, "{esc:?}");
    assert!(c.iter().any(|c| c.rule.as_str() == "workflow-added"));
}

#[test]
fn a_removed_app_reports_each_scope_as_a_reduction_at_its_baseline_line() {
    let (_, base, _) = cases()
        .into_iter()
        .find(|(n, _, _)| n == "app-removed")
        .unwrap();
    let c: Vec<_> = removed(&base, "gone", Options::default())
        .into_iter()
        .filter(|c| c.rule.as_str() != "app-gating-stopped")
        .collect();
    let mut keys: Vec<&str> = c.iter().map(|c| c.key.as_str()).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "app:launch",
            "app:patient/Condition.rs",
            "app:patient/Observation.rs"
        ]
    );
    assert!(
        c.iter()
            .all(|c| c.direction == scopegate::report::Direction::Reduction
                && c.rule.as_str() == "app-removed")
    );
    let obs = c
        .iter()
        .find(|c| c.scope == "patient/Observation.rs")
        .unwrap();
    assert_eq!(obs.location.line, 7);
    assert!(
        obs.description.contains("removed with the app"),
        "{}",
        obs.description
    );
}

/// The narrowing pairs (`narrowed-*`): each is a reduction described as what the head
/// keeps, located at the scope that narrows, and no escalation (for `user/` →
/// `patient/`, none once `user/` covers `patient/`; never `level-widened`).
#[test]
fn narrowings_are_described_as_limits_at_the_narrowing_scope() {
    let cases = cases();
    let narrowings: Vec<_> = cases
        .iter()
        .filter(|(n, _, _)| n.starts_with("narrowed-"))
        .collect();
    assert_eq!(narrowings.len(), 6);
    let covers = Options {
        user_covers_patient: true,
    };
    for (name, base, head) in narrowings {
        let head = head.as_ref().unwrap();
        let changes = diff(Some(base), head, covers);
        let red: Vec<_> = changes
            .iter()
            .filter(|c| c.rule.as_str() == "access-removed")
            .collect();
        assert_eq!(red.len(), 1, "{name}: {changes:#?}");
        assert!(
            changes
                .iter()
                .all(|c| c.direction != scopegate::report::Direction::Escalation),
            "{name}: {changes:#?}"
        );
        // Line 5 is `launch`; the changed scope is on line 7 (the first of several).
        assert_eq!(red[0].location.line, 7, "{name}: {:?}", red[0]);
        let d = &red[0].description;
        assert!(d.contains("narrowed to"), "{name}: {d}");
        assert!(
            !d.contains(&format!("(removed: `{}`)", red[0].before[0])),
            "{name} reads as removed whole: {d}"
        );
        let default = diff(Some(base), head, Options::default());
        assert!(
            default.iter().all(|c| c.rule.as_str() != "level-widened"),
            "{name}: {default:#?}"
        );
    }
    let get = |n: &str| {
        let (_, b, h) = cases.iter().find(|(x, _, _)| x == n).unwrap();
        diff(Some(b), h.as_ref().unwrap(), Options::default())
            .into_iter()
            .find(|c| c.rule.as_str() == "access-removed")
            .unwrap()
            .description
    };
    assert_eq!(
        get("narrowed-restriction-added"),
        "`patient/Observation.rs` narrowed to `patient/Observation.rs?category=laboratory`: now limited to `category=laboratory`"
    );
    assert_eq!(
        get("narrowed-letters-removed"),
        "`patient/Observation.cruds` narrowed to `patient/Observation.rs` (removed: `patient/Observation.cud`)"
    );
    assert_eq!(
        get("narrowed-wildcard-replaced"),
        "`patient/*.rs` narrowed to `patient/Condition.rs`, `patient/Observation.rs`: now limited to the types `Condition`, `Observation`"
    );
    assert_eq!(
        get("narrowed-level"),
        "`user/Observation.rs` narrowed to `patient/Observation.rs`: now limited to the `patient/` level"
    );
}

/// FHIR token search (<https://hl7.org/fhir/R4/search.html#token>): `[code]` matches
/// the code in any system, `[system]|[code]` only in that system, `|[code]` only with
/// no system; modifiers (<https://hl7.org/fhir/R4/search.html#modifiers>) are never
/// read as narrower than the plain parameter. Each pair, in the direction it names.
#[test]
fn token_semantics_pairs_change_in_the_direction_fhir_search_gives() {
    use scopegate::report::Direction;
    let cases = cases();
    // (pair, an escalation expected, a reduction expected)
    let expected = [
        // `code` → `system|code`: a narrowing only (the reverse of `token-system-dropped`).
        ("narrowed-token-system-qualified", false, true),
        ("token-system-dropped", true, false),
        // `code` → `|code`: a narrowing only; `|code` → `code`: a widening only.
        ("narrowed-token-no-system", false, true),
        ("token-no-system-widened", true, false),
        // `|code` and `system|code` are disjoint: both directions change.
        ("token-no-system-qualified", true, true),
        // A modifier is its own parameter: nothing is proven narrower or wider.
        ("token-modifier-not", true, true),
        ("token-modifier-in", true, true),
    ];
    for (name, esc, red) in expected {
        let (_, base, head) = cases
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no fixture pair `{name}`"));
        let changes = diff(Some(base), head.as_ref().unwrap(), Options::default());
        let has = |d: Direction| changes.iter().any(|c| c.direction == d);
        assert_eq!(has(Direction::Escalation), esc, "{name}: {changes:#?}");
        assert_eq!(has(Direction::Reduction), red, "{name}: {changes:#?}");
        assert!(
            changes
                .iter()
                .all(|c| c.rule != scopegate::rules::RuleId::ReadAccessAdded || esc),
            "{name}: {changes:#?}"
        );
        // The reverse of a pure narrowing is an escalation, and of a widening a reduction.
        let back = diff(Some(head.as_ref().unwrap()), base, Options::default());
        let back_has = |d: Direction| back.iter().any(|c| c.direction == d);
        assert_eq!(
            back_has(Direction::Escalation),
            red,
            "{name} reversed: {back:#?}"
        );
        assert_eq!(
            back_has(Direction::Reduction),
            esc,
            "{name} reversed: {back:#?}"
        );
    }
}

/// A head scope widens a base scope only when, on the letters they share, it grants all
/// of it: a code added beside another (`sibling-code-added`) grants other data, and is
/// reported as added, with no `before`. Dropping the restriction does widen it.
#[test]
fn a_sibling_code_is_added_not_a_widening_of_the_codes_beside_it() {
    let cases = cases();
    let pair = |name: &str| {
        let (_, base, head) = cases
            .iter()
            .find(|(n, _, _)| n == name)
            .unwrap_or_else(|| panic!("no fixture pair `{name}`"));
        diff(Some(base), head.as_ref().unwrap(), Options::default())
    };
    let added: Vec<_> = pair("sibling-code-added")
        .into_iter()
        .filter(|c| c.direction == scopegate::report::Direction::Escalation)
        .collect();
    assert_eq!(added.len(), 1, "{added:#?}");
    let c = &added[0];
    assert_eq!(c.scope, "patient/Observation.rs?category=vital-signs");
    assert_eq!(c.rule.as_str(), "read-access-added");
    assert!(c.before.is_empty(), "{c:#?}");
    assert_eq!(
        c.description,
        "`patient/Observation.rs?category=vital-signs` added"
    );
    // The other way, the code removed is removed: the code beside it keeps none of it.
    let (_, base, head) = cases
        .iter()
        .find(|(n, _, _)| n == "sibling-code-added")
        .unwrap();
    let back = diff(Some(head.as_ref().unwrap()), base, Options::default());
    let removed: Vec<&str> = back
        .iter()
        .filter(|c| c.direction == scopegate::report::Direction::Reduction)
        .map(|c| c.description.as_str())
        .collect();
    assert_eq!(
        removed,
        ["`patient/Observation.rs?category=vital-signs` removed"]
    );
    // The control: the restriction dropped is a widening of the restricted scope.
    let loosened = pair("restriction-loosened");
    assert!(
        loosened
            .iter()
            .any(|c| c.before.iter().any(|b| b.contains('?'))
                && c.description.contains("widened to")),
        "{loosened:#?}"
    );
}
