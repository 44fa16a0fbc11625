//! Unit tests for the grammar, each citing the IG text it comes from.

use super::*;
use std::collections::BTreeSet;

fn p(t: &str) -> Scope {
    Scope::parse(t).unwrap_or_else(|e| panic!("{t}: {e}"))
}

fn err(t: &str) -> ScopeError {
    Scope::parse(t).expect_err(t)
}

#[test]
fn v1_read_is_processed_as_rs() {
    // SMART 2.x, Scope Equivalence: ".read ⇒ .rs", ".write ⇒ .cud", ".* ⇒ .cruds".
    assert_eq!(p("patient/Observation.read"), p("patient/Observation.rs"));
    assert_eq!(p("user/Encounter.write"), p("user/Encounter.cud"));
    assert_eq!(p("patient/Patient.*"), p("patient/Patient.cruds"));
    assert_eq!(p("patient/*.read").to_string(), "patient/*.rs");
}

#[test]
fn bulk_data_system_scopes_parse_in_v1_syntax() {
    // Bulk Data 1.0 authorization: `system/(:resourceType|*).(read|write|*)`.
    assert_eq!(p("system/*.read").to_string(), "system/*.rs");
    assert_eq!(p("system/Patient.write").to_string(), "system/Patient.cud");
    assert!(is_v1_syntax("system/*.read"));
    assert!(!is_v1_syntax("system/*.rs"));
}

#[test]
fn v2_letters_must_be_an_in_order_subset_of_cruds() {
    // SMART 2.x: "Valid suffixes are a subset of the in-order string .cruds" and
    // ".dus is not a defined scope request".
    let e = err("patient/Observation.sr");
    assert_eq!(e.kind, ScopeErrorKind::PermissionOrder);
    assert_eq!(e.suggestion.as_deref(), Some("patient/Observation.rs"));
    let e = err("patient/Observation.rrs");
    assert_eq!(e.kind, ScopeErrorKind::PermissionOrder);
    assert_eq!(e.suggestion.as_deref(), Some("patient/Observation.rs"));
    let e = err("user/Appointment.dus");
    assert_eq!(e.suggestion.as_deref(), Some("user/Appointment.uds"));
    assert!(
        e.to_string()
            .contains("did you mean `user/Appointment.uds`?")
    );
}

#[test]
fn empty_permissions_are_invalid() {
    // SMART 2.0's diagram needs at least one letter; peers all reject `.` alone.
    let e = err("patient/Observation.");
    assert_eq!(e.kind, ScopeErrorKind::Invalid);
    assert_eq!(e.suggestion.as_deref(), Some("patient/Observation.rs"));
    assert_eq!(
        err("patient/Observation").suggestion.as_deref(),
        Some("patient/Observation.rs")
    );
}

#[test]
fn unknown_permission_letters_are_invalid() {
    assert_eq!(err("patient/Observation.rw").kind, ScopeErrorKind::Invalid);
    assert_eq!(err("patient/Observation.all").kind, ScopeErrorKind::Invalid);
    assert_eq!(
        err("patient/Observation.READ").suggestion.as_deref(),
        Some("patient/Observation.read")
    );
}

#[test]
fn query_restrictions_parse_as_and_of_or() {
    // SMART 2.x finer-grained scopes: `?param=value` in FHIR REST search syntax.
    let s = p(
        "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
    );
    let r = &s.as_resource().unwrap().restriction;
    let clauses: Vec<_> = r.clauses().collect();
    assert_eq!(clauses.len(), 1);
    assert_eq!(clauses[0].0, "category");
    let s = p("patient/Observation.rs?category=vital-signs,laboratory&status=final");
    assert_eq!(
        s.to_string(),
        "patient/Observation.rs?category=laboratory,vital-signs&status=final"
    );
}

#[test]
fn malformed_restrictions_are_invalid() {
    // SMART 2.1+: `param=value ('&' param=value)*` — no bare `?`, no trailing `&`.
    for t in [
        "patient/Observation.rs?",
        "patient/Observation.rs?category",
        "patient/Observation.rs?category=",
        "patient/Observation.rs?category=a&",
        "patient/Observation.rs?category=a,,b",
        "patient/Observation.rs?=x",
    ] {
        assert_eq!(err(t).kind, ScopeErrorKind::Invalid, "{t}");
    }
}

