//! JSON output: stable, pretty, newline-terminated.
//!
//! JSON is data: its strings stay as they are, and raw line separators in them are
//! written as `\u` escapes (`safe::json_fragment`, applied as serde_json
//! writes each string), so the output streams to any writer with no second pass.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

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
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Safe(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Formatter methods that forward to the wrapped `PrettyFormatter`.
macro_rules! pretty {
    ($($name:ident($($arg:ident: $ty:ty)?);)*) => {$(
        fn $name<W: ?Sized + io::Write>(&mut self, w: &mut W $(, $arg: $ty)?) -> io::Result<()> {
            self.0.$name(w $(, $arg)?)
        }
    )*};
}

/// serde_json's pretty formatter, with every piece of string text made safe.
struct Safe<'a>(PrettyFormatter<'a>);

impl Formatter for Safe<'_> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        w.write_all(super::safe::json_fragment(fragment).as_bytes())
    }

    // The layout is the pretty formatter's: every method it overrides, forwarded.
    pretty! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }
}
