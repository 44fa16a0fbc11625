//! Signed approvals: an approval's canonical content, signed in git's SSH signature
//! format (OpenSSH `PROTOCOL.sshsig`, `ssh-keygen -Y sign -n scopegate-approval`), and
//! checked against an `allowed_signers` file in git's format (`gpg.ssh.allowedSignersFile`,
//! ssh-keygen(1) "ALLOWED SIGNERS") read from the baseline.
//!
//! Pure: it is handed the file text and the private key text; it reads no files and
//! runs no `ssh-keygen` (the CLI does, for keys held in an agent or encrypted). The
//! signature algorithms are the RustCrypto `ssh-key` crate's; nothing here is crypto.

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use crate::approval::Entry;
use crate::yaml::{LoadError, Pos, Problem};

/// The SSHSIG namespace of an approval signature: a signature made for git commits,
/// files or another tool does not verify as an approval.
pub const NAMESPACE: &str = "scopegate-approval";

/// Where the allowed signers live, relative to the repository root; read from the
/// baseline commit, like the config.
pub const SIGNERS_PATH: &str = ".scopegate/allowed_signers";

/// The version tag that opens the canonical content: without a repository, and with
/// one (the config's `repository`), which the content then names.
const CANONICAL_VERSION: &str = "scopegate-approval/1";
const CANONICAL_VERSION_BOUND: &str = "scopegate-approval/2";

/// What is signed: one line of compact JSON with the fields in this fixed order, then a
/// newline. `keys` as scopegate prints them (`<app-id>:<scope>`), `at` and `expires`
/// normalised to `YYYY-MM-DDTHH:MM:SSZ` (a bare expiry date means its last second),
/// absent fields as `null`, `tenants` in the order written. JSON escaping makes it
/// unambiguous: no field's text can pass for another field. With a `repository`
/// (`owner/name`), the content is version 2 and names it second, so an entry signed
/// for one repository does not verify in another.
pub fn canonical(e: &Entry, repository: Option<&str>) -> String {
    #[derive(serde::Serialize)]
    struct Canonical<'a> {
        v: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        repository: Option<&'a str>,
        keys: Vec<String>,
        by: &'a str,
        at: &'a str,
        ticket: Option<&'a str>,
        reason: Option<&'a str>,
        expires: Option<&'a str>,
        tenants: &'a [String],
    }
    let c = Canonical {
        v: if repository.is_some() {
            CANONICAL_VERSION_BOUND
        } else {
            CANONICAL_VERSION
        },
        repository,
        keys: e.keys.iter().map(ToString::to_string).collect(),
        by: &e.by,
        at: &e.at,
        ticket: e.ticket.as_deref(),
        reason: e.reason.as_deref(),
        expires: e.expires.as_deref(),
        tenants: &e.tenants,
    };
    // Serialising plain strings cannot fail.
    let mut s = serde_json::to_string(&c).unwrap_or_default();
    s.push('\n');
    s
}

/// Why `sign` could not sign in process.
#[derive(Debug, PartialEq, Eq)]
pub enum SignError {
    /// The key is protected by a passphrase (`ssh-keygen -Y sign` can ask for it).
    Encrypted,
    /// Not an OpenSSH private key, or one of a type scopegate does not sign with.
    Unsupported(String),
}

/// Signs `e`'s canonical content with an unencrypted OpenSSH private key, returning the
/// armored signature (`-----BEGIN SSH SIGNATURE-----`), as `ssh-keygen -Y sign` writes it.
pub fn sign(e: &Entry, private_key: &str, repository: Option<&str>) -> Result<String, SignError> {
    let key = PrivateKey::from_openssh(private_key)
        .map_err(|err| SignError::Unsupported(format!("not an OpenSSH private key ({err})")))?;
    if key.is_encrypted() {
        return Err(SignError::Encrypted);
    }
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(SignError::Unsupported(format!(
            "{} keys are not signed in process (ed25519 only)",
            key.algorithm()
        )));
    }
    let sig = key
        .sign(
            NAMESPACE,
            HashAlg::Sha512,
            canonical(e, repository).as_bytes(),
        )
        .map_err(|err| SignError::Unsupported(format!("signing failed: {err}")))?;
    sig.to_pem(LineEnding::LF)
        .map_err(|err| SignError::Unsupported(format!("encoding the signature: {err}")))
}

/// Whether `armored` is a valid approval signature of `e` by the key it carries
/// (whatever any allowed_signers file says), and that key's fingerprint: `approve`
/// checks what it is about to write.
pub fn check(e: &Entry, armored: &str, repository: Option<&str>) -> Result<String, String> {
    let sig = parse_sig(armored)?;
    let key = PublicKey::from(sig.public_key().clone());
    key.verify(NAMESPACE, canonical(e, repository).as_bytes(), &sig)
        .map_err(|err| format!("the signature does not verify: {err}"))?;
    Ok(key.fingerprint(HashAlg::Sha256).to_string())
}

