//! Path globs for the config's `manifests:` entries (`apps/*/smart-app.yaml`,
//! `**/smart-app.yaml`).
//!
//! The semantics are git's pathspec globs, cut down to what a manifest list needs:
//! paths are relative to the repository root with `/` separators; `*` matches any
//! run of characters within one path segment (never a `/`), `?` one character other
//! than `/`, and a whole `**` segment matches zero or more segments. There are no
//! character classes or braces: `[`, `]`, `{` and `}` are literal. Pure: it matches
//! strings and reads no files (the caller lists the files: the git index at head, the
//! commit's tree at the baseline).

use std::fmt;

/// A validated glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    text: String,
    segments: Vec<String>,
}

/// Whether a `manifests:` entry is a glob rather than a literal path.
pub fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?'])
}

impl Glob {
    /// Parses `pattern`; a leading `./` is dropped. An absolute pattern, a `..` or
    /// empty segment, or `**` inside a segment (`a**`) is an error, with the reason.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let text = pattern.trim();
        let text = text.strip_prefix("./").unwrap_or(text);
        if text.is_empty() {
            return Err("the pattern is empty".into());
        }
        if text.starts_with('/') {
            return Err(
                "patterns are relative to the repository root: drop the leading `/`".into(),
            );
        }
        let segments: Vec<String> = text.split('/').map(str::to_string).collect();
        for s in &segments {
            if s.is_empty() {
                return Err(
                    "the pattern has an empty path segment (`//` or a trailing `/`)".into(),
                );
            }
            if s == "." || s == ".." {
                return Err(format!("`{s}` segments are not allowed"));
            }
            if s.contains("**") && s != "**" {
                return Err(format!(
                    "`**` must be a whole path segment (`a/**/b`), not part of `{s}`"
                ));
            }
        }
        Ok(Glob {
            text: text.to_string(),
            segments,
        })
    }

    /// The leading segments with no wildcard, joined by `/`: the directory every match
    /// is under (`apps` for `apps/*/smart-app.yaml`), the whole path for a pattern with
    /// no wildcard, and empty when the first segment has one (`**/smart-app.yaml`).
    pub fn fixed_prefix(&self) -> String {
        self.segments
            .iter()
            .take_while(|s| !is_glob(s))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("/")
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        let pattern: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        wildcard(&pattern, &parts, |p| *p == "**", |p, s| segment(p, s))
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One segment: `*` is any run of characters, `?` one character.
fn segment(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    wildcard(&p, &n, |c| *c == '*', |c, x| *c == '?' || c == x)
}

/// Wildcard matching with one-star backtracking: linear in practice, and at worst
/// `O(pattern × input)`, so no pattern can make it blow up. Used twice: over the
/// characters of a segment (`*`) and over the segments of a path (`**`).
fn wildcard<P, T>(
    pattern: &[P],
    input: &[T],
    is_star: impl Fn(&P) -> bool,
    one: impl Fn(&P, &T) -> bool,
) -> bool {
    let (mut p, mut i) = (0, 0);
    // The last star seen, and the input position it is currently stretched to.
    let mut star: Option<(usize, usize)> = None;
    while i < input.len() {
        if p < pattern.len() && is_star(&pattern[p]) {
            star = Some((p, i));
            p += 1;
        } else if p < pattern.len() && one(&pattern[p], &input[i]) {
            p += 1;
            i += 1;
        } else if let Some((sp, si)) = star {
            // Let the star take one more item and try again after it.
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(is_star)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn a_literal_matches_only_itself() {
        assert!(m("smart-app.yaml", "smart-app.yaml"));
        assert!(m("./apps/a/smart-app.yaml", "apps/a/smart-app.yaml"));
        assert!(!m("smart-app.yaml", "apps/smart-app.yaml"));
        assert!(!m("apps/a/smart-app.yaml", "apps/a/smart-app.yml"));
    }

    #[test]
    fn a_star_stays_within_one_segment() {
        assert!(m("apps/*/smart-app.yaml", "apps/med-rec/smart-app.yaml"));
        assert!(!m("apps/*/smart-app.yaml", "apps/a/b/smart-app.yaml"));
        assert!(!m("apps/*/smart-app.yaml", "apps/smart-app.yaml"));
        assert!(m("apps/*.yaml", "apps/med-rec.yaml"));
        assert!(m("apps/*.yaml", "apps/.yaml"));
        assert!(!m("*.yaml", "apps/x.yaml"));
        assert!(m("apps/*-app/*.yaml", "apps/med-app/x.yaml"));
        assert!(m("a*b*c", "abc"));
        assert!(m("a*b*c", "axxbyybc"));
        assert!(!m("a*b*c", "axxbyyb"));
    }

    #[test]
    fn a_question_mark_is_one_character_but_not_a_slash() {
        assert!(m("app?.yaml", "app1.yaml"));
        assert!(!m("app?.yaml", "app.yaml"));
        assert!(!m("app?.yaml", "app12.yaml"));
        assert!(!m("a?b", "a/b"));
        assert!(m("caf?.yaml", "café.yaml"));
    }

    #[test]
    fn a_double_star_spans_zero_or_more_segments() {
        assert!(m("**/smart-app.yaml", "smart-app.yaml"));
        assert!(m("**/smart-app.yaml", "apps/smart-app.yaml"));
        assert!(m("**/smart-app.yaml", "a/b/c/smart-app.yaml"));
        assert!(!m("**/smart-app.yaml", "a/b/c/smart-app.yaml.bak"));
        assert!(m("apps/**/smart-app.yaml", "apps/smart-app.yaml"));
        assert!(m("apps/**/smart-app.yaml", "apps/x/y/smart-app.yaml"));
        assert!(!m("apps/**/smart-app.yaml", "other/x/smart-app.yaml"));
        assert!(m("apps/**", "apps/x/y.yaml"));
        assert!(m("**/x/**/*.yaml", "a/x/b/c/d.yaml"));
        assert!(!m("**/x/**/*.yaml", "a/y/b/c/d.yaml"));
    }

    #[test]
    fn brackets_and_braces_are_literal() {
        assert!(m("apps/[a]/{b}.yaml", "apps/[a]/{b}.yaml"));
        assert!(!m("apps/[ab]/x.yaml", "apps/a/x.yaml"));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let path = format!("{}/b", ["a"; 60].join("/"));
        let pattern = format!("{}/c", ["**"; 30].join("/"));
        assert!(!m(&pattern, &path));
        let name = "a".repeat(5_000);
        assert!(!m(&format!("{}b", "*a".repeat(50)), &name));
    }

    #[test]
    fn malformed_patterns_are_refused_with_a_reason() {
        for (bad, why) in [
            ("", "empty"),
            ("/apps/*.yaml", "relative"),
            ("apps//x.yaml", "empty path segment"),
            ("apps/", "empty path segment"),
            ("../x.yaml", "`..`"),
            ("apps/**.yaml", "whole path segment"),
        ] {
            let e = Glob::new(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn the_fixed_prefix_is_the_directory_every_match_is_under() {
        let prefix = |p: &str| Glob::new(p).unwrap().fixed_prefix();
        assert_eq!(prefix("apps/*/smart-app.yaml"), "apps");
        assert_eq!(
            prefix("services/team-a/**/smart-app.yaml"),
            "services/team-a"
        );
        assert_eq!(prefix("./tools/smart-app.yaml"), "tools/smart-app.yaml");
        assert_eq!(prefix("**/smart-app.yaml"), "");
        assert_eq!(prefix("smart-app-?.yaml"), "");
        // Every match is under it.
        let g = Glob::new("apps/*/smart-app.yaml").unwrap();
        assert!(g.matches("apps/a/smart-app.yaml"));
        assert!("apps/a/smart-app.yaml".starts_with(&format!("{}/", g.fixed_prefix())));
    }

    #[test]
    fn globs_are_told_from_literal_paths() {
        assert!(is_glob("apps/*/smart-app.yaml"));
        assert!(is_glob("app?.yaml"));
        assert!(!is_glob("apps/a/smart-app.yaml"));
        assert!(!is_glob("apps/[a].yaml"));
    }
}
