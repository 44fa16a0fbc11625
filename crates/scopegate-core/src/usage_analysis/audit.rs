//! FHIR R4 `AuditEvent` → one observed request. The interaction comes from `subtype`
//! (<http://hl7.org/fhir/restful-interaction>), the resource type from `entity.what`
//! (or a search's `entity.query`), the app from `agent`, the tenant from
//! `source.site`, the time from `recorded`, success from `outcome`.
//!
//! Which agent is the app: the one typed DICOM `110150` (Application); without one,
//! any agent whose identifier, display, name or altId is the app id. Events whose
//! `type` is not `rest` (logins, exports) and events auditing a whole batch or
//! transaction (its entries are audited on their own) are counted, not matched.
//! It reads through [`super::evidence`]'s context and never opens files.

use serde::Deserialize;
use serde_json::Value;

use super::evidence::Ctx;
use super::fhir_url::{self, Request};
use super::stream::bare;
use super::{Interaction, instant};

const RESTFUL_INTERACTION: &str = "http://hl7.org/fhir/restful-interaction";
const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
/// DICOM "Application" participant role (R4 AuditEvent.agent.type).
const APPLICATION: &str = "110150";

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuditEvent {
    resource_type: Option<String>,
    /// R4: a Coding (audit-event-type).
    #[serde(rename = "type")]
    kind: Option<Coding>,
    #[serde(default)]
    subtype: Vec<Coding>,
    recorded: Option<String>,
    /// R4: a code (`0`, `4`, `8`, `12`); R5: `{code: CodeableConcept}`.
    outcome: Option<Value>,
    #[serde(default)]
    agent: Vec<Agent>,
    source: Option<Source>,
    #[serde(default)]
    entity: Vec<Entity>,
}

#[derive(Deserialize, Default)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize, Default)]
struct CodeableConcept {
    #[serde(default)]
    coding: Vec<Coding>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Agent {
    #[serde(rename = "type")]
    kind: Option<CodeableConcept>,
    who: Option<Reference>,
    alt_id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct Reference {
    reference: Option<String>,
    identifier: Option<Identifier>,
    display: Option<String>,
}

#[derive(Deserialize, Default)]
struct Identifier {
    value: Option<String>,
}

#[derive(Deserialize, Default)]
struct Source {
    site: Option<String>,
    observer: Option<Reference>,
}

#[derive(Deserialize, Default)]
struct Entity {
    what: Option<Reference>,
    /// R4: a Coding; for a domain resource, its type (http://hl7.org/fhir/resource-types).
    #[serde(rename = "type")]
    kind: Option<Coding>,
    role: Option<Coding>,
    /// base64Binary: the query of a search.
    query: Option<String>,
}

impl Agent {
    fn is_application(&self) -> bool {
        self.kind.as_ref().is_some_and(|t| {
            t.coding.iter().any(|c| {
                c.code.as_deref() == Some(APPLICATION)
                    && c.system.as_deref().is_none_or(|s| s == DICOM)
            })
        })
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        let who = self.who.as_ref();
        [
            who.and_then(|w| w.identifier.as_ref()?.value.as_deref()),
            who.and_then(|w| w.display.as_deref()),
            who.and_then(|w| w.reference.as_deref()),
            self.name.as_deref(),
            self.alt_id.as_deref(),
        ]
        .into_iter()
        .flatten()
    }
}

/// The app the event is about, as the tally's filter should see it.
fn app_of<'e>(e: &'e AuditEvent, wanted: &str) -> &'e str {
    let apps: Vec<&Agent> = e.agent.iter().filter(|a| a.is_application()).collect();
    let pool: &mut dyn Iterator<Item = &Agent> = if apps.is_empty() {
        &mut e.agent.iter()
    } else {
        &mut apps.iter().copied()
    };
    let mut first = "";
    for a in pool {
        for n in a.names() {
            if n == wanted {
                return n;
            }
            if first.is_empty() {
                first = n;
            }
        }
    }
    first
}

fn tenant_of(e: &AuditEvent) -> &str {
    let s = e.source.as_ref();
    s.and_then(|s| s.site.as_deref())
        .or_else(|| s?.observer.as_ref()?.display.as_deref())
        .or_else(|| s?.observer.as_ref()?.identifier.as_ref()?.value.as_deref())
        .unwrap_or("unknown")
}

fn outcome_ok(o: Option<&Value>) -> bool {
    let code = match o {
        None | Some(Value::Null) => return true,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(v) => v
            .pointer("/code/coding/0/code")
            .or_else(|| v.pointer("/code/code"))
            .and_then(Value::as_str),
    };
    matches!(code, Some("0" | "success"))
}