#[test]
fn v1_permissions_with_a_query_are_invalid_and_suggest_v2() {
    // A restriction is in neither grammar with `.read`; the v2 form is the fix.
    let e = err("patient/Observation.read?category=laboratory");
    assert_eq!(
        e.suggestion.as_deref(),
        Some("patient/Observation.rs?category=laboratory")
    );
}

#[test]
fn levels_are_case_sensitive_and_closed() {
    // The IG stresses that `patient` (the level) differs from `Patient` (the type).
    let e = err("Patient/Observation.read");
    assert_eq!(e.suggestion.as_deref(), Some("patient/Observation.read"));
    assert_eq!(err("*/Observation.read").kind, ScopeErrorKind::Invalid);
    assert_eq!(
        err("practitioner/Observation.rs").kind,
        ScopeErrorKind::Invalid
    );
}

#[test]
fn resource_types_are_pascal_case() {
    let e = err("patient/observation.rs");
    assert_eq!(e.suggestion.as_deref(), Some("patient/Observation.rs"));
    assert_eq!(err("patient/.rs").kind, ScopeErrorKind::Invalid);
}

#[test]
fn non_resource_scopes_have_their_kinds() {
    assert_eq!(p("openid").kind(), Kind::Identity);
    assert_eq!(p("fhirUser").kind(), Kind::Identity);
    assert_eq!(p("profile").kind(), Kind::Identity);
    assert_eq!(p("launch").kind(), Kind::Launch);
    assert_eq!(p("launch/patient").kind(), Kind::Launch);
    assert_eq!(p("launch/encounter").kind(), Kind::Launch);
    assert_eq!(p("offline_access").kind(), Kind::Refresh);
    assert_eq!(p("online_access").kind(), Kind::Refresh);
}

#[test]
fn launch_context_types_are_lower_case_with_an_optional_role() {
    // SMART 2.x: "launch requests scopes are always lower case"; 2.2 adds `?role=`.
    assert_eq!(p("launch/imagingstudy").to_string(), "launch/imagingstudy");
    let s = p("launch/patient?role=http://example.org/roles/subject");
    assert_eq!(
        s.to_string(),
        "launch/patient?role=http://example.org/roles/subject"
    );
    assert_eq!(
        err("launch/Patient").suggestion.as_deref(),
        Some("launch/patient")
    );
    assert!(Scope::parse("launch/").is_err());
    assert!(Scope::parse("launch/patient?role=").is_err());
    assert!(Scope::parse("launch/patient?context=x").is_err());
}

#[test]
fn extension_scopes_are_opaque() {
    // SMART 2.x: "a full URI … or any string starting with `__`".
    assert_eq!(p("__profilePhoto.manage").kind(), Kind::Extension);
    assert_eq!(
        p("https://vendor.example/scopes/export").kind(),
        Kind::Extension
    );
    assert_eq!(p("urn:example:scope").kind(), Kind::Extension);
}

#[test]
fn uri_forms_of_smart_scopes_are_the_same_scope() {
    // Appendix: URI representation, prefix http://smarthealthit.org/fhir/scopes/.
    assert_eq!(
        p("http://smarthealthit.org/fhir/scopes/patient/*.r"),
        p("patient/*.r")
    );
    assert_eq!(
        p("http://openid.net/specs/openid-connect-core-1_0#openid"),
        p("openid")
    );
}

#[test]
fn miscased_known_tokens_are_invalid_not_unknown() {
    // RFC 6749 §3.3: scope tokens are case-sensitive.
    assert_eq!(err("OpenID").suggestion.as_deref(), Some("openid"));
    assert_eq!(err("fhiruser").suggestion.as_deref(), Some("fhirUser"));
    assert_eq!(
        err("Offline_Access").suggestion.as_deref(),
        Some("offline_access")
    );
}

#[test]
fn other_tokens_are_unknown() {
    assert_eq!(p("email").kind(), Kind::Unknown);
    assert_eq!(p("read:patients").kind(), Kind::Unknown);
}

