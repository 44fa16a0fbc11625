//! Benchmark: `check` on a generated manifest of 5,000 scope tokens and 500 workflows.
//!
//! Run with `cargo bench --bench check`. Reports the median of several runs of the
//! whole check (load + lint) and, measured in the same run on the same text, of the
//! load alone (YAML parse + token parse), so the figure survives a noisy machine as a
//! ratio. Target (issue 2): well under a second for the whole check.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::time::{Duration, Instant};

use scopegate::fhir::FhirVersion;
use scopegate::grant::Options;
use scopegate::{lint, manifest};

const SCOPES: usize = 5_000;
const WORKFLOWS: usize = 500;
const RUNS: usize = 7;

fn generate() -> String {
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
    let text = generate();
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
    println!(
        "check: {SCOPES} scopes, {WORKFLOWS} workflows, {} KiB, {findings} findings",
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
}
