//! `scopegate approve`: appends an entry to the approvals ledger for the current
//! unapproved escalations (or the keys given), limited to tenants when asked.
//!
//! Decides only which keys to approve; the gate decides what an entry approves, and
//! `approval` writes the entry (appending text, never re-serialising).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::gating;
use crate::report::Report;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
    manifests: Vec<PathBuf>,
    #[command(flatten)]
    base: gating::BaseArgs,
    /// Who approves (e.g. a GitHub login listed in the config's `approvers`).
    #[arg(long)]
    by: String,
    /// Approve only these keys (`<app-id>:<scope>`, as the gate prints them).
    #[arg(long = "key")]
    keys: Vec<String>,
    /// The ticket that records the review.
    #[arg(long)]
    ticket: Option<String>,
    /// Why the change is acceptable.
    #[arg(long)]
    reason: Option<String>,
    /// Last day the approval counts (YYYY-MM-DD, or a UTC timestamp).
    #[arg(long)]
    expires: Option<String>,
    /// Limit the approval to this tenant (repeatable; a profile in
    /// .scopegate/tenants/). New access to a tenant's sensitive types needs one.
    #[arg(long = "tenant")]
    tenants: Vec<String>,
    /// Sign the entry with this SSH key (ed25519; a private key file, or a `.pub`
    /// whose key is in ssh-agent), in git's SSH signature format. The gate then
    /// verifies it against .scopegate/allowed_signers at the baseline.
    #[arg(long, value_name = "KEYFILE")]
    sign: Option<PathBuf>,
}

impl Args {
    /// Refuses an approval that could never be written (no approver, no why) before
    /// anything is read.
    fn validate(self) -> Result<Self> {
        if self.by.trim().is_empty() {
            bail!("`--by` needs the approver's name");
        }
        if self.ticket.is_none() && self.reason.is_none() {
            bail!("an approval needs `--ticket` or `--reason`, so the ledger says why");
        }
        Ok(self)
    }
}

pub(super) fn run(args: Args) -> Result<u8> {
    use crate::report::Direction;
    let a = args.validate()?;
    let g = gating::gather(&a.manifests, &a.base.resolve()?)?;
    let expires = expires_after(a.expires, &g.now)?;
    known_tenants(&g.report, &a.tenants)?;
    let escalations: Vec<&crate::report::Change> = g
        .report
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .collect();
    let chosen = choose_keys(&g.report, &escalations, a.keys, &a.tenants)?;
    if chosen.is_empty() {
        super::shared::print("nothing to approve: every escalation is already approved\n")?;
        return Ok(0);
    }
    let new = crate::approval::NewEntry {
        keys: &chosen,
        by: &a.by,
        at: &g.now,
        ticket: a.ticket.as_deref(),
        reason: a.reason.as_deref(),
        expires: expires.as_deref(),
        tenants: &a.tenants,
        signature: None,
    };
    let (text, signed_by) = entry_text(&g, new, a.sign.as_deref())?;
    let signed_by = signed_by.map(|fp| match &g.repository {
        Some(r) => format!("{fp} for repository {r}"),
        None => fp,
    });
    gating::write_atomic(&g.ledger_file, &text)?;
    // The entry is in the ledger: a failure to say so is not a failure to approve (run
    // again, it would append a second entry).
    if let Err(e) = say_approved(&a.by, &a.tenants, &chosen, signed_by) {
        super::shared::say_err(&format!(
            "warning: the approval was written, but not reported: {e:#}"
        ));
    }
    // What the gate makes of it, here and now: an entry that cannot count yet (the
    // approver is not in the judging config, an unsigned entry outside GitHub) is said
    // at once, not found at the next gate.
    if let Ok(after) = a
        .base
        .resolve()
        .and_then(|req| gating::gather(&a.manifests, &req))
    {
        say_not_counted(&after.report, &chosen);
    }
    Ok(0)
}

/// A note for each chosen key the gate does not count as approved after the entry,
/// with the gate's reason.
fn say_not_counted(report: &Report, chosen: &[String]) {
    use crate::report::ApprovalState;
    for c in report.changes.iter().filter(|c| chosen.contains(&c.key)) {
        if matches!(
            c.approval.state,
            ApprovalState::Approved | ApprovalState::NotRequired
        ) {
            continue;
        }
        let state = match c.approval.state {
            ApprovalState::Pending => "pending",
            ApprovalState::Expired => "expired",
            _ => "unapproved",
        };
        let why = c
            .approval
            .reason
            .as_deref()
            .map_or(String::new(), |r| format!(": {r}"));
        let review = if c
            .approval
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("not signed"))
        {
            "\n  hint: on GitHub, an APPROVED review of the pull request by the approver verifies the entry instead"
        } else {
            ""
        };
        super::shared::say_err(&format!(
            "note: the gate does not count this entry yet for `{}` ({state}){why}{review}",
            c.key
        ));
    }
}