fn parse_sig(armored: &str) -> Result<SshSig, String> {
    SshSig::from_pem(armored.trim()).map_err(|e| format!("not an SSH signature ({e})"))
}

/// One line of an allowed_signers file.
#[derive(Clone, Debug)]
struct Signer {
    /// Patterns (`*` and `?` wildcards), matched without regard to ASCII case, like
    /// the config's `approvers`.
    principals: Vec<String>,
    namespaces: Option<Vec<String>>,
    /// Normalised `YYYY-MM-DDTHH:MM:SSZ`.
    valid_after: Option<String>,
    valid_before: Option<String>,
    key: PublicKey,
    line: u32,
}

/// An allowed_signers file: who may sign approvals with which key.
#[derive(Clone, Debug, Default)]
pub struct AllowedSigners {
    path: String,
    signers: Vec<Signer>,
    /// The repository signatures must name (the judging config's `repository`).
    repository: Option<String>,
}

impl AllowedSigners {
    /// Parses git's allowed_signers format: `principals [options] keytype base64 [comment]`.
    /// Options `namespaces="…"`, `valid-after="…"` and `valid-before="…"` are honoured;
    /// `cert-authority` and negated principals are refused (scopegate does not check
    /// certificates), as is any key that is not ed25519. Every problem is reported.
    pub fn parse(path: &str, text: &str) -> Result<AllowedSigners, LoadError> {
        let mut signers = Vec::new();
        let mut problems = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            match parse_line(l, line) {
                Ok(s) => signers.push(s),
                Err((message, hint)) => problems.push(Problem {
                    pos: Pos { line, column: 1 },
                    message,
                    hint,
                }),
            }
        }
        if problems.is_empty() {
            Ok(AllowedSigners {
                path: path.to_string(),
                signers,
                repository: None,
            })
        } else {
            Err(LoadError {
                path: path.to_string(),
                problems,
            })
        }
    }

    /// These signers, verifying signatures that name `repository` (the judging config's
    /// `repository`; `None`: signatures that name none).
    #[must_use]
    pub fn bound_to(mut self, repository: Option<&str>) -> AllowedSigners {
        self.repository = repository.map(str::to_string);
        self
    }

    /// Whether `e`'s signature is valid, by a key listed for `e.by`, for this namespace,
    /// inside the key's validity window at `now`. `Ok` names the key (its SHA256
    /// fingerprint); `Err` says why the entry is not signed.
    pub(crate) fn verify(&self, e: &Entry, now: &str) -> Result<String, String> {
        let Some(armored) = &e.signature else {
            return Err("it is not signed".into());
        };
        let sig = parse_sig(armored)?;
        if sig.namespace() != NAMESPACE {
            return Err(format!(
                "its signature is for namespace `{}`, not `{NAMESPACE}`",
                sig.namespace()
            ));
        }
        let fp = PublicKey::from(sig.public_key().clone())
            .fingerprint(HashAlg::Sha256)
            .to_string();
        let who = e.by.trim_start_matches('@');
        let listed: Vec<&Signer> = self
            .signers
            .iter()
            .filter(|s| s.key.key_data() == sig.public_key())
            .filter(|s| s.principals.iter().any(|p| matches(p, who)))
            .collect();
        if listed.is_empty() {
            return Err(if self.signers.is_empty() {
                format!("the baseline has no {SIGNERS_PATH}, so no signature can be checked")
            } else {
                format!(
                    "it is signed by key {fp}, which {} does not list for `{who}`",
                    self.path
                )
            });
        }
        let mut why = Vec::new();
        for s in listed {
            if let Some(ns) = &s.namespaces
                && !ns.iter().any(|n| matches(n, NAMESPACE))
            {
                why.push(format!(
                    "{}:{} allows that key only for namespaces {}",
                    self.path,
                    s.line,
                    ns.join(",")
                ));
                continue;
            }
            if let Some(a) = s.valid_after.as_deref().filter(|a| now < *a) {
                why.push(format!(
                    "{}:{}: the key is valid only after {a}",
                    self.path, s.line
                ));
                continue;
            }
            if let Some(b) = s.valid_before.as_deref().filter(|b| now > *b) {
                why.push(format!(
                    "{}:{}: the key expired at {b} (valid-before)",
                    self.path, s.line
                ));
                continue;
            }
            let bound = self.repository.as_deref();
            return match s
                .key
                .verify(NAMESPACE, canonical(e, bound).as_bytes(), &sig)
            {
                Ok(()) => Ok(fp),
                Err(_) => Err(self.mismatch(e, &sig, &s.key, &fp)),
            };
        }
        Err(why.join("; "))
    }
}

