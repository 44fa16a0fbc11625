#![no_main]
//! The approvals ledger: parsing never panics, the event walk and serde read the same
//! entries from whatever the walk reads, and appending an entry to a ledger that loads
//! either is refused or gives a ledger that loads with exactly one more entry.

use libfuzzer_sys::fuzz_target;
use scopegate_core::approval::{NewEntry, append, from_bytes, readers_agree};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(readers_agree(text), "the two ledger readers disagree on:\n{text}");
    }
    let Ok(entries) = from_bytes("approvals.yaml", data) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let keys = vec!["app:patient/Observation.c".to_string()];
    let next = append(
        Some(text),
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
    // `append` refuses layouts it cannot extend; what it returns must load, one longer.
    if let Ok(next) = next {
        match from_bytes("approvals.yaml", next.as_bytes()) {
            Ok(after) => assert_eq!(after.len(), entries.len() + 1, "{next}"),
            Err(e) => panic!("appending broke the ledger: {e}\n{next}"),
        }
    }
});
