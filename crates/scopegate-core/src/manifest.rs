//! The app's scope manifest: bytes in, a validated [`Manifest`] (or every problem with
//! its `line:column`) out.
//!
//! Owns the file format and its JSON Schema. It parses each scope token with
//! [`crate::scope`] but does not judge the scopes: invalid tokens are kept as data for
//! the lint, so that `check` reports them as findings. It does no I/O itself.
//!
//! The manifest is read straight from the YAML parser's nodes by a walker that knows
//! the format: the gate loads two manifests per run, and going through serde and
//! `Spanned` values cost as much again as the parsing. The `Raw*` types below describe
//! the format for the JSON Schema (and, in tests, are the serde reading the walker is
//! checked against).

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::fhir::FhirVersion;
use crate::hint::did_you_mean;
use crate::scope::{Scope, ScopeError};
use crate::yaml::{self, Reader, Stop, fail};
pub use crate::yaml::{LoadError, MAX_BYTES};
pub(crate) use crate::yaml::{Pos, Problem, Text};
use walk::{Draft, read};

/// How the app is launched (SMART App Launch: EHR launch, standalone launch, and
/// Backend Services).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LaunchMode {
    Ehr,
    Standalone,
    Backend,
}

// ---- the file format (the JSON Schema; what serde reads in tests) ----

/// A SMART-on-FHIR app's scope manifest: the scopes it requests, each with a rationale,
/// and the workflows that need them.
#[derive(JsonSchema)]
#[cfg_attr(test, derive(Deserialize))]
#[cfg_attr(not(test), allow(dead_code))]
#[serde(deny_unknown_fields)]
#[schemars(title = "scopegate manifest")]
struct RawManifest {
    /// Stable app id: letters, digits, `.`, `_`, `-`. Approval keys start with it.
    #[schemars(with = "String", regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"))]
    id: Spanned<String>,
    /// Human-readable app name.
    #[serde(default)]
    name: Option<String>,
    /// FHIR release the app talks to: DSTU2, STU3, R4 (default), R4B or R5.
    #[serde(default)]
    #[schemars(with = "Option<FhirVersionName>")]
    fhir_version: Option<Spanned<String>>,
    /// How the app is launched.
    #[serde(default)]
    #[schemars(with = "Vec<LaunchMode>")]
    launch: Vec<Spanned<LaunchMode>>,
    /// The scopes the app requests, one token per entry.
    #[schemars(with = "Vec<RawScope>")]
    scopes: Spanned<Vec<Spanned<RawScope>>>,
    /// What the app does, each with the access it needs.
    #[serde(default)]
    #[schemars(with = "Vec<RawWorkflow>")]
    workflows: Vec<Spanned<RawWorkflow>>,
}

/// The FHIR releases a manifest may name (numeric spellings are accepted too).
#[derive(JsonSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
enum FhirVersionName {
    DSTU2,
    STU3,
    R4,
    R4B,
    R5,
    #[schemars(rename = "1.0.2")]
    V102,
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
#[derive(JsonSchema)]
#[cfg_attr(test, derive(Deserialize))]
#[cfg_attr(not(test), allow(dead_code))]
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
#[derive(JsonSchema)]
#[cfg_attr(test, derive(Deserialize))]
#[cfg_attr(not(test), allow(dead_code))]
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
#[derive(JsonSchema)]
#[cfg_attr(test, derive(Deserialize))]
#[cfg_attr(not(test), allow(dead_code))]
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

/// A scope token as written, and what it parsed to.
#[derive(Clone, Debug)]
pub struct Token {
    pub text: Text,
    pub(crate) parsed: Result<Scope, ScopeError>,
    /// When the text does not parse: the access it still counts as (see
    /// [`Scope::access_of`]). Empty when it parses.
    pub(crate) opaque: Vec<Scope>,
}

impl Token {
    /// Parses `text` on its own.
    #[cfg(test)]
    pub(crate) fn of(text: Text) -> Token {
        let parsed = Scope::parse(&text.value);
        Token::with(text, parsed)
    }

    /// A token whose text parsed to `parsed`.
    pub(crate) fn with(text: Text, parsed: Result<Scope, ScopeError>) -> Token {
        let opaque = match &parsed {
            Ok(_) => Vec::new(),
            Err(_) => Scope::access_of(&text.value),
        };
        Token {
            text,
            parsed,
            opaque,
        }
    }

    /// The valid scope, when the text parses.
    pub(crate) fn scope(&self) -> Option<&Scope> {
        self.parsed.as_ref().ok()
    }

