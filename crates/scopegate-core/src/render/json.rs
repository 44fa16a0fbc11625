//! JSON output: stable, pretty, newline-terminated.
//!
//! JSON is data: its strings stay as they are, and raw line separators in them are
//! written as `\u` escapes (`safe::json_fragment`, applied as serde_json
//! writes each string), so the output streams to any writer with no second pass.

use std::io;

use serde::Serialize;

use crate::report::Report;
use serde_json::ser::Formatter;

pub fn render<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    match write(value, &mut out) {
        // Only valid UTF-8 is written: serde_json's output, and escapes.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(e) => format!("{{\"error\": \"{e}\"}}\n"),
    }
}

/// Writes `value` as [`render`] renders it, to `out` as it goes: a large report is
/// never held whole in memory.
pub fn write<T: Serialize + ?Sized, W: io::Write>(value: &T, mut out: W) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Safe::default());
    value.serialize(&mut ser).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// From this many changes and findings, [`write_report`] renders the report's lists on
/// two cores: a report of 2,000 changes and 2,000 findings is 5.5 MB of JSON, about 3.5
/// ms on one core. Below it a thread costs more than it saves.
const TWO_CORES_FROM: usize = 500;

/// The elements of a list rendered as one piece: about 100 kB of a large report's
/// changes, few enough pieces that handing them over costs nothing.
const PIECE: usize = 64;

/// Writes `r` exactly as [`write()`] does, byte for byte. A large report's lists (its
/// app rows with their text diffs, its changes and its findings, cut into pieces of
/// 64 elements) are rendered by two threads, each taking the next piece when
/// free, and written in order as they are done: the output streams, and only a few
/// pieces are ever held (the whole of them was 7 MB of buffers).
pub fn write_report<W: io::Write>(r: &Report, out: W) -> io::Result<()> {
    write_report_from(r, out, TWO_CORES_FROM)
}

fn write_report_from<W: io::Write>(
    r: &Report,
    mut out: W,
    two_cores_from: usize,
) -> io::Result<()> {
    if r.changes.len() + r.findings.len() < two_cores_from {
        return write(r, out);
    }
    // The fields in the order the derived `Serialize` writes them (the tests hold the
    // two to the same bytes).
    let mut o = TopObject::open(&mut out)?;
    o.field("format_version", &r.format_version)?;
    o.field("tool", &r.tool)?;
    o.field("summary", &r.summary)?;
    o.field("verdict", &r.verdict)?;
    o.field("reasons", &r.reasons)?;
    o.field("advisory", &r.advisory)?;
    o.field("baseline", &r.baseline)?;
    o.field("manifests", &r.manifests)?;
    let pieces = Pieces {
        changes: r.changes.len().div_ceil(PIECE),
        findings: r.findings.len().div_ceil(PIECE),
    };
    let render = |k: usize| pieces.render(r, k);
    crate::threads::in_order_on_two(pieces.count(), &render, |bytes| o.out.write_all(&bytes?))?;
    o.field("tenant_mode", &r.tenant_mode)?;
    o.field("tenants", &r.tenants)?;
    o.close()?;
    out.write_all(b"\n")
}

/// The pieces of a large report's `apps`, `changes` and `findings` fields, in order:
/// the whole `apps` field, then each list's key and its elements [`PIECE`] at a time,
/// the first piece opening the list and the last closing it.
struct Pieces {
    /// How many pieces each list is cut into.
    changes: usize,
    findings: usize,
}

impl Pieces {
    fn count(&self) -> usize {
        1 + self.changes.max(1) + self.findings.max(1)
    }

    /// Piece `k`, as it is written.
    fn render(&self, r: &Report, k: usize) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        if k == 0 {
            TopObject::after_first(&mut bytes).field("apps", &r.apps)?;
            return Ok(bytes);
        }
        // The list the piece is of, how many pieces it has, and which of them this is.
        let (name, items, n, i): (_, &dyn ListPiece, _, _) = if k <= self.changes.max(1) {
            ("changes", &r.changes, self.changes, k - 1)
        } else {
            (
                "findings",
                &r.findings,
                self.findings,
                k - 1 - self.changes.max(1),
            )
        };
        if i == 0 {
            TopObject::after_first(&mut bytes).key(name)?;
            bytes.extend_from_slice(if n == 0 { b"[]" } else { b"[" });
        }
        if n > 0 {
            items.elements(i * PIECE, &mut bytes)?;
            if i + 1 == n {
                // The list's end, as `Safe` closes it.
                Safe::at_field().line(&mut bytes, true)?;
                bytes.extend_from_slice(b"]");
            }
        }
        Ok(bytes)
    }
}

