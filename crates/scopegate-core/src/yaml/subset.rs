//! A fast path for the block-style YAML that scopegate files are written in.
//!
//! granit-parser reads all of YAML 1.2, and on a large manifest it is most of what a
//! gate costs. Manifests use a small part of YAML: block mappings and lists, plain and
//! quoted scalars on one line, one-line `[a, b]` lists and comments. This module reads
//! exactly that part, and gives the events granit-parser gives, at the same lines and
//! columns. On anything else it gives up (`None`) and the [`Reader`](super::Reader)
//! parses the file with granit-parser from the start. Block scalars, multi-line
//! scalars, anchors, tags, flow mappings, tabs, `---` and every kind of malformed input
//! all go that way. It never reports an error itself: granit-parser stays the one judge
//! of what is valid YAML and how a fault is worded. Property and fuzz tests
//! (`fast_path_agrees`) compare the two on every input this path accepts.

use std::borrow::Cow;

#[cfg(any(test, feature = "fuzzing"))]
use granit_parser::{Event, Marker, Span};
use granit_parser::{ScalarStyle, StructureStyle};

/// A place as granit-parser counts it: line from 1, column in characters from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct At {
    line: u32,
    col: u32,
}

/// One event, compactly: a large manifest has tens of thousands of them.
#[derive(Debug)]
#[cfg_attr(
    not(any(test, feature = "fuzzing")),
    expect(
        dead_code,
        reason = "the style of a list and where one ends are checked against granit-parser's, not read"
    )
)]
pub(super) enum Tok<'a> {
    StreamStart,
    DocumentStart(At),
    Scalar(Cow<'a, str>, ScalarStyle, At),
    Seq(StructureStyle, At),
    SeqEnd(At),
    Map(At),
    MapEnd(At),
    DocumentEnd(At),
    StreamEnd(At),
}

/// Where the stream starts, as granit-parser places it.
pub(super) const START: At = At { line: 1, col: 0 };

impl At {
    /// The place as the reader reports it (columns from 1).
    pub(super) fn pos(self) -> super::Pos {
        super::Pos {
            line: self.line,
            column: self.col.saturating_add(1),
        }
    }
}

impl<'a> Tok<'a> {
    /// The event granit-parser would give, with a span that starts where its does (the
    /// span's end and character offset are not kept: scopegate reads only the start).
    /// The reader makes items of the tokens directly; this is for [`fast_path_agrees`](super::fast_path_agrees).
    #[cfg(any(test, feature = "fuzzing"))]
    pub(super) fn event(self) -> (Event<'a>, Span) {
        let (event, at) = match self {
            Tok::StreamStart => (Event::StreamStart, START),
            Tok::DocumentStart(at) => (Event::DocumentStart(false, None), at),
            Tok::Scalar(v, style, at) => (Event::Scalar(v, style, 0, None), at),
            Tok::Seq(style, at) => (Event::SequenceStart(style, 0, None), at),
            Tok::SeqEnd(at) => (Event::SequenceEnd, at),
            Tok::Map(at) => (Event::MappingStart(StructureStyle::Block, 0, None), at),
            Tok::MapEnd(at) => (Event::MappingEnd, at),
            Tok::DocumentEnd(at) => (Event::DocumentEnd, at),
            Tok::StreamEnd(at) => (Event::StreamEnd, at),
        };
        let m = Marker::new(0, at.line as usize, at.col as usize);
        (event, Span::empty(m))
    }
}

/// Deeper than this, the fast path gives up (granit-parser and the reader apply the
/// real limit and word its error).
const MAX_DEPTH: usize = 24;

/// The events of `text`, when it is written in the subset; `None` otherwise.
pub(super) fn tokens(text: &str) -> Option<Vec<Tok<'_>>> {
    if !printable(text.as_bytes()) {
        return None;
    }
    let mut p = P {
        lines: Lines {
            text,
            pos: 0,
            no: 0,
            peeked: None,
        },
        // Sized once: most lines hold two or three events (`- key: value`), and growing
        // by doubling would copy the events and touch fresh memory twice over (the
        // vector of a large manifest is megabytes). No more than one per 10 bytes is
        // reserved (a ledger has about one per 12), so blank lines cannot make a file
        // reserve much.
        out: Vec::with_capacity(
            (memchr::memchr_iter(b'\n', text.as_bytes()).count() * 3).min(text.len() / 10) + 8,
        ),
        depth: 0,
    };
    let first = p.lines.peek()?;
    p.out.push(Tok::StreamStart);
    p.out.push(Tok::DocumentStart(first.at(first.indent)));
    p.lines.next();
    if is_dash(first.rest) {
        p.seq(first, false)?;
    } else if key_len(first.rest).is_some() {
        p.map(first, first.indent)?;
    } else {
        return None;
    }
    if p.lines.peek().is_some() {
        return None;
    }
    let end = p.lines.eof();
    p.out.push(Tok::DocumentEnd(end));
    p.out.push(Tok::StreamEnd(end));
    Some(p.out)
}

