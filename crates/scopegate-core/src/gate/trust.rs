//! Which ledger entries a change adds count, and how (docs/design.md §7, "Independence").
//!
//! Pure. The CLI hands over the entries, the judge (baseline config or working tree),
//! the baseline's allowed signers and, in `scopegate ci`, what the pull request's
//! reviews said; this decides. An entry that no verifier confirms never counts in a run
//! judged by the baseline: it is pending, with a reason that says how to verify it.

use crate::approval::Entry;
use crate::signature::{AllowedSigners, SIGNERS_PATH};

/// What judges the entries.
pub struct Trust<'a> {
    /// Config and ledger came from the working tree: nothing can be verified, so
    /// entries count but are marked unverified.
    pub advisory: bool,
    /// The config's `approvers`.
    pub approvers: &'a [String],
    /// The config's `require_signed_approvals`.
    pub require_signed: bool,
    pub signers: &'a AllowedSigners,
    /// `YYYY-MM-DDTHH:MM:SSZ`, for the signers' validity windows.
    pub now: &'a str,
    /// Whose config judges, for messages: `the trusted commit <ref>`, `the release <tag>`.
    pub judge: &'a str,
    /// The run judges a pull request (or the merge group that queues one), whose
    /// reviews verify the entries it adds. A signature does not stand in for them
    /// there: it names no pull request, so one made for another pull request (or by
    /// this one's author, for their own change) would approve this one.
    pub pull_request: bool,
}

/// Who may approve, as messages say it: the approvers, or, when the judging config
/// lists none, why nobody may and the exact next step. A change cannot name its own
/// judges, so the approvers must merge in a change of their own first.
pub(crate) fn may_approve(approvers: &[String], judge: &str) -> String {
    if approvers.is_empty() {
        format!(
            "nobody: the config at {judge} lists no `approvers`. Next step: merge a change that adds `approvers: [<login or org/team>]` to .scopegate/config.yaml (it cannot approve itself), then approve this change once that change is on the branch it merges into. The judge is the trusted commit: in `scopegate ci` the pull request's base, so later pull requests are judged by the merged config; a plain `gate` with no `--trusted` is judged by the previous release's config until a release ships with `approvers`, so run `scopegate gate --trusted <that branch>` (README: Quickstart)"
        )
    } else {
        approvers.join(", ")
    }
}

/// How one entry stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    /// A valid signature by a key listed for a named approver: the key's fingerprint.
    Signed(String),
    /// The other verifier (pull request reviews in `ci`) confirmed it.
    Reviewed,
    /// Counts, but only because the run is advisory.
    Unverified,
    /// Does not count, and why.
    Pending(String),
}

/// The entries sorted for the gate.
#[derive(Clone, Debug, Default)]
pub struct Judged {
    /// Entries that do not count, with the reason.
    pub pending: Vec<(Entry, String)>,
    /// Entries that count unverified (advisory runs).
    pub unverified: Vec<Entry>,
    /// Entries verified by a signature, with the key's fingerprint.
    pub signed: Vec<(Entry, String)>,
}

/// Whether `by` is listed by name among the approvers (a team slug cannot be checked
/// without GitHub, so it never matches here).
fn named_approver(approvers: &[String], by: &str) -> bool {
    let who = by.trim_start_matches('@');
    approvers
        .iter()
        .filter(|a| !a.contains('/'))
        .any(|a| a.trim_start_matches('@').eq_ignore_ascii_case(who))
}

fn how_to_sign(who: &str, judge: &str) -> String {
    format!(
        "sign it: `scopegate approve --sign <private key> --by {who} …`, with a key that {SIGNERS_PATH} at {judge} lists for {who}"
    )
}