    /// Everything the token counts as for access: its scope, or what an invalid text
    /// still asks for (its valid pieces and its invalid ones as opaque access).
    pub(crate) fn access(&self) -> impl Iterator<Item = &Scope> {
        self.scope().into_iter().chain(&self.opaque)
    }
}

#[derive(Clone, Debug)]
pub struct ScopeEntry {
    pub token: Token,
    /// Where the entry's mapping starts: its first key, or its `{`.
    pub(crate) pos: Pos,
    pub(crate) rationale: Option<Text>,
}

#[derive(Clone, Debug)]
pub(crate) struct Workflow {
    pub(crate) id: Text,
    pub(crate) description: Option<Text>,
    pub(crate) needs: Vec<Token>,
    pub(crate) offline: Option<Text>,
}

#[derive(Clone, Debug)]
pub struct Manifest {
    /// The path as the user gave it, for messages and annotations.
    pub path: String,
    pub id: Text,
    pub(crate) name: Option<String>,
    pub(crate) fhir_version: FhirVersion,
    pub(crate) launch: Vec<LaunchMode>,
    pub scopes: Vec<ScopeEntry>,
    /// Where the `scopes:` list starts (removed scopes are reported here).
    pub(crate) scopes_pos: Pos,
    pub(crate) workflows: Vec<Workflow>,
}

impl Manifest {
    /// Everything the app requests, for the diff and the gate: every valid scope, and
    /// every invalid token as opaque access (`Token::access`): every token counts.
    pub fn requested(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter().flat_map(|e| e.token.access())
    }
}

/// Loads a manifest from raw bytes; `path` is only used in messages.
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Manifest, LoadError> {
    from_str(path, yaml::text_of(yaml::FileKind::Manifest, path, bytes)?)
}

/// Loads a manifest from text; `path` is only used in messages.
pub fn from_str(path: &str, text: &str) -> Result<Manifest, LoadError> {
    load(path, text, Reader::new)
}

/// [`from_str`] with the YAML parser chosen by the caller (the benchmark compares them).
#[cfg(any(test, feature = "fuzzing"))]
pub fn from_str_with(path: &str, text: &str, with: yaml::ReadWith) -> Result<Manifest, LoadError> {
    load(path, text, |t| Reader::with(t, with))
}

fn load<'a>(
    path: &str,
    text: &'a str,
    reader: impl FnOnce(&'a str) -> Reader<'a>,
) -> Result<Manifest, LoadError> {
    if text.trim().is_empty() {
        return Err(empty(path));
    }
    let mut r = reader(text);
    let draft = match read(&mut r) {
        Ok(Some(d)) => Some(d),
        Ok(None) => return Err(empty(path)),
        Err(Stop) => None,
    };
    let mut problems = r.into_problems();
    let manifest = draft.and_then(|d| validate(d, &mut problems));
    match manifest {
        Some(m) if problems.is_empty() => Ok(Manifest {
            path: path.to_string(),
            ..m
        }),
        _ => {
            // In file order; problems at one place keep the order they were met in.
            problems.sort_by_key(|p| p.pos);
            Err(LoadError {
                path: path.to_string(),
                problems,
            })
        }
    }
}

fn empty(path: &str) -> LoadError {
    fail(
        path,
        Pos { line: 1, column: 1 },
        "the manifest is empty",
        Some("start from `scopegate init --scopes \"…\"`".into()),
    )
}

// ---- the checks that need the whole manifest ----

fn valid_id(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A `fhir_version` value as the manifest takes it: a release name (`R4`, `DSTU2`) or
/// its version number (`4.0.1`, `1.0.2`).
pub fn parse_fhir_version(s: &str) -> Option<FhirVersion> {
    FhirVersion::parse(s).or(match s {
        "1.0.2" => Some(FhirVersion::Dstu2),
        "3.0.2" => Some(FhirVersion::Stu3),
        "4.0.1" => Some(FhirVersion::R4),
        "4.3.0" => Some(FhirVersion::R4b),
        "5.0.0" => Some(FhirVersion::R5),
        _ => None,
    })
}

/// Checks what the walk read; the manifest (with an empty path) when `id` and `scopes`
/// were read, whether or not problems were found.
fn validate(d: Draft, problems: &mut Vec<Problem>) -> Option<Manifest> {
    let mut problem = |pos: Pos, message: String, hint: Option<String>| {
        problems.push(Problem { pos, message, hint })
    };
    if let Some(id) = &d.id
        && !valid_id(&id.value)
    {
        problem(
            id.pos,
            format!(
                "app id `{}` must be letters, digits, `.`, `_` or `-`",
                id.value
            ),
            None,
        );
    }
    let fhir_version = match d.fhir_version {
        None => FhirVersion::default(),
        Some(v) => match parse_fhir_version(&v.value) {
            Some(fv) => fv,
            None => {
                let names = FhirVersion::ALL.map(FhirVersion::as_str);
                // HAPI's name for STU3 is one edit from DSTU2 as well: name the release.
                let hint = (v.value.eq_ignore_ascii_case("dstu3"))
                    .then_some("STU3")
                    .or_else(|| did_you_mean(&v.value, names))
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_else(|| "use DSTU2, STU3, R4, R4B or R5".into());
                problem(
                    v.pos,
                    format!("unknown FHIR version `{}`", v.value),
                    Some(hint),
                );
                FhirVersion::default()
            }
        },
    };
    let mut launch = Vec::new();
    for (mode, pos) in d.launch {
        if launch.contains(&mode) {
            problem(pos, "launch mode listed twice".into(), None);
        } else {
            launch.push(mode);
        }
    }
    let mut seen = BTreeSet::new();
    for w in &d.workflows {
        let wid = &w.id;
        if !valid_id(&wid.value) {
            problem(
                wid.pos,
                format!(
                    "workflow id `{}` must be letters, digits, `.`, `_` or `-`",
                    wid.value
                ),
                None,
            );
        } else if !seen.insert(wid.value.as_str()) {
            problem(
                wid.pos,
                format!("workflow id `{}` is used twice", wid.value),
                None,
            );
        }
    }
    let (id, (scopes_pos, scopes)) = (d.id?, d.scopes?);
    Some(Manifest {
        path: String::new(),
        id,
        name: d.name,
        fhir_version,
        launch,
        scopes,
        scopes_pos,
        workflows: d.workflows,
    })
}

mod walk;

#[cfg(test)]
mod tests;
