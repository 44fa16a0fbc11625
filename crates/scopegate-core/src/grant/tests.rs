//! Unit tests for the algebra (citing the IG) and property tests for its laws.

use proptest::prelude::*;

use super::*;

fn p(t: &str) -> Scope {
    Scope::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"))
}

fn set(s: &str) -> Vec<Scope> {
    s.split_whitespace().map(p).collect()
}

const D: Options = Options {
    user_covers_patient: false,
};

fn new_str(head: &str, base: &str) -> Vec<String> {
    new_access(&set(head), &set(base), D)
        .into_iter()
        .flat_map(|n| n.new)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn letters_grant_the_igs_interactions() {
    // SMART 2.x table: c=create; r=read, vread, history-instance; u=update, patch;
    // d=delete; s=search-type, search-system, history-type, history-system.
    assert_eq!(interactions(Letter::C), ["create"]);
    assert_eq!(
        interactions(Letter::R),
        ["read", "vread", "history-instance"]
    );
    assert_eq!(interactions(Letter::U), ["update", "patch"]);
    assert_eq!(interactions(Letter::D), ["delete"]);
    assert_eq!(
        interactions(Letter::S),
        [
            "search-type",
            "search-system",
            "history-type",
            "history-system"
        ]
    );
}

#[test]
fn wildcard_type_covers_every_named_type_but_not_the_reverse() {
    // SMART 2.x: `*` is all types "both now and in the future".
    assert!(covers(&p("patient/*.rs"), &p("patient/Observation.rs"), D));
    assert!(!covers(&p("patient/Observation.rs"), &p("patient/*.rs"), D));
}

#[test]
fn write_does_not_imply_read() {
    // SMART 1.0: "Write access does not imply read access".
    assert!(!covers(
        &p("patient/Observation.write"),
        &p("patient/Observation.r"),
        D
    ));
    assert!(covers(
        &p("patient/Observation.*"),
        &p("patient/Observation.read"),
        D
    ));
}

#[test]
fn levels_are_distinct_unless_configured() {
    // The IG states no containment between patient/, user/ and system/.
    assert!(!covers(
        &p("user/Observation.rs"),
        &p("patient/Observation.rs"),
        D
    ));
    assert!(!covers(&p("system/*.rs"), &p("user/Observation.rs"), D));
    let opts = Options {
        user_covers_patient: true,
    };
    assert!(covers(
        &p("user/Observation.rs"),
        &p("patient/Observation.rs"),
        opts
    ));
    assert!(!covers(
        &p("patient/Observation.rs"),
        &p("user/Observation.rs"),
        opts
    ));
    assert!(!covers(
        &p("system/Observation.rs"),
        &p("patient/Observation.rs"),
        opts
    ));
}

#[test]
fn a_restriction_narrows_and_removing_it_widens() {
    // SMART 2.x: `?category=…laboratory` means "laboratory observations but not others".
    let lab = p("patient/Observation.rs?category=laboratory");
    let all = p("patient/Observation.rs");
    assert!(covers(&all, &lab, D));
    assert!(!covers(&lab, &all, D));
    assert_eq!(
        new_str(
            "patient/Observation.rs",
            "patient/Observation.rs?category=laboratory"
        ),
        ["patient/Observation.rs"]
    );
}

#[test]
fn and_narrows_and_comma_widens() {
    // FHIR search: `&` is AND between parameters, a comma inside a value is OR.
    let a = p("patient/Observation.rs?category=laboratory");
    let ab = p("patient/Observation.rs?category=laboratory,vital-signs");
    let a_and = p("patient/Observation.rs?category=laboratory&status=final");
    assert!(covers(&ab, &a, D));
    assert!(!covers(&a, &ab, D));
    assert!(covers(&a, &a_and, D));
    assert!(!covers(&a_and, &a, D));
}

#[test]
fn two_restricted_scopes_union_to_their_or() {
    // "Scopes can be combined to represent a union of access" (SMART 2.1+).
    let base = set(
        "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs",
    );
    let s = ScopeSet::new(&base, D);
    assert!(s.grants(&p("patient/Observation.rs?category=laboratory,vital-signs")));
    assert!(!s.grants(&p("patient/Observation.rs?category=laboratory,survey")));
    assert_eq!(
        new_str(
            "patient/Observation.rs?category=laboratory,survey",
            "patient/Observation.rs?category=laboratory"
        ),
        ["patient/Observation.rs?category=survey"]
    );
}

#[test]
fn letters_union_across_scopes() {
    let scopes = set("patient/Observation.r patient/Observation.s");
    let s = ScopeSet::new(&scopes, D);
    assert!(s.grants(&p("patient/Observation.rs")));
    assert!(!s.grants(&p("patient/Observation.crs")));
}

#[test]
fn named_types_never_add_up_to_the_wildcard() {
    let scopes = set("patient/Observation.rs patient/Patient.rs");
    let s = ScopeSet::new(&scopes, D);
    assert!(!s.grants(&p("patient/*.rs")));
}

#[test]
fn new_access_names_the_widening_in_whole_scopes() {
    let n = new_access(&set("patient/*.rs"), &set("patient/Observation.rs"), D);
    assert_eq!(n.len(), 1);
    assert_eq!(
        n[0].describe(),
        "`patient/Observation.rs` widened to `patient/*.rs` (new: `patient/*.rs`)"
    );
    assert_eq!(
        new_str("patient/Observation.crus", "patient/Observation.read"),
        ["patient/Observation.cu"]
    );
    assert_eq!(
        new_str("offline_access openid", "openid"),
        ["offline_access"]
    );
    assert_eq!(
        new_str("user/Observation.rs", "patient/Observation.rs"),
        ["user/Observation.rs"]
    );
}

#[test]
fn rewording_is_not_new_access() {
    assert!(new_str("patient/Observation.rs", "patient/Observation.read").is_empty());
    assert!(
        new_str(
            "patient/Observation.r patient/Observation.s",
            "patient/Observation.read"
        )
        .is_empty()
    );
    assert!(new_str("user/*.cruds", "user/*.*").is_empty());
    assert!(new_str("launch openid launch", "openid launch").is_empty());
}

#[test]
fn non_resource_scopes_are_atomic() {
    assert!(!covers(&p("launch"), &p("launch/patient"), D));
    assert!(!covers(&p("openid"), &p("fhirUser"), D));
    assert!(!covers(&p("offline_access"), &p("online_access"), D));
    assert!(!covers(&p("user/*.cruds"), &p("__custom"), D));
}

#[test]
fn minimize_merges_letters_and_drops_covered_scopes() {
    let m = minimize(
        &set(
            "patient/Observation.r patient/Observation.s patient/Observation.rs?category=laboratory launch openid launch",
        ),
        D,
    );
    let m: Vec<String> = m.iter().map(ToString::to_string).collect();
    assert_eq!(m, ["launch", "openid", "patient/Observation.rs"]);
    let m = minimize(
        &set(
            "patient/Observation.rs?category=laboratory patient/Observation.rs?category=vital-signs",
        ),
        D,
    );
    assert_eq!(
        m[0].to_string(),
        "patient/Observation.rs?category=laboratory,vital-signs"
    );
}

// ---- property tests: the laws in docs/design.md §3 ----

fn arb_resource_token() -> impl Strategy<Value = String> {
    let level = prop_oneof![Just("patient"), Just("user"), Just("system")];
    let ty = prop_oneof![
        Just("*"),
        Just("Observation"),
        Just("Patient"),
        Just("Condition")
    ];
    let perms = prop_oneof![
        Just("read".to_string()),
        Just("write".to_string()),
        Just("*".to_string()),
        (1u8..32).prop_map(|bits| Perms::from_letters(
            Letter::ALL
                .into_iter()
                .filter(|l| bits & (1 << *l as u8) != 0)
        )
        .to_string()),
    ];
    let clause = arb_clause();
    // Result parameters ride along: they must restrict nothing, so every law below
    // holds with them too.
    let clause = prop_oneof![4 => clause, 1 => arb_result_clause()];
    let query = proptest::collection::vec(clause, 0..3).prop_map(one_clause_per_parameter);
    (level, ty, perms, query).prop_map(|(l, t, p, q)| {
        let v1 = matches!(p.as_str(), "read" | "write" | "*");
        if q.is_empty() || v1 {
            format!("{l}/{t}.{p}")
        } else {
            format!("{l}/{t}.{p}?{}", q.join("&"))
        }
    })
}

/// A restriction clause: token parameters (plain and modified) with codes in any
/// system (`a`), in one (`s|a`), in none (`|a`), and whole systems (`s|`).
fn arb_clause() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            4 => Just("category"),
            2 => Just("status"),
            1 => Just("category:not"),
            1 => Just("category:in"),
            1 => Just("note"),
        ],
        proptest::collection::btree_set(
            prop_oneof![
                Just("a"),
                Just("b"),
                Just("c"),
                Just("s|a"),
                Just("t|a"),
                Just("s|b"),
                Just("|a"),
                Just("s|"),
            ],
            1..3,
        ),
    )
        .prop_map(|(p, vs)| format!("{p}={}", vs.into_iter().collect::<Vec<_>>().join(",")))
}

