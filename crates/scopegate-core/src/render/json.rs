//! JSON output: stable, pretty, newline-terminated.
//!
//! JSON is data: its strings stay as they are, and raw line separators in them are
//! written as `\u` escapes (`safe::json_fragment`, applied as serde_json
//! writes each string), so the output streams to any writer with no second pass.

use std::io;

use serde::Serialize;
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
}
