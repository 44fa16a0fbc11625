//! YAML in, typed values out: the strict reader every scopegate file goes through.
//!
//! Owns the limits (size, depth, no anchors), positions (`line:column`) and the wording
//! of load errors with hints. It knows no file format: callers give the type.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_saphyr::Spanned;

use crate::hint::did_you_mean;

/// Files larger than this are refused before parsing: a CI gate must not be held
/// by a huge file. 5,000 scopes with rationales and 500 workflows are about 1 MiB.
pub const MAX_BYTES: usize = 8 << 20;
/// Deeper nesting than any manifest needs is refused (the format is 4 levels deep).
const MAX_DEPTH: usize = 32;

/// A place in the manifest file, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub fn of<T>(s: &Spanned<T>) -> Pos {
        Pos {
            line: u32::try_from(s.referenced.line()).unwrap_or(u32::MAX),
            column: u32::try_from(s.referenced.column()).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Text written in the manifest, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub value: String,
    pub pos: Pos,
}

impl Text {
    pub fn of(s: Spanned<String>) -> Text {
        Text {
            pos: Pos::of(&s),
            value: s.value,
        }
    }

    /// Empty, or a placeholder left by `scopegate init`.
    pub fn is_placeholder(&self) -> bool {
        let t = self.value.trim();
        t.is_empty() || t.starts_with("TODO")
    }
}

/// One reason a manifest could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
    pub hint: Option<String>,
}

/// A manifest that could not be loaded, with every problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub problems: Vec<Problem>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}: error: {}", self.path, p.pos, p.message)?;
            if let Some(h) = &p.hint {
                write!(f, "\n  hint: {h}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

pub fn fail(path: &str, pos: Pos, message: impl Into<String>, hint: Option<String>) -> LoadError {
    LoadError {
        path: path.to_string(),
        problems: vec![Problem {
            pos,
            message: message.into(),
            hint,
        }],
    }
}

/// Decodes bytes as UTF-8, refusing oversized files; errors are located.
pub fn text_of<'a>(path: &str, bytes: &'a [u8]) -> Result<&'a str, LoadError> {
    if bytes.len() > MAX_BYTES {
        return Err(fail(
            path,
            Pos { line: 1, column: 1 },
            format!("the file is larger than {MAX_BYTES} bytes, the most a scopegate file may be"),
            None,
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let col = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) + 1;
        fail(
            path,
            Pos {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                column: u32::try_from(col).unwrap_or(u32::MAX),
            },
            "the file is not valid UTF-8",
            Some("save the file as UTF-8".into()),
        )
    })
}

/// Parses YAML text into `T` with scopegate's strict options.
pub fn parse<T: DeserializeOwned>(path: &str, text: &str) -> Result<T, LoadError> {
    let opts = serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            // No scopegate file needs anchors; refusing them stops alias bombs outright.
            max_anchors: 0,
            max_aliases: 0,
            max_reader_input_bytes: Some(MAX_BYTES),
        },
    };
    serde_saphyr::from_str_with_options(text, opts).map_err(|e| yaml_error(path, &e))
}

fn yaml_error(path: &str, e: &serde_saphyr::Error) -> LoadError {
    let pos = e
        .location()
        .map(|l| Pos {
            line: u32::try_from(l.line()).unwrap_or(u32::MAX),
            column: u32::try_from(l.column()).unwrap_or(u32::MAX),
        })
        .unwrap_or(Pos { line: 1, column: 1 });
    let full = e.to_string();
    let msg = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    let (message, hint) = explain_yaml_message(&msg);
    fail(path, pos, message, hint)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" into the name and a
/// "did you mean" hint (or the list of choices).
fn unknown_with_choices(msg: &str, prefix: &str, choices: &str) -> Option<(String, String)> {
    let (name, expected) = msg.strip_prefix(prefix)?.split_once("`, expected ")?;
    let options: Vec<&str> = expected
        .trim_start_matches("one of ")
        .split(", ")
        .map(|s| s.trim_matches('`'))
        .collect();
    let hint = match did_you_mean(name, options.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None => format!("{choices}: {}", options.join(", ")),
    };
    Some((name.to_string(), hint))
}

/// Turns the YAML library's wording into ours, with a hint where one helps.
fn explain_yaml_message(msg: &str) -> (String, Option<String>) {
    if let Some((field, hint)) = unknown_with_choices(msg, "unknown field `", "known keys here") {
        return (format!("unknown key `{field}`"), Some(hint));
    }
    if let Some((v, hint)) = unknown_with_choices(msg, "unknown variant `", "expected one of") {
        return (format!("unknown value `{v}`"), Some(hint));
    }
    if let Some(key) = msg.strip_prefix("duplicate mapping key: ") {
        let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
        return (format!("duplicate key `{key}`"), None);
    }
    if msg.contains("budget breached: Anchors") || msg.contains("budget breached: Aliases") {
        return (
            "YAML anchors and aliases are not allowed in a manifest".into(),
            Some("write each value out in full".into()),
        );
    }
    if msg.contains("budget breached: Depth") || msg.contains("depth") {
        return (
            format!("the YAML is nested deeper than {MAX_DEPTH} levels"),
            None,
        );
    }
    if msg.contains("budget breached") {
        return (
            format!("the YAML is too large to be a manifest ({msg})"),
            None,
        );
    }
    if msg.starts_with("missing field `") {
        let f = msg
            .trim_start_matches("missing field `")
            .trim_end_matches('`');
        return (format!("missing required key `{f}`"), None);
    }
    (msg.to_string(), None)
}
