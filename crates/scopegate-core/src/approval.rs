//! The approvals ledger, `.scopegate/approvals.yaml`: append-only records of approved
//! changes, each bound to exact access by its keys.
//!
//! Owns the ledger format, key syntax (`<app-id>:<scope>`), timestamps, and the text
//! that `scopegate approve` appends. It parses and formats; it reads and writes no
//! files (the CLI does, atomically).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::scope::Scope;
use crate::yaml::{self, FileKind, LoadError, Pos, Problem};

mod walk;

/// Where the ledger lives, relative to the repository root.
pub const PATH: &str = ".scopegate/approvals.yaml";

/// The header of a new ledger file.
pub(crate) const HEADER: &str = "# scopegate approvals ledger. Append-only: `scopegate approve` adds entries;\n# editing or deleting an entry that was already released fails the gate.\napprovals:\n";

/// The scopegate approvals ledger: append-only records of approved changes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scopegate approvals ledger")]
struct RawLedger {
    #[serde(default)]
    #[schemars(with = "Option<Vec<RawEntry>>")]
    approvals: Option<Vec<Spanned<RawEntry>>>,
}

/// One approval. Needs a `ticket` or a `reason`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Approval")]
struct RawEntry {
    /// `<app-id>:<scope>` keys, exactly as `scopegate gate` prints them; also
    /// `<app-id>:*removed*` and `<app-id>:*id-changed-from:<old-id>*`.
    #[schemars(with = "Vec<String>")]
    keys: Vec<Spanned<String>>,
    /// Who approved.
    by: String,
    /// When: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`.
    #[schemars(with = "String")]
    at: Spanned<String>,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    /// Last day (UTC) the approval counts.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    expires: Option<Spanned<String>>,
    /// Limit the approval to these tenants.
    #[serde(default)]
    tenants: Vec<String>,
    /// An SSH signature (`-----BEGIN SSH SIGNATURE-----`, namespace `scopegate-approval`)
    /// over the entry's canonical content, written by `scopegate approve --sign`.
    #[serde(default)]
    signature: Option<String>,
}

/// The JSON Schema of the ledger (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawLedger)).unwrap_or_default()
}

/// `<app-id>:<target>`: exactly what an approval covers. The target is a scope (the
/// access), or a change of the app's identity, which is never a scope: `*removed*`
/// (gating stops for the app) or `*id-changed-from:<old-id>*` (the manifest at a
/// path now claims this id). The stars keep them apart from every SMART scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) app: String,
    pub(crate) target: Target,
}

/// What a [`Key`] approves for its app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Scope(Scope),
    /// The app, gated at the baseline, has no manifest at head.
    Removed,
    /// The manifest that had id `from` at the baseline now has this key's id.
    IdChanged {
        from: String,
    },
}

const REMOVED: &str = "*removed*";
const ID_CHANGED: &str = "*id-changed-from:";

