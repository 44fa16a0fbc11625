//! Renderers: values in, text out. They format; they decide nothing.
//!
//! The only library module besides `cli` allowed to produce terminal text.

pub mod annotations;
pub mod html;
pub mod json;
pub mod markdown;
pub mod matrix;
pub mod notice;
pub mod safe;
pub mod sarif;
pub mod text;
pub mod usage_report;

/// The widest a text table's column is padded to. A longer cell is written whole and
/// pushes the rest of its line right. Past it, padding helps no reader, and a width
/// over 65,535 is one Rust's formatter refuses (it panicked on a 70,000-character
/// scope or tenant).
const MAX_COLUMN: usize = 100;

/// The width of a text table's column of cells of `widths`: the widest, at least `min`
/// and at most [`MAX_COLUMN`].
pub(crate) fn column(widths: impl IntoIterator<Item = usize>, min: usize) -> usize {
    widths
        .into_iter()
        .max()
        .unwrap_or(0)
        .max(min)
        .min(MAX_COLUMN.max(min))
}

/// Who approved a change, and ` (TICKET)` when there is a ticket, for messages.
fn approver(a: &crate::report::Approval) -> (&str, String) {
    let ticket = a
        .ticket
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    (a.by.as_deref().unwrap_or("?"), ticket)
}

/// What the risk levels in `present` mean, as one line for the first place they appear
/// (issue 16: a first-time user cannot guess them); `None` when none is present. The
/// examples are the catalogue's defaults: `severity:` overrides can move a rule.
fn risk_legend(present: impl IntoIterator<Item = crate::rules::Severity>) -> Option<String> {
    use crate::rules::Severity;
    let present: std::collections::BTreeSet<Severity> = present.into_iter().collect();
    let parts: Vec<&str> = [
        (
            Severity::Error,
            "high: e.g. delete, every type (`*`), a new level, offline access",
        ),
        (
            Severity::Warning,
            "medium: e.g. a new type, create or update, a loosened restriction",
        ),
        (
            Severity::Note,
            "low: e.g. more reads of a type already reached, identity or launch context",
        ),
    ]
    .into_iter()
    .filter(|(s, _)| present.contains(s))
    .map(|(_, t)| t)
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "risk — {} (each rule's: `scopegate rules`)",
            parts.join("; ")
        )
    })
}

/// What the finding severities in `present` mean, as one line; `None` when none is.
fn severity_legend(present: impl IntoIterator<Item = crate::rules::Severity>) -> Option<String> {
    use crate::rules::Severity;
    let present: std::collections::BTreeSet<Severity> = present.into_iter().collect();
    let parts: Vec<&str> = [
        (
            Severity::Error,
            "error: must be fixed (invalid, unjustified or denied access)",
        ),
        (
            Severity::Warning,
            "warning: likely a mistake, or broader than needed",
        ),
        (Severity::Note, "note: for information"),
    ]
    .into_iter()
    .filter(|(s, _)| present.contains(s))
    .map(|(_, t)| t)
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "severity — {}. `check --fail-on` and the config's `fail_on_lint` choose which fail",
            parts.join("; ")
        )
    })
}

/// ANSI styling, on only when the CLI says the terminal wants it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn red(self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub(crate) fn yellow(self, s: &str) -> String {
        self.paint("1;33", s)
    }
    pub(crate) fn cyan(self, s: &str) -> String {
        self.paint("36", s)
    }
    pub(crate) fn bold(self, s: &str) -> String {
        self.paint("1", s)
    }
    pub(crate) fn dim(self, s: &str) -> String {
        self.paint("2", s)
    }
}

/// `s` as one POSIX shell word, for a command a reader copies: single-quoted when it
/// holds anything but letters, digits and `-_./:=@%+,` (a key's `*`, `?`, `&`, `|`),
/// a `'` in it written `'\''`.
pub(crate) fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod shell_word_tests {
    use super::shell_word;

    /// What `sh -c 'printf %s WORD'` prints is the key itself, whatever it holds.
    #[test]
    fn a_key_is_one_shell_word_that_says_itself() {
        for key in [
            "med-rec:patient/Observation.rs",
            "app:*removed*",
            "app:patient/Observation.rs?category=a&code=http://loinc.org|1",
            "app:\"it's\"",
            "",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_word(key)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), key, "{key}");
        }
        assert_eq!(
            shell_word("med-rec:patient/Observation.rs"),
            "med-rec:patient/Observation.rs"
        );
    }
}
