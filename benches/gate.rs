//! Benchmark: `gate` against the previous release in a repository of 20,000 commits
//! and 2,000 release tags, with a manifest of 2,000 scopes, in three shapes:
//! - `spread`: the scopes spread over 146 types and 3 levels, 200 workflows;
//! - `one-type`: 2,000 `patient/Observation.rs?category=cN` scopes on one type, and
//!   2,000 workflows each needing one (issue 15 §1: the shape that was quadratic);
//! - `ledger`: the `one-type` scopes all added since the previous release, and a ledger
//!   of 2,000 entries, one naming each (added with HEAD, unsigned: each change is
//!   matched against them all, and none approves);
//! - `replaced`: the `one-type` scopes' 2,000 codes all replaced by 2,000 others at HEAD
//!   (each new code was compared with every old one, and named all of them as widened:
//!   37 s and a 593 MB report, before issue 15's last round).
//!
//! Run with `cargo bench --bench gate`. The gate is a CI step, so its cost must be
//! close to the floor of reading the two blobs. Measured in the same run, interleaved:
//! the release `scopegate gate --format json` and the floor, `git show
//! <prev-tag>:smart-app.yaml` plus `git show HEAD:smart-app.yaml` (two spawns).
//! Targets: the gate's median within 3x the floor's (issue 2); within 2x on every shape,
//! the goal 1.5x (issue 15). `GATE_BENCH_SHAPES=spread,ledger` runs some shapes only;
//! `GATE_BENCH_COMPARE=BIN` times another build in the same runs, interleaved.
//!
//! The repository is built with `git fast-import` (a `git` subprocess is fine in a
//! benchmark; the product itself reads git through git2), then its refs are packed
//! and its objects repacked, as in a real clone.
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scopegate::fhir::FhirVersion;

const COMMITS: usize = 20_000;
/// Every `TAG_EVERY`th commit is a release: 2,000 tags.
const TAG_EVERY: usize = 10;
const SCOPES: usize = 2_000;
const WORKFLOWS: usize = 200;
const RUNS: usize = 15;
const WARMUPS: usize = 2;
const APP: &str = "bench";
const MANIFEST: &str = "smart-app.yaml";
/// Scopes HEAD adds over the baseline, one at a time in later versions.
const EXTRAS: usize = 5;
/// (commit, extra scopes, revision): where the manifest changes. The last is HEAD,
/// untagged, three escalations over the newest release (at commit 19,990).
const VERSIONS: [(usize, usize, usize); 5] = [
    (0, 0, 0),
    (4_321, 1, 1),
    (12_345, 2, 2),
    (17_001, 2, 3),
    (COMMITS - 1, EXTRAS, 4),
];

/// The release tag on commit `i` (a multiple of `TAG_EVERY`): `v0.<k/100>.<k%100>`, so
/// that a name sort (v0.9.x after v0.19.x) and a semver sort disagree.
fn release_tag(i: usize) -> String {
    let k = i / TAG_EVERY;
    format!("v0.{}.{}", k / 100, k % 100)
}

fn extra(k: usize) -> String {
    let types = [
        "Observation",
        "Condition",
        "Patient",
        "Encounter",
        "Procedure",
    ];
    format!("user/{}.cruds?category=extra-{k}", types[k % types.len()])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Spread,
    OneType,
    Ledger,
    Replaced,
}

impl Shape {
    const ALL: [Shape; 4] = [
        Shape::Spread,
        Shape::OneType,
        Shape::Ledger,
        Shape::Replaced,
    ];

    fn name(self) -> &'static str {
        match self {
            Shape::Spread => "spread",
            Shape::OneType => "one-type",
            Shape::Ledger => "ledger",
            Shape::Replaced => "replaced",
        }
    }

    fn workflows(self) -> usize {
        match self {
            Shape::Spread => WORKFLOWS,
            Shape::OneType | Shape::Ledger | Shape::Replaced => SCOPES - 2,
        }
    }
}

