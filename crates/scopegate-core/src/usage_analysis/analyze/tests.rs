use super::*;
use crate::manifest::from_str;
use crate::usage_analysis::evidence::{read_access_log, read_granted};
use crate::usage_analysis::tally::EvidenceKind;

fn manifest(scopes: &[&str], needs: &[&str]) -> Manifest {
    let mut y = String::from("id: app\nlaunch: [ehr]\nscopes:\n");
    for s in scopes {
        y.push_str(&format!("  - scope: \"{s}\"\n    rationale: r\n"));
    }
    y.push_str("workflows:\n  - id: w\n    description: d\n    needs:\n");
    for n in needs {
        y.push_str(&format!("      - \"{n}\"\n"));
    }
    from_str("m.yaml", &y).unwrap()
}

fn log(reqs: &[(&str, &str, u16)]) -> String {
    reqs.iter()
        .map(|(m, u, s)| {
            format!(
                r#"{{"time":"2026-11-02T10:00:00Z","tenant":"t1","app":"app","method":"{m}","url":"{u}","status":{s}}}"#
            ) + "\n"
        })
        .collect()
}

fn tally(m: &Manifest, access: &str, granted: Option<&str>) -> Tally {
    let mut t = Tally::new("app", None, restriction_params(m));
    if let Some(g) = granted {
        let f = t.add_file("granted.jsonl", EvidenceKind::Granted);
        read_granted(g.as_bytes(), &mut t, f, true).unwrap();
    }
    let f = t.add_file("access.jsonl", EvidenceKind::AccessLog);
    read_access_log(access.as_bytes(), &mut t, f, true).unwrap();
    t
}

fn run(m: &Manifest, access: &str, granted: Option<&str>) -> UsageReport {
    analyze(m, &tally(m, access, granted), UsageOptions::default())
}

fn needs(r: &UsageReport) -> Vec<String> {
    r.out_of_manifest
        .iter()
        .map(|o| format!("{} {}", o.tenant, o.needs))
        .collect()
}

#[test]
fn a_wildcard_used_for_two_types_is_narrowed_to_exactly_those_types() {
    let m = manifest(&["patient/*.rs"], &[]);
    let r = run(
        &m,
        &log(&[
            ("GET", "/Observation/1", 200),
            ("GET", "/Observation?category=laboratory", 200),
            ("GET", "/Condition/9", 200),
            ("GET", "/Condition?patient=1", 200),
        ]),
        None,
    );
    assert_eq!(r.unused.len(), 1);
    assert_eq!(r.unused[0].action, Action::Narrow);
    assert_eq!(
        r.unused[0].suggestion,
        ["patient/Condition.rs", "patient/Observation.rs"]
    );
    assert_eq!(r.unused[0].drops, ["patient/*.rs"]);
    assert_eq!(r.scopes[0].used, Some(4));
    assert_eq!(r.scopes[0].used_for, ["Condition.rs", "Observation.rs"]);
    assert!(r.out_of_manifest.is_empty());
}

#[test]
fn letters_are_narrowed_to_those_used() {
    let m = manifest(&["patient/MedicationStatement.cruds"], &[]);
    let r = run(
        &m,
        &log(&[
            ("GET", "/MedicationStatement/1", 200),
            ("POST", "/MedicationStatement", 201),
        ]),
        None,
    );
    assert_eq!(r.unused[0].suggestion, ["patient/MedicationStatement.cr"]);
    assert_eq!(r.unused[0].drops, ["patient/MedicationStatement.uds"]);
}

#[test]
fn a_scope_never_used_is_to_be_removed() {
    let m = manifest(
        &["patient/Observation.rs", "patient/AllergyIntolerance.rs"],
        &[],
    );
    let r = run(
        &m,
        &log(&[
            ("GET", "/Observation/1", 200),
            ("GET", "/Observation?x=1", 200),
        ]),
        None,
    );
    assert_eq!(r.unused.len(), 1);
    assert_eq!(r.unused[0].scope, "patient/AllergyIntolerance.rs");
    assert_eq!(r.unused[0].action, Action::Remove);
    assert!(r.unused[0].suggestion.is_empty());
    assert_eq!(r.unused[0].idle_tenants, ["t1"]);
}