#[test]
fn rfc6749_forbids_space_quote_and_backslash() {
    assert!(Scope::parse("a b").is_err());
    assert!(Scope::parse("a\"b").is_err());
    assert!(Scope::parse("a\\b").is_err());
    assert!(Scope::parse("").is_err());
    assert!(Scope::parse("é").is_err());
}

#[test]
fn display_round_trips_through_parse() {
    for t in [
        "patient/Observation.rs",
        "user/*.cruds",
        "system/Group.r",
        "patient/Condition.rs?category=problem-list-item",
        "launch/encounter",
        "openid",
        "__x",
    ] {
        let s = p(t);
        assert_eq!(p(&s.to_string()), s, "{t}");
    }
}

// ---- every token counts (issue 12 §4) ----

#[test]
fn an_entry_that_does_not_parse_still_counts_piece_by_piece() {
    // RFC 6749 §3.3: the scope value is a space-delimited list, so an entry holding a
    // space is several tokens to a server; each counts, valid ones as what they grant.
    assert_eq!(
        Scope::access_of("user/*.cruds system/*.cruds"),
        [p("user/*.cruds"), p("system/*.cruds")]
    );
    // A tab, a newline or a no-break space splits too: over-counting is the safe side.
    assert_eq!(
        Scope::access_of("user/*.cruds\tsystem/*.rs\u{a0}patient/*.sr"),
        [
            p("user/*.cruds"),
            p("system/*.rs"),
            Scope::Invalid("patient/*.sr".into())
        ]
    );
    // Near-misses are opaque access of their own, never nothing.
    for bad in [
        "patient/*.sr",
        "patient/*.cruds?",
        "Patient/*.read",
        "\"user/*.cruds\"",
        "patient/Obs\u{e9}rvation.rs",
        "patient/Observation.rs\u{200b}",
    ] {
        assert_eq!(Scope::access_of(bad), [Scope::Invalid(bad.into())], "{bad}");
    }
    // A valid token is itself; a blank entry sends no token.
    assert_eq!(Scope::access_of("patient/*.rs"), [p("patient/*.rs")]);
    assert!(Scope::access_of(" \t").is_empty());
}

#[test]
fn an_invalid_token_is_shown_quoted_with_every_hidden_character_visible() {
    let s = |t: &str| Scope::Invalid(t.into()).to_string();
    assert_eq!(s("patient/*.sr"), "\"patient/*.sr\"");
    assert_eq!(s("\"user/*.cruds\""), "\"\\\"user/*.cruds\\\"\"");
    assert_eq!(s("a\\b"), "\"a\\\\b\"");
    assert_eq!(
        s("patient/Obs\u{e9}rvation.rs"),
        "\"patient/Obs\\u{e9}rvation.rs\""
    );
    assert_eq!(s("x\u{200b}\u{1}"), "\"x\\u{200b}\\u{1}\"");
    // ... and reads back as the same opaque scope, so it can be approved by exact key.
    for raw in [
        "patient/*.sr",
        "\"q\"",
        "a\\b",
        "x\u{200b}\u{1}",
        "\u{1F600}",
    ] {
        let shown = Scope::Invalid(raw.into()).to_string();
        assert_eq!(Scope::parse_shown(&shown), Ok(Scope::Invalid(raw.into())));
    }
}

#[test]
fn a_shown_scope_is_a_valid_token_or_a_quoted_invalid_one_never_both() {
    assert_eq!(Scope::parse_shown("patient/*.rs"), Ok(p("patient/*.rs")));
    // Unquoted, an invalid token stays an error (a typo in a key must not approve).
    assert!(Scope::parse_shown("patient/*.sr").is_err());
    // Quoted, a valid token is refused: each access has one spelling.
    let e = Scope::parse_shown("\"patient/*.rs\"").unwrap_err();
    assert!(e.message.contains("valid scope"), "{e}");
    for bad in [
        "\"",
        "\"\"",
        "\"a",
        "\"a\"b\"",
        "\"\\x\"",
        "\"\\u{}\"",
        "\"\\u{110000}\"",
        "\"\\u{41\"",
    ] {
        assert!(Scope::parse_shown(bad).is_err(), "{bad}");
    }
}

// ---- search result parameters restrict nothing (issue 12 §5) ----

