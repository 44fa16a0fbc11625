//! FHIR REST URLs: one request line (method and URL) in, what it does out: the
//! interaction, the resource type, an operation name and the query string.
//!
//! Authority: FHIR R4 "RESTful API" (hl7.org/fhir/R4/http.html), whose interactions
//! are the codes of <http://hl7.org/fhir/restful-interaction>. Pure and allocation-free:
//! the result borrows the URL. It must not decide what a request is allowed to do
//! (that is [`crate::grant`] and [`super::analyze`]).

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

use crate::fhir::FhirVersion;

use super::Interaction;
use super::tally::FastHash;

/// One request, as the FHIR REST API reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub(crate) interaction: Interaction,
    /// The resource type; `None` at system level (`GET [base]?_type=…`, `[base]/_history`).
    pub(crate) resource: Option<&'a str>,
    /// For `$operation` requests: the name, with its `$`.
    pub(crate) operation: Option<&'a str>,
    /// The raw query string, without its `?` (empty when there is none).
    pub(crate) query: &'a str,
}

/// Why a request line is not a FHIR REST request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlError(pub(crate) String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: String) -> Result<T, UrlError> {
    Err(UrlError(msg))
}

/// True for a resource type of any FHIR release scopegate knows (DSTU2 to R5), so that
/// the base path (`/fhir/R4`) is told apart from the type that follows it.
pub(crate) fn is_resource_type(seg: &str) -> bool {
    // Runs for every path segment of every request: one hash lookup in the union of
    // the releases' lists, not four binary searches.
    static TYPES: OnceLock<HashSet<&'static str, FastHash>> = OnceLock::new();
    seg.starts_with(|c: char| c.is_ascii_uppercase())
        && TYPES
            .get_or_init(|| {
                FhirVersion::ALL
                    .iter()
                    .flat_map(|v| v.resource_types().iter().copied())
                    .collect()
            })
            .contains(seg)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

fn method(m: &str) -> Result<Method, UrlError> {
    Ok(match m {
        "GET" | "get" | "HEAD" | "head" => Method::Get,
        "POST" | "post" => Method::Post,
        "PUT" | "put" => Method::Put,
        "PATCH" | "patch" => Method::Patch,
        "DELETE" | "delete" => Method::Delete,
        _ => return err(format!("method `{m}` is not a FHIR REST method")),
    })
}

/// Parses `method url`. The URL may be absolute (`https://ehr/fhir/R4/Observation/1`)
/// or a path (`/Observation/1`); everything before the first resource type (or the
/// system-level tail) is the server's base and is ignored.
pub fn parse<'a>(method_text: &str, url: &'a str) -> Result<Request<'a>, UrlError> {
    let m = method(method_text)?;
    // Runs for every evidence line: one pass finds the end of the path.
    let (path, query) = match memchr::memchr2(b'#', b'?', url.as_bytes()) {
        Some(i) if url.as_bytes()[i] == b'?' => {
            let rest = &url[i + 1..];
            let query = memchr::memchr(b'#', rest.as_bytes()).map_or(rest, |j| &rest[..j]);
            (&url[..i], query)
        }
        Some(i) => (&url[..i], ""),
        None => (url, ""),
    };
    // Drop `scheme://host` from an absolute URL.
    let path = match after_scheme(path) {
        Some(rest) => memchr::memchr(b'/', rest.as_bytes()).map_or("", |i| &rest[i..]),
        None => path,
    };
    let mut segs = Segments(path).filter(|s| !s.is_empty());
    let at = |interaction, resource, operation| Request {
        interaction,
        resource,
        operation,
        query,
    };
    // Find the resource type; the segments before it are the base.
    let mut last = None;
    let mut typo = None;
    for seg in segs.by_ref() {
        if is_resource_type(seg) {
            return type_level(m, seg, segs, query, url);
        }
        if looks_like_type(seg) {
            typo = typo.or(Some(seg));
        }
        last = Some(seg);
    }
    if let Some(t) = typo {
        return err(format!("`{t}` in `{url}` is not a FHIR resource type"));
    }
    // No resource type: a system-level request on the base, or on its last segment.
    match (m, last) {
        (_, Some(op)) if op.starts_with('$') => Ok(at(Interaction::Operation, None, Some(op))),
        (Method::Get, Some("_history")) => Ok(at(Interaction::HistorySystem, None, None)),
        (Method::Post | Method::Get, Some("_search")) => {
            Ok(at(Interaction::SearchSystem, None, None))
        }
        (Method::Get, Some("metadata")) => Ok(at(Interaction::Capabilities, None, None)),
        (_, Some(seg)) if is_fhir_keyword(seg) => err(format!(
            "`{seg}` in `{url}` is not a resource type or a system-level interaction"
        )),
        // `GET [base]?_type=…` (or any search parameters): search-system.
        (Method::Get, _) => Ok(at(Interaction::SearchSystem, None, None)),
        // `POST [base]` with a Bundle of type batch or transaction.
        (Method::Post, _) => Ok(at(Interaction::Batch, None, None)),
        _ => err(format!(
            "`{method_text} {url}`: only GET and POST are defined on the base URL"
        )),
    }
}

