//! The fixture for `scopegate matrix` tests: a working tree (no git needed) with the
//! three example apps, the three example tenants and a two-entry ledger.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn example(rel: &str) -> String {
    std::fs::read_to_string(root().join("examples").join(rel)).unwrap()
}

pub fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const CONFIG: &str = "approvers: [alice]\nmanifests:\n  - apps/med-rec.yaml\n  - apps/patient-summary.yaml\n  - apps/population-health.yaml\n";

const LEDGER: &str = "approvals:\n  - keys: ['med-rec:patient/MedicationStatement.c', 'med-rec:offline_access']\n    by: alice\n    at: 2026-03-01\n    ticket: SEC-7\n  - keys: ['med-rec:patient/MedicationStatement.c']\n    by: bob\n    at: 2026-04-01T09:30:00Z\n    reason: \"=cmd|' /C calc'!A0, quoted \\\"too\\\"\"\n    tenants: [academic-medical-center]\n";

/// A working tree (no git needed) with the example apps, tenants and a ledger.
pub fn fixture() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".scopegate/config.yaml", CONFIG);
    write(d.path(), ".scopegate/approvals.yaml", LEDGER);
    for app in ["med-rec", "patient-summary", "population-health"] {
        write(
            d.path(),
            &format!("apps/{app}.yaml"),
            &example(&format!("{app}.yaml")),
        );
    }
    for t in [
        "community-clinic.yaml",
        "academic-medical-center.yaml",
        "regional-hospital.yaml",
        "ehr/academic-medical-center.json",
        "ehr/regional-hospital.json",
    ] {
        write(
            d.path(),
            &format!(".scopegate/tenants/{t}"),
            &example(&format!("tenants/{t}")),
        );
    }
    d
}

pub fn matrix(dir: &Path, format: &str) -> String {
    let out = Command::cargo_bin("scopegate")
        .unwrap()
        .env_clear()
        .current_dir(dir)
        .args(["matrix", "--format", format])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
