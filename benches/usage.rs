//! Benchmark: `scopegate usage` on a generated access log of 5,000,000 lines over 3
//! tenants and 40 resource types, against `wc -l` on the same file, in the same run.
//!
//! Run with `cargo bench --bench usage` (`USAGE_BENCH_LINES` overrides the size).
//! Reports the median of several interleaved runs of each, their ratio, and the peak
//! RSS of the scopegate process (`/usr/bin/time -f %M` when present, otherwise the
//! kernel's high-water mark, VmHWM, sampled from /proc). Target (issue 7): within 15×
//! of `wc -l`, with peak memory under 100 MB. The file is in the page cache for both.
//!
//! Then the shapes of evidence (issue 17 §6), each of `USAGE_BENCH_MB` megabytes
//! (default 100; a list such as `100,400` runs each size): a minified AuditEvent
//! Bundle (one line), a pretty one (`resourceType` last), the same events as NDJSON,
//! and the access log gzipped. Each is timed with `/usr/bin/time -v` (wall time, peak
//! RSS) against `cat` (`zcat` for gzip) of the same file in the same run.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LINES: usize = 5_000_000;
const RUNS: usize = 5;
const TENANTS: [&str; 3] = ["north", "south", "west"];
const TYPES: [&str; 40] = [
    "AllergyIntolerance",
    "Appointment",
    "CarePlan",
    "CareTeam",
    "Claim",
    "Communication",
    "Condition",
    "Consent",
    "Coverage",
    "Device",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "EpisodeOfCare",
    "FamilyMemberHistory",
    "Goal",
    "ImagingStudy",
    "Immunization",
    "List",
    "Location",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationRequest",
    "MedicationStatement",
    "NutritionOrder",
    "Observation",
    "Organization",
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "ServiceRequest",
    "Specimen",
    "Task",
    "VisionPrescription",
];

const MANIFEST: &str = "id: bench-app\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: EHR launch.\n  - scope: patient/*.rs\n    rationale: The chart.\n  - scope: patient/Observation.rs?category=laboratory,vital-signs\n    rationale: Results.\n  - scope: patient/Observation.cu\n    rationale: Home readings.\n  - scope: patient/Task.cud\n    rationale: Follow-ups.\nworkflows:\n  - id: chart\n    description: d\n    needs: [patient/*.rs, patient/Observation.cu, patient/Task.cud]\n";

/// A small deterministic generator (xorshift), so the file is the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn generate(path: &Path, lines: usize) {
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let cats = ["laboratory", "vital-signs", "social-history"];
    for i in 0..lines {
        let tenant = TENANTS[rng.below(3)];
        let ty = TYPES[rng.below(TYPES.len())];
        let id = rng.below(1_000_000);
        let pid = rng.below(50_000);
        let (method, url, status) = match rng.below(20) {
            0..=7 => ("GET", format!("/{ty}/{id}"), 200),
            8..=13 => ("GET", format!("/{ty}?patient={pid}&_count=50"), 200),
            14 => (
                "GET",
                format!(
                    "/Observation?patient={pid}&category={}&_sort=-date",
                    cats[rng.below(3)]
                ),
                if rng.below(3) == 2 { 403 } else { 200 },
            ),
            15 => (
                "GET",
                format!("/{ty}/{id}/_history/{}", rng.below(9) + 1),
                200,
            ),
            16 => ("POST", "/Observation".to_string(), 201),
            17 => ("PUT", format!("/Task/{id}"), 200),
            18 => ("GET", format!("/Patient/{pid}/$everything"), 200),
            _ => ("GET", "/metadata".to_string(), 200),
        };
        let sec = i / 60;
        writeln!(
            w,
            r#"{{"time":"2026-11-{:02}T{:02}:{:02}:{:02}.{:03}Z","tenant":"{tenant}","app":"bench-app","method":"{method}","url":"https://ehr-{tenant}.example.org/fhir/R4{url}","status":{status},"user":"Practitioner/{}","latency_ms":{}}}"#,
            1 + (sec / 86_400) % 28,
            sec / 3600 % 24,
            sec / 60 % 60,
            sec % 60,
            i % 1000,
            rng.below(500),
            rng.below(900)
        )
        .unwrap();
    }
    w.flush().unwrap();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn timed(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let took = t.elapsed();
    assert!(st.code().is_some_and(|c| c <= 1), "{cmd:?} failed: {st}");
    took
}

