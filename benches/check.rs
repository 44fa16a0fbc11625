//! Benchmark: `check` on a generated manifest of 5,000 scope tokens and 500 workflows,
//! in several shapes: `spread` over 146 types and 3 levels, and shapes that concentrate
//! on one type (issue 15 §1): `one-type` (`patient/Observation.rs?category=cN`),
//! `one-type-systems` (the same codes as `cN`, `system|cN` and `|cN`), `wildcard`
//! (`patient/*.rs?category=cN`), `broad-needs` (every workflow needs the whole type) and
//! `lab-codes` (US Core's form: one category shared by all, a LOINC code each,
//! `patient/Observation.rs?category=laboratory&code=http://loinc.org|N`).
//!
//! Run with `cargo bench --bench check`. Reports per shape the median of several runs of
//! the whole check in process (load + lint) and, measured in the same run on the same
//! text, of the load alone (YAML parse + token parse), so the figure survives a noisy
//! machine as a ratio; and the median wall time of the release `scopegate check`
//! process. Targets: well under a second (issue 2); the process within 50 ms on every
//! shape (issue 15).
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::time::{Duration, Instant};

use scopegate::fhir::FhirVersion;
use scopegate::grant::Options;
use scopegate::{lint, manifest};

const SCOPES: usize = 5_000;
const WORKFLOWS: usize = 500;
const RUNS: usize = 7;

const SHAPES: [&str; 6] = [
    "spread",
    "one-type",
    "one-type-systems",
    "wildcard",
    "broad-needs",
    "lab-codes",
];

fn spread() -> Vec<String> {
    let types = FhirVersion::R4.resource_types();
    let levels = ["patient", "user", "system"];
    let perms = ["rs", "r", "s", "crs", "cruds", "read"];
    let mut tokens = Vec::with_capacity(SCOPES);
    let mut i = 0usize;
    while tokens.len() < SCOPES {
        let ty = types[i % types.len()];
        let level = levels[(i / types.len()) % levels.len()];
        let p = perms[(i / 7) % perms.len()];
        let tok = if p == "read" || i < types.len() * levels.len() {
            format!("{level}/{ty}.{p}")
        } else {
            format!("{level}/{ty}.{p}?category=cat-{i}")
        };
        tokens.push(tok);
        i += 1;
    }
    tokens
}

fn generate(shape: &str) -> String {
    let tokens: Vec<String> = match shape {
        "spread" => spread(),
        "one-type" | "broad-needs" => (1..=SCOPES)
            .map(|i| format!("patient/Observation.rs?category=c{i}"))
            .collect(),
        "one-type-systems" => (1..=SCOPES)
            .map(|i| match i % 3 {
                0 => format!("patient/Observation.rs?category=c{i}"),
                1 => format!("patient/Observation.rs?category=http://example.org/cs|c{i}"),
                _ => format!("patient/Observation.rs?category=|c{i}"),
            })
            .collect(),
        "wildcard" => (1..=SCOPES)
            .map(|i| format!("patient/*.rs?category=c{i}"))
            .collect(),
        "lab-codes" => (1..=SCOPES)
            .map(|i| {
                format!("patient/Observation.rs?category=laboratory&code=http://loinc.org|{i}-0")
            })
            .collect(),
        other => panic!("unknown shape {other}"),
    };
    let mut t = String::from(
        "id: bench\nname: Benchmark\nfhir_version: R4\nlaunch: [ehr, standalone, backend]\nscopes:\n  - scope: launch\n    rationale: EHR launch.\n  - scope: launch/patient\n    rationale: standalone.\n",
    );
    for tok in &tokens {
        t.push_str(&format!(
            "  - scope: \"{tok}\"\n    rationale: The app needs {tok} for one of its workflows.\n"
        ));
    }
    t.push_str("workflows:\n");
    for w in 0..WORKFLOWS {
        t.push_str(&format!(
            "  - id: wf-{w}\n    description: Workflow number {w}.\n    needs:\n"
        ));
        if shape == "broad-needs" {
            t.push_str("      - \"patient/Observation.rs\"\n");
            continue;
        }
        // Every scope is needed by exactly one workflow, ten per workflow.
        for tok in tokens.iter().skip(w * 10).take(10) {
            t.push_str(&format!("      - \"{tok}\"\n"));
        }
    }
    t
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let only = std::env::var("CHECK_BENCH_SHAPES").ok();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut summary = Vec::new();
    for shape in SHAPES {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == shape))
        {
            continue;
        }
        summary.push((shape, bench(shape, dir.path())));
    }
    println!("summary (median wall time of the `scopegate check` process):");
    for (shape, d) in summary {
        println!(
            "  {shape:<17} {:>7.1} ms (target <= 50 ms)",
            d.as_secs_f64() * 1e3
        );
    }
}

fn bench(shape: &str, dir: &std::path::Path) -> Duration {
    let text = generate(shape);
    let path = dir.join(format!("{shape}.yaml"));
    std::fs::write(&path, &text).expect("write the manifest");
    let opts = Options::default();
    let mut load = Vec::new();
    let mut full = Vec::new();
    let mut findings = 0;
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let m = manifest::from_str("bench.yaml", &text).expect("generated manifest loads");
        load.push(t0.elapsed());
        let t1 = Instant::now();
        let m2 = manifest::from_str("bench.yaml", &text).expect("generated manifest loads");
        findings = lint::check(&m2, opts).len();
        full.push(t1.elapsed());
        drop(m);
    }
    let (l, f) = (median(load), median(full));
    let mut process = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = std::process::Command::new(bin())
            .arg("check")
            .arg(&path)
            .output()
            .expect("scopegate runs");
        process.push(t.elapsed());
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "scopegate check failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let p = median(process);
    println!(
        "check [{shape}]: {SCOPES} scopes, {WORKFLOWS} workflows, {} KiB, {findings} findings",
        text.len() / 1024
    );
    println!(
        "  load only (baseline): median {:>8.1} ms",
        l.as_secs_f64() * 1e3
    );
    println!(
        "  load + lint (check):  median {:>8.1} ms",
        f.as_secs_f64() * 1e3
    );
    println!(
        "  ratio check/load: {:.2}x; lint alone: {:.1} ms",
        f.as_secs_f64() / l.as_secs_f64(),
        (f.saturating_sub(l)).as_secs_f64() * 1e3
    );
    println!(
        "  scopegate check process: median {:>8.1} ms",
        p.as_secs_f64() * 1e3
    );
    p
}

/// The binary timed: this build's, or `SCOPEGATE_BENCH_BIN` (to time another build,
/// e.g. the one before a change, on the same shapes in the same conditions).
fn bin() -> std::path::PathBuf {
    std::env::var_os("SCOPEGATE_BENCH_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_scopegate").into(), Into::into)
}