impl Target {
    /// The scope this target approves; `None` for an identity change.
    pub(crate) fn scope(&self) -> Option<&Scope> {
        match self {
            Target::Scope(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Target, String> {
        if s == REMOVED {
            return Ok(Target::Removed);
        }
        if let Some(from) = s.strip_prefix(ID_CHANGED).and_then(|r| r.strip_suffix('*')) {
            if from.is_empty() || from.contains(['*', ':']) {
                return Err(format!("`{s}` does not name the old app id"));
            }
            return Ok(Target::IdChanged {
                from: from.to_string(),
            });
        }
        Scope::parse_shown(s)
            .map(Target::Scope)
            .map_err(|e| e.to_string())
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Scope(s) => write!(f, "{s}"),
            Target::Removed => f.write_str(REMOVED),
            Target::IdChanged { from } => write!(f, "{ID_CHANGED}{from}*"),
        }
    }
}

impl Key {
    pub(crate) fn parse(s: &str) -> Result<Key, String> {
        let (app, target) = s
            .split_once(':')
            .ok_or_else(|| format!("key `{s}` is not `<app-id>:<scope>`"))?;
        if app.is_empty() {
            return Err(format!("key `{s}` has no app id"));
        }
        // An invalid token is keyed in double quotes, exactly as the gate shows it, so a
        // typo in a key stays an error rather than approving a token nobody requested.
        let target = Target::parse(target).map_err(|e| {
            let quoted = if target.starts_with('"') || e.contains("old app id") {
                String::new()
            } else {
                format!(
                    " (to approve the invalid token itself, key it as the gate shows it: `{app}:{}`)",
                    crate::scope::quote_invalid(target)
                )
            };
            format!("key `{s}`: {e}{quoted}")
        })?;
        Ok(Key {
            app: app.to_string(),
            target,
        })
    }

    /// The removal of `app`.
    pub(crate) fn removed(app: &str) -> Key {
        Key {
            app: app.to_string(),
            target: Target::Removed,
        }
    }

    /// `app`, which was `from` at the baseline.
    pub(crate) fn id_changed(app: &str, from: &str) -> Key {
        Key {
            app: app.to_string(),
            target: Target::IdChanged {
                from: from.to_string(),
            },
        }
    }

    /// The scope this key approves for its app; `None` for an identity change.
    pub(crate) fn scope(&self) -> Option<&Scope> {
        self.target.scope()
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.app, self.target)
    }
}

/// One ledger entry. Equality ignores where it was written, so a moved comment is not
/// a rewrite but a changed key, approver, date or reason is.
#[derive(Clone, Debug)]
pub struct Entry {
    pub(crate) keys: Vec<Key>,
    pub(crate) by: String,
    /// Normalised `YYYY-MM-DDTHH:MM:SSZ`.
    pub(crate) at: String,
    pub(crate) ticket: Option<String>,
    pub(crate) reason: Option<String>,
    /// Normalised; the entry no longer counts from this instant on.
    pub(crate) expires: Option<String>,
    pub(crate) tenants: Vec<String>,
    /// The armored SSH signature, when the entry is signed ([`crate::signature`]).
    pub signature: Option<String>,
    pub(crate) pos: Pos,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Entry) -> bool {
        (
            &self.keys,
            &self.by,
            &self.at,
            &self.ticket,
            &self.reason,
            &self.expires,
            &self.tenants,
            &self.signature,
        ) == (
            &o.keys,
            &o.by,
            &o.at,
            &o.ticket,
            &o.reason,
            &o.expires,
            &o.tenants,
            &o.signature,
        )
    }
}

impl Eq for Entry {}

/// Hashes what equality compares, so that the ledger's entries can be matched in
/// linear time (a ledger grows for the life of a repository).
impl std::hash::Hash for Entry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (
            &self.keys,
            &self.by,
            &self.at,
            &self.ticket,
            &self.reason,
            &self.expires,
            &self.tenants,
        )
            .hash(h);
    }
}

impl Entry {
    pub(crate) fn expired_at(&self, now: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e <= now)
    }

    /// The entry is older than `max_age_days` at `now` (both normalised timestamps).
    pub(crate) fn older_than(&self, max_age_days: u32, now: &str) -> bool {
        match (parse_unix(&self.at), parse_unix(now)) {
            (Some(at), Some(now)) => now.saturating_sub(at) > u64::from(max_age_days) * 86_400,
            // An unreadable time cannot show the entry is young enough.
            _ => true,
        }
    }
}

/// One entry as read from the file, before its keys and times are checked: the same
/// whichever reader read it.
#[derive(Debug, PartialEq)]
struct Draft {
    pos: Pos,
    keys: Vec<(String, Pos)>,
    by: String,
    at: (String, Pos),
    ticket: Option<String>,
    reason: Option<String>,
    expires: Option<(String, Pos)>,
    tenants: Vec<String>,
    signature: Option<String>,
}

