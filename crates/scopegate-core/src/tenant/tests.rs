use super::*;

fn s(t: &str) -> Scope {
    Scope::parse(t).unwrap()
}

fn profile(yaml: &str) -> Profile {
    from_bytes(".scopegate/tenants/clinic.yaml", yaml.as_bytes()).unwrap()
}

/// The rules `p` breaks for a token, read as a manifest entry reads it (a token
/// scopegate cannot read is opaque access).
fn rules(p: &Profile, scope: &str) -> Vec<&'static str> {
    let token = Scope::parse(scope).unwrap_or_else(|_| Scope::Invalid(scope.to_string()));
    p.judge(&token, Options::default())
        .iter()
        .map(|v| v.rule.as_str())
        .collect()
}

#[test]
fn the_tenant_name_is_the_file_stem() {
    let p = profile("description: Community clinic\n");
    assert_eq!(p.name, "clinic");
    assert_eq!(name_of("a.yml"), Some("a"));
    assert_eq!(name_of("README.md"), None);
    assert_eq!(name_of(".hidden.yaml"), None);
}

#[test]
fn star_level_patterns_expand_to_every_level() {
    let p = profile("deny: ['*/*.d']\n");
    assert_eq!(p.deny[0].scopes.len(), 3);
    assert_eq!(rules(&p, "user/Observation.cruds"), ["tenant-denied"]);
    assert_eq!(rules(&p, "system/Patient.d"), ["tenant-denied"]);
    // No delete letter: nothing the pattern covers is granted.
    assert!(rules(&p, "patient/Observation.rs").is_empty());
}

#[test]
fn a_deny_pattern_matches_any_scope_that_grants_some_of_it() {
    let p = profile("deny: ['user/*.*', offline_access]\n");
    assert_eq!(rules(&p, "user/Observation.r"), ["tenant-denied"]);
    assert_eq!(rules(&p, "offline_access"), ["tenant-denied"]);
    assert!(rules(&p, "online_access").is_empty());
    assert!(rules(&p, "patient/*.rs").is_empty());
    // The v1 spelling is the same access.
    assert_eq!(rules(&p, "user/Observation.read"), ["tenant-denied"]);
}

#[test]
fn a_named_deny_matches_a_wildcard_request() {
    let p = profile("deny: ['patient/MedicationRequest.c']\n");
    assert_eq!(rules(&p, "patient/*.cruds"), ["tenant-denied"]);
    assert!(rules(&p, "patient/*.rs").is_empty());
}

#[test]
fn disjoint_categories_do_not_overlap() {
    let p = profile("deny: ['patient/Observation.rs?category=social-history']\n");
    assert!(rules(&p, "patient/Observation.rs?category=laboratory").is_empty());
    assert_eq!(
        rules(
            &p,
            "patient/Observation.rs?category=laboratory,social-history"
        ),
        ["tenant-denied"]
    );
    assert_eq!(rules(&p, "patient/Observation.rs"), ["tenant-denied"]);
}

/// A scope that repeats a parameter with different values (`category=survey&category=
/// social-history`) is one a server reads as it chooses (FHIR ANDs them; a server that
/// reads the query into a map keeps one of them): scopegate cannot read it, so it meets
/// every deny pattern, whichever clause comes first. It was read as needing a value
/// common to both clauses, found none, and passed a deny of `?category=social-history`
/// (and `ship-to` said ship). Control: each clause alone, judged as written.
#[test]
fn a_parameter_repeated_with_different_values_meets_every_deny() {
    let p = profile("deny: ['patient/Observation.rs?category=social-history']\n");
    for scope in [
        "patient/Observation.rs?category=survey&category=social-history",
        "patient/Observation.rs?category=social-history&category=survey",
        "patient/Observation.rs?category=survey&category=laboratory",
    ] {
        assert!(!rules(&p, scope).is_empty(), "{scope}");
    }
    assert_eq!(
        rules(&p, "patient/Observation.rs?category=survey"),
        Vec::<&str>::new()
    );
    assert_eq!(
        rules(&p, "patient/Observation.rs?category=social-history"),
        ["tenant-denied"]
    );
}

