//! Escaping user text for the Markdown renderer: app and workflow ids, descriptions
//! that quote rationales, paths, messages, approver names and text diffs become inert
//! (no HTML, `@mentions`, links, images, math or hidden-marker openers).

/// User text longer than this (in characters) is clipped in a table cell, so that
/// one huge value cannot crowd out every other row.
const MAX_CELL: usize = 1_000;

/// Zero-width joiner after `@`: GitHub's mention filter no longer sees a login.
/// (`&#64;` would not do: entities are decoded before GitHub looks for mentions.)
const AT: &str = "@\u{200D}";
/// Zero-width space inside `<!--`, so user text never contains a hidden-marker opener.
const COMMENT_OPEN: &str = "<\u{200B}!--";

/// At most [`MAX_CELL`] characters, marked with `…` when clipped.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_CELL) {
        None => s.into(),
        Some((i, _)) => format!("{}…", &s[..i]).into(),
    }
}

/// Bidi overrides and isolates can make text read differently from what it is
/// (CVE-2021-42574); C0 controls have no business in a comment.
fn hostile(ch: char) -> bool {
    // U+2028/U+2029 end a line for some log readers.
    matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
        || (ch.is_control() && ch != '\t' && ch != '\n' && ch != '\r')
}

/// User text as inert inline Markdown: HTML-significant characters as entities,
/// Markdown-significant ones backslash-escaped, `@` broken for the mention filter
/// (and for email autolinks), bare URLs broken for the autolinker, newlines as
/// spaces. Escaping `<` also means `<!--` cannot appear.
pub(crate) fn text(s: &str) -> String {
    let s = clip(s);
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            // GFM autolinks bare `scheme:` URLs and `www.` hosts; an escaped `:` or
            // `.` is the same text to the reader but starts no link. A scheme ends in
            // a letter (`http:`, `mailto:`), so `10:33:29Z` stays as it is.
            ':' if out.ends_with(|c: char| c.is_ascii_alphabetic()) => out.push_str("\\:"),
            '.' if out
                .get(out.len().saturating_sub(3)..)
                .is_some_and(|t| t.eq_ignore_ascii_case("www")) =>
            {
                out.push_str("\\.");
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str(AT),
            '\n' | '\r' => out.push(' '),
            // `$` starts GitHub math; the rest are CommonMark/GFM inline syntax
            // (links, images, emphasis, strikethrough, code, table cells).
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '#' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(ch);
            }
            c if hostile(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The shared neutralising for text shown literally (code spans, code blocks):
/// no hidden-marker opener, no mention, no hostile characters.
fn neutral(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for ch in s.chars() {
        match ch {
            '@' => out.push_str(AT),
            c if hostile(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out.replace("<!--", COMMENT_OPEN)
}

/// User text as a code span. Inside a code span HTML, links and mentions are inert;
/// the fence is one backtick longer than any run inside. In a table, `|` must still
/// be escaped (GFM splits cells before it parses code spans).
pub(crate) fn code(s: &str, in_table: bool) -> String {
    let one_line: String = clip(s)
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    let mut body = neutral(&one_line);
    if body.is_empty() {
        return String::new();
    }
    if in_table {
        body = body.replace('|', "\\|");
    }
    let fence = "`".repeat(longest_run(&body, '`') + 1);
    // CommonMark strips one space from each side when both have one.
    let pad = body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' ') && !body.trim().is_empty());
    let sp = if pad { " " } else { "" };
    format!("{fence}{sp}{body}{sp}{fence}")
}

/// Text in scopegate's own style, where backticks quote scopes and ids (descriptions,
/// messages, hints): paired backticks become code spans, everything else is
/// escaped text. Whatever the user put inside, each piece is inert on its own.
pub(crate) fn prose(s: &str, in_table: bool) -> String {
    let s = clip(s);
    let parts: Vec<&str> = s.split('`').collect();
    let last = parts.len() - 1;
    let mut out = String::new();
    let mut prev_code = false;
    for (i, p) in parts.iter().enumerate() {
        if i % 2 == 0 {
            out.push_str(&text(p));
            prev_code = p.is_empty() && prev_code;
        } else if i == last {
            // An unpaired backtick.
            out.push_str("\\`");
            out.push_str(&text(p));
            prev_code = false;
        } else if p.is_empty() {
            out.push_str("\\`\\`");
            prev_code = false;
        } else {
            if prev_code {
                // Two adjacent spans would read as one run of two backticks.
                out.push('\u{200B}');
            }
            out.push_str(&code(p, in_table));
            prev_code = true;
        }
    }
    out
}

/// A text diff for a fenced code block: one line ending, and no marker opener.
pub(super) fn neutral_block(s: &str) -> String {
    neutral(&s.replace("\r\n", "\n").replace('\r', "\n"))
}

pub(super) fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}