/// Judges one entry. `review` is the other verifier's answer: `None` where there is
/// none (plain `gate` on any CI), `Some(Err(why))` when the reviews do not back it.
pub(crate) fn judge(e: &Entry, t: &Trust<'_>, review: Option<Result<(), String>>) -> Standing {
    let signed = e.signature.as_ref().map(|_| t.signers.verify(e, t.now));
    if t.advisory {
        return match signed {
            Some(Ok(fp)) => Standing::Signed(fp),
            _ => Standing::Unverified,
        };
    }
    let who = e.by.trim_start_matches('@');
    let listed = named_approver(t.approvers, &e.by);
    let may = may_approve(t.approvers, t.judge);
    let judge = t.judge;
    let unsigned_why = match signed {
        Some(Ok(fp)) if listed => {
            return match review {
                Some(Err(why)) if t.pull_request => Standing::Pending(format!(
                    "{why} (on a pull request a signature does not replace the review: it names no pull request, so it could be one made for another, or the author's own)"
                )),
                _ => Standing::Signed(fp),
            };
        }
        Some(Ok(_)) => {
            format!(
                "{who} is not an approver in the config at {judge} (by name); may approve: {may}"
            )
        }
        Some(Err(why)) => why,
        None => "it is not signed".to_string(),
    };
    if t.require_signed {
        return Standing::Pending(format!(
            "the config at {judge} requires signed approvals and {unsigned_why}; {}",
            how_to_sign(who, judge)
        ));
    }
    match review {
        Some(Ok(())) => Standing::Reviewed,
        Some(Err(why)) => Standing::Pending(why),
        None if !listed => Standing::Pending(format!(
            "{who} is not an approver in the config at {judge}; may approve: {may}"
        )),
        None => Standing::Pending(format!(
            "no verifier confirmed it ({unsigned_why}); {}",
            how_to_sign(who, judge)
        )),
    }
}

/// Judges every entry; `review` answers for one entry as in `judge`.
pub fn judge_all<'e>(
    entries: impl IntoIterator<Item = &'e Entry>,
    t: &Trust<'_>,
    review: &mut dyn FnMut(&Entry) -> Option<Result<(), String>>,
) -> Judged {
    let mut out = Judged::default();
    for e in entries {
        match judge(e, t, review(e)) {
            Standing::Signed(fp) => out.signed.push((e.clone(), fp)),
            Standing::Reviewed => {}
            Standing::Unverified => out.unverified.push(e.clone()),
            Standing::Pending(why) => out.pending.push((e.clone(), why)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::approval;

    fn entry(by: &str) -> Entry {
        let t = format!(
            "approvals:\n  - keys: [\"a:openid\"]\n    by: {by}\n    at: 2026-11-28\n    ticket: T\n"
        );
        approval::from_bytes("l", t.as_bytes()).unwrap().remove(0)
    }

    fn trust<'a>(approvers: &'a [String], signers: &'a AllowedSigners) -> Trust<'a> {
        Trust {
            advisory: false,
            approvers,
            require_signed: false,
            signers,
            now: "2026-12-01T00:00:00Z",
            judge: "the release v1.0.0",
            pull_request: false,
        }
    }

    #[test]
    fn an_unsigned_entry_without_a_verifier_is_pending_with_how_to_sign() {
        let approvers = vec!["alice".to_string()];
        let signers = AllowedSigners::default();
        match judge(&entry("alice"), &trust(&approvers, &signers), None) {
            Standing::Pending(why) => assert!(why.contains("approve --sign"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_self_named_approver_who_is_not_listed_never_counts() {
        let approvers = vec!["alice".to_string(), "acme/release".to_string()];
        let signers = AllowedSigners::default();
        let t = trust(&approvers, &signers);
        for by in ["mallory", "acme/release", "release"] {
            match judge(&entry(by), &t, None) {
                Standing::Pending(why) => assert!(why.contains("not an approver"), "{why}"),
                other => panic!("{by}: {other:?}"),
            }
        }
    }

    #[test]
    fn reviews_verify_unless_signatures_are_required() {
        let approvers = vec!["alice".to_string()];
        let signers = AllowedSigners::default();
        let mut t = trust(&approvers, &signers);
        assert_eq!(judge(&entry("alice"), &t, Some(Ok(()))), Standing::Reviewed);
        t.require_signed = true;
        assert!(matches!(
            judge(&entry("alice"), &t, Some(Ok(()))),
            Standing::Pending(_)
        ));
    }

    #[test]
    fn advisory_runs_count_entries_as_unverified() {
        let approvers = Vec::new();
        let signers = AllowedSigners::default();
        let mut t = trust(&approvers, &signers);
        t.advisory = true;
        assert_eq!(judge(&entry("anyone"), &t, None), Standing::Unverified);
    }
}