#[test]
fn search_result_parameters_are_not_restrictions() {
    // FHIR search page, "Search result parameters": _sort, _count, _include,
    // _revinclude, _summary, _total, _elements, _contained, _containedType (R4), plus
    // _graph, _maxresults, _score (R5); and _format, _pretty for every interaction
    // (http page). They shape what is returned, not which resources match.
    let plain = p("patient/Observation.rs?category=laboratory");
    for rp in [
        "_include=Observation:subject",
        "_include:iterate=Observation:subject",
        "_revinclude=Provenance:target",
        "_count=10",
        "_sort=-date",
        "_elements=id,code",
        "_elements:exclude=note",
        "_summary=true",
        "_total=accurate",
        "_contained=both",
        "_containedType=container",
        "_maxresults=5",
        "_graph=g",
        "_score=true",
        "_format=json",
        "_pretty=true",
    ] {
        let with = p(&format!("patient/Observation.rs?category=laboratory&{rp}"));
        assert_eq!(with, plain, "{rp}");
        assert_eq!(
            with.to_string(),
            "patient/Observation.rs?category=laboratory"
        );
        // Alone, it leaves the whole type.
        assert_eq!(
            p(&format!("patient/Observation.rs?{rp}")),
            p("patient/Observation.rs"),
            "{rp}"
        );
    }
    // Parameters that select resources still restrict.
    for filter in [
        "_id=1",
        "_lastUpdated=gt2020",
        "_tag=a|b",
        "_has=x",
        "_list=l",
        "code=1",
    ] {
        assert_ne!(
            p(&format!("patient/Observation.rs?{filter}")),
            p("patient/Observation.rs")
        );
    }
    // A result parameter is still checked like any clause.
    assert!(Scope::parse("patient/Observation.rs?_count=").is_err());
    assert!(Scope::parse("patient/Observation.rs?_include").is_err());
}

// ---- FHIR token semantics in restrictions ----

fn r(t: &str) -> Restriction {
    match p(t) {
        Scope::Resource(r) => r.restriction,
        other => panic!("{t}: {other:?}"),
    }
}

const CAT: &str = "http://terminology.hl7.org/CodeSystem/observation-category";

/// FHIR R4 search, token (<https://hl7.org/fhir/R4/search.html#token>): "[parameter]=[code]:
/// the value of [code] matches a Coding.code or Identifier.value irrespective of the value
/// of the system property", so the unqualified code covers the code in any one system.
#[test]
fn an_unqualified_code_covers_it_in_any_system() {
    let any = r("patient/Observation.rs?category=laboratory");
    let qualified = r(&format!("patient/Observation.rs?category={CAT}|laboratory"));
    assert!(any.covers(&qualified));
    assert!(
        !qualified.covers(&any),
        "a system-qualified code is narrower"
    );
    let other = r(&format!(
        "patient/Observation.rs?category={CAT}|vital-signs"
    ));
    assert!(!any.covers(&other), "another code is not covered");
}

/// FHIR R4 search, token: "[parameter]=|[code]: the value of [code] matches a Coding.code or
/// Identifier.value, and the Coding/Identifier has no system property". Distinct from both
/// other forms: covered by the unqualified code only.
#[test]
fn a_code_with_no_system_is_distinct_from_both_other_forms() {
    let any = r("patient/Observation.rs?category=laboratory");
    let none = r("patient/Observation.rs?category=|laboratory");
    let qualified = r(&format!("patient/Observation.rs?category={CAT}|laboratory"));
    assert!(any.covers(&none));
    assert!(!none.covers(&any));
    assert!(!none.covers(&qualified));
    assert!(!qualified.covers(&none));
}

/// FHIR R4 search, token: "[parameter]=[system]|: any element where the value of [system]
/// matches the system property of the Identifier or Coding".
#[test]
fn a_whole_system_covers_its_codes() {
    let system = r(&format!("patient/Observation.rs?category={CAT}|"));
    let qualified = r(&format!("patient/Observation.rs?category={CAT}|laboratory"));
    assert!(system.covers(&qualified));
    assert!(!qualified.covers(&system));
    assert!(!system.covers(&r("patient/Observation.rs?category=|laboratory")));
    assert!(!system.covers(&r("patient/Observation.rs?category=laboratory")));
}