/// No tab, carriage return, control character, byte-order mark or Unicode line
/// separator anywhere: where YAML gives those a meaning, it is granit-parser's to give.
fn printable(b: &[u8]) -> bool {
    // Most files are printable ASCII: chunks folded without an early exit are
    // vectorised, and say so at a fraction of a byte loop's cost.
    let odd = |c: u8| (c < 0x20 && c != b'\n') | (c >= 0x7f);
    if !b
        .chunks(64)
        .any(|chunk| chunk.iter().fold(false, |acc, &c| acc | odd(c)))
    {
        return true;
    }
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' | 0x20..=0x7e => {}
            0..=0x1f | 0x7f => return false,
            // C1 controls, U+0080..U+009F (NEL among them).
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => return false,
            // U+2028 and U+2029.
            0xe2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)) => {
                return false;
            }
            // U+FEFF, U+FFFE, U+FFFF.
            0xef if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe | 0xbf))
            ) =>
            {
                return false;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// A line with content: not blank, not only a comment.
#[derive(Clone, Copy)]
struct Line<'a> {
    no: u32,
    /// Leading spaces.
    indent: usize,
    /// The whole line, without its line break.
    full: &'a str,
    /// The line after its indentation.
    rest: &'a str,
    /// The line is all ASCII: a column is its byte offset. Each item of a one-line
    /// list asks its column, and asking whether the line up to it was ASCII each time
    /// was quadratic in the line (an 8 MB flow list: 117 s).
    ascii: bool,
}

/// From this many bytes, a one-line flow list on a line that is not all ASCII is left
/// to granit-parser: each item's column counts the line's characters up to it.
const FLOW_NON_ASCII_MAX: usize = 4096;

impl Line<'_> {
    /// Where byte `off` of the line is.
    fn at(&self, off: usize) -> At {
        let col = if self.ascii {
            off
        } else {
            self.full[..off].chars().count()
        };
        At {
            line: self.no,
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }
}

struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the next unread line.
    pos: usize,
    /// Number of the last line read.
    no: u32,
    /// The line [`Lines::peek`] found: `Some(None)` is the end.
    peeked: Option<Option<Line<'a>>>,
}

impl<'a> Lines<'a> {
    /// The next line with content, without consuming it; `None` at the end.
    fn peek(&mut self) -> Option<Line<'a>> {
        if self.peeked.is_none() {
            self.peeked = Some(self.scan());
        }
        self.peeked.flatten()
    }

    fn next(&mut self) {
        self.peek();
        self.peeked = None;
    }

    fn scan(&mut self) -> Option<Line<'a>> {
        while self.pos < self.text.len() {
            let rest_of_text = &self.text[self.pos..];
            let len = rest_of_text.find('\n').unwrap_or(rest_of_text.len());
            let full = &rest_of_text[..len];
            self.pos += len + 1;
            self.no += 1;
            let content = full.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            return Some(Line {
                no: self.no,
                indent: full.len() - content.len(),
                full,
                rest: content,
                ascii: full.is_ascii(),
            });
        }
        None
    }

    /// Where the stream ends, as granit-parser places its closing events; once every
    /// line has been read.
    fn eof(&self) -> At {
        let t = self.text;
        if t.is_empty() || t.ends_with('\n') {
            At {
                line: self.no.saturating_add(1),
                col: 0,
            }
        } else {
            let start = t.rfind('\n').map_or(0, |i| i + 1);
            At {
                line: self.no,
                col: u32::try_from(t[start..].chars().count()).unwrap_or(u32::MAX),
            }
        }
    }
}

/// The line where the next event starts, or the end: closing events are placed there.
fn next_at(lines: &mut Lines<'_>) -> At {
    match lines.peek() {
        Some(l) => l.at(l.indent),
        None => lines.eof(),
    }
}

struct P<'a> {
    lines: Lines<'a>,
    out: Vec<Tok<'a>>,
    depth: usize,
}

/// `- ` or a lone `-`: a block list entry.
fn is_dash(s: &str) -> bool {
    s == "-" || s.starts_with("- ")
}

/// Longer keys are left to granit-parser: YAML limits an implicit key to 1,024
/// characters, and past that limit the line is not a key at all.
const MAX_KEY: usize = 128;

