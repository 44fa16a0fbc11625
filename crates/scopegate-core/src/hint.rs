//! Spelling hints: the nearest known word for a mistyped one ("did you mean").
//!
//! Owns only string distance; it knows nothing of scopes or manifests.

/// The candidate closest to `word`, if it is close enough to be a plausible typo.
///
/// A case-insensitive exact match always wins; otherwise the edit distance must be at
/// most a third of the word's length (and at least 1), so `Obsevation` finds
/// `Observation` but `Foo` finds nothing.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (word.chars().count() / 3).max(1);
    let ascii = word.is_ascii();
    let mut best: Option<(usize, &'a str)> = None;
    let (mut lower, mut cand_lower, mut row) = (Vec::new(), Vec::new(), Vec::new());
    for cand in candidates {
        if cand == word {
            continue;
        }
        let d = if ascii && cand.is_ascii() {
            // ASCII on both sides (nearly every word): compared byte by byte, ignoring
            // case, with nothing lowered or collected.
            if cand.eq_ignore_ascii_case(word) {
                return Some(cand);
            }
            // The distance is at least the difference in length: most candidates stop
            // here, so a hint for a word far from every candidate costs no table.
            if cand.len().abs_diff(word.len()) > limit {
                continue;
            }
            distance(
                word.as_bytes(),
                cand.as_bytes(),
                u8::eq_ignore_ascii_case,
                &mut row,
            )
        } else {
            if lower.is_empty() && !word.is_empty() {
                lower = word.to_lowercase().chars().collect();
            }
            cand_lower.clear();
            cand_lower.extend(cand.to_lowercase().chars());
            if cand_lower == lower {
                return Some(cand);
            }
            if cand_lower.len().abs_diff(lower.len()) > limit {
                continue;
            }
            distance(&lower, &cand_lower, char::eq, &mut row)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance, with `same` deciding equal elements and one row of memory
/// (`row`, reused).
fn distance<T>(a: &[T], b: &[T], same: impl Fn(&T, &T) -> bool, row: &mut Vec<usize>) -> usize {
    row.clear();
    row.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if same(ca, cb) {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_close_spelling() {
        let c = ["Observation", "Patient", "Encounter"];
        assert_eq!(did_you_mean("Obsevation", c), Some("Observation"));
        assert_eq!(did_you_mean("patient", c), Some("Patient"));
        assert_eq!(did_you_mean("Foo", c), None);
    }

    #[test]
    fn distance_counts_edits() {
        let d = |a: &str, b: &str| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            distance(&a, &b, char::eq, &mut Vec::new())
        };
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("abc", "abc"), 0);
    }

    proptest::proptest! {
        /// The shortcuts (ASCII case, length) choose what the plain definition chooses:
        /// lower both, take the nearest within a third of the word's length.
        #[test]
        fn shortcuts_keep_the_plain_definition(
            word in "[aAbBéÉ]{0,7}",
            cands in proptest::collection::vec("[aAbBéÉ]{0,7}", 0..6),
        ) {
            let reference = || {
                let lower = word.to_lowercase();
                let limit = (word.chars().count() / 3).max(1);
                let mut best: Option<(usize, &str)> = None;
                for cand in &cands {
                    if *cand == word {
                        continue;
                    }
                    if cand.to_lowercase() == lower {
                        return Some(cand.as_str());
                    }
                    let (a, b): (Vec<char>, Vec<char>) =
                        (lower.chars().collect(), cand.to_lowercase().chars().collect());
                    let d = distance(&a, &b, char::eq, &mut Vec::new());
                    if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, cand));
                    }
                }
                best.map(|(_, c)| c)
            };
            proptest::prop_assert_eq!(did_you_mean(&word, cands.iter().map(String::as_str)), reference());
        }
    }
}