/// `p=v` clauses, the first of each parameter's kept: a parameter repeated with other
/// values does not parse (`scope::tests::a_parameter_repeated_with_different_values…`).
pub(crate) fn one_clause_per_parameter(clauses: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    clauses
        .into_iter()
        .filter(|c| {
            let p = c.split_once('=').map_or(c.as_str(), |(p, _)| p);
            crate::scope::is_result_parameter(p) || seen.insert(p.to_string())
        })
        .collect()
}

/// A restriction as a scope parses it.
fn arb_restriction() -> impl Strategy<Value = crate::scope::Restriction> {
    proptest::collection::vec(arb_clause(), 0..3).prop_map(|q| {
        let q = one_clause_per_parameter(q);
        let t = if q.is_empty() {
            "patient/Observation.rs".to_string()
        } else {
            format!("patient/Observation.rs?{}", q.join("&"))
        };
        match Scope::parse(&t) {
            Ok(Scope::Resource(r)) => r.restriction,
            other => panic!("{t}: {other:?}"),
        }
    })
}

/// A FHIR search result parameter with a value, e.g. `_include=Observation:subject`.
fn arb_result_clause() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(&crate::scope::RESULT_PARAMETERS[..]),
        prop_oneof![Just(""), Just(":iterate")],
        prop_oneof![
            Just("Observation:subject"),
            Just("10"),
            Just("true"),
            Just("-date")
        ],
    )
        .prop_map(|(p, m, v)| format!("{p}{m}={v}"))
}