impl From<Spanned<RawEntry>> for Draft {
    fn from(e: Spanned<RawEntry>) -> Draft {
        let pos = Pos::of(&e);
        let e = e.value;
        let spanned = |s: Spanned<String>| {
            let pos = Pos::of(&s);
            (s.value, pos)
        };
        Draft {
            pos,
            keys: e.keys.into_iter().map(spanned).collect(),
            by: e.by,
            at: spanned(e.at),
            ticket: e.ticket,
            reason: e.reason,
            expires: e.expires.map(spanned),
            tenants: e.tenants,
            signature: e.signature,
        }
    }
}

/// Parses the ledger; an empty file is an empty ledger.
///
/// A ledger in the plain shape `scopegate approve` writes is read straight from the
/// YAML events (`approval/walk.rs`); anything else (an unknown or repeated key, a value of another
/// shape, a null where text is required) is read by serde, whose errors are the ones
/// reported. Both give the same entries for what both read (a property test and the
/// `ledger_load` fuzz target hold them to it).
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Vec<Entry>, LoadError> {
    let text = yaml::text_of(FileKind::Ledger, path, bytes)?;
    let drafts = match walk::read(text) {
        Some(drafts) => drafts,
        None => by_serde(path, text)?,
    };
    check(path, drafts)
}

/// The ledger read through serde (the reference reader, and the one that words the
/// errors).
fn by_serde(path: &str, text: &str) -> Result<Vec<Draft>, LoadError> {
    let raw: RawLedger = yaml::parse(FileKind::Ledger, path, text)?;
    Ok(raw
        .approvals
        .unwrap_or_default()
        .into_iter()
        .map(Draft::from)
        .collect())
}

/// Whether the two readers agree on `text`: the walk reads nothing serde reads
/// otherwise. For the fuzz target and tests.
#[cfg(any(test, feature = "fuzzing"))]
pub fn readers_agree(text: &str) -> bool {
    match walk::read(text) {
        None => true,
        Some(fast) => by_serde("l", text).is_ok_and(|slow| slow == fast),
    }
}

/// Checks each entry's keys, times and required fields; every problem is reported.
fn check(path: &str, drafts: Vec<Draft>) -> Result<Vec<Entry>, LoadError> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for e in drafts {
        let pos = e.pos;
        let mut keys = Vec::new();
        for (k, at) in &e.keys {
            match Key::parse(k) {
                Ok(key) => keys.push(key),
                Err(m) => problems.push(Problem {
                    pos: *at,
                    message: m,
                    hint: None,
                }),
            }
        }
        if e.keys.is_empty() {
            problems.push(Problem {
                pos,
                message: "an approval needs at least one key".into(),
                hint: None,
            });
        }
        if e.ticket.is_none() && e.reason.is_none() {
            problems.push(Problem {
                pos,
                message: "an approval needs a `ticket` or a `reason`".into(),
                hint: None,
            });
        }
        let at = match normalize_time(&e.at.0, false) {
            Some(t) => t,
            None => {
                problems.push(bad_time(&e.at));
                String::new()
            }
        };
        let expires = match &e.expires {
            None => None,
            Some(x) => match normalize_time(&x.0, true) {
                Some(t) => Some(t),
                None => {
                    problems.push(bad_time(x));
                    None
                }
            },
        };
        entries.push(Entry {
            keys,
            by: e.by,
            at,
            ticket: e.ticket,
            reason: e.reason,
            expires,
            tenants: e.tenants,
            signature: e.signature,
            pos,
        });
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(LoadError {
            path: path.to_string(),
            problems,
        })
    }
}