/// A list of the report, rendered [`PIECE`] elements at a time.
trait ListPiece: Sync {
    /// The elements from number `from` (at most [`PIECE`]), each after its line break,
    /// as `Safe` writes them inside the list.
    fn elements(&self, from: usize, bytes: &mut Vec<u8>) -> io::Result<()>;
}

impl<T: Serialize + Sync> ListPiece for Vec<T> {
    fn elements(&self, from: usize, bytes: &mut Vec<u8>) -> io::Result<()> {
        let inside = || Safe {
            depth: 2,
            has_value: false,
        };
        let to = self.len().min(from + PIECE);
        for (k, item) in self[from..to].iter().enumerate() {
            inside().line(&mut *bytes, from + k == 0)?;
            inside().value(item, &mut *bytes)?;
        }
        Ok(())
    }
}

/// The top-level object, written a field at a time as [`Safe`] lays it out.
struct TopObject<'w, W: io::Write> {
    out: &'w mut W,
    first: bool,
}

impl<'w, W: io::Write> TopObject<'w, W> {
    fn open(out: &'w mut W) -> io::Result<Self> {
        out.write_all(b"{")?;
        Ok(TopObject { out, first: true })
    }

    /// The object's next fields, after its first.
    fn after_first(out: &'w mut W) -> Self {
        TopObject { out, first: false }
    }

    /// The line break, the indentation and the key of the next field.
    fn key(&mut self, name: &str) -> io::Result<()> {
        Safe::at_field().line(self.out, std::mem::take(&mut self.first))?;
        self.out.write_all(b"\"")?;
        self.out.write_all(name.as_bytes())?;
        self.out.write_all(b"\": ")
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> io::Result<()> {
        self.key(name)?;
        Safe::at_field().value(value, &mut *self.out)
    }

    fn close(self) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(b"}")
    }
}

/// `,\n` and the indentation of the deepest level written in one piece.
const BREAK: &[u8; 2 + 2 * 16] = b",\n                                ";

/// serde_json's pretty layout (two spaces a level, `"key": value`, empty arrays and
/// objects as `[]` and `{}`), with every piece of string text made safe. Each line
/// break and its indentation is one write, where serde_json's `PrettyFormatter` makes
/// one per level: a large report is hundreds of thousands of lines.
#[derive(Default)]
struct Safe {
    depth: usize,
    has_value: bool,
}

impl Safe {
    /// The state inside the top-level object, where its fields' values are written.
    fn at_field() -> Safe {
        Safe {
            depth: 1,
            has_value: false,
        }
    }

    /// Writes `value` from this state.
    fn value<T: Serialize + ?Sized, W: io::Write>(self, value: &T, out: W) -> io::Result<()> {
        let mut ser = serde_json::Serializer::with_formatter(out, self);
        value.serialize(&mut ser).map_err(io::Error::other)
    }

    /// A line break (after a comma unless `first`) and the current indentation.
    fn line<W: ?Sized + io::Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        let from = usize::from(first);
        match BREAK.get(from..2 + 2 * self.depth) {
            Some(piece) => w.write_all(piece),
            None => {
                w.write_all(&BREAK[from..2])?;
                (0..self.depth).try_for_each(|_| w.write_all(b"  "))
            }
        }
    }

    fn open<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + io::Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            self.line(w, true)?;
        }
        w.write_all(bracket)
    }
}