/// The scopes besides `launch` and `launch/patient` (which count among the 2,000).
fn tokens(shape: Shape, head: bool) -> Vec<String> {
    match shape {
        Shape::Spread => {
            let types = FhirVersion::R4.resource_types();
            let levels = ["patient", "user", "system"];
            let perms = ["rs", "r", "s", "crs", "cruds", "rs"];
            let mut tokens = Vec::with_capacity(SCOPES);
            let mut i = 0usize;
            while tokens.len() < SCOPES - 2 {
                let ty = types[i % types.len()];
                let level = levels[(i / types.len()) % levels.len()];
                let p = perms[(i / 7) % perms.len()];
                let tok = if i < types.len() * levels.len() {
                    format!("{level}/{ty}.{p}")
                } else {
                    format!("{level}/{ty}.{p}?category=cat-{i}")
                };
                tokens.push(tok);
                i += 1;
            }
            tokens
        }
        // Before HEAD, the `ledger` shape's app held only the patient.
        Shape::Ledger if !head => vec!["patient/Patient.rs".to_string()],
        Shape::OneType | Shape::Ledger => (1..=SCOPES - 2)
            .map(|i| format!("patient/Observation.rs?category=c{i}"))
            .collect(),
        // At HEAD, every code is another.
        Shape::Replaced => (1..=SCOPES - 2)
            .map(|i| {
                let c = if head { 'd' } else { 'c' };
                format!("patient/Observation.rs?category={c}{i}")
            })
            .collect(),
    }
}

/// The manifest with `extras` added scopes; `rev` changes a description (a change
/// that is not an escalation).
fn manifest(shape: Shape, extras: usize, rev: usize, head: bool) -> String {
    let tokens = tokens(shape, head);
    let mut t = format!(
        "id: {APP}\nname: Benchmark (revision {rev})\nfhir_version: R4\nlaunch: [ehr, standalone, backend]\nscopes:\n  - scope: launch\n    rationale: EHR launch.\n  - scope: launch/patient\n    rationale: Standalone launch with a patient picker.\n"
    );
    for tok in &tokens {
        t.push_str(&format!(
            "  - scope: \"{tok}\"\n    rationale: The app needs {tok} for one of its workflows.\n"
        ));
    }
    for k in 0..extras {
        let tok = extra(k);
        t.push_str(&format!(
            "  - scope: \"{tok}\"\n    rationale: Added in a later version for workflow wf-{k}.\n"
        ));
    }
    t.push_str("workflows:\n");
    let workflows = shape.workflows().min(tokens.len());
    let per = tokens.len().div_ceil(workflows);
    for w in 0..workflows {
        let note = if w == 7 {
            format!(" Revised {rev} times.")
        } else {
            String::new()
        };
        t.push_str(&format!(
            "  - id: wf-{w}\n    description: Workflow number {w}.{note}\n    needs:\n"
        ));
        // Every scope is needed by exactly one workflow.
        for tok in tokens.iter().skip(w * per).take(per) {
            t.push_str(&format!("      - \"{tok}\"\n"));
        }
        if w < extras {
            t.push_str(&format!("      - \"{}\"\n", extra(w)));
        }
    }
    t
}

const CONFIG: &str = "# Release managers own this file.\nmanifests: [smart-app.yaml]\nrelease_tags: 'v*'\napprovers: [alice, acme/release-managers]\n";

