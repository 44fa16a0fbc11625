//! GitHub Actions, the pure part: the event payload, the sticky-comment marker, and
//! whether a ledger entry added by a pull request is backed by a qualifying review.
//!
//! It reads no environment and calls no API: the CLI gathers the payload and the
//! reviews (through [`crate::github`]) and hands them here. Trust is decided as in
//! DESIGN §7: an entry the PR adds counts only with an `APPROVED` review on the PR's
//! current head commit, by the approver the entry names, who is listed in the
//! baseline config (as a login or an `org/team`), and who is not the PR author.

use serde_json::Value;

use crate::approval::Entry;

/// What triggered the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    PullRequest,
    PullRequestReview,
    MergeGroup,
    Push,
    Other(String),
}

/// The pull request a run is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub number: u64,
    pub head_sha: String,
    pub base_sha: String,
    pub author: String,
    /// The head lives in another repository (a fork): its token is read-only.
    pub from_fork: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub trigger: Trigger,
    pub pull_request: Option<PullRequest>,
    /// `merge_group.base_sha`, or `before` on push (absent for a new branch).
    pub base_sha: Option<String>,
}

fn s(v: &Value, path: &[&str]) -> Option<String> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().map(str::to_string)
}

/// Reads `GITHUB_EVENT_NAME` and the JSON at `GITHUB_EVENT_PATH`.
pub fn parse_event(name: &str, payload: &[u8]) -> Result<Event, String> {
    let v: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the event payload is not JSON: {e}"))?;
    let trigger = match name {
        "pull_request" | "pull_request_target" => Trigger::PullRequest,
        "pull_request_review" => Trigger::PullRequestReview,
        "merge_group" => Trigger::MergeGroup,
        "push" => Trigger::Push,
        other => Trigger::Other(other.to_string()),
    };
    let pull_request = match v.get("pull_request") {
        Some(pr) if matches!(trigger, Trigger::PullRequest | Trigger::PullRequestReview) => {
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
            Some(PullRequest {
                number,
                head_sha: need(&["head", "sha"])?,
                base_sha: need(&["base", "sha"])?,
                author: need(&["user", "login"])?,
                from_fork: head_repo.is_some() && head_repo != base_repo,
            })
        }
        _ => None,
    };
    if matches!(trigger, Trigger::PullRequest | Trigger::PullRequestReview)
        && pull_request.is_none()
    {
        return Err("a pull_request event without `pull_request` in its payload".into());
    }
    let base_sha = match trigger {
        Trigger::MergeGroup => Some(
            s(&v, &["merge_group", "base_sha"]).ok_or("the merge_group event has no base_sha")?,
        ),
        // A new branch has `before` all zeros: there is no previous commit.
        Trigger::Push => s(&v, &["before"]).filter(|b| !b.chars().all(|c| c == '0')),
        _ => None,
    };
    Ok(Event {
        trigger,
        pull_request,
        base_sha,
    })
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
/// ([`crate::github::is_marked`]). Only hex digits of `head` are kept.
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
pub fn approver_matches(
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

/// `Ok(())` when a PR-added ledger entry is backed by a qualifying review, else why not.
pub fn verify_added_entry(
    entry: &Entry,
    reviews: &[Review],
    pr: &PullRequest,
    approvers: &[String],
    member_of: &mut dyn FnMut(&str, &str, &str) -> Result<bool, String>,
) -> Result<(), String> {
    let short = &pr.head_sha[..pr.head_sha.len().min(12)];
    let who = entry.by.trim_start_matches('@');
    let may = if approvers.is_empty() {
        "nobody: the baseline config lists no `approvers`".to_string()
    } else {
        approvers.join(", ")
    };
    if who.eq_ignore_ascii_case(&pr.author) {
        return Err(format!(
            "the entry names {who}, the PR author, who cannot approve their own change; may approve: {may}"
        ));
    }
    match approver_matches(approvers, who, member_of) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "{who} is not an approver in the baseline config; may approve: {may}"
            ));
        }
        Err(e) => return Err(e),
    }
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
        verify_added_entry(e, reviews, &pr(), &approvers, &mut no_teams)
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
        let pr_payload = br#"{"pull_request":{"number":7,"user":{"login":"dev"},"head":{"sha":"aaa","repo":{"full_name":"fork/app"}},"base":{"sha":"bbb","repo":{"full_name":"acme/app"}}}}"#;
        let e = parse_event("pull_request", pr_payload).unwrap();
        let p = e.pull_request.unwrap();
        assert_eq!(
            (
                p.number,
                p.head_sha.as_str(),
                p.base_sha.as_str(),
                p.from_fork
            ),
            (7, "aaa", "bbb", true)
        );
        let e = parse_event(
            "merge_group",
            br#"{"merge_group":{"base_sha":"ccc","head_sha":"ddd"}}"#,
        )
        .unwrap();
        assert_eq!(e.base_sha.as_deref(), Some("ccc"));
        let e = parse_event(
            "push",
            br#"{"before":"0000000000000000000000000000000000000000"}"#,
        )
        .unwrap();
        assert_eq!(e.base_sha, None);
        assert!(parse_event("pull_request", b"{}").is_err());
        assert!(parse_event("push", b"not json").is_err());
    }

    #[test]
    fn markers_cannot_be_broken_out_of() {
        let m = marker("gate --> <script>", &["apps/a b.yaml".into()]);
        assert_eq!(
            m,
            "<!-- scopegate:v1 job=gate_--___script_ manifests=apps/a_b.yaml -->"
        );
    }
}
