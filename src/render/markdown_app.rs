//! The per-app layout of a report over many manifests: a section for each app that
//! changed, moved, appeared or went, the apps without changes collapsed into one
//! list, and the line for a new app.
//!
//! Part of the Markdown renderer. It only arranges sections; the tables inside them
//! are `change`'s, and it must not decide which apps changed beyond reading the
//! [`Report`].

use crate::report::{AppReport, Direction, Report};

use super::change::{escalations, of_app, reductions, workflow_changes};
use super::truncation::Cut;
use super::{code, plural, text};

pub(super) fn new_apps(out: &mut String, r: &Report) {
    for a in r.apps.iter().filter(|a| a.new_app) {
        out.push_str(&format!(
            "\nNew app {} ({}): everything it requests is an addition.\n",
            code(&a.app, false),
            text(&a.path)
        ));
    }
}

/// Apps with no change of any kind, and nothing special about their place.
pub(super) fn unchanged_apps(r: &Report) -> Vec<&AppReport> {
    r.apps
        .iter()
        .filter(|a| {
            !a.new_app
                && !a.removed_app
                && !a.moved()
                && a.id_changed_from.is_none()
                && !r.changes.iter().any(|c| c.app == a.app)
        })
        .collect()
}

/// Many apps: one section per app with changes (or that moved, appeared or went),
/// then the apps without changes collapsed into one list. Under a cut, an app whose
/// rows were all left out gets no section (the note counts what is missing).
pub(super) fn by_app(out: &mut String, r: &Report, cut: Cut) {
    let quiet = unchanged_apps(r);
    for a in r
        .apps
        .iter()
        .filter(|a| !quiet.iter().any(|q| q.app == a.app))
    {
        let mut body = String::new();
        escalations(&mut body, r, Some(&a.app), cut.escalations, "#####");
        if !cut.reductions {
            reductions(&mut body, r, Some(&a.app), "#####");
        }
        if !cut.workflow {
            workflow_changes(&mut body, r, Some(&a.app), "#####");
        }
        let kept = cut.escalations.map_or(usize::MAX, |n| n);
        let shows_rows = r
            .changes
            .iter()
            .filter(|c| c.direction == Direction::Escalation)
            .take(kept)
            .any(|c| c.app == a.app)
            || (!cut.reductions && !of_app(r, Direction::Reduction, Some(&a.app)).is_empty())
            || (!cut.workflow && !of_app(r, Direction::Workflow, Some(&a.app)).is_empty());
        if cut.any() && !shows_rows {
            continue;
        }
        let place = if a.new_app {
            format!(
                "{}, new: everything it requests is an addition",
                text(&a.path)
            )
        } else if a.removed_app {
            match &a.gating_stopped {
                Some(why) => format!(
                    "{}, removed: gating stopped for this app; {}",
                    text(&a.path),
                    text(why)
                ),
                None => format!(
                    "{}, removed: no manifest with this id at head",
                    text(&a.path)
                ),
            }
        } else if let Some(from) = &a.id_changed_from {
            format!("{}, id changed from {}", text(&a.path), code(from, false))
        } else if a.moved() {
            format!(
                "{}, moved from {}",
                text(&a.path),
                text(a.baseline_path.as_deref().unwrap_or_default())
            )
        } else {
            text(&a.path)
        };
        out.push_str(&format!("\n#### App {} ({place})\n", code(&a.app, false)));
        if body.is_empty() {
            out.push_str("\nNo access or workflow change.\n");
        }
        out.push_str(&body);
    }
    if quiet.is_empty() {
        return;
    }
    let title = format!("{} without changes", plural(quiet.len(), "app"));
    if cut.unchanged {
        out.push_str(&format!("\n{title} (the list was left out to fit).\n"));
        return;
    }
    out.push_str(&format!("\n<details><summary>{title}</summary>\n\n"));
    for a in quiet {
        out.push_str(&format!("- {} ({})\n", code(&a.app, false), text(&a.path)));
    }
    out.push_str("\n</details>\n");
}