/// Approves one of HEAD's escalations ahead of time (and one older scope), so the
/// gate matches ledger keys; the other escalations stay unapproved (exit 1). The
/// `ledger` shape also names each of HEAD's 1,998 new scopes in an entry of its own.
fn ledger(shape: Shape) -> String {
    let mut t = format!(
        "# scopegate approvals ledger. Append-only: `scopegate approve` adds entries;\n# editing or deleting an entry that was already released fails the gate.\napprovals:\n  - keys:\n      - \"{APP}:{}\"\n    by: \"alice\"\n    at: \"2020-09-13T12:26:40Z\"\n    ticket: \"SEC-1\"\n    reason: \"Write access reviewed with the vendor.\"\n  - keys:\n      - \"{APP}:{}\"\n    by: \"alice\"\n    at: \"2020-09-13T12:27:40Z\"\n    ticket: \"SEC-2\"\n",
        extra(0),
        extra(EXTRAS - 1)
    );
    if shape == Shape::Ledger {
        for (i, tok) in tokens(shape, true).iter().enumerate() {
            t.push_str(&format!(
                "  - keys:\n      - \"{APP}:{tok}\"\n    by: \"alice\"\n    at: \"2020-09-14T{:02}:{:02}:{:02}Z\"\n    ticket: \"SEC-{}\"\n    reason: \"Category reviewed.\"\n",
                i / 3600,
                i / 60 % 60,
                i % 60,
                i + 3
            ));
        }
    }
    t
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("GIT_TERMINAL_PROMPT", "0");
    c
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn data(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    writeln!(out, "data {}", bytes.len())?;
    out.write_all(bytes)?;
    out.write_all(b"\n")
}

/// The fast-import stream. Returns the number of tags.
fn stream(out: &mut impl Write, shape: Shape) -> std::io::Result<usize> {
    let who = "Bench <bench@example.com>";
    let t0 = 1_600_000_000usize;
    // Blobs: one per manifest version (marks from 1,000,000), config and ledger.
    const BLOB: usize = 1_000_000;
    for (n, &(_, extras, rev)) in VERSIONS.iter().enumerate() {
        write!(out, "blob\nmark :{}\n", BLOB + n)?;
        let head = n == VERSIONS.len() - 1;
        data(out, manifest(shape, extras, rev, head).as_bytes())?;
    }
    write!(out, "blob\nmark :{}\n", BLOB + 100)?;
    data(out, CONFIG.as_bytes())?;
    write!(out, "blob\nmark :{}\n", BLOB + 101)?;
    data(out, ledger(shape).as_bytes())?;

    let mut tags = 0;
    let mut tag = |out: &mut dyn Write, name: &str, mark: usize, annotated: bool, ts: usize| {
        tags += 1;
        if annotated {
            write!(
                out,
                "tag {name}\nfrom :{mark}\ntagger {who} {ts} +0000\ndata {}\nRelease {name}\n\n",
                name.len() + 9
            )
        } else {
            write!(out, "reset refs/tags/{name}\nfrom :{mark}\n\n")
        }
    };
    for i in 0..COMMITS {
        let mark = i + 1;
        let ts = t0 + i * 60;
        write!(
            out,
            "commit refs/heads/main\nmark :{mark}\nauthor {who} {ts} +0000\ncommitter {who} {ts} +0000\n"
        )?;
        data(out, format!("Change {i}").as_bytes())?;
        if i > 0 {
            writeln!(out, "from :{i}")?;
        }
        writeln!(out, "M 100644 inline src/{}.txt", i % 50)?;
        data(out, format!("counter {i}\n").as_bytes())?;
        if let Some(n) = VERSIONS.iter().position(|v| v.0 == i) {
            writeln!(out, "M 100644 :{} {MANIFEST}", BLOB + n)?;
        }
        if i == 2 {
            writeln!(out, "M 100644 :{} .scopegate/config.yaml", BLOB + 100)?;
        }
        // The `ledger` shape's entries come with HEAD (so they approve its changes); the
        // others' ledger was in every release (its entries are spent).
        let ledger_at = if shape == Shape::Ledger {
            COMMITS - 1
        } else {
            2
        };
        if i == ledger_at {
            writeln!(out, "M 100644 :{} .scopegate/approvals.yaml", BLOB + 101)?;
        }
        out.write_all(b"\n")?;
        if i.is_multiple_of(TAG_EVERY) {
            // Alternate lightweight and annotated releases.
            tag(
                out,
                &release_tag(i),
                mark,
                (i / TAG_EVERY).is_multiple_of(2),
                ts,
            )?;
        }
        // Pre-releases just before their release, and tags that are not semver.
        match i {
            9_995 => tag(out, "v0.10.0-rc.1", mark, true, ts)?,
            19_985 => tag(out, "v0.19.99-rc.1", mark, false, ts)?,
            19_990 => tag(out, "latest", mark, false, ts)?,
            i if i == COMMITS - 1 => tag(out, "v-nightly", mark, false, ts)?,
            _ => {}
        }
    }
    Ok(tags)
}

/// Builds the repository in `dir`; returns the number of tags.
fn build(dir: &Path, shape: Shape) -> usize {
    let mut init = git(dir);
    init.args(["-c", "init.defaultBranch=main", "init", "-q"]);
    run(init, "git init");
    let mut head = git(dir);
    head.args(["symbolic-ref", "HEAD", "refs/heads/main"]);
    run(head, "git symbolic-ref");

    let mut fi = git(dir);
    fi.args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut child = fi.spawn().expect("git fast-import starts");
    let tags = {
        let mut w = BufWriter::new(child.stdin.take().expect("stdin"));
        let tags = stream(&mut w, shape).expect("write the fast-import stream");
        w.flush().expect("flush the fast-import stream");
        tags
    };
    assert!(
        child.wait().expect("git fast-import").success(),
        "git fast-import failed"
    );
    for args in [
        &["pack-refs", "--all"][..],
        &["repack", "-adq"][..],
        &["reset", "-q", "--hard", "main"][..],
    ] {
        let mut c = git(dir);
        c.args(args);
        run(c, &format!("git {}", args.join(" ")));
    }
    tags
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn time_floor(dir: &Path, prev: &str) -> Duration {
    let t = Instant::now();
    for rev in [prev, "HEAD"] {
        let status = git(dir)
            .args(["show", &format!("{rev}:{MANIFEST}")])
            .stdout(Stdio::null())
            .status()
            .expect("git show runs");
        assert!(status.success(), "git show {rev}:{MANIFEST} failed");
    }
    t.elapsed()
}

fn gate(dir: &Path, stdout: Stdio) -> (Duration, std::process::Output) {
    gate_with(&bin(), dir, stdout)
}

fn gate_with(bin: &Path, dir: &Path, stdout: Stdio) -> (Duration, std::process::Output) {
    let t = Instant::now();
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["gate", "--format", "json"])
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("scopegate runs");
    let d = t.elapsed();
    match out.status.code() {
        Some(0 | 1) => (d, out),
        _ => panic!(
            "scopegate gate failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn main() {
    let only = std::env::var("GATE_BENCH_SHAPES").ok();
    let mut ratios = Vec::new();
    for shape in Shape::ALL {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == shape.name()))
        {
            continue;
        }
        ratios.push((shape, bench(shape)));
    }
    println!("summary (median gate / median floor, same run):");
    for (shape, r) in ratios {
        println!("  {:<9} {r:.2}x (target <= 2x, goal 1.5x)", shape.name());
    }
}

/// Builds the shape's repository, checks the gate's verdict, and times it against the
/// floor, interleaved; returns the ratio of the medians.
fn bench(shape: Shape) -> f64 {
    // GATE_BENCH_REPO=DIR builds the repository there and keeps it, for profiling.
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let keep =
        std::env::var_os("GATE_BENCH_REPO").map(|d| std::path::PathBuf::from(d).join(shape.name()));
    if let Some(k) = &keep {
        std::fs::create_dir_all(k).expect("GATE_BENCH_REPO is creatable");
    }
    let dir = keep.as_deref().unwrap_or(tmp.path());
    let t = Instant::now();
    let tags = build(dir, shape);
    let built = t.elapsed();
    let prev = release_tag((COMMITS - 1) / TAG_EVERY * TAG_EVERY);

    // The gate must find the newest release by semver, and see HEAD's escalations.
    let (_, out) = gate(dir, Stdio::piped());
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the gate prints a JSON report");
    assert_eq!(
        report["baseline"]["name"].as_str(),
        Some(prev.as_str()),
        "the previous release"
    );
    let s = &report["summary"];
    let (esc, unapproved) = (&s["escalations"], &s["unapproved"]);
    let new_scopes = if matches!(shape, Shape::Ledger | Shape::Replaced) {
        SCOPES - 2
    } else {
        0
    };
    assert_eq!(
        esc.as_u64(),
        Some((EXTRAS - 2 + new_scopes) as u64),
        "escalations"
    );
    // (The entries are unsigned, so none approves: each change is matched against all
    // 2,000, which is the cost measured.)
    assert_eq!(unapproved, esc, "unapproved");
    // The other build, if one is compared, must find the same.
    let other = compared_bin();
    if let Some(o) = &other {
        let (_, out) = gate_with(o, dir, Stdio::piped());
        let theirs: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the compared build prints a JSON report");
        assert_eq!(
            theirs["summary"], report["summary"],
            "the compared build's summary"
        );
    }
    let mut floor = Vec::new();
    let mut gated = Vec::new();
    let mut compared = Vec::new();
    for n in 0..WARMUPS + RUNS {
        // Alternate the order, so that none always runs on a warmer cache.
        let mut f = Duration::ZERO;
        let mut g = Duration::ZERO;
        let mut c = Duration::ZERO;
        for step in 0..3 {
            match (step + n) % 3 {
                0 => f = time_floor(dir, &prev),
                1 => g = gate(dir, Stdio::null()).0,
                _ => {
                    if let Some(o) = &other {
                        c = gate_with(o, dir, Stdio::null()).0;
                    }
                }
            }
        }
        if n >= WARMUPS {
            floor.push(f);
            gated.push(g);
            compared.push(c);
        }
    }
    let (f, g) = (median(floor), median(gated));
    println!(
        "gate [{}]: {COMMITS} commits, {tags} tags, {SCOPES} scopes / {} workflows (repository built in {:.1} s)",
        shape.name(),
        shape.workflows(),
        built.as_secs_f64()
    );
    println!(
        "  baseline {prev}; {esc} escalations, {unapproved} unapproved; {RUNS} runs after {WARMUPS} warm-ups"
    );
    println!("  floor (git show x2): median {:>7.1} ms", ms(f));
    println!("  scopegate gate:      median {:>7.1} ms", ms(g));
    let ratio = g.as_secs_f64() / f.as_secs_f64();
    println!("  ratio: {ratio:.2}x (target <= 2x, goal 1.5x)");
    if let Some(o) = &other {
        let c = median(compared);
        println!(
            "  compared build:      median {:>7.1} ms, ratio {:.2}x ({})",
            ms(c),
            c.as_secs_f64() / f.as_secs_f64(),
            o.display()
        );
        println!(
            "  this build / compared: {:.3}",
            g.as_secs_f64() / c.as_secs_f64()
        );
    }
    ratio
}

/// `GATE_BENCH_COMPARE=BIN`: another build (the one before a change, say) timed in the
/// same runs, interleaved with this build and the floor. The machines these run on are
/// noisy: two builds timed in separate runs differ by more than most changes do.
fn compared_bin() -> Option<std::path::PathBuf> {
    std::env::var_os("GATE_BENCH_COMPARE").map(Into::into)
}

/// The binary timed: this build's, or `SCOPEGATE_BENCH_BIN` (to time another build,
/// e.g. the one before a change, on the same shapes in the same conditions).
fn bin() -> std::path::PathBuf {
    std::env::var_os("SCOPEGATE_BENCH_BIN")
        .map_or_else(|| env!("CARGO_BIN_EXE_scopegate").into(), Into::into)
}