/// Tokens that are not valid SMART scopes: each is opaque access of its own.
fn arb_invalid_token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("patient/*.sr".to_string()),
        Just("Patient/*.read".to_string()),
        Just("patient/*.cruds?".to_string()),
        Just("patient/Observation.rs?category".to_string()),
        Just("patient/Obs\u{e9}rvation.rs".to_string()),
        Just("\"user/*.cruds\"".to_string()),
        Just("patient/Observation.rs\u{0}".to_string()),
    ]
}

/// A token as a manifest entry counts it: its scope, or opaque access.
fn pa(t: &str) -> Scope {
    Scope::parse(t).unwrap_or_else(|_| Scope::Invalid(t.to_string()))
}

/// Any token a manifest may hold, valid or not (the algebra's laws hold for both).
fn arb_any_token() -> impl Strategy<Value = String> {
    prop_oneof![8 => arb_token(), 1 => arb_invalid_token()]
}

pub(crate) fn arb_token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => arb_resource_token(),
        1 => prop_oneof![
            Just("launch".to_string()),
            Just("launch/patient".to_string()),
            Just("openid".to_string()),
            Just("fhirUser".to_string()),
            Just("offline_access".to_string()),
            Just("__ext".to_string()),
        ],
    ]
}

pub(crate) fn arb_opts() -> impl Strategy<Value = Options> {
    any::<bool>().prop_map(|user_covers_patient| Options {
        user_covers_patient,
    })
}

/// A rewording of a token: v2 letters split into one scope per letter.
fn split_letters(s: &Scope) -> Vec<Scope> {
    match s {
        Scope::Resource(r) => r
            .perms
            .letters()
            .map(|l| {
                Scope::Resource(ResourceScope {
                    perms: Perms::from_letters([l]),
                    ..r.clone()
                })
            })
            .collect(),
        other => vec![other.clone()],
    }
}