/// The OR of a code and the same code in one system is the code: canonical forms of
/// restrictions that cover each other are equal (FHIR R4 search, token; "Composite
/// search parameters" and "Searching multiple values": `,` is OR).
#[test]
fn a_value_another_value_covers_is_dropped_from_an_or() {
    let both = r(&format!(
        "patient/Observation.rs?category=laboratory,{CAT}|laboratory"
    ));
    assert_eq!(both, r("patient/Observation.rs?category=laboratory"));
}

/// Token semantics apply to token parameters only: `name` is a `string` parameter, on
/// which `a|b` is a string (FHIR R4 search, string: a prefix match), not a code in a system.
#[test]
fn other_parameters_compare_values_as_strings() {
    let plain = r("patient/Patient.rs?name=b");
    assert!(!plain.covers(&r("patient/Patient.rs?name=a|b")));
}

/// FHIR R4 search, modifiers (<https://hl7.org/fhir/R4/search.html#modifiers>): `:not`,
/// `:text`, `:below`, `:above`, `:in`, `:missing` change what the values match. A modified
/// parameter is its own parameter: it covers, and is covered by, only an equal clause.
#[test]
fn a_modified_parameter_covers_only_itself() {
    let plain = r("patient/Observation.rs?category=laboratory");
    for m in ["not", "text", "below", "above", "in", "missing", "not-in"] {
        let modified = r(&format!("patient/Observation.rs?category:{m}=laboratory"));
        assert!(modified.covers(&modified), ":{m}");
        assert!(
            !plain.covers(&modified),
            ":{m} is not narrower than the plain parameter"
        );
        assert!(
            !modified.covers(&plain),
            ":{m} is not wider than the plain parameter"
        );
        // `code:not=a,b` is not the union of `code:not=a` and `code:not=b`.
        let two = r(&format!(
            "patient/Observation.rs?category:{m}=laboratory,survey"
        ));
        assert!(!two.covers(&modified), ":{m}");
        assert!(!modified.covers(&two), ":{m}");
        assert!(
            two.split_first_or().is_none(),
            ":{m} is not split into its values"
        );
        let system = r(&format!(
            "patient/Observation.rs?category:{m}={CAT}|laboratory"
        ));
        assert!(!modified.covers(&system), ":{m} has no token semantics");
    }
}

#[test]
fn permission_letters_in_upper_case_suggest_the_lower_case_ones() {
    assert_eq!(
        err("patient/Observation.RS").suggestion.as_deref(),
        Some("patient/Observation.rs")
    );
    assert_eq!(
        err("patient/Observation.SR").suggestion.as_deref(),
        Some("patient/Observation.rs")
    );
    // Letters outside `cruds` get no guess.
    assert_eq!(err("patient/Observation.RX").suggestion, None);
}

/// The restriction as the map of sets it was stored as before (parameter -> its clauses),
/// canonicalised the way that map was: the oracle for the vector that replaced it.
fn as_map(q: &str) -> std::collections::BTreeMap<String, BTreeSet<BTreeSet<String>>> {
    let mut map: std::collections::BTreeMap<String, BTreeSet<BTreeSet<String>>> =
        std::collections::BTreeMap::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (p, v) = part.split_once('=').unwrap();
        map.entry(p.to_string())
            .or_default()
            .insert(v.split(',').map(str::to_string).collect());
    }
    for (param, sets) in map.iter_mut() {
        if token_semantics(param) && sets.iter().any(|vs| vs.len() > 1) {
            *sets = std::mem::take(sets)
                .into_iter()
                .map(|vs| {
                    let all: Vec<String> = vs.iter().cloned().collect();
                    vs.into_iter()
                        .filter(|w| !all.iter().any(|v| v != w && value_covers(param, v, w)))
                        .collect()
                })
                .collect();
        }
        if sets.len() > 1 {
            let all: Vec<BTreeSet<String>> = sets.iter().cloned().collect();
            let values = |s: &BTreeSet<String>| s.iter().cloned().collect::<Values>();
            sets.retain(|v| {
                !all.iter()
                    .any(|w| w != v && clause_implies(param, &values(w), &values(v)))
            });
        }
    }
    map
}

