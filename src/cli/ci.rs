//! `scopegate ci`: the GitHub Actions entry point. It reads the Actions environment,
//! gates, verifies PR-added approvals through the reviews API, updates one sticky PR
//! comment, and writes the job summary, annotations, outputs and a JSON report.
//!
//! Everything here is I/O around the pure stages: [`crate::ci`] decides trust,
//! [`crate::gate`] decides the verdict, the renderers format. A comment that cannot be
//! posted (a fork's read-only token, a rate limit) never changes the verdict. The
//! token is never printed: every line written is passed through [`Env::redact`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::gating::{self, ApiFallback, BaseArgs};
use crate::approval::Entry;
use crate::ci::{self, Event, Review, Trigger};
use crate::github::{self, Client, Policy, Sticky};
use crate::grant::covers;
use crate::render::{Style, github as annotations, json, markdown, text};
use crate::report::{Direction, Report, Verdict};
use crate::scope::Scope;

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum CommentMode {
    /// On pull request events; a run with no access change only updates an existing comment.
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum, PartialEq, Eq)]
pub enum CiFailOn {
    /// Exit 1 when the gate fails.
    Unapproved,
    /// Report only: exit 0 unless scopegate cannot run.
    Never,
}

#[derive(clap::Args, Debug, Clone)]
pub struct CiArgs {
    /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
    pub manifests: Vec<PathBuf>,
    /// `auto` (pull requests: the previous release; merge_group: its base; push:
    /// `before`), `previous-release`, `pr-base`, or a ref.
    #[arg(long, default_value = "auto")]
    pub baseline: String,
    #[arg(long, value_enum, default_value_t = CommentMode::Auto)]
    pub comment: CommentMode,
    /// Do not write the job summary.
    #[arg(long)]
    pub no_summary: bool,
    /// Do not print workflow-command annotations.
    #[arg(long)]
    pub no_annotations: bool,
    #[arg(long, value_enum, default_value_t = CiFailOn::Unapproved)]
    pub fail_on: CiFailOn,
    /// Where to write the JSON report [default: $RUNNER_TEMP/scopegate-report.json].
    #[arg(long)]
    pub report_path: Option<PathBuf>,
    /// Names this job in the comment marker [default: $GITHUB_JOB].
    #[arg(long)]
    pub job: Option<String>,
    /// Seconds to wait for a response from the GitHub API.
    #[arg(long, default_value_t = 30)]
    pub api_timeout: u64,
    /// The most seconds one API call may spend waiting out rate limits and retries.
    #[arg(long, default_value_t = 60)]
    pub api_max_wait: u64,
    #[arg(long, hide = true)]
    pub now: Option<String>,
}

/// The Actions environment.
struct Env {
    event_name: String,
    event_path: Option<PathBuf>,
    repository: Option<String>,
    api_url: String,
    token: Option<String>,
    sha: Option<String>,
    step_summary: Option<PathBuf>,
    output: Option<PathBuf>,
    job: String,
    runner_temp: Option<PathBuf>,
}

impl Env {
    fn read() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            event_name: var("GITHUB_EVENT_NAME").unwrap_or_default(),
            event_path: var("GITHUB_EVENT_PATH").map(PathBuf::from),
            repository: var("GITHUB_REPOSITORY"),
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            token: var("GITHUB_TOKEN"),
            sha: var("GITHUB_SHA"),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            job: var("GITHUB_JOB").unwrap_or_else(|| "scopegate".into()),
            runner_temp: var("RUNNER_TEMP").map(PathBuf::from),
        }
    }

    /// The API client, when there is a token and a repository to use it on.
    fn client(&self, timeout_secs: u64, max_wait_secs: u64) -> Result<Option<Client>> {
        let (Some(token), Some(repo)) = (&self.token, &self.repository) else {
            return Ok(None);
        };
        let policy = Policy {
            read_timeout: Duration::from_secs(timeout_secs),
            max_total_wait: Duration::from_secs(max_wait_secs),
            ..Policy::default()
        };
        Client::new(&self.api_url, token, repo, policy)
            .map(Some)
            .map_err(|e| anyhow!("cannot set up the GitHub client: {e}"))
    }

    /// Belt and braces: whatever we write, the token is not in it.
    fn redact(&self, s: &str) -> String {
        match &self.token {
            Some(t) if t.len() >= 4 => s.replace(t.as_str(), "***"),
            _ => s.to_string(),
        }
    }

    fn append(&self, path: &Path, text: &str) -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        f.write_all(self.redact(text).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))
    }

    fn outputs(&self, pairs: &[(&str, String)]) -> Result<()> {
        let Some(path) = &self.output else {
            return Ok(());
        };
        let mut text = String::new();
        for (k, v) in pairs {
            // Values are single-line by construction; newlines would forge outputs.
            text.push_str(&format!("{k}={}\n", v.replace(['\r', '\n'], " ")));
        }
        self.append(path, &text)
    }

    fn say(&self, s: &str) {
        #[allow(clippy::print_stdout)]
        {
            print!("{}", self.redact(s));
        }
    }
}

