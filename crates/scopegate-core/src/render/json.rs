//! JSON output: stable, pretty, newline-terminated.

use serde::Serialize;

pub fn render<T: Serialize + ?Sized>(value: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    // JSON is data: its strings stay as they are, and raw line separators in them are
    // written as `\u` escapes (super::safe).
    super::safe::json(s)
}
