//! Approvals outside GitHub (issue 13 §6, §7), end to end through the real binary:
//! plain `gate`, judged by the baseline, counts an entry the change adds only when it
//! carries a valid SSH signature by a key that the baseline's allowed_signers lists for
//! a named approver. Signatures here are made by the REAL `ssh-keygen -Y sign` (Debian
//! openssh-client), as an approver on another CI would make them. Each attack sits next
//! to the control that passes.

use crate::support::{ci_run, fake_github, repo};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use repo::{Repo, Run, example};
use serde_json::Value;

/// A key made by `ssh-keygen -t ed25519` under `.git/` (never committed): (private
/// key file, public key line).
fn sshkeygen(r: &Repo, name: &str) -> (PathBuf, String) {
    let p = r.path().join(".git").join(format!("{name}_ed25519"));
    if !p.exists() {
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&p)
            .output()
            .expect("ssh-keygen (openssh-client) is installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let public = std::fs::read_to_string(p.with_extension("pub")).unwrap();
    let public = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    (p, public)
}

/// `ssh-keygen -Y sign -n namespace -f key` over `message`, as its armored output.
fn ssh_sign(key: &Path, namespace: &str, message: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", namespace, "-f"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// v1.0.0: the med-rec app, `approvers` and allowed_signers as given; then a change
/// that adds `u` on MedicationStatement.
fn released(config: &str, signers: &str) -> Repo {
    let r = Repo::new();
    r.write("smart-app.yaml", &example("med-rec.yaml"));
    r.write(".scopegate/config.yaml", config);
    if !signers.is_empty() {
        r.write(".scopegate/allowed_signers", signers);
    }
    r.commit("v1");
    r.release("v1.0.0");
    let t = r
        .read("smart-app.yaml")
        .replace(
            "patient/MedicationStatement.crs",
            "patient/MedicationStatement.crus",
        )
        .replace(
            "      - patient/MedicationStatement.c\n",
            "      - patient/MedicationStatement.cu\n",
        );
    r.write("smart-app.yaml", &t);
    r.commit("add update");
    r
}

/// `approve --by alice --ticket SEC-1 --sign KEY`.
fn approve_signed_with(r: &Repo, key: &Path) -> Run {
    r.run(&[
        "approve",
        "--by",
        "alice",
        "--ticket",
        "SEC-1",
        "--sign",
        key.to_str().unwrap(),
    ])
}

/// `approve` without signing, then the last entry as scopegate parses it.
fn approve_unsigned(r: &Repo, by: &str, ticket: &str) -> scopegate::approval::Entry {
    let a = r.run(&["approve", "--by", by, "--ticket", ticket]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    last_entry(r)
}

fn last_entry(r: &Repo) -> scopegate::approval::Entry {
    scopegate::approval::from_bytes("l", r.read(".scopegate/approvals.yaml").as_bytes())
        .unwrap()
        .pop()
        .unwrap()
}

/// Signs `e` (the ledger's last entry) with `ssh-keygen` and `key`, for `repository`,
/// and attaches the signature.
fn attach_signed(r: &Repo, key: &Path, e: &scopegate::approval::Entry, repository: Option<&str>) {
    let message = scopegate::signature::canonical(e, repository);
    attach(r, &ssh_sign(key, "scopegate-approval", &message));
}

/// Appends `signature:` to the ledger's last entry, as `approve --sign` lays it out.
fn attach(r: &Repo, armored: &str) {
    let mut t = r.read(".scopegate/approvals.yaml");
    t.push_str("    signature: |\n");
    for l in armored.lines() {
        t.push_str(&format!("      {l}\n"));
    }
    r.write(".scopegate/approvals.yaml", &t);
}

fn gate(r: &Repo) -> (Run, Value) {
    let g = r.run(&["gate", "--format", "json"]);
    let v = g.json();
    (g, v)
}

fn approval(v: &Value) -> &Value {
    &v["changes"][0]["approval"]
}

/// An approver's entry signed with `ssh-keygen` by `signer`, for `namespace`.
fn signed_by(r: &Repo, by: &str, signer: &str, namespace: &str) -> (Run, Value) {
    let (key, _) = sshkeygen(r, signer);
    let e = approve_unsigned(r, by, "SEC-1");
    attach(
        r,
        &ssh_sign(&key, namespace, &scopegate::signature::canonical(&e, None)),
    );
    r.commit("approve");
    gate(r)
}

/// The baseline lists alice's (and bob's) ssh-keygen keys, with `alice_options`.
fn with_signers(alice_options: &str) -> Repo {
    let scratch = Repo::new();
    let (_, alice) = sshkeygen(&scratch, "alice");
    let (_, bob) = sshkeygen(&scratch, "bob");
    let sep = if alice_options.is_empty() { "" } else { " " };
    let r = released(
        "approvers: [alice, bob]\n",
        &format!("# approvers' signing keys\nalice{sep}{alice_options} {alice}\nbob {bob}\n"),
    );
    // The keys live in the scratch repo's .git; move them where `signed_by` looks.
    for f in [
        "alice_ed25519",
        "alice_ed25519.pub",
        "bob_ed25519",
        "bob_ed25519.pub",
    ] {
        std::fs::copy(
            scratch.path().join(".git").join(f),
            r.path().join(".git").join(f),
        )
        .unwrap();
    }
    r
}

#[test]
fn control_an_ssh_keygen_signature_by_the_listed_approver_passes_plain_gate() {
    let r = with_signers("");
    let (g, v) = signed_by(&r, "alice", "alice", "scopegate-approval");
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(approval(&v)["state"], "approved");
    assert_eq!(approval(&v)["by"], "alice");
    assert_eq!(approval(&v)["added_in_change"], true);
    assert!(approval(&v).get("unverified").is_none(), "{v}");
    // The report names the key that vouched for it, as ssh-keygen prints it.
    let (key, _) = sshkeygen(&r, "alice");
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(key.with_extension("pub"))
        .output()
        .unwrap();
    let fp = String::from_utf8(out.stdout).unwrap();
    let fp = fp.split_whitespace().nth(1).unwrap();
    assert_eq!(approval(&v)["signed_with"], fp, "{v}");
    assert!(
        r.run(&["gate"])
            .stdout
            .contains(&format!("signed with {fp}"))
    );
}

#[test]
fn an_unsigned_entry_by_a_listed_approver_is_pending_and_says_how_to_sign() {
    let r = with_signers("");
    approve_unsigned(&r, "alice", "SEC-1");
    r.commit("approve");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 1);
    assert_eq!(approval(&v)["state"], "pending");
    let why = approval(&v)["reason"].as_str().unwrap();
    assert!(why.contains("approve --sign"), "{why}");
    // The text report (what another CI's log shows) says it too.
    let text = r.run(&["gate"]).stdout;
    assert!(
        text.contains("PENDING") && text.contains("--sign"),
        "{text}"
    );
}

#[test]
fn self_approval_by_someone_who_is_not_a_baseline_approver_never_counts() {
    // Mallory lists her own key in the working tree's allowed_signers and config, and
    // signs: the baseline's config and signers judge, so nothing counts.
    let r = with_signers("");
    let (key, public) = sshkeygen(&r, "mallory");
    r.write(
        ".scopegate/config.yaml",
        "approvers: [alice, bob, mallory]\n",
    );
    let mut s = r.read(".scopegate/allowed_signers");
    s.push_str(&format!("mallory {public}\n"));
    r.write(".scopegate/allowed_signers", &s);
    let e = approve_unsigned(&r, "mallory", "SEC-1");
    attach_signed(&r, &key, &e, None);
    r.commit("self-approve");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    assert_eq!(approval(&v)["state"], "pending");
    assert!(
        approval(&v)["reason"]
            .as_str()
            .unwrap()
            .contains("not an approver"),
        "{v}"
    );
}

#[test]
fn a_signature_by_another_listed_key_does_not_count_for_alice() {
    // Bob's valid key, on an entry that names alice.
    let r = with_signers("");
    let (g, v) = signed_by(&r, "alice", "bob", "scopegate-approval");
    assert_eq!(g.code, 1);
    assert_eq!(approval(&v)["state"], "pending");
    assert!(
        approval(&v)["reason"]
            .as_str()
            .unwrap()
            .contains("does not list for `alice`"),
        "{v}"
    );
}

#[test]
fn a_key_nobody_listed_does_not_count() {
    let r = with_signers("");
    let (g, v) = signed_by(&r, "alice", "stranger", "scopegate-approval");
    assert_eq!(g.code, 1);
    assert_eq!(approval(&v)["state"], "pending");
}

#[test]
fn an_entry_edited_after_signing_does_not_count() {
    let r = with_signers("");
    let (key, _) = sshkeygen(&r, "alice");
    let e = approve_unsigned(&r, "alice", "SEC-1");
    attach_signed(&r, &key, &e, None);
    // The ticket is swapped after alice signed.
    let t = r
        .read(".scopegate/approvals.yaml")
        .replace("SEC-1", "SEC-2");
    r.write(".scopegate/approvals.yaml", &t);
    r.commit("approve, edited");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 1);
    assert!(
        approval(&v)["reason"]
            .as_str()
            .unwrap()
            .contains("an edited entry"),
        "{v}"
    );
}

#[test]
fn a_signature_replayed_onto_another_entry_does_not_count() {
    // Alice signed an approval of `u` in another change; the signature is copied onto
    // an entry that approves the much wider `patient/*.cruds`.
    let r = with_signers("");
    let (key, _) = sshkeygen(&r, "alice");
    let e = approve_unsigned(&r, "alice", "SEC-1");
    let sig = ssh_sign(
        &key,
        "scopegate-approval",
        &scopegate::signature::canonical(&e, None),
    );
    let t = r.read(".scopegate/approvals.yaml").replace(
        "med-rec:patient/MedicationStatement.u",
        "med-rec:patient/*.cruds",
    );
    r.write(".scopegate/approvals.yaml", &t);
    attach(&r, &sig);
    r.commit("replayed");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    assert_eq!(approval(&v)["state"], "pending");
}

#[test]
fn an_expired_signer_does_not_count_and_a_current_one_does() {
    // valid-before is before the gate's clock (2026-11-28).
    let r = with_signers("valid-before=\"20261101Z\"");
    let (g, v) = signed_by(&r, "alice", "alice", "scopegate-approval");
    assert_eq!(g.code, 1);
    assert!(
        approval(&v)["reason"].as_str().unwrap().contains("expired"),
        "{v}"
    );
    let r = with_signers("valid-after=\"20261101\",valid-before=\"20270101Z\"");
    let (g, _) = signed_by(&r, "alice", "alice", "scopegate-approval");
    assert_eq!(g.code, 0, "{}", g.stdout);
}

#[test]
fn a_key_listed_for_another_principal_does_not_count() {
    // Alice's key is listed, but for carol.
    let scratch = Repo::new();
    let (key, alice) = sshkeygen(&scratch, "alice");
    let r = released("approvers: [alice]\n", &format!("carol {alice}\n"));
    let e = approve_unsigned(&r, "alice", "SEC-1");
    attach_signed(&r, &key, &e, None);
    r.commit("approve");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 1);
    assert_eq!(approval(&v)["state"], "pending");
}

