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

use rustc_hash::FxHashMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::fhir::FhirVersion;
use crate::hint::did_you_mean;
use crate::scope::{Scope, ScopeError};
use crate::yaml::{self, Item, Node, Reader, Stop, fail};
pub use crate::yaml::{LoadError, MAX_BYTES, Pos, Problem, Text};

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
    pub parsed: Result<Scope, ScopeError>,
}

impl Token {
    /// Parses `text` on its own (the serde loader the walk is checked against).
    #[cfg(test)]
    fn of(text: Text) -> Token {
        let parsed = Scope::parse(&text.value);
        Token { text, parsed }
    }

    pub fn scope(&self) -> Option<&Scope> {
        self.parsed.as_ref().ok()
    }
}

/// The tokens of one file already parsed, by text. A manifest names most scopes twice
/// (requested, and needed by a workflow), and parsing them is the costly part of the
/// walk after the YAML itself; a parse depends on the text alone.
#[derive(Default)]
struct Parsed(FxHashMap<String, Result<Scope, ScopeError>>);

impl Parsed {
    fn token(&mut self, text: Text) -> Token {
        let parsed = match self.0.get(text.value.as_str()) {
            Some(p) => p.clone(),
            None => {
                let p = Scope::parse(&text.value);
                self.0.insert(text.value.clone(), p.clone());
                p
            }
        };
        Token { text, parsed }
    }
}

#[derive(Clone, Debug)]
pub struct ScopeEntry {
    pub token: Token,
    /// Where the entry's mapping starts: its first key, or its `{`.
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
    /// Where the `scopes:` list starts (removed scopes are reported here).
    pub scopes_pos: Pos,
    pub workflows: Vec<Workflow>,
}

impl Manifest {
    /// The parsed scopes the app requests (invalid tokens left out).
    pub fn requested(&self) -> impl Iterator<Item = &Scope> {
        self.scopes.iter().filter_map(|e| e.token.scope())
    }
}

/// Loads a manifest from raw bytes; `path` is only used in messages.
pub fn from_bytes(path: &str, bytes: &[u8]) -> Result<Manifest, LoadError> {
    from_str(path, yaml::text_of(path, bytes)?)
}

/// Loads a manifest from text; `path` is only used in messages.
pub fn from_str(path: &str, text: &str) -> Result<Manifest, LoadError> {
    if text.trim().is_empty() {
        return Err(empty(path));
    }
    let mut r = Reader::new(text);
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

// ---- the walk: YAML nodes to a draft, every shape problem noted ----

/// What the walk read, before the checks that need the whole manifest.
#[derive(Default)]
struct Draft {
    /// `None` when missing or unreadable (the reason is already noted).
    id: Option<Text>,
    name: Option<String>,
    fhir_version: Option<Text>,
    launch: Vec<(LaunchMode, Pos)>,
    scopes: Option<(Pos, Vec<ScopeEntry>)>,
    workflows: Vec<Workflow>,
}

const MANIFEST_KEYS: [&str; 6] = [
    "id",
    "name",
    "fhir_version",
    "launch",
    "scopes",
    "workflows",
];
const SCOPE_KEYS: [&str; 2] = ["scope", "rationale"];
const WORKFLOW_KEYS: [&str; 4] = ["id", "description", "needs", "offline"];
const OFFLINE_KEYS: [&str; 1] = ["reason"];
const LAUNCH_MODES: [(&str, LaunchMode); 3] = [
    ("ehr", LaunchMode::Ehr),
    ("standalone", LaunchMode::Standalone),
    ("backend", LaunchMode::Backend),
];

/// What a key holds, for the hint when its value has the wrong shape or is missing.
fn about(key: &str) -> &'static str {
    match key {
        "id" => "a stable id of letters, digits, `.`, `_` or `-`",
        "name" => "the app's name, on one line",
        "fhir_version" => "one of STU3, R4, R4B or R5",
        "launch" => "a list of launch modes, e.g. `launch: [ehr, standalone]`",
        "scopes" => "a list of entries, each `- scope: <token>` with a `rationale:`",
        "workflows" => "a list of workflows, each `- id: <workflow id>` with its `needs:`",
        "scope" => "one scope token, e.g. `scope: patient/Observation.rs`",
        "rationale" => "one line on why the app needs the scope",
        "description" => "one line on what the workflow does",
        "needs" => "a list of scope tokens, e.g. `needs: [patient/Observation.rs]`",
        "offline" => "a mapping with the reason, e.g. `offline: {reason: nightly sync}`",
        "reason" => "why the workflow runs with no user present",
        _ => "",
    }
}

