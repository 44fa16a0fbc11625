//! The per-app layout of a report over many manifests: a section for each app that
//! changed, moved, appeared or went, the apps without changes collapsed into one
//! list, and the line for a new app.
//!
//! Part of the Markdown renderer. It only arranges sections; the tables inside them
//! are `change`'s, and it must not decide which apps changed beyond reading the
//! [`Report`].

use std::collections::{HashMap, HashSet};

use crate::report::{AppReport, Direction, Report};

use super::change::{Ranked, escalations, ranked, reductions, workflow_changes};
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
    let changed: HashSet<&str> = r.changes.iter().map(|c| c.app.as_str()).collect();
    r.apps
        .iter()
        .filter(|a| {
            !a.new_app
                && !a.removed_app
                && !r.moved(a)
                && a.id_changed_from.is_none()
                && !changed.contains(a.app.as_str())
        })
        .collect()
}

/// Many apps: one section per app with changes (or that moved, appeared or went),
/// then the apps without changes collapsed into one list. Under a cut, an app whose
/// rows were all left out gets no section (the note counts what is missing).
/// Rendering stops once `out` is over `budget` bytes (it can no longer fit).
pub(super) fn by_app(
    out: &mut String,
    r: &Report,
    cut: Cut,
    budget: usize,
    legend: &mut Option<String>,
) {
    let quiet = unchanged_apps(r);
    let quiet_ids: HashSet<&str> = quiet.iter().map(|q| q.app.as_str()).collect();
    // Each app's changes, in the report's order, found once.
    let mut of_app: HashMap<&str, Vec<Ranked<'_>>> = HashMap::new();
    for (rank, c) in ranked(r) {
        of_app.entry(c.app.as_str()).or_default().push((rank, c));
    }
    let kept = cut.escalations.unwrap_or(usize::MAX);
    for a in r
        .apps
        .iter()
        .filter(|a| !quiet_ids.contains(a.app.as_str()))
    {
        if out.len() > budget {
            return;
        }
        let rows = of_app.get(a.app.as_str()).map_or(&[][..], Vec::as_slice);
        let mut body = String::new();
        escalations(&mut body, rows, cut.escalations, "#####", budget, legend);
        if !cut.reductions {
            reductions(&mut body, rows, "#####", budget);
        }
        if !cut.workflow {
            workflow_changes(&mut body, rows, "#####", budget);
        }
        let shows_rows = rows.iter().any(|(rank, c)| {
            (c.direction == Direction::Escalation && *rank < kept)
                || (!cut.reductions && c.direction == Direction::Reduction)
                || (!cut.workflow && c.direction == Direction::Workflow)
        });
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
        } else if r.moved(a) {
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
        if out.len() > budget {
            return;
        }
        out.push_str(&format!("- {} ({})\n", code(&a.app, false), text(&a.path)));
    }
    out.push_str("\n</details>\n");
}