/// Clauses on one parameter holding more values than `CLAUSE_COMPARISONS` allows to
/// compare pairwise are taken to overlap when a code meets in all of them (the safe side
/// for a deny): found in one pass over the values, not compared pairwise.
#[test]
fn many_values_on_one_parameter_are_judged_by_their_codes() {
    let many = |from: usize, n: usize| -> String {
        (from..from + n)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let o = Options::default();
    let t = std::time::Instant::now();
    let a = s(&format!(
        "patient/Observation.rs?category={}",
        many(0, 4000)
    ));
    let b = s(&format!(
        "patient/Observation.rs?category={}",
        many(3999, 4000)
    ));
    let c = s(&format!(
        "patient/Observation.rs?category={}",
        many(4000, 4000)
    ));
    assert!(overlaps(&a, &b, o) && overlaps(&b, &a, o), "c3999 in both");
    assert!(
        !overlaps(&a, &c, o) && !overlaps(&c, &a, o),
        "no code in common"
    );
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
}

/// FHIR R4 search, token (<https://hl7.org/fhir/R4/search.html#token>): `laboratory`
/// matches the code in any system, so a deny of it catches the system-qualified form and
/// the form with no system, and a deny of `system|` catches the system's codes; a
/// modified parameter (<https://hl7.org/fhir/R4/search.html#modifiers>) is assumed to
/// overlap.
#[test]
fn a_deny_catches_the_token_forms_it_matches() {
    let sys = "http://terminology.hl7.org/CodeSystem/observation-category";
    let p = profile("deny: ['patient/Observation.rs?category=laboratory']\n");
    for denied in [
        format!("patient/Observation.rs?category={sys}|laboratory"),
        "patient/Observation.rs?category=|laboratory".to_string(),
        format!("patient/Observation.rs?category={sys}|"),
    ] {
        assert_eq!(rules(&p, &denied), ["tenant-denied"], "{denied}");
    }
    // Another code, or the code with no system against a system-qualified deny, is not.
    assert!(rules(&p, &format!("patient/Observation.rs?category={sys}|survey")).is_empty());
    let q = profile(&format!(
        "deny: ['patient/Observation.rs?category={sys}|laboratory']\n"
    ));
    assert!(rules(&q, "patient/Observation.rs?category=|laboratory").is_empty());
    assert_eq!(
        rules(&q, "patient/Observation.rs?category=laboratory"),
        ["tenant-denied"]
    );
    let n = profile("deny: ['patient/Observation.rs?category:not=laboratory']\n");
    assert_eq!(
        rules(&n, "patient/Observation.rs?category:not=survey"),
        ["tenant-denied"]
    );
}

#[test]
fn allow_lists_what_is_permitted_and_names_the_rest() {
    let p = profile("allow: ['patient/*.rs', launch/patient, openid, fhirUser]\n");
    assert!(rules(&p, "patient/Observation.rs").is_empty());
    assert!(rules(&p, "patient/Observation.read").is_empty());
    assert!(rules(&p, "launch/patient").is_empty());
    assert_eq!(rules(&p, "offline_access"), ["tenant-not-allowed"]);
    let v = p.judge(&s("patient/Observation.cruds"), Options::default());
    assert_eq!(v[0].rule, RuleId::TenantNotAllowed);
    assert!(
        v[0].message
            .contains("grants `patient/Observation.cud` outside"),
        "{}",
        v[0].message
    );
}

#[test]
fn max_level_limits_the_level() {
    let p = profile("max_level: patient\n");
    assert!(rules(&p, "patient/*.rs").is_empty());
    assert_eq!(rules(&p, "user/Patient.r"), ["tenant-level-exceeded"]);
    assert_eq!(rules(&p, "system/Patient.r"), ["tenant-level-exceeded"]);
    let p = profile("max_level: user\n");
    assert!(rules(&p, "user/Patient.r").is_empty());
}

#[test]
fn sensitive_types_match_named_and_wildcard_scopes() {
    let p = profile("sensitive: [MedicationStatement]\n");
    assert_eq!(
        p.sensitive_in(&s("patient/MedicationStatement.c")),
        Some("MedicationStatement")
    );
    assert_eq!(
        p.sensitive_in(&s("patient/*.rs")),
        Some("MedicationStatement")
    );
    assert_eq!(p.sensitive_in(&s("patient/Observation.rs")), None);
    assert_eq!(p.sensitive_in(&s("offline_access")), None);
}

#[test]
fn every_problem_in_a_profile_is_reported_with_its_line() {
    let e = from_bytes(
        ".scopegate/tenants/t.yaml",
        b"deny: ['patient/Obs.rx']\nsensitive: [MedicationStatment]\nmax_level: admin\n",
    )
    .unwrap_err();
    let lines: Vec<u32> = e.problems.iter().map(|p| p.pos.line).collect();
    assert_eq!(lines, [1, 2, 3]);
    assert_eq!(
        e.problems[1].hint.as_deref(),
        Some("did you mean `MedicationStatement`?")
    );
    let e = from_bytes(".scopegate/tenants/t.yaml", b"dney: []\n").unwrap_err();
    assert!(e.problems[0].hint.as_deref().unwrap().contains("deny"));
}

fn manifest(yaml: &str) -> Manifest {
    crate::manifest::from_str("smart-app.yaml", yaml).unwrap()
}

const APP: &str = "id: a\nlaunch: [ehr]\nscopes:\n  - scope: launch\n  - scope: patient/Observation.rs\n  - scope: patient/*.read\n  - scope: patient/Condition.rs?category=problem-list-item\n  - scope: offline_access\n";

#[test]
fn an_ehr_snapshot_may_be_the_whole_configuration_or_just_the_scope_list() {
    let e = ehr_from_bytes("ehr.json", b"[\"launch\", \"patient/*.rs\"]").unwrap();
    assert_eq!(e.scopes_supported.unwrap().len(), 2);
    assert_eq!(e.capabilities, None);
    let e = ehr_from_bytes(
        "ehr.json",
        br#"{"capabilities": ["launch-ehr"], "scopes_supported": ["openid"], "token_endpoint": "https://x/token"}"#,
    )
    .unwrap();
    assert_eq!(e.capabilities.unwrap().len(), 1);
    let err = ehr_from_bytes("ehr.json", b"{\n  \"scopes_supported\": [1,\n").unwrap_err();
    assert_eq!(err.problems[0].pos.line, 3);
}

#[test]
fn unlisted_scopes_are_named_with_their_line() {
    let ehr = ehr_from_bytes(
        "ehr.json",
        br#"["launch", "patient/*.rs", "patient/Condition.rs", "offline_access"]"#,
    )
    .unwrap();
    let got: Vec<(u32, &str)> = ehr_shortfalls(&ehr, &manifest(APP), Options::default())
        .iter()
        .map(|s| (s.pos.line, s.rule.as_str()))
        .collect();
    // `patient/*.read` is v1 syntax, and only v2 wildcards are listed; the granular
    // Condition scope needs a listed restricted scope.
    assert_eq!(got, [(6, "ehr-scope-unlisted"), (7, "ehr-scope-unlisted")]);
}

#[test]
fn missing_capabilities_are_errors_named_by_cause() {
    let ehr = ehr_from_bytes(
        "ehr.json",
        br#"{"capabilities": ["launch-ehr", "permission-patient", "permission-v1"]}"#,
    )
    .unwrap();
    let got: Vec<String> = ehr_shortfalls(&ehr, &manifest(APP), Options::default())
        .iter()
        .map(|s| s.message.clone())
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].contains("`permission-v2`"), "{got:?}");
    assert!(got[1].contains("`permission-offline`"), "{got:?}");
}