fn bad_time((value, pos): &(String, Pos)) -> Problem {
    Problem {
        pos: *pos,
        message: format!("`{value}` is not a date or UTC timestamp"),
        hint: Some("use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ".into()),
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` to the latter. A bare date used as an expiry
/// means "through the end of that day (UTC)".
pub fn normalize_time(s: &str, end_of_day: bool) -> Option<String> {
    // Byte slicing below is only sound on ASCII (a fuzzed date held a multi-byte char).
    if !s.is_ascii() {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        s.get(r)
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
    };
    let date_ok = s.len() >= 10
        && digits(0..4)
        && &s[4..5] == "-"
        && digits(5..7)
        && &s[7..8] == "-"
        && digits(8..10)
        && (1..=12).contains(&s[5..7].parse::<u32>().ok()?)
        && (1..=31).contains(&s[8..10].parse::<u32>().ok()?);
    if !date_ok {
        return None;
    }
    if s.len() == 10 {
        let time = if end_of_day { "23:59:59" } else { "00:00:00" };
        return Some(format!("{s}T{time}Z"));
    }
    let time_ok = s.len() == 20
        && &s[10..11] == "T"
        && digits(11..13)
        && &s[13..14] == ":"
        && digits(14..16)
        && &s[16..17] == ":"
        && digits(17..19)
        && &s[19..20] == "Z"
        && s[11..13].parse::<u32>().ok()? < 24
        && s[14..16].parse::<u32>().ok()? < 60
        && s[17..19].parse::<u32>().ok()? < 61;
    time_ok.then(|| s.to_string())
}

/// A normalised `YYYY-MM-DDTHH:MM:SSZ` as seconds since the Unix epoch (the inverse of
/// [`format_unix`]); `None` before 1970 or when not normalised.
pub(crate) fn parse_unix(s: &str) -> Option<u64> {
    let t = normalize_time(s, false)?;
    u64::try_from(crate::instant::parse(&t)?.div_euclid(1000)).ok()
}

/// Seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn format_unix(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    crate::instant::format(secs.saturating_mul(1000))
}

/// What `approve` appends for one entry. JSON strings are valid YAML scalars, so user
/// text cannot break the file.
pub struct NewEntry<'a> {
    pub keys: &'a [String],
    pub by: &'a str,
    pub at: &'a str,
    pub ticket: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub expires: Option<&'a str>,
    pub tenants: &'a [String],
    /// The armored signature, written as a literal block.
    pub signature: Option<&'a str>,
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// The ledger text with `entry` appended, leaving every existing byte as it was.
///
/// The result is parsed back before it is returned: it must hold exactly one more
/// entry. A ledger laid out so that text cannot be appended safely (a flow-style list,
/// YAML tags) is refused with a message, never written broken.
pub fn append(existing: Option<&str>, entry: &NewEntry<'_>) -> Result<String, String> {
    let before = match existing {
        Some(t) => from_bytes(PATH, t.as_bytes())
            .map_err(|e| e.to_string())?
            .len(),
        None => 0,
    };
    let text = append_text(existing, entry);
    match from_bytes(PATH, text.as_bytes()) {
        Ok(after) if after.len() == before + 1 => Ok(text),
        _ => Err(format!(
            "cannot append to {PATH} without rewriting it: write `approvals:` as a block list (`- keys: …` items), without YAML tags or flow style"
        )),
    }
}

fn append_text(existing: Option<&str>, entry: &NewEntry<'_>) -> String {
    let mut out = match existing {
        Some(t) if !t.trim().is_empty() => t.to_string(),
        _ => HEADER.to_string(),
    };
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.lines().any(|l| l.starts_with("approvals:")) {
        out.push_str("approvals:\n");
    }
    // Indent like the entries already there, so the sequence stays one sequence.
    let indent = out
        .lines()
        .filter(|l| l.trim_start().starts_with("- ") && !l.starts_with('#'))
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(2);
    let pad = " ".repeat(indent);
    out.push_str(&format!("{pad}- keys:\n"));
    for k in entry.keys {
        out.push_str(&format!("{pad}    - {}\n", q(k)));
    }
    out.push_str(&format!("{pad}  by: {}\n", q(entry.by)));
    out.push_str(&format!("{pad}  at: {}\n", q(entry.at)));
    for (name, v) in [
        ("ticket", entry.ticket),
        ("reason", entry.reason),
        ("expires", entry.expires),
    ] {
        if let Some(v) = v {
            out.push_str(&format!("{pad}  {name}: {}\n", q(v)));
        }
    }
    if !entry.tenants.is_empty() {
        let t: Vec<String> = entry.tenants.iter().map(|s| q(s)).collect();
        out.push_str(&format!("{pad}  tenants: [{}]\n", t.join(", ")));
    }
    if let Some(sig) = entry.signature {
        // Armor is base64 and dashes: nothing in it can end a literal block early.
        out.push_str(&format!("{pad}  signature: |\n"));
        for l in sig.lines() {
            out.push_str(&format!("{pad}    {l}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry<'a>(keys: &'a [String]) -> NewEntry<'a> {
        NewEntry {
            keys,
            by: "alice",
            at: "2026-11-28T10:00:00Z",
            ticket: Some("SEC-1"),
            reason: Some("needed for \"refill\": yes"),
            expires: Some("2027-01-31"),
            tenants: &[],
            signature: None,
        }
    }

    #[test]
    fn appending_to_nothing_writes_a_header_and_parses_back() {
        let keys = vec!["med-rec:patient/MedicationStatement.c".to_string()];
        let t = append(None, &entry(&keys)).unwrap();
        let e = from_bytes("l", t.as_bytes()).unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].keys[0].to_string(),
            "med-rec:patient/MedicationStatement.c"
        );
        assert_eq!(e[0].reason.as_deref(), Some("needed for \"refill\": yes"));
        assert_eq!(e[0].expires.as_deref(), Some("2027-01-31T23:59:59Z"));
    }

    #[test]
    fn appending_keeps_existing_bytes_and_comments() {
        let keys = vec!["a:openid".to_string()];
        let first = append(None, &entry(&keys)).unwrap();
        let with_comment = first.replace("approvals:\n", "approvals:\n# reviewed in SEC-1\n");
        let second = append(Some(&with_comment), &entry(&keys)).unwrap();
        assert!(second.starts_with(&with_comment));
        assert_eq!(from_bytes("l", second.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn appending_follows_existing_indentation() {
        let existing =
            "approvals:\n- keys: [\"a:openid\"]\n  by: bob\n  at: 2026-01-01\n  ticket: T\n";
        let keys = vec!["a:fhirUser".to_string()];
        let t = append(Some(existing), &entry(&keys)).unwrap();
        assert_eq!(from_bytes("l", t.as_bytes()).unwrap().len(), 2, "{t}");
    }

    #[test]
    fn entries_need_a_ticket_or_reason_and_valid_keys_and_dates() {
        let e = from_bytes(
            "l",
            b"approvals:\n  - keys: [nocolon, \"a:patient/X.sr\"]\n    by: x\n    at: yesterday\n",
        )
        .unwrap_err();
        assert_eq!(e.problems.len(), 4, "{e}");
    }

    #[test]
    fn identity_keys_parse_typed_and_print_back() {
        let k = Key::parse("legacy:*removed*").unwrap();
        assert_eq!(k, Key::removed("legacy"));
        assert_eq!(k.scope(), None);
        let k = Key::parse("billing:*id-changed-from:scheduler*").unwrap();
        assert_eq!(k, Key::id_changed("billing", "scheduler"));
        assert_eq!(k.to_string(), "billing:*id-changed-from:scheduler*");
        assert!(
            Key::parse("a:patient/Observation.rs")
                .unwrap()
                .scope()
                .is_some()
        );
        assert!(Key::parse("a:*id-changed-from:*").is_err());
        // Written by `approve`, read back by the gate.
        let keys = vec!["legacy:*removed*".to_string()];
        let t = append(None, &entry(&keys)).unwrap();
        assert_eq!(
            from_bytes("l", t.as_bytes()).unwrap()[0].keys[0],
            Key::removed("legacy")
        );
    }

    #[test]
    fn an_empty_ledger_is_empty() {
        assert!(from_bytes("l", HEADER.as_bytes()).unwrap().is_empty());
        assert!(from_bytes("l", b"").unwrap().is_empty());
    }

    #[test]
    fn a_ledger_that_cannot_take_appended_text_is_refused() {
        let keys = vec!["a:openid".to_string()];
        let flow = "approvals: [{keys: [\"a:launch\"], by: bob, at: 2026-01-01, reason: r}]\n";
        assert!(append(Some(flow), &entry(&keys)).is_err());
        // Regression (ledger_load fuzz target): a tagged `approvals` key was not seen,
        // so a second `approvals:` was appended.
        assert!(append(Some("!a#K approvals:\n"), &entry(&keys)).is_err());
    }

    #[test]
    fn a_comment_only_ledger_is_still_parsed() {
        // Regression (found by the ledger_load fuzz target): comment-only files skipped
        // the parser, so a control character loaded, and appending to it then failed.
        assert!(from_bytes("l", b"# c\x01omment\n").is_err());
        assert!(
            from_bytes("l", b"# just a comment\napprovals:\n")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn timestamps_normalise_and_validate() {
        assert_eq!(
            normalize_time("2026-02-03", false).as_deref(),
            Some("2026-02-03T00:00:00Z")
        );
        assert_eq!(
            normalize_time("2026-02-03T04:05:06Z", true).as_deref(),
            Some("2026-02-03T04:05:06Z")
        );
        assert_eq!(normalize_time("2026-13-01", false), None);
        assert_eq!(normalize_time("4052\u{65b}dddddd", false), None);
        assert_eq!(normalize_time("2026-02-03T04:05:06+01:00", false), None);
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_unix(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(format_unix(951_782_400), "2000-02-29T00:00:00Z");
        for secs in [0, 951_782_400, 1_795_000_000, 4_107_542_399, 86_399, 86_400] {
            assert_eq!(parse_unix(&format_unix(secs)), Some(secs), "{secs}");
        }
        assert_eq!(parse_unix("2026-02-03"), parse_unix("2026-02-03T00:00:00Z"));
        assert_eq!(parse_unix("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_unix("yesterday"), None);
    }
}

#[cfg(test)]
mod readers {
    //! The walk against serde: the same entries for every ledger the walk reads, and
    //! the walk really reading the plain ones.

    use proptest::prelude::*;

    use super::{readers_agree, walk};

    /// A value as someone might write it: plain, quoted, null, empty, tagged, a list.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => Just("alice".to_string()),
            3 => Just("\"2026-01-02T03:04:05Z\"".to_string()),
            3 => Just("2026-01-02".to_string()),
            2 => Just("'SEC-1'".to_string()),
            1 => Just("~".to_string()),
            1 => Just(String::new()),
            1 => Just("123".to_string()),
            1 => Just("!!str x".to_string()),
            1 => Just("[a, b]".to_string()),
            1 => Just("{a: b}".to_string()),
            1 => Just("\"a\\u2028b\"".to_string()),
        ]
    }

    fn keys() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => Just("[\"app:patient/Observation.rs\"]".to_string()),
            3 => Just("\n      - \"app:patient/Observation.rs\"\n      - app:*removed*".to_string()),
            1 => Just("[]".to_string()),
            1 => Just("~".to_string()),
            1 => Just("[~]".to_string()),
            1 => Just("app:x".to_string()),
            1 => Just("[[a]]".to_string()),
        ]
    }

    /// An entry: the usual fields in some order, some left out, some repeated or
    /// unknown.
    fn entry() -> impl Strategy<Value = String> {
        let field = prop_oneof![
            3 => keys().prop_map(|k| format!("keys: {k}")),
            3 => value().prop_map(|v| format!("by: {v}")),
            3 => value().prop_map(|v| format!("at: {v}")),
            2 => value().prop_map(|v| format!("ticket: {v}")),
            2 => value().prop_map(|v| format!("reason: {v}")),
            1 => value().prop_map(|v| format!("expires: {v}")),
            1 => keys().prop_map(|k| format!("tenants: {k}")),
            1 => value().prop_map(|v| format!("signature: {v}")),
            1 => value().prop_map(|v| format!("tickt: {v}")),
        ];
        proptest::collection::vec(field, 0..7).prop_map(|fs| {
            let mut e = String::new();
            for (i, f) in fs.iter().enumerate() {
                e.push_str(if i == 0 { "  - " } else { "    " });
                e.push_str(f);
                e.push('\n');
            }
            if e.is_empty() {
                "  - {}\n".to_string()
            } else {
                e
            }
        })
    }

    /// A plain entry, the shape `scopegate approve` writes.
    fn plain_entry() -> impl Strategy<Value = String> {
        (0u32..100, proptest::option::of("[a-z ]{1,12}"), proptest::bool::ANY).prop_map(
            |(n, reason, tenants)| {
                let mut e = format!(
                    "  - keys:\n      - \"app:patient/Observation.rs?code=c{n}\"\n    by: \"alice\"\n    at: \"2026-01-02T03:04:05Z\"\n    ticket: \"SEC-{n}\"\n"
                );
                if let Some(r) = reason {
                    e.push_str(&format!("    reason: \"{r}\"\n"));
                }
                if tenants {
                    e.push_str("    tenants: [\"north\", south]\n");
                }
                e
            },
        )
    }

    proptest! {
        #[test]
        fn the_walk_reads_nothing_serde_reads_otherwise(
            entries in proptest::collection::vec(entry(), 0..4),
            header in prop_oneof![Just("approvals:\n"), Just("# c\napprovals:\n"), Just("approvals: ~\n"), Just("other: 1\napprovals:\n")],
        ) {
            let text = format!("{header}{}", entries.concat());
            prop_assert!(readers_agree(&text), "{}", text);
        }

        #[test]
        fn the_walk_reads_the_plain_shape(entries in proptest::collection::vec(plain_entry(), 0..6)) {
            let text = format!("{}{}", super::HEADER, entries.concat());
            prop_assert!(walk::read(&text).is_some(), "{}", text);
            prop_assert!(readers_agree(&text), "{}", text);
        }
    }

    /// Past the fast path's size threshold the reader tokenises with the YAML subset
    /// parser: the same entries again.
    #[test]
    fn a_large_plain_ledger_reads_the_same() {
        let mut text = super::HEADER.to_string();
        for n in 0..600 {
            text.push_str(&format!(
                "  - keys:\n      - \"app:patient/Observation.rs?category=c{n}\"\n    by: \"alice\"\n    at: \"2026-01-02T03:04:05Z\"\n    ticket: \"SEC-{n}\"\n    reason: \"Category reviewed.\"\n"
            ));
        }
        assert!(text.len() > crate::yaml::FAST_PATH_MIN_BYTES);
        assert_eq!(walk::read(&text).map(|d| d.len()), Some(600));
        assert!(readers_agree(&text));
    }

    #[test]
    fn what_serde_refuses_the_walk_leaves_to_serde() {
        for t in [
            "approvals:\n  - keys: [\"a:patient/Patient.rs\"]\n    by: ~\n    at: 2026-01-01\n    ticket: T\n",
            "approvals:\n  - keys: [\"a:patient/Patient.rs\"]\n    by: a\n    by: b\n    at: 2026-01-01\n",
            "approvals:\n  - keys: [\"a:patient/Patient.rs\"]\n    by: a\n    at: 2026-01-01\n    tickt: T\n",
            "approvals: []\napprovals: []\n",
            "approvals:\n  - &x keys: [\"a:patient/Patient.rs\"]\n",
        ] {
            assert!(walk::read(t).is_none(), "{t}");
            assert!(super::from_bytes("l", t.as_bytes()).is_err(), "{t}");
        }
    }
}