/// One mapping being read: which of its `keys` were seen, and where.
struct Keys {
    keys: &'static [&'static str],
    seen: [Option<Pos>; 6],
}

impl Keys {
    fn new(keys: &'static [&'static str]) -> Keys {
        debug_assert!(keys.len() <= 6);
        Keys {
            keys,
            seen: [None; 6],
        }
    }

    /// The next key of the mapping (its index in `keys`) and the head of its value.
    /// Unknown, duplicate and non-string keys are noted and their values passed over.
    fn next<'a>(&mut self, r: &mut Reader<'a>) -> Result<Option<(usize, Node<'a>)>, Stop> {
        loop {
            let key = match r.item()? {
                Item::End => return Ok(None),
                Item::Node(k) => k,
            };
            let (name, pos) = match key {
                Node::Scalar { value, pos, .. } => (value, pos),
                other => {
                    r.skip(&other)?;
                    let value = r.node()?;
                    r.skip(&value)?;
                    r.problem(
                        other.pos(),
                        format!("expected a key, found {}", other.kind()),
                        Some(format!("known keys here: {}", self.keys.join(", "))),
                    );
                    continue;
                }
            };
            let value = r.node()?;
            match self.keys.iter().position(|k| *k == name.as_ref()) {
                Some(i) => match self.seen[i] {
                    None => {
                        self.seen[i] = Some(pos);
                        return Ok(Some((i, value)));
                    }
                    Some(first) => {
                        r.skip(&value)?;
                        r.problem(
                            pos,
                            format!("duplicate key `{name}`"),
                            Some(format!("the first `{name}` is at {first}; keep one")),
                        );
                    }
                },
                None => {
                    r.skip(&value)?;
                    let (message, hint) = if name == "<<" {
                        (
                            "YAML merge keys (`<<`) are not allowed in a manifest".to_string(),
                            "write each key out in full".to_string(),
                        )
                    } else {
                        let hint = match did_you_mean(&name, self.keys.iter().copied()) {
                            Some(near) => format!("did you mean `{near}`?"),
                            None => format!("known keys here: {}", self.keys.join(", ")),
                        };
                        (format!("unknown key `{name}`"), hint)
                    };
                    r.problem(pos, message, Some(hint));
                }
            }
        }
    }

    /// Notes each required key (by index in `keys`) that the mapping at `pos` lacked.
    fn require(&self, r: &mut Reader<'_>, pos: Pos, required: &[usize]) {
        for &i in required {
            if self.seen[i].is_none() {
                let key = self.keys[i];
                r.problem(
                    pos,
                    format!("missing required key `{key}`"),
                    Some(format!("add `{key}:`, {}", about(key))),
                );
            }
        }
    }
}

/// Passes over a value of the wrong shape, noting what was expected.
fn wrong(r: &mut Reader<'_>, node: &Node<'_>, expected: &str, hint: String) -> Result<(), Stop> {
    r.skip(node)?;
    r.problem(
        node.pos(),
        format!("expected {expected}, found {}", node.kind()),
        Some(hint),
    );
    Ok(())
}

