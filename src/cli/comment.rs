//! `scopegate comment`: the second half of the fork-safe split. A workflow with a
//! write token recomputes the verdict of a pull request from its head commit, exactly
//! as `scopegate ci` does, and posts it as the sticky comment. Shares the Actions
//! environment and the comment step with [`super::ci`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use super::api::ApiArgs;
use super::ci::{
    CommentMode, Env, base_for, command_escape, comment, result_of, unverified_entries,
};
use super::gating::{self, ApiFallback, BaseSpec, Head, Loaded, Request};
use crate::baseline::Repo;
use crate::events::{self, Event, Trigger};
use crate::github::Client;
use crate::render::{Style, text};
use crate::report::Report;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// Manifest files, repository-relative [default: the baseline config's `manifests`]
    pub manifests: Vec<PathBuf>,
    /// The pull request to comment on.
    #[arg(long)]
    pub pr: u64,
    /// Judge and comment only while the PR's head is still this commit (pass
    /// `github.event.workflow_run.head_sha`).
    #[arg(long)]
    pub head_sha: Option<String>,
    /// Optional: the JSON report the PR's own (untrusted) run wrote. It never decides
    /// anything: it is compared with the verdict recomputed here, and only when the
    /// verdict and the change keys agree does it add display extras (which escalations
    /// are new in the PR). A report that disagrees is refused loudly, and the
    /// recomputed report is posted instead.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// As `scopegate ci --baseline` for a pull request.
    #[arg(long, default_value = "auto")]
    pub baseline: String,
    /// The job name the report's `scopegate ci` run used in its marker.
    #[arg(long, default_value = "scopegate")]
    pub job: String,
    /// Also set this commit status on the PR head: `success` for PASS or NO CHANGE,
    /// `failure` for FAIL (needs `statuses: write`). A fork's own run proves nothing
    /// (it runs the fork's workflow files); require this context in branch protection
    /// to gate fork pull requests on the recomputed verdict.
    #[arg(long, value_name = "CONTEXT")]
    pub status_context: Option<String>,
    /// The login the token posts comments as, when it cannot read it (`GET /user` is
    /// refused): a GitHub App's installation token posts as `<app-slug>[bot]`
    /// [default: the login `/user` names, else `github-actions[bot]`, the Actions token's].
    #[arg(long, value_name = "LOGIN")]
    pub comment_author: Option<String>,
    #[arg(long, hide = true)]
    pub now: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
}

/// The most a report file may be; it comes from another workflow run.
const MAX_REPORT_BYTES: u64 = 64 << 20;

/// `scopegate comment`: the second half of the fork-safe split. A workflow with a
/// write token comments on a PR whose own run (a fork's, read-only) cannot. It never
/// trusts that run: it reads the PR's head commit (git2 when the clone has it, else
/// the git trees and contents APIs at that sha; no fork code is checked out or run),
/// judges it against the baseline with the baseline's config and the PR's reviews,
/// exactly as `ci` does, and posts that. When it cannot recompute the verdict it
/// posts nothing and exits 2.
pub fn run(args: &Args) -> Result<u8> {
    let env = Env::read();
    match comment_inner(args, &env) {
        Ok(code) => Ok(code),
        Err(e) => {
            let notice = format!(
                "Nothing was posted on PR #{}: the verdict could not be recomputed from its head.",
                args.pr
            );
            Err(env.fail(&e, Some(&notice)))
        }
    }
}

