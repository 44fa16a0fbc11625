//! Fitting the Markdown report into GitHub's comment limit: which detail is dropped,
//! in what order, and the note that says what was left out.
//!
//! Part of the Markdown renderer. It must not cut a row off mid-table or leave out
//! anything without saying so; what survives is decided by the order here, never by
//! where the text happens to end (except in the last resort, when even the heading
//! and the note do not fit).

use crate::report::{Direction, Report};

use super::app::unchanged_apps;
use super::{compose, heading, plural, thousands};

/// The report as Markdown, at most `max_bytes` bytes of UTF-8 (GitHub's job summary is
/// limited in bytes; a report of non-ASCII text is up to four bytes a character): as
/// the character-bounded rendering, with fewer characters allowed until the bytes fit.
pub fn render_limited_bytes(r: &Report, marker: Option<&str>, max_bytes: usize) -> String {
    let mut chars = max_bytes;
    loop {
        let out = render_limited_as(r, marker, chars, Some(max_bytes));
        if out.len() <= max_bytes || chars == 0 {
            return out;
        }
        // Shrink by the overshoot, and a tenth more: two or three rounds at most.
        chars = (chars as u128 * max_bytes as u128 / out.len() as u128 * 9 / 10) as usize;
    }
}

/// The report as Markdown, at most `max_chars` characters (not bytes). Detail is
/// dropped in this order until it fits: the text diff, the list of apps without
/// changes, workflow changes, reductions, findings, the tenant table's rows, then
/// escalation rows past the most severe; a note says what was left out.
pub(crate) fn render_limited(r: &Report, marker: Option<&str>, max_chars: usize) -> String {
    render_limited_as(r, marker, max_chars, None)
}

/// [`render_limited`], its note naming `in_bytes` as the limit when the bound is one of
/// bytes (the characters allowed are then fewer than the bytes).
fn render_limited_as(
    r: &Report,
    marker: Option<&str>,
    max_chars: usize,
    in_bytes: Option<usize>,
) -> String {
    let fits = |s: &String| s.chars().count() <= max_chars;
    let mut cut = Cut {
        in_bytes,
        ..Cut::default()
    };
    let steps: [fn(&mut Cut); 7] = [
        |_| {},
        |c| c.diff = true,
        |c| c.unchanged = true,
        |c| c.workflow = true,
        |c| c.reductions = true,
        |c| c.findings = true,
        |c| c.tenants = true,
    ];
    for step in steps {
        step(&mut cut);
        let out = compose(r, marker, cut, max_chars);
        if fits(&out) {
            return out;
        }
    }
    // Keep as many escalation rows as fit: the most severe come first. A row is
    // longer than 16 characters, so no more than `max_chars / 16` can fit.
    let total = count(r, Direction::Escalation).min(max_chars / 16 + 1);
    let with = |n: usize| {
        compose(
            r,
            marker,
            Cut {
                escalations: Some(n),
                ..cut
            },
            max_chars,
        )
    };
    let (mut lo, mut hi) = (0, total);
    let mut best = None;
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        let out = with(mid);
        if fits(&out) {
            best = Some(out);
            lo = mid + 1;
        } else if mid == 0 {
            break;
        } else {
            hi = mid - 1;
        }
    }
    best.unwrap_or_else(|| last_resort(r, marker, max_chars, in_bytes))
}

/// What to leave out to fit the size limit.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Cut {
    pub(super) diff: bool,
    /// The names of the apps without changes (their count stays).
    pub(super) unchanged: bool,
    pub(super) workflow: bool,
    pub(super) reductions: bool,
    pub(super) findings: bool,
    /// The tenant table's rows (its heading, with the count it ships to, stays).
    pub(super) tenants: bool,
    /// Show only this many escalation rows.
    pub(super) escalations: Option<usize>,
    /// The limit is this many bytes (the job summary), not the characters allowed: what
    /// the note names.
    pub(super) in_bytes: Option<usize>,
}

impl Cut {
    pub(super) fn any(self) -> bool {
        self.diff
            || self.unchanged
            || self.workflow
            || self.reductions
            || self.findings
            || self.tenants
            || self.escalations.is_some()
    }
}

fn count(r: &Report, d: Direction) -> usize {
    r.changes.iter().filter(|c| c.direction == d).count()
}

/// Everything else failed to fit (a tiny bound, or a huge marker or heading): whole
/// lines of the heading and the note, then a hard cut.
fn last_resort(
    r: &Report,
    marker: Option<&str>,
    max_chars: usize,
    in_bytes: Option<usize>,
) -> String {
    let mut out = String::new();
    if let Some(m) = marker {
        out.push_str(m);
        out.push('\n');
    }
    out.push_str(&heading(r));
    let all = Cut {
        diff: true,
        unchanged: true,
        workflow: true,
        reductions: true,
        findings: true,
        tenants: true,
        escalations: Some(0),
        in_bytes,
    };
    out.push_str(&truncation_note(r, all, max_chars));
    let out = crate::render::safe::guard(out);
    let mut kept = String::new();
    let mut n = 0;
    for line in out.split_inclusive('\n') {
        let len = line.chars().count();
        if n + len > max_chars {
            break;
        }
        kept.push_str(line);
        n += len;
    }
    if kept.is_empty() {
        kept = out.chars().take(max_chars).collect();
    }
    kept
}

pub(super) fn truncation_note(r: &Report, cut: Cut, max_chars: usize) -> String {
    let mut left_out = Vec::new();
    let has_diff = r.apps.iter().any(|a| !a.text_diff.is_empty());
    if cut.diff && has_diff {
        left_out.push("the manifest diff".to_string());
    }
    let quiet = unchanged_apps(r).len();
    if cut.unchanged && quiet > 0 && r.apps.len() > 1 {
        left_out.push(format!(
            "the names of {} without changes",
            plural(quiet, "app")
        ));
    }
    let n = count(r, Direction::Workflow);
    if cut.workflow && n > 0 {
        left_out.push(plural(n, "workflow change"));
    }
    let n = count(r, Direction::Reduction);
    if cut.reductions && n > 0 {
        left_out.push(plural(n, "reduction"));
    }
    if cut.findings && !r.findings.is_empty() {
        left_out.push(plural(r.findings.len(), "finding"));
    }
    if cut.tenants && !r.tenants.is_empty() {
        left_out.push(format!(
            "the table of {}",
            plural(r.tenants.len(), "tenant")
        ));
    }
    let total = count(r, Direction::Escalation);
    if let Some(shown) = cut.escalations
        && shown < total
    {
        left_out.push(format!(
            "{} of {}",
            thousands(total - shown),
            plural(total, "escalation")
        ));
    }
    let what = match left_out.len() {
        0 => "some detail".to_string(),
        1 => left_out.remove(0),
        _ => {
            let last = left_out.pop().unwrap_or_default();
            format!("{} and {last}", left_out.join(", "))
        }
    };
    let limit = match cut.in_bytes {
        Some(b) => format!("{}-byte", thousands(b)),
        None => format!("{}-character", thousands(max_chars)),
    };
    format!(
        "\n> [!NOTE]\n> Truncated to fit the {limit} limit: left out {what}. \
         The full report is in the JSON output (`--format json`) and the job artifacts.\n"
    )
}
