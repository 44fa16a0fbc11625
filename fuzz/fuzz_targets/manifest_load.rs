#![no_main]
//! The manifest loader, then everything that runs on a loaded manifest: the lint,
//! `suggest`, and the law that a manifest diffed against itself has no changes.

use libfuzzer_sys::fuzz_target;
use scopegate_core::grant::Options;

fuzz_target!(|data: &[u8]| {
    match scopegate_core::manifest::from_bytes("fuzz.yaml", data) {
        Ok(m) => {
            for scope in m.requested() {
                let _ = scope.to_string();
            }
            let opts = Options::default();
            let _ = scopegate_core::lint::check(&m, opts);
            let _ = scopegate_core::suggest::suggest(&m, opts);
            let changes = scopegate_core::diff::diff(Some(&m), &m, opts);
            assert!(changes.is_empty(), "diff(m, m) must be empty: {changes:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
