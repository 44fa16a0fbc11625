//! The plain-language consent delta as text for release notes: per app, what it can
//! now do, what it can no longer do, what changed in how it explains itself, and where
//! it cannot be used as it is. Formats a [`Notice`]; the words come from it.

use crate::notice::Notice;

pub fn render(n: &Notice) -> String {
    super::safe::render(n, render_raw)
}

fn render_raw(n: &Notice) -> String {
    let mut out = format!(
        "Permission changes in this version (compared with {})\n",
        n.baseline
    );
    for a in &n.apps {
        let title = match &a.name {
            Some(name) => format!("{name} ({})", a.app),
            None => a.app.clone(),
        };
        out.push_str(&format!("\n{title}\n"));
        if a.new_app {
            out.push_str("\nThis is the app's first release.\n");
        }
        if a.can_now.is_empty() && a.no_longer.is_empty() {
            out.push_str("\nNo change to what this app can access.\n");
        }
        for (heading, items) in [
            ("What this version can now do:", &a.can_now),
            ("What it can no longer do:", &a.no_longer),
            ("What changed in how it explains itself:", &a.explains),
            ("Where it cannot be used as it is:", &a.tenants),
        ] {
            if items.is_empty() {
                continue;
            }
            out.push_str(&format!("\n{heading}\n"));
            for s in items {
                out.push_str(&format!("- {s}\n"));
            }
        }
    }
    if !n.review.is_empty() {
        out.push_str("\nBefore publishing (for the release team):\n");
        for s in &n.review {
            out.push_str(&format!("- {s}\n"));
        }
    }
    out
}
