//! Streaming readers for the three kinds of evidence: JSON-lines access logs, FHIR R4
//! `AuditEvent`s (NDJSON, or a Bundle), and JSON-lines token responses. Each reads an
//! `impl Read` record by record into a [`Tally`], so memory stays flat whatever the
//! input size: a line or record longer than the limit ([`DEFAULT_MAX_RECORD`]) is an
//! error, never a reason to hold more.
//!
//! A record that cannot be read is a bad line: counted, kept (the first few) with its
//! line number, and skipped, unless `strict`. Input that is not evidence at all (no
//! record in it parses, or an I/O error) is an [`EvidenceError`]: the run cannot go on.
//! It never opens files or prints.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use serde::Deserialize;

use super::access_log::{self, LogLine};
use super::fhir_url;
use super::instant;
use super::lines::{self, Plan};
use super::tally::{Origin, Tally};

/// The longest line (access log, granted scopes) or record (one AuditEvent, or one
/// Bundle entry's members) read by default: 1 MiB, a hundred times a large real one.
/// Memory stays a small multiple of it whatever the input.
pub const DEFAULT_MAX_RECORD: usize = 1 << 20;

/// Evidence the run cannot use: exit 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceError {
    pub file: String,
    /// 1-based; 0 when the whole file is at fault (it cannot be read).
    pub line: u64,
    pub message: String,
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for EvidenceError {}

/// Reading context shared by the three readers.
pub(super) struct Ctx<'t> {
    pub(super) tally: &'t mut Tally,
    pub(super) file: usize,
    pub(super) strict: bool,
}

impl Ctx<'_> {
    pub(super) fn error(&self, line: u64, message: String) -> EvidenceError {
        EvidenceError {
            file: self.tally.files[self.file].path.clone(),
            line,
            message,
        }
    }

    pub(super) fn at(&self, line: u64) -> Origin {
        Origin {
            file: self.file,
            line,
        }
    }

    /// A bad record: fatal under `--strict`, otherwise counted and skipped.
    pub(super) fn bad(&mut self, line: u64, reason: String) -> Result<(), EvidenceError> {
        if self.strict {
            return Err(self.error(line, format!("{reason} (--strict)")));
        }
        let at = self.at(line);
        self.tally.bad_line(at, reason);
        Ok(())
    }

    /// A file with bad lines and not one good record is not evidence of this kind.
    pub(super) fn finish(&self, first_bad: Option<(u64, String)>) -> Result<(), EvidenceError> {
        let f = &self.tally.files[self.file];
        match first_bad {
            Some((line, reason)) if f.records == 0 => Err(self.error(
                line,
                format!(
                    "not {} evidence: no record in the file could be read; first: {reason}",
                    f.kind.as_str()
                ),
            )),
            _ => Ok(()),
        }
    }
}

fn ok_status(status: u16) -> bool {
    (200..400).contains(&status)
}

/// Reads a JSON-lines access log: `{time, tenant, app, method, url, status}` per line,
/// optionally `body` (a `POST _search` form) and `entries` (a batch/transaction's
/// requests, `[{method, url, status?}]`). Unknown fields are ignored.
pub fn read_access_log(
    r: impl Read,
    tally: &mut Tally,
    file: usize,
    strict: bool,
) -> Result<(), EvidenceError> {
    read_access_log_with(r, tally, file, strict, Plan::auto(), AccessParser::Scanner)
}

/// How access-log lines are parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessParser {
    /// The scanner for the common shape, serde_json for the rest.
    Scanner,
    /// serde_json alone: the reference the scanner is held to.
    Serde,
}

/// [`read_access_log`] with the work split as `plan` says and lines parsed by
/// `parser`: the differential tests and the fuzz target compare the ways.
pub fn read_access_log_with(
    r: impl Read,
    tally: &mut Tally,
    file: usize,
    strict: bool,
    plan: Plan,
    parser: AccessParser,
) -> Result<(), EvidenceError> {
    let mut ctx = Ctx {
        tally,
        file,
        strict,
    };
    let each = match parser {
        AccessParser::Scanner => access_line,
        AccessParser::Serde => access_line_serde,
    };
    lines::run(r, &mut ctx, each, plan)
}

fn access_line(ctx: &mut Ctx<'_>, text: &[u8], line: u64) -> Result<Option<String>, EvidenceError> {
    Ok(access_record(ctx, access_log::parse(text), line))
}

fn access_line_serde(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    line: u64,
) -> Result<Option<String>, EvidenceError> {
    Ok(access_record(ctx, access_log::parse_serde(text), line))
}