proptest! {
    #[test]
    fn covers_is_reflexive(t in arb_any_token(), o in arb_opts()) {
        let s = pa(&t);
        prop_assert!(covers(&s, &s, o));
    }

    #[test]
    fn covers_is_transitive(a in arb_any_token(), b in arb_any_token(), c in arb_any_token(), o in arb_opts()) {
        let (a, b, c) = (pa(&a), pa(&b), pa(&c));
        if covers(&a, &b, o) && covers(&b, &c, o) {
            prop_assert!(covers(&a, &c, o));
        }
    }

    #[test]
    fn covers_is_antisymmetric_up_to_equivalence(a in arb_any_token(), b in arb_any_token()) {
        let (a, b) = (pa(&a), pa(&b));
        if covers(&a, &b, D) && covers(&b, &a, D) {
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn new_access_of_a_set_against_itself_is_empty(ts in proptest::collection::vec(arb_any_token(), 0..8), o in arb_opts()) {
        let s: Vec<Scope> = ts.iter().map(|t| pa(t)).collect();
        prop_assert!(new_access(&s, &s, o).is_empty());
    }

    #[test]
    fn rewording_is_never_new_access(ts in proptest::collection::vec(arb_any_token(), 0..8), o in arb_opts()) {
        let s: Vec<Scope> = ts.iter().map(|t| pa(t)).collect();
        // Reword: canonical v2 spelling, letters split, order reversed, duplicated.
        let mut reworded: Vec<Scope> = s.iter().flat_map(split_letters).map(|x| Scope::parse_shown(&x.to_string()).unwrap()).collect();
        reworded.reverse();
        reworded.extend(reworded.clone());
        prop_assert!(new_access(&reworded, &s, o).is_empty());
        prop_assert!(new_access(&s, &reworded, o).is_empty());
    }

    #[test]
    fn a_union_never_loses_access(a in proptest::collection::vec(arb_any_token(), 0..6), b in proptest::collection::vec(arb_any_token(), 0..6), o in arb_opts()) {
        let a: Vec<Scope> = a.iter().map(|t| pa(t)).collect();
        let b: Vec<Scope> = b.iter().map(|t| pa(t)).collect();
        let union: Vec<Scope> = a.iter().chain(&b).cloned().collect();
        prop_assert!(new_access(&a, &union, o).is_empty());
        prop_assert!(new_access(&b, &union, o).is_empty());
    }

    #[test]
    fn set_grants_agree_with_single_covers(a in arb_any_token(), b in arb_any_token(), o in arb_opts()) {
        let (a, b) = (pa(&a), pa(&b));
        if covers(&a, &b, o) {
            prop_assert!(ScopeSet::new([&a], o).grants(&b));
        }
    }

    #[test]
    fn new_access_is_exactly_what_base_lacks(h in proptest::collection::vec(arb_any_token(), 0..6), b in proptest::collection::vec(arb_any_token(), 0..6), o in arb_opts()) {
        let h: Vec<Scope> = h.iter().map(|t| pa(t)).collect();
        let b: Vec<Scope> = b.iter().map(|t| pa(t)).collect();
        let base = ScopeSet::new(&b, o);
        let news = new_access(&h, &b, o);
        for s in &h {
            let listed = news.iter().any(|n| &n.scope == s);
            prop_assert_eq!(listed, !base.grants(s));
        }
        // Base plus the new parts grants all of head.
        let mut extended = b.clone();
        extended.extend(news.iter().flat_map(|n| n.new.clone()));
        prop_assert!(new_access(&h, &extended, o).is_empty());
    }

    #[test]
    fn minimize_is_equivalent(ts in proptest::collection::vec(arb_any_token(), 0..10), o in arb_opts()) {
        let s: Vec<Scope> = ts.iter().map(|t| pa(t)).collect();
        let m = minimize(&s, o);
        prop_assert!(new_access(&s, &m, o).is_empty());
        prop_assert!(new_access(&m, &s, o).is_empty());
        prop_assert!(m.len() <= s.len());
    }

    #[test]
    fn a_result_parameter_restricts_nothing(t in arb_resource_token(), rp in arb_result_clause()) {
        let s = pa(&t);
        prop_assume!(!crate::scope::is_v1_syntax(&t));
        let sep = if t.contains('?') { '&' } else { '?' };
        let with = pa(&format!("{t}{sep}{rp}"));
        prop_assert_eq!(&with, &s);
    }

    #[test]
    fn adding_result_parameters_never_hides_a_widening(h in proptest::collection::vec(arb_resource_token(), 0..5), b in proptest::collection::vec(arb_any_token(), 0..5), rp in arb_result_clause(), o in arb_opts()) {
        let plain: Vec<Scope> = h.iter().map(|t| pa(t)).collect();
        let decorated: Vec<Scope> = h
            .iter()
            .map(|t| {
                if crate::scope::is_v1_syntax(t) {
                    pa(t)
                } else {
                    let sep = if t.contains('?') { '&' } else { '?' };
                    pa(&format!("{t}{sep}{rp}"))
                }
            })
            .collect();
        let base: Vec<Scope> = b.iter().map(|t| pa(t)).collect();
        prop_assert_eq!(new_access(&decorated, &base, o), new_access(&plain, &base, o));
    }

    #[test]
    fn an_opaque_token_is_covered_only_by_itself(t in arb_invalid_token(), b in proptest::collection::vec(arb_any_token(), 0..6), o in arb_opts()) {
        let x = pa(&t);
        let base: Vec<Scope> = b.iter().map(|t| pa(t)).collect();
        let granted = ScopeSet::new(&base, o).grants(&x);
        prop_assert_eq!(granted, base.contains(&x));
        prop_assert_eq!(new_access(std::slice::from_ref(&x), &base, o).is_empty(), granted);
    }

    #[test]
    fn every_piece_of_any_text_counts_and_round_trips(t in "\\PC{0,40}") {
        let pieces = Scope::access_of(&t);
        prop_assert_eq!(pieces.is_empty(), t.trim().is_empty());
        for s in &pieces {
            prop_assert_eq!(Scope::parse_shown(&s.to_string()), Ok(s.clone()));
        }
    }

    #[test]
    fn parse_never_panics(t in "\\PC{0,40}") {
        let _ = Scope::parse(&t);
    }

    #[test]
    fn display_of_a_parsed_token_parses_to_the_same_scope(t in arb_any_token()) {
        let s = pa(&t);
        prop_assert_eq!(Scope::parse_shown(&s.to_string()), Ok(s));
    }
}

proptest! {
    /// The restriction index never loses a candidate: every restriction that covers
    /// `r` (is covered by `r`) is among `may_cover` (`may_be_covered_by`). Made at once,
    /// pushed one by one (its tables made once it is long enough), or made from the
    /// first `k` and pushed the rest, it answers the same.
    #[test]
    fn the_restriction_index_is_complete(list in proptest::collection::vec(arb_restriction(), 16..48), r in arb_restriction(), k in 0usize..48) {
        let mut ix = RestrictionIndex::default();
        for x in &list {
            ix.push(x);
        }
        let whole = RestrictionIndex::of(&list);
        let mut part = RestrictionIndex::of(&list[..k.min(list.len())]);
        for x in &list[k.min(list.len())..] {
            part.push(x);
        }
        for other in [&whole, &part] {
            prop_assert_eq!(other.may_cover(&r), ix.may_cover(&r));
            prop_assert_eq!(other.may_be_covered_by(&r), ix.may_be_covered_by(&r));
            prop_assert_eq!(other.may_cover_part(&r), ix.may_cover_part(&r));
        }
        let all: Vec<usize> = (0..list.len()).collect();
        let cover = ix.may_cover(&r).unwrap_or_else(|| all.clone());
        let covered = ix.may_be_covered_by(&r).unwrap_or_else(|| all.clone());
        for (i, x) in list.iter().enumerate() {
            if x.covers(&r) {
                prop_assert!(cover.contains(&i), "{x} covers {r}, not a candidate");
            }
            if r.covers(x) {
                prop_assert!(covered.contains(&i), "{r} covers {x}, not a candidate");
            }
        }
    }

    /// A set of many scopes on one type (indexed) answers as a scan of them would.
    #[test]
    fn an_indexed_set_answers_as_a_scan(ts in proptest::collection::vec(arb_resource_token(), 16..48), b in arb_resource_token(), o in arb_opts()) {
        let s: Vec<Scope> = ts.iter().map(|t| pa(t)).collect();
        let b = pa(&b);
        let set = ScopeSet::new(&s, o);
        if let Scope::Resource(br) = &b {
            let found: BTreeSet<ResourceScope> = set.covering(br).collect();
            let scanned: BTreeSet<ResourceScope> = s
                .iter()
                .filter_map(Scope::as_resource)
                .filter(|x| resource_covers(x, br, o))
                .cloned()
                .collect();
            prop_assert_eq!(found, scanned);
            if s.iter().any(|x| covers(x, &b, o)) {
                prop_assert!(set.grants(&b));
            }
        }
    }
}

proptest! {
    /// The scope index never loses a candidate: every scope that covers `b` or that `b`
    /// covers is `related`, and every scope that serves part of `b` may `grant` it;
    /// made at once or pushed one by one.
    #[test]
    fn the_scope_index_is_complete(ts in proptest::collection::vec(arb_any_token(), 16..48), b in arb_any_token(), o in arb_opts()) {
        let s: Vec<Scope> = ts.iter().map(|t| pa(t)).collect();
        let b = pa(&b);
        let mut ix = ScopeIndex::default();
        for (i, x) in s.iter().enumerate() {
            ix.push(x, i);
        }
        let related = ix.related(&b);
        let grant = ix.may_grant(&b);
        // Made at once (its tables sized first), it answers as pushed one by one.
        let at_once = ScopeIndex::of(&s);
        prop_assert_eq!(&at_once.related(&b), &related);
        prop_assert_eq!(&at_once.may_grant(&b), &grant);
        for (i, x) in s.iter().enumerate() {
            if covers(x, &b, o) || covers(&b, x, o) {
                prop_assert!(related.contains(&i), "{x} / {b}");
            }
            if ScopeSet::new([x], o).grants(&b) || serves(x, &b, o) {
                prop_assert!(grant.contains(&i), "{x} grants some of {b}");
            }
        }
    }
}

/// `minimize` of `n` `patient/Observation.rs?category=cN` (and their `sys|cN` forms,
/// which the plain codes cover), and the best of three runs' time.
fn minimized_codes(n: usize) -> (Vec<Scope>, std::time::Duration) {
    let scopes: Vec<Scope> = (0..n)
        .flat_map(|i| {
            [
                format!("patient/Observation.rs?category=c{i}"),
                format!("patient/Observation.rs?category=sys|c{i}"),
            ]
        })
        .map(|t| Scope::parse(&t).unwrap())
        .collect();
    crate::scaling::timed(|| minimize(&scopes, D))
}

// Regression (issue 15 §1): merging codes into one OR remade the restriction per code,
// and each remaking compared every value with every other: cubic, 24 s for the lint's
// suggestion on one broad scope serving 2,000 coded needs.
#[test]
fn minimizing_thousands_of_codes_is_one_scope_in_time_near_linear_in_them() {
    let (small, small_t) = minimized_codes(300);
    let (big, big_t) = minimized_codes(3_000);
    for (n, out) in [(300, &small), (3_000, &big)] {
        let [Scope::Resource(r)] = out.as_slice() else {
            panic!("{out:?}")
        };
        let values: Vec<&Values> = r.restriction.clauses().map(|(_, v)| v).collect();
        // The system-qualified forms are covered by the plain codes: dropped.
        assert_eq!(values.len(), 1);
        assert_eq!(values[0].len(), n);
        assert!(values[0].iter().all(|v| !v.contains('|')));
    }
    crate::scaling::assert_near_linear("minimize", small_t, big_t);
}

proptest! {
    /// `Related::any` answers what a scan of every scope answers.
    #[test]
    fn related_answers_what_a_scan_answers(
        scopes in proptest::collection::vec(arb_token(), 0..30),
        t in arb_token(),
        o in arb_opts(),
    ) {
        let scopes: Vec<Scope> = scopes.iter().map(|x| pa(x)).collect();
        let q = pa(&t);
        let scan = scopes.iter().any(|p| covers(&q, p, o) || covers(p, &q, o));
        prop_assert_eq!(Related::new(&scopes, o).any(&q), scan);
    }
}