#[test]
fn searches_are_matched_on_their_categories() {
    let m = manifest(&["patient/Observation.rs?category=laboratory"], &[]);
    let r = run(
        &m,
        &log(&[
            ("GET", "/Observation?patient=1&category=laboratory", 200),
            // A token with a system is narrower than the bare code.
            (
                "GET",
                "/Observation?category=http://terminology.hl7.org/CodeSystem/observation-category%7Claboratory",
                200,
            ),
            // A read's category is not observable: the EHR enforced the restriction.
            ("GET", "/Observation/1", 200),
            // Unrestricted, or another category: wider than the scope.
            ("GET", "/Observation?patient=1", 200),
            ("GET", "/Observation?category=laboratory,vital-signs", 403),
            ("POST", "/Observation/_search", 200),
        ]),
        None,
    );
    assert_eq!(
        needs(&r),
        [
            "t1 Observation.s",
            "t1 Observation.s?category=laboratory,vital-signs",
        ]
    );
    assert_eq!(r.out_of_manifest[0].requests, 2);
    assert_eq!(r.out_of_manifest[1].failed, 1);
    assert_eq!(r.scopes[0].used, Some(3));
    assert_eq!(r.verdict, UsageVerdict::Fail);
}

#[test]
fn every_url_form_is_matched_to_its_letter() {
    let m = manifest(&["user/Observation.cruds", "user/*.s"], &[]);
    let r = run(
        &m,
        &log(&[
            ("GET", "/Observation/1", 200),
            ("GET", "/Observation/1/_history/2", 200),
            ("GET", "/Observation/1/_history", 200),
            ("GET", "/Observation?code=x", 200),
            ("POST", "/Observation/_search", 200),
            ("POST", "/Observation", 201),
            ("PUT", "/Observation/1", 200),
            ("PATCH", "/Observation/1", 200),
            ("DELETE", "/Observation/1", 204),
            ("GET", "/Observation/_history", 200),
            ("GET", "/_history", 200),
            ("GET", "/?_type=Observation,Condition", 200),
            ("GET", "/metadata", 200),
            ("GET", "/Patient/1/$everything", 200),
        ]),
        None,
    );
    assert!(r.out_of_manifest.is_empty(), "{:?}", r.out_of_manifest);
    assert_eq!(r.scopes[0].used_for, ["Observation.cruds"]);
    assert_eq!(r.scopes[0].used, Some(11));
    // `user/*.s` serves the system-level history and both `_type` searches, and the
    // type-level searches and history of Observation.
    assert_eq!(
        r.scopes[1].used_for,
        ["*.s", "Condition.s", "Observation.s"]
    );
    assert_eq!(r.evidence.skipped.capabilities, 1);
    assert_eq!(r.operations.len(), 1);
    assert_eq!(r.operations[0].operation, "$everything");
}

#[test]
fn system_search_without_type_needs_a_wildcard() {
    let m = manifest(&["patient/Observation.rs"], &[]);
    let r = run(
        &m,
        &log(&[
            ("GET", "/?_type=Observation", 200),
            ("GET", "/?_lastUpdated=gt2026", 200),
        ]),
        None,
    );
    assert_eq!(needs(&r), ["t1 *.s"]);
}

#[test]
fn batch_entries_are_judged_one_by_one() {
    let m = manifest(&["patient/Observation.rs"], &[]);
    let line = r#"{"time":"2026-11-02T10:00:00Z","tenant":"t1","app":"app","method":"POST","url":"/","status":200,"entries":[{"method":"GET","url":"Observation/1"},{"method":"POST","url":"Observation","status":403}]}"#;
    let r = run(&m, &format!("{line}\n"), None);
    assert_eq!(needs(&r), ["t1 Observation.c"]);
    assert_eq!(r.out_of_manifest[0].failed, 1);
    assert_eq!(r.scopes[0].used, Some(1));
}

#[test]
fn grants_beyond_the_request_are_over_grants() {
    let m = manifest(&["launch", "patient/Observation.rs"], &[]);
    let g = concat!(
        r#"{"time":"2026-11-01T00:00:00Z","tenant":"t1","app":"app","scope":"launch patient/Observation.read"}"#,
        "\n",
        r#"{"time":"2026-11-01T00:00:00Z","tenant":"t2","app":"app","scope":"launch patient/*.read offline_access"}"#,
        "\n",
        r#"{"time":"2026-11-01T00:00:00Z","tenant":"t2","app":"other","scope":"user/*.cruds"}"#,
        "\n",
    );
    let r = run(&m, &log(&[("GET", "/Observation/1", 200)]), Some(g));
    let over: Vec<String> = r
        .over_granted
        .iter()
        .map(|o| format!("{} {} {}", o.tenant, o.granted, o.beyond_request.join(",")))
        .collect();
    assert_eq!(
        over,
        [
            "t2 offline_access offline_access",
            "t2 patient/*.rs patient/*.rs"
        ]
    );
    assert_eq!(
        r.scopes[0]
            .tenants
            .iter()
            .map(|t| t.granted)
            .collect::<Vec<_>>(),
        [Some(1), Some(1)]
    );
    assert_eq!(r.scopes[0].used, None, "launch is not observable");
    assert_eq!(r.evidence.skipped.other_app, 1);
}

