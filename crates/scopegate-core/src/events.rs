//! GitHub Actions, the pure part: the event payload and what a run on it may trust,
//! whether the checked-out commit is the one under review, the sticky-comment
//! marker, and whether a ledger entry added by a pull request is backed by a
//! qualifying, independent review.
//!
//! It reads no environment and calls no API: the CLI gathers the payload, HEAD, the
//! reviews and the PR's commits (through the CLI's GitHub and git adapters)
//! and hands them here. Trust is decided as in docs/design.md §7: an entry the PR adds counts
//! only with an `APPROVED` review on the PR's current head commit, by the approver
//! the entry names, who is listed in the baseline config (as a login or an
//! `org/team`), who is not the PR author, and who wrote or committed none of the
//! PR's changes. Events with no pull request to check leave added entries pending.
//!
//! It also decides whether a report from an untrusted run agrees with the verdict
//! recomputed here ([`lend_extras`]).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::approval::Entry;
use crate::report::{Direction, Report, Verdict};

/// What triggered the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    PullRequest,
    PullRequestTarget,
    PullRequestReview,
    MergeGroup,
    Push,
    Other(String),
}

impl Trigger {
    /// The event's name, as `GITHUB_EVENT_NAME` spells it.
    pub(crate) fn name(&self) -> &str {
        match self {
            Trigger::PullRequest => "pull_request",
            Trigger::PullRequestTarget => "pull_request_target",
            Trigger::PullRequestReview => "pull_request_review",
            Trigger::MergeGroup => "merge_group",
            Trigger::Push => "push",
            Trigger::Other(n) => n,
        }
    }

    fn is_pull_request(&self) -> bool {
        matches!(
            self,
            Trigger::PullRequest | Trigger::PullRequestTarget | Trigger::PullRequestReview
        )
    }
}

/// The pull request a run is about. Outside the core it is made only by
/// [`PullRequest::checked`] (a field is crate-private), so every one from an event or
/// the API has had its ids and author checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub head_sha: String,
    pub base_sha: String,
    pub author: String,
    /// The head lives in another repository (a fork): its token is read-only.
    pub(crate) from_fork: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub trigger: Trigger,
    pub pull_request: Option<PullRequest>,
    /// `merge_group.base_sha`, or `before` on a push to the default branch. Absent for
    /// a new branch, and for a push to any other branch or to a tag: whoever pushes
    /// there controls `before`.
    pub base_sha: Option<String>,
    /// `merge_group.head_sha`: the commit the merge queue built and the run judges.
    pub head_sha: Option<String>,
    /// The one pull request a merge group holds, from `merge_group.head_ref`.
    pub queued_pr: Option<u64>,
    /// Why `before` is not this push's baseline, when it is not.
    pub note: Option<String>,
    /// `repository.default_branch`: the protected branch whose tip is the trusted
    /// commit for events that name no base of their own.
    pub default_branch: Option<String>,
    /// A push of a tag (`refs/tags/<name>`): the release-tag path, judged by the
    /// previous release's config rather than the trusted commit's.
    pub tag_push: bool,
}

impl Event {
    /// The trusted commit (docs/design.md §6): the PR base, `merge_group.base_sha`, `before`
    /// on a push to the default branch, and otherwise the default branch's tip as the
    /// clone knows it (`origin/<default branch>`: a push to another branch, a dispatch,
    /// a schedule). The previous release is searched in its history and its config names
    /// the release tags; `None` (no payload names a default branch) leaves it at HEAD.
    pub fn trusted_commit(&self) -> Option<String> {
        self.pull_request
            .as_ref()
            .map(|p| p.base_sha.clone())
            .or_else(|| self.base_sha.clone())
            .or_else(|| {
                self.default_branch
                    .as_ref()
                    .map(|d| format!("refs/remotes/origin/{d}"))
            })
    }
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

/// A payload's text as an error quotes it: shortened in the middle when long, with its
/// length, and control characters escaped. Every field of the payload is text the gate
/// does not control; a 20 MB `base.sha` was quoted whole.
fn shown(text: &str) -> String {
    use crate::render::safe::{escape, shortened};
    match shortened(text) {
        std::borrow::Cow::Borrowed(whole) => format!("`{}`", escape(whole)),
        short => format!("`{}` ({} bytes)", escape(&short), text.len()),
    }
}

/// `value` of field `field` (named whole: `the event's merge_group.base_sha`) as a
/// commit id: 40 (SHA-1) or 64 (SHA-256) hex digits, as GitHub writes them. Anything
/// else is refused, never looked up in git (where it could be a branch or tag name)
/// nor sent to the API.
fn commit_id(field: &str, value: String) -> Result<String, String> {
    if matches!(value.len(), 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value)
    } else {
        Err(format!(
            "{field} is not a commit id (40 or 64 hex digits): {}",
            shown(&value)
        ))
    }
}

impl PullRequest {
    /// A pull request from text the gate does not control (an event payload, the pulls
    /// API): its commit ids must be ids, and its author a GitHub login (at most 39
    /// characters, and an app's `[bot]`; up to 64 of `[A-Za-z0-9-_[]]` are taken).
    /// `what` starts a field's name in an error (`the event's pull_request.`).
    pub fn checked(
        what: &str,
        number: u64,
        head_sha: String,
        base_sha: String,
        author: String,
        from_fork: bool,
    ) -> Result<PullRequest, String> {
        let login = !author.is_empty()
            && author.len() <= 64
            && author
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '[' | ']'));
        if !login {
            return Err(format!(
                "{what}user.login is not a GitHub login: {}",
                shown(&author)
            ));
        }
        Ok(PullRequest {
            number,
            head_sha: commit_id(&format!("{what}head.sha"), head_sha)?,
            base_sha: commit_id(&format!("{what}base.sha"), base_sha)?,
            author,
            from_fork,
        })
    }
}

