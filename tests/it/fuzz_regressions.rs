//! Inputs the fuzz targets once crashed on (`tests/fixtures/fuzz/`), replayed through
//! the same properties the targets check, so each crash stays fixed.

use std::path::PathBuf;

use scopegate::approval::{NewEntry, append};
use scopegate::grant::Options;

fn inputs(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no {prefix}* inputs");
    out
}

#[test]
fn manifest_crashes_stay_fixed() {
    for (name, bytes) in inputs("manifest-") {
        if let Ok(m) = scopegate::manifest::from_bytes("fuzz.yaml", &bytes) {
            let opts = Options::default();
            let _ = scopegate::lint::check(&m, opts);
            let _ = scopegate::suggest::suggest(&m, opts);
            let changes = scopegate::diff::diff(Some(&m), &m, opts);
            assert!(changes.is_empty(), "{name}: {changes:?}");
        }
    }
}

#[test]
fn ledger_crashes_stay_fixed() {
    for (name, bytes) in inputs("ledger-") {
        let Ok(entries) = scopegate::approval::from_bytes("l", &bytes) else {
            continue;
        };
        let keys = vec!["app:patient/Observation.c".to_string()];
        let next = append(
            Some(std::str::from_utf8(&bytes).unwrap()),
            &NewEntry {
                keys: &keys,
                by: "alice",
                at: "2026-11-28T10:00:00Z",
                ticket: Some("T-1"),
                reason: None,
                expires: None,
                tenants: &[],
                signature: None,
            },
        );
        if let Ok(next) = next {
            let after = scopegate::approval::from_bytes("l", next.as_bytes())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(after.len(), entries.len() + 1, "{name}");
        }
    }
}

/// `event_parse`: the first byte picks the event name as the target does; a note or an
/// error stays one bounded line (a default branch with a control character and 20 kB
/// was quoted raw in a push's note).
#[test]
fn event_crashes_stay_fixed() {
    use scopegate::events::EVENT_NAMES as NAMES;
    for (name, bytes) in inputs("event-") {
        let (&pick, payload) = bytes.split_first().unwrap();
        let text =
            match scopegate::events::parse_event(NAMES[usize::from(pick) % NAMES.len()], payload) {
                Ok(e) => e.note.unwrap_or_default(),
                Err(why) => why,
            };
        assert!(text.len() < 1_000, "{name}: {} bytes", text.len());
        assert!(!text.chars().any(char::is_control), "{name}: {text:?}");
    }
}