#[test]
fn missing_capability_findings_carry_the_capability_and_the_row_names_it() {
    let ehr = ehr_from_bytes(
        "ehr.json",
        br#"{"capabilities": ["launch-ehr", "permission-patient", "permission-v1"]}"#,
    )
    .unwrap();
    let t = Tenant {
        profile: profile(""),
        ehr: Some(ehr),
    };
    let m = manifest(APP);
    let (_, mut ehr) = judge_all(&t, &[&m], &Config::default());
    let caps: Vec<Option<&str>> = ehr.iter().map(|f| f.capability.as_deref()).collect();
    assert_eq!(caps, [Some("permission-v2"), Some("permission-offline")]);
    // The row reads the capability, not the wording of the message.
    for f in &mut ehr {
        f.message = "reworded".into();
    }
    let r = row(&t, &[], &ehr, None);
    assert_eq!(
        r.problems,
        ["EHR lacks `permission-offline`, `permission-v2`"]
    );
}

// ---- property tests: what a deny pattern matches ----

use crate::grant::tests::{arb_opts, arb_token};
use proptest::prelude::*;

proptest! {
    #[test]
    fn overlap_is_symmetric(a in arb_token(), b in arb_token(), o in arb_opts()) {
        let (a, b) = (s(&a), s(&b));
        prop_assert_eq!(overlaps(&a, &b, o), overlaps(&b, &a, o));
    }

    /// A pattern matches every scope it covers (unless that scope can match nothing).
    #[test]
    fn covering_implies_overlapping(a in arb_token(), b in arb_token(), o in arb_opts()) {
        let (a, b) = (s(&a), s(&b));
        if covers(&a, &b, o) && overlaps(&b, &b, o) {
            prop_assert!(overlaps(&a, &b, o), "{a} covers {b}");
        }
    }

    /// Widening a pattern never un-matches a scope.
    #[test]
    fn overlap_is_monotone_in_coverage(
        a in arb_token(), b in arb_token(), c in arb_token(), o in arb_opts()
    ) {
        let (a, b, c) = (s(&a), s(&b), s(&c));
        if overlaps(&a, &b, o) && covers(&c, &a, o) {
            prop_assert!(overlaps(&c, &b, o), "{c} covers {a}, which overlaps {b}");
        }
    }

    /// A deny pattern's own scopes are denied, and so is any rewording of them.
    #[test]
    fn a_denied_scope_is_denied_however_it_is_written(t in arb_token()) {
        let scope = s(&t);
        prop_assume!(overlaps(&scope, &scope, Options::default()));
        let p = profile(&format!("deny: ['{t}']\n"));
        prop_assert_eq!(rules(&p, &t), ["tenant-denied"]);
        prop_assert_eq!(rules(&p, &scope.to_string()), ["tenant-denied"]);
    }

    /// The overlap index names every scope that overlaps the one asked about (it may
    /// name more): `scopegate matrix` asks only those.
    #[test]
    fn the_overlap_index_names_every_scope_that_overlaps(
        keys in proptest::collection::vec(arb_token(), 0..40), t in arb_token(), o in arb_opts()
    ) {
        let keys: Vec<Scope> = keys.iter().map(|k| s(k)).collect();
        let q = s(&t);
        let named = OverlapIndex::of(&keys).may_overlap(&q);
        for (i, k) in keys.iter().enumerate() {
            if overlaps(k, &q, o) {
                prop_assert!(named.contains(&i), "`{}` overlaps `{}`, not named", k, q);
            }
        }
    }

    /// The law the index rests on: values that overlap share a bucket, or one of them
    /// is any code of a system.
    #[test]
    fn overlapping_values_share_a_bucket(
        p in prop_oneof![Just("category"), Just("status"), Just("note"), Just("code:not")],
        v in arb_value(),
        w in arb_value(),
    ) {
        if crate::scope::value_overlaps(p, &v, &w) {
            let (a, b) = (overlap::overlap_bucket(p, &v), overlap::overlap_bucket(p, &w));
            prop_assert!(a.is_none() || b.is_none() || a == b, "{p}: {v} ({a:?}), {w} ({b:?})");
        }
    }
}

