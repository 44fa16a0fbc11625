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
        self.recorded() == o.recorded() && self.signature == o.signature
    }
}

impl Eq for Entry {}

/// Hashes what equality compares but the signature's text (equal entries hash alike),
/// so that the ledger's entries can be matched in linear time (a ledger grows for the
/// life of a repository).
impl std::hash::Hash for Entry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.recorded().hash(h);
    }
}

/// An entry's fields as the approval it records: what a signature signs
/// (`signature::canonical`), without the signature or where it was written.
type Recorded<'e> = (
    &'e [Key],
    &'e str,
    &'e str,
    Option<&'e str>,
    Option<&'e str>,
    Option<&'e str>,
    &'e [String],
);

impl Entry {
    /// The approval the entry records: equal for a copy whatever its signature's text
    /// (armor re-wrapped, `|+`), which verification reads trimmed.
    pub(crate) fn recorded(&self) -> Recorded<'_> {
        (
            &self.keys,
            &self.by,
            &self.at,
            self.ticket.as_deref(),
            self.reason.as_deref(),
            self.expires.as_deref(),
            &self.tenants,
        )
    }

    pub(crate) fn expired_at(&self, now: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e <= now)
    }

    /// The entry is dated more than a day after `now` (both normalised timestamps): an
    /// age counted from a future `at` is nothing, so such an entry would outlive
    /// `approval_max_age`. A day allows for a clock that ran ahead where it was written.
    pub(crate) fn dated_after(&self, now: &str) -> bool {
        match (parse_unix(&self.at), parse_unix(now)) {
            (Some(at), Some(now)) => at > now.saturating_add(86_400),
            _ => true,
        }
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
    // (Sized up front: a ledger of thousands of entries grew by doubling, touching
    // twice the memory it kept.)
    let mut entries = Vec::with_capacity(drafts.len());
    for e in drafts {
        let pos = e.pos;
        let mut keys = Vec::with_capacity(e.keys.len());
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
        Some(t) => from_bytes(PATH, t.as_bytes()).map_err(|e| e.to_string())?,
        None => Vec::new(),
    };
    let text = append_text(existing, entry);
    // Exactly one entry more, and every entry before it read as it was (the text
    // appended must not change how the text before it reads).
    match from_bytes(PATH, text.as_bytes()) {
        Ok(after)
            if after.len() == before.len() + 1
                && after.iter().zip(&before).all(|(a, b)| a == b) =>
        {
            Ok(text)
        }
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
mod tests;
