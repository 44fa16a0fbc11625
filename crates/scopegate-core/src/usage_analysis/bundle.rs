//! AuditEvent evidence, streamed whatever its layout: NDJSON (one resource per line, a
//! line may be a Bundle), or one JSON document (a Bundle, pretty-printed or not). A
//! Bundle is never held whole: its entries are read and judged one at a time, and a
//! Bundle in an entry is streamed the same way (up to [`MAX_NESTING`] deep).
//!
//! Which layout: the first value decides. If it ends on the line it starts on, the
//! file is NDJSON, and a value that does not parse is one bad line (skipped to the next
//! line). If it spans lines, it is the whole document: it must be a Bundle, and JSON
//! that does not parse is an error (exit 2).
//!
//! `resourceType` may come after `entry`. A value's entries are folded into a side
//! tally, kept apart until the value ends: merged when it proves to be a Bundle that
//! parsed whole, dropped otherwise. So an NDJSON line counts whole or not at all, and
//! nothing is buffered but the side tally, which is as small as the main one. The
//! other members of an object are kept (at most `limit` bytes in all), so that a
//! value that is not a Bundle can still be read as an AuditEvent (which has no
//! `entry`). It never opens files.

use std::io::Read;

use serde::de::IgnoredAny;

use super::audit;
use super::evidence::{Ctx, EvidenceError};
use super::stream::{Fail, Src, bare};
use super::tally::Tally;

/// Bundles in Bundles deeper than this are read as plain records (and so are bad).
pub(crate) const MAX_NESTING: usize = 16;

/// A value read to its end, not yet counted.
enum Outcome {
    /// The JSON text of a value that is not a Bundle (an object without `entry` when
    /// it had one).
    Record(Vec<u8>),
    /// A Bundle: its entries, tallied apart.
    Bundle(Pending),
}

/// A Bundle's entries, tallied apart until the Bundle is known to be whole.
struct Pending {
    tally: Option<Box<Tally>>,
    /// The earliest bad entry, for `--strict` and for "no record could be read".
    first_bad: Option<(u64, String)>,
}

impl Pending {
    fn bad(&mut self, tally: &mut Tally, file: usize, line: u64, reason: String) {
        if self.first_bad.as_ref().is_none_or(|b| line < b.0) {
            self.first_bad = Some((line, reason.clone()));
        }
        tally.bad_line(super::tally::Origin { file, line }, reason);
    }

    fn absorb(&mut self, tally: &mut Tally, inner: Pending) {
        if let Some(t) = inner.tally {
            tally.merge(*t, |o| o);
        }
        if let Some(b) = inner.first_bad
            && self.first_bad.as_ref().is_none_or(|x| b.0 < x.0)
        {
            self.first_bad = Some(b);
        }
    }
}

struct Walk<R> {
    src: Src<R>,
    limit: usize,
    file: usize,
    /// Newlines are whitespace (one document), or end a value (NDJSON).
    doc: bool,
}

/// Reads AuditEvent evidence from `r` into `ctx`; a record (one resource outside a
/// Bundle's `entry`, or one entry's members) longer than `limit` bytes is an error.
pub(super) fn read(r: impl Read, ctx: &mut Ctx<'_>, limit: usize) -> Result<(), EvidenceError> {
    let mut w = Walk {
        src: Src::new(r),
        limit,
        file: ctx.file,
        doc: true,
    };
    let mut first_bad: Option<(u64, String)> = None;
    let mut first = true;
    loop {
        let next = w.src.skip_ws(true).map_err(|e| io_error(ctx, &w, &e))?;
        if next.is_none() {
            break;
        }
        let start = w.src.line;
        let got = w.value(&*ctx.tally, "", 0);
        let multi_line = w.src.line > start;
        if first && multi_line {
            // One document: errors are fatal, the rest must be whitespace.
            let outcome = got.map_err(|f| doc_error(ctx, &w, f))?;
            if w.src
                .skip_ws(true)
                .map_err(|e| io_error(ctx, &w, &e))?
                .is_some()
            {
                return Err(doc_error(ctx, &w, w.src.syntax("trailing characters")));
            }
            let Outcome::Bundle(p) = outcome else {
                return Err(ctx.error(
                    start,
                    "a multi-line JSON value must be a Bundle of AuditEvents (or write NDJSON, one resource per line)".into(),
                ));
            };
            commit_bundle(ctx, p, &mut first_bad)?;
            break;
        }
        first = false;
        w.doc = false;
        // NDJSON: the rest of the line must be blank, or the line is bad.
        let got = got.and_then(|o| match w.src.skip_ws(false)? {
            None | Some(b'\n') => Ok(o),
            Some(_) => Err(w.src.syntax("trailing characters")),
        });
        match got {
            Ok(Outcome::Record(text)) => match audit::event(ctx, &text, start) {
                Ok(None) => {}
                Ok(Some(reason)) => bad(ctx, start, reason, &mut first_bad)?,
                Err(syntax) => bad(ctx, start, format!("not JSON: {syntax}"), &mut first_bad)?,
            },
            Ok(Outcome::Bundle(p)) => commit_bundle(ctx, p, &mut first_bad)?,
            Err(Fail::Syntax(_, msg)) => {
                bad(ctx, start, format!("not JSON: {msg}"), &mut first_bad)?;
                w.src.skip_line().map_err(|e| io_error(ctx, &w, &e))?;
            }
            Err(f) => return Err(fatal(ctx, &w, f)),
        }
    }
    ctx.finish(first_bad)
}

