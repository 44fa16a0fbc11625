//! Unit tests for classification; the fixture pairs in tests/ cover every rule.

use super::*;

fn s(t: &str) -> Scope {
    Scope::parse(t).unwrap()
}

fn rules(p: &str, base: &[&str]) -> Vec<&'static str> {
    let base: Vec<Scope> = base.iter().map(|t| s(t)).collect();
    classify(&s(p), &BaseScopes::new(&base), Options::default())
        .into_iter()
        .map(RuleId::as_str)
        .collect()
}

#[test]
fn the_most_telling_rule_comes_first() {
    assert_eq!(
        rules("user/*.cruds", &["patient/Observation.rs"]),
        [
            "wildcard-type-added",
            "level-widened",
            "delete-access-added",
            "write-access-added"
        ]
    );
    assert_eq!(
        rules("patient/Condition.c", &[]),
        ["write-access-added", "resource-access-added"]
    );
}

#[test]
fn a_dropped_restriction_is_loosened_not_new_type() {
    assert_eq!(
        rules(
            "patient/Observation.rs",
            &["patient/Observation.rs?category=laboratory"]
        ),
        ["restriction-loosened"]
    );
}

#[test]
fn new_search_on_a_known_type_is_read_access() {
    assert_eq!(
        rules("patient/Observation.s", &["patient/Observation.r"]),
        ["read-access-added"]
    );
}

#[test]
fn configured_user_over_patient_is_not_a_level_change_for_patient() {
    let o = Options {
        user_covers_patient: true,
    };
    let base = vec![s("user/Observation.rs")];
    assert_eq!(
        classify(&s("patient/Condition.rs"), &BaseScopes::new(&base), o),
        [RuleId::ResourceAccessAdded]
    );
}

#[test]
fn duplicate_scopes_with_different_rationales_are_not_a_change() {
    // Regression (found by the manifest_load fuzz target): a scope listed twice with two
    // rationales made diff(m, m) report `rationale-changed`.
    let t = "id: a\nscopes:\n  - scope: launch/patient\n    rationale: pick a patient\n  - scope: launch/patient\n    rationale: pick a patient, again\nworkflows: []\n";
    let m = crate::manifest::from_str("m", t).unwrap();
    assert!(diff(Some(&m), &m, Options::default()).is_empty());
}

/// A manifest of `n` `patient/Observation.rs?category=<prefix>N` scopes, each needed by
/// a workflow of its own.
fn codes(prefix: char, n: usize) -> crate::manifest::Manifest {
    restricted_by(n, &|i| format!("category={prefix}{i}"))
}

/// `n` scopes on one type, the `i`th restricted by `query(i)`, each needed by a
/// workflow of its own.
pub(crate) fn restricted_by(
    n: usize,
    query: &dyn Fn(usize) -> String,
) -> crate::manifest::Manifest {
    let mut t =
        String::from("id: a\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: r\n");
    for i in 0..n {
        t.push_str(&format!(
            "  - scope: patient/Observation.rs?{}\n    rationale: r\n",
            query(i)
        ));
    }
    t.push_str("workflows:\n");
    for i in 0..n {
        t.push_str(&format!(
            "  - id: w{i}\n    description: d\n    needs: [patient/Observation.rs?{}]\n",
            query(i)
        ));
    }
    crate::manifest::from_str("m.yaml", &t).unwrap()
}

/// The US Core shape: every scope restricted by the same category and a code of its
/// own (`?category=laboratory&code=http://loinc.org|dN`).
pub(crate) fn lab_codes(prefix: char, n: usize) -> crate::manifest::Manifest {
    restricted_by(n, &|i| {
        format!("category=laboratory&code=http://loinc.org|{prefix}{i}")
    })
}

// Regression (issue 15 §1): the restriction index keyed each scope by its first clause,
// which US Core scopes share (`category=laboratory`): every question named every scope,
// and 4,000 codes replaced by 4,000 others took 10.5 s to diff (68 ms now).
#[test]
fn lab_codes_replaced_by_others_are_diffed_in_time_linear_in_their_number() {
    let run = |n| {
        let (base, head) = (lab_codes('c', n), lab_codes('d', n));
        crate::scaling::timed(|| diff(Some(&base), &head, Options::default()))
    };
    let (small, small_t) = run(300);
    let (big, big_t) = run(3_000);
    let count = |cs: &[Change], d: Direction| cs.iter().filter(|c| c.direction == d).count();
    for (cs, n) in [(&small, 300), (&big, 3_000)] {
        assert_eq!(count(cs, Direction::Escalation), n);
        assert_eq!(count(cs, Direction::Reduction), n);
    }
    // One code of the head, against the same code with no system at the base: that
    // base scope covers it (a narrowing, not an addition), found through the index.
    let base = restricted_by(300, &|i| format!("category=laboratory&code=c{i}"));
    let narrowed = diff(Some(&base), &lab_codes('c', 300), Options::default());
    assert_eq!(count(&narrowed, Direction::Escalation), 0, "{narrowed:#?}");
    assert_eq!(count(&narrowed, Direction::Reduction), 300);
    crate::scaling::assert_near_linear("diff lab codes", small_t, big_t);
}

