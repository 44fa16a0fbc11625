//! One access-log line in, one [`LogLine`] out. The common shape, a flat object of
//! plain strings and integers, is read by a hand-written scanner ([`scan`]); anything
//! else (escapes, bytes that are not UTF-8, tabs, nested `entries`, `null`s,
//! duplicates, missing fields, malformed JSON) goes to serde_json ([`parse_serde`]),
//! so what is accepted, the values read and every error message stay serde_json's.
//!
//! The scanner's one rule: when it answers, serde_json would have given the same
//! record. It never rejects: it only declines. The differential tests beside it and
//! the `usage_evidence` fuzz target hold it to that. It must not interpret the record
//! (that is [`super::evidence`]).

use std::borrow::Cow;

use serde::Deserialize;

/// An access-log record: `{time, tenant, app, method, url, status}`, optionally `body`
/// (a `POST _search` form) and `entries` (a batch/transaction's requests). Unknown
/// fields are ignored.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub struct LogLine<'a> {
    #[serde(borrow)]
    pub(crate) time: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) tenant: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) app: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) method: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) url: Cow<'a, str>,
    pub(crate) status: u16,
    /// A `POST _search` form body (`application/x-www-form-urlencoded`), when logged.
    #[serde(borrow, default)]
    pub(crate) body: Option<Cow<'a, str>>,
    /// The entries of a batch or transaction Bundle, when logged.
    #[serde(borrow, default)]
    pub(crate) entries: Option<Vec<LogEntry<'a>>>,
}

/// One request of a logged batch or transaction.
#[derive(Debug, PartialEq, Eq, Deserialize)]
pub(crate) struct LogEntry<'a> {
    #[serde(borrow)]
    pub(crate) method: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) url: Cow<'a, str>,
    /// The entry's own status (`Bundle.entry.response.status`); the line's by default.
    /// A number (`201`) or FHIR's string (`"201 Created"`): see `entry_status`.
    #[serde(default, deserialize_with = "entry_status")]
    pub(crate) status: Option<u16>,
    #[serde(borrow, default)]
    pub(crate) body: Option<Cow<'a, str>>,
}

/// An entry's status as a number (`200`) or as FHIR writes `Bundle.entry.response.status`:
/// a string that "SHALL start with a 3 digit HTTP code (e.g. 404) and may contain the
/// standard HTTP description" (FHIR R4 bundle-definitions.html#Bundle.entry.response.status),
/// so `"200"`, `"201 Created"`. Anything else (`"OK"`, `" 200"`, `"200OK"`, `"99 x"`, a
/// code outside 100–599 in a string, a float) is an error: the line is bad, with the reason.
fn entry_status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    use serde::de::{Error, Unexpected, Visitor};
    struct Status;
    impl<'de> Visitor<'de> for Status {
        type Value = Option<u16>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an HTTP status in `entries[].status`: a number such as 200, or a string starting with a 3-digit code such as \"201 Created\"")
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_u64<E: Error>(self, n: u64) -> Result<Self::Value, E> {
            u16::try_from(n)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Unsigned(n), &self))
        }
        fn visit_i64<E: Error>(self, n: i64) -> Result<Self::Value, E> {
            u16::try_from(n)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Signed(n), &self))
        }
        fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
            fhir_status_code(s)
                .map(Some)
                .ok_or_else(|| E::invalid_value(Unexpected::Str(s), &self))
        }
    }
    d.deserialize_option(Status)
}

/// The code of a FHIR `response.status` string: three ASCII digits (100–599), then the
/// end or a space and any text.
pub(crate) fn fhir_status_code(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    let code = b.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || !matches!(b.get(3), None | Some(b' ')) {
        return None;
    }
    let n = code.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
    (100..=599).contains(&n).then_some(n)
}

/// Reads one line: the scanner when it can, serde_json otherwise. The error is the
/// bad-line reason.
pub(crate) fn parse(line: &[u8]) -> Result<LogLine<'_>, String> {
    match scan(line) {
        Some(rec) => Ok(rec),
        None => parse_serde(line),
    }
}

/// serde_json's reading of a line: the reference the scanner is held to.
pub fn parse_serde(line: &[u8]) -> Result<LogLine<'_>, String> {
    serde_json::from_slice(line).map_err(|e| format!("not an access-log record: {e}"))
}

