//! Small pieces of English every report writes the same way.

use std::fmt::Display;

/// `1 word` or `n words`: a count with its noun.
pub(crate) fn plural<N>(n: N, word: &str) -> String
where
    N: Copy + PartialEq + From<u8> + Display,
{
    plural_shown(n == N::from(1), n, word)
}

/// [`plural`] with the count already formatted (e.g. with thousands separators):
/// `1 word` when `one`, else `<shown> words`.
pub(crate) fn plural_shown(one: bool, shown: impl Display, word: &str) -> String {
    if one {
        format!("1 {word}")
    } else {
        format!("{shown} {word}s")
    }
}
