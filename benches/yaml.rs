//! Benchmark: the YAML fast path (`yaml::subset`) against granit-parser alone, on
//! realistic manifests of 1 KB to 400 KB, in process and through the real binary.
//!
//! Run with `cargo bench --bench yaml`. Three parts, each with its baseline measured in
//! the same run, interleaved:
//!
//! 1. **Load** (text to `Manifest`, the whole loader) of the bundled examples, of
//!    `scopegate init` output with rationales written in (1, 5, 20, 50 KB), and of
//!    hand-written-style manifests with workflows (1 KB to 400 KB, the gate benchmark's
//!    shape): read through granit-parser alone (the baseline) and with the fast path.
//!    Medians over `ROUNDS` rounds of batches of about 2 ms each.
//! 2. **Process** time of `scopegate check FILE` and `scopegate gate --format json` (in a
//!    small repository with one release tag) on some of those files, against the floor
//!    of the same run: `scopegate --version` (the process) and, for the gate, `git show`
//!    of the two blobs. The fast path's saving is then put against the process time.
//! 3. What the product does today: the size threshold (`yaml::FAST_PATH_MIN_BYTES`).
//!
//! `YAML_BENCH_ROUNDS=N` changes the number of rounds (default 31), `YAML_BENCH_SPAWNS=N`
//! the spawns per command and file (default 41).
#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use scopegate::fhir::FhirVersion;
use scopegate::manifest;
use scopegate::yaml::{FAST_PATH_MIN_BYTES, ReadWith};

