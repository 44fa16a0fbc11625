#![no_main]
//! The YAML fast path against granit-parser: on any input the fast path reads, the
//! two must give the same events at the same places.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = scopegate_core::yaml::fast_path_agrees(text) {
        panic!("{e}");
    }
});