/// The fast path: `Some` only for a flat object whose values are strings, integers,
/// `true`/`false`/`null` (ignored fields only), with every required field once and
/// nothing after the closing brace, in a line that is UTF-8 and holds no backslash (so
/// no escape) and no control character (so none inside a string, and no tab or CR
/// between tokens). `None` means "ask serde_json".
pub fn scan(line: &[u8]) -> Option<LogLine<'_>> {
    // One pass over the whole line beats a check in every string: `fold` has no
    // early exit, so it runs on whole vectors.
    let odd = line
        .iter()
        .fold(false, |odd, b| odd | (*b < 0x20) | (*b == b'\\'));
    if odd {
        return None;
    }
    let line = std::str::from_utf8(line).ok()?;
    let mut c = Cursor { s: line, i: 0 };
    c.eat(b'{')?;
    let mut f = Fields::default();
    c.ws();
    loop {
        let key = c.str()?;
        c.ws();
        c.eat(b':')?;
        c.ws();
        match key {
            "time" => set(&mut f.time, c.str()?)?,
            "tenant" => set(&mut f.tenant, c.str()?)?,
            "app" => set(&mut f.app, c.str()?)?,
            "method" => set(&mut f.method, c.str()?)?,
            "url" => set(&mut f.url, c.str()?)?,
            "body" => set(&mut f.body, c.str()?)?,
            "status" => set(&mut f.status, c.u16()?)?,
            // Nested: serde_json reads those.
            "entries" => return None,
            _ => c.ignored_value()?,
        }
        c.ws();
        match c.next()? {
            b',' => c.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    if c.i != line.len() {
        return None;
    }
    Some(LogLine {
        time: Cow::Borrowed(f.time?),
        tenant: Cow::Borrowed(f.tenant?),
        app: Cow::Borrowed(f.app?),
        method: Cow::Borrowed(f.method?),
        url: Cow::Borrowed(f.url?),
        status: f.status?,
        body: f.body.map(Cow::Borrowed),
        entries: None,
    })
}

#[derive(Default)]
struct Fields<'a> {
    time: Option<&'a str>,
    tenant: Option<&'a str>,
    app: Option<&'a str>,
    method: Option<&'a str>,
    url: Option<&'a str>,
    body: Option<&'a str>,
    status: Option<u16>,
}

/// A second value for a field is serde_json's "duplicate field" error: decline.
fn set<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(v);
            Some(())
        }
    }
}

/// A position in a line already known to be UTF-8 without backslashes or control
/// characters.
struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.i += 1;
        Some(b)
    }

    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// JSON whitespace (RFC 8259 §2); tabs, CRs and newlines were declined already.
    fn ws(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// A string: with no backslash in the line, it ends at the next quote.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = find_quote(&self.s.as_bytes()[start..])?;
        self.i = start + len + 1;
        self.s.get(start..start + len)
    }

    /// A JSON integer in `0..=65535`, the only numbers serde_json reads as `u16`.
    fn u16(&mut self) -> Option<u16> {
        let start = self.i;
        self.digits();
        let digits = &self.s.as_bytes()[start..self.i];
        if digits.is_empty() || digits.len() > 5 || (digits.len() > 1 && digits[0] == b'0') {
            return None;
        }
        let n = digits
            .iter()
            .fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
        u16::try_from(n).ok()
    }

    /// The value of a field the record ignores: a string, a JSON number, `true`,
    /// `false` or `null`. Arrays and objects are declined.
    fn ignored_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.str().map(drop),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.s.as_bytes().get(self.i..end)? == word).then(|| self.i = end)
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.i;
        self.digits();
        (self.i > start).then_some(())
    }
}

/// The first `"`, eight bytes at a time: the strings of a log line are short, and a
/// general `memchr` spends more setting up than searching them. A byte of `x` is zero
/// where the input has a quote; `(x - 1) & !x & 0x80` marks the first such byte
/// exactly (marks above it may be false, and are not looked at).
fn find_quote(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const QUOTES: u64 = ONES * b'"' as u64;
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) ^ QUOTES;
        let hit = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = words.remainder().iter().position(|c| *c == b'"')?;
    Some(at + tail)
}

#[cfg(test)]
pub(crate) mod tests;