#[test]
fn without_grants_a_scope_granted_nowhere_is_not_unused() {
    let m = manifest(&["patient/Observation.rs", "patient/Condition.rs"], &[]);
    let g = r#"{"time":"2026-11-01T00:00:00Z","tenant":"t1","app":"app","scope":"patient/Observation.rs"}"#;
    let r = run(
        &m,
        &log(&[("GET", "/Observation/1", 200), ("GET", "/Observation", 200)]),
        Some(g),
    );
    assert!(r.unused.is_empty(), "{:?}", r.unused);
}

#[test]
fn needs_never_observed_are_drift() {
    let m = manifest(
        &[
            "patient/MedicationStatement.crs",
            "patient/Observation.rs?category=laboratory",
        ],
        &[
            "patient/MedicationStatement.crs",
            "patient/Observation.s?category=laboratory",
            "openid",
        ],
    );
    let r = run(
        &m,
        &log(&[
            ("GET", "/MedicationStatement/1", 200),
            ("GET", "/Observation?category=vital-signs", 200),
        ]),
        None,
    );
    let d: Vec<String> = r
        .drift
        .iter()
        .map(|d| format!("{} {}", d.need, d.unobserved.join(",")))
        .collect();
    assert_eq!(
        d,
        [
            "patient/MedicationStatement.crs patient/MedicationStatement.cs",
            "patient/Observation.s?category=laboratory patient/Observation.s?category=laboratory",
        ]
    );
}

#[test]
fn the_window_and_other_apps_are_counted_not_used() {
    let m = manifest(&["patient/Observation.rs"], &[]);
    let mut t = Tally::new(
        "app",
        crate::usage_analysis::instant::parse("2026-11-01"),
        restriction_params(&m),
    );
    let f = t.add_file("a.jsonl", EvidenceKind::AccessLog);
    let text = concat!(
        r#"{"time":"2026-10-31T23:59:59Z","tenant":"t1","app":"app","method":"GET","url":"/Observation/1","status":200}"#,
        "\n",
        r#"{"time":"2026-11-01T00:00:00+01:00","tenant":"t1","app":"app","method":"GET","url":"/Observation/1","status":200}"#,
        "\n",
        r#"{"time":"2026-11-01T00:00:00Z","tenant":"t1","app":"x","method":"GET","url":"/Observation/1","status":200}"#,
        "\n",
        r#"{"time":"2026-11-01T00:00:00Z","tenant":"t1","app":"app","method":"GET","url":"/Observation/1","status":200}"#,
        "\n",
    );
    read_access_log(text.as_bytes(), &mut t, f, false).unwrap();
    let r = analyze(&m, &t, UsageOptions::default());
    assert_eq!(r.scopes[0].used, Some(1));
    assert_eq!(r.evidence.skipped.before_window, 2);
    assert_eq!(r.evidence.skipped.other_app, 1);
    assert_eq!(r.since.as_deref(), Some("2026-11-01T00:00:00Z"));
}