/// What follows the first `://` (`path.split_once("://")`, without a searcher).
fn after_scheme(path: &str) -> Option<&str> {
    let b = path.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b':', &b[from..]) {
        let i = from + i;
        if b[i + 1..].starts_with(b"//") {
            return Some(&path[i + 3..]);
        }
        from = i + 1;
    }
    None
}

/// The `/`-separated segments of a path (`path.split('/')`): they are short, and a
/// byte loop beats a searcher on them.
struct Segments<'a>(&'a str);

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.0;
        match s.bytes().position(|b| b == b'/') {
            Some(i) => {
                self.0 = &s[i + 1..];
                Some(&s[..i])
            }
            None if s.is_empty() => None,
            None => {
                self.0 = "";
                Some(s)
            }
        }
    }
}

/// `_history`, `_search` and the like: a FHIR path keyword in the wrong place.
fn is_fhir_keyword(seg: &str) -> bool {
    seg.starts_with('_')
}

/// A PascalCase segment that is not a known type (`Obsevation`): a typo, not a base.
fn looks_like_type(seg: &str) -> bool {
    seg.len() > 2
        && seg.starts_with(|c: char| c.is_ascii_uppercase())
        && seg.chars().any(|c| c.is_ascii_lowercase())
        && seg.chars().all(|c| c.is_ascii_alphanumeric())
}

fn is_id(seg: &str) -> bool {
    // FHIR R4 `id`: [A-Za-z0-9\-\.]{1,64}. Servers are laxer; refuse only path keywords.
    !seg.starts_with(['_', '$'])
}

fn type_level<'a>(
    m: Method,
    ty: &'a str,
    mut rest: impl Iterator<Item = &'a str>,
    query: &'a str,
    url: &'a str,
) -> Result<Request<'a>, UrlError> {
    use Interaction as I;
    let at = |interaction, resource: &'a str, operation| Request {
        interaction,
        resource: Some(resource),
        operation,
        query,
    };
    let segs = [rest.next(), rest.next(), rest.next(), rest.next()];
    let bad = || {
        err(format!(
            "`{url}` is not a FHIR REST URL for the method used"
        ))
    };
    Ok(match (m, segs) {
        // Type level: [base]/Type
        (Method::Get, [None, ..]) => at(I::SearchType, ty, None),
        (Method::Post, [None, ..]) => at(I::Create, ty, None),
        // Conditional update, patch and delete act on the type with search criteria.
        (Method::Put, [None, ..]) if !query.is_empty() => at(I::Update, ty, None),
        (Method::Patch, [None, ..]) if !query.is_empty() => at(I::Patch, ty, None),
        (Method::Delete, [None, ..]) if !query.is_empty() => at(I::Delete, ty, None),
        (Method::Get | Method::Post, [Some("_search"), None, ..]) => at(I::SearchType, ty, None),
        (Method::Get, [Some("_history"), None, ..]) => at(I::HistoryType, ty, None),
        (_, [Some(op), None, ..]) if op.starts_with('$') => at(I::Operation, ty, Some(op)),
        // Instance level: [base]/Type/id
        (Method::Get, [Some(id), None, ..]) if is_id(id) => at(I::Read, ty, None),
        (Method::Put, [Some(id), None, ..]) if is_id(id) => at(I::Update, ty, None),
        (Method::Patch, [Some(id), None, ..]) if is_id(id) => at(I::Patch, ty, None),
        (Method::Delete, [Some(id), None, ..]) if is_id(id) => at(I::Delete, ty, None),
        (Method::Get, [Some(id), Some("_history"), None, _]) if is_id(id) => {
            at(I::HistoryInstance, ty, None)
        }
        (Method::Get, [Some(id), Some("_history"), Some(v), None]) if is_id(id) && is_id(v) => {
            at(I::Vread, ty, None)
        }
        (_, [Some(id), Some(op), None, _]) if is_id(id) && op.starts_with('$') => {
            at(I::Operation, ty, Some(op))
        }
        // Compartment search: [base]/Patient/id/Observation, or every type with `*`.
        (Method::Get, [Some(id), Some(inner), None, _]) if is_id(id) && is_resource_type(inner) => {
            at(I::SearchType, inner, None)
        }
        (Method::Get, [Some(id), Some("*"), None, _]) if is_id(id) => Request {
            interaction: I::SearchSystem,
            resource: None,
            operation: None,
            query,
        },
        _ => return bad(),
    })
}

/// The query's `name=value` pairs, in order, undecoded.
pub(crate) fn params(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
}

/// Percent-decodes a query value (`%7C` is `|`); `None` when it is not valid UTF-8.
pub(crate) fn decode(v: &str) -> Option<std::borrow::Cow<'_, str>> {
    if !v.contains('%') {
        return Some(std::borrow::Cow::Borrowed(v));
    }
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1), b.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (c, ..) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(std::borrow::Cow::Owned)
}

#[cfg(test)]
mod tests;