fn query() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let clause = (
        prop_oneof![
            Just("category"),
            Just("status"),
            Just("category:not"),
            Just("note")
        ],
        proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just("b"),
                Just("s|a"),
                Just("t|a"),
                Just("|a"),
                Just("s|")
            ],
            1..3,
        ),
    )
        .prop_map(|(p, vs)| format!("{p}={}", vs.join(",")));
    proptest::collection::vec(clause, 0..4)
        .prop_map(|c| crate::grant::tests::one_clause_per_parameter(c).join("&"))
}

fn restriction_of(q: &str) -> Restriction {
    let t = if q.is_empty() {
        "patient/Observation.rs".to_string()
    } else {
        format!("patient/Observation.rs?{q}")
    };
    match Scope::parse(&t) {
        Ok(Scope::Resource(r)) => r.restriction,
        other => panic!("{t}: {other:?}"),
    }
}

proptest::proptest! {
    /// The clause vector keeps the canonical form, equality and order of the map of
    /// sets it replaced (scopes sort by it, so reports list them in the same order).
    #[test]
    fn clauses_keep_the_canonical_form_and_order_of_a_map_of_sets(a in query(), b in query()) {
        let (ra, rb) = (restriction_of(&a), restriction_of(&b));
        let (ma, mb) = (as_map(&a), as_map(&b));
        let flat = |m: &std::collections::BTreeMap<String, BTreeSet<BTreeSet<String>>>| {
            m.iter()
                .flat_map(|(p, sets)| sets.iter().map(move |v| (p.clone(), v.clone())))
                .collect::<Vec<_>>()
        };
        let clauses = |r: &Restriction| {
            r.clauses()
                .map(|(p, v)| (p.to_string(), v.iter().cloned().collect::<BTreeSet<_>>()))
                .collect::<Vec<_>>()
        };
        proptest::prop_assert_eq!(clauses(&ra), flat(&ma));
        proptest::prop_assert_eq!(ra == rb, ma == mb);
        proptest::prop_assert_eq!(ra.cmp(&rb), ma.cmp(&mb), "{} vs {}", a, b);
    }
}

proptest::proptest! {
    /// A clause's values answer as the set they replaced: membership, subset, order
    /// and equality (sorted and without repeats whatever order they came in).
    #[test]
    fn values_answer_as_a_set_of_strings(
        a in proptest::collection::vec("[abc|]{0,3}", 0..6),
        b in proptest::collection::vec("[abc|]{0,3}", 0..6),
        probe in "[abc|]{0,3}",
    ) {
        let (va, vb): (Values, Values) = (a.iter().cloned().collect(), b.iter().cloned().collect());
        let (sa, sb): (BTreeSet<String>, BTreeSet<String>) =
            (a.iter().cloned().collect(), b.iter().cloned().collect());
        proptest::prop_assert_eq!(va.iter().collect::<Vec<_>>(), sa.iter().collect::<Vec<_>>());
        proptest::prop_assert_eq!(va.len(), sa.len());
        proptest::prop_assert_eq!(va.contains(&probe), sa.contains(&probe));
        proptest::prop_assert_eq!(va.is_subset(&vb), sa.is_subset(&sb));
        proptest::prop_assert_eq!(va.cmp(&vb), sa.cmp(&sb));
        proptest::prop_assert_eq!(va == vb, sa == sb);
        let mut kept = va.clone();
        kept.retain(|v| v.contains('a'));
        let set_kept: BTreeSet<String> = sa.iter().filter(|v| v.contains('a')).cloned().collect();
        proptest::prop_assert_eq!(kept.iter().collect::<Vec<_>>(), set_kept.iter().collect::<Vec<_>>());
    }
}

