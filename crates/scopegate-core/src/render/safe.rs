//! Keeping user text from commanding a CI runner: the one escaping every renderer
//! applies at its edge.
//!
//! GitHub's runner reads every line a step prints: a line that starts with `::` (after
//! any whitespace, which it trims) is a workflow command (`::notice::`, `::add-mask::`,
//! `::stop-commands::`…), and `##[command]` is one anywhere in a line. Ledger fields,
//! manifest text, tenant names and paths are written by whoever writes the change, so
//! a renderer escapes every string of the value it renders (`escaped`: control
//! characters and line separators become visible `\n`, `\u{85}` escapes) and guards
//! the finished output ([`guard`]): a line that would still start a command is
//! defused with a backslash. Its own lines never start with `::`; only the `github`
//! renderer writes commands, with payloads escaped by the runner's own rules.

use std::borrow::Cow;

use serde::Serialize;
use serde::de::DeserializeOwned;

mod scan;

/// Characters that can end a line somewhere (CR, LF, NEL, U+2028, U+2029) or have no
/// business in a report (other C0 and C1 controls, DEL).
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// `s` with control characters and line separators as visible escapes.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `s` as a message quotes it: a long one shortened in the middle (its first 80 and last
/// 30 characters kept), so that an error or a finding about a huge value stays a line.
/// Each of a token's thousands of values can be a finding that quotes it, and one
/// need of 8,000 unknown codes made a 383 MB report; an event payload's 20 MB
/// `base.sha` was quoted whole.
pub(crate) fn shortened(s: &str) -> Cow<'_, str> {
    const HEAD: usize = 80;
    const TAIL: usize = 30;
    let n = s.chars().count();
    if n <= HEAD + TAIL + 20 {
        return Cow::Borrowed(s);
    }
    let head: String = s.chars().take(HEAD).collect();
    let tail: String = s.chars().skip(n - TAIL).collect();
    Cow::Owned(format!("{head}…{tail}"))
}

/// Like [`escape`], keeping line feeds: for text that is lines by nature (a unified
/// diff), whose lines [`guard`] then checks.
fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && unsafe_char(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.split('\n').map(escape).collect::<Vec<_>>().join("\n"))
}

/// Fields whose value is lines of text by nature.
const MULTILINE: &[&str] = &["text_diff"];

fn walk(v: &mut serde_json::Value, multiline: bool) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let e = if multiline {
                escape_lines(s)
            } else {
                escape(s)
            };
            match e {
                Cow::Borrowed(_) => false,
                Cow::Owned(e) => {
                    *s = e;
                    true
                }
            }
        }
        Value::Array(xs) => xs.iter_mut().fold(false, |acc, x| walk(x, multiline) | acc),
        Value::Object(m) => m.iter_mut().fold(false, |acc, (k, x)| {
            walk(x, MULTILINE.contains(&k.as_str())) | acc
        }),
        _ => false,
    }
}

/// No escaped copy of a value could be made: it does not read back as it was written.
/// Unreachable for the report types (their fields are plain data), but the renderers
/// must not fall back to the unescaped value if it ever happens.
#[derive(Debug)]
pub(crate) struct Unescapable;

/// What a renderer prints in place of a value with no escaped copy ([`Unescapable`]).
pub(crate) const UNESCAPABLE: &str = "error: scopegate could not escape this report's text for output, so it shows none of it (a bug: please report it); the exit code still gives the verdict\n";

/// A copy of `v` with every string escaped ([`escape`]), or `None` when no string
/// needed it (the common case costs one read of its strings). Every string a report holds is
/// either user text or the tool's own words, which hold no control characters, so
/// escaping them all escapes exactly the user's.
pub(crate) fn escaped<T: Serialize + DeserializeOwned>(v: &T) -> Result<Option<T>, Unescapable> {
    // The common case, no string to escape, is found by reading the strings in place:
    // no copy of the value is built.
    if !scan::needs_escaping(v) {
        return Ok(None);
    }
    let mut value = serde_json::to_value(v).map_err(|_| Unescapable)?;
    if !walk(&mut value, false) {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|_| Unescapable)
}

/// Renders `v` with its strings escaped, then guards the output. Fails closed: a value
/// with no escaped copy renders as [`UNESCAPABLE`], never as its raw text.
pub(crate) fn render<T: Serialize + DeserializeOwned>(v: &T, f: impl Fn(&T) -> String) -> String {
    let out = match escaped(v) {
        Ok(Some(e)) => f(&e),
        Ok(None) => f(v),
        Err(Unescapable) => UNESCAPABLE.to_string(),
    };
    guard(out)
}