fn arb_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"),
        Just("b"),
        Just("s|a"),
        Just("t|a"),
        Just("s|b"),
        Just("|a"),
        Just("|"),
        Just("s|"),
        Just("t|"),
        Just("s|a|b"),
        Just("|a|"),
        Just("a|"),
    ]
    .prop_map(str::to_string)
}

/// `n` scopes `?category=cN` judged by a policy denying `n` codes `?category=dN` and
/// the code `c7`, and allowing `?category=cN` for every N but `c3`: the violations'
/// rules per scope, and the best of three runs' time.
fn judged_codes(n: usize) -> (Vec<Vec<&'static str>>, std::time::Duration) {
    judged(n, &|kind, i| format!("category={kind}{i}"))
}

/// [`judged_codes`] with the `i`th restriction of kind `c` (requested, allowed) or `d`
/// (denied) written by `query`.
fn judged(
    n: usize,
    query: &dyn Fn(char, usize) -> String,
) -> (Vec<Vec<&'static str>>, std::time::Duration) {
    let scope = |kind, i| format!("patient/Observation.rs?{}", query(kind, i));
    let mut yaml = format!("deny:\n  - '{}'\n", scope('c', 7));
    for i in 0..n {
        yaml.push_str(&format!("  - '{}'\n", scope('d', i)));
    }
    yaml.push_str("allow:\n");
    for i in (0..n).filter(|i| *i != 3) {
        yaml.push_str(&format!("  - '{}'\n", scope('c', i)));
    }
    let p = profile(&yaml);
    let scopes: Vec<Scope> = (0..n).map(|i| s(&scope('c', i))).collect();
    crate::scaling::timed(|| {
        let judge = p.judge_many(Options::default());
        scopes
            .iter()
            .map(|x| judge.judge(x).iter().map(|v| v.rule.as_str()).collect())
            .collect()
    })
}