/// A restriction is read as a server reads a URL query (FHIR http.html#search: the
/// query is `application/x-www-form-urlencoded`, so a server decodes `%XX`; RFC 3986
/// §3.5: `#` starts a fragment, which is not sent). A value with either is not the
/// scope its characters spell, and does not parse.
#[test]
fn a_percent_or_a_hash_in_a_restriction_value_does_not_parse() {
    for t in [
        "patient/Observation.rs?category=social-history%2Claboratory",
        "patient/Observation.rs?code=http://loinc.org%7C1234-5",
        "patient/Observation.rs?_count=50#&category=laboratory",
        "patient/Observation.rs?category=vital-signs#|laboratory",
        // `;` separates parameters for some servers: `category=social-history` follows.
        "patient/Observation.rs?category=laboratory;category=social-history",
    ] {
        let e = Scope::parse(t).expect_err(t);
        assert_eq!(e.kind, ScopeErrorKind::Invalid, "{t}");
    }
    // Controls: `|`, `:` and `/` are read as written.
    for t in [
        "patient/Observation.rs?code=http://loinc.org|1234-5",
        "patient/Observation.rs?category=laboratory,vital-signs",
    ] {
        assert!(Scope::parse(t).is_ok(), "{t}");
    }
}

/// A parameter repeated with different values is read by the server's choice: FHIR
/// search ANDs them (SMART does not say so), and a server that reads the query into a
/// map keeps the first (Java `getParameter`, Go `Values.Get`) or the last (Python
/// `dict(parse_qsl)`, PHP). `?category=laboratory&category=laboratory,vital-signs` was
/// read as `?category=laboratory` whichever way round: a widening to vital-signs shown
/// as NO CHANGE. It does not parse (the token is opaque new access). Repeated with the
/// same values (in any order), every reading agrees: it is written once.
#[test]
fn a_parameter_repeated_with_different_values_does_not_parse() {
    for t in [
        "patient/Observation.rs?category=laboratory&category=vital-signs",
        "patient/Observation.rs?category=laboratory&category=laboratory,vital-signs",
        "patient/Observation.rs?category=laboratory,vital-signs&category=laboratory",
        "patient/Observation.rs?code:not=a&code=b&code:not=c",
        "patient/Observation.rs?category=http://s|lab&category=lab",
    ] {
        let e = Scope::parse(t).expect_err(t);
        assert_eq!(e.kind, ScopeErrorKind::Invalid, "{t}");
        assert!(
            e.message.contains("restricted 2 times"),
            "{t}: {}",
            e.message
        );
    }
    let once = Scope::parse("patient/Observation.rs?category=a,b&code=x&category=b,a").unwrap();
    assert_eq!(
        once.to_string(),
        "patient/Observation.rs?category=a,b&code=x"
    );
    // Many parameters with a clause each are no such case.
    let q: Vec<String> = (0..500).map(|i| format!("p{i}=v")).collect();
    assert!(Scope::parse(&format!("patient/Observation.rs?{}", q.join("&"))).is_ok());
}

/// RFC 3986 §6.2.2.1 and §6.2.3: a scheme and host in another case, or the default
/// port, name the same URI as the IG's `http://smarthealthit.org/fhir/scopes/…`, which
/// a server may read as the scope it names. They were extension scopes (the owner's
/// own: no deny, no `max_level`, no sensitive type caught them). Any URI on SMART's or
/// OpenID's host not written as the IG writes it is unreadable now. Controls: the IG's
/// form is the scope, and another host's URI is an extension scope.
#[test]
fn a_uri_in_smarts_namespace_not_written_as_the_ig_writes_it_is_unreadable() {
    for t in [
        "HTTP://smarthealthit.org/fhir/scopes/system/*.cruds",
        "http://SmartHealthIT.org/fhir/scopes/system/*.cruds",
        "http://smarthealthit.org:80/fhir/scopes/user/*.cruds",
        "https://smarthealthit.org/fhir/scopes/patient/*.rs",
        "http://x@www.smarthealthit.org/fhir/scopes/patient/*.rs",
        "http://smarthealthit%2Eorg/fhir/scopes/system/*.cruds",
        "http://OpenID.net/specs/openid-connect-core-1_0#openid",
    ] {
        let e = Scope::parse(t).expect_err(t);
        assert_eq!(e.kind, ScopeErrorKind::Invalid, "{t}");
        assert!(e.message.contains("namespace"), "{t}: {}", e.message);
    }
    assert_eq!(
        p("http://smarthealthit.org/fhir/scopes/system/*.cruds").to_string(),
        "system/*.cruds"
    );
    assert!(matches!(
        p("https://example.org/scopes/x"),
        Scope::Extension(_)
    ));
}
