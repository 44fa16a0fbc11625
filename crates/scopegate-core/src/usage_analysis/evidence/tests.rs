//! Differential tests: the scanner and the worker threads must not change a report.
//! Each log is read the reference way (serde_json, one thread, line by line) and the
//! fast ways (the scanner, several threads, chunks small enough to cut everywhere),
//! and the reports, bad lines and errors compared whole.

use super::*;
use crate::manifest::{Manifest, from_str};
use crate::usage_analysis::access_log::tests::{Rng, line};
use crate::usage_analysis::analyze::{UsageOptions, analyze, restriction_params};
use crate::usage_analysis::tally::EvidenceKind;

fn manifest() -> Manifest {
    from_str(
        "m.yaml",
        "id: app\nlaunch: [ehr]\nscopes:\n  - scope: patient/*.rs\n    rationale: r\n  - scope: patient/Observation.rs?category=laboratory\n    rationale: r\n  - scope: patient/Task.cud\n    rationale: r\nworkflows:\n  - id: w\n    description: d\n    needs: [patient/Observation.rs, patient/Task.d]\n",
    )
    .unwrap()
}

/// A generated log: common lines, odd lines, bad lines, blank lines, CRLF endings.
fn log(seed: u64, n: usize) -> Vec<u8> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    for _ in 0..n {
        match rng.below(30) {
            0 => out.extend_from_slice(b"\n"),
            1 => out.extend_from_slice(b"  \t\r\n"),
            _ => {
                // `line` may hold a newline byte only by mutation; keep lines whole.
                let l: Vec<u8> = line(&mut rng).into_iter().filter(|b| *b != b'\n').collect();
                out.extend_from_slice(&l);
                out.extend_from_slice(if rng.below(5) == 0 { b"\r\n" } else { b"\n" });
            }
        }
    }
    out
}

const REFERENCE: (Plan, AccessParser) = (
    Plan {
        threads: 1,
        chunk: 1 << 20,
        max_line: DEFAULT_MAX_RECORD,
    },
    AccessParser::Serde,
);

/// The JSON report of `log` read one way, or the error.
fn report(
    r: impl Read,
    strict: bool,
    (plan, parser): (Plan, AccessParser),
) -> Result<String, EvidenceError> {
    let m = manifest();
    let mut t = Tally::new("app", None, restriction_params(&m));
    let f = t.add_file("access.jsonl", EvidenceKind::AccessLog);
    read_access_log_with(r, &mut t, f, strict, plan, parser)?;
    Ok(crate::render::json::render(&analyze(
        &m,
        &t,
        UsageOptions::default(),
    )))
}

fn fast_ways() -> Vec<(Plan, AccessParser)> {
    let mut ways = Vec::new();
    for (threads, chunk) in [
        (1, 1 << 20),
        (1, 61),
        (2, 1 << 20),
        (2, 97),
        (3, 1),
        (4, 4096),
    ] {
        for parser in [AccessParser::Scanner, AccessParser::Serde] {
            ways.push((
                Plan {
                    threads,
                    chunk,
                    max_line: DEFAULT_MAX_RECORD,
                },
                parser,
            ));
        }
    }
    ways
}

#[test]
fn the_scanner_and_threads_give_the_reference_report_on_generated_logs() {
    for seed in 1..=6u64 {
        let log = log(seed * 0x9e37_79b9, 3_000);
        let reference = report(&log[..], false, REFERENCE).unwrap();
        // Enough bad lines that only the first few are shown: which ones must match.
        assert!(reference.contains("\"bad_lines\": "), "{reference}");
        for way in fast_ways() {
            assert_eq!(report(&log[..], false, way).unwrap(), reference, "{way:?}");
        }
    }
}

#[test]
fn strict_stops_at_the_same_first_bad_line_whichever_way_it_reads() {
    for seed in 1..=20u64 {
        let log = log(seed * 0x51ed, 400);
        let reference = report(&log[..], true, REFERENCE);
        for way in fast_ways() {
            assert_eq!(
                report(&log[..], true, way),
                reference,
                "{way:?} seed {seed}"
            );
        }
    }
}