/// Folds one access-log record in; `Some(reason)` makes its line bad.
fn access_record(ctx: &mut Ctx<'_>, rec: Result<LogLine<'_>, String>, line: u64) -> Option<String> {
    let rec = match rec {
        Ok(r) => r,
        Err(reason) => return Some(reason),
    };
    let at = ctx.at(line);
    ctx.tally.record(at);
    let Some(time) = instant::parse(&rec.time) else {
        return Some(format!("`time` `{}` is not an instant", rec.time));
    };
    if !ctx.tally.accepts(&rec.app, time) {
        return None;
    }
    let req = match fhir_url::parse(&rec.method, &rec.url) {
        Ok(q) => q,
        Err(e) => return Some(e.0),
    };
    let tenant = ctx.tally.tenant_id(&rec.tenant);
    match (req.interaction, &rec.entries) {
        (super::Interaction::Batch, Some(entries)) => {
            // Batch and transaction have no scope of their own: each entry is
            // judged alone (SMART 2.x).
            for (i, e) in entries.iter().enumerate() {
                let q = match fhir_url::parse(&e.method, &e.url) {
                    Ok(q) => q,
                    Err(err) => return Some(format!("entry {}: {err}", i + 1)),
                };
                let ok = ok_status(e.status.unwrap_or(rec.status));
                ctx.tally
                    .observe(tenant, &q, e.body.as_deref(), ok, time, at);
            }
        }
        _ => ctx.tally.observe(
            tenant,
            &req,
            rec.body.as_deref(),
            ok_status(rec.status),
            time,
            at,
        ),
    }
    None
}

#[derive(Deserialize)]
struct GrantLine<'a> {
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    tenant: Cow<'a, str>,
    #[serde(borrow)]
    app: Cow<'a, str>,
    /// The token response's `scope`: space-separated (RFC 6749 §3.3).
    #[serde(borrow)]
    scope: Cow<'a, str>,
}

/// Reads JSON lines of granted scopes, `{time, tenant, app, scope}`, one per token
/// response.
pub fn read_granted(
    r: impl Read,
    tally: &mut Tally,
    file: usize,
    strict: bool,
) -> Result<(), EvidenceError> {
    read_granted_with(r, tally, file, strict, Plan::auto())
}

/// [`read_granted`] with the work split (and lines capped) as `plan` says.
pub fn read_granted_with(
    r: impl Read,
    tally: &mut Tally,
    file: usize,
    strict: bool,
    plan: Plan,
) -> Result<(), EvidenceError> {
    let mut ctx = Ctx {
        tally,
        file,
        strict,
    };
    lines::run(r, &mut ctx, granted_line, plan)
}

fn granted_line(
    ctx: &mut Ctx<'_>,
    text: &[u8],
    line: u64,
) -> Result<Option<String>, EvidenceError> {
    let rec: GrantLine<'_> = match serde_json::from_slice(text) {
        Ok(r) => r,
        Err(e) => return Ok(Some(format!("not a granted-scopes record: {e}"))),
    };
    let at = ctx.at(line);
    ctx.tally.record(at);
    let Some(time) = instant::parse(&rec.time) else {
        return Ok(Some(format!("`time` `{}` is not an instant", rec.time)));
    };
    if ctx.tally.accepts(&rec.app, time) {
        let tenant = ctx.tally.tenant_id(&rec.tenant);
        ctx.tally.grant(tenant, &rec.scope, time, at);
    }
    Ok(None)
}

/// Reads FHIR R4 `AuditEvent`s: NDJSON (one resource per line; a line may also be a
/// Bundle), or one JSON Bundle of any size and layout, streamed entry by entry (see
/// `usage::bundle`), with the default record limit.
pub fn read_audit_events(
    r: impl Read,
    tally: &mut Tally,
    file: usize,
    strict: bool,
) -> Result<(), EvidenceError> {
    read_audit_events_with(r, tally, file, strict, DEFAULT_MAX_RECORD)
}

/// [`read_audit_events`] with a record limit: one resource outside a Bundle's `entry`,
/// or the members of one entry, may be at most `limit` bytes.
pub fn read_audit_events_with(
    r: impl Read,
    tally: &mut Tally,
    file: usize,
    strict: bool,
    limit: usize,
) -> Result<(), EvidenceError> {
    let mut ctx = Ctx {
        tally,
        file,
        strict,
    };
    super::bundle::read(r, &mut ctx, limit)
}

#[cfg(test)]
mod tests;