fn bad(
    ctx: &mut Ctx<'_>,
    line: u64,
    reason: String,
    first_bad: &mut Option<(u64, String)>,
) -> Result<(), EvidenceError> {
    if first_bad.is_none() {
        *first_bad = Some((line, reason.clone()));
    }
    ctx.bad(line, reason)
}

fn commit_bundle(
    ctx: &mut Ctx<'_>,
    p: Pending,
    first_bad: &mut Option<(u64, String)>,
) -> Result<(), EvidenceError> {
    if let Some(t) = p.tally {
        ctx.tally.merge(*t, |o| o);
    }
    if let Some((line, reason)) = p.first_bad {
        if ctx.strict {
            return Err(ctx.error(line, format!("{reason} (--strict)")));
        }
        if first_bad.is_none() {
            *first_bad = Some((line, reason));
        }
    }
    Ok(())
}

fn io_error<R>(ctx: &Ctx<'_>, w: &Walk<R>, e: &std::io::Error) -> EvidenceError {
    ctx.error(w.src.line, format!("cannot read: {e}"))
}

fn fatal<R>(ctx: &Ctx<'_>, w: &Walk<R>, f: Fail) -> EvidenceError {
    match f {
        Fail::Syntax(line, msg) => ctx.error(line, format!("not JSON: {msg}")),
        Fail::TooLong(line) => ctx.error(
            line,
            format!(
                "a record is longer than {} bytes (the limit; raise it with --max-record-bytes)",
                w.limit
            ),
        ),
        Fail::Io(e) => io_error(ctx, w, &e),
    }
}

fn doc_error<R>(ctx: &Ctx<'_>, w: &Walk<R>, f: Fail) -> EvidenceError {
    match f {
        Fail::Syntax(line, msg) => ctx.error(line, format!("not a JSON Bundle or NDJSON: {msg}")),
        f => fatal(ctx, w, f),
    }
}

/// Checks that a copied value is JSON.
fn valid(text: &[u8], line: u64) -> Result<(), Fail> {
    serde_json::from_slice::<IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| Fail::Syntax(line, bare(&e)))
}

impl<R: Read> Walk<R> {
    /// Reads one value at a resource's place (the top, or an entry's `resource`).
    /// `like` is the tally a Bundle's side tally is forked from; `path` prefixes the
    /// reasons of bad entries (`entry 3: `).
    fn value(&mut self, like: &Tally, path: &str, depth: usize) -> Result<Outcome, Fail> {
        let b = self.src.value_start(self.doc)?;
        if b != b'{' || depth >= MAX_NESTING {
            let mut text = Vec::new();
            self.src.capture(&mut text, self.limit, self.doc)?;
            return Ok(Outcome::Record(text));
        }
        self.object(like, path, depth)
    }