/// A simple key (`fhir_version`, `scopes`) followed by `: ` or a line end: its length.
fn key_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if !b.first()?.is_ascii_alphanumeric() && b[0] != b'_' {
        return None;
    }
    let n = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'/')))?;
    (n <= MAX_KEY && b[n] == b':' && matches!(b.get(n + 1), None | Some(b' '))).then_some(n)
}

/// The rest of a line after a value is spaces and perhaps a comment.
fn ends_clean(s: &str) -> bool {
    let t = s.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < s.len())
}

impl<'a> P<'a> {
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block mapping whose first key starts at byte `off` of `line`, at column
    /// `col` (the indentation of the mapping's other keys).
    fn map(&mut self, line: Line<'a>, off: usize) -> Option<()> {
        self.enter()?;
        let col = line.at(off).col as usize;
        self.out.push(Tok::Map(line.at(off)));
        let (mut line, mut off) = (line, off);
        loop {
            let n = key_len(&line.full[off..])?;
            self.out.push(Tok::Scalar(
                Cow::Borrowed(&line.full[off..off + n]),
                ScalarStyle::Plain,
                line.at(off),
            ));
            self.value(line, off + n, col)?;
            match self.lines.peek() {
                Some(next) if next.indent == col && !is_dash(next.rest) => {
                    self.lines.next();
                    (line, off) = (next, next.indent);
                }
                Some(next) if next.indent >= col => return None,
                _ => break,
            }
        }
        self.out.push(Tok::MapEnd(next_at(&mut self.lines)));
        self.depth -= 1;
        Some(())
    }

    /// The value after the key's `:` at byte `colon` of `line`; `col` is the mapping's.
    fn value(&mut self, line: Line<'a>, colon: usize, col: usize) -> Option<()> {
        let after = &line.full[colon + 1..];
        let off = colon + 1 + (after.len() - after.trim_start_matches(' ').len());
        if ends_clean(after) {
            match self.lines.peek() {
                Some(next) if next.indent > col => {
                    self.lines.next();
                    self.block(next, col)
                }
                // YAML lets a mapping's list sit at the mapping's own indentation.
                Some(next) if next.indent == col && is_dash(next.rest) => {
                    self.lines.next();
                    self.seq(next, true)
                }
                _ => {
                    self.out.push(Tok::Scalar(
                        Cow::Borrowed("~"),
                        ScalarStyle::Plain,
                        line.at(colon),
                    ));
                    Some(())
                }
            }
        } else {
            self.inline(line, off, col)
        }
    }

    /// A node that starts a line of its own, inside a collection at column `owner`.
    fn block(&mut self, line: Line<'a>, owner: usize) -> Option<()> {
        if is_dash(line.rest) {
            self.seq(line, false)
        } else if key_len(line.rest).is_some() {
            self.map(line, line.indent)
        } else {
            self.inline(line, line.indent, owner)
        }
    }

    /// A block list whose first `-` starts `line`. A list at its mapping's own
    /// indentation (`compact`) is placed, as granit-parser places it, at its first item.
    fn seq(&mut self, line: Line<'a>, compact: bool) -> Option<()> {
        self.enter()?;
        let dash = line.indent;
        let first_item =
            dash + 1 + (line.rest.len() - 1 - line.rest[1..].trim_start_matches(' ').len());
        let at = if compact {
            if ends_clean(&line.rest[1..]) {
                return None;
            }
            line.at(first_item)
        } else {
            line.at(dash)
        };
        self.out.push(Tok::Seq(StructureStyle::Block, at));
        let mut line = line;
        loop {
            let after = &line.full[dash + 1..];
            let off = dash + 1 + (after.len() - after.trim_start_matches(' ').len());
            let item = &line.full[off..];
            if ends_clean(after) {
                match self.lines.peek() {
                    Some(next) if next.indent > dash => {
                        self.lines.next();
                        self.block(next, dash)?;
                    }
                    // granit-parser places an empty item at the end of its line.
                    _ => self.out.push(Tok::Scalar(
                        Cow::Borrowed("~"),
                        ScalarStyle::Plain,
                        line.at(line.full.len()),
                    )),
                }
            } else if item.starts_with('-') {
                return None;
            } else if key_len(item).is_some() {
                self.map(line, off)?;
            } else {
                self.inline(line, off, dash)?;
            }
            match self.lines.peek() {
                Some(next) if next.indent == dash && is_dash(next.rest) => {
                    self.lines.next();
                    line = next;
                }
                Some(next) if next.indent > dash || (next.indent == dash && !compact) => {
                    return None;
                }
                _ => break,
            }
        }
        self.out.push(Tok::SeqEnd(next_at(&mut self.lines)));
        self.depth -= 1;
        Some(())
    }

