//! Unit tests for the escaping every renderer applies.

use super::*;

#[test]
fn line_breaks_and_controls_become_visible() {
    assert_eq!(
        escape("a\nb\r\u{85}c\u{2028}d\u{2029}e\u{1b}[1m\u{7}"),
        "a\\nb\\r\\u{85}c\\u{2028}d\\u{2029}e\\u{1b}[1m\\u{7}"
    );
    assert!(matches!(escape("plain text: ok"), Cow::Borrowed(_)));
}

#[test]
fn command_lines_are_defused_even_after_whitespace() {
    let out = guard(
        "ok\n  ::notice::PASS\n\u{a0}::add-mask::x\nfine ##[add-mask]y\rz\u{2028}::debug::d\n"
            .into(),
    );
    assert_eq!(
        out,
        "ok\n\\  ::notice::PASS\n\\\u{a0}::add-mask::x\nfine ##\\[add-mask]y\\rz\\u{2028}::debug::d\n"
    );
    // CSV's CRLF stays; the line after it is still checked.
    assert_eq!(guard("a\r\n::x::y\r\n".into()), "a\r\n\\::x::y\r\n");
    assert!(out.lines().all(|l| !l.trim_start().starts_with("::")));
}

#[test]
fn every_string_of_a_value_is_escaped_and_diffs_keep_their_lines() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct R {
        by: String,
        text_diff: String,
        list: Vec<String>,
    }
    let r = R {
        by: "x\n::notice::PASS".into(),
        text_diff: "+a\n-b\u{2028}c\n".into(),
        list: vec!["\"quoted\\\" ok".into(), "t\u{85}".into()],
    };
    let e = escaped(&r).unwrap().unwrap();
    assert_eq!(e.by, "x\\n::notice::PASS");
    assert_eq!(e.text_diff, "+a\n-b\\u{2028}c\n");
    assert_eq!(e.list, ["\"quoted\\\" ok", "t\\u{85}"]);
    let clean = R {
        by: "a \\n b".into(),
        text_diff: "+a\n".into(),
        list: vec![],
    };
    assert!(escaped(&clean).unwrap().is_none());
}

#[test]
fn json_keeps_its_value_without_raw_separators() {
    let out = crate::render::json::render(&serde_json::json!({"a": "x\u{2028}::notice::y\u{85}"}));
    assert!(
        !out.contains('\u{2028}') && !out.contains('\u{85}'),
        "{out}"
    );
    let back: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back["a"], "x\u{2028}::notice::y\u{85}");
}

proptest::proptest! {
    /// The byte prefilters in `guard` skip only text with nothing to defuse: the
    /// result is the character-by-character definition's.
    #[test]
    fn guard_agrees_with_the_per_character_definition(
        s in "([a-z :#\\[]{0,50}[\\n\\r\\t\\x1b\\x7f\\x01\\u{85}\\u{a0}\\u{2028}\\u{2029}\\u{e9}]{0,2}){0,8}"
    ) {
        let stray = |c: char| unsafe_char(c) && !matches!(c, '\n' | '\t' | '\u{1b}');
        let lone = |i: usize, c: char| stray(c) && !(c == '\r' && s[i + 1..].starts_with('\n'));
        let escaped: String = s
            .char_indices()
            .map(|(i, c)| if lone(i, c) { escape(c.encode_utf8(&mut [0; 4])).into_owned() } else { c.to_string() })
            .collect();
        let expected = escaped
            .split('\n')
            .map(|l| {
                let l = l.replace("##[", "##\\[");
                if l.trim_start().starts_with("::") { format!("\\{l}") } else { l }
            })
            .collect::<Vec<_>>()
            .join("\n");
        proptest::prop_assert_eq!(guard(s.clone()), expected);
    }
}

proptest::proptest! {
    /// Whatever a string holds, the rendered JSON reads back as the same value, with no
    /// raw character a log reader splits lines at, no control but the layout's `\n`,
    /// and no `##[`.
    #[test]
    fn rendered_json_is_the_same_value_with_nothing_to_split_or_command(
        s in "([a-z :#\\[\"\\\\]{0,30}[\\n\\r\\t\\x00\\x1f\\x7f\\u{80}\\u{85}\\u{9f}\\u{2028}\\u{2029}\\u{e9}#\\[]{0,3}){0,8}"
    ) {
        let v = serde_json::json!({"k": s, s.clone(): [s.clone(), {"n": 1}]});
        let out = crate::render::json::render(&v);
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        proptest::prop_assert_eq!(&back, &v);
        proptest::prop_assert!(!out.contains("##["));
        proptest::prop_assert!(!out.chars().any(|c| unsafe_char(c) && c != '\n'), "{}", out);
    }
}

/// The layout is serde_json's pretty one, empty and nested containers included (the
/// formatter forwards each layout method).
#[test]
fn rendered_json_has_serde_jsons_pretty_layout() {
    let v = serde_json::json!({
        "k": "a", "a": ["a", {"n": 1}], "e": [], "o": {}, "deep": [[[]], [{"x": [1, 2]}]]
    });
    let plain = serde_json::to_string_pretty(&v).unwrap();
    assert_eq!(crate::render::json::render(&v), plain + "\n");
}

proptest::proptest! {
    /// The byte scan escapes exactly the characters `unsafe_char` names, wherever they
    /// fall: next to other multi-byte characters, at either end.
    #[test]
    fn json_fragment_escapes_exactly_the_unsafe_characters(
        s in "([a-z ]{0,70}[\\n\\t\\x7f\\u{80}\\u{85}\\u{9f}\\u{a0}\\u{2028}\\u{2029}\\u{202a}\\u{2027}\\u{e9}\\u{1f600}#\\[]{0,3}){0,8}"
    ) {
        let expected: String = s
            .replace("##[", "##\\u005b")
            .chars()
            .map(|c| if unsafe_char(c) { format!("\\u{:04x}", c as u32) } else { c.to_string() })
            .collect();
        proptest::prop_assert_eq!(json_fragment(&s), expected);
    }
}

/// A value that does not read back as it was written: no escaped copy of it can be
/// made. The render fails closed, never falling back to the raw text.
#[test]
fn a_value_with_no_escaped_copy_renders_as_an_error_never_as_its_raw_text() {
    #[derive(serde::Serialize)]
    struct OneWay {
        by: String,
    }
    impl<'de> serde::Deserialize<'de> for OneWay {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Err(serde::de::Error::custom("reads back as nothing"))
        }
    }
    let attack = OneWay {
        by: "x\u{1b}[2J\n::notice::PASS".into(),
    };
    let out = render(&attack, |v| format!("approved by {}\n", v.by));
    assert_eq!(out, UNESCAPABLE);
    assert!(!out.contains('\u{1b}') && !out.contains("::notice"));
    // Control: with nothing to escape, the value renders as it is.
    let clean = OneWay { by: "alice".into() };
    assert_eq!(
        render(&clean, |v| format!("approved by {}\n", v.by)),
        "approved by alice\n"
    );
}
