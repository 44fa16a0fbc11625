use super::*;
use crate::manifest::LaunchMode;

fn cx(launch: &[LaunchMode]) -> Context {
    Context::new(FhirVersion::R4, launch)
}

/// The suggestion for `token` in an EHR-launched app.
fn meant(token: &str) -> Vec<String> {
    diagnose(token, &cx(&[LaunchMode::Backend]))
        .unwrap_or_else(|| panic!("{token} is not a near-miss"))
        .suggestion()
}

fn family(token: &str) -> Family {
    diagnose(token, &cx(&[LaunchMode::Ehr])).unwrap().family
}

#[test]
fn keywords_in_another_case_or_with_a_dash_are_meant_as_the_keyword() {
    for (t, m) in [
        ("offline-access", "offline_access"),
        ("Offline-Access", "offline_access"),
        ("ONLINE_ACCESS", "online_access"),
        ("fhir-user", "fhirUser"),
        ("openId", "openid"),
        ("Launch", "launch"),
        ("Launch/patient", "launch/patient"),
        ("LAUNCH/ENCOUNTER", "launch/encounter"),
    ] {
        assert_eq!(meant(t), [m], "{t}");
        assert_eq!(family(t), Family::Keyword, "{t}");
    }
}

#[test]
fn a_dot_or_backslash_where_the_slash_belongs_is_a_separator_near_miss() {
    for (t, m) in [
        ("patient.Observation.read", "patient/Observation.read"),
        ("user.*.rs", "user/*.rs"),
        ("Patient.Observation.rs", "patient/Observation.rs"),
        ("system\\Patient.rs", "system/Patient.rs"),
        ("launch.patient", "launch/patient"),
        ("launch.Patient", "launch/patient"),
        (
            "http://smarthealthit.org/fhir/scopes/patient.Observation.rs",
            "patient/Observation.rs",
        ),
        (
            "patient.Observation.rs?category=laboratory",
            "patient/Observation.rs?category=laboratory",
        ),
    ] {
        assert_eq!(meant(t), [m], "{t}");
        assert_eq!(family(t), Family::Separator, "{t}");
    }
}

#[test]
fn a_missing_level_suggests_the_levels_the_launch_modes_imply() {
    let ehr = diagnose("Observation.rs", &cx(&[LaunchMode::Ehr])).unwrap();
    assert_eq!(ehr.family, Family::MissingLevel);
    // Two candidates: no single suggestion, the hint lists both.
    assert!(ehr.suggestion().is_empty());
    assert!(
        ehr.hint()
            .contains("`patient/Observation.rs` or `user/Observation.rs`"),
        "{}",
        ehr.hint()
    );
    // Backend Services act for the client only: one candidate.
    assert_eq!(meant("Observation.rs"), ["system/Observation.rs"]);
    assert_eq!(meant("Patient.Read"), ["system/Patient.read"]);
    assert_eq!(meant("Observation.sr"), ["system/Observation.rs"]);
    assert_eq!(meant("*.read"), ["system/*.read"]);
    let both = diagnose(
        "Patient.rs",
        &cx(&[LaunchMode::Standalone, LaunchMode::Backend]),
    )
    .unwrap();
    assert!(
        both.hint()
            .contains("`patient/Patient.rs` or `user/Patient.rs` or `system/Patient.rs`")
    );
}

#[test]
fn a_pasted_scope_string_names_every_token_each_corrected() {
    let c = cx(&[LaunchMode::Ehr]);
    for (t, tokens) in [
        (
            "launch,openid,fhirUser",
            &["launch", "openid", "fhirUser"][..],
        ),
        ("patient/*.read+launch", &["patient/*.read", "launch"]),
        ("launch+patient/*.read", &["launch", "patient/*.read"]),
        ("launch;offline-access", &["launch", "offline_access"]),
        ("launch%20openid", &["launch", "openid"]),
        (
            "launch%2Copenid%2CfhirUser",
            &["launch", "openid", "fhirUser"],
        ),
        ("launch,email", &["launch", "email"]),
        ("launch,", &["launch"]),
    ] {
        let n = diagnose(t, &c).unwrap_or_else(|| panic!("{t}"));
        assert_eq!(n.family, Family::Pasted, "{t}");
        assert_eq!(n.suggestion(), tokens, "{t}");
        assert!(n.is_error());
    }
    // A piece with several candidates: named with both, no single suggestion.
    let n = diagnose("launch,Observation.rs", &c).unwrap();
    assert!(n.suggestion().is_empty());
    assert!(
        n.hint().contains(
            "`launch`, `patient/Observation.rs` or `user/Observation.rs` (for `Observation.rs`)"
        ),
        "{}",
        n.hint()
    );
}

#[test]
fn a_url_encoded_token_is_meant_decoded() {
    assert_eq!(meant("user%2FPatient.read"), ["user/Patient.read"]);
    assert_eq!(meant("user%252FPatient.read"), ["user/Patient.read"]);
    assert_eq!(
        meant("patient%2FObservation.rs%3Fcategory%3Dlaboratory"),
        ["patient/Observation.rs?category=laboratory"]
    );
    assert_eq!(family("user%2FPatient.read"), Family::Encoded);
}

#[test]
fn two_tokens_separated_by_a_space_are_both_named() {
    let c = cx(&[LaunchMode::Ehr]);
    let n = diagnose("patient/Observation.rs launch", &c).unwrap();
    assert_eq!(n.family, Family::Spaced);
    assert_eq!(n.suggestion(), ["patient/Observation.rs", "launch"]);
    assert!(n.hint().contains("`patient/Observation.rs`, `launch`"));
    // Named even when neither is SMART: whitespace always splits a token.
    let n = diagnose("foo bar", &c).unwrap();
    assert_eq!(n.suggestion(), ["foo", "bar"]);
    // Each piece corrected where needed; a comma inside a valid restriction stays.
    let n = diagnose("patient/Observation.rs?category=a,b offline-access", &c).unwrap();
    assert_eq!(
        n.suggestion(),
        ["patient/Observation.rs?category=a,b", "offline_access"]
    );
}