/// Gives `data` up to `fail_at` bytes, a few at a time with interruptions, then fails.
struct Flaky<'a> {
    data: &'a [u8],
    fail_at: usize,
    calls: usize,
}

impl Read for Flaky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        if self.fail_at == 0 {
            return Err(std::io::Error::other("disk on fire"));
        }
        if self.data.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(self.data.len()).min(self.fail_at).min(37);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.fail_at -= n;
        Ok(n)
    }
}

#[test]
fn a_read_error_is_reported_at_the_same_line_whichever_way_it_reads() {
    let log = log(7, 300);
    for fail_at in [0, 1, 150, log.len() / 2, log.len() - 1] {
        for strict in [false, true] {
            let flaky = |fail_at| Flaky {
                data: &log,
                fail_at,
                calls: 0,
            };
            let reference = report(flaky(fail_at), strict, REFERENCE);
            assert!(reference.is_err() || strict, "{fail_at}");
            for way in fast_ways() {
                assert_eq!(
                    report(flaky(fail_at), strict, way),
                    reference,
                    "{way:?} at {fail_at}"
                );
            }
        }
    }
    // Interruptions alone are retried.
    let whole = Flaky {
        data: &log,
        fail_at: usize::MAX,
        calls: 0,
    };
    assert_eq!(
        report(
            whole,
            false,
            (
                Plan {
                    threads: 2,
                    chunk: 50,
                    max_line: DEFAULT_MAX_RECORD,
                },
                AccessParser::Scanner
            )
        ),
        report(&log[..], false, REFERENCE)
    );
}

#[test]
fn a_line_longer_than_a_chunk_is_read_whole() {
    let long = format!(
        r#"{{"time":"2026-11-02T10:00:00Z","tenant":"t","app":"app","method":"GET","url":"/Observation?category=laboratory&x={}","status":200}}"#,
        "y".repeat(5000)
    );
    let log = format!("{long}\n{long}\nnot json\n{long}");
    let reference = report(log.as_bytes(), false, REFERENCE).unwrap();
    let v: serde_json::Value = serde_json::from_str(&reference).unwrap();
    assert_eq!(
        v["evidence"]["bad_line_samples"][0]["line"], 3,
        "{reference}"
    );
    for way in fast_ways() {
        assert_eq!(
            report(log.as_bytes(), false, way).unwrap(),
            reference,
            "{way:?}"
        );
    }
}

#[test]
fn a_line_over_the_limit_is_refused_at_its_number_whichever_way_it_reads() {
    let long = format!(
        r#"{{"time":"2026-11-02T10:00:00Z","tenant":"t","app":"app","method":"GET","url":"/Observation?x={}","status":200}}"#,
        "y".repeat(300)
    );
    let short = r#"{"time":"2026-11-02T10:00:00Z","tenant":"t","app":"app","method":"GET","url":"/Patient/1","status":200}"#;
    let mut log = String::new();
    for _ in 0..40 {
        log.push_str(short);
        log.push('\n');
    }
    log.push_str(&long);
    log.push('\n');
    log.push_str(short);
    for (limit, want) in [(long.len() - 1, Some(41)), (long.len(), None)] {
        for mut way in fast_ways() {
            way.0.max_line = limit;
            match (report(log.as_bytes(), false, way), want) {
                (Err(e), Some(line)) => {
                    assert_eq!(e.line, line, "{way:?}");
                    assert!(
                        e.message
                            .starts_with(&format!("the line is longer than {limit} bytes")),
                        "{e}"
                    );
                }
                (Ok(_), None) => {}
                (got, _) => panic!("{way:?} limit {limit}: {got:?}"),
            }
        }
    }
    // Without a newline at the end, and on the first line.
    for way in fast_ways() {
        let mut w = way;
        w.0.max_line = 10;
        assert_eq!(report(short.as_bytes(), false, w).unwrap_err().line, 1);
    }
}