/// `--expires`, checked: a date or UTC timestamp after `now`.
fn expires_after(expires: Option<String>, now: &str) -> Result<Option<String>> {
    Ok(match expires {
        None => None,
        Some(x) => {
            let norm = crate::approval::normalize_time(&x, true)
                .with_context(|| format!("`--expires {x}` is not YYYY-MM-DD or a UTC timestamp"))?;
            if norm.as_str() <= now {
                bail!("`--expires {x}` is in the past");
            }
            Some(x)
        }
    })
}

/// Every `--tenant` names a tenant profile.
fn known_tenants(report: &Report, tenants: &[String]) -> Result<()> {
    let known: Vec<&str> = report.tenants.iter().map(|t| t.tenant.as_str()).collect();
    for t in tenants {
        if !known.contains(&t.as_str()) {
            let hint = crate::hint::did_you_mean(t, known.iter().copied())
                .map(|n| format!("did you mean `{n}`?"))
                .unwrap_or_else(|| format!("add {}/{t}.yaml", crate::tenant::DIR));
            bail!("`--tenant {t}`: no tenant profile has that name\n  hint: {hint}");
        }
    }
    Ok(())
}

/// The keys to approve: the `--key`s given, each a current escalation; else every
/// unapproved one (for the tenants given).
fn choose_keys(
    report: &Report,
    escalations: &[&crate::report::Change],
    keys: Vec<String>,
    tenants: &[String],
) -> Result<Vec<String>> {
    Ok(if keys.is_empty() {
        keys_to_approve(report, tenants)
    } else {
        let current: Vec<&str> = escalations.iter().map(|c| c.key.as_str()).collect();
        // By hash: thousands of `--key`s each looked for among thousands of keys.
        let is_current: rustc_hash::FxHashSet<&str> = current.iter().copied().collect();
        let unknown: Vec<&String> = keys
            .iter()
            .filter(|k| !is_current.contains(k.as_str()))
            .collect();
        if !unknown.is_empty() {
            bail!(
                "not a current escalation: {}\n  current escalation keys: {}",
                unknown
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if current.is_empty() {
                    "(none)".to_string()
                } else {
                    current.join(", ")
                }
            );
        }
        keys
    })
}

/// The ledger text with the new entry appended, signed with `sign` when given (and
/// the fingerprint of the key that signed it).
fn entry_text(
    g: &gating::Gathered,
    new: crate::approval::NewEntry<'_>,
    sign: Option<&Path>,
) -> Result<(String, Option<String>)> {
    let mut text =
        crate::approval::append(g.ledger_text.as_deref(), &new).map_err(anyhow::Error::msg)?;
    let mut signed_by = None;
    if let Some(keyfile) = sign {
        // What is signed is the entry as the gate will read it back.
        let entry = last_entry(&text)?;
        let repository = g.repository.as_deref();
        let armored = sign_entry(&entry, keyfile, repository)?;
        text = crate::approval::append(
            g.ledger_text.as_deref(),
            &crate::approval::NewEntry {
                signature: Some(&armored),
                ..new
            },
        )
        .map_err(anyhow::Error::msg)?;
        let written = last_entry(&text)?;
        signed_by = Some(
            crate::signature::check(&written, &armored, repository)
                .map_err(|e| anyhow::anyhow!("the signature made does not check out: {e}"))?,
        );
    }
    Ok((text, signed_by))
}

/// Says what was approved; `--by` and the tenants are the user's words.
fn say_approved(
    by: &str,
    tenants: &[String],
    chosen: &[String],
    signed_by: Option<String>,
) -> Result<()> {
    let limit = if tenants.is_empty() {
        String::new()
    } else {
        format!(" for tenant {}", tenants.join(", "))
    };
    let shown = crate::render::safe::escape(by);
    let limit = crate::render::safe::escape(&limit);
    let mut out = format!("approved by {shown}{limit} in {}:\n", crate::approval::PATH);
    for k in chosen {
        out.push_str(&format!("  {k}\n"));
    }
    if let Some(fp) = signed_by {
        out.push_str(&format!(
            "signed with key {fp}; it counts where the judge's {} (the trusted commit, or the previous release) lists that key for {shown}\n",
            crate::signature::SIGNERS_PATH
        ));
    }
    super::shared::print(&crate::render::safe::guard(out))
}

