#![no_main]
//! `.scopegate/config.yaml` parsing: never panics; errors render.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = scopegate_core::config::from_bytes("config.yaml", data) {
        let _ = e.to_string();
    }
});