/// A string value; `None` for a null (noted only when `required`) or a wrong shape.
fn text(
    r: &mut Reader<'_>,
    node: Node<'_>,
    key: &str,
    required: bool,
) -> Result<Option<Text>, Stop> {
    match node {
        Node::Scalar { null: true, .. } if !required => Ok(None),
        Node::Scalar {
            value,
            null: false,
            pos,
        } => Ok(Some(Text {
            value: value.into_owned(),
            pos,
        })),
        other => {
            wrong(
                r,
                &other,
                &format!("a string for `{key}`"),
                format!("`{key}` is {}", about(key)),
            )?;
            Ok(None)
        }
    }
}

/// A list value: calls `each` on the head of every item. A null is an absent list.
/// Returns where the list starts, or `None` when it is null or not a list.
fn list<'a>(
    r: &mut Reader<'a>,
    node: Node<'a>,
    key: &str,
    expected: &str,
    mut each: impl FnMut(&mut Reader<'a>, Node<'a>) -> Result<(), Stop>,
) -> Result<Option<Pos>, Stop> {
    match node {
        Node::Seq(pos) => {
            while let Item::Node(item) = r.item()? {
                each(r, item)?;
            }
            Ok(Some(pos))
        }
        Node::Scalar { null: true, .. } => Ok(None),
        other => {
            wrong(
                r,
                &other,
                &format!("{expected} for `{key}`"),
                format!("`{key}` is {}", about(key)),
            )?;
            Ok(None)
        }
    }
}

/// Reads the document; `Ok(None)` when it holds nothing.
fn read(r: &mut Reader<'_>) -> Result<Option<Draft>, Stop> {
    let mut parsed = Parsed::default();
    let root = match r.document()? {
        None | Some(Node::Scalar { null: true, .. }) => return Ok(None),
        Some(root) => root,
    };
    let mut d = Draft::default();
    match root {
        Node::Map(pos) => {
            let mut keys = Keys::new(&MANIFEST_KEYS);
            while let Some((i, v)) = keys.next(r)? {
                match MANIFEST_KEYS[i] {
                    "id" => d.id = text(r, v, "id", true)?,
                    "name" => d.name = text(r, v, "name", false)?.map(|t| t.value),
                    "fhir_version" => d.fhir_version = text(r, v, "fhir_version", false)?,
                    "launch" => {
                        list(r, v, "launch", "a list of launch modes", |r, item| {
                            launch_mode(r, item, &mut d.launch)
                        })?;
                    }
                    "scopes" if matches!(v, Node::Scalar { null: true, .. }) => {
                        // Required: `scopes:` with nothing is not an absent list.
                        wrong(
                            r,
                            &v,
                            "a list of scope entries for `scopes`",
                            "write `scopes: []` for none".into(),
                        )?;
                    }
                    "scopes" => {
                        let mut entries = Vec::new();
                        let pos = list(r, v, "scopes", "a list of scope entries", |r, item| {
                            entries.extend(scope_entry(r, item, &mut parsed)?);
                            Ok(())
                        })?;
                        d.scopes = pos.map(|pos| (pos, entries));
                    }
                    _ => {
                        list(r, v, "workflows", "a list of workflows", |r, item| {
                            d.workflows.extend(workflow(r, item, &mut parsed)?);
                            Ok(())
                        })?;
                    }
                }
            }
            keys.require(r, pos, &[0, 4]); // id, scopes
        }
        other => {
            r.skip(&other)?;
            r.problem(
                other.pos(),
                format!(
                    "expected a mapping of the manifest's keys, found {}",
                    other.kind()
                ),
                Some("a manifest starts with `id:` and `scopes:`; see `scopegate init`".into()),
            );
        }
    }
    r.finish()?;
    Ok(Some(d))
}

fn launch_mode(
    r: &mut Reader<'_>,
    node: Node<'_>,
    out: &mut Vec<(LaunchMode, Pos)>,
) -> Result<(), Stop> {
    let choices = || LAUNCH_MODES.map(|(name, _)| name);
    match node {
        Node::Scalar {
            value,
            null: false,
            pos,
        } => {
            match LAUNCH_MODES.iter().find(|(name, _)| *name == value) {
                Some((_, mode)) => out.push((*mode, pos)),
                None => {
                    let hint = match did_you_mean(&value, choices()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("expected one of: {}", choices().join(", ")),
                    };
                    r.problem(pos, format!("unknown value `{value}`"), Some(hint));
                }
            }
            Ok(())
        }
        other => wrong(
            r,
            &other,
            "a launch mode",
            format!("expected one of: {}", choices().join(", ")),
        ),
    }
}

