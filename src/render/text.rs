//! Terminal text for reports, explanations, suggestions and the rule catalogue.

use super::Style;
use crate::explain::{Explanation, level_phrase};
use crate::report::Report;
use crate::rules::{RULES, Severity, kind_name};
use crate::scope::Level;
use crate::suggest::Suggestion;

fn severity(st: Style, s: Severity) -> String {
    match s {
        Severity::Error => st.red("error"),
        Severity::Warning => st.yellow("warning"),
        Severity::Note => st.cyan("note"),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn report(r: &Report, st: Style) -> String {
    let mut out = String::new();
    for f in &r.findings {
        let loc = format!(
            "{}:{}:{}",
            f.location.file, f.location.line, f.location.column
        );
        out.push_str(&format!(
            "{}: {}[{}]: {}\n",
            st.bold(&loc),
            severity(st, f.severity),
            f.rule,
            f.message
        ));
        if let Some(h) = &f.hint {
            out.push_str(&format!("  {} {h}\n", st.cyan("hint:")));
        }
    }
    let s = &r.summary;
    let total = s.errors + s.warnings + s.notes;
    let checked = plural(s.manifests, "manifest");
    if total == 0 {
        out.push_str(&format!("{checked} checked: no findings\n"));
    } else {
        out.push_str(&format!(
            "{checked} checked: {}, {}, {}\n",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.notes, "note")
        ));
    }
    out
}

pub fn explanations(xs: &[Explanation], st: Style) -> String {
    let mut out = String::new();
    for x in xs {
        out.push_str(&st.bold(&x.scope));
        out.push('\n');
        if let Some(e) = &x.error {
            out.push_str(&format!("  {}: {e}\n", st.red("invalid")));
            if let Some(s) = &x.suggestion {
                out.push_str(&format!("  {} did you mean `{s}`?\n", st.cyan("hint:")));
            }
        }
        if let Some(n) = &x.normalized
            && n != &x.scope
        {
            out.push_str(&format!("  normalized: {n}\n"));
        }
        out.push_str(&format!("  {} scope: {}\n", x.kind, x.meaning));
        for g in &x.grants {
            let level = match g.level.as_str() {
                "patient" => level_phrase(Level::Patient),
                "user" => level_phrase(Level::User),
                _ => level_phrase(Level::System),
            };
            let restriction = g
                .restriction
                .as_ref()
                .map(|r| format!(" where {r}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  grants on {}{restriction}, {level}:\n    {}\n",
                g.resource,
                g.interactions.join(", ")
            ));
        }
    }
    out
}

pub fn suggestion(s: &Suggestion, st: Style) -> String {
    let mut out = format!("{}\n", st.bold(&format!("minimal scopes for {}", s.app)));
    let width = s.scopes.iter().map(|x| x.scope.len()).max().unwrap_or(0);
    for x in &s.scopes {
        out.push_str(&format!(
            "  {:width$}  {}\n",
            x.scope,
            st.dim(&x.because.join(", "))
        ));
    }
    out.push_str(&format!("\nscope string:\n  {}\n", s.scope_string));
    if !s.add.is_empty() {
        out.push_str(&format!(
            "\nneeded but not requested:\n  {}\n",
            s.add.join("\n  ")
        ));
    }
    if !s.remove.is_empty() {
        out.push_str(&format!(
            "\nrequested but not needed:\n  {}\n",
            s.remove.join("\n  ")
        ));
    }
    out
}

pub fn rules(st: Style) -> String {
    let width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in RULES {
        out.push_str(&format!(
            "{:width$}  {:4}  {:7}  {}\n",
            r.id,
            kind_name(r.kind),
            r.severity.as_str(),
            r.summary,
        ));
    }
    out.push_str(&st.dim("\nDocs: docs/rules.md, or `scopegate rules --format markdown`.\n"));
    out
}
