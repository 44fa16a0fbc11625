//! The app's scope manifest: bytes in, a validated [`Manifest`] (or every problem with
//! its `line:column`) out.
//!
//! Owns the file format and its JSON Schema. It parses each scope token with
//! [`crate::scope`] but does not judge the scopes: invalid tokens are kept as data for
//! the lint, so that `check` reports them as findings. It does no I/O itself.

use std::collections::BTreeSet;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::fhir::FhirVersion;
use crate::hint::did_you_mean;
use crate::scope::{Scope, ScopeError};

/// Manifests larger than this are refused before parsing: a CI gate must not be held
/// by a huge file. 5,000 scopes with rationales and 500 workflows are about 1 MiB.
pub const MAX_BYTES: usize = 8 << 20;
/// Deeper nesting than any manifest needs is refused (the format is 4 levels deep).
const MAX_DEPTH: usize = 32;

/// A place in the manifest file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    fn of<T>(s: &Spanned<T>) -> Pos {
        Pos {
            line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How the app is launched (SMART App Launch: EHR launch, standalone launch, and
/// Backend Services).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LaunchMode {
    Ehr,
    Standalone,
    Backend,
}

// ---- the file format (what serde reads; also the JSON Schema) ----

/// A SMART-on-FHIR app's scope manifest: the scopes it requests, each with a rationale,
/// and the workflows that need them.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scopegate manifest")]
struct RawManifest {
    /// Stable app id: letters, digits, `.`, `_`, `-`. Approval keys start with it.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    id: Spanned<String>,
    /// Human-readable app name.
    #[serde(default)]
    name: Option<String>,
    /// FHIR release the app talks to: STU3, R4 (default), R4B or R5.
    #[serde(default)]
    #[schemars(with = "Option<FhirVersionName>")]
    fhir_version: Option<Spanned<String>>,
    /// How the app is launched.
    #[serde(default)]
    #[schemars(with = "Vec<LaunchMode>")]
    launch: Vec<Spanned<LaunchMode>>,
    /// The scopes the app requests, one token per entry.
    #[schemars(with = "Vec<RawScope>")]
    scopes: Vec<Spanned<RawScope>>,
    /// What the app does, each with the access it needs.
    #[serde(default)]
    #[schemars(with = "Vec<RawWorkflow>")]
    workflows: Vec<Spanned<RawWorkflow>>,
}

/// The FHIR releases a manifest may name (numeric spellings are accepted too).
#[derive(JsonSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
enum FhirVersionName {
    STU3,
    R4,
    R4B,
    R5,
    #[schemars(rename = "3.0.2")]
    V302,
    #[schemars(rename = "4.0.1")]
    V401,
    #[schemars(rename = "4.3.0")]
    V430,
    #[schemars(rename = "5.0.0")]
    V500,
}

/// One requested scope.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScopeEntry")]
struct RawScope {
    /// One SMART scope token, e.g. `patient/Observation.rs?category=laboratory`.
    #[schemars(with = "String")]
    scope: Spanned<String>,
    /// Why the app needs it, for reviewers and consent screens.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    rationale: Option<Spanned<String>>,
}

/// One workflow: a thing the app does for its users.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Workflow")]
struct RawWorkflow {
    /// Stable workflow id.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    id: Spanned<String>,
    /// What the workflow does.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    description: Option<Spanned<String>>,
    /// The access it needs, in scope syntax.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    needs: Vec<Spanned<String>>,
    /// Present when the workflow runs with no user present (needs `offline_access`).
    #[serde(default)]
    #[schemars(with = "Option<RawOffline>")]
    offline: Option<Spanned<RawOffline>>,
}

/// Why a workflow needs a refresh token usable with no user online.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Offline")]
struct RawOffline {
    /// The reason, tied to a clinical workflow.
    #[schemars(with = "String")]
    reason: Spanned<String>,
}

/// The JSON Schema of the manifest format (draft 2020-12).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RawManifest)).unwrap_or_default()
}

// ---- the validated model ----

/// Text written in the manifest, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub pos: Pos,
}

impl Text {
    fn of(s: Spanned<String>) -> Text {
        Text {
            pos: Pos::of(&s),
            value: s.value,
        }
    }