/// Reads `GITHUB_EVENT_NAME` and the JSON at `GITHUB_EVENT_PATH`.
pub fn parse_event(name: &str, payload: &[u8]) -> Result<Event, String> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the event payload is not JSON: {e}"))?;
    let trigger = match name {
        "pull_request" => Trigger::PullRequest,
        "pull_request_target" => Trigger::PullRequestTarget,
        "pull_request_review" => Trigger::PullRequestReview,
        "merge_group" => Trigger::MergeGroup,
        "push" => Trigger::Push,
        other => Trigger::Other(other.to_string()),
    };
    let pull_request = match v.get("pull_request") {
        Some(pr) if trigger.is_pull_request() => {
            let need = |path: &[&str]| {
                s(pr, path)
                    .ok_or_else(|| format!("the event has no pull_request.{}", path.join(".")))
            };
            let number = pr
                .get("number")
                .and_then(Value::as_u64)
                .ok_or("the event has no pull_request.number")?;
            let head_repo = s(pr, &["head", "repo", "full_name"]);
            let base_repo = s(pr, &["base", "repo", "full_name"]);
            Some(PullRequest::checked(
                "the event's pull_request.",
                number,
                need(&["head", "sha"])?,
                need(&["base", "sha"])?,
                need(&["user", "login"])?,
                head_repo.is_some() && head_repo != base_repo,
            )?)
        }
        _ => None,
    };
    if trigger.is_pull_request() && pull_request.is_none() {
        return Err("a pull_request event without `pull_request` in its payload".into());
    }
    let mut note = None;
    let tag_push =
        trigger == Trigger::Push && s(&v, &["ref"]).is_some_and(|r| r.starts_with("refs/tags/"));
    // A branch name is a git ref component; anything else is not trusted as one.
    let default_branch = s(&v, &["repository", "default_branch"]).filter(|d| {
        !d.is_empty()
            && !d.starts_with(['-', '/'])
            && !d.contains("..")
            && d.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    });
    let queued_pr = match trigger {
        Trigger::MergeGroup => s(&v, &["merge_group", "head_ref"]).and_then(|r| queued_pr(&r)),
        _ => None,
    };
    let (base_sha, head_sha) = match trigger {
        Trigger::MergeGroup => (
            Some(commit_id(
                "the event's merge_group.base_sha",
                s(&v, &["merge_group", "base_sha"])
                    .ok_or("the merge_group event has no base_sha")?,
            )?),
            Some(commit_id(
                "the event's merge_group.head_sha",
                s(&v, &["merge_group", "head_sha"])
                    .ok_or("the merge_group event has no head_sha")?,
            )?),
        ),
        Trigger::Push => {
            let git_ref = s(&v, &["ref"]).unwrap_or_default();
            let default = s(&v, &["repository", "default_branch"]);
            let on_default = default
                .as_deref()
                .is_some_and(|d| git_ref == format!("refs/heads/{d}"));
            if on_default {
                // A new branch has `before` all zeros: there is no previous commit.
                let before = s(&v, &["before"])
                    .map(|b| commit_id("the event's before", b))
                    .transpose()?;
                (before.filter(|b| !b.chars().all(|c| c == '0')), None)
            } else {
                let what = match (&default, git_ref.strip_prefix("refs/tags/")) {
                    (_, Some(_)) => "a tag".to_string(),
                    (Some(d), None) => format!("not the default branch {}", shown(d)),
                    (None, None) => "the payload names no default branch".to_string(),
                };
                note = Some(format!(
                    "a push to {} ({what}) is not judged against `before`: whoever pushes there chose it",
                    shown(&git_ref)
                ));
                (None, None)
            }
        }
        _ => (None, None),
    };
    // An event judged from the default branch's tip (no PR base, no merge group base,
    // no `before`) whose default branch is not a plain ref name: with none, the trusted
    // commit was HEAD, the commit under judgement, which then chose its own release
    // tags and judges. Refused instead.
    if pull_request.is_none()
        && base_sha.is_none()
        && default_branch.is_none()
        && let Some(d) = s(&v, &["repository", "default_branch"])
    {
        return Err(format!(
            "the event's repository.default_branch {} is not a branch name scopegate reads as a ref (letters, digits, `-`, `_`, `.`, `/`), and this event is judged from the default branch's tip: without it the trusted commit would be HEAD, the commit under judgement; gate pull requests into the branch instead (their base is the trusted commit), or run `scopegate gate --trusted <ref>` naming the branch's tip",
            shown(&d)
        ));
    }
    Ok(Event {
        trigger,
        pull_request,
        base_sha,
        head_sha,
        queued_pr,
        note,
        default_branch,
        tag_push,
    })
}

/// The pull request a merge queue ref holds: `refs/heads/gh-readonly-queue/<base
/// branch>/pr-<number>-<sha>`. GitHub builds one merge group per pull request, each
/// on the previous group's head; any other shape (none, or several `pr-` segments)
/// names no single pull request.
pub(crate) fn queued_pr(head_ref: &str) -> Option<u64> {
    let rest = head_ref.strip_prefix("refs/heads/").unwrap_or(head_ref);
    let rest = rest.strip_prefix("gh-readonly-queue/")?;
    let pr_segment = |seg: &str| -> Option<u64> {
        let (n, sha) = seg.strip_prefix("pr-")?.split_once('-')?;
        let hex = !sha.is_empty() && sha.chars().all(|c| c.is_ascii_hexdigit());
        let digits = !n.is_empty() && n.chars().all(|c| c.is_ascii_digit());
        if hex && digits { n.parse().ok() } else { None }
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let (last, branch) = segments.split_last()?;
    if branch.is_empty() || branch.iter().any(|s| pr_segment(s).is_some()) {
        return None;
    }
    pr_segment(last)
}

/// The events `scopegate ci` runs on (`GITHUB_EVENT_NAME`).
pub const EVENT_NAMES: [&str; 8] = [
    "pull_request",
    "pull_request_target",
    "pull_request_review",
    "merge_group",
    "push",
    "workflow_dispatch",
    "schedule",
    "release",
];

/// How a run on an event treats the ledger entries the change adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Checked against the pull request's reviews and commits (on `merge_group`, the
    /// queued pull request's); HEAD must be its head (or the queue's commit).
    Reviews,
    /// Nothing in this run can verify them: they are pending, for this reason.
    Pending(String),
}