/// The last entry of a ledger text (the one just appended).
fn last_entry(text: &str) -> Result<crate::approval::Entry> {
    crate::approval::from_bytes(crate::approval::PATH, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .pop()
        .context("the appended entry is missing")
}

/// Signs in process when the key file holds an unencrypted ed25519 key. A key that
/// needs a passphrase, or a `.pub` file whose key is held by ssh-agent, is signed by
/// `ssh-keygen -Y sign`, which can prompt or ask the agent; the result is the same
/// format and is checked before it is written.
fn sign_entry(
    entry: &crate::approval::Entry,
    keyfile: &Path,
    repository: Option<&str>,
) -> Result<String> {
    use crate::signature::{self, SignError};
    let key = std::fs::read_to_string(keyfile)
        .with_context(|| format!("cannot read the key {}", keyfile.display()))?;
    let in_agent = ssh_key::PublicKey::from_openssh(key.trim()).is_ok();
    match signature::sign(entry, &key, repository) {
        Ok(armored) => Ok(armored),
        Err(SignError::Encrypted) => ssh_keygen_sign(entry, keyfile, repository),
        Err(SignError::Unsupported(_)) if in_agent => ssh_keygen_sign(entry, keyfile, repository),
        Err(SignError::Unsupported(why)) => bail!(
            "cannot sign with {}: {why}\n  hint: use an ed25519 key (`ssh-keygen -t ed25519 -f approver-key`)",
            keyfile.display()
        ),
    }
}

fn ssh_keygen_sign(
    entry: &crate::approval::Entry,
    keyfile: &Path,
    repository: Option<&str>,
) -> Result<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", crate::signature::NAMESPACE, "-f"])
        .arg(keyfile)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("the key needs `ssh-keygen -Y sign` (a passphrase or ssh-agent), which could not be run")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(crate::signature::canonical(entry, repository).as_bytes())
            .context("writing to ssh-keygen")?;
    }
    let out = child.wait_with_output().context("running ssh-keygen")?;
    if !out.status.success() {
        bail!(
            "`ssh-keygen -Y sign -f {}` failed ({}); the ledger was not changed",
            keyfile.display(),
            out.status
        );
    }
    String::from_utf8(out.stdout).context("ssh-keygen wrote a signature that is not text")
}

/// The escalations `approve` picks when no `--key` is given: those without a valid
/// (or verified) approval and, with `--tenant`, those approved elsewhere but not for these tenants.
fn keys_to_approve(report: &Report, tenants: &[String]) -> Vec<String> {
    use crate::report::{ApprovalState, Change, Direction};
    // The keys some of these tenants miss an approval for, gathered once (not a scan
    // of every finding per escalation).
    let missing: std::collections::HashSet<&str> = report
        .findings
        .iter()
        .filter(|f| {
            f.rule == crate::rules::RuleId::TenantApprovalMissing
                && f.tenant.as_ref().is_some_and(|t| tenants.contains(t))
        })
        .filter_map(|f| f.key.as_deref())
        .collect();
    let missing_for_tenant = |c: &Change| missing.contains(c.key.as_str());
    report
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation)
        .filter(|c| {
            // A pending entry awaits verification: approving again (signed) settles it.
            matches!(
                c.approval.state,
                ApprovalState::Unapproved | ApprovalState::Expired | ApprovalState::Pending
            ) || missing_for_tenant(c)
        })
        .map(|c| c.key.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Approval, ApprovalState, Change, Direction, Finding, Location};
    use crate::rules::{RuleId, Severity};

    fn escalation(key: &str, state: ApprovalState) -> Change {
        let (app, scope) = key.split_once(':').unwrap();
        Change {
            app: app.into(),
            direction: Direction::Escalation,
            rule: RuleId::ReadAccessAdded,
            also: Vec::new(),
            severity: Severity::Warning,
            key: key.into(),
            scope: scope.into(),
            head: None,
            before: Vec::new(),
            description: String::new(),
            // Both parts of a partly approved change sit at the same place.
            location: Location {
                file: "smart-app.yaml".into(),
                line: 4,
                column: 5,
            },
            workflows: Vec::new(),
            approval: Approval {
                state,
                ..Approval::not_required()
            },
            new_in_pr: None,
        }
    }

    fn missing(key: &str, tenant: &str, message: String) -> Finding {
        let at = Location {
            file: "smart-app.yaml".into(),
            line: 4,
            column: 5,
        };
        Finding::new(RuleId::TenantApprovalMissing, "a", at, message)
            .for_tenant(tenant)
            .with_key(key)
    }

    // `approve --tenant` matched findings to changes by the key quoted in the message,
    // so a message quoting a second key chose that change too.
    #[test]
    fn approve_for_a_tenant_picks_the_change_a_finding_names_not_one_its_message_quotes() {
        let mut r = Report::new(1, Vec::new());
        r.changes = vec![
            escalation("a:patient/Observation.r", ApprovalState::Approved),
            escalation("a:patient/Observation.s", ApprovalState::Approved),
            escalation("a:patient/Condition.rs", ApprovalState::Unapproved),
        ];
        r.findings = vec![missing(
            "a:patient/Observation.s",
            "clinic",
            "`a:patient/Observation.s` has no approval for tenant `clinic`; \
             `a:patient/Observation.r` has one"
                .into(),
        )];
        let clinic = ["clinic".to_string()];
        assert_eq!(
            keys_to_approve(&r, &clinic),
            ["a:patient/Observation.s", "a:patient/Condition.rs"]
        );
        // Another tenant's finding chooses nothing; the unapproved change is always chosen.
        assert_eq!(
            keys_to_approve(&r, &["hospital".to_string()]),
            ["a:patient/Condition.rs"]
        );
        // The message alone decides nothing.
        r.findings[0].key = None;
        assert_eq!(keys_to_approve(&r, &clinic), ["a:patient/Condition.rs"]);
    }
}
