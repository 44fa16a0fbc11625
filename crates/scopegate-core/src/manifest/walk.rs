//! The walk: a manifest's YAML nodes, read in one pass into a [`Draft`], every shape
//! problem noted with its place (unknown, duplicate and missing keys; values of the
//! wrong kind) and the walk carried on past it.
//!
//! Knows the file format's keys and shapes; the checks that need the whole manifest
//! (ids, FHIR version, repeated launch modes and workflow ids) are the parent's.

use rustc_hash::FxHashMap;

use super::{LaunchMode, ScopeEntry, Token, Workflow};
use crate::hint::did_you_mean;
use crate::scope::{Scope, ScopeError};
use crate::yaml::{Item, Node, Pos, Reader, Stop, Text};

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
        Token::with(text, parsed)
    }
}

/// What the walk read, before the checks that need the whole manifest.
#[derive(Default)]
pub(super) struct Draft {
    /// `None` when missing or unreadable (the reason is already noted).
    pub(super) id: Option<Text>,
    pub(super) name: Option<String>,
    pub(super) fhir_version: Option<Text>,
    pub(super) launch: Vec<(LaunchMode, Pos)>,
    pub(super) scopes: Option<(Pos, Vec<ScopeEntry>)>,
    pub(super) workflows: Vec<Workflow>,
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
        "fhir_version" => "one of DSTU2, STU3, R4, R4B or R5",
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
pub(super) fn read(r: &mut Reader<'_>) -> Result<Option<Draft>, Stop> {
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
