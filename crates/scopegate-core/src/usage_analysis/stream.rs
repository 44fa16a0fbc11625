//! A JSON tokenizer over `impl Read` that never holds more than one record: it skips
//! whitespace, reads object keys and copies one raw value at a time into a buffer the
//! caller owns, under a byte limit. It tracks the line and column of what it reads.
//!
//! It checks only the structure it walks (strings, brackets, the glue the caller asks
//! for); what it copies is handed to serde_json, which checks the rest. In `doc` mode
//! newlines are whitespace; otherwise (NDJSON) a newline ends the value it is in.
//! It knows nothing of FHIR and never opens files.

use std::borrow::Cow;
use std::io::{ErrorKind, Read};

/// Why a value could not be read.
#[derive(Debug)]
pub(super) enum Fail {
    /// Not JSON (or the line ends inside a value): `line`, and a message.
    Syntax(u64, String),
    /// A single record longer than the limit, starting on `line`.
    TooLong(u64),
    /// The input could not be read.
    Io(std::io::Error),
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        Fail::Io(e)
    }
}

/// Where [`Src::capture`] is in the value it copies, kept across refills.
struct Walk {
    /// depth of brackets; `None` for a scalar (it ends at a delimiter).
    depth: Option<usize>,
    in_str: bool,
    esc: bool,
    /// The value's first byte has been walked.
    started: bool,
}

pub(super) struct Src<R> {
    r: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Bytes consumed before `buf[0]`.
    base: u64,
    /// The current line (1-based) and the offset at which it starts.
    pub(super) line: u64,
    line_start: u64,
    /// Set once `r` has ended.
    eof: bool,
}

impl<R: Read> Src<R> {
    pub(super) fn new(r: R) -> Src<R> {
        Src {
            r,
            buf: vec![0; 1 << 18].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            line: 1,
            line_start: 0,
            eof: false,
        }
    }

    /// 1-based column of the next byte.
    pub(super) fn column(&self) -> u64 {
        self.base + self.pos as u64 - self.line_start + 1
    }