fn comment_inner(args: &Args, env: &Env) -> Result<u8> {
    // The clock is resolved before anything is read: a bad `--now` stops here.
    let now = gating::now_utc(args.now.as_deref())?;
    if let Some(c) = &args.status_context
        && (c.trim().is_empty() || c.chars().count() > 100 || c.chars().any(char::is_control))
    {
        anyhow::bail!(
            "`--status-context` must be 1 to 100 characters with no control character, as the check branch protection requires (e.g. `scopegate/verdict`)"
        );
    }
    let Some(client) = env.client(args.api.policy())? else {
        anyhow::bail!("`scopegate comment` needs GITHUB_TOKEN and GITHUB_REPOSITORY");
    };
    let read_pr = || {
        client
            .pull_request(args.pr)
            .map_err(|e| anyhow!("reading pull request #{}: {e}", args.pr))
    };
    let moved = |head: &str, want: &str| {
        env.say(&format!(
            "::notice title=scopegate::PR #{} has moved on to {}; nothing was posted for {}.\n",
            args.pr,
            command_escape(head),
            command_escape(want)
        ));
        env.outputs(&[("result", "skipped".into())])
    };
    let p = read_pr()?;
    if p.number != args.pr {
        anyhow::bail!(
            "asked for pull request #{}, GitHub answered #{}",
            args.pr,
            p.number
        );
    }
    if let Some(want) = &args.head_sha
        && !p.head_sha.eq_ignore_ascii_case(want)
    {
        moved(&p.head_sha, want)?;
        return Ok(0);
    }
    // GitHub's answer is checked as an event payload is: ids that are ids, a login.
    let pr = events::PullRequest::checked(
        &format!("pull request #{} from the pulls API: ", p.number),
        p.number,
        p.head_sha.clone(),
        p.base_sha.clone(),
        p.author.clone(),
        p.head_repo.is_none() || p.head_repo != p.base_repo,
    )
    .map_err(anyhow::Error::msg)?;
    let (loaded, mut report) = judge_pr(args, &client, &pr, now, env.repository.as_deref())?;

    let check = args
        .report
        .as_ref()
        .map(|path| take_extras(path, &mut report));
    if let Some(Err(why)) = &check {
        env.say(&format!(
            "::error title=scopegate::The uploaded report was refused: {}. It was not used; the verdict recomputed from the PR head {} was posted instead.\n",
            command_escape(why),
            pr.head_sha
        ));
    }
    env.say(&text::gate(&report, Style::default()));

    // The head may have moved while it was read: post nothing for a stale commit.
    let now_head = read_pr()?.head_sha;
    if !now_head.eq_ignore_ascii_case(&pr.head_sha) {
        moved(&now_head, &pr.head_sha)?;
        return Ok(0);
    }
    env.outputs(&[
        ("result", result_of(&report).to_string()),
        ("escalations", report.summary.escalations.to_string()),
        ("unapproved", report.summary.unapproved.to_string()),
        (
            "report-check",
            match &check {
                None => "none",
                Some(Ok(())) => "match",
                Some(Err(_)) => "mismatch",
            }
            .to_string(),
        ),
    ])?;
    // The verdict's outputs are written before the comment step, which may fail or hang.
    let id = comment(
        &client,
        pr.number,
        &events::marker(&args.job, &loaded.manifest_spec),
        Some(pr.head_sha.as_str()),
        &report,
        CommentMode::Always,
        args.comment_author.as_deref(),
        env,
    );
    env.outputs(&[("comment-id", id.map(|i| i.to_string()).unwrap_or_default())])?;
    if let Some(context) = &args.status_context {
        set_status(&client, &pr.head_sha, context, &report)?;
    }
    Ok(u8::from(matches!(check, Some(Err(_)))))
}

/// The recomputed verdict as commit status `context` on `sha`, for branch protection
/// to require: the one signal about a fork's pull request that the fork cannot set.
fn set_status(client: &Client, sha: &str, context: &str, report: &Report) -> Result<()> {
    let (state, word) = match result_of(report) {
        "fail" => ("failure", "FAIL"),
        "no-change" => ("success", "NO CHANGE"),
        _ => ("success", "PASS"),
    };
    let s = &report.summary;
    let description = format!(
        "{word}: {} unapproved of {} escalations, recomputed from the head",
        s.unapproved, s.escalations
    );
    client
        .set_commit_status(sha, state, context, &description)
        .map_err(|e| {
            anyhow!(
                "the verdict was not set as commit status `{context}` on {sha}: {e}\n  hint: the job needs `statuses: write`; until the status is set, a check that requires it stays pending"
            )
        })
}

/// The pull request judged exactly as `ci` judges one, with the head read at its
/// sha: what was read, and the report.
fn judge_pr(
    args: &Args,
    client: &Client,
    pr: &events::PullRequest,
    now: String,
    running_in: Option<&str>,
) -> Result<(Loaded, Report)> {
    // Judged exactly as `ci` judges a pull request, with the head read at its sha.
    let event = Event {
        trigger: Trigger::PullRequest,
        pull_request: Some(pr.clone()),
        base_sha: None,
        head_sha: None,
        queued_pr: None,
        note: None,
        default_branch: None,
        tag_push: false,
    };
    let request = Request {
        base: BaseSpec::from_flags(base_for(&args.baseline, &event).as_deref(), None),
        trusted: event.trusted_commit(),
        config_from_worktree: false,
        now,
        judge_at_release: false,
    };
    let fallback = ApiFallback {
        client,
        head_sha: pr.head_sha.clone(),
    };
    let mut loaded = gating::load_at(
        &args.manifests,
        &request,
        Some(&fallback),
        &Head::Commit(pr.head_sha.clone()),
    )?;
    loaded.check_repository(running_in)?;
    // The PR's commits are classified in a clone that has them (the job may fetch the
    // PR head; fetching runs nothing), else every commit counts as a change.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let clone = Repo::discover(&cwd)
        .ok()
        .filter(|r| r.has_commit(&pr.head_sha));
    let untrusted = unverified_entries(&loaded, Ok((client, pr.clone())), clone.as_ref())?;
    let report = loaded
        .gate(&loaded.judge(Some(untrusted.as_slice()), true))
        .report;
    Ok((loaded, report))
}

/// Checks the uploaded report at `path` against the recomputed `report`: the same
/// verdict and the same change keys. Only then does it lend its display extras (which
/// escalations are new in the PR); otherwise why not, and `report` is left as it is.
fn take_extras(path: &Path, report: &mut Report) -> Result<(), String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(format!(
            "the report {} is larger than {MAX_REPORT_BYTES} bytes, the most a scopegate report may be",
            path.display()
        ));
    }
    let theirs: Report = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} is not a scopegate JSON report ({e})", path.display()))?;
    events::lend_extras(report, &theirs)
}