    /// A value written on `line` from byte `off`, in a collection at column `owner`:
    /// a one-line scalar or `[…]` list, after which no line may be indented past `owner`
    /// (that would continue a multi-line scalar).
    fn inline(&mut self, line: Line<'a>, off: usize, owner: usize) -> Option<()> {
        let s = &line.full[off..];
        let rest = match s.as_bytes()[0] {
            b'"' | b'\'' => {
                let (value, style, len) = quoted(s)?;
                self.out.push(Tok::Scalar(value, style, line.at(off)));
                &s[len..]
            }
            b'[' => {
                let len = self.flow(line, off)?;
                &s[len..]
            }
            c if is_indicator(c) => return None,
            _ => {
                // The scalar ends at a comment; `: ` or a final `:` in it would make it a
                // key (or an error), which is granit-parser's to sort out.
                let b = s.as_bytes();
                let mut end = b.len();
                let mut from = 0;
                while let Some(k) = memchr::memchr2(b'#', b':', &b[from..]) {
                    let i = from + k;
                    if b[i] == b'#' && b[i - 1] == b' ' {
                        end = i;
                        break;
                    }
                    if b[i] == b':' && matches!(b.get(i + 1), None | Some(b' ')) {
                        return None;
                    }
                    from = i + 1;
                }
                let value = s[..end].trim_end_matches(' ');
                self.out.push(Tok::Scalar(
                    Cow::Borrowed(value),
                    ScalarStyle::Plain,
                    line.at(off),
                ));
                &s[end..]
            }
        };
        if !ends_clean(rest) {
            return None;
        }
        match self.lines.peek() {
            Some(next) if next.indent > owner => None,
            _ => Some(()),
        }
    }

    /// A one-line flow list at byte `off` of `line`; its length in bytes.
    fn flow(&mut self, line: Line<'a>, off: usize) -> Option<usize> {
        if !line.ascii && line.full.len() >= FLOW_NON_ASCII_MAX {
            return None;
        }
        self.enter()?;
        self.out.push(Tok::Seq(StructureStyle::Flow, line.at(off)));
        let s = &line.full[off..];
        let b = s.as_bytes();
        let mut i = 1;
        loop {
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            match *b.get(i)? {
                b']' => break,
                b'"' | b'\'' => {
                    let (value, style, len) = quoted(&s[i..])?;
                    self.out.push(Tok::Scalar(value, style, line.at(off + i)));
                    i += len;
                }
                c if is_indicator(c) => return None,
                _ => {
                    let len = s[i..].find([',', '[', ']', '{', '}', '#', ':'])?;
                    if !matches!(b[i + len], b',' | b']') {
                        return None;
                    }
                    let value = s[i..i + len].trim_end_matches(' ');
                    self.out.push(Tok::Scalar(
                        Cow::Borrowed(value),
                        ScalarStyle::Plain,
                        line.at(off + i),
                    ));
                    i += len;
                }
            }
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
            match *b.get(i)? {
                b',' => i += 1,
                b']' => break,
                _ => return None,
            }
        }
        self.out.push(Tok::SeqEnd(line.at(off + i)));
        self.depth -= 1;
        Some(i + 1)
    }
}

/// Bytes that cannot start a plain scalar here, or that start one only in ways the
/// fast path leaves to granit-parser (`-1`, `:x`, `?x`).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// A quoted scalar closed on the same line: its value, style and length with quotes.
fn quoted(s: &str) -> Option<(Cow<'_, str>, ScalarStyle, usize)> {
    let b = s.as_bytes();
    let q = b[0];
    let mut owned: Option<String> = None;
    let mut start = 1;
    let mut i = 1;
    loop {
        // Jump to the next quote or backslash: the bytes between are the value's.
        i += memchr::memchr2(q, b'\\', b.get(i..)?)?;
        let c = b[i];
        if c == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                // '' stands for '.
                owned
                    .get_or_insert_with(String::new)
                    .push_str(&s[start..=i]);
                i += 2;
                start = i;
                continue;
            }
            break;
        }
        if c == b'\\' && q == b'"' {
            let esc = match *b.get(i + 1)? {
                b'\\' => '\\',
                b'"' => '"',
                b'/' => '/',
                b'n' => '\n',
                b't' => '\t',
                _ => return None,
            };
            let o = owned.get_or_insert_with(String::new);
            o.push_str(&s[start..i]);
            o.push(esc);
            i += 2;
            start = i;
            continue;
        }
        // A backslash in a single-quoted scalar is an ordinary character.
        i += 1;
    }
    let value = match owned {
        Some(mut o) => {
            o.push_str(&s[start..i]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(&s[1..i]),
    };
    let style = if q == b'"' {
        ScalarStyle::DoubleQuoted
    } else {
        ScalarStyle::SingleQuoted
    };
    Some((value, style, i + 1))
}

#[cfg(test)]
mod tests;
