//! The app count stays near-linear (issue 17 §5): `gate` on a monorepo of 20,000 apps
//! matched by one glob, against one of 2,000. Before, 15,000 apps took 34 s: pairing
//! scanned every baseline manifest per head manifest, and each baseline file was looked
//! up from the root tree, inflating the 20,000-entry `apps/` tree once per file.
//!
//! The measure is the CPU time of the gate process alone (from `/usr/bin/time`), not
//! the wall clock, so that other builds on the machine do not decide the result, nor
//! the children of other tests running in the same test binary. Linux only, like the
//! CI runners.
#![allow(clippy::print_stderr)] // the measured numbers, shown with --nocapture

use crate::support::repo;

use repo::{Repo, Run};

/// A release with `n` apps under `apps/*/smart-app.yaml`, then a commit that moves one.
fn monorepo(n: usize) -> Repo {
    let r = Repo::new();
    r.write(
        ".scopegate/config.yaml",
        "manifests:\n  - apps/*/smart-app.yaml\napprovers: [alice]\n",
    );
    for i in 0..n {
        r.write(
            &format!("apps/app-{i}/smart-app.yaml"),
            &format!(
                "id: app-{i}\nfhir_version: R4\nlaunch: [ehr]\nscopes:\n  - scope: launch\n    rationale: EHR launch.\n  - scope: patient/Observation.rs\n    rationale: Vitals.\nworkflows:\n  - id: main\n    description: Reads vitals.\n    needs: [launch, patient/Observation.rs]\n"
            ),
        );
    }
    r.commit("v1");
    r.release("v1.0.0");
    std::fs::rename(r.path().join("apps/app-1"), r.path().join("apps/moved-1")).unwrap();
    r.commit("move one");
    r
}

/// The gate's CPU seconds (user + system, this process only), and its report.
fn gate_cpu(r: &Repo) -> (f64, serde_json::Value) {
    let times = r.path().join(".git/gate-times");
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%U %S", "-o"])
        .arg(&times)
        .arg(env!("CARGO_BIN_EXE_scopegate"))
        .args(["gate", "--format", "json", "--now", repo::NOW])
        .env_clear()
        .env("NO_COLOR", "1")
        .current_dir(r.path())
        .output()
        .unwrap();
    let g = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert_eq!(
        g.code,
        0,
        "{}{}",
        &g.stdout[..g.stdout.len().min(2000)],
        g.stderr
    );
    let times = std::fs::read_to_string(&times).unwrap();
    let cpu = times
        .split_whitespace()
        .map(|t| t.parse::<f64>().unwrap())
        .sum();
    (cpu, g.json())
}

#[test]
fn gating_20000_apps_costs_near_linear_time() {
    let small = monorepo(2_000);
    let (cpu_small, v) = gate_cpu(&small);
    assert_eq!(v["summary"]["manifests"], 2_000);
    assert_eq!(v["verdict"], "no-change");
    drop(small);
    let large = monorepo(20_000);
    let (cpu_large, v) = gate_cpu(&large);
    assert_eq!(v["summary"]["manifests"], 20_000);
    assert_eq!(v["verdict"], "no-change", "the move is followed");
    let moved = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"] == "app-1")
        .unwrap();
    assert_eq!(moved["path"], "apps/moved-1/smart-app.yaml");
    eprintln!(
        "gate CPU: 2,000 apps {cpu_small:.2} s, 20,000 apps {cpu_large:.2} s ({:.1}x)",
        cpu_large / cpu_small.max(0.01)
    );
    // Ten times the apps: about ten times the time. Quadratic would be about 100x
    // (it was over 60x, 807 s, before); 25x leaves room for noise.
    assert!(
        cpu_large < 25.0 * cpu_small.max(0.05),
        "2,000 apps: {cpu_small:.2} s CPU; 20,000 apps: {cpu_large:.2} s CPU"
    );
}