    /// Empty, or a placeholder left by `scopegate init`.
    pub fn is_placeholder(&self) -> bool {
        let t = self.value.trim();
        t.is_empty() || t.starts_with("TODO")
    }
}

/// A scope token as written, and what it parsed to.
#[derive(Clone, Debug)]
pub struct Token {
    pub text: Text,
    pub parsed: Result<Scope, ScopeError>,
}

impl Token {
    fn of(s: Spanned<String>) -> Token {
        let parsed = Scope::parse(&s.value);
        Token {
            text: Text::of(s),
            parsed,
        }
    }

    pub fn scope(&self) -> Option<&Scope> {
        self.parsed.as_ref().ok()
    }
}

#[derive(Clone, Debug)]
pub struct ScopeEntry {
    pub token: Token,
    /// Where the entry starts (its `- ` item).
    pub pos: Pos,
    pub rationale: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Workflow {
    pub id: Text,
    pub description: Option<Text>,
    pub needs: Vec<Token>,
    pub offline: Option<Text>,
    pub pos: Pos,
}

#[derive(Clone, Debug)]
pub struct Manifest {
    /// The path as the user gave it, for messages and annotations.
    pub path: String,
    pub id: Text,
    pub name: Option<String>,
    pub fhir_version: FhirVersion,
    pub launch: Vec<LaunchMode>,
    pub scopes: Vec<ScopeEntry>,
    pub workflows: Vec<Workflow>,
}

impl Manifest {
    /// The parsed scopes the app requests (invalid tokens left out).
    pub fn requested(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter().filter_map(|e| e.token.scope())
    }
}

/// One reason a manifest could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// A manifest that could not be loaded, with every problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: error: {}", self.path, p.pos, p.message)?;
            if let Some(h) = &p.hint {
                write!(f, "\n  hint: {h}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

fn fail(path: &str, pos: Pos, message: impl Into<String>, hint: Option<String>) -> LoadError {
    LoadError {
        path: path.to_string(),
        problems: vec![Problem {
            pos,
            message: message.into(),
            hint,
        }],
    }
}

/// Loads a manifest from raw bytes; `path` is only used in messages.
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Manifest, LoadError> {
    if bytes.len() > MAX_BYTES {
        return Err(fail(
            path,
            Pos { line: 1, column: 1 },
            format!("the file is larger than {MAX_BYTES} bytes, the most a manifest may be"),
            None,
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let col = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        fail(
            path,
            Pos {
                line: line as u32,
                column: col as u32,
            },
            "the file is not valid UTF-8",
            Some("save the manifest as UTF-8".into()),
        )
    })?;
    from_str(path, text)
}

/// Loads a manifest from text; `path` is only used in messages.
pub fn from_str(path: &str, text: &str) -> Result<Manifest, LoadError> {
    if text.trim().is_empty() {
        return Err(fail(
            path,
            Pos { line: 1, column: 1 },
            "the manifest is empty",
            Some("start from `scopegate init --scopes \"…\"`".into()),
        ));
    }
    let opts = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            // A manifest needs no anchors; refusing them stops alias bombs outright.
            max_anchors: 0,
            max_aliases: 0,
            max_reader_input_bytes: Some(MAX_BYTES),
        },
    };
    let raw: RawManifest =
        serde_saphyr::from_str_with_options(text, opts).map_err(|e| yaml_error(path, &e))?;
    validate(path, raw)
}

fn yaml_error(path: &str, e: &serde_saphyr::Error) -> LoadError {
    let pos = e
        .location()
        .map(|l| Pos {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
        })
        .unwrap_or(Pos { line: 1, column: 1 });
    let full = e.to_string();
    let msg = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    let (message, hint) = explain_yaml_message(&msg);
    fail(path, pos, message, hint)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" into the name and a
/// "did you mean" hint (or the list of choices).
fn unknown_with_choices(msg: &str, prefix: &str, choices: &str) -> Option<(String, String)> {
    let (name, expected) = msg.strip_prefix(prefix)?.split_once("`, expected ")?;
    let options: Vec<&str> = expected
        .trim_start_matches("one of ")
        .split(", ")
        .map(|s| s.trim_matches('`'))
        .collect();
    let hint = match did_you_mean(name, options.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("{choices}: {}", options.join(", ")),
    };
    Some((name.to_string(), hint))
}

/// Turns the YAML library's wording into ours, with a hint where one helps.
fn explain_yaml_message(msg: &str) -> (String, Option<String>) {
    if let Some((field, hint)) = unknown_with_choices(msg, "unknown field `", "known keys here") {
        return (format!("unknown key `{field}`"), Some(hint));
    }
    if let Some((v, hint)) = unknown_with_choices(msg, "unknown variant `", "expected one of") {
        return (format!("unknown value `{v}`"), Some(hint));
    }
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return (format!("duplicate key `{key}`"), None);
    }
    if msg.contains("budget breached: Anchors") || msg.contains("budget breached: Aliases") {
        return (
            "YAML anchors and aliases are not allowed in a manifest".into(),
            Some("write each value out in full".into()),
        );
    }
    if msg.contains("budget breached: Depth") || msg.contains("depth") {
        return (
            format!("the YAML is nested deeper than {MAX_DEPTH} levels"),
            None,
        );
    }
    if msg.contains("budget breached") {
        return (
            format!("the YAML is too large to be a manifest ({msg})"),
            None,
        );
    }
    if msg.starts_with("missing field `") {
        let f = msg
            .trim_start_matches("missing field `")
            .trim_end_matches('`');
        return (format!("missing required key `{f}`"), None);
    }
    (msg.to_string(), None)
}

fn valid_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn parse_fhir_version(s: &str) -> Option<FhirVersion> {
    FhirVersion::parse(s).or(match s {
        "3.0.2" => Some(FhirVersion::Stu3),
        "4.0.1" => Some(FhirVersion::R4),
        "4.3.0" => Some(FhirVersion::R4b),
        "5.0.0" => Some(FhirVersion::R5),
        _ => None,
    })
}

fn validate(path: &str, raw: RawManifest) -> Result<Manifest, LoadError> {
    let mut problems = Vec::new();
    let mut problem = |pos: Pos, message: String, hint: Option<String>| {
        problems.push(Problem { pos, message, hint })
    };
    let id = Text::of(raw.id);
    if !valid_id(&id.value) {
        problem(
            id.pos,
            format!(
                "app id `{}` must be letters, digits, `.`, `_` or `-`",
                id.value
            ),
            None,
        );
    }
    let fhir_version = match raw.fhir_version {
        None => FhirVersion::default(),
        Some(v) => match parse_fhir_version(&v.value) {
            Some(fv) => fv,
            None => {
                let names = FhirVersion::ALL.map(FhirVersion::as_str);
                let hint = did_you_mean(&v.value, names)
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_else(|| "use STU3, R4, R4B or R5".into());
                problem(
                    Pos::of(&v),
                    format!("unknown FHIR version `{}`", v.value),
                    Some(hint),
                );
                FhirVersion::default()
            }
        },
    };
    let mut launch = Vec::new();
    for m in raw.launch {
        if launch.contains(&m.value) {
            problem(Pos::of(&m), "launch mode listed twice".into(), None);
        } else {
            launch.push(m.value);
        }
    }
    let scopes = raw
        .scopes
        .into_iter()
        .map(|s| {
            let pos = Pos::of(&s);
            ScopeEntry {
                token: Token::of(s.value.scope),
                pos,
                rationale: s.value.rationale.map(Text::of),
            }
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut workflows = Vec::new();
    for w in raw.workflows {
        let pos = Pos::of(&w);
        let w = w.value;
        let wid = Text::of(w.id);
        if !valid_id(&wid.value) {
            problem(
                wid.pos,
                format!(
                    "workflow id `{}` must be letters, digits, `.`, `_` or `-`",
                    wid.value
                ),
                None,
            );
        } else if !seen.insert(wid.value.clone()) {
            problem(
                wid.pos,
                format!("workflow id `{}` is used twice", wid.value),
                None,
            );
        }
        workflows.push(Workflow {
            id: wid,
            description: w.description.map(Text::of),
            needs: w.needs.into_iter().map(Token::of).collect(),
            offline: w.offline.map(|o| Text::of(o.value.reason)),
            pos,
        });
    }
    if !problems.is_empty() {
        return Err(LoadError {
            path: path.to_string(),
            problems,
        });
    }
    Ok(Manifest {
        path: path.to_string(),
        id,
        name: raw.name,
        fhir_version,
        launch,
        scopes,
        workflows,
    })
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