    fn refill(&mut self) -> std::io::Result<bool> {
        if self.pos < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        loop {
            match self.r.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) fn peek(&mut self) -> std::io::Result<Option<u8>> {
        Ok(if self.refill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    fn newline_at(&mut self, i: usize) {
        self.line += 1;
        self.line_start = self.base + i as u64 + 1;
    }

    /// Consumes one byte known to be there (after [`Src::peek`]).
    pub(super) fn bump(&mut self) {
        if self.buf[self.pos] == b'\n' {
            self.newline_at(self.pos);
        }
        self.pos += 1;
    }

    pub(super) fn syntax(&self, what: impl Into<String>) -> Fail {
        Fail::Syntax(
            self.line,
            format!(
                "{} at line {} column {}",
                what.into(),
                self.line,
                self.column()
            ),
        )
    }

    /// Skips whitespace; returns the next byte, not consumed. Outside `doc` a newline
    /// is not skipped: it is returned.
    pub(super) fn skip_ws(&mut self, doc: bool) -> std::io::Result<Option<u8>> {
        while let Some(b) = self.peek()? {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' if doc => self.bump(),
                _ => return Ok(Some(b)),
            }
        }
        Ok(None)
    }

    /// Skips whitespace and expects a value to start: not the end of the input, nor
    /// (outside `doc`) of the line.
    pub(super) fn value_start(&mut self, doc: bool) -> Result<u8, Fail> {
        match self.skip_ws(doc)? {
            None => Err(self.syntax("EOF while parsing a value")),
            Some(b'\n') => Err(self.syntax("the line ends inside a value")),
            Some(b) => Ok(b),
        }
    }

    /// Expects `want` after whitespace, and consumes it.
    pub(super) fn expect(&mut self, want: u8, doc: bool) -> Result<(), Fail> {
        match self.value_start(doc)? {
            b if b == want => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.syntax(format!("expected `{}`", want as char))),
        }
    }

    /// After a member or an element: true on `,`, false on `close` (both consumed).
    pub(super) fn next_or_close(&mut self, close: u8, doc: bool) -> Result<bool, Fail> {
        match self.value_start(doc)? {
            b',' => {
                self.pos += 1;
                Ok(true)
            }
            b if b == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(self.syntax(format!("expected `,` or `{}`", close as char))),
        }
    }

    /// Consumes the rest of the line, newline included, without keeping it.
    pub(super) fn skip_line(&mut self) -> std::io::Result<()> {
        while self.refill()? {
            match memchr::memchr(b'\n', &self.buf[self.pos..self.end]) {
                Some(i) => {
                    self.newline_at(self.pos + i);
                    self.pos += i + 1;
                    return Ok(());
                }
                None => self.pos = self.end,
            }
        }
        Ok(())
    }

    /// Copies one raw JSON value to the end of `out`, which may not grow past `limit`.
    /// The value must start here (see [`Src::value_start`]).
    pub(super) fn capture(
        &mut self,
        out: &mut Vec<u8>,
        limit: usize,
        doc: bool,
    ) -> Result<(), Fail> {
        let start_line = self.line;
        let first = self.value_start(doc)?;
        let mut walk = Walk {
            depth: matches!(first, b'{' | b'[').then_some(0),
            in_str: false,
            esc: false,
            started: false,
        };
        loop {
            if !self.refill()? {
                return match walk.depth {
                    None if walk.started && !walk.in_str => Ok(()),
                    _ => Err(self.syntax("EOF while parsing a value")),
                };
            }
            let from = self.pos;
            let (i, done) = self.walk(&mut walk, doc)?;
            if out.len() + (i - from) > limit {
                self.pos = i;
                return Err(Fail::TooLong(start_line));
            }
            out.extend_from_slice(&self.buf[from..i]);
            self.pos = i;
            if done {
                return Ok(());
            }
        }
    }

    /// Walks the buffered bytes of the value [`Src::capture`] copies, from `pos`: to
    /// just past the value's end (and `true`), or to the end of the buffer (`false`).
    /// A newline inside the value outside `doc` is an error.
    #[inline]
    fn walk(&mut self, walk: &mut Walk, doc: bool) -> Result<(usize, bool), Fail> {
        let end = self.end;
        let mut i = self.pos;
        while i < end {
            if walk.in_str && !walk.esc {
                // Most of JSON is string bytes: jump to the next that matters.
                match memchr::memchr3(b'"', b'\\', b'\n', &self.buf[i..end]) {
                    Some(k) => i += k,
                    None => return Ok((end, false)),
                }
            }
            let b = self.buf[i];
            if walk.in_str {
                if walk.esc {
                    walk.esc = false;
                } else if b == b'\\' {
                    walk.esc = true;
                } else if b == b'"' {
                    walk.in_str = false;
                    if walk.depth.is_none() {
                        return Ok((i + 1, true));
                    }
                } else if b == b'\n' {
                    // A raw newline is not JSON inside a string; outside `doc` it
                    // also ends the line. Copied in `doc`: serde_json reports it.
                    if !doc {
                        self.pos = i;
                        return Err(self.syntax("the line ends inside a string"));
                    }
                    self.newline_at(i);
                }
                i += 1;
                continue;
            }
            match (b, walk.depth.as_mut()) {
                (b'"', None) if !walk.started => walk.in_str = true,
                (b'"', Some(_)) => walk.in_str = true,
                (b'{' | b'[', Some(d)) => *d += 1,
                (b'}' | b']', Some(d)) => {
                    *d -= 1;
                    if *d == 0 {
                        return Ok((i + 1, true));
                    }
                }
                (b'\n', Some(_)) if doc => self.newline_at(i),
                (b'\n', Some(_)) => {
                    self.pos = i;
                    return Err(self.syntax("the line ends inside a value"));
                }
                (b' ' | b'\t' | b'\r' | b'\n' | b',' | b'}' | b']' | b':', None) => {
                    return Ok((i, true));
                }
                (b'{' | b'[' | b'"', None) => return Ok((i, true)),
                _ => {}
            }
            walk.started = true;
            i += 1;
        }
        Ok((i, false))
    }

    /// Reads an object key (a string) and the `:` after it.
    pub(super) fn key<'k>(
        &mut self,
        scratch: &'k mut Vec<u8>,
        limit: usize,
        doc: bool,
    ) -> Result<Cow<'k, str>, Fail> {
        if self.value_start(doc)? != b'"' {
            return Err(self.syntax("expected a key (a string)"));
        }
        scratch.clear();
        self.capture(scratch, limit, doc)?;
        self.expect(b':', doc)?;
        let raw = &scratch[1..scratch.len() - 1];
        if raw.iter().all(|b| (0x20..0x7f).contains(b) && *b != b'\\') {
            // Plain ASCII without escapes: the key is its text.
            return Ok(Cow::Borrowed(std::str::from_utf8(raw).unwrap_or_default()));
        }
        serde_json::from_slice::<String>(scratch)
            .map(Cow::Owned)
            .map_err(|e| Fail::Syntax(self.line, format!("bad key: {}", bare(&e))))
    }
}

/// A serde_json error without its position: the position is within a copied
/// record, not the file, and the caller names the line.
pub(super) fn bare(e: &serde_json::Error) -> String {
    let s = e.to_string();
    if e.line() == 0 {
        return s;
    }
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    s.strip_suffix(&suffix).map_or(s.clone(), str::to_string)
}
