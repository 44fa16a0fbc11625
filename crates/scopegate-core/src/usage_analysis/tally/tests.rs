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
