//! Unit tests for the grammar, each citing the IG text it comes from.

use super::*;

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
