#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate::scope::{Scope, is_v1_syntax, split_scope_string};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    check(s);
    let _ = is_v1_syntax(s);
    for token in split_scope_string(s) {
        let _ = is_v1_syntax(token);
        check(token);
    }
});

/// Parses `s`; on success, Display must give a spelling that parses back to the same value.
fn check(s: &str) {
    if let Ok(scope) = Scope::parse(s) {
        let canonical = scope.to_string();
        match Scope::parse(&canonical) {
            Ok(again) => assert_eq!(
                again, scope,
                "round trip changed the value: input {s:?}, canonical {canonical:?}"
            ),
            Err(e) => panic!(
                "canonical spelling does not parse: input {s:?}, canonical {canonical:?}: {e}"
            ),
        }
    }
}