/// What a run on `event` may trust; an error (exit 2) for an event it cannot judge.
pub fn verification(event: &Event) -> Result<Verification, String> {
    let name = event.trigger.name();
    let pending = |what: &str| {
        Verification::Pending(format!(
            "a `{name}` run {what}, so it cannot verify ledger entries the change adds; they count on the pull request run (an APPROVED review on its head)"
        ))
    };
    match &event.trigger {
        Trigger::PullRequest | Trigger::PullRequestTarget | Trigger::PullRequestReview => {
            Ok(Verification::Reviews)
        }
        Trigger::MergeGroup if event.queued_pr.is_some() => Ok(Verification::Reviews),
        Trigger::MergeGroup => Ok(pending(
            "has a `merge_group.head_ref` that names no single pull request",
        )),
        Trigger::Push => Ok(pending("has no pull request")),
        Trigger::Other(n) if matches!(n.as_str(), "workflow_dispatch" | "schedule" | "release") => {
            Ok(pending("has no pull request"))
        }
        Trigger::Other(n) => {
            let why = match n.as_str() {
                "" => "GITHUB_EVENT_NAME is not set: `scopegate ci` runs in GitHub Actions (use `scopegate gate` elsewhere)".to_string(),
                "issue_comment" => "an `issue_comment` run checks out the default branch and its payload names no pull request head, so the tree judged would not be the one under review; a `pull_request_review` trigger re-runs the gate when a release manager approves".to_string(),
                "pull_request_review_comment" => "a review comment changes no approval; the `pull_request_review` trigger re-runs the gate when a review is submitted".to_string(),
                "workflow_run" => "a `workflow_run` run checks out the default branch, not the pull request; for fork PRs use the split in examples/workflows/ (`scopegate comment` recomputes the verdict)".to_string(),
                other => format!("`{other}` is not an event scopegate knows how to judge"),
            };
            Err(format!(
                "unsupported event: {why}\n  hint: run `scopegate ci` on {}",
                EVENT_NAMES.join(", ")
            ))
        }
    }
}

/// How the checked-out commit relates to the pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    /// HEAD is the PR head.
    Head,
    /// HEAD is a merge of the PR head into the base (GitHub's `refs/pull/N/merge`).
    MergeOfHead,
}

/// Whether the checked-out commit `head` (with its `parents`) is the pull request
/// under review: its head, or a merge commit whose second parent is the head and
/// whose first parent is the base or a later commit of the base branch
/// (`descends_from_base` asks git or the API). Otherwise an error with the fix.
pub fn bind_head(
    head: &str,
    parents: &[String],
    trigger: &Trigger,
    pr: &PullRequest,
    descends_from_base: &mut dyn FnMut(&str) -> Result<bool, String>,
) -> Result<Bound, String> {
    if head == pr.head_sha {
        return Ok(Bound::Head);
    }
    let short = |c: &str| c[..c.len().min(12)].to_string();
    let fix = if *trigger == Trigger::PullRequestTarget {
        "`pull_request_target` checks out the base branch: give actions/checkout `ref: ${{ github.event.pull_request.head.sha }}` (scopegate only reads the files; run nothing from that checkout)".to_string()
    } else {
        "check out the pull request as actions/checkout does by default (GitHub's merge commit, `refs/pull/N/merge`), or `ref: ${{ github.event.pull_request.head.sha }}`".to_string()
    };
    let why = match parents {
        [first, second] if *second == pr.head_sha && *first == pr.base_sha => {
            return Ok(Bound::MergeOfHead);
        }
        [first, second] if *second == pr.head_sha => match descends_from_base(first) {
            Ok(true) => return Ok(Bound::MergeOfHead),
            Ok(false) => format!(
                "HEAD {} merges the PR head into {}, which is not the base {} or a later commit of the base branch",
                short(head),
                short(first),
                short(&pr.base_sha)
            ),
            Err(e) => format!(
                "HEAD {} merges the PR head into {}, and whether that is the base branch cannot be told: {e}",
                short(head),
                short(first)
            ),
        },
        [_, second] => format!(
            "HEAD {} is a merge of {}, not of the PR head {}",
            short(head),
            short(second),
            short(&pr.head_sha)
        ),
        _ => format!(
            "HEAD {} is neither the PR head {} nor a merge commit of it",
            short(head),
            short(&pr.head_sha)
        ),
    };
    Err(format!(
        "the checked-out tree is not the pull request under review: {why}\n  hint: {fix}"
    ))
}

/// The hidden marker that identifies this job's comment for these manifests. Only
/// `[A-Za-z0-9._/-]` survive, so user-controlled names cannot close the comment.
pub fn marker(job: &str, manifests: &[String]) -> String {
    let clean = |t: &str| -> String {
        t.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let m: Vec<String> = manifests.iter().map(|m| clean(m)).collect();
    format!(
        "<!-- scopegate:v1 job={} manifests={} -->",
        clean(job),
        m.join(",")
    )
}

/// `marker` (from [`marker`]) naming the head commit the comment judged:
/// `<!-- scopegate:v1 job=… manifests=… head=SHA -->`. A comment with the plain
/// marker (written before heads were named) is still the same sticky comment
/// (the GitHub adapter's `is_marked`). Only hex digits of `head` are kept.
pub fn marker_at(marker: &str, head: &str) -> String {
    let head: String = head
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(64)
        .collect();
    match marker.strip_suffix(" -->") {
        Some(open) if !head.is_empty() => format!("{open} head={head} -->"),
        _ => marker.to_string(),
    }
}

/// One pull request review, as the reviews API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub login: String,
    pub state: String,
    pub commit_id: Option<String>,
}

/// Whether an approver entry in the config names `login`, directly or through a team.
/// Team membership is looked up by the caller; an error means it could not be
/// verified (and the entry stays pending: fail closed).
pub(crate) fn approver_matches(
    approvers: &[String],
    login: &str,
    member_of: &mut dyn FnMut(&str, &str, &str) -> Result<bool, String>,
) -> Result<bool, String> {
    let mut unverifiable = Vec::new();
    for a in approvers {
        match a.split_once('/') {
            None => {
                if a.trim_start_matches('@').eq_ignore_ascii_case(login) {
                    return Ok(true);
                }
            }
            Some((org, team)) => match member_of(org.trim_start_matches('@'), team, login) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(e) => unverifiable.push(format!("{a}: {e}")),
            },
        }
    }
    if unverifiable.is_empty() {
        Ok(false)
    } else {
        Err(format!(
            "team membership of {login} could not be verified ({}); the token needs the organization permission Members: read",
            unverifiable.join("; ")
        ))
    }
}

/// GitHub lists at most this many commits of a pull request.
pub const MAX_PR_COMMITS: usize = 250;

/// What a commit changes by itself, as git says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitChange {
    /// Nothing: an empty commit, or a merge that took every file from one side.
    Nothing,
    /// Only text appended to the ledger: how a release manager records an approval.
    LedgerAppend,
    /// Anything else.
    Other,
}

/// One commit of a pull request: who GitHub says wrote and committed it (`None`: the
/// git identity is linked to no account), and what it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrCommit {
    pub sha: String,
    pub author: Option<String>,
    pub committer: Option<String>,
    /// `Co-authored-by:` trailers: the address as written, and the login when the
    /// address is a GitHub noreply one.
    pub co_authors: Vec<(String, Option<String>)>,
    pub change: CommitChange,
}

