//! `scopegate ci`: the GitHub Actions entry point. It reads the Actions environment,
//! gates, verifies PR-added approvals through the reviews API, updates one sticky PR
//! comment, and writes the job summary, annotations, outputs and a JSON report.
//!
//! Everything here is I/O around the pure stages: [`crate::events`] decides trust,
//! [`crate::gate`] decides the verdict, the renderers format. A comment that cannot be
//! posted (a fork's read-only token, a rate limit, a cap) never changes the verdict,
//! and the outputs are written before the comment step, so nothing it does can lose
//! them. The token is never printed: every line written is passed through
//! [`Env::redact`], which takes out any piece of the token the client sends.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::api::ApiArgs;
use super::gating::{self, ApiFallback, BaseSpec, Loaded, Request};
use crate::approval::{self, Entry};
use crate::baseline::Repo;
use crate::events::{self, Event, Review, Trigger, Verification};
use crate::github::{self, Client, Policy, Sticky};
use crate::grant::Related;
use crate::render::{Style, annotations, json, markdown, text};
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
pub struct Args {
    /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
    pub manifests: Vec<PathBuf>,
    /// `auto` (pull requests: the previous release in the PR base's history;
    /// merge_group: its base; push to the default branch: `before`; anything else: the
    /// previous release), `previous-release`, `pr-base`, or a ref.
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
    /// The login the token posts comments as, when it cannot read it (`GET /user` is
    /// refused): a GitHub App's installation token posts as `<app-slug>[bot]`
    /// [default: the login `/user` names, else `github-actions[bot]`, the Actions token's].
    #[arg(long, value_name = "LOGIN")]
    pub comment_author: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
    #[arg(long, hide = true)]
    pub now: Option<String>,
}

/// The Actions environment.
pub(super) struct Env {
    event_name: String,
    event_path: Option<PathBuf>,
    pub(super) repository: Option<String>,
    api_url: String,
    token: Option<String>,
    sha: Option<String>,
    step_summary: Option<PathBuf>,
    output: Option<PathBuf>,
    job: String,
    runner_temp: Option<PathBuf>,
}