impl AllowedSigners {
    /// Why a listed key's signature does not match `e` here: signed without naming
    /// this repository, for a repository when the config names none, or over other
    /// content (an edited entry, or one signed for another repository).
    fn mismatch(&self, e: &Entry, sig: &SshSig, key: &PublicKey, fp: &str) -> String {
        let verifies = |repository| {
            key.verify(NAMESPACE, canonical(e, repository).as_bytes(), sig)
                .is_ok()
        };
        match self.repository.as_deref() {
            Some(r) if verifies(None) => format!(
                "its signature by {fp} names no repository, and the config names `{r}`: sign it again (`scopegate approve --sign`) to bind it to `{r}`"
            ),
            Some(r) => format!(
                "its signature by {fp} does not match the entry in `{r}` (an edited entry, or one signed for another repository)"
            ),
            None => format!(
                "its signature by {fp} does not match the entry (an edited entry, or one signed for a repository: the config here names none)"
            ),
        }
    }
}

/// Git's key types: a token that names one starts the key, not the options.
fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-")
        || t.starts_with("sk-ssh-")
        || t.starts_with("ecdsa-")
        || t.starts_with("sk-ecdsa-")
}

/// Splits at whitespace outside double quotes; quotes stay in the tokens.
fn tokens(l: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (i, c) in l.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            if let Some(s) = start.take() {
                out.push(&l[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(&l[s..]);
    }
    out
}

type LineError = (String, Option<String>);

fn parse_line(l: &str, line: u32) -> Result<Signer, LineError> {
    let t = tokens(l);
    let principals_tok = t[0];
    let (options, rest) = match t.get(1) {
        Some(o) if !is_key_type(o) => (Some(*o), &t[2..]),
        _ => (None, &t[1..]),
    };
    let (Some(ty), Some(b64)) = (rest.first(), rest.get(1)) else {
        return Err((
            "expected `principals [options] keytype base64-key`".into(),
            Some("copy the key from the `.pub` file, e.g. `alice ssh-ed25519 AAAA…`".into()),
        ));
    };
    let principals: Vec<String> = principals_tok
        .trim_matches('"')
        .split(',')
        .map(str::to_string)
        .collect();
    if principals
        .iter()
        .any(|p| p.is_empty() || p.starts_with('!'))
    {
        return Err((
            format!(
                "principals `{principals_tok}`: empty or negated (`!`) patterns are not supported"
            ),
            None,
        ));
    }
    let mut s = Signer {
        principals,
        namespaces: None,
        valid_after: None,
        valid_before: None,
        key: PublicKey::from_openssh(&format!("{ty} {b64}"))
            .map_err(|e| (format!("`{ty}` key: {e}"), None))?,
        line,
    };
    if !matches!(s.key.algorithm(), Algorithm::Ed25519 | Algorithm::SkEd25519) {
        return Err((
            format!("`{ty}` keys are not supported for approvals"),
            Some("use an ed25519 key (`ssh-keygen -t ed25519`)".into()),
        ));
    }
    for opt in options.map(split_options).unwrap_or_default() {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n.to_ascii_lowercase(), Some(v.trim_matches('"'))),
            None => (opt.to_ascii_lowercase(), None),
        };
        match (name.as_str(), value) {
            ("namespaces", Some(v)) => {
                s.namespaces = Some(v.split(',').map(str::to_string).collect());
            }
            ("valid-after", Some(v)) => s.valid_after = Some(ssh_time(v)?),
            ("valid-before", Some(v)) => s.valid_before = Some(ssh_time(v)?),
            ("cert-authority", None) => {
                return Err((
                    "`cert-authority` is not supported: scopegate checks plain keys, not certificates".into(),
                    Some("list each approver's own public key".into()),
                ));
            }
            _ => {
                return Err((
                    format!("unknown option `{opt}`"),
                    Some("allowed: namespaces=\"…\", valid-after=\"…\", valid-before=\"…\"".into()),
                ));
            }
        }
    }
    Ok(s)
}

/// Options are comma-separated; commas inside quotes belong to the value.
fn split_options(o: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in o.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&o[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&o[start..]);
    out
}

/// ssh-keygen's `YYYYMMDD[Z]` or `YYYYMMDDHHMM[SS][Z]`, taken as UTC (with or without
/// the `Z`: a CI runner's local time is no basis for a decision).
fn ssh_time(v: &str) -> Result<String, LineError> {
    let d = v.strip_suffix(['Z', 'z']).unwrap_or(v);
    let ok = d.bytes().all(|b| b.is_ascii_digit()) && matches!(d.len(), 8 | 12 | 14);
    let bad = || {
        (
            format!("`{v}` is not an ssh-keygen time"),
            Some("use YYYYMMDD or YYYYMMDDHHMM[SS], with a trailing Z for UTC".into()),
        )
    };
    if !ok {
        return Err(bad());
    }
    let sec = if d.len() == 14 { &d[12..14] } else { "00" };
    let (hh, mm) = if d.len() >= 12 {
        (&d[8..10], &d[10..12])
    } else {
        ("00", "00")
    };
    let s = format!("{}-{}-{}T{hh}:{mm}:{sec}Z", &d[0..4], &d[4..6], &d[6..8]);
    crate::approval::normalize_time(&s, false).ok_or_else(bad)
}

/// An OpenSSH pattern: `*` any run, `?` one character; ASCII case ignored.
fn matches(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let s: Vec<char> = s.to_ascii_lowercase().chars().collect();
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests;