    fn object(&mut self, like: &Tally, path: &str, depth: usize) -> Result<Outcome, Fail> {
        let (doc, limit) = (self.doc, self.limit);
        let start = self.src.line;
        self.src.expect(b'{', doc)?;
        // The members other than a streamed `entry`, as JSON text.
        let mut text = b"{".to_vec();
        let mut key = Vec::new();
        let mut field = Vec::new();
        let mut resource_type: Option<Option<String>> = None;
        let mut duplicate = false;
        let mut entry_not_array = false;
        let mut pending: Option<Pending> = None;
        if self.src.value_start(doc)? == b'}' {
            self.src.bump();
        } else {
            loop {
                let k = self.src.key(&mut key, limit, doc)?.into_owned();
                let not_bundle = resource_type
                    .as_ref()
                    .is_some_and(|t| t.as_deref() != Some("Bundle"));
                let next = self.src.value_start(doc)?;
                if k == "entry" && !not_bundle && next == b'[' {
                    let p = pending.get_or_insert_with(|| Pending {
                        tally: Some(Box::new(like.fork())),
                        first_bad: None,
                    });
                    self.entries(p, path, depth)?;
                } else {
                    field.clear();
                    self.src.capture(&mut field, limit, doc)?;
                    if k == "resourceType" {
                        duplicate |= resource_type.is_some();
                        resource_type = Some(serde_json::from_slice::<String>(&field).ok());
                    }
                    entry_not_array |= k == "entry";
                    if text.len() + key.len() + field.len() + 2 > limit {
                        return Err(Fail::TooLong(start));
                    }
                    if text.len() > 1 {
                        text.push(b',');
                    }
                    text.extend_from_slice(&key);
                    text.push(b':');
                    text.extend_from_slice(&field);
                }
                if !self.src.next_or_close(b'}', doc)? {
                    break;
                }
            }
        }
        text.push(b'}');
        let is_bundle = !duplicate
            && resource_type
                .as_ref()
                .is_some_and(|t| t.as_deref() == Some("Bundle"));
        if !is_bundle {
            // Read as a record; the side tally of its entries (if any) is dropped.
            return Ok(Outcome::Record(text));
        }
        valid(&text, start)?;
        let mut p = pending.unwrap_or(Pending {
            tally: None,
            first_bad: None,
        });
        if entry_not_array {
            let mut t = p.tally.take().unwrap_or_else(|| Box::new(like.fork()));
            p.bad(
                &mut t,
                self.file,
                start,
                format!("{path}Bundle.entry is not an array"),
            );
            p.tally = Some(t);
        }
        Ok(Outcome::Bundle(p))
    }

    /// Streams a Bundle's `entry` array into `p`.
    fn entries(&mut self, p: &mut Pending, path: &str, depth: usize) -> Result<(), Fail> {
        let doc = self.doc;
        self.src.expect(b'[', doc)?;
        if self.src.value_start(doc)? == b']' {
            self.src.bump();
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            index += 1;
            self.entry(p, &format!("{path}entry {index}: "), depth)?;
            if !self.src.next_or_close(b']', doc)? {
                return Ok(());
            }
        }
    }

    /// One Bundle entry: its `resource` judged, its other members checked and dropped.
    fn entry(&mut self, p: &mut Pending, path: &str, depth: usize) -> Result<(), Fail> {
        let (doc, limit) = (self.doc, self.limit);
        // The entry's line is the one its first byte is on.
        let first = self.src.value_start(doc)?;
        let line = self.src.line;
        let mut tally = p.tally.take().expect("a Pending being filled has a tally");
        let result = (|| {
            if first != b'{' {
                let mut text = Vec::new();
                self.src.capture(&mut text, limit, doc)?;
                valid(&text, line)?;
                p.bad(&mut tally, self.file, line, format!("{path}not an object"));
                return Ok(());
            }
            self.src.expect(b'{', doc)?;
            let (mut key, mut field) = (Vec::new(), Vec::new());
            let mut resources = 0;
            if self.src.value_start(doc)? == b'}' {
                self.src.bump();
            } else {
                loop {
                    let k = self.src.key(&mut key, limit, doc)?.into_owned();
                    if k == "resource" {
                        resources += 1;
                        match self.value(&tally, path, depth + 1)? {
                            Outcome::Record(text) => {
                                let mut ctx = Ctx {
                                    tally: &mut tally,
                                    file: self.file,
                                    strict: false,
                                };
                                match audit::event(&mut ctx, &text, line) {
                                    Ok(None) => {}
                                    Ok(Some(reason)) => {
                                        p.bad(
                                            &mut tally,
                                            self.file,
                                            line,
                                            format!("{path}{reason}"),
                                        );
                                    }
                                    Err(syntax) => return Err(Fail::Syntax(line, syntax)),
                                }
                            }
                            Outcome::Bundle(inner) => p.absorb(&mut tally, inner),
                        }
                    } else {
                        field.clear();
                        self.src.capture(&mut field, limit, doc)?;
                        valid(&field, line)?;
                    }
                    if !self.src.next_or_close(b'}', doc)? {
                        break;
                    }
                }
            }
            match resources {
                1 => {}
                0 => p.bad(&mut tally, self.file, line, format!("{path}no `resource`")),
                _ => p.bad(
                    &mut tally,
                    self.file,
                    line,
                    format!("{path}more than one `resource`"),
                ),
            }
            Ok(())
        })();
        p.tally = Some(tally);
        result
    }
}

#[cfg(test)]
mod tests;