impl Env {
    pub(super) fn read() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            event_name: var("GITHUB_EVENT_NAME").unwrap_or_default(),
            event_path: var("GITHUB_EVENT_PATH").map(PathBuf::from),
            repository: var("GITHUB_REPOSITORY"),
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            // Exactly what the client sends (it trims too), so redaction matches it.
            token: var("GITHUB_TOKEN")
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            sha: var("GITHUB_SHA"),
            step_summary: var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: var("GITHUB_OUTPUT").map(PathBuf::from),
            job: var("GITHUB_JOB").unwrap_or_else(|| "scopegate".into()),
            runner_temp: var("RUNNER_TEMP").map(PathBuf::from),
        }
    }

    /// The API client, when there is a token and a repository to use it on.
    pub(super) fn client(&self, policy: Policy) -> Result<Option<Client>> {
        let (Some(token), Some(repo)) = (&self.token, &self.repository) else {
            return Ok(None);
        };
        Client::new(&self.api_url, token, repo, policy)
            .map(Some)
            .map_err(|e| anyhow!("cannot set up the GitHub client: {e}"))
    }

    /// Belt and braces: whatever we write, no piece of the token is in it.
    pub(super) fn redact(&self, s: &str) -> String {
        match &self.token {
            Some(t) => github::redact(t, s),
            None => s.to_string(),
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

    pub(super) fn outputs(&self, pairs: &[(&str, String)]) -> Result<()> {
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

    /// A run that could not finish: the error, redacted, as an `::error` annotation,
    /// then `notice` (already worded for the log) as an `::notice`, and `result=error`
    /// in the step outputs. Returns the redacted error, which exits 2.
    pub(super) fn fail(&self, e: &anyhow::Error, notice: Option<&str>) -> anyhow::Error {
        let msg = self.redact(&format!("{e:#}"));
        self.say(&format!(
            "::error title=scopegate::{}\n",
            command_escape(&msg)
        ));
        if let Some(n) = notice {
            self.say(&format!("::notice title=scopegate::{n}\n"));
        }
        let _ = self.outputs(&[("result", "error".into())]);
        anyhow!(msg)
    }

    pub(super) fn say(&self, s: &str) {
        // The run's verdict is in its exit code and outputs; a log line that cannot be
        // written is said on stderr, not made the run's failure.
        if let Err(e) = super::shared::print(&self.redact(s)) {
            super::shared::say_err(&format!("warning: {e:#}"));
        }
    }
}

/// A workflow command's message, escaped as the `github` renderer escapes it (the
/// runner's `%0A` escapes, other line separators visible, `##[` broken).
pub(super) fn command_escape(s: &str) -> String {
    annotations::data(s)
}

/// Runs the action; errors become `result=error` and exit 2.
pub fn run(args: &Args) -> Result<u8> {
    let env = Env::read();
    match run_inner(args, &env) {
        Ok(code) => Ok(code),
        Err(e) => Err(env.fail(&e, None)),
    }
}

fn run_inner(args: &Args, env: &Env) -> Result<u8> {
    // The clock is resolved before anything is read: a bad `--now` stops here.
    let now = gating::now_utc(args.now.as_deref())?;
    let event = read_event(env)?;
    // Which events can verify what (the event table in docs/guide/github-actions.md); unsupported ones stop here.
    let verification = events::verification(&event).map_err(anyhow::Error::msg)?;
    let base = base_for(&args.baseline, &event);
    announce_note(&event, base.as_deref(), env);
    let client = env.client(args.api.policy())?;
    let pr = event.pull_request.clone();
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let repo = Repo::discover(&cwd)?;
    bind_head(&repo, &event, client.as_ref())?;
    let request = Request {
        base: BaseSpec::from_flags(base.as_deref(), None),
        trusted: event.trusted_commit(),
        config_from_worktree: false,
        now,
        judge_at_release: event.tag_push,
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
    // The commit under review is judged as git holds it: its manifests and ledger are
    // read from its tree, never from the working tree, which a step before this one
    // (a build, a generator, code the change brings) may have rewritten, through a
    // symlink's target or a symlinked directory as well as at the path itself.
    let (head, _) = repo.head_commit()?;
    let explicit: Vec<PathBuf> = args
        .manifests
        .iter()
        .map(|p| repo.relative(p).map_or_else(|| p.clone(), PathBuf::from))
        .collect();
    let mut loaded = gating::load_at(
        &explicit,
        &request,
        fallback.as_ref(),
        &gating::Head::Commit(head),
    )?;
    loaded.check_repository(env.repository.as_deref())?;
    // The entries as configured, not the files they matched: the marker (and so the
    // sticky comment) survives an app that moves, appears or goes.
    let manifest_paths: Vec<String> = loaded.manifest_spec.clone();

    // PR-added ledger entries count only with a qualifying review (docs/design.md §7); on an
    // event with no pull request nothing can verify them, so they are pending.
    let untrusted = pending_entries(&loaded, &verification, client.as_ref(), &event, &repo, env)?;
    // On a pull request (or merge group) the reviews verify, signed or not: a signature
    // names no pull request. Events that have none verify by signature, and leave
    // unsigned entries pending with their reason (docs/design.md §7).
    let on_pull_request = matches!(verification, Verification::Reviews);
    let judged = loaded.judge(Some(untrusted.as_slice()), on_pull_request);
    let mut gathered = loaded.gate(&judged);

    // Which escalations this PR brings, as opposed to earlier merges since the release.
    if let Some(pr) = &pr
        && base.as_deref() != Some(pr.base_sha.as_str())
    {
        mark_new_in_pr(&mut gathered.report, pr, args, &request, fallback.as_ref());
    }
    let report = gathered.report;

    let report_path = publish(&report, args, env)?;

    set_outputs(&report, &report_path, env)?;

    let comment_id = post_comment(
        pr.as_ref(),
        client.as_ref(),
        args,
        &manifest_paths,
        &report,
        env,
    );

    write_comment_id(comment_id, env);
    if !all_judged(&loaded, &report, env) {
        return Ok(2);
    }
    let failed = report.verdict == Some(Verdict::Fail) && args.fail_on == CiFailOn::Unapproved;
    Ok(u8::from(failed))
}

/// An event's note (why its baseline is what it is) as a notice.
fn announce_note(event: &Event, base: Option<&str>, env: &Env) {
    if let Some(note) = &event.note {
        let judged = match base {
            None => "the previous release".to_string(),
            Some(b) => format!("`{b}`, as --baseline says"),
        };
        env.say(&format!(
            "::notice title=scopegate::{}\n",
            command_escape(&format!("{note}; the baseline is {judged}"))
        ));
    }
}

/// The `comment-id` output. Appended after the others, which the comment step
/// therefore cannot lose; a failure here does not turn the verdict into `error`.
fn write_comment_id(comment_id: Option<u64>, env: &Env) {
    if let Err(e) = env.outputs(&[(
        "comment-id",
        comment_id.map(|i| i.to_string()).unwrap_or_default(),
    )]) {
        env.say(&format!(
            "::warning title=scopegate::{}\n",
            command_escape(&format!("{e:#}"))
        ));
    }
}

/// A gated path that is there but unreadable, removal unapproved: the verdict is
/// FAIL and shown, but the gate could not judge that app. Says which; `true` when
/// every app was judged.
fn all_judged(loaded: &Loaded, report: &Report, env: &Env) -> bool {
    let cannot = crate::gate::cannot_judge(&loaded.removed, report);
    for m in &cannot {
        env.say(&format!(
            "::error title=scopegate::{}\n",
            command_escape(&env.redact(m))
        ));
    }
    cannot.is_empty()
}

/// The sticky comment on a pull request (`--comment`); its id when one was posted.
fn post_comment(
    pr: Option<&events::PullRequest>,
    client: Option<&Client>,
    args: &Args,
    manifest_paths: &[String],
    report: &Report,
    env: &Env,
) -> Option<u64> {
    match (pr, client, args.comment) {
        (Some(pr), Some(c), mode) if mode != CommentMode::Never => {
            let job = args.job.clone().unwrap_or_else(|| env.job.clone());
            comment(
                c,
                pr.number,
                &events::marker(&job, manifest_paths),
                Some(&pr.head_sha),
                report,
                mode,
                args.comment_author.as_deref(),
                env,
            )
        }
        (Some(_), None, CommentMode::Auto | CommentMode::Always) => {
            env.say("::notice title=scopegate::No GITHUB_TOKEN: the PR comment was skipped; the verdict and job summary stand.\n");
            None
        }
        _ => None,
    }
}

/// The most of an event payload read (GitHub caps a webhook payload at 25 MB).
const EVENT_MAX_BYTES: usize = 32 << 20;

/// The event that triggered the run, from `GITHUB_EVENT_PATH`.
fn read_event(env: &Env) -> Result<Event> {
    match &env.event_path {
        Some(p) => {
            // A regular file, of at most what GitHub sends (a webhook payload is capped
            // at 25 MB): a FIFO would block, and `/dev/zero` would fill the memory.
            let bytes = super::shared::read_at_most(p, EVENT_MAX_BYTES)
                .with_context(|| format!("cannot read GITHUB_EVENT_PATH {}", p.display()))?;
            if bytes.len() > EVENT_MAX_BYTES {
                bail!(
                    "GITHUB_EVENT_PATH {} is over {} MiB, more than GitHub sends",
                    p.display(),
                    EVENT_MAX_BYTES >> 20
                );
            }
            events::parse_event(&env.event_name, &bytes).map_err(anyhow::Error::msg)
        }
        // No payload: nothing in it can be trusted, e.g. a push's default branch.
        None => events::parse_event(&env.event_name, b"{}").map_err(anyhow::Error::msg),
    }
}

/// PR-added ledger entries count only with a qualifying review (docs/design.md §7); on an
/// event with no pull request nothing can verify them, so they are pending. The
/// entries that do not count, with why.
fn pending_entries(
    loaded: &Loaded,
    verification: &Verification,
    client: Option<&Client>,
    event: &Event,
    repo: &Repo,
    env: &Env,
) -> Result<Vec<(Entry, String)>> {
    Ok(match verification {
        Verification::Pending(why) => {
            let added = loaded.added_entries();
            if !added.is_empty() {
                env.say(&format!(
                    "::notice title=scopegate::{}\n",
                    command_escape(&format!(
                        "{} ledger entries added since the baseline are pending: {why}",
                        added.len()
                    ))
                ));
            }
            added
                .into_iter()
                .map(|e| (e.clone(), why.clone()))
                .collect()
        }
        Verification::Reviews => {
            unverified_entries(loaded, under_review(client, event), Some(repo))?
        }
    })
}

/// Marks each escalation new in the pull request when any of it is new relative to
/// the PR's base (as opposed to merged since the release). Best effort: a base that
/// cannot be judged marks nothing.
fn mark_new_in_pr(
    report: &mut Report,
    pr: &events::PullRequest,
    args: &Args,
    request: &Request,
    fallback: Option<&ApiFallback<'_>>,
) {
    let pr_base = Request {
        base: BaseSpec::from_flags(Some(&pr.base_sha), None),
        ..request.clone()
    };
    if let Ok(mut l) = gating::load(&args.manifests, &pr_base, fallback) {
        let opts = l.config.options;
        let since_base: Vec<Scope> = l
            .gate(&Default::default())
            .report
            .changes
            .into_iter()
            .filter(|c| c.direction == Direction::Escalation)
            .filter_map(|c| Scope::parse_shown(&c.scope).ok())
            .collect();
        // Indexed: thousands of escalations are not each compared with thousands.
        let since_base = Related::new(&since_base, opts);
        for c in report
            .changes
            .iter_mut()
            .filter(|c| c.direction == Direction::Escalation)
        {
            // New in the PR when any of it is new relative to the PR's base.
            let new = Scope::parse_shown(&c.scope).is_ok_and(|piece| since_base.any(&piece));
            c.new_in_pr = Some(new);
        }
    }
}

/// Writes the JSON report, prints the verdict and annotations, and appends the job
/// summary; returns where the report went.
fn publish(report: &Report, args: &Args, env: &Env) -> Result<PathBuf> {
    let report_path = args.report_path.clone().unwrap_or_else(|| {
        env.runner_temp
            .clone()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("scopegate-report.json")
    });
    // Written beside, then renamed: a symlink the change committed at the report's path
    // (without RUNNER_TEMP it is the working directory) is replaced, not written through.
    super::gating::write_atomic(&report_path, &env.redact(&json::render(report)))?;

    env.say(&text::gate(report, Style::default()));
    if !args.no_annotations {
        env.say(&annotations::render(report));
    }
    if !args.no_summary
        && let Some(summary) = &env.step_summary
    {
        // GitHub refuses a step summary over 1 MiB (in bytes); stay well inside it.
        env.append(
            summary,
            &markdown::render_limited_bytes(report, None, 1_000_000),
        )?;
    }

    Ok(report_path)
}

/// The step outputs: result, tenants, counts, baseline and report path.
fn set_outputs(report: &Report, report_path: &Path, env: &Env) -> Result<()> {
    let s = &report.summary;
    let result = result_of(report);
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
    ])
}

/// The ledger entries a pull request adds that lack a qualifying review, each with
/// why (docs/design.md §7). `ci` and `comment` both judge with this.
pub(super) fn unverified_entries(
    loaded: &Loaded,
    under_review: Result<(&Client, events::PullRequest), String>,
    repo: Option<&Repo>,
) -> Result<Vec<(Entry, String)>> {
    let added: Vec<Entry> = loaded.added_entries().into_iter().cloned().collect();
    if added.is_empty() {
        return Ok(Vec::new());
    }
    let (c, pr) = match under_review {
        Ok(x) => x,
        Err(why) => return Ok(added.into_iter().map(|e| (e, why.clone())).collect()),
    };
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
    // API and clone errors fail closed: the entries stay pending, saying why.
    let commits = pr_commits(c, pr.number, &pr.head_sha, repo);
    let mut member_of = |org: &str, team: &str, user: &str| {
        c.team_member(org, team, user).map_err(|e| e.to_string())
    };
    let mut untrusted = Vec::new();
    for e in added {
        if let Err(why) = events::verify_added_entry(
            &e,
            &reviews,
            &pr,
            &loaded.config.approvers,
            &loaded.judge_source,
            &commits,
            &mut member_of,
        ) {
            untrusted.push((e, why));
        }
    }
    Ok(untrusted)
}

/// The `--base` the event calls for (`None`: the previous release).
pub(super) fn base_for(choice: &str, event: &Event) -> Option<String> {
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

/// Refuses to judge a tree other than the one under review: on pull request events
/// HEAD must be the PR head or GitHub's merge of it into the base; on `merge_group`,
/// the queue's commit.
fn bind_head(repo: &Repo, event: &Event, client: Option<&Client>) -> Result<()> {
    let (head, parents) = repo.head_commit()?;
    if let Some(pr) = &event.pull_request {
        let mut descends_from_base = |first: &str| match repo.descends_from(first, &pr.base_sha) {
            Some(answer) => Ok(answer),
            None => match client {
                Some(c) => c
                    .compare_status(&pr.base_sha, first)
                    .map(|s| s == "ahead" || s == "identical")
                    .map_err(|e| format!("comparing it with the base through the API: {e}")),
                None => Err(
                    "the commits are not in the clone (set `fetch-depth: 0` on actions/checkout)"
                        .to_string(),
                ),
            },
        };
        events::bind_head(&head, &parents, &event.trigger, pr, &mut descends_from_base)
            .map_err(anyhow::Error::msg)?;
    }
    if let Some(want) = &event.head_sha
        && *want != head
    {
        bail!(
            "the checked-out tree is not the one under review: HEAD is {head}, the merge queue built {want} (merge_group.head_sha)\n  hint: check out the default ref (actions/checkout does on merge_group)"
        );
    }
    Ok(())
}

/// The pull request whose reviews and commits verify added entries: the event's, or
/// the one a merge group holds (read through the API). An error says why they cannot
/// be verified.
fn under_review<'c>(
    client: Option<&'c Client>,
    event: &Event,
) -> Result<(&'c Client, events::PullRequest), String> {
    let c = client.ok_or("no GITHUB_TOKEN to read the pull request's reviews")?;
    if let Some(p) = &event.pull_request {
        return Ok((c, p.clone()));
    }
    let number = event
        .queued_pr
        .ok_or("the event names no pull request to read reviews of")?;
    let (head_sha, author) = c
        .pull_head_and_author(number)
        .map_err(|e| format!("reading queued pull request #{number}: {e}"))?;
    let base_sha = event
        .base_sha
        .clone()
        .ok_or("the merge group names no base commit")?;
    let pr = events::PullRequest::checked(
        &format!("queued pull request #{number} from the pulls API: "),
        number,
        head_sha,
        base_sha,
        author,
        false,
    )?;
    Ok((c, pr))
}

/// The pull request's commits with who GitHub says made them and what each changes
/// (from the clone). Any error is the reason reviewer independence cannot be verified.
///
/// Without a clone (`scopegate comment` in a job that fetched nothing), what a commit
/// changes cannot be told, so every commit counts as a change: an approver who pushed
/// even a ledger-only commit is then not independent (fetch the PR head to refine it).
fn pr_commits(
    c: &Client,
    number: u64,
    head: &str,
    repo: Option<&Repo>,
) -> Result<Vec<events::PrCommit>, String> {
    let listed = c
        .list_pull_commits(number)
        .map_err(|e| format!("listing the pull request's commits: {e}"))?;
    if listed.is_empty() {
        return Err("GitHub listed no commits for the pull request".to_string());
    }
    if listed.len() >= events::MAX_PR_COMMITS {
        return Err(format!(
            "the pull request has {n} commits or more, and GitHub lists at most {n}, so the rest cannot be checked",
            n = events::MAX_PR_COMMITS
        ));
    }
    // The list is the pull request's as it is now, oldest first: it must end at the
    // head judged, or it tells who wrote another head (one pushed since the event).
    if let Some(last) = listed.last()
        && !last.sha.eq_ignore_ascii_case(head)
    {
        return Err(format!(
            "GitHub listed the pull request's commits up to {}, not the head judged ({}): the pull request moved since this run's event, so who wrote this head cannot be read; re-run on the new head",
            last.sha.get(..12).unwrap_or(&last.sha),
            head.get(..12).unwrap_or(head),
        ));
    }
    let mut out = Vec::with_capacity(listed.len());
    for pc in listed {
        let Some(repo) = repo else {
            out.push(events::PrCommit {
                change: events::CommitChange::Other,
                co_authors: events::co_authors(&pc.message),
                sha: pc.sha,
                author: pc.author,
                committer: pc.committer,
            });
            continue;
        };
        let in_clone =
            |e: crate::baseline::Error| format!("reading commit {} in the clone: {e}", pc.sha);
        let (paths, parents) = repo.own_changes(&pc.sha).map_err(in_clone)?;
        let (before, after) = match (paths.as_slice(), parents.as_slice()) {
            ([only], [parent]) if only == approval::PATH => (
                repo.read_at(parent, approval::PATH).map_err(in_clone)?,
                repo.read_at(&pc.sha, approval::PATH).map_err(in_clone)?,
            ),
            _ => (None, None),
        };
        out.push(events::PrCommit {
            change: events::classify_change(
                &paths,
                parents.len(),
                before.as_deref(),
                after.as_deref(),
            ),
            co_authors: events::co_authors(&pc.message),
            sha: pc.sha,
            author: pc.author,
            committer: pc.committer,
        });
    }
    Ok(out)
}

/// Posts or updates the sticky comment; failures become notices, never a verdict.
/// With `head` (the commit the report judged), the marker names it, and nothing is
/// written once the pull request has moved past it.
#[allow(clippy::too_many_arguments)]
pub(super) fn comment(
    c: &Client,
    pr: u64,
    marker: &str,
    head: Option<&str>,
    report: &Report,
    mode: CommentMode,
    comment_author: Option<&str>,
    env: &Env,
) -> Option<u64> {
    let shown_marker = head.map_or_else(|| marker.to_string(), |h| events::marker_at(marker, h));
    let body = markdown::render(report, Some(&shown_marker));
    let author = match c.authenticated_login() {
        Ok(Some(login)) => login,
        // An Actions token cannot read /user; its comments are the bot's. A GitHub
        // App's cannot either, and posts as the App: `--comment-author`.
        Ok(None) => comment_author.unwrap_or("github-actions[bot]").to_string(),
        Err(e) => return skip(env, &e),
    };
    if mode == CommentMode::Auto && report.verdict == Some(Verdict::NoChange) {
        // No access change: keep a PR that never had one free of comments.
        match c.sticky_comment(pr, marker, &author) {
            Ok(None) => return None,
            Ok(Some(_)) => {}
            Err(e) => return skip(env, &e),
        }
    }
    let written = c.upsert_sticky_comment_at(pr, marker, &body, &author, head);
    if let Some(login) = c.posted_as() {
        env.say(&format!(
            "::notice title=scopegate::The comment was posted as {}, not {}: pass `--comment-author {}` (the action's `comment-author` input) so the next run finds it without posting a new one first.\n",
            command_escape(&login),
            command_escape(&author),
            command_escape(&login)
        ));
    }
    match written {
        Ok(Sticky::Created(id) | Sticky::Updated(id) | Sticky::Unchanged(id)) => Some(id),
        Ok(Sticky::Stale { current }) => {
            env.say(&format!(
                "::notice title=scopegate::PR #{pr} has moved on to {}; the comment for {} was not written, so it keeps the newer head's verdict.\n",
                command_escape(&current),
                command_escape(head.unwrap_or_default())
            ));
            None
        }
        Err(e) => skip(env, &e),
    }
}

pub(super) fn skip(env: &Env, e: &github::Error) -> Option<u64> {
    let why = match e {
        github::Error::Status { status: 403, .. } => format!(
            "the token cannot write to this pull request ({e}). Fork PRs get a read-only token; for same-repo PRs grant `permissions: pull-requests: write`. The verdict, job summary and annotations stand."
        ),
        github::Error::RateLimited { .. } => {
            format!("GitHub's rate limit ({e}). The verdict, job summary and annotations stand.")
        }
        github::Error::Limit { .. } => format!(
            "a cap on GitHub API calls was reached ({e}). The verdict, job summary and annotations stand."
        ),
        _ => format!("{e}. The verdict, job summary and annotations stand."),
    };
    env.say(&format!(
        "::notice title=scopegate::The PR comment was skipped: {}\n",
        command_escape(&why)
    ));
    None
}

/// The `result` output of a verdict.
pub(super) fn result_of(report: &Report) -> &'static str {
    match report.verdict {
        Some(Verdict::Fail) => "fail",
        Some(Verdict::NoChange) => "no-change",
        _ => "pass",
    }
}

#[cfg(test)]
mod tests {
    use super::command_escape;

    /// Regression: the CLI's own notices escaped only `%`, CR and LF, so a line
    /// separator or a legacy `##[` in user text (a push ref, an error quoting input)
    /// reached the job log raw.
    #[test]
    fn notices_escape_every_line_separator_and_legacy_commands() {
        let s = command_escape("ref\u{2028}::notice::PASS\u{85}x ##[group]y\n::add-mask::z 100%");
        assert!(!s.contains(['\n', '\r', '\u{2028}', '\u{85}']), "{s}");
        assert!(!s.contains("##["), "{s}");
        assert!(s.contains("%0A") && s.contains("100%25"), "{s}");
    }
}