#[test]
fn a_signature_for_another_namespace_does_not_count() {
    // A git commit signature (`-n git`) over the same content is not an approval, nor
    // is a key whose allowed_signers line is limited to git.
    let r = with_signers("");
    let (g, v) = signed_by(&r, "alice", "alice", "git");
    assert_eq!(g.code, 1);
    assert!(
        approval(&v)["reason"]
            .as_str()
            .unwrap()
            .contains("namespace"),
        "{v}"
    );
    let r = with_signers("namespaces=\"git\"");
    let (g, _) = signed_by(&r, "alice", "alice", "scopegate-approval");
    assert_eq!(g.code, 1);
}

#[test]
fn approve_sign_writes_a_signature_that_ssh_keygen_verifies_and_the_gate_accepts() {
    // `approve --sign` with a key made by ssh-keygen, signed in process.
    let r = with_signers("");
    let (key, public) = sshkeygen(&r, "alice");
    let a = approve_signed_with(&r, &key);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(a.stdout.contains("signed with key SHA256:"), "{}", a.stdout);
    let e = last_entry(&r);
    // OpenSSH agrees: `ssh-keygen -Y verify` with an allowed_signers file.
    let dir = tempfile::tempdir().unwrap();
    let signers = dir.path().join("allowed");
    let sig = dir.path().join("sig");
    std::fs::write(&signers, format!("alice {public}\n")).unwrap();
    std::fs::write(&sig, e.signature.as_deref().unwrap()).unwrap();
    let mut child = Command::new("ssh-keygen")
        .args([
            "-Y",
            "verify",
            "-n",
            "scopegate-approval",
            "-I",
            "alice",
            "-f",
        ])
        .arg(&signers)
        .arg("-s")
        .arg(&sig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scopegate::signature::canonical(&e, None).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    r.commit("approve");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 0, "{}", g.stdout);
    assert_eq!(approval(&v)["state"], "approved");
}