/// A count from the environment, or its default.
fn count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Scope tokens of the kinds real apps request: launch and identity scopes, then
/// resource scopes over the R4 types, some narrowed by a category.
fn tokens(n: usize) -> Vec<String> {
    let mut out: Vec<String> = ["launch", "openid", "fhirUser", "offline_access"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let types = FhirVersion::R4.resource_types();
    let levels = ["patient", "user", "system"];
    let perms = ["rs", "r", "s", "crs", "cruds", "rs"];
    let cats = ["laboratory", "vital-signs", "social-history", "imaging"];
    let mut i = 0usize;
    while out.len() < n {
        let ty = types[i % types.len()];
        let level = levels[(i / types.len()) % levels.len()];
        let p = perms[(i / 7) % perms.len()];
        out.push(if i % 5 == 3 {
            format!("{level}/{ty}.{p}?category={}", cats[i % cats.len()])
        } else {
            format!("{level}/{ty}.{p}")
        });
        i += 1;
    }
    out.truncate(n);
    out
}

/// `scopegate init --scopes "…"` output with the TODOs written out, as a team commits it.
fn init_shaped(n: usize) -> String {
    let scopes = tokens(n).join(" ");
    scopegate::init::skeleton(&scopes, "bench-app")
        .replace(
            "TODO: why the app needs ",
            "Reviewed with the vendor: the app needs ",
        )
        .replace("TODO", "Written by the team")
}

/// A hand-written manifest: plain scalars, rationales, workflows that each need a few
/// scopes (`- ` lists and `[a, b]` lists), as in examples/ and the gate benchmark.
fn hand_written(n: usize) -> String {
    let toks = tokens(n);
    let mut t = String::from(
        "# Bench app: a hand-written manifest.\nid: bench-app\nname: Bench App\nfhir_version: R4\nlaunch: [ehr, standalone]\nscopes:\n",
    );
    for (i, tok) in toks.iter().enumerate() {
        let q = if tok.contains('?') {
            format!("\"{tok}\"")
        } else {
            tok.clone()
        };
        t.push_str(&format!(
            "  - scope: {q}\n    rationale: Needed by workflow wf-{} to show the clinician the record.\n",
            i / 8
        ));
    }
    t.push_str("workflows:\n");
    for (w, chunk) in toks.chunks(8).enumerate() {
        t.push_str(&format!(
            "  - id: wf-{w}\n    description: Workflow {w}, which reads and writes what the clinician reviews.\n"
        ));
        if w % 2 == 0 {
            t.push_str("    needs:\n");
            for tok in chunk {
                t.push_str(&format!("      - \"{tok}\"\n"));
            }
        } else {
            let list: Vec<String> = chunk.iter().map(|s| format!("\"{s}\"")).collect();
            t.push_str(&format!("    needs: [{}]\n", list.join(", ")));
        }
    }
    t
}

/// The smallest manifest of `shape` with at least `bytes` bytes.
fn sized(shape: fn(usize) -> String, bytes: usize) -> String {
    let (mut lo, mut hi) = (1usize, 8usize);
    while shape(hi).len() < bytes {
        lo = hi;
        hi *= 2;
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        if shape(mid).len() < bytes {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    shape(lo)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn load(text: &str, with: ReadWith) -> manifest::Manifest {
    manifest::from_str_with("bench.yaml", text, with).expect("the manifest loads")
}

/// Median time of one load with each parser: (granit-parser alone, fast path).
fn time_loads(text: &str, rounds: usize) -> (Duration, Duration) {
    // Both parsers must build the same manifest, and the fast path must read the file.
    let (a, b) = (
        load(text, ReadWith::GranitParser),
        load(text, ReadWith::FastPath),
    );
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert_eq!(scopegate::yaml::fast_path_agrees(text), Ok(true));
    let t = Instant::now();
    drop(load(text, ReadWith::GranitParser));
    let batch = (2_000_000 / t.elapsed().as_nanos().max(1)).clamp(1, 10_000) as usize;
    let mut full = Vec::with_capacity(rounds);
    let mut fast = Vec::with_capacity(rounds);
    for r in 0..rounds {
        let order = if r % 2 == 0 {
            [ReadWith::GranitParser, ReadWith::FastPath]
        } else {
            [ReadWith::FastPath, ReadWith::GranitParser]
        };
        for with in order {
            let t = Instant::now();
            for _ in 0..batch {
                drop(std::hint::black_box(load(std::hint::black_box(text), with)));
            }
            let per = t.elapsed() / u32::try_from(batch).unwrap_or(u32::MAX);
            match with {
                ReadWith::FastPath => fast.push(per),
                _ => full.push(per),
            }
        }
    }
    (median(full), median(fast))
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scopegate"))
}

fn timed(mut c: Command, ok: &[i32]) -> Duration {
    let t = Instant::now();
    let out = c
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("the command runs");
    let d = t.elapsed();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        ok.contains(&code),
        "{c:?} exited {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository whose release `v1.0.0` has `text` and whose HEAD adds one scope.
fn repo(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join(".scopegate")).expect("mkdir");
    std::fs::write(
        dir.join(".scopegate/config.yaml"),
        "manifests: [smart-app.yaml]\nrelease_tags: 'v*'\napprovers: [alice]\n",
    )
    .expect("write config");
    std::fs::write(dir.join("smart-app.yaml"), text).expect("write manifest");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "v1"]);
    git(dir, &["tag", "v1.0.0"]);
    let head = text.replacen(
        "\nworkflows:",
        "\n  - scope: \"user/Observation.cruds?category=extra\"\n    rationale: Added for the new workflow.\nworkflows:",
        1,
    );
    assert_ne!(head, text);
    std::fs::write(dir.join("smart-app.yaml"), head).expect("write manifest");
    git(dir, &["commit", "-q", "-am", "escalate"]);
}

struct Spawns {
    floor: Duration,
    check: Duration,
    show: Duration,
    gate: Duration,
}

/// Median process times, the four commands interleaved.
fn time_spawns(dir: &Path, spawns: usize) -> Spawns {
    let file = dir.join("smart-app.yaml");
    let (mut floor, mut check, mut show, mut gate) = (vec![], vec![], vec![], vec![]);
    for i in 0..spawns + 2 {
        let mut c = bin();
        c.arg("--version");
        let f = timed(c, &[0]);
        let mut c = bin();
        c.arg("check").arg(&file);
        let k = timed(c, &[0, 1]);
        let t = Instant::now();
        for rev in ["v1.0.0", "HEAD"] {
            let mut c = Command::new("git");
            c.current_dir(dir)
                .args(["show", &format!("{rev}:smart-app.yaml")]);
            timed(c, &[0]);
        }
        let s = t.elapsed();
        let mut c = bin();
        c.current_dir(dir).args(["gate", "--format", "json"]);
        let g = timed(c, &[0, 1]);
        if i >= 2 {
            floor.push(f);
            check.push(k);
            show.push(s);
            gate.push(g);
        }
    }
    Spawns {
        floor: median(floor),
        check: median(check),
        show: median(show),
        gate: median(gate),
    }
}

fn main() {
    let rounds = count("YAML_BENCH_ROUNDS", 31);
    let spawns = count("YAML_BENCH_SPAWNS", 41);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<(String, String)> = Vec::new();
    let mut examples: Vec<_> = std::fs::read_dir(root.join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    examples.sort();
    for p in examples {
        let name = format!("examples/{}", p.file_name().unwrap_or_default().display());
        files.push((name, std::fs::read_to_string(&p).expect("example reads")));
    }
    for kb in [1, 5, 20, 50] {
        files.push((
            format!("init + rationales {kb} KB"),
            sized(init_shaped, kb << 10),
        ));
    }
    for kb in [1, 5, 20, 50, 100, 200, 400] {
        files.push((
            format!("hand-written {kb} KB"),
            sized(hand_written, kb << 10),
        ));
    }

    println!(
        "yaml: load (text to Manifest), median of {rounds} rounds, {} build",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "  {:<34} {:>8} {:>12} {:>12} {:>8} {:>10}",
        "manifest", "bytes", "granit µs", "fast µs", "ratio", "saved µs"
    );
    let mut saved = Vec::new();
    for (name, text) in &files {
        let (full, fast) = time_loads(text, rounds);
        println!(
            "  {:<34} {:>8} {:>12.1} {:>12.1} {:>7.2}x {:>10.1}",
            name,
            text.len(),
            us(full),
            us(fast),
            full.as_secs_f64() / fast.as_secs_f64(),
            us(full) - us(fast)
        );
        saved.push(full.saturating_sub(fast));
    }

    println!(
        "\nyaml: process time, median of {spawns} spawns each, interleaved (the fast path is used from {FAST_PATH_MIN_BYTES} bytes)"
    );
    println!(
        "  {:<34} {:>9} {:>9} {:>9} {:>9} {:>9} {:>13} {:>13}",
        "manifest",
        "floor ms",
        "check ms",
        "show ms",
        "gate ms",
        "gate/show",
        "fp % of check",
        "fp % of gate"
    );
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let picks = [
        "examples/med-rec.yaml",
        "init + rationales 1 KB",
        "init + rationales 5 KB",
        "init + rationales 20 KB",
        "init + rationales 50 KB",
        "hand-written 50 KB",
        "hand-written 400 KB",
    ];
    for (k, pick) in picks.iter().enumerate() {
        let Some(i) = files.iter().position(|(n, _)| n == pick) else {
            continue;
        };
        let dir = tmp.path().join(format!("r{k}"));
        repo(&dir, &files[i].1);
        let s = time_spawns(&dir, spawns);
        // `check` loads the manifest once; `gate` loads the release's and HEAD's.
        let share = |saved: f64, of: Duration| 100.0 * saved / of.as_secs_f64();
        let sv = saved[i].as_secs_f64();
        println!(
            "  {:<34} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8.2}x {:>12.1}% {:>12.1}%",
            pick,
            ms(s.floor),
            ms(s.check),
            ms(s.show),
            ms(s.gate),
            s.gate.as_secs_f64() / s.show.as_secs_f64(),
            share(sv, s.check),
            share(2.0 * sv, s.gate)
        );
    }
}
