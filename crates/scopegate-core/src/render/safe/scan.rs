//! Whether a value holds any string [`super::escaped`] would change, found without
//! building it a copy: a serializer that only reads strings, and stops at the first one
//! that needs escaping.
//!
//! It must never miss a string the walk would escape; where it cannot tell a map value
//! from a multi-line field it treats it as single-line, which can only say "yes" more
//! often.

use std::fmt;

use serde::Serialize;
use serde::ser;

use super::{MULTILINE, next_unsafe};

/// True when some string in `v` has a character [`super::escaped`] escapes, or when the
/// scan cannot tell (a value serde refuses): then the walk decides.
pub(super) fn needs_escaping<T: Serialize + ?Sized>(v: &T) -> bool {
    v.serialize(Scan { multiline: false }).is_err()
}

fn unsafe_in(s: &str, multiline: bool) -> bool {
    if multiline {
        next_unsafe(s.as_bytes(), 0, [b'\n'], false).is_some()
    } else {
        next_unsafe(s.as_bytes(), 0, [], false).is_some()
    }
}

#[derive(Debug)]
enum Found {
    /// A string to escape: the scan stops here.
    Unsafe,
    /// The value cannot be serialised (a custom error): the walk decides what that means.
    Other,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("found")
    }
}

impl std::error::Error for Found {}

impl ser::Error for Found {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Found::Other
    }
}

#[derive(Clone, Copy)]
struct Scan {
    /// The string is a field whose value is lines by nature (`\n` stays).
    multiline: bool,
}

type R = Result<(), Found>;

impl ser::Serializer for Scan {
    type Ok = ();
    type Error = Found;
    type SerializeSeq = Scan;
    type SerializeTuple = Scan;
    type SerializeTupleStruct = Scan;
    type SerializeTupleVariant = Scan;
    type SerializeMap = Scan;
    type SerializeStruct = Scan;
    type SerializeStructVariant = Scan;

    fn serialize_str(self, v: &str) -> R {
        if unsafe_in(v, self.multiline) {
            Err(Found::Unsafe)
        } else {
            Ok(())
        }
    }
    fn serialize_char(self, v: char) -> R {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_bool(self, _: bool) -> R {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> R {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> R {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> R {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> R {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> R {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> R {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> R {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> R {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> R {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> R {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Ok(())
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    // A unit variant is the enum's own name for itself (serialised as a string the
    // program wrote, like a field name), never user text.
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        v: &T,
    ) -> R {
        v.serialize(Scan { multiline: false })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Scan, Found> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Scan, Found> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Scan, Found> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Scan, Found> {
        Ok(Scan { multiline: false })
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Scan, Found> {
        Ok(Scan { multiline: false })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Scan, Found> {
        Ok(Scan { multiline: false })
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Scan, Found> {
        Ok(Scan { multiline: false })
    }
}

/// The list-like parts (a sequence, a tuple, a tuple struct or variant): each element
/// is read as the list itself is.
macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Scan {
            type Ok = ();
            type Error = Found;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
                v.serialize(*self)
            }
            fn end(self) -> R {
                Ok(())
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Scan {
    type Ok = ();
    type Error = Found;
    // The walk escapes no key, so the scan reads none (a key serde_json refuses makes
    // the walk's copy fail whichever way the scan answers). Values are read as
    // single-line, which can only flag more.
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> R {
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> R {
        v.serialize(Scan { multiline: false })
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStruct for Scan {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        v.serialize(Scan {
            multiline: MULTILINE.contains(&key),
        })
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for Scan {
    type Ok = ();
    type Error = Found;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> R {
        v.serialize(Scan {
            multiline: MULTILINE.contains(&key),
        })
    }
    fn end(self) -> R {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;

    use super::needs_escaping;

    #[derive(Serialize, Debug, Clone)]
    enum E {
        Unit,
        New(String),
        Tup(String, u8),
        St { text_diff: String, s: String },
    }

    #[derive(Serialize, Debug)]
    struct T {
        a: String,
        text_diff: String,
        xs: Vec<Option<String>>,
        m: BTreeMap<String, String>,
        e: E,
        c: char,
    }

    fn text() -> impl Strategy<Value = String> {
        "([a-z ]{0,6}[\\n\\t\\x7f\\u{85}\\u{a0}\\u{2028}\\u{e9}]?){0,3}"
    }

    fn e() -> impl Strategy<Value = E> {
        prop_oneof![
            Just(E::Unit),
            text().prop_map(E::New),
            (text(), any::<u8>()).prop_map(|(s, n)| E::Tup(s, n)),
            (text(), text()).prop_map(|(text_diff, s)| E::St { text_diff, s }),
        ]
    }

    proptest! {
        /// The scan says "escape" exactly when the walk over the serde_json copy changes
        /// a string (map keys here are never `text_diff`, the one place the scan may
        /// say yes where the walk keeps a line feed).
        #[test]
        fn the_scan_agrees_with_the_walk(
            a in text(),
            text_diff in text(),
            xs in proptest::collection::vec(proptest::option::of(text()), 0..3),
            m in proptest::collection::btree_map("[a-z]{1,3}", text(), 0..3),
            e in e(),
            c in prop_oneof![Just('x'), Just('\n'), Just('\u{85}')],
        ) {
            let t = T { a, text_diff, xs, m, e, c };
            let mut v = serde_json::to_value(&t).unwrap();
            let walked = super::super::walk(&mut v, false);
            prop_assert_eq!(needs_escaping(&t), walked, "{:?}", t);
        }
    }

    #[test]
    fn a_line_feed_is_kept_only_in_a_multiline_field() {
        #[derive(Serialize)]
        struct D {
            text_diff: String,
        }
        assert!(!needs_escaping(&D {
            text_diff: "-a\n+b\n".into()
        }));
        assert!(needs_escaping(&D {
            text_diff: "-a\r\n".into()
        }));
        assert!(needs_escaping(&BTreeMap::from([("text_diff", "a\nb")])));
        assert!(!needs_escaping(&vec!["plain", "text"]));
    }
}