#[test]
fn approve_sign_with_a_passphrase_key_goes_through_ssh_keygen() {
    let r = with_signers("");
    let key = r.path().join(".git").join("locked_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "s3cret", "-C", "alice", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    // The baseline lists this key for alice too.
    let _ = public;
    let askpass = r.path().join(".git").join("askpass.sh");
    std::fs::write(&askpass, "#!/bin/sh\necho s3cret\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut c = assert_cmd::Command::cargo_bin("scopegate").unwrap();
    let out = c
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("DISPLAY", ":0")
        .current_dir(r.path())
        .args([
            "approve",
            "--by",
            "alice",
            "--ticket",
            "SEC-1",
            "--now",
            repo::NOW,
            "--sign",
        ])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e = last_entry(&r);
    assert!(scopegate::signature::check(&e, e.signature.as_deref().unwrap(), None).is_ok());
}

#[test]
fn a_bad_allowed_signers_line_is_exit_2_with_file_and_line() {
    let scratch = Repo::new();
    let (_, alice) = sshkeygen(&scratch, "alice");
    let r = released(
        "approvers: [alice]\n",
        &format!("# ok\nalice {alice}\nca cert-authority {alice}\n"),
    );
    let g = r.run(&["gate"]);
    assert_eq!(g.code, 2, "{}", g.stdout);
    assert!(
        g.stderr.contains("v1.0.0:.scopegate/allowed_signers:3")
            && g.stderr.contains("cert-authority"),
        "{}",
        g.stderr
    );
}

#[test]
fn advisory_runs_count_unsigned_entries_but_mark_them_unverified_in_every_format() {
    let r = with_signers("");
    approve_unsigned(&r, "alice", "SEC-1");
    let g = r.run(&["gate", "--format", "json", "--config-from-worktree"]);
    assert_eq!(g.code, 0, "{}", g.stdout);
    let v = g.json();
    assert_eq!(v["advisory"], true);
    assert_eq!(approval(&v)["unverified"], true);
    for format in ["text", "markdown", "github", "sarif"] {
        let out = r
            .run(&["gate", "--format", format, "--config-from-worktree"])
            .stdout;
        assert!(out.contains("UNVERIFIED"), "{format}: {out}");
    }
    // The same entry, judged by the baseline, is pending.
    assert_eq!(r.run(&["gate"]).code, 1);
}

#[test]
fn require_signed_approvals_refuses_a_reviewed_but_unsigned_entry_in_ci() {
    // On GitHub, alice's APPROVED review at head would do; the baseline config says
    // only signatures count.
    let scratch = Repo::new();
    let (key, alice) = sshkeygen(&scratch, "alice");
    let r = released(
        "approvers: [alice]\nrequire_signed_approvals: true\n",
        &format!("alice {alice}\n"),
    );
    let base = r.git(&["rev-parse", "v1.0.0"]).trim().to_string();
    approve_unsigned(&r, "alice", "SEC-1");
    let head = r.commit("approve");
    let gh = fake_github::FakeGitHub::start();
    gh.add_review("alice", "APPROVED", &head);
    let run = ci(&r, &gh, &base, &head);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("requires signed approvals"),
        "{}",
        run.stdout
    );

    // Control: the same, signed by alice's key.
    let r2 = released(
        "approvers: [alice]\nrequire_signed_approvals: true\n",
        &format!("alice {alice}\n"),
    );
    let base = r2.git(&["rev-parse", "v1.0.0"]).trim().to_string();
    let e = approve_unsigned(&r2, "alice", "SEC-1");
    attach_signed(&r2, &key, &e, None);
    let head = r2.commit("approve");
    let gh = fake_github::FakeGitHub::start();
    list_commits(&r2, &gh, &base, &head, "dev");
    gh.add_review("alice", "APPROVED", &head);
    let run = ci(&r2, &gh, &base, &head);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// The pull request's commits, `base..head`, as GitHub lists them, each by `login`.
fn list_commits(r: &Repo, gh: &fake_github::FakeGitHub, base: &str, head: &str, login: &str) {
    let shas = r.git(&["rev-list", "--reverse", &format!("{base}..{head}")]);
    for sha in shas.split_whitespace() {
        gh.add_pr_commit(sha, Some(login), Some(login), "a commit");
    }
}

/// On a pull request, a signature does not replace the review: it names no pull
/// request. An approver who holds a key opened a pull request with her own escalation,
/// signed her own entry, and passed with nobody else's review; a signed entry copied
/// from another pull request (closed unmerged) approved this one. Both stay pending,
/// saying why. Control: the signed entry with an APPROVED review of the head by its
/// signer, on a pull request someone else opened, counts (and shows the key).
#[test]
fn on_a_pull_request_a_signature_does_not_replace_the_review() {
    let scratch = Repo::new();
    let (key, alice) = sshkeygen(&scratch, "alice");
    let signed_pr = |author: &str, review: bool| {
        let r = released("approvers: [alice, bob]\n", &format!("alice {alice}\n"));
        let base = r.git(&["rev-parse", "v1.0.0"]).trim().to_string();
        let e = approve_unsigned(&r, "alice", "SEC-1");
        attach_signed(&r, &key, &e, None);
        let head = r.commit("approve");
        let gh = fake_github::FakeGitHub::start();
        list_commits(&r, &gh, &base, &head, author);
        if review {
            gh.add_review("alice", "APPROVED", &head);
        }
        let run = ci_run::CiJob::new(r.path(), &gh.url, repo::NOW)
            .event("pull_request", ci_run::pr_payload(author, &base, &head))
            .run();
        (run.code, run.stdout)
    };
    // Alice's own pull request, her own signature (and even her own review).
    for review in [false, true] {
        let (code, out) = signed_pr("alice", review);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("PENDING"), "{out}");
        assert!(
            out.contains("a signature does not replace the review"),
            "{out}"
        );
    }
    // Dev's pull request with alice's signed entry pasted in, no review.
    let (code, out) = signed_pr("dev", false);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("a signature does not replace the review"),
        "{out}"
    );
    // Control: reviewed by alice on dev's pull request.
    let (code, out) = signed_pr("dev", true);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("signed with SHA256:"), "{out}");
}