#[test]
fn a_close_misspelling_is_a_warning_not_an_error() {
    let n = diagnose("ofline_access", &cx(&[])).unwrap();
    assert_eq!(n.family, Family::Misspelled);
    assert!(!n.is_error());
    assert_eq!(n.suggestion(), ["offline_access"]);
}

/// Attack: a vendor or extension scope must never be "corrected" into a SMART one.
#[test]
fn vendor_and_extension_scopes_are_never_near_misses() {
    let c = cx(&[LaunchMode::Ehr, LaunchMode::Backend]);
    for t in [
        "__acme_export",
        "__Launch",
        "__offline-access",
        "https://example.org/scope",
        "https://example.org/patient.Observation.read",
        "urn:acme:launch,openid",
        "api:fhir",
        "api:fhir,read",
        "read:patients",
        "email",
        "patient.summary.read",
        "patient.read",
        "observation.read",
        "Foo.read",
        "launch.foo",
        "user:read",
        "acme%2Fexport",
        "patient/Observation.rs",
        "patient/Observation.rs?category=a,b",
        "launch",
    ] {
        assert_eq!(diagnose(t, &c), None, "{t}");
    }
}

#[test]
fn every_suggestion_parses_as_a_smart_scope() {
    let c = cx(&[LaunchMode::Ehr]);
    for t in [
        "offline-access",
        "patient.Observation.read",
        "Observation.rs",
        "launch,openid,fhirUser",
        "user%2FPatient.read",
        "patient/*.read+launch",
        "Launch.Patient",
        "patient/Observation.RS",
    ] {
        let n = diagnose(t, &c).unwrap_or_else(|| panic!("{t}"));
        for p in &n.pieces {
            if let Fix::Meant { scopes, .. } = &p.fix {
                for s in scopes {
                    assert!(
                        matches!(Scope::parse(s), Ok(s) if !matches!(s, Scope::Unknown(_) | Scope::Extension(_))),
                        "{t} → {s}"
                    );
                }
            }
        }
    }
}

#[test]
fn scopes_run_on_after_a_restriction_value_are_pasted() {
    let c = cx(&[LaunchMode::Ehr]);
    for (t, tokens) in [
        (
            "patient/Observation.rs?category=laboratory+launch",
            &["patient/Observation.rs?category=laboratory", "launch"][..],
        ),
        (
            "patient/Observation.rs?category=a,b,patient/Encounter.rs+openid",
            &[
                "patient/Observation.rs?category=a,b",
                "patient/Encounter.rs",
                "openid",
            ],
        ),
    ] {
        let n = diagnose(t, &c).unwrap_or_else(|| panic!("{t}"));
        assert_eq!(n.family, Family::Pasted, "{t}");
        assert_eq!(n.suggestion(), tokens, "{t}");
    }
    // `,` ORs values: a bare word after it may be a code.
    for t in [
        "patient/Observation.rs?category=laboratory,launch",
        "patient/Observation.rs?category=laboratory,vital-signs",
        "patient/Observation.rs?code=http://loinc.org|1234-5",
        "patient/Observation.rs?code=a+b",
    ] {
        assert_eq!(diagnose(t, &c), None, "{t}");
    }
}

/// Every joining of awkward fragments: no panic, and every correction is SMART.
#[test]
fn no_input_panics_or_yields_a_non_smart_correction() {
    let frags = [
        "",
        "%",
        "%2",
        "%2F",
        "%25",
        "%FF",
        "%C3%A9",
        "é",
        "?",
        "?a=",
        "+",
        ",",
        ";",
        " ",
        "\t",
        ".",
        "/",
        "\\",
        "*",
        "patient",
        "Launch",
        "launch",
        "Observation",
        "rs",
        "READ",
        "__x",
        "https://",
        "openid",
        "offline-access",
        "?category=a",
        "user%2F",
    ];
    let c = cx(&[LaunchMode::Ehr, LaunchMode::Backend]);
    for a in frags {
        for b in frags {
            for d in frags {
                let t = format!("{a}{b}{d}");
                let Some(n) = diagnose(&t, &c) else { continue };
                let _ = (n.message(), n.hint(), n.suggestion());
                for p in &n.pieces {
                    if let Fix::Meant { scopes, .. } = &p.fix {
                        for s in scopes {
                            assert!(
                                matches!(Scope::parse(s), Ok(x) if !matches!(x, Scope::Unknown(_) | Scope::Extension(_))),
                                "{t:?} → {s:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

/// After a `?`, commas are a restriction's values, never joiners: a pasted string keeps
/// the restriction with its scope, and a token that fails for its restriction (a
/// parameter repeated with other values) is no pasted string, whose "tokens" would be
/// codes (`vital-signs`).
#[test]
fn commas_in_a_restriction_are_values_not_joiners() {
    assert_eq!(
        meant("launch,patient/Observation.rs?category=laboratory,vital-signs"),
        [
            "launch",
            "patient/Observation.rs?category=laboratory,vital-signs"
        ]
    );
    assert!(
        diagnose(
            "patient/Observation.rs?category=laboratory&category=laboratory,vital-signs",
            &cx(&[LaunchMode::Ehr])
        )
        .is_none()
    );
}