/// `patient/Observation.rs?category=cI` for each `I` of `codes`.
fn coded(codes: std::ops::Range<usize>) -> Vec<String> {
    codes
        .map(|i| format!("patient/Observation.rs?category=c{i}"))
        .collect()
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A successful search on `category=cI` for each `I` of `codes`.
/// A token-response log: one response granting each of `scopes` (space-separated scope
/// strings), all for app `app` at tenant `t1`.
fn token_responses(scopes: impl Iterator<Item = String>) -> String {
    scopes
        .map(|s| {
            format!(r#"{{"time":"2026-11-01T00:00:00Z","tenant":"t1","app":"app","scope":"{s}"}}"#)
                + "\n"
        })
        .collect()
}

fn searches(codes: std::ops::Range<usize>) -> String {
    let urls: Vec<String> = codes
        .map(|i| format!("/Observation?category=c{i}"))
        .collect();
    log(&urls
        .iter()
        .map(|u| ("GET", u.as_str(), 200))
        .collect::<Vec<_>>())
}

// Regression (issue 15 §1): each observed access was checked against every requested
// scope: 20,000 searches on 20,000 coded scopes took 23 s.
#[test]
fn accesses_are_matched_in_time_linear_in_scopes_and_searches() {
    let check = |n: usize| {
        let codes = coded(0..n);
        let m = manifest(&refs(&codes), &[]);
        let other = log(&[("GET", "/Observation?category=other", 200)]);
        let t = tally(&m, &(searches(0..n) + &other), None);
        let obs = observed(&t);
        let (matched, took) = crate::scaling::timed(|| match_accesses(&m, &t, &obs));
        assert_eq!(matched.uses.len(), n);
        assert!(matched.uses.values().all(|u| u.ok == 1));
        let oom: Vec<&str> = matched
            .out_of_manifest
            .iter()
            .map(|o| o.needs.as_str())
            .collect();
        assert_eq!(oom, ["Observation.s?category=other"]);
        took
    };
    crate::scaling::assert_near_linear("accesses", check(300), check(3_000));
}

// Regression (issue 15 §1): each letter of each workflow need was looked for among all
// observed accesses: 20,000 needs over 20,000 searches took 16 s.
#[test]
fn needs_are_checked_against_accesses_in_time_linear_in_both() {
    let check = |n: usize| {
        let codes = coded(0..n);
        let m = manifest(&["patient/Observation.rs"], &refs(&codes));
        // Every category but `c0` searched; a read exercises `r` of every need.
        let read = log(&[("GET", "/Observation/1", 200)]);
        let t = tally(&m, &(searches(1..n) + &read), None);
        let obs = observed(&t);
        let (d, took) = crate::scaling::timed(|| drift(&m, &obs));
        let d: Vec<String> = d
            .iter()
            .map(|d| format!("{} {}", d.need, d.unobserved.join(",")))
            .collect();
        assert_eq!(
            d,
            ["patient/Observation.rs?category=c0 patient/Observation.s?category=c0"]
        );
        took
    };
    crate::scaling::assert_near_linear("needs", check(300), check(3_000));
}

// Regression (issue 15 §1): each distinct granted string was checked against every
// requested scope, and the request made a set anew for each: 4,000 strings over 4,000
// scopes took 4.7 s.
#[test]
fn grants_are_matched_in_time_linear_in_strings_and_scopes() {
    let check = |n: usize| {
        let codes = coded(0..n);
        let mut scopes = refs(&codes);
        scopes.push("launch");
        let m = manifest(&scopes, &[]);
        // A token response for each code, and one granting all of Observation.
        let g = token_responses(
            codes
                .iter()
                .map(|c| format!("launch {c}"))
                .chain(["launch patient/Observation.cruds".to_string()]),
        );
        let t = tally(&m, &log(&[("GET", "/Patient/1", 200)]), Some(&g));
        let ((over, uses), took) = crate::scaling::timed(|| {
            let mut uses = BTreeMap::new();
            let over = grants(&m, &t, &[0], &mut uses, Options::default());
            (over, uses)
        });
        let over: Vec<String> = over
            .iter()
            .map(|o| format!("{} {}", o.granted, o.beyond_request.join(",")))
            .collect();
        assert_eq!(
            over,
            ["patient/Observation.cruds patient/Observation.cruds"]
        );
        // Each code in its own response and the broad one; launch in all.
        let granted: Vec<u64> = uses.values().map(|u| u.granted).collect();
        assert_eq!(granted.len(), n + 1);
        assert!(granted[..n].iter().all(|g| *g == 2), "{granted:?}");
        assert_eq!(granted[n], n as u64 + 1);
        took
    };
    crate::scaling::assert_near_linear("granted strings", check(200), check(2_000));
}

// Regression (issue 15 §1): each unused scope's row was found by scanning the rows:
// 20,000 unused scopes took 0.3 s, most of the run.
#[test]
fn unused_scopes_are_worded_in_time_linear_in_them() {
    let check = |n: usize| {
        let codes = coded(0..n);
        let m = manifest(&refs(&codes), &[]);
        // Token responses of 1,000 scopes each grant them all; only a patient is read.
        let g = token_responses(codes.chunks(1_000).map(|c| c.join(" ")));
        let t = tally(&m, &log(&[("GET", "/Patient/1", 200)]), Some(&g));
        let r = analyze(&m, &t, UsageOptions::default());
        let (f, took) =
            crate::scaling::timed(|| findings(&m, &r.scopes, &r.unused, &[], &[], &[], &t));
        assert_eq!(f.len(), n);
        for f in &f {
            assert!(
                f.message
                    .ends_with("` was granted in 1 token response(s) but not used"),
                "{}",
                f.message
            );
        }
        took
    };
    crate::scaling::assert_near_linear("unused scopes", check(3_000), check(30_000));
}
