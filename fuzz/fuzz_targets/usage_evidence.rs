#![no_main]

//! Evidence readers and the FHIR REST URL parser on arbitrary bytes: no panic, and
//! the bad-line count never exceeds the lines read.

use libfuzzer_sys::fuzz_target;
use scopegate::usage::evidence::{read_access_log, read_audit_events, read_granted};
use scopegate::usage::fhir_url;
use scopegate::usage::tally::{EvidenceKind, Tally};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        for line in s.lines() {
            let (method, url) = line.split_once(' ').unwrap_or(("GET", line));
            let _ = fhir_url::parse(method, url);
            let _ = scopegate::usage::instant::parse(line);
        }
    }
    let mut t = Tally::new("app", None, vec!["category".into()]);
    let a = t.add_file("a", EvidenceKind::AccessLog);
    let _ = read_access_log(data, &mut t, a, false);
    let g = t.add_file("g", EvidenceKind::Granted);
    let _ = read_granted(data, &mut t, g, false);
    let e = t.add_file("e", EvidenceKind::AuditEvents);
    let _ = read_audit_events(data, &mut t, e, false);
    let lines = data.iter().filter(|b| **b == b'\n').count() as u64 + 1;
    assert!(t.bad_count <= 3 * lines);
});
