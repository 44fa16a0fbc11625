use super::*;
use crate::usage_analysis::Interaction as I;

/// (interaction, resource, operation, query)
fn p(method: &str, url: &str) -> (I, Option<&'static str>, Option<String>, String) {
    let r = parse(method, url).unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    (
        r.interaction,
        r.resource.map(leak),
        r.operation.map(str::to_string),
        r.query.to_string(),
    )
}

fn is(
    i: I,
    ty: Option<&'static str>,
    q: &str,
) -> (I, Option<&'static str>, Option<String>, String) {
    (i, ty, None, q.to_string())
}

#[test]
fn instance_level_interactions() {
    assert_eq!(
        p("GET", "/Observation/1"),
        is(I::Read, Some("Observation"), "")
    );
    assert_eq!(
        p("GET", "/Observation/1/_history/2"),
        is(I::Vread, Some("Observation"), "")
    );
    assert_eq!(
        p("GET", "/Observation/1/_history"),
        is(I::HistoryInstance, Some("Observation"), "")
    );
    assert_eq!(
        p("PUT", "/Observation/1"),
        is(I::Update, Some("Observation"), "")
    );
    assert_eq!(
        p("PATCH", "/Observation/1"),
        is(I::Patch, Some("Observation"), "")
    );
    assert_eq!(
        p("DELETE", "/Observation/1"),
        is(I::Delete, Some("Observation"), "")
    );
}

#[test]
fn type_level_interactions() {
    assert_eq!(
        p("GET", "/Observation?patient=1&category=laboratory"),
        is(
            I::SearchType,
            Some("Observation"),
            "patient=1&category=laboratory"
        )
    );
    assert_eq!(
        p("GET", "/Observation"),
        is(I::SearchType, Some("Observation"), "")
    );
    assert_eq!(
        p("POST", "/Observation/_search"),
        is(I::SearchType, Some("Observation"), "")
    );
    assert_eq!(
        p("GET", "/Observation/_search?code=1234-5"),
        is(I::SearchType, Some("Observation"), "code=1234-5")
    );
    assert_eq!(
        p("POST", "/Observation"),
        is(I::Create, Some("Observation"), "")
    );
    assert_eq!(
        p("GET", "/Observation/_history"),
        is(I::HistoryType, Some("Observation"), "")
    );
    // Conditional update, patch and delete: type level with search criteria.
    assert_eq!(
        p("PUT", "/Patient?identifier=x|1"),
        is(I::Update, Some("Patient"), "identifier=x|1")
    );
    assert_eq!(
        p("PATCH", "/Patient?identifier=x|1"),
        is(I::Patch, Some("Patient"), "identifier=x|1")
    );
    assert_eq!(
        p("DELETE", "/Patient?identifier=x|1"),
        is(I::Delete, Some("Patient"), "identifier=x|1")
    );
    // Compartment search is a search on the inner type.
    assert_eq!(
        p("GET", "/Patient/1/Observation?category=vital-signs"),
        is(I::SearchType, Some("Observation"), "category=vital-signs")
    );
}

#[test]
fn system_level_interactions() {
    assert_eq!(
        p("GET", "/?_type=Observation,Condition"),
        is(I::SearchSystem, None, "_type=Observation,Condition")
    );
    assert_eq!(
        p("GET", "https://ehr.example/fhir/R4?_type=Patient"),
        is(I::SearchSystem, None, "_type=Patient")
    );
    assert_eq!(p("POST", "/_search"), is(I::SearchSystem, None, ""));
    assert_eq!(p("GET", "/_history"), is(I::HistorySystem, None, ""));
    assert_eq!(p("GET", "/metadata"), is(I::Capabilities, None, ""));
    assert_eq!(p("POST", "/"), is(I::Batch, None, ""));
    assert_eq!(
        p("POST", "https://ehr.example/fhir/R4/"),
        is(I::Batch, None, "")
    );
}

#[test]
fn operations_are_reported_with_their_name() {
    let op = |m, u| {
        let (i, ty, op, _) = p(m, u);
        (i, ty, op.unwrap())
    };
    assert_eq!(
        op("GET", "/Patient/1/$everything"),
        (I::Operation, Some("Patient"), "$everything".into())
    );
    assert_eq!(
        op("POST", "/Observation/$lastn?max=3"),
        (I::Operation, Some("Observation"), "$lastn".into())
    );
    assert_eq!(
        op("GET", "/$export"),
        (I::Operation, None, "$export".into())
    );
}

#[test]
fn the_base_path_and_host_are_ignored() {
    for url in [
        "/Observation/1",
        "Observation/1",
        "/fhir/R4/Observation/1",
        "https://ehr.example.org/fhir/R4/Observation/1",
        "https://ehr.example.org/fhir/R4/Observation/1#frag",
        "/api/FHIR/R4/Observation/1/",
    ] {
        assert_eq!(p("GET", url), is(I::Read, Some("Observation"), ""), "{url}");
    }
}

#[test]
fn what_is_not_a_fhir_request_is_an_error() {
    for (m, u) in [
        ("GET", "/Obsevation/1"),
        ("POST", "/Observation/1"),
        ("PUT", "/Observation"),
        ("DELETE", "/"),
        ("GET", "/Observation/1/_history/2/extra"),
        ("TRACE", "/Observation/1"),
        ("GET", "/_bogus"),
    ] {
        assert!(parse(m, u).is_err(), "{m} {u} should be refused");
    }
}

#[test]
fn params_and_percent_decoding() {
    let v: Vec<_> = params("a=1&b=&c&&d=x%7Cy").collect();
    assert_eq!(v, [("a", "1"), ("b", ""), ("c", ""), ("d", "x%7Cy")]);
    assert_eq!(decode("x%7Cy").as_deref(), Some("x|y"));
    assert_eq!(decode("plain").as_deref(), Some("plain"));
    assert_eq!(decode("bad%zz").as_deref(), Some("bad%zz"));
    assert_eq!(decode("%ff"), None);
}