/// What a commit changes, from the paths it changes by itself and, when that is the
/// ledger alone in a single-parent commit, the ledger before and after.
pub fn classify_change(
    paths: &[String],
    parents: usize,
    ledger_before: Option<&[u8]>,
    ledger_after: Option<&[u8]>,
) -> CommitChange {
    match paths {
        [] => CommitChange::Nothing,
        [only] if only == crate::approval::PATH && parents == 1 => match ledger_after {
            Some(after) if after.starts_with(ledger_before.unwrap_or_default()) => {
                CommitChange::LedgerAppend
            }
            _ => CommitChange::Other,
        },
        _ => CommitChange::Other,
    }
}

/// The `Co-authored-by:` trailers of a commit message.
pub fn co_authors(message: &str) -> Vec<(String, Option<String>)> {
    message
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let (key, value) = l.split_once(':')?;
            if !key.trim().eq_ignore_ascii_case("co-authored-by") {
                return None;
            }
            let value = value.trim().to_string();
            let email = value
                .rsplit_once('<')
                .and_then(|(_, e)| e.strip_suffix('>'))
                .unwrap_or(&value)
                .trim()
                .to_ascii_lowercase();
            let login = email
                .strip_suffix("@users.noreply.github.com")
                .map(|local| local.split_once('+').map_or(local, |(_, l)| l))
                .filter(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                .map(str::to_string);
            Some((value, login))
        })
        .collect()
}

/// `Ok(())` when `who` wrote, committed and co-wrote none of the pull request's
/// changes (commits that change nothing or only append to the ledger aside), else
/// why not. Every identity in a commit that matters must map to a login: one that
/// does not could be `who`, so it fails closed, as does a commit list that could not
/// be read or is cut off at GitHub's 250.
pub(crate) fn independent(
    who: &str,
    commits: &Result<Vec<PrCommit>, String>,
) -> Result<(), String> {
    let commits = commits
        .as_ref()
        .map_err(|e| format!("{who}'s independence from the change cannot be verified: {e}"))?;
    let short = |c: &str| c[..c.len().min(12)].to_string();
    let matters = commits.iter().filter(|c| c.change == CommitChange::Other);
    for c in matters.clone() {
        let is = |l: &Option<String>| l.as_deref().is_some_and(|l| l.eq_ignore_ascii_case(who));
        let role = if is(&c.author) {
            "wrote"
        } else if is(&c.committer) {
            "committed"
        } else if c.co_authors.iter().any(|(_, l)| is(l)) {
            "co-wrote"
        } else {
            continue;
        };
        return Err(format!(
            "{who} {role} commit {} of this pull request, so cannot approve it: an approver must be independent of the change; another approver must review",
            short(&c.sha)
        ));
    }
    for c in matters {
        let unmapped = if c.author.is_none() {
            Some("author".to_string())
        } else if c.committer.is_none() {
            Some("committer".to_string())
        } else {
            c.co_authors
                .iter()
                .find(|(_, l)| l.is_none())
                .map(|(a, _)| format!("co-author {a:?}"))
        };
        if let Some(what) = unmapped {
            return Err(format!(
                "the {what} of commit {} is linked to no GitHub account, so it could be {who}: {who}'s independence from the change cannot be verified",
                short(&c.sha)
            ));
        }
    }
    Ok(())
}

/// `Ok(())` when a PR-added ledger entry is backed by a qualifying review by an
/// independent approver, else why not.
pub fn verify_added_entry(
    entry: &Entry,
    reviews: &[Review],
    pr: &PullRequest,
    approvers: &[String],
    judge: &str,
    commits: &Result<Vec<PrCommit>, String>,
    member_of: &mut dyn FnMut(&str, &str, &str) -> Result<bool, String>,
) -> Result<(), String> {
    let short = &pr.head_sha[..pr.head_sha.len().min(12)];
    let who = entry.by.trim_start_matches('@');
    let may = crate::gate::trust::may_approve(approvers, judge);
    if who.eq_ignore_ascii_case(&pr.author) {
        return Err(format!(
            "the entry names {who}, the PR author, who cannot approve their own change; may approve: {may}"
        ));
    }
    match approver_matches(approvers, who, member_of) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "{who} is not an approver in the config at {judge}; may approve: {may}"
            ));
        }
        Err(e) => return Err(e),
    }
    independent(who, commits)?;
    // The reviewer's latest review that is not a plain comment decides.
    let latest = reviews
        .iter()
        .rfind(|r| r.login.eq_ignore_ascii_case(who) && r.state != "COMMENTED");
    match latest {
        Some(r)
            if r.state == "APPROVED" && r.commit_id.as_deref() == Some(pr.head_sha.as_str()) =>
        {
            Ok(())
        }
        Some(r) if r.state == "APPROVED" => Err(format!(
            "{who} approved an older commit ({}); needs an APPROVED review on {short}",
            r.commit_id
                .as_deref()
                .map_or("unknown", |c| &c[..c.len().min(12)])
        )),
        Some(r) => Err(format!(
            "{who}'s latest review is {}; needs an APPROVED review on {short}",
            r.state
        )),
        None => Err(format!(
            "waiting for an APPROVED review by {who} on {short}"
        )),
    }
}

