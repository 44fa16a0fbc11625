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

/// Who approved a change, and ` (TICKET)` when there is a ticket, for messages.
fn approver(a: &crate::report::Approval) -> (&str, String) {
    let ticket = a
        .ticket
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    (a.by.as_deref().unwrap_or("?"), ticket)
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
    pub fn red(self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.paint("1;33", s)
    }
    pub fn cyan(self, s: &str) -> String {
        self.paint("36", s)
    }
    pub fn bold(self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(self, s: &str) -> String {
        self.paint("2", s)
    }
}