/// Peak RSS in KiB of one run of `cmd`.
fn peak_rss(bin: &str, args: &[&str]) -> (u64, &'static str) {
    if Path::new("/usr/bin/time").exists() {
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%M", bin])
            .args(args)
            .stdout(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if let Some(kb) = err.lines().last().and_then(|l| l.trim().parse().ok()) {
            return (kb, "/usr/bin/time %M");
        }
    }
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Ok(s) = std::fs::read_to_string(&status)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            peak = kb;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (peak, "/proc VmHWM")
}

/// Wall seconds and peak RSS (KiB) of one run under `/usr/bin/time -v`.
fn time_v(cmd: &str, args: &[&str]) -> (f64, u64) {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(cmd)
        .args(args)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("{cmd}: no `{name}` in {err}"))
            .trim()
            .to_string()
    };
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{cmd} {args:?}: {err}"
    );
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):");
    let secs = wall
        .split(':')
        .fold(0.0, |acc, part| acc * 60.0 + part.parse::<f64>().unwrap());
    (
        secs,
        field("Maximum resident set size (kbytes):")
            .parse()
            .unwrap(),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Minified,
    Pretty,
    Ndjson,
}

/// `bytes` of AuditEvents in `shape`, written one at a time.
fn generate_events(path: &Path, shape: Shape, bytes: u64) -> usize {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/usage/audit/bundle.json"
    );
    let b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let events: Vec<String> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].to_string())
        .collect();
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut n = 0;
    let mut written = 0u64;
    match shape {
        Shape::Minified => {
            w.write_all(br#"{"resourceType":"Bundle","type":"collection","entry":["#)
        }
        Shape::Pretty => w.write_all(b"{\n  \"type\": \"collection\",\n  \"entry\": [\n"),
        Shape::Ndjson => Ok(()),
    }
    .unwrap();
    while written < bytes {
        let ev = &events[n % events.len()];
        let text = match shape {
            Shape::Minified => format!(
                r#"{}{{"fullUrl":"urn:uuid:{n}","resource":{ev}}}"#,
                if n == 0 { "" } else { "," }
            ),
            Shape::Pretty => format!(
                "{}    {{\n      \"resource\": {ev}\n    }}",
                if n == 0 { "" } else { ",\n" }
            ),
            Shape::Ndjson => format!("{ev}\n"),
        };
        w.write_all(text.as_bytes()).unwrap();
        written += text.len() as u64;
        n += 1;
    }
    match shape {
        Shape::Minified => w.write_all(b"]}"),
        Shape::Pretty => w.write_all(b"\n  ],\n  \"resourceType\": \"Bundle\"\n}\n"),
        Shape::Ndjson => Ok(()),
    }
    .unwrap();
    w.flush().unwrap();
    n
}