/// `scopegate ci` on a `pull_request` event against the fake GitHub.
fn ci(r: &Repo, gh: &fake_github::FakeGitHub, base: &str, head: &str) -> Run {
    let run = ci_run::CiJob::new(r.path(), &gh.url, repo::NOW)
        .event("pull_request", ci_run::pr_payload("dev", base, head))
        .run();
    Run {
        code: run.code,
        stdout: run.stdout,
        stderr: run.stderr,
    }
}

/// A copy of a released, spent signed entry with its armor re-wrapped (`|+`, `|-`, the
/// lines cut elsewhere) is the same approval: spent, whatever its bytes (the spent
/// check compared the signature's text, while verification reads it trimmed). Control:
/// a new signed entry passes.
#[test]
fn a_spent_signed_entry_copied_with_its_signature_rewrapped_stays_spent() {
    let r = with_signers("");
    let v1 = r.git(&["show", "v1.0.0:smart-app.yaml"]);
    let (g, _) = signed_by(&r, "alice", "alice", "scopegate-approval");
    assert_eq!(g.code, 0, "{}", g.stdout);
    r.release("v1.1.0");
    // v1.2.0 goes out without the access; the change brings it back.
    let with_update = r.read("smart-app.yaml");
    r.write("smart-app.yaml", &v1);
    r.commit("drop update");
    r.release("v1.2.0");
    r.write("smart-app.yaml", &with_update);
    r.commit("bring update back");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 1, "{}", g.stdout);
    assert!(
        v["findings"].to_string().contains("approval-spent"),
        "{v:#}"
    );

    let ledger = r.read(".scopegate/approvals.yaml");
    let entry = &ledger[ledger.rfind("  - keys:").unwrap()..];
    let armor: Vec<&str> = entry
        .lines()
        .skip_while(|l| !l.starts_with("    signature:"))
        .skip(1)
        .map(str::trim)
        .collect();
    let head = &entry[..entry.find("    signature:").unwrap()];
    let body = armor[1..armor.len() - 1].concat();
    let rewrapped: Vec<String> = std::iter::once(armor[0].to_string())
        .chain(
            body.as_bytes()
                .chunks(50)
                .map(|c| String::from_utf8_lossy(c).into_owned()),
        )
        .chain(std::iter::once(armor[armor.len() - 1].to_string()))
        .collect();
    let copies = [
        (
            "|+",
            armor.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            "\n\n",
        ),
        ("|-", armor.iter().map(|l| l.to_string()).collect(), ""),
        ("|", rewrapped, ""),
    ];
    for (style, lines, extra) in copies {
        let mut t = ledger.clone();
        t.push_str(head);
        t.push_str(&format!("    signature: {style}\n"));
        for l in &lines {
            t.push_str(&format!("      {l}\n"));
        }
        t.push_str(extra);
        r.write(".scopegate/approvals.yaml", &t);
        r.commit(&format!("copy {style}"));
        let (g, v) = gate(&r);
        assert_eq!(
            g.code, 1,
            "copy with `signature: {style}` passed: {}",
            g.stdout
        );
        assert_eq!(approval(&v)["state"], "unapproved", "{style}: {v:#}");
        r.write(".scopegate/approvals.yaml", &ledger);
        r.commit("restore the ledger");
    }

    // Control: a new entry, signed by alice, approves it.
    let (key, _) = sshkeygen(&r, "alice");
    let e = approve_unsigned(&r, "alice", "SEC-2");
    attach_signed(&r, &key, &e, None);
    r.commit("approve again");
    let (g, v) = gate(&r);
    assert_eq!(g.code, 0, "{}{}", g.stdout, g.stderr);
    assert_eq!(approval(&v)["state"], "approved");
}

