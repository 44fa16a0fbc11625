//! What a tenant's EHR supports: its `.well-known/smart-configuration` snapshot, and
//! where a manifest asks for more than that.
//!
//! Owns the snapshot format (the configuration object, or a bare `scopes_supported`
//! list) and the capability each kind of request needs (SMART 2.x `capabilities`). It
//! reads no files and knows nothing of policy or approvals.

use std::collections::BTreeSet;

use crate::grant::{Options, ScopeSet};
use crate::manifest::{LaunchMode, Manifest};
use crate::rules::RuleId;
use crate::scope::{Level, Refresh, Scope};
use crate::yaml::{self, LoadError, Pos};
/// What an EHR says it supports, from its `.well-known/smart-configuration`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ehr {
    pub(crate) path: String,
    /// `None` when the snapshot does not list them.
    pub(crate) scopes_supported: Option<BTreeSet<String>>,
    pub capabilities: Option<BTreeSet<String>>,
}

/// Parses a snapshot: the smart-configuration object, or a bare `scopes_supported` list.
pub fn ehr_from_bytes(path: &str, bytes: &[u8]) -> Result<Ehr, LoadError> {
    let text = yaml::text_of(yaml::FileKind::EhrSnapshot, path, bytes)?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        yaml::fail(
            path,
            Pos {
                line: u32::try_from(e.line()).unwrap_or(1).max(1),
                column: u32::try_from(e.column()).unwrap_or(1).max(1),
            },
            format!("not a JSON smart-configuration: {e}"),
            None,
        )
    })?;
    let strings = |v: &serde_json::Value, key: &str| -> Result<BTreeSet<String>, LoadError> {
        v.as_array()
            .and_then(|a| a.iter().map(|x| x.as_str().map(String::from)).collect())
            .ok_or_else(|| {
                yaml::fail(
                    path,
                    Pos { line: 1, column: 1 },
                    format!("`{key}` must be a list of strings"),
                    None,
                )
            })
    };
    let (scopes_supported, capabilities) = match &value {
        serde_json::Value::Array(_) => (Some(strings(&value, "scopes_supported")?), None),
        serde_json::Value::Object(o) => (
            o.get("scopes_supported")
                .map(|v| strings(v, "scopes_supported"))
                .transpose()?,
            o.get("capabilities")
                .map(|v| strings(v, "capabilities"))
                .transpose()?,
        ),
        _ => {
            return Err(yaml::fail(
                path,
                Pos { line: 1, column: 1 },
                "a smart-configuration snapshot is a JSON object, or a list of scopes",
                None,
            ));
        }
    };
    Ok(Ehr {
        path: path.to_string(),
        scopes_supported,
        capabilities,
    })
}

/// One way the EHR falls short of what the app asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Shortfall {
    /// `ehr-scope-unlisted` or `ehr-capability-missing`.
    pub(crate) rule: RuleId,
    /// The manifest position it is reported at.
    pub(crate) pos: Pos,
    pub(crate) message: String,
    /// The missing SMART capability code (`ehr-capability-missing`).
    pub(crate) capability: Option<&'static str>,
}