/// The evidence shapes of issue 17 §6 against `cat`/`zcat` of the same file.
fn shapes(bin: &str, dir: &Path, log: &Path) {
    let sizes: Vec<u64> = std::env::var("USAGE_BENCH_MB")
        .unwrap_or_else(|_| "100".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let summary = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/patient-summary.yaml");
    println!(
        "\nevidence shapes (wall s / peak RSS MB under /usr/bin/time -v; baseline in the same run)"
    );
    for mb in sizes {
        for (name, shape) in [
            ("minified Bundle", Shape::Minified),
            ("pretty Bundle", Shape::Pretty),
            ("NDJSON", Shape::Ndjson),
        ] {
            let p = dir.join("events.json");
            let n = generate_events(&p, shape, mb * 1_000_000);
            let ps = p.to_str().unwrap();
            time_v("cat", &[ps]);
            let (cs, ck) = time_v("cat", &[ps]);
            let (ss, sk) = time_v(
                bin,
                &["usage", summary, "--audit-events", ps, "--format", "json"],
            );
            println!(
                "{mb:>4} MB {name:<16} {n:>8} events: cat {cs:>6.2} s {:>5.1} MB | scopegate {ss:>6.2} s {:>6.1} MB | {:>5.1}x cat",
                ck as f64 / 1024.0,
                sk as f64 / 1024.0,
                ss / cs.max(0.01)
            );
            std::fs::remove_file(&p).unwrap();
        }
        // The access log, gzipped: as many lines as make `mb` MB uncompressed.
        let lines = usize::try_from(mb).unwrap() * 1_000_000 / 205;
        generate(log, lines);
        let gz = dir.join("access.jsonl.gz");
        let st = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "gzip -1 -c '{}' > '{}'",
                log.display(),
                gz.display()
            ))
            .status()
            .unwrap();
        assert!(st.success());
        let (gs, ls) = (gz.to_str().unwrap(), log.to_str().unwrap());
        time_v("zcat", &[gs]);
        let (zs, zk) = time_v("zcat", &[gs]);
        let m = dir.join("smart-app.yaml");
        let ms = m.to_str().unwrap();
        let (ss, sk) = time_v(bin, &["usage", ms, "--access-log", gs, "--format", "json"]);
        let (ps, pk) = time_v(bin, &["usage", ms, "--access-log", ls, "--format", "json"]);
        println!(
            "{mb:>4} MB gzip access log {lines:>8} lines: zcat {zs:>6.2} s {:>5.1} MB | scopegate {ss:>6.2} s {:>6.1} MB | {:>5.1}x zcat (plain file: {ps:.2} s, {:.1} MB)",
            zk as f64 / 1024.0,
            sk as f64 / 1024.0,
            ss / zs.max(0.01),
            pk as f64 / 1024.0
        );
        std::fs::remove_file(&gz).unwrap();
    }
}

fn main() {
    let lines = std::env::var("USAGE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(LINES);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.jsonl");
    let manifest = dir.path().join("smart-app.yaml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let t = Instant::now();
    generate(&log, lines);
    let size = std::fs::metadata(&log).unwrap().len();
    println!(
        "generated {lines} lines ({:.0} MB) in {:.1?}",
        size as f64 / 1e6,
        t.elapsed()
    );
    let bin = env!("CARGO_BIN_EXE_scopegate");
    let (log_s, man_s) = (log.to_str().unwrap(), manifest.to_str().unwrap());
    let args = ["usage", man_s, "--access-log", log_s, "--format", "json"];
    // Warm the page cache and check the run works.
    timed(Command::new("wc").args(["-l", log_s]));
    timed(Command::new(bin).args(args));
    let (mut wc, mut sg) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        wc.push(timed(Command::new("wc").args(["-l", log_s])));
        sg.push(timed(Command::new(bin).args(args)));
    }
    let (w, s) = (median(wc), median(sg));
    let (rss, how) = peak_rss(bin, &args);
    println!("wc -l           median {w:>10.3?} over {RUNS} runs");
    println!("scopegate usage median {s:>10.3?} over {RUNS} runs");
    println!(
        "ratio {:.1}x wc -l (target <= 15x); {:.0} ns/line; peak RSS {:.1} MB ({how}; target < 100 MB)",
        s.as_secs_f64() / w.as_secs_f64(),
        s.as_nanos() as f64 / lines as f64,
        rss as f64 / 1024.0
    );
    if Path::new("/usr/bin/time").exists() {
        shapes(bin, dir.path(), &log);
    }
}
