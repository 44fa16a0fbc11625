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
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        if cand.to_lowercase() == lower {
            return Some(cand);
        }
        let d = distance(&lower, &cand.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance over chars, with one row of memory.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
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
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", "abc"), 0);
    }
}
