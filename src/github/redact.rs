//! Taking the token out of text: the whole token, and any piece of it long enough to
//! matter (a message cut short, a server that echoes part of what it was sent).
//!
//! Part of the GitHub adapter; the CLI uses the same function on everything it
//! writes. It must run on text before it is cut, never after: a cut can split the
//! token, and the piece left over no longer matches the whole.

use std::collections::HashSet;

/// The shortest piece of a token that is removed wherever it appears. Shorter runs
/// are too likely to occur by chance (`ghs_` alone is every Actions token's prefix).
pub const PIECE: usize = 8;

/// `text` with every run of bytes that is a piece of `secret` at least [`PIECE`]
/// bytes long replaced by `***`. A secret shorter than [`PIECE`] is replaced only
/// whole (and not at all when under 4 bytes: that would mangle ordinary text).
/// Linear in `text`: one hash lookup per byte.
pub fn redact(secret: &str, text: &str) -> String {
    let secret = secret.as_bytes();
    if secret.len() < PIECE {
        if secret.len() < 4 {
            return text.to_string();
        }
        let secret = String::from_utf8_lossy(secret);
        return text.replace(secret.as_ref(), "***");
    }
    let pieces: HashSet<&[u8]> = secret.windows(PIECE).collect();
    let bytes = text.as_bytes();
    if bytes.len() < PIECE {
        return text.to_string();
    }
    // Marks every byte covered by some window that is a piece of the secret; two
    // overlapping windows mark one run, replaced once.
    let mut covered_until = 0usize;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, window) in bytes.windows(PIECE).enumerate() {
        if pieces.contains(window) {
            let end = i + PIECE;
            match runs.last_mut() {
                Some(last) if i <= covered_until => last.1 = end,
                _ => runs.push((i, end)),
            }
            covered_until = end;
        }
    }
    if runs.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in runs {
        // The secret is ASCII (the client refuses anything else), so a run of its
        // bytes starts and ends on character boundaries; check anyway.
        let (start, end) = (floor(text, start), ceil(text, end));
        out.push_str(&text[at..start.max(at)]);
        out.push_str("***");
        at = end.max(at);
    }
    out.push_str(&text[at..]);
    out
}

fn floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "ghs_0123456789abcdefXYZ";

    #[test]
    fn the_whole_token_and_any_piece_of_eight_or_more_go() {
        assert_eq!(redact(T, &format!("a {T} b")), "a *** b");
        assert_eq!(redact(T, "cut at 200: ghs_0123456"), "cut at 200: ***");
        assert_eq!(redact(T, "tail: 9abcdefXYZ!"), "tail: ***!");
        assert_eq!(redact(T, &format!("{T}{T}")), "***");
        // Seven characters of it are not enough to say anything.
        assert_eq!(redact(T, "ghs_012 and 89abcde"), "ghs_012 and 89abcde");
    }

    #[test]
    fn no_piece_of_eight_survives_anywhere() {
        for start in 0..T.len() - PIECE {
            for end in start + PIECE..=T.len() {
                let text = format!("é{}ü", &T[start..end]);
                let out = redact(T, &text);
                for w in T.as_bytes().windows(PIECE) {
                    assert!(!out.as_bytes().windows(PIECE).any(|x| x == w), "{out}");
                }
            }
        }
    }

    #[test]
    fn short_secrets_are_replaced_whole_and_tiny_ones_not_at_all() {
        assert_eq!(redact("abcdef", "xabcdefx abc"), "x***x abc");
        assert_eq!(redact("abc", "abc"), "abc");
        assert_eq!(redact("", "text"), "text");
    }
}
