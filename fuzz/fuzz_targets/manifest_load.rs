#![no_main]
//! The manifest loader, then everything that runs on a loaded manifest: the lint,
//! `suggest`, and the law that a manifest diffed against itself has no changes.

use libfuzzer_sys::fuzz_target;
use scopegate::grant::Options;

fuzz_target!(|data: &[u8]| {
    match scopegate::manifest::from_bytes("fuzz.yaml", data) {
        Ok(m) => {
            for scope in m.requested() {
                let _ = scope.to_string();
            }
            let opts = Options::default();
            let _ = scopegate::lint::check(&m, opts);
            let _ = scopegate::suggest::suggest(&m, opts);
            let changes = scopegate::diff::diff(Some(&m), &m, opts);
            assert!(changes.is_empty(), "diff(m, m) must be empty: {changes:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