/// The diff of `n` codes all replaced by `n` others, and the best of three runs' time.
fn replaced(n: usize) -> (Vec<Change>, std::time::Duration) {
    let (base, head) = (codes('c', n), codes('d', n));
    crate::scaling::timed(|| diff(Some(&base), &head, Options::default()))
}

// Regression (issue 15 §1): 2,000 codes replaced by 2,000 others took 37 s and wrote a
// 593 MB report. Each new code was compared with every old one, and named all of them
// as widened; each removed code was "narrowed to" all the new ones.
#[test]
fn codes_replaced_by_others_are_each_added_or_removed_in_time_linear_in_their_number() {
    let (small, small_t) = replaced(300);
    let (big, big_t) = replaced(3_000);
    let count = |cs: &[Change], d: Direction| cs.iter().filter(|c| c.direction == d).count();
    assert_eq!(count(&big, Direction::Escalation), 3_000);
    assert_eq!(count(&big, Direction::Reduction), 3_000);
    assert_eq!(count(&small, Direction::Escalation), 300);
    for c in big.iter().filter(|c| c.direction != Direction::Workflow) {
        // A sibling code is neither widened nor kept: each change names one scope.
        assert!(c.before.len() <= 1, "{c:#?}");
        assert!(
            c.description.ends_with(" added") || c.description.ends_with(" removed"),
            "{}",
            c.description
        );
    }
    // Ten times the codes: linear is about 10x, quadratic 100x. The bound leaves room
    // for a loaded machine.
    crate::scaling::assert_near_linear("diff", small_t, big_t);
}

/// A large diff is made in three parts on threads: its changes are the parts made one
/// after the other, in the same order (escalations, reductions, workflow changes),
/// with an app id change first. The control is small enough to stay on one thread.
#[test]
fn a_diff_made_on_threads_is_its_parts_in_order() {
    let in_order = |base: &crate::manifest::Manifest, head: &crate::manifest::Manifest| {
        let opts = Options::default();
        let b: Vec<Scope> = base.requested().cloned().collect();
        let h: Vec<Scope> = head.requested().cloned().collect();
        let mut all = Vec::new();
        if base.id.value != head.id.value {
            all.push(super::id_changed(&base.id.value, head));
        }
        all.extend(super::escalations(head, &b, &h, opts));
        all.extend(super::reductions(head, &b, &h, opts));
        all.extend(super::workflow_changes(Some(base), head, opts));
        all
    };
    // 150 + 150 scopes and workflows each: 600, past the threads' threshold.
    let (base, mut head) = (codes('c', 150), codes('d', 150));
    const { assert!(4 * 150 >= super::DIFF_ON_THREADS_FROM) };
    let threaded = diff(Some(&base), &head, Options::default());
    assert_eq!(threaded, in_order(&base, &head));
    let dirs: Vec<Direction> = threaded.iter().map(|c| c.direction).collect();
    assert!(dirs.is_sorted_by_key(|d| match d {
        Direction::Escalation => 0,
        Direction::Reduction => 1,
        Direction::Workflow => 2,
    }));
    head.id.value = "renamed".into();
    let renamed = diff(Some(&base), &head, Options::default());
    assert_eq!(renamed[0].rule, RuleId::AppIdChanged);
    assert_eq!(renamed, in_order(&base, &head));
    let (small_base, small_head) = (codes('c', 5), codes('d', 5));
    assert_eq!(
        diff(Some(&small_base), &small_head, Options::default()),
        in_order(&small_base, &small_head)
    );
}

fn manifest_of(scopes: &[&str]) -> crate::manifest::Manifest {
    let mut t = String::from("id: app\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n");
    for sc in scopes {
        t.push_str(&format!("  - scope: \"{sc}\"\n    rationale: r\n"));
    }
    t.push_str("workflows:\n  - id: w\n    description: d\n    needs: [launch]\n");
    crate::manifest::from_str("m.yaml", &t).unwrap()
}

/// A wider type at a narrower level widens none of the broader level's scopes: base
/// `user/Practitioner.rs` (kept) and `patient/Patient.rs`, head `patient/*.rs`: only the
/// patient scope is named as widened. A broader level still names the narrower one.
#[test]
fn a_narrower_level_widens_no_scope_of_a_broader_one() {
    let base = manifest_of(&["launch", "user/Practitioner.rs", "patient/Patient.rs"]);
    let head = manifest_of(&["launch", "user/Practitioner.rs", "patient/*.rs"]);
    let changes = diff(Some(&base), &head, Options::default());
    let esc: Vec<&Change> = changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    assert_eq!(esc.len(), 1, "{changes:#?}");
    assert_eq!(esc[0].before, ["patient/Patient.rs"], "{:#?}", esc[0]);
    // Control: patient -> user is a widening of the patient scope.
    let base = manifest_of(&["launch", "patient/Observation.rs"]);
    let head = manifest_of(&["launch", "user/Observation.rs"]);
    let changes = diff(Some(&base), &head, Options::default());
    let esc: Vec<&Change> = changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    assert_eq!(esc[0].before, ["patient/Observation.rs"], "{:#?}", esc[0]);
}