/// The next character at or after byte `i` of `b` (UTF-8) that [`unsafe_char`] names
/// and the caller keeps no use for, as `(start, length in bytes)`: a C0 control not in
/// `kept` (with `crlf`, a CR followed by LF is kept too), DEL, a C1 control (`C2 80..9F`)
/// or U+2028/U+2029 (`E2 80 A8/A9`). Each starts with a byte no other character's
/// encoding starts with, so the bytes decide without decoding, and a block of 32 bytes
/// with no such byte is passed over whole (the test has no branch per byte, so it
/// vectorises): an em dash (`E2 80 94`) costs a look at its block, not a decode of the text.
fn next_unsafe<const N: usize>(
    b: &[u8],
    mut i: usize,
    kept: [u8; N],
    crlf: bool,
) -> Option<(usize, usize)> {
    let candidate =
        |x: u8| (x < 0x20 && !kept.contains(&x)) | (x == 0x7f) | (x == 0xc2) | (x == 0xe2);
    while i < b.len() {
        if let Some(block) = b.get(i..i + 32)
            && !block.iter().fold(false, |any, &x| any | candidate(x))
        {
            i += 32;
            continue;
        }
        let len = match b[i] {
            b'\r' if crlf && b.get(i + 1) == Some(&b'\n') => 0,
            x if x < 0x20 && kept.contains(&x) => 0,
            x if x < 0x20 || x == 0x7f => 1,
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => 2,
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => 3,
            _ => 0,
        };
        if len > 0 {
            return Some((i, len));
        }
        i += 1;
    }
    None
}

/// Defuses what would still command the runner: line breaks other than LF (CR, NEL,
/// U+2028, U+2029) and controls other than tab and ESC (colours) become visible
/// escapes, a line that starts with `::` after whitespace gets a backslash first, and
/// `##[` becomes `##\[`.
pub fn guard(out: String) -> String {
    let stray = |c: char| unsafe_char(c) && !matches!(c, '\n' | '\t' | '\u{1b}');
    // CRLF is a line ending (CSV's); a lone CR is not.
    let lone = |i: usize, c: char| stray(c) && !(c == '\r' && out[i + 1..].starts_with('\n'));
    let out = if next_unsafe(out.as_bytes(), 0, [b'\n', b'\t', 0x1b], true).is_some() {
        let mut s = String::with_capacity(out.len() + 16);
        for (i, c) in out.char_indices() {
            if lone(i, c) {
                s.push_str(&escape(c.encode_utf8(&mut [0; 4])));
            } else {
                s.push(c);
            }
        }
        s
    } else {
        out
    };
    let starts_command = |l: &str| l.trim_start().starts_with("::");
    // (`::` anywhere is a quick test before the line-by-line one.)
    let command = out.contains("::") && out.split('\n').any(starts_command);
    if !command && !out.contains("##[") {
        return out;
    }
    let lines: Vec<String> = out
        .split('\n')
        .map(|l| {
            let l = l.replace("##[", "##\\[");
            if starts_command(&l) {
                format!("\\{l}")
            } else {
                l
            }
        })
        .collect();
    lines.join("\n")
}

/// A piece of a JSON string as serde_json writes it (the text between the characters
/// it escapes itself), with raw line separators (NEL, U+2028, U+2029), other C1
/// controls and DEL as `\u` escapes, and `##[` as `##\u005b`: the same JSON value,
/// with no line a log reader could split it at and no legacy command. `#` occurs only
/// inside strings in JSON, and serde_json never writes `#` or `[` in an escape, so every
/// `##[` of the output is inside one piece.
pub(crate) fn json_fragment(piece: &str) -> Cow<'_, str> {
    // Most pieces are printable ASCII with no `#`: one pass with no early exit (it
    // vectorises) says so, where the general path costs a call per piece.
    if piece.bytes().fold(true, |plain, b| {
        plain & (b.wrapping_sub(0x20) < 0x5f) & (b != b'#')
    }) {
        return Cow::Borrowed(piece);
    }
    // A `#` is rare: look for one byte before looking for the three.
    let piece: Cow<'_, str> =
        if memchr::memchr(b'#', piece.as_bytes()).is_some() && piece.contains("##[") {
            Cow::Owned(piece.replace("##[", "##\\u005b"))
        } else {
            Cow::Borrowed(piece)
        };
    // One pass over the bytes; the text between the characters to escape is copied whole.
    let mut escaped: Option<String> = None;
    let mut from = 0;
    while let Some((at, len)) = next_unsafe(piece.as_bytes(), from, [], false) {
        let s = escaped.get_or_insert_with(|| String::with_capacity(piece.len() + 16));
        let c = piece[at..].chars().next().unwrap_or_default();
        s.push_str(&piece[from..at]);
        s.push_str(&format!("\\u{:04x}", c as u32));
        from = at + len;
    }
    match escaped {
        Some(mut s) => {
            s.push_str(&piece[from..]);
            Cow::Owned(s)
        }
        None => piece,
    }
}

#[cfg(test)]
mod tests;
