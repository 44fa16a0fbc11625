//! The ledger read straight from its YAML events, the way the manifest is: no serde
//! between the parser and the entries. A ledger grows by an entry per approval for the
//! life of a repository and every gate run reads it whole; through serde, 2,000 entries
//! cost a gate run more than its two manifests.
//!
//! It reads only the shape `scopegate approve` writes and a person would write by hand:
//! a mapping with `approvals:`, a list of mappings with the known keys, each once, text
//! where text belongs. On anything else it gives up (`None`) without a word, and the
//! serde reader reads the file and words the error, so there is one set of messages.

use super::Draft;
use crate::yaml::{Item, Node, Pos, Reader, Stop};

/// The entries, or `None` when the file is not in the plain shape (or not YAML).
pub(super) fn read(text: &str) -> Option<Vec<Draft>> {
    let mut r = Reader::new(text);
    let drafts = ledger(&mut r).ok()??;
    r.finish().ok()?;
    // A tag the reader noted, or any other problem: serde decides.
    r.into_problems().is_empty().then_some(drafts)
}

/// `approvals:` and nothing else at the top; an empty document is an empty ledger.
fn ledger(r: &mut Reader<'_>) -> Result<Option<Vec<Draft>>, Stop> {
    let Some(root) = r.document()? else {
        return Ok(Some(Vec::new()));
    };
    let Node::Map(_) = root else {
        return Ok(None);
    };
    let mut approvals: Option<Vec<Draft>> = None;
    while let Item::Node(key) = r.item()? {
        if approvals.is_some() || !is_key(&key, "approvals") {
            return Ok(None);
        }
        approvals = Some(match r.node()? {
            Node::Scalar { null: true, .. } => Vec::new(),
            Node::Seq(_) => {
                let mut entries = Vec::new();
                while let Item::Node(item) = r.item()? {
                    let Node::Map(pos) = item else {
                        return Ok(None);
                    };
                    let Some(e) = entry(r, pos)? else {
                        return Ok(None);
                    };
                    entries.push(e);
                }
                entries
            }
            _ => return Ok(None),
        });
    }
    Ok(Some(approvals.unwrap_or_default()))
}

fn is_key(node: &Node<'_>, name: &str) -> bool {
    matches!(node, Node::Scalar { value, null: false, .. } if value == name)
}

/// The fields of one entry, each at most once, the three required ones present.
#[derive(Default)]
struct Fields {
    keys: Option<Vec<(String, Pos)>>,
    by: Option<String>,
    at: Option<(String, Pos)>,
    ticket: Option<Option<String>>,
    reason: Option<Option<String>>,
    expires: Option<Option<(String, Pos)>>,
    tenants: Option<Vec<String>>,
    signature: Option<Option<String>>,
}

/// One entry's mapping, its start at `pos`; `None` when it is not plain.
fn entry(r: &mut Reader<'_>, pos: Pos) -> Result<Option<Draft>, Stop> {
    let mut f = Fields::default();
    while let Item::Node(key) = r.item()? {
        let Node::Scalar {
            value: name,
            null: false,
            ..
        } = key
        else {
            return Ok(None);
        };
        let value = r.node()?;
        let fresh = match &*name {
            "keys" => set(
                &mut f.keys,
                texts(r, value)?.map(|v| v.into_iter().collect()),
            ),
            "by" => set(&mut f.by, text(value).map(|(v, _)| v)),
            "at" => set(&mut f.at, text(value)),
            "ticket" => set(&mut f.ticket, optional(value).map(|o| o.map(|(v, _)| v))),
            "reason" => set(&mut f.reason, optional(value).map(|o| o.map(|(v, _)| v))),
            "expires" => set(&mut f.expires, optional(value)),
            "tenants" => set(
                &mut f.tenants,
                texts(r, value)?.map(|v| v.into_iter().map(|(t, _)| t).collect()),
            ),
            "signature" => set(&mut f.signature, optional(value).map(|o| o.map(|(v, _)| v))),
            _ => false,
        };
        if !fresh {
            return Ok(None);
        }
    }
    let (Some(keys), Some(by), Some(at)) = (f.keys, f.by, f.at) else {
        return Ok(None);
    };
    Ok(Some(Draft {
        pos,
        keys,
        by,
        at,
        ticket: f.ticket.flatten(),
        reason: f.reason.flatten(),
        expires: f.expires.flatten(),
        tenants: f.tenants.unwrap_or_default(),
        signature: f.signature.flatten(),
    }))
}

/// Fills an empty slot; false when the slot was full (a repeated key) or the value is
/// not of its shape.
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> bool {
    match (slot.is_some(), value) {
        (false, Some(v)) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

/// Text, not null.
fn text(node: Node<'_>) -> Option<(String, Pos)> {
    match node {
        Node::Scalar {
            value,
            null: false,
            pos,
        } => Some((value.into_owned(), pos)),
        _ => None,
    }
}

/// Text or null (absent).
fn optional(node: Node<'_>) -> Option<Option<(String, Pos)>> {
    match node {
        Node::Scalar { null: true, .. } => Some(None),
        other => text(other).map(Some),
    }
}

/// A list of text. The reader is left after the list, whatever its items; `None` for
/// a null, a scalar, a mapping or an item that is not text.
fn texts(r: &mut Reader<'_>, node: Node<'_>) -> Result<Option<Vec<(String, Pos)>>, Stop> {
    let Node::Seq(_) = node else {
        r.skip(&node)?;
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut plain = true;
    while let Item::Node(item) = r.item()? {
        r.skip(&item)?;
        match text(item) {
            Some(t) if plain => out.push(t),
            _ => plain = false,
        }
    }
    Ok(plain.then_some(out))
}
