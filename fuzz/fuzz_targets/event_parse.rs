#![no_main]
//! A GitHub event payload (`GITHUB_EVENT_NAME`, `GITHUB_EVENT_PATH`): never panics;
//! what it accepts names commits by ids (40 or 64 hex digits) and a PR author by a
//! login; what it refuses says so in one bounded line.

use libfuzzer_sys::fuzz_target;
use scopegate_core::events::{EVENT_NAMES as NAMES, parse_event};

fn is_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    match parse_event(name, payload) {
        Ok(e) => {
            if let Some(p) = &e.pull_request {
                assert!(is_id(&p.head_sha) && is_id(&p.base_sha), "{p:?}");
                assert!(!p.author.is_empty() && p.author.len() <= 64, "{p:?}");
                assert!(!p.author.chars().any(char::is_control), "{p:?}");
            }
            for id in e.base_sha.iter().chain(&e.head_sha) {
                assert!(is_id(id), "{id:?}");
            }
            if let Some(n) = &e.note {
                assert!(n.len() < 1_000 && !n.chars().any(char::is_control), "{n:?}");
            }
        }
        Err(why) => {
            assert!(why.len() < 1_000, "{} bytes", why.len());
            assert!(!why.contains(['\n', '\r', '\u{2028}', '\u{2029}']), "{why:?}");
        }
    }
});
