//! Taking the token out of text: the whole token, and any piece of it long enough to
//! matter (a message cut short, a server that echoes part of what it was sent).
//!
//! Part of the GitHub adapter; the CLI uses the same function on everything it
//! writes. It must run on text before it is cut, never after: a cut can split the
//! token, and the piece left over no longer matches the whole.

/// The shortest piece of a token that is removed wherever it appears. Shorter runs
/// are too likely to occur by chance (`ghs_` alone is every Actions token's prefix).
pub const PIECE: usize = 8;

/// `text` with every run of bytes that is a piece of `secret` at least 8 (`PIECE`)
/// bytes long replaced by `***`. A secret shorter than that is replaced only
/// whole (and not at all when under 4 bytes: that would mangle ordinary text).
/// Linear in `text`: a table lookup per byte, and a search among the secret's pieces
/// only where the bytes could be one.
pub fn redact(secret: &str, text: &str) -> String {
    let secret = secret.as_bytes();
    if text.len() < PIECE.min(secret.len()) {
        return text.to_string();
    }
    if secret.len() < PIECE {
        if secret.len() < 4 {
            return text.to_string();
        }
        let secret = String::from_utf8_lossy(secret);
        return text.replace(secret.as_ref(), "***");
    }
    let mut pieces: Vec<u64> = secret.windows(PIECE).map(word).collect();
    pieces.sort_unstable();
    // Cheap filters before the search: every byte of a piece is in the secret, and
    // its first two bytes are a pair the secret has.
    let mut in_secret = [false; 256];
    for &b in secret {
        in_secret[usize::from(b)] = true;
    }
    let mut pairs = vec![false; 1 << 16];
    for w in secret.windows(2) {
        pairs[usize::from(w[0]) << 8 | usize::from(w[1])] = true;
    }
    let bytes = text.as_bytes();
    // Every window that is a piece of the secret, as runs of bytes; overlapping or
    // touching windows make one run, replaced once.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    // How many bytes of the secret's alphabet end at `end`.
    let mut good = 0usize;
    for (end, &b) in bytes.iter().enumerate() {
        if !in_secret[usize::from(b)] {
            good = 0;
            continue;
        }
        good += 1;
        if good < PIECE {
            continue;
        }
        let start = end + 1 - PIECE;
        if !pairs[usize::from(bytes[start]) << 8 | usize::from(bytes[start + 1])] {
            continue;
        }
        if pieces.binary_search(&word(&bytes[start..=end])).is_ok() {
            match runs.last_mut() {
                Some(last) if start <= last.1 => last.1 = end + 1,
                _ => runs.push((start, end + 1)),
            }
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

fn word(window: &[u8]) -> u64 {
    let mut w = [0u8; PIECE];
    w.copy_from_slice(window);
    u64::from_le_bytes(w)
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
    fn pieces_are_found_among_the_secrets_own_characters() {
        let text = format!("ghs_ghs_{}0123", &T[2..14]);
        assert_eq!(redact(T, &text), "ghs_ghs_***0123");
        let long = format!("{}{T}{}", "0".repeat(100_000), "9".repeat(100_000));
        assert_eq!(redact(T, &long).len(), 200_003);
    }

    #[test]
    fn short_secrets_are_replaced_whole_and_tiny_ones_not_at_all() {
        assert_eq!(redact("abcdef", "xabcdefx abc"), "x***x abc");
        assert_eq!(redact("abc", "abc"), "abc");
        assert_eq!(redact("", "text"), "text");
    }
}