/// `approve` wrote entries that could never count (an approver the judging config does
/// not name, an unsigned entry outside GitHub) with exit 0 and no word; the next gate
/// said PENDING. Now it says so at once, with the gate's reason. Control: alice's
/// signed entry gets no note.
#[test]
fn approve_says_at_once_when_the_gate_will_not_count_the_entry() {
    let r = with_signers("");
    let ledger = r.path().join(".scopegate/approvals.yaml");
    let a = r.run(&["approve", "--by", "carol", "--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        a.stderr.contains("does not count this entry yet")
            && a.stderr.contains("carol is not an approver"),
        "{}",
        a.stderr
    );
    std::fs::remove_file(&ledger).unwrap();
    let a = r.run(&["approve", "--by", "alice", "--ticket", "SEC-1"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(
        a.stderr.contains("not signed") && a.stderr.contains("APPROVED review"),
        "{}",
        a.stderr
    );
    std::fs::remove_file(&ledger).unwrap();
    let (key, _) = sshkeygen(&r, "alice");
    let a = approve_signed_with(&r, &key);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(!a.stderr.contains("does not count"), "{}", a.stderr);
}

/// Repos A and B, released with the same app id, the same change and alice's same key
/// in their allowed_signers, each naming itself as `repository`.
fn two_repositories() -> (Repo, Repo, PathBuf) {
    let scratch = Repo::new();
    let (key, alice) = sshkeygen(&scratch, "alice");
    let signers = format!("alice {alice}\n");
    let a = released("approvers: [alice]\nrepository: acme/app\n", &signers);
    let b = released("approvers: [alice]\nrepository: acme/other\n", &signers);
    let kept = a.path().join(".git").join("alice_ed25519");
    std::fs::copy(&key, &kept).unwrap();
    (a, b, kept)
}

/// With `repository:` set, a signature signs the repository too. Alice's entry signed
/// for acme/app, copied into acme/other's ledger (same app id, same change, her same
/// key listed there), does not verify there: it stays pending, and says why. An entry
/// signed naming no repository does not verify where the config names one. Controls:
/// the entry counts in acme/app, whose gate passes, also through `ci`.
#[test]
fn an_entry_signed_for_one_repository_does_not_count_in_another() {
    let (a, b, key) = two_repositories();
    let signed = approve_signed_with(&a, &key);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    let entry_text = a.read(".scopegate/approvals.yaml");
    a.commit("approve");
    let (g, _) = gate(&a);
    assert_eq!(g.code, 0, "{}", g.stdout);

    b.write(".scopegate/approvals.yaml", &entry_text);
    b.commit("an approval copied from acme/app");
    let (g, v) = gate(&b);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let why = approval(&v)["reason"].as_str().unwrap();
    assert!(
        why.contains("does not match the entry in `acme/other`")
            && why.contains("signed for another repository"),
        "{why}"
    );

    // Signed naming no repository (as before `repository:` was set): re-sign it.
    let e = approve_unsigned(&b, "alice", "SEC-3");
    attach_signed(&b, &key, &e, None);
    b.commit("approve, unbound");
    let (g, v) = gate(&b);
    assert_eq!(g.code, 1, "{}", g.stdout);
    let why = approval(&v)["reason"].as_str().unwrap();
    assert!(
        why.contains("names no repository, and the config names `acme/other`"),
        "{why}"
    );
    // The same, signed for acme/other: it counts.
    let e = approve_unsigned(&b, "alice", "SEC-4");
    attach_signed(&b, &key, &e, Some("acme/other"));
    b.commit("approve, bound");
    let (g, _) = gate(&b);
    assert_eq!(g.code, 0, "{}", g.stdout);
}

/// `ci` and `comment` refuse to run under a config that names another repository
/// than GITHUB_REPOSITORY (a config copied whole would carry its repository's name,
/// and with it that repository's signed entries). Control: the config's own name.
#[test]
fn ci_in_another_repository_than_the_config_names_is_exit_2() {
    let (a, _, _) = two_repositories();
    let base = a.git(&["rev-parse", "v1.0.0"]).trim().to_string();
    let head = a.git(&["rev-parse", "HEAD"]).trim().to_string();
    let gh = fake_github::FakeGitHub::start();
    let run = ci_run::CiJob::new(a.path(), &gh.url, repo::NOW)
        .event("pull_request", ci_run::pr_payload("dev", &base, &head))
        .env("GITHUB_REPOSITORY", "acme/fork-of-app")
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("names repository `acme/app`, and this run is in `acme/fork-of-app`"),
        "{}",
        run.stderr
    );
    // Control: GITHUB_REPOSITORY is acme/app; the change is unapproved (exit 1).
    let run = ci_run::CiJob::new(a.path(), &gh.url, repo::NOW)
        .event("pull_request", ci_run::pr_payload("dev", &base, &head))
        .run();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
}