/// A snapshot's `scopes_supported`, parsed once and indexed by syntax (v2, v1) and by
/// whether only restricted scopes count: each of a manifest's scopes re-parsed the whole
/// list, quadratic in the two.
struct Listed<'s> {
    text: &'s BTreeSet<String>,
    /// `[v2, v1][all, restricted only]`.
    sets: [[ScopeSet<'s>; 2]; 2],
}

impl<'s> Listed<'s> {
    fn new(text: &'s BTreeSet<String>, parsed: &'s [(bool, Scope)], opts: Options) -> Self {
        let set = |v1: bool, restricted_only: bool| {
            let listed = parsed.iter().filter(move |(v, l)| {
                *v == v1
                    && (!restricted_only
                        || l.as_resource().is_some_and(|x| !x.restriction.is_none()))
            });
            ScopeSet::new(listed.map(|(_, l)| l), opts)
        };
        Listed {
            text,
            sets: [
                [set(false, false), set(false, true)],
                [set(true, false), set(true, true)],
            ],
        }
    }

    /// `token` is listed as supported: the same text, or granted by the listed scopes
    /// written in the same syntax (SMART v1 or v2). A restricted request
    /// (`?category=…`) counts only restricted listed scopes, since an EHR may not
    /// support granular scopes.
    fn has(&self, token: &str, s: &Scope) -> bool {
        if self.text.contains(token) {
            return true;
        }
        let Scope::Resource(r) = s else { return false };
        let v1 = crate::scope::is_v1_syntax(token);
        self.sets[usize::from(v1)][usize::from(!r.restriction.is_none())].grants(s)
    }
}

/// Checks a manifest against an EHR snapshot: unlisted scopes (warnings) and missing
/// capabilities (errors). Capabilities are the SMART 2.x `capabilities` codes.
pub(crate) fn ehr_shortfalls(ehr: &Ehr, m: &Manifest, opts: Options) -> Vec<Shortfall> {
    let mut out = Vec::new();
    if let Some(supported) = &ehr.scopes_supported {
        let parsed: Vec<(bool, Scope)> = supported
            .iter()
            .filter_map(|t| Some((crate::scope::is_v1_syntax(t), Scope::parse(t).ok()?)))
            .collect();
        let listed = Listed::new(supported, &parsed, opts);
        for e in &m.scopes {
            let Some(s) = e.token.scope() else { continue };
            if !listed.has(&e.token.text.value, s) {
                out.push(Shortfall {
                    rule: RuleId::EhrScopeUnlisted,
                    pos: e.token.text.pos,
                    message: format!(
                        "`{}` is not in the EHR's scopes_supported ({})",
                        e.token.text.value, ehr.path
                    ),
                    capability: None,
                });
            }
        }
    }
    let Some(caps) = &ehr.capabilities else {
        return out;
    };
    // (capability, why the app needs it, where)
    let mut needed: Vec<(&'static str, String, Pos)> = Vec::new();
    for e in &m.scopes {
        let Some(s) = e.token.scope() else { continue };
        let at = e.token.text.pos;
        let tok = &e.token.text.value;
        match s {
            Scope::Resource(r) => {
                let (cap, syntax) = if crate::scope::is_v1_syntax(tok) {
                    ("permission-v1", "SMART v1")
                } else {
                    ("permission-v2", "SMART v2")
                };
                needed.push((cap, format!("`{tok}` is written in {syntax} syntax"), at));
                match r.level {
                    Level::Patient => needed.push(("permission-patient", format!("`{tok}`"), at)),
                    Level::User => needed.push(("permission-user", format!("`{tok}`"), at)),
                    Level::System => {}
                }
            }
            Scope::Refresh(Refresh::Offline) => {
                needed.push(("permission-offline", format!("`{tok}`"), at));
            }
            Scope::Refresh(Refresh::Online) => {
                needed.push(("permission-online", format!("`{tok}`"), at));
            }
            _ => {}
        }
    }
    for l in &m.launch {
        let (cap, mode) = match l {
            LaunchMode::Ehr => ("launch-ehr", "ehr"),
            LaunchMode::Standalone => ("launch-standalone", "standalone"),
            LaunchMode::Backend => continue,
        };
        needed.push((
            cap,
            format!("the app declares `{mode}` launch"),
            m.scopes_pos,
        ));
    }
    let mut seen = BTreeSet::new();
    for (cap, why, pos) in needed {
        if !caps.contains(cap) && seen.insert(cap) {
            out.push(Shortfall {
                rule: RuleId::EhrCapabilityMissing,
                pos,
                message: format!(
                    "the EHR does not list capability `{cap}`, needed because {why} ({})",
                    ehr.path
                ),
                capability: Some(cap),
            });
        }
    }
    out
}
