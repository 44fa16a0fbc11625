#![no_main]

use libfuzzer_sys::fuzz_target;
use scopegate_core::fhir::FhirVersion;
use scopegate_core::manifest::LaunchMode;
use scopegate_core::near_miss::{self, Context, Fix};
use scopegate_core::scope::{Scope, is_v1_syntax, split_scope_string};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    check(s);
    near_misses(s);
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

/// A near-miss diagnosis never panics, and every correction it offers is a SMART scope
/// (never an extension or unknown token), whatever the input.
fn near_misses(s: &str) {
    let cx = Context::new(
        FhirVersion::R4,
        &[LaunchMode::Ehr, LaunchMode::Standalone, LaunchMode::Backend],
    );
    let Some(n) = near_miss::diagnose(s, &cx) else {
        return;
    };
    let _ = (n.message(), n.hint(), n.suggestion());
    for p in &n.pieces {
        if let Fix::Meant { scopes, .. } = &p.fix {
            for m in scopes {
                match Scope::parse(m) {
                    Ok(Scope::Unknown(_) | Scope::Extension(_) | Scope::Invalid(_)) | Err(_) => {
                        panic!("input {s:?}: correction {m:?} is not a SMART scope")
                    }
                    Ok(_) => {}
                }
            }
        }
    }
}
