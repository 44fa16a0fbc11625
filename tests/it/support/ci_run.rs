//! Running `scopegate ci` (or `scopegate comment`) as a GitHub Actions job would: an
//! event payload in a temp file, a cleared environment with the GITHUB_* variables, and
//! the outputs file, step summary and JSON report read back after the run. One runner
//! for every test that talks to the fake GitHub.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The `pull_request` payload GitHub sends on a push to PR #7 in `acme/app`, opened by
/// `login`, from `base` to `head`.
pub fn pr_payload(login: &str, base: &str, head: &str) -> Value {
    serde_json::json!({
        "action": "synchronize",
        "pull_request": {
            "number": 7,
            "user": {"login": login},
            "head": {"sha": head, "repo": {"full_name": "acme/app"}},
            "base": {"sha": base, "repo": {"full_name": "acme/app"}},
        }
    })
}

/// What one run left behind.
pub struct CiRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The GITHUB_OUTPUT file ("" when not written).
    pub outputs: String,
    /// The GITHUB_STEP_SUMMARY file ("" when not written).
    pub summary: String,
    /// `$RUNNER_TEMP/scopegate-report.json`, when written.
    pub report: Option<String>,
}

impl CiRun {
    /// The GITHUB_OUTPUT file as `(key, value)` pairs, one a `key=value` line.
    pub fn output_pairs(&self) -> Vec<(String, String)> {
        self.outputs
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The JSON report, parsed; panics with stderr when there is none.
    pub fn report_json(&self) -> Value {
        let text = self
            .report
            .as_deref()
            .unwrap_or_else(|| panic!("{}", self.stderr));
        serde_json::from_str(text).unwrap()
    }
}

/// A `scopegate ci` job: by default a `pull_request` event on `acme/app` with token
/// `ghs_test`, run as `ci --now NOW --api-max-wait 5 --api-timeout 5`.
pub struct CiJob {
    dir: PathBuf,
    api_url: String,
    args: Vec<OsString>,
    event_name: String,
    payload: Value,
    event_file: Option<PathBuf>,
    token: Option<String>,
    env: Vec<(OsString, OsString)>,
    without: Vec<&'static str>,
    via: Vec<OsString>,
}

/// A job ready to run: its command and the temp directory with the event, outputs,
/// summary and report files (kept as long as this lives).
pub struct Prepared {
    pub tmp: tempfile::TempDir,
    pub cmd: Command,
}

impl Prepared {
    /// Where the outputs, summary and report files are written.
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Runs the command to completion.
    pub fn run(mut self) -> CiRun {
        let out = self.cmd.output().unwrap();
        let read = |name: &str| std::fs::read_to_string(self.tmp.path().join(name)).ok();
        CiRun {
            code: out.status.code().unwrap(),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
            outputs: read("output").unwrap_or_default(),
            summary: read("summary.md").unwrap_or_default(),
            report: read("scopegate-report.json"),
        }
    }
}

impl CiJob {
    /// `scopegate ci` in `dir` against the (fake) API at `api_url`, at time `now`.
    pub fn new(dir: &Path, api_url: &str, now: &str) -> Self {
        CiJob {
            dir: dir.to_path_buf(),
            api_url: api_url.to_string(),
            args: [
                "ci",
                "--now",
                now,
                "--api-max-wait",
                "5",
                "--api-timeout",
                "5",
            ]
            .iter()
            .map(OsString::from)
            .collect(),
            event_name: "pull_request".into(),
            payload: Value::Null,
            event_file: None,
            token: Some("ghs_test".into()),
            env: Vec::new(),
            without: Vec::new(),
            via: Vec::new(),
        }
    }

    /// The event name and its payload.
    pub fn event(mut self, name: &str, payload: Value) -> Self {
        self.event_name = name.into();
        self.payload = payload;
        self
    }

    /// The event name and a payload file the test wrote (or a path that does not exist).
    pub fn event_file(mut self, name: &str, path: &Path) -> Self {
        self.event_name = name.into();
        self.event_file = Some(path.to_path_buf());
        self
    }

    /// Replaces the whole argument list (e.g. for `scopegate comment`).
    pub fn command<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Appends one argument.
    pub fn arg(mut self, a: impl Into<OsString>) -> Self {
        self.args.push(a.into());
        self
    }

    /// GITHUB_TOKEN (`None`: unset).
    pub fn token(mut self, t: Option<&str>) -> Self {
        self.token = t.map(str::to_string);
        self
    }

    /// One more environment variable (set after the GITHUB_* ones, so it can override).
    pub fn env(mut self, k: impl Into<OsString>, v: impl Into<OsString>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Leaves one of the default variables (GITHUB_STEP_SUMMARY, GITHUB_JOB, …) unset.
    pub fn without(mut self, var: &'static str) -> Self {
        self.without.push(var);
        self
    }

    /// Runs the binary through a wrapper, e.g. `["/usr/bin/time", "-v"]`.
    pub fn via(mut self, wrapper: &[&str]) -> Self {
        self.via = wrapper.iter().map(OsString::from).collect();
        self
    }

    pub fn run(self) -> CiRun {
        self.prepare().run()
    }

    /// The command and its temp directory, not yet run.
    pub fn prepare(self) -> Prepared {
        let tmp = tempfile::tempdir().unwrap();
        let event = match &self.event_file {
            Some(p) => p.clone(),
            None => {
                let p = tmp.path().join("event.json");
                std::fs::write(&p, self.payload.to_string()).unwrap();
                p
            }
        };
        let defaults: [(&str, OsString); 8] = [
            ("GITHUB_EVENT_NAME", self.event_name.clone().into()),
            ("GITHUB_EVENT_PATH", event.into()),
            ("GITHUB_REPOSITORY", "acme/app".into()),
            ("GITHUB_API_URL", self.api_url.clone().into()),
            ("GITHUB_STEP_SUMMARY", tmp.path().join("summary.md").into()),
            ("GITHUB_OUTPUT", tmp.path().join("output").into()),
            ("GITHUB_JOB", "scopegate".into()),
            ("RUNNER_TEMP", tmp.path().into()),
        ];
        let bin = env!("CARGO_BIN_EXE_scopegate");
        let mut c = match self.via.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        c.env_clear()
            .env("NO_COLOR", "1")
            .current_dir(&self.dir)
            .args(&self.args);
        for (k, v) in defaults {
            if !self.without.contains(&k) {
                c.env(k, v);
            }
        }
        if let Some(t) = &self.token {
            c.env("GITHUB_TOKEN", t);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        Prepared { tmp, cmd: c }
    }
}