/// How the `i`th restriction of a kind is written (see [`judged`]).
type Query<'q> = &'q dyn Fn(char, usize) -> String;

/// Each scope's rules: `c7` denied, `c3` not allowed, the rest clean.
fn assert_judged(out: &[Vec<&str>]) {
    for (i, rules) in out.iter().enumerate() {
        let want: &[&str] = match i {
            7 => &["tenant-denied"],
            3 => &["tenant-not-allowed"],
            _ => &[],
        };
        assert_eq!(rules, want, "c{i}");
    }
}

// Regression (issue 15 §1): the deny patterns were indexed by their first parameter,
// which US Core scopes share (`category=laboratory&code=…`), so every scope was
// compared with every pattern (4,000 of each: 2.2 s, 16 ms now); and a pattern of any
// code of a system (`code=sys|`) was a candidate for every scope, and a scope of one
// (`sys|`) was compared with every pattern (4,000: 1.5 s).
#[test]
fn us_core_and_whole_system_patterns_are_judged_in_linear_time() {
    let shapes: [(&str, Query<'_>); 3] = [
        ("us core", &|k, i| {
            format!("category=laboratory&code=http://loinc.org|{k}{i}")
        }),
        ("systems", &|k, i| format!("code=http://{k}{i}.example|")),
        ("codes of systems", &|k, i| {
            format!("code=http://{k}{i}.example|x")
        }),
    ];
    for (what, query) in shapes {
        let (small, small_t) = judged(200, query);
        let (big, big_t) = judged(2_000, query);
        assert_judged(&small);
        assert_judged(&big);
        crate::scaling::assert_near_linear(what, small_t, big_t);
    }
}

// Regression (issue 15 §1): every scope was compared with every deny pattern, and the
// allow list was made a set again for each scope: quadratic in the two.
#[test]
fn a_policy_of_thousands_of_patterns_judges_thousands_of_scopes_in_linear_time() {
    let (small, small_t) = judged_codes(200);
    let (big, big_t) = judged_codes(2_000);
    assert_judged(&small);
    assert_judged(&big);
    crate::scaling::assert_near_linear("policy", small_t, big_t);
}

/// A token scopegate cannot read (`%2A` a server decodes to `*`, a type in the wrong
/// case) passed every deny pattern and `max_level`, so the matrix said "ship" for a
/// tenant that denies system access. It now meets every deny pattern and exceeds any
/// `max_level`. Controls: an extension scope meets only a pattern that names it, and a
/// readable scope is judged as before.
#[test]
fn a_token_scopegate_cannot_read_meets_every_deny_and_exceeds_max_level() {
    let p = profile("deny: ['system/*.*', '__acme_export']\nmax_level: user\n");
    let judged = |s: &Scope| -> Vec<&'static str> {
        p.judge(s, Options::default())
            .iter()
            .map(|v| v.rule.as_str())
            .collect()
    };
    for t in [
        Scope::Invalid("system/*.cruds?_id=%2A".into()),
        Scope::Invalid("user/observation.read".into()),
        Scope::Unknown("fhir:everything".into()),
    ] {
        assert_eq!(
            judged(&t),
            ["tenant-denied", "tenant-level-exceeded"],
            "{t:?}"
        );
    }
    let only_deny = profile("deny: ['offline_access']\n");
    assert_eq!(
        only_deny
            .judge(&Scope::Invalid("offline-access".into()), Options::default())
            .len(),
        1
    );
    // Controls.
    assert_eq!(judged(&s("__acme_export")), ["tenant-denied"]);
    assert!(judged(&s("__acme_other")).is_empty());
    assert!(judged(&s("user/Observation.rs")).is_empty());
    assert!(
        profile("description: open\n")
            .judge(&Scope::Invalid("x y".into()), Options::default())
            .is_empty()
    );
}

