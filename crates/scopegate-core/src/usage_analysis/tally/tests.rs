use super::*;
use crate::usage_analysis::evidence::{AccessParser, DEFAULT_MAX_RECORD, read_access_log_with};
use crate::usage_analysis::lines::Plan;

// Regression (issue 15 §1): each line's search key was looked for in the list of keys
// seen, and each worker's keys in the merged list: 50,000 distinct searches took 2.8 s.
#[test]
fn distinct_searches_are_tallied_in_time_linear_in_them() {
    let check = |n: usize| {
        let text: String = (0..n)
            .map(|i| {
                format!(
                    r#"{{"time":"2026-11-02T10:00:00Z","tenant":"t1","app":"app","method":"GET","url":"/Observation?category=c{i}","status":200}}"#
                ) + "\n"
            })
            .collect();
        // Two workers on small chunks: both tally and then merge thousands of keys.
        let plan = Plan {
            threads: 2,
            chunk: 1 << 14,
            max_line: DEFAULT_MAX_RECORD,
        };
        let mut best = std::time::Duration::MAX;
        for _ in 0..3 {
            let mut t = Tally::new("app", None, vec!["category".to_string()]);
            let f = t.add_file("a.jsonl", EvidenceKind::AccessLog);
            let start = std::time::Instant::now();
            read_access_log_with(
                text.as_bytes(),
                &mut t,
                f,
                true,
                plan,
                AccessParser::Scanner,
            )
            .unwrap();
            best = best.min(start.elapsed());
            let [by] = t.access.values().collect::<Vec<_>>()[..] else {
                panic!("{:?}", t.access.keys())
            };
            assert_eq!(by.len(), n);
            assert!(by.values().all(|s| s.ok == 1 && s.failed == 0));
            assert_eq!(by["category=c7"].first_seen.line, 8);
        }
        best
    };
    let (small, big) = (check(5_000), check(50_000));
    crate::scaling::assert_near_linear("searches", small, big);
}

/// Evidence that names more tenants (or resource types) than the tally's ids tell apart
/// is refused (`too_many`): each past the last id was folded into one, and the report
/// named some tenants' access as another's. The tally itself stays whole (a placeholder
/// name for the last id), so nothing indexes past its names. Control: as many as it
/// tells apart.
#[test]
fn more_tenants_or_types_than_ids_is_refused_not_folded() {
    let mut t = Tally::new("app", None, Vec::new());
    for i in 0..usize::from(SYSTEM - 1) {
        t.tenant_id(&format!("t{i}"));
        t.type_id(Some(&format!("T{i}")));
    }
    assert_eq!(t.too_many(), None);
    assert_eq!(t.tenant_id("t0"), 0);
    assert_eq!(t.tenant_id("one more"), SYSTEM - 1);
    assert_eq!(t.tenant_id("and another"), SYSTEM - 1);
    assert_eq!(t.tenants.len(), usize::from(SYSTEM));
    let why = t.too_many().unwrap();
    assert!(why.contains("more than 65534 distinct tenants"), "{why}");
    assert!(why.contains("split the evidence"), "{why}");
    assert_eq!(t.type_id(Some("one more type")), SYSTEM - 1);
    assert_eq!(t.types.len(), usize::from(SYSTEM));
    // The first overflow is the one named.
    assert!(t.too_many().unwrap().contains("tenants"));
}