fn scope_entry(
    r: &mut Reader<'_>,
    node: Node<'_>,
    parsed: &mut Parsed,
) -> Result<Option<ScopeEntry>, Stop> {
    let pos = match node {
        Node::Map(pos) => pos,
        Node::Scalar {
            ref value,
            null: false,
            ..
        } => {
            let hint = format!("write the entry as `- scope: {value}`, with a `rationale:`");
            wrong(r, &node, "a scope entry (`scope:` and `rationale:`)", hint)?;
            return Ok(None);
        }
        other => {
            let hint = "each entry is `- scope: <token>` with a `rationale:`".to_string();
            wrong(r, &other, "a scope entry (`scope:` and `rationale:`)", hint)?;
            return Ok(None);
        }
    };
    let (mut scope, mut rationale) = (None, None);
    let mut keys = Keys::new(&SCOPE_KEYS);
    while let Some((i, v)) = keys.next(r)? {
        if i == 0 {
            scope = text(r, v, "scope", true)?;
        } else {
            rationale = text(r, v, "rationale", false)?;
        }
    }
    keys.require(r, pos, &[0]); // scope
    Ok(scope.map(|s| ScopeEntry {
        token: parsed.token(s),
        pos,
        rationale,
    }))
}

fn workflow(
    r: &mut Reader<'_>,
    node: Node<'_>,
    parsed: &mut Parsed,
) -> Result<Option<Workflow>, Stop> {
    let Node::Map(pos) = node else {
        let hint = "each workflow is `- id: <workflow id>` with its `needs:`".to_string();
        wrong(r, &node, "a workflow (`id:` and `needs:`)", hint)?;
        return Ok(None);
    };
    let (mut id, mut description, mut needs, mut offline) = (None, None, Vec::new(), None);
    let mut keys = Keys::new(&WORKFLOW_KEYS);
    while let Some((i, v)) = keys.next(r)? {
        match i {
            0 => id = text(r, v, "id", true)?,
            1 => description = text(r, v, "description", false)?,
            2 => {
                list(r, v, "needs", "a list of scope tokens", |r, item| {
                    match item {
                        Node::Scalar {
                            value,
                            null: false,
                            pos,
                        } => needs.push(parsed.token(Text {
                            value: value.into_owned(),
                            pos,
                        })),
                        other => wrong(
                            r,
                            &other,
                            "a scope token",
                            format!("`needs` is {}", about("needs")),
                        )?,
                    }
                    Ok(())
                })?;
            }
            _ => offline = offline_reason(r, v)?,
        }
    }
    keys.require(r, pos, &[0]); // id
    Ok(id.map(|id| Workflow {
        id,
        description,
        needs,
        offline,
        pos,
    }))
}

fn offline_reason(r: &mut Reader<'_>, node: Node<'_>) -> Result<Option<Text>, Stop> {
    let pos = match node {
        Node::Map(pos) => pos,
        Node::Scalar { null: true, .. } => return Ok(None),
        other => {
            wrong(
                r,
                &other,
                "a mapping for `offline`",
                format!("`offline` is {}", about("offline")),
            )?;
            return Ok(None);
        }
    };
    let mut reason = None;
    let mut keys = Keys::new(&OFFLINE_KEYS);
    while let Some((_, v)) = keys.next(r)? {
        reason = text(r, v, "reason", true)?;
    }
    keys.require(r, pos, &[0]); // reason
    Ok(reason)
}

// ---- the checks that need the whole manifest ----

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
                let hint = did_you_mean(&v.value, names)
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_else(|| "use STU3, R4, R4B or R5".into());
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

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