/// Checks a report that an untrusted run claims (`claimed`) against the one recomputed
/// here: the same verdict and the same set of change keys. Only then does the claim
/// lend its display extras (which escalations are new in the PR) to `recomputed`;
/// nothing else of it is used. Otherwise why not, with `recomputed` left as it was.
pub fn lend_extras(recomputed: &mut Report, claimed: &Report) -> Result<(), String> {
    let name = |v: Option<Verdict>| match v {
        Some(Verdict::Fail) => "FAIL",
        Some(Verdict::Pass) => "PASS",
        Some(Verdict::NoChange) => "NO CHANGE",
        None => "no verdict",
    };
    if claimed.verdict != recomputed.verdict {
        return Err(format!(
            "it says {}, the recomputed verdict is {}",
            name(claimed.verdict),
            name(recomputed.verdict)
        ));
    }
    let keys = |r: &Report| -> BTreeSet<(String, bool)> {
        r.changes
            .iter()
            .map(|c| (c.key.clone(), c.direction == Direction::Escalation))
            .collect()
    };
    let (ours, theirs) = (keys(recomputed), keys(claimed));
    if ours != theirs {
        let list = |s: Vec<&(String, bool)>| {
            let mut l: Vec<String> = s.iter().take(5).map(|k| format!("`{}`", k.0)).collect();
            if s.len() > 5 {
                l.push(format!("and {} more", s.len() - 5));
            }
            l.join(", ")
        };
        let mut why = Vec::new();
        let missing: Vec<_> = ours.difference(&theirs).collect();
        if !missing.is_empty() {
            why.push(format!("it leaves out {}", list(missing)));
        }
        let extra: Vec<_> = theirs.difference(&ours).collect();
        if !extra.is_empty() {
            why.push(format!(
                "it lists {}, which the head does not change that way",
                list(extra)
            ));
        }
        return Err(why.join("; "));
    }
    for c in &mut recomputed.changes {
        c.new_in_pr = claimed
            .changes
            .iter()
            .find(|t| t.key == c.key && t.direction == c.direction)
            .and_then(|t| t.new_in_pr);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval;

    fn pr() -> PullRequest {
        PullRequest {
            number: 7,
            head_sha: "h".repeat(40),
            base_sha: "b".repeat(40),
            author: "dev".into(),
            from_fork: false,
        }
    }

    fn entry(by: &str) -> Entry {
        let t = format!(
            "approvals:\n  - keys: [\"a:openid\"]\n    by: {by}\n    at: 2026-11-28\n    ticket: T\n"
        );
        approval::from_bytes("l", t.as_bytes()).unwrap().remove(0)
    }

    fn review(login: &str, state: &str, commit: &str) -> Review {
        Review {
            login: login.into(),
            state: state.into(),
            commit_id: Some(commit.into()),
        }
    }

    fn no_teams(_: &str, _: &str, _: &str) -> Result<bool, String> {
        Ok(false)
    }

    fn verify(e: &Entry, reviews: &[Review], approvers: &[&str]) -> Result<(), String> {
        let approvers: Vec<String> = approvers.iter().map(|s| s.to_string()).collect();
        verify_added_entry(
            e,
            reviews,
            &pr(),
            &approvers,
            "the trusted commit main",
            &Ok(Vec::new()),
            &mut no_teams,
        )
    }

    #[test]
    fn an_approved_review_at_head_by_the_named_approver_counts() {
        let head = "h".repeat(40);
        assert_eq!(
            verify(
                &entry("alice"),
                &[review("alice", "APPROVED", &head)],
                &["alice"]
            ),
            Ok(())
        );
    }

    #[test]
    fn no_review_or_an_old_commit_or_a_later_change_request_is_pending() {
        let head = "h".repeat(40);
        assert!(
            verify(&entry("alice"), &[], &["alice"])
                .unwrap_err()
                .contains("waiting")
        );
        let old = verify(
            &entry("alice"),
            &[review("alice", "APPROVED", "0123456789abcdef")],
            &["alice"],
        );
        assert!(old.unwrap_err().contains("older commit"));
        let later = verify(
            &entry("alice"),
            &[
                review("alice", "APPROVED", &head),
                review("alice", "CHANGES_REQUESTED", &head),
            ],
            &["alice"],
        );
        assert!(later.unwrap_err().contains("CHANGES_REQUESTED"));
        // A later plain comment does not undo an approval.
        let commented = verify(
            &entry("alice"),
            &[
                review("alice", "APPROVED", &head),
                review("alice", "COMMENTED", &head),
            ],
            &["alice"],
        );
        assert_eq!(commented, Ok(()));
    }

    #[test]
    fn the_author_and_unlisted_people_cannot_approve() {
        let head = "h".repeat(40);
        let own = verify(&entry("dev"), &[review("dev", "APPROVED", &head)], &["dev"]);
        assert!(own.unwrap_err().contains("PR author"));
        let other = verify(
            &entry("mallory"),
            &[review("mallory", "APPROVED", &head)],
            &["alice"],
        );
        assert!(other.unwrap_err().contains("not an approver"));
        // A review by someone else does not back an entry that names alice.
        let wrong = verify(
            &entry("alice"),
            &[review("bob", "APPROVED", &head)],
            &["alice", "bob"],
        );
        assert!(wrong.is_err());
    }

    #[test]
    fn teams_count_and_unverifiable_teams_fail_closed() {
        let head = "h".repeat(40);
        let approvers = vec!["acme/release".to_string()];
        let mut member =
            |o: &str, t: &str, u: &str| Ok(o == "acme" && t == "release" && u == "alice");
        assert_eq!(
            verify_added_entry(
                &entry("alice"),
                &[review("alice", "APPROVED", &head)],
                &pr(),
                &approvers,
                "the trusted commit main",
                &Ok(Vec::new()),
                &mut member
            ),
            Ok(())
        );
        let mut forbidden = |_: &str, _: &str, _: &str| Err("403 Forbidden".to_string());
        let e = verify_added_entry(
            &entry("alice"),
            &[review("alice", "APPROVED", &head)],
            &pr(),
            &approvers,
            "the trusted commit main",
            &Ok(Vec::new()),
            &mut forbidden,
        )
        .unwrap_err();
        assert!(
            e.contains("could not be verified") && e.contains("Members: read"),
            "{e}"
        );
    }

    #[test]
    fn events_are_parsed_per_trigger() {
        let pr_payload = br#"{"pull_request":{"number":7,"user":{"login":"dev"},"head":{"sha":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","repo":{"full_name":"fork/app"}},"base":{"sha":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","repo":{"full_name":"acme/app"}}}}"#;
        let e = parse_event("pull_request", pr_payload).unwrap();
        let p = e.pull_request.unwrap();
        assert_eq!(
            (
                p.number,
                p.head_sha.as_str(),
                p.base_sha.as_str(),
                p.from_fork
            ),
            (
                7,
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                true
            )
        );
        let e = parse_event(
            "merge_group",
            br#"{"merge_group":{"base_sha":"cccccccccccccccccccccccccccccccccccccccc","head_sha":"dddddddddddddddddddddddddddddddddddddddd"}}"#,
        )
        .unwrap();
        assert_eq!(
            e.base_sha.as_deref(),
            Some("cccccccccccccccccccccccccccccccccccccccc")
        );
        let e = parse_event(
            "push",
            br#"{"before":"0000000000000000000000000000000000000000"}"#,
        )
        .unwrap();
        assert_eq!(e.base_sha, None);
        assert!(parse_event("pull_request", b"{}").is_err());
        assert!(parse_event("push", b"not json").is_err());
    }

    fn change(key: &str, direction: Direction, new_in_pr: Option<bool>) -> crate::report::Change {
        crate::report::Change {
            app: "a".into(),
            direction,
            rule: crate::rules::RuleId::ReadAccessAdded,
            also: Vec::new(),
            severity: crate::rules::Severity::Error,
            key: key.into(),
            scope: key.into(),
            head: None,
            before: Vec::new(),
            description: "d".into(),
            location: crate::report::Location {
                file: "f".into(),
                line: 1,
                column: 1,
            },
            workflows: Vec::new(),
            approval: crate::report::Approval::not_required(),
            new_in_pr,
        }
    }

    fn report(verdict: Verdict, changes: Vec<crate::report::Change>) -> Report {
        let mut r = Report::new(1, Vec::new());
        r.verdict = Some(verdict);
        r.changes = changes;
        r
    }

    #[test]
    fn a_claimed_report_lends_only_new_in_pr_and_only_when_it_agrees() {
        let ours = report(
            Verdict::Fail,
            vec![change("a:system/*.cruds", Direction::Escalation, None)],
        );
        let mut claimed = report(
            Verdict::Fail,
            vec![change(
                "a:system/*.cruds",
                Direction::Escalation,
                Some(true),
            )],
        );
        claimed.changes[0].description = "forged".into();
        let mut r = ours.clone();
        assert_eq!(lend_extras(&mut r, &claimed), Ok(()));
        assert_eq!(r.changes[0].new_in_pr, Some(true));
        assert_eq!(r.changes[0].description, "d");

        // A forged PASS with no changes.
        let mut r = ours.clone();
        let e = lend_extras(&mut r, &report(Verdict::Pass, Vec::new())).unwrap_err();
        assert_eq!(e, "it says PASS, the recomputed verdict is FAIL");
        assert_eq!(r, ours);
        // The right verdict with a change left out, or one turned into a reduction.
        let e = lend_extras(&mut r, &report(Verdict::Fail, Vec::new())).unwrap_err();
        assert!(e.contains("it leaves out `a:system/*.cruds`"), "{e}");
        let flipped = report(
            Verdict::Fail,
            vec![change("a:system/*.cruds", Direction::Reduction, Some(true))],
        );
        assert!(lend_extras(&mut r, &flipped).is_err());
        assert_eq!(r, ours);
    }

    #[test]
    fn the_trusted_commit_is_the_events_base() {
        let pr = br#"{"pull_request":{"number":7,"user":{"login":"dev"},"head":{"sha":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"base":{"sha":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}}"#;
        for name in ["pull_request", "pull_request_target", "pull_request_review"] {
            let e = parse_event(name, pr).unwrap();
            assert_eq!(
                e.trusted_commit().as_deref(),
                Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
                "{name}"
            );
        }
        let mg = br#"{"merge_group":{"base_sha":"cccccccccccccccccccccccccccccccccccccccc","head_sha":"dddddddddddddddddddddddddddddddddddddddd"}}"#;
        let e = parse_event("merge_group", mg).unwrap();
        assert_eq!(
            e.trusted_commit().as_deref(),
            Some("cccccccccccccccccccccccccccccccccccccccc")
        );
        let push = br#"{"ref":"refs/heads/main","before":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","after":"fff","repository":{"default_branch":"main"}}"#;
        let e = parse_event("push", push).unwrap();
        assert_eq!(
            e.trusted_commit().as_deref(),
            Some("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee")
        );
        // A push elsewhere, or a dispatch: the default branch's tip, never `before`.
        let push =
            br#"{"ref":"refs/heads/topic","before":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","repository":{"default_branch":"main"}}"#;
        let e = parse_event("push", push).unwrap();
        assert_eq!(
            e.trusted_commit().as_deref(),
            Some("refs/remotes/origin/main")
        );
        let e = parse_event(
            "workflow_dispatch",
            br#"{"repository":{"default_branch":"main"}}"#,
        )
        .unwrap();
        assert_eq!(
            e.trusted_commit().as_deref(),
            Some("refs/remotes/origin/main")
        );
        // A default branch that is not a plain ref name is not trusted as one, and an
        // event that would be judged from its tip is refused, never judged from HEAD.
        let e = parse_event(
            "workflow_dispatch",
            br#"{"repository":{"default_branch":"--upload-pack=x"}}"#,
        )
        .unwrap_err();
        assert!(e.contains("not a branch name"), "{e}");
        // A pull request does not need it: its base is the trusted commit.
        let pr = serde_json::json!({"pull_request": {"number": 7,
            "base": {"sha": "a".repeat(40)}, "head": {"sha": "b".repeat(40)},
            "user": {"login": "dev"}},
            "repository": {"default_branch": "--upload-pack=x"}});
        let e = parse_event("pull_request", pr.to_string().as_bytes()).unwrap();
        assert_eq!(e.trusted_commit(), Some("a".repeat(40)));
        // A new branch or tag: no previous commit, so HEAD.
        let e = parse_event(
            "push",
            br#"{"before":"0000000000000000000000000000000000000000"}"#,
        )
        .unwrap();
        assert_eq!(e.trusted_commit(), None);
        let e = parse_event("workflow_dispatch", b"{}").unwrap();
        assert_eq!(e.trusted_commit(), None);
    }

    #[test]
    fn a_push_uses_before_only_on_the_default_branch() {
        let push = |r: &str| {
            let p = serde_json::json!({"ref": r, "before": "b".repeat(40),
                "repository": {"default_branch": "main"}});
            parse_event("push", p.to_string().as_bytes()).unwrap()
        };
        assert_eq!(push("refs/heads/main").base_sha, Some("b".repeat(40)));
        assert_eq!(push("refs/heads/main").note, None);
        // Only a tag push takes the release-tag path (judged by the previous release).
        assert!(push("refs/tags/v1.0.0").tag_push);
        assert!(!push("refs/heads/main").tag_push);
        assert!(!push("refs/heads/tags/v1").tag_push);
        let pr = parse_event(
            "pull_request",
            br#"{"ref":"refs/tags/v1","pull_request":{"number":1,"user":{"login":"a"},"head":{"sha":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"},"base":{"sha":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}}"#,
        )
        .unwrap();
        assert!(!pr.tag_push);
        for r in ["refs/heads/feature", "refs/tags/v1.0.0", "refs/heads/main2"] {
            let e = push(r);
            assert_eq!(e.base_sha, None, "{r}");
            assert!(e.note.unwrap().contains("not judged against `before`"));
        }
        // No default branch in the payload: not trusted either.
        let e = parse_event("push", br#"{"ref":"refs/heads/main","before":"abc"}"#).unwrap();
        assert_eq!(e.base_sha, None);
    }

    #[test]
    fn events_without_a_pull_request_leave_added_entries_pending_or_are_refused() {
        let ev = |name: &str, payload: &str| parse_event(name, payload.as_bytes()).unwrap();
        let pr = r#"{"pull_request":{"number":1,"user":{"login":"d"},"head":{"sha":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"base":{"sha":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}}"#;
        for n in ["pull_request", "pull_request_target", "pull_request_review"] {
            assert_eq!(verification(&ev(n, pr)), Ok(Verification::Reviews), "{n}");
        }
        let mg = r#"{"merge_group":{"base_sha":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","head_sha":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","head_ref":"refs/heads/gh-readonly-queue/main/pr-7-0a1b"}}"#;
        assert_eq!(
            verification(&ev("merge_group", mg)),
            Ok(Verification::Reviews)
        );
        let odd = r#"{"merge_group":{"base_sha":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","head_sha":"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee","head_ref":"refs/heads/main"}}"#;
        for (n, p) in [
            ("merge_group", odd),
            ("push", "{}"),
            ("workflow_dispatch", "{}"),
            ("schedule", "{}"),
            ("release", "{}"),
        ] {
            assert!(
                matches!(verification(&ev(n, p)), Ok(Verification::Pending(w)) if w.contains(n)),
                "{n}"
            );
        }
        // A pull_request payload on another event is not trusted as one.
        for n in [
            "issue_comment",
            "pull_request_review_comment",
            "workflow_run",
            "check_run",
            "",
        ] {
            let e = verification(&ev(n, pr)).unwrap_err();
            assert!(
                e.contains("unsupported event") && e.contains(&EVENT_NAMES.join(", ")),
                "{e}"
            );
        }
    }

    #[test]
    fn head_binding_accepts_the_head_or_its_merge_into_the_base_only() {
        let p = pr();
        let h = p.head_sha.clone();
        let base = p.base_sha.clone();
        let other = "c".repeat(40);
        let mut on_base = |c: &str| Ok(c == "b".repeat(40) || c == "d".repeat(40));
        let t = Trigger::PullRequest;
        assert_eq!(bind_head(&h, &[], &t, &p, &mut on_base), Ok(Bound::Head));
        let merge = [base.clone(), h.clone()];
        assert_eq!(
            bind_head("m", &merge, &t, &p, &mut on_base),
            Ok(Bound::MergeOfHead)
        );
        // The base branch moved on: still a merge into the base branch.
        let later = ["d".repeat(40), h.clone()];
        assert_eq!(
            bind_head("m", &later, &t, &p, &mut on_base),
            Ok(Bound::MergeOfHead)
        );
        // A merge of something else, a merge into another branch, the base itself.
        let e = bind_head("m", &[base.clone(), other.clone()], &t, &p, &mut on_base).unwrap_err();
        assert!(e.contains("not of the PR head"), "{e}");
        let e = bind_head("m", &[other.clone(), h.clone()], &t, &p, &mut on_base).unwrap_err();
        assert!(e.contains("not the base"), "{e}");
        let e = bind_head(
            &base,
            &[other],
            &Trigger::PullRequestTarget,
            &p,
            &mut on_base,
        )
        .unwrap_err();
        assert!(
            e.contains("ref: ${{ github.event.pull_request.head.sha }}")
                && e.contains("pull_request_target"),
            "{e}"
        );
        // When the ancestry cannot be told, a first parent other than the base fails.
        let mut unknown = |_: &str| Err("not in the clone".to_string());
        let e = bind_head("m", &later, &t, &p, &mut unknown).unwrap_err();
        assert!(e.contains("not in the clone"), "{e}");
    }

    fn commit(sha: &str, author: Option<&str>, committer: Option<&str>) -> PrCommit {
        PrCommit {
            sha: sha.repeat(40),
            author: author.map(str::to_string),
            committer: committer.map(str::to_string),
            co_authors: Vec::new(),
            change: CommitChange::Other,
        }
    }

    #[test]
    fn an_approver_who_wrote_committed_or_co_wrote_the_change_is_not_independent() {
        let ok = |cs: Vec<PrCommit>| independent("alice", &Ok(cs));
        assert_eq!(ok(vec![commit("a", Some("dev"), Some("web-flow"))]), Ok(()));
        assert!(
            ok(vec![commit("a", Some("Alice"), Some("web-flow"))])
                .unwrap_err()
                .contains("alice wrote")
        );
        assert!(
            ok(vec![commit("a", Some("bob"), Some("alice"))])
                .unwrap_err()
                .contains("committed")
        );
        let mut co = commit("a", Some("bob"), Some("bob"));
        co.co_authors = co_authors("fix\n\nCo-authored-by: A <1+alice@users.noreply.github.com>\n");
        assert!(ok(vec![co]).unwrap_err().contains("co-wrote"));
        // Her own ledger append and empty commits do not count against her.
        let mut append = commit("a", Some("alice"), Some("alice"));
        append.change = CommitChange::LedgerAppend;
        let mut empty = commit("b", Some("alice"), None);
        empty.change = CommitChange::Nothing;
        assert_eq!(ok(vec![append, empty]), Ok(()));
        // Unmapped identities fail closed, as does an unreadable commit list.
        assert!(
            ok(vec![commit("a", None, Some("bob"))])
                .unwrap_err()
                .contains("author")
        );
        assert!(
            ok(vec![commit("a", Some("bob"), None)])
                .unwrap_err()
                .contains("committer")
        );
        let mut co = commit("a", Some("bob"), Some("bob"));
        co.co_authors = co_authors("Co-authored-by: Someone <someone@example.org>");
        assert!(ok(vec![co]).unwrap_err().contains("someone@example.org"));
        assert!(
            independent("alice", &Err("HTTP 500".into()))
                .unwrap_err()
                .contains("HTTP 500")
        );
    }

    #[test]
    fn only_a_pure_append_to_the_ledger_is_a_ledger_append() {
        let l = vec![crate::approval::PATH.to_string()];
        assert_eq!(classify_change(&[], 1, None, None), CommitChange::Nothing);
        assert_eq!(
            classify_change(&l, 1, Some(b"a\n"), Some(b"a\nb\n")),
            CommitChange::LedgerAppend
        );
        assert_eq!(
            classify_change(&l, 1, None, Some(b"a\n")),
            CommitChange::LedgerAppend
        );
        assert_eq!(
            classify_change(&l, 1, Some(b"a\n"), Some(b"x\nb\n")),
            CommitChange::Other
        );
        assert_eq!(
            classify_change(&l, 1, Some(b"a\n"), None),
            CommitChange::Other
        );
        assert_eq!(
            classify_change(&l, 2, Some(b"a\n"), Some(b"a\nb\n")),
            CommitChange::Other
        );
        let two = vec![
            crate::approval::PATH.to_string(),
            "smart-app.yaml".to_string(),
        ];
        assert_eq!(
            classify_change(&two, 1, Some(b"a\n"), Some(b"a\nb\n")),
            CommitChange::Other
        );
    }

    #[test]
    fn co_author_trailers_map_noreply_addresses_to_logins() {
        assert_eq!(
            co_authors(
                "x\n\nCo-authored-by: Al <12+al-ice@users.noreply.github.com>\nco-authored-by: B <b@users.noreply.github.com>\nCo-authored-by: C <c@corp.example>"
            ),
            vec![
                (
                    "Al <12+al-ice@users.noreply.github.com>".to_string(),
                    Some("al-ice".to_string())
                ),
                (
                    "B <b@users.noreply.github.com>".to_string(),
                    Some("b".to_string())
                ),
                ("C <c@corp.example>".to_string(), None),
            ]
        );
    }

    #[test]
    fn a_merge_group_names_one_pull_request_or_none() {
        assert_eq!(
            queued_pr("refs/heads/gh-readonly-queue/main/pr-123-0a1b2c"),
            Some(123)
        );
        assert_eq!(
            queued_pr("gh-readonly-queue/release/2.x/pr-9-abcdef"),
            Some(9)
        );
        for r in [
            "refs/heads/main",
            "refs/heads/gh-readonly-queue/main/pr-1-abc/pr-2-def",
            "refs/heads/gh-readonly-queue/pr-1-abc",
            "refs/heads/gh-readonly-queue/main/pr-x-abc",
            "refs/heads/gh-readonly-queue/main/pr-12-",
            "refs/heads/gh-readonly-queue/main/pr-12-xyz",
            "refs/heads/feature/gh-readonly-queue/main/pr-12-abc",
        ] {
            assert_eq!(queued_pr(r), None, "{r}");
        }
    }

    #[test]
    fn markers_cannot_be_broken_out_of() {
        let m = marker("gate --> <script>", &["apps/a b.yaml".into()]);
        assert_eq!(
            m,
            "<!-- scopegate:v1 job=gate_--___script_ manifests=apps/a_b.yaml -->"
        );
    }

    /// Every commit id the payload names is 40 or 64 hex digits, and a login is a
    /// login: anything else (a branch name, a huge string, a login with a space or a
    /// line break) is refused, and the error quotes a long one shortened, in one line.
    #[test]
    fn a_payload_commit_id_or_login_that_is_not_one_is_refused_shown_short() {
        let pr = |head: &str, base: &str, login: &str| {
            serde_json::json!({"pull_request": {"number": 7, "user": {"login": login},
                "head": {"sha": head}, "base": {"sha": base}}})
            .to_string()
        };
        let (a, b) = ("a".repeat(40), "B".repeat(64));
        let huge = "x".repeat(20 << 20);
        // Control: SHA-1 and SHA-256 ids, in either case, and a bot's login.
        let ok = parse_event("pull_request", pr(&a, &b, "dependabot[bot]").as_bytes());
        assert_eq!(ok.unwrap().pull_request.unwrap().base_sha, b);
        for (payload, field) in [
            (pr(&a, &huge, "dev"), "pull_request.base.sha"),
            (pr(&a, "main", "dev"), "pull_request.base.sha"),
            (pr(&"g".repeat(40), &a, "dev"), "pull_request.head.sha"),
            (pr(&a, &"a".repeat(41), "dev"), "pull_request.base.sha"),
            (pr(&a, &a, "dev\n::notice::x"), "pull_request.user.login"),
            (pr(&a, &a, &huge), "pull_request.user.login"),
            (pr(&a, &a, ""), "pull_request.user.login"),
        ] {
            let e = parse_event("pull_request", payload.as_bytes()).unwrap_err();
            assert!(e.contains(field), "{field}: {}", &e[..e.len().min(300)]);
            assert!(
                e.len() < 300,
                "{field}: quoted at length ({} bytes)",
                e.len()
            );
        }
        let mg = serde_json::json!({"merge_group": {"base_sha": huge, "head_sha": a}});
        let e = parse_event("merge_group", mg.to_string().as_bytes()).unwrap_err();
        assert!(
            e.contains("merge_group.base_sha") && e.len() < 300,
            "{}",
            &e[..300]
        );
        let push = serde_json::json!({"ref": "refs/heads/main", "before": "HEAD~1",
            "repository": {"default_branch": "main"}});
        let e = parse_event("push", push.to_string().as_bytes()).unwrap_err();
        assert!(e.contains("before"), "{e}");
        // A huge ref is named short in the push's note.
        let push = serde_json::json!({"ref": format!("refs/heads/{huge}"), "before": a,
            "repository": {"default_branch": "main"}});
        let note = parse_event("push", push.to_string().as_bytes())
            .unwrap()
            .note
            .unwrap();
        assert!(note.len() < 300, "{} bytes", note.len());
        // A line separator in it is shown escaped, as a line break would be.
        let push = serde_json::json!({"ref": "refs/heads/a\u{2028}::notice::x\r", "before": a,
            "repository": {"default_branch": "main"}});
        let note = parse_event("push", push.to_string().as_bytes())
            .unwrap()
            .note
            .unwrap();
        assert!(!note.contains(['\u{2028}', '\r']), "{note}");
        assert!(note.contains("\\u{2028}") && note.contains("\\r"), "{note}");
        // So is the default branch the refusal names (found by fuzzing `event_parse`):
        // a push off it is judged from its tip, which such a name cannot give.
        let push = serde_json::json!({"ref": "refs/heads/topic", "before": a,
            "repository": {"default_branch": format!("ma\u{8}in{huge}")}});
        let refused = parse_event("push", push.to_string().as_bytes()).unwrap_err();
        assert!(
            refused.len() < 700 && !refused.contains('\u{8}'),
            "{}",
            &refused[..700.min(refused.len())]
        );
    }
}