/// `launch/encounter?role=…` is the encounter context for one role: a deny of
/// `launch/encounter` meets it (a role got past the deny). Another context does not.
#[test]
fn a_launch_context_with_a_role_meets_a_deny_of_the_context() {
    let p = profile("deny: ['launch/encounter']\n");
    assert_eq!(
        rules(&p, "launch/encounter?role=https://example.org/roles/nurse"),
        ["tenant-denied"]
    );
    assert_eq!(rules(&p, "launch/encounter"), ["tenant-denied"]);
    assert!(rules(&p, "launch/patient").is_empty());
    // And the other way: a deny of one role meets the context asked for any role.
    let q = profile("deny: ['launch/encounter?role=https://example.org/roles/nurse']\n");
    assert_eq!(rules(&q, "launch/encounter"), ["tenant-denied"]);
}

/// FHIR R4 search (<https://hl7.org/fhir/R4/search.html>): a `string` value matches by
/// case-insensitive prefix, a `reference` in several forms, a `date` by range, so two
/// different values of such a parameter may match the same resources. A deny of
/// `name=Smith` passed `name=Smi` (every Smith, and more); `subject=Patient/123` passed
/// `subject=123`; `date=2020` passed `date=ge2019`. On a parameter that is not a token
/// a deny now catches any value. Control: token values that share nothing stay apart.
#[test]
fn a_deny_on_a_parameter_that_is_not_a_token_catches_any_value_of_it() {
    for (deny, scope) in [
        (
            "patient/Patient.rs?name=Smith",
            "patient/Patient.rs?name=Smi",
        ),
        (
            "patient/Observation.rs?subject=Patient/123",
            "patient/Observation.rs?subject=123",
        ),
        (
            "patient/Observation.rs?date=2020",
            "patient/Observation.rs?date=ge2019",
        ),
        (
            "patient/Goal.rs?lifecycle-status=active",
            "patient/Goal.rs?lifecycle-status=http://hl7.org/fhir/goal-status|active",
        ),
    ] {
        let p = profile(&format!("deny: ['{deny}']\n"));
        assert_eq!(rules(&p, scope), ["tenant-denied"], "{deny} / {scope}");
    }
    let p = profile("deny: ['patient/Observation.rs?category=social-history']\n");
    assert!(rules(&p, "patient/Observation.rs?category=laboratory").is_empty());
}

/// A token scopegate cannot read touches every sensitive type, as it meets every deny:
/// `patient/MedicationStatement.sr` (which a server may honour as `.rs`) needed no
/// tenant-named approval where `MedicationStatement` is sensitive. An extension scope
/// (the owner's own) touches none.
#[test]
fn a_token_scopegate_cannot_read_touches_every_sensitive_type() {
    let p = profile("sensitive: [MedicationStatement]\n");
    let read = |t: &str| Scope::parse(t).unwrap_or_else(|_| Scope::Invalid(t.to_string()));
    assert_eq!(
        p.sensitive_in(&read("patient/MedicationStatement.sr")),
        Some("MedicationStatement")
    );
    assert_eq!(p.sensitive_in(&read("patient/Observation.rs")), None);
    assert_eq!(p.sensitive_in(&read("__acme_export")), None);
}
