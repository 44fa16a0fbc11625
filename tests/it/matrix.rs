//! `scopegate matrix` end to end: the three example apps and tenants, a ledger, and
//! every format through the real binary.

use crate::support::matrix::{example, fixture, matrix, write};
use serde_json::Value;

/// Every scope the example manifests request, as written.
fn all_scopes() -> Vec<String> {
    let mut out = Vec::new();
    for app in ["med-rec", "patient-summary", "population-health"] {
        let m = scopegate::manifest::from_str("x.yaml", &example(&format!("{app}.yaml"))).unwrap();
        out.extend(m.scopes.iter().map(|e| e.token.text.value.clone()));
    }
    out
}

#[test]
fn json_has_one_row_per_scope_with_history_and_tenant_verdicts() {
    let d = fixture();
    let v: Value = serde_json::from_str(&matrix(d.path(), "json")).unwrap();
    assert_eq!(v["format_version"], 1);
    let rows = v["rows"].as_array().unwrap();
    let scopes: Vec<&str> = rows.iter().map(|r| r["scope"].as_str().unwrap()).collect();
    assert_eq!(scopes, all_scopes());
    let ms = rows
        .iter()
        .find(|r| r["scope"] == "patient/MedicationStatement.crs")
        .unwrap();
    let by: Vec<&str> = ms["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["by"].as_str().unwrap())
        .collect();
    assert_eq!(by, ["alice", "bob"], "ledger order, newest last");
    assert_eq!(
        ms["workflows"],
        serde_json::json!(["overnight-discrepancy-check", "reconcile"])
    );
    let cells = ms["tenants"].as_array().unwrap();
    assert_eq!(cells[0]["tenant"], "academic-medical-center");
    assert_eq!(cells[0]["permit"], "allowed");
    assert_eq!(cells[0]["sensitive"], true);
    assert_eq!(cells[1]["permit"], "denied");
    assert_eq!(cells[1]["rules"], serde_json::json!(["tenant-not-allowed"]));
    assert_eq!(cells[2]["ehr"], "unlisted");
    let offline = rows
        .iter()
        .find(|r| r["scope"] == "offline_access")
        .unwrap();
    assert_eq!(offline["risk"], "high");
    assert_eq!(offline["approvals"][0]["ticket"], "SEC-7");
}

#[test]
fn the_same_inputs_give_the_same_bytes_in_every_format() {
    let d = fixture();
    for f in ["markdown", "json", "csv", "html"] {
        assert_eq!(matrix(d.path(), f), matrix(d.path(), f), "{f}");
    }
}

#[test]
fn markdown_matrix() {
    let d = fixture();
    insta::assert_snapshot!(matrix(d.path(), "markdown"));
}

#[test]
fn csv_matrix_is_rfc_4180_and_defuses_formulas() {
    let d = fixture();
    let app = example("patient-summary.yaml").replace(
        "Sign-in, so the summary can show who is viewing it.",
        "=HYPERLINK(\"http://evil.example\",\"x\")",
    );
    write(d.path(), "apps/patient-summary.yaml", &app);
    let csv = matrix(d.path(), "csv");
    assert!(csv.ends_with("\r\n"));
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\","),
        "{csv}"
    );
    // bob's reason starts no cell, but the approvals cell quotes it with doubled quotes.
    assert!(csv.contains("\"\"too\"\""), "{csv}");
    insta::assert_snapshot!(csv.replace("\r\n", "\u{21b5}\n"));
}

#[test]
fn html_escapes_hostile_rationales_and_loads_nothing() {
    let d = fixture();
    let hostile = example("med-rec.yaml").replace(
        "Renal and hepatic labs used for dose checks.",
        "<script>alert(1)</script> \\\"><img src=x onerror=alert(2)> & 'q'",
    );
    write(d.path(), "apps/med-rec.yaml", &hostile);
    let html = matrix(d.path(), "html");
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt; &amp; &#39;q&#39;"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ));
    for banned in ["src=\"", "href=", "url(", "@import"] {
        assert!(!html.contains(banned), "`{banned}` in the page");
    }
}