fn command_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Runs the action; errors become `result=error` and exit 2.
pub fn run(args: &CiArgs) -> Result<u8> {
    let env = Env::read();
    match run_inner(args, &env) {
        Ok(code) => Ok(code),
        Err(e) => {
            let msg = env.redact(&format!("{e:#}"));
            env.say(&format!(
                "::error title=scopegate::{}\n",
                command_escape(&msg)
            ));
            let _ = env.outputs(&[("result", "error".into())]);
            Err(anyhow!(msg))
        }
    }
}

fn run_inner(args: &CiArgs, env: &Env) -> Result<u8> {
    let event = match &env.event_path {
        Some(p) => {
            let bytes = std::fs::read(p)
                .with_context(|| format!("cannot read GITHUB_EVENT_PATH {}", p.display()))?;
            ci::parse_event(&env.event_name, &bytes).map_err(anyhow::Error::msg)?
        }
        None => Event {
            trigger: Trigger::Other(env.event_name.clone()),
            pull_request: None,
            base_sha: None,
        },
    };
    let client = env.client(args.api_timeout, args.api_max_wait)?;
    let pr = event.pull_request.clone();
    let base = base_for(&args.baseline, &event);
    let base_args = BaseArgs {
        base: base.clone(),
        base_file: None,
        config_from_worktree: false,
        now: args.now.clone(),
    };
    let head_sha = pr
        .as_ref()
        .map(|p| p.head_sha.clone())
        .or_else(|| env.sha.clone())
        .unwrap_or_default();
    let fallback = client.as_ref().map(|c| ApiFallback {
        client: c,
        head_sha: head_sha.clone(),
    });
    let loaded = gating::load(&args.manifests, &base_args, fallback.as_ref())?;
    // The entries as configured, not the files they matched: the marker (and so the
    // sticky comment) survives an app that moves, appears or goes.
    let manifest_paths: Vec<String> = loaded.manifest_spec.clone();

    // PR-added ledger entries count only with a qualifying review (DESIGN §7).
    let mut untrusted: Vec<(Entry, String)> = Vec::new();
    if let Some(pr) = &pr {
        let added: Vec<Entry> = loaded.added_entries().into_iter().cloned().collect();
        if !added.is_empty() {
            match &client {
                None => {
                    for e in added {
                        untrusted.push((
                            e,
                            "no GITHUB_TOKEN to read the pull request's reviews".into(),
                        ));
                    }
                }
                Some(c) => {
                    let reviews: Vec<Review> = c
                        .list_reviews(pr.number)
                        .map_err(|e| anyhow!("reading the pull request's reviews: {e}"))?
                        .into_iter()
                        .map(|r| Review {
                            login: r.login,
                            state: r.state,
                            commit_id: r.commit_id,
                        })
                        .collect();
                    let mut member_of = |org: &str, team: &str, user: &str| {
                        c.team_member(org, team, user).map_err(|e| e.to_string())
                    };
                    for e in added {
                        if let Err(why) = ci::verify_added_entry(
                            &e,
                            &reviews,
                            pr,
                            &loaded.config.approvers,
                            &mut member_of,
                        ) {
                            untrusted.push((e, why));
                        }
                    }
                }
            }
        }
    }
    // Reviews verify on a pull request; elsewhere only signatures can (DESIGN §7).
    let judged = loaded.judge(pr.as_ref().map(|_| untrusted.as_slice()));
    let mut gathered = loaded.gate(&judged);

    // Which escalations this PR brings, as opposed to earlier merges since the release.
    if let Some(pr) = &pr
        && base.as_deref() != Some(pr.base_sha.as_str())
    {
        let pr_base = BaseArgs {
            base: Some(pr.base_sha.clone()),
            ..base_args.clone()
        };
        if let Ok(l) = gating::load(&args.manifests, &pr_base, fallback.as_ref()) {
            let opts = l.config.options;
            let since_base: Vec<Scope> = l
                .gate(&Default::default())
                .report
                .changes
                .into_iter()
                .filter(|c| c.direction == Direction::Escalation)
                .filter_map(|c| Scope::parse(&c.scope).ok())
                .collect();
            for c in gathered
                .report
                .changes
                .iter_mut()
                .filter(|c| c.direction == Direction::Escalation)
            {
                // New in the PR when any of it is new relative to the PR's base.
                let new = Scope::parse(&c.scope).is_ok_and(|piece| {
                    since_base
                        .iter()
                        .any(|p| covers(&piece, p, opts) || covers(p, &piece, opts))
                });
                c.new_in_pr = Some(new);
            }
        }
    }
    let report = gathered.report;

    let report_path = args.report_path.clone().unwrap_or_else(|| {
        env.runner_temp
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("scopegate-report.json")
    });
    std::fs::write(&report_path, env.redact(&json::render(&report)))
        .with_context(|| format!("cannot write {}", report_path.display()))?;

    env.say(&text::gate(&report, Style::default()));
    if !args.no_annotations {
        env.say(&annotations::render(&report));
    }
    if !args.no_summary
        && let Some(summary) = &env.step_summary
    {
        // GitHub refuses a step summary over 1 MiB; stay well inside it.
        env.append(summary, &markdown::render_limited(&report, None, 1_000_000))?;
    }

    let comment_id = match (&pr, &client, args.comment) {
        (Some(pr), Some(c), mode) if mode != CommentMode::Never => {
            let job = args.job.clone().unwrap_or_else(|| env.job.clone());
            comment(
                c,
                pr.number,
                &ci::marker(&job, &manifest_paths),
                &report,
                mode,
                env,
            )
        }
        (Some(_), None, CommentMode::Auto | CommentMode::Always) => {
            env.say("::notice title=scopegate::No GITHUB_TOKEN: the PR comment was skipped; the verdict and job summary stand.\n");
            None
        }
        _ => None,
    };

    let s = &report.summary;
    let result = match report.verdict {
        Some(Verdict::Fail) => "fail",
        Some(Verdict::NoChange) => "no-change",
        _ => "pass",
    };
    let baseline = report
        .baseline
        .as_ref()
        .map(|b| b.name.clone().unwrap_or_else(|| b.source.clone()))
        .unwrap_or_default();
    let tenants_where = |v: crate::report::TenantVerdict| {
        report
            .tenants
            .iter()
            .filter(|t| t.verdict == v)
            .map(|t| t.tenant.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    env.outputs(&[
        ("result", result.to_string()),
        ("ship-to", tenants_where(crate::report::TenantVerdict::Ship)),
        (
            "blocked-tenants",
            tenants_where(crate::report::TenantVerdict::Blocked),
        ),
        ("escalations", s.escalations.to_string()),
        ("unapproved", s.unapproved.to_string()),
        ("baseline", baseline),
        ("report-path", report_path.display().to_string()),
        (
            "comment-id",
            comment_id.map(|i| i.to_string()).unwrap_or_default(),
        ),
    ])?;
    let failed = report.verdict == Some(Verdict::Fail) && args.fail_on == CiFailOn::Unapproved;
    Ok(u8::from(failed))
}

/// The `--base` the event calls for (`None`: the previous release).
fn base_for(choice: &str, event: &Event) -> Option<String> {
    match choice {
        "previous-release" => None,
        "pr-base" => event
            .pull_request
            .as_ref()
            .map(|p| p.base_sha.clone())
            .or_else(|| event.base_sha.clone()),
        "auto" => match event.trigger {
            Trigger::MergeGroup | Trigger::Push => event.base_sha.clone(),
            _ => None,
        },
        other => Some(other.to_string()),
    }
}

/// Posts or updates the sticky comment; failures become notices, never a verdict.
fn comment(
    c: &Client,
    pr: u64,
    marker: &str,
    report: &Report,
    mode: CommentMode,
    env: &Env,
) -> Option<u64> {
    let body = markdown::render(report, Some(marker));
    let author = match c.authenticated_login() {
        Ok(Some(login)) => login,
        // An Actions token cannot read /user; its comments are the bot's.
        Ok(None) => "github-actions[bot]".to_string(),
        Err(e) => return skip(env, &e),
    };
    if mode == CommentMode::Auto && report.verdict == Some(Verdict::NoChange) {
        // No access change: keep a PR that never had one free of comments.
        match c.list_issue_comments(pr) {
            Ok(all)
                if !all
                    .iter()
                    .any(|x| x.login == author && x.body.contains(marker)) =>
            {
                return None;
            }
            Ok(_) => {}
            Err(e) => return skip(env, &e),
        }
    }
    match c.upsert_sticky_comment(pr, marker, &body, &author) {
        Ok(Sticky::Created(id) | Sticky::Updated(id) | Sticky::Unchanged(id)) => Some(id),
        Err(e) => skip(env, &e),
    }
}

fn skip(env: &Env, e: &github::Error) -> Option<u64> {
    let why = match e {
        github::Error::Status { status: 403, .. } => format!(
            "the token cannot write to this pull request ({e}). Fork PRs get a read-only token; for same-repo PRs grant `permissions: pull-requests: write`. The verdict, job summary and annotations stand."
        ),
        github::Error::RateLimited { .. } => {
            format!("GitHub's rate limit ({e}). The verdict, job summary and annotations stand.")
        }
        _ => format!("{e}. The verdict, job summary and annotations stand."),
    };
    env.say(&format!(
        "::notice title=scopegate::The PR comment was skipped: {}\n",
        command_escape(&why)
    ));
    None
}

#[derive(clap::Args, Debug, Clone)]
pub struct CommentArgs {
    /// A JSON report written by `scopegate ci` (its `report-path` output). Treated as
    /// untrusted data: it is only rendered, with every user-supplied text escaped.
    #[arg(long)]
    pub report: PathBuf,
    /// The pull request to comment on.
    #[arg(long)]
    pub pr: u64,
    /// Comment only while the PR's head is still this commit, so a report cannot be
    /// posted on another PR (pass `github.event.workflow_run.head_sha`).
    #[arg(long)]
    pub head_sha: Option<String>,
    /// The job name the report's `scopegate ci` run used in its marker.
    #[arg(long, default_value = "scopegate")]
    pub job: String,
    #[arg(long, default_value_t = 30)]
    pub api_timeout: u64,
    #[arg(long, default_value_t = 60)]
    pub api_max_wait: u64,
}

/// The most a report file may be; it comes from another workflow run.
const MAX_REPORT_BYTES: u64 = 64 << 20;

/// `scopegate comment`: the second half of the fork-safe split. A workflow with a
/// write token posts the report that a fork's read-only run produced, without checking
/// out or running any of the fork's code.
pub fn comment_from_report(args: &CommentArgs) -> Result<u8> {
    use std::io::Read;
    let env = Env::read();
    let mut bytes = Vec::new();
    std::fs::File::open(&args.report)
        .with_context(|| format!("cannot read {}", args.report.display()))?
        .take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", args.report.display()))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        anyhow::bail!(
            "{} is larger than {MAX_REPORT_BYTES} bytes",
            args.report.display()
        );
    }
    let report: Report = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a scopegate JSON report", args.report.display()))?;
    let Some(client) = env.client(args.api_timeout, args.api_max_wait)? else {
        anyhow::bail!("`scopegate comment` needs GITHUB_TOKEN and GITHUB_REPOSITORY");
    };
    if let Some(want) = &args.head_sha {
        let head = client
            .pull_head_sha(args.pr)
            .map_err(|e| anyhow!("reading pull request #{}: {e}", args.pr))?;
        if &head != want {
            env.say(&format!(
                "::notice title=scopegate::PR #{} has moved on to {head}; the report for {want} was not posted.\n",
                args.pr
            ));
            return Ok(0);
        }
    }
    // Reports from before `manifests` existed name their apps' paths instead.
    let manifests: Vec<String> = if report.manifests.is_empty() {
        report.apps.iter().map(|a| a.path.clone()).collect()
    } else {
        report.manifests.clone()
    };
    let id = comment(
        &client,
        args.pr,
        &ci::marker(&args.job, &manifests),
        &report,
        CommentMode::Always,
        &env,
    );
    env.outputs(&[("comment-id", id.map(|i| i.to_string()).unwrap_or_default())])?;
    Ok(0)
}