fn base64(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// What the event accessed: the interaction from `subtype`, the type and query from
/// the entities. Returns an owned query text so that the request can borrow it.
fn request<'e>(e: &'e AuditEvent, query_text: &'e mut String) -> Result<Request<'e>, String> {
    let code = e
        .subtype
        .iter()
        .filter(|c| c.system.as_deref().is_none_or(|s| s == RESTFUL_INTERACTION))
        .find_map(|c| c.code.as_deref())
        .ok_or("no `subtype` coding from http://hl7.org/fhir/restful-interaction")?;
    // A search's query (base64), when the event carries one: `[base]/Type?params`.
    let queried = e
        .entity
        .iter()
        .find_map(|en| en.query.as_deref())
        .and_then(base64);
    if let Some(q) = queried {
        *query_text = q;
    }
    let from_query = (!query_text.is_empty())
        .then(|| fhir_url::parse("GET", query_text).ok())
        .flatten();
    // The accessed resource: an entity that is not the patient (role 1) if there is
    // one, else the first with a reference.
    let with_what = || {
        e.entity.iter().filter(|en| {
            en.what
                .as_ref()
                .and_then(|w| w.reference.as_deref())
                .is_some()
        })
    };
    let target = with_what()
        .find(|en| en.role.as_ref().and_then(|r| r.code.as_deref()) != Some("1"))
        .or_else(|| with_what().next());
    let reference = target.and_then(|en| en.what.as_ref()?.reference.as_deref());
    let by_reference = reference.and_then(|r| fhir_url::parse("GET", r).ok());
    let typed = e.entity.iter().find_map(|en| {
        let c = en.kind.as_ref()?;
        let code = c.code.as_deref()?;
        fhir_url::is_resource_type(code).then_some(code)
    });
    let resource = from_query
        .and_then(|q| q.resource)
        .or(by_reference.and_then(|r| r.resource))
        .or(typed);
    let query = from_query.map_or("", |q| q.query);
    let instance = by_reference.is_some_and(|r| {
        matches!(
            r.interaction,
            Interaction::Read | Interaction::Vread | Interaction::HistoryInstance
        )
    });
    let interaction = match code {
        "search" | "search-type" | "search-system" => {
            if resource.is_some() && code != "search-system" {
                Interaction::SearchType
            } else {
                Interaction::SearchSystem
            }
        }
        "history" => match (resource, instance) {
            (Some(_), true) => Interaction::HistoryInstance,
            (Some(_), false) => Interaction::HistoryType,
            (None, _) => Interaction::HistorySystem,
        },
        "transaction" | "batch" => Interaction::Batch,
        other => Interaction::ALL
            .into_iter()
            .find(|i| i.code() == other)
            .ok_or_else(|| format!("`{other}` is not a restful-interaction code"))?,
    };
    let operation = from_query.and_then(|q| q.operation);
    let needs_type = interaction.letter().is_some()
        && !matches!(
            interaction,
            Interaction::SearchSystem | Interaction::HistorySystem
        );
    if needs_type && resource.is_none() {
        return Err(format!(
            "`{code}` event names no resource type (`entity.what.reference` or `entity.type`)"
        ));
    }
    Ok(Request {
        interaction,
        resource,
        operation,
        query,
    })
}

/// Folds one AuditEvent, given as JSON text, in: `Ok(Some(reason))` when it is bad,
/// `Err(message)` when the text is not JSON.
pub(super) fn event(ctx: &mut Ctx<'_>, text: &[u8], line: u64) -> Result<Option<String>, String> {
    let e: AuditEvent = match serde_json::from_slice(text) {
        Ok(e) => e,
        Err(err) if err.is_syntax() || err.is_eof() => return Err(bare(&err)),
        Err(err) => return Ok(Some(format!("not an R4 AuditEvent: {}", bare(&err)))),
    };
    Ok(judge(ctx, &e, line))
}

/// Folds one parsed event in; `Some(reason)` when it is bad.
fn judge(ctx: &mut Ctx<'_>, e: &AuditEvent, line: u64) -> Option<String> {
    if e.resource_type.as_deref() != Some("AuditEvent") {
        return Some(format!(
            "resourceType is {}, not AuditEvent",
            e.resource_type
                .as_deref()
                .map_or("missing".into(), |r| format!("`{r}`"))
        ));
    }
    let at = ctx.at(line);
    ctx.tally.record(at);
    let Some(time) = e.recorded.as_deref().and_then(instant::parse) else {
        return Some("`recorded` is missing or not an instant".into());
    };
    let kind = e.kind.as_ref().and_then(|k| k.code.as_deref());
    if kind != Some("rest") {
        if kind.is_none() {
            return Some("`type` has no code".into());
        }
        let app = app_of(e, ctx.tally.app()).to_string();
        if ctx.tally.accepts(&app, time) {
            ctx.tally.skipped.not_access += 1;
        }
        return None;
    }
    let app = app_of(e, ctx.tally.app()).to_string();
    if !ctx.tally.accepts(&app, time) {
        return None;
    }
    let mut query_text = String::new();
    let req = match request(e, &mut query_text) {
        Ok(r) => r,
        Err(reason) => return Some(reason),
    };
    if req.interaction == Interaction::Batch {
        ctx.tally.skipped.not_access += 1;
        return None;
    }
    let tenant = ctx.tally.tenant_id(tenant_of(e));
    ctx.tally
        .observe(tenant, &req, None, outcome_ok(e.outcome.as_ref()), time, at);
    None
}