impl Formatter for Safe {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        w.write_all(super::safe::json_fragment(fragment).as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.line(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::report::Report;

    /// The layout is serde_json's pretty one, byte for byte, at any depth (past the
    /// one-piece indentation too), with empty arrays and objects, and strings with no
    /// character to make safe.
    #[test]
    fn the_layout_is_serde_jsons_pretty_layout() {
        let mut deep = json!({"leaf": [1, {"k": []}, {}]});
        for i in 0..40 {
            deep = if i % 2 == 0 {
                json!([deep, i, {}])
            } else {
                json!({"a": deep, "b": [], "c": {"x": "y"}})
            };
        }
        for v in [
            deep,
            json!([]),
            json!({}),
            json!([[], {}, [[]], {"a": {}}]),
            json!({"s": "text", "n": null, "f": 1.5, "t": true}),
        ] {
            let want = serde_json::to_string_pretty(&v).unwrap() + "\n";
            assert_eq!(super::render(&v), want);
        }
    }

    /// A real gate's report (`examples/tenants/demo.sh --json`): every field of the
    /// report set, tenant rows and mode too. Strings that need escaping are added.
    fn full_report() -> Report {
        let mut r: Report = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/report/tenants-gate.json"
        ))
        .unwrap();
        r.apps[0]
            .text_diff
            .push_str("+  a line\u{2028}separator \"quoted\" \u{7}\n");
        r.findings[0].message.push_str(" \u{2029}and\ttab");
        // In the second half of the changes, which is rendered apart from the first.
        let last = r.changes.len() - 1;
        r.changes[last]
            .description
            .push_str(" \u{2028}\"quoted\" <!-- x --> \u{1b}[31m");
        assert!(r.changes.len() > 1 && r.findings.len() > 1 && !r.tenants.is_empty());
        assert!(r.tenant_mode.is_some() && r.baseline.is_some() && !r.reasons.is_empty());
        r
    }

    fn written(r: &Report, two_cores_from: usize) -> String {
        let mut out = Vec::new();
        super::write_report_from(r, &mut out, two_cores_from).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The report written with its lists made on a second core is the one-core
    /// rendering, byte for byte: every field, in the derived order (a field left out
    /// or moved fails this), with strings made safe the same way.
    #[test]
    fn a_report_written_on_two_cores_is_the_same_bytes() {
        let r = full_report();
        let one_core = super::render(&r);
        assert_eq!(written(&r, 0), one_core);
        // The hostile text is escaped, not passed through, in every list.
        assert!(!one_core.contains('\u{2028}') && !one_core.contains('\u{1b}'));
        assert!(one_core.contains("\\u2028") && one_core.contains("\\u001b"));
        // Below the size for two cores, and an empty report.
        assert_eq!(written(&r, usize::MAX), one_core);
        let mut empty = r.clone();
        empty.changes.clear();
        empty.findings.clear();
        empty.apps.clear();
        empty.tenants.clear();
        assert_eq!(written(&empty, 0), super::render(&empty));
        // One change: the first half is empty, the second starts the list.
        let mut one = r.clone();
        one.changes.truncate(1);
        assert_eq!(written(&one, 0), super::render(&one));
        // A report large enough for two cores through the public writer.
        let mut large = r;
        for _ in 0..8 {
            large.changes.extend(large.changes.clone());
            large.findings.extend(large.findings.clone());
        }
        assert!(large.changes.len() + large.findings.len() >= super::TWO_CORES_FROM);
        let mut out = Vec::new();
        super::write_report(&large, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), super::render(&large));
        // Lists cut at every kind of piece boundary: one short of a piece, a piece
        // exactly, one over, and one list empty while the other is long.
        for (changes, findings) in [
            (super::PIECE - 1, super::PIECE),
            (super::PIECE, super::PIECE + 1),
            (2 * super::PIECE + 1, 0),
            (0, 3 * super::PIECE),
        ] {
            let mut cut = large.clone();
            cut.changes.truncate(changes);
            cut.findings.truncate(findings);
            assert_eq!(
                written(&cut, 0),
                super::render(&cut),
                "{changes} changes, {findings} findings"
            );
        }
    }

    /// A writer that fails stops the rendering with its error, on both threads.
    #[test]
    fn a_failing_writer_stops_a_large_report_with_its_error() {
        struct Full(usize);
        impl std::io::Write for Full {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                if self.0 < b.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= b.len();
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut large = full_report();
        for _ in 0..8 {
            large.changes.extend(large.changes.clone());
        }
        let whole = super::render(&large).len();
        for room in [0, 100, whole / 2, whole - 2] {
            let e = super::write_report_from(&large, Full(room), 0).unwrap_err();
            assert_eq!(e.to_string(), "disk full", "room for {room} bytes");
        }
        super::write_report_from(&large, Full(whole), 0).unwrap();
    }
}
