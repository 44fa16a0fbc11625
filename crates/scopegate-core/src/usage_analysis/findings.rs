//! The usage report's findings: one per unused, partly used or over-granted scope,
//! out-of-manifest access and unobserved workflow need, with the rule ids SARIF and
//! the text renderer show. Pure; it only words what the analysis found.

use crate::manifest::Manifest;
use crate::report::{Finding, Location};
use crate::rules::rule;

use super::instant;
use super::report::*;
use super::tally::Tally;

fn finding(
    id: &str,
    app: &str,
    location: Location,
    message: String,
    hint: Option<String>,
) -> Finding {
    Finding {
        rule: id.to_string(),
        severity: rule(id).severity,
        app: app.to_string(),
        location,
        message,
        hint,
        tenant: None,
        key: None,
        capability: None,
    }
}

fn ticks(v: &[String]) -> String {
    v.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn findings(
    m: &Manifest,
    scopes: &[ScopeUsage],
    unused: &[Unused],
    over: &[OverGrant],
    oom: &[OutOfManifest],
    drift: &[Drift],
    t: &Tally,
) -> Vec<Finding> {
    let app = &m.id.value;
    let window = t
        .since()
        .map_or(String::new(), |s| format!(" since {}", instant::format(s)));
    let mut out = Vec::new();
    for o in oom {
        let what = match &o.resource {
            Some(r) => format!("{} on {r}", o.interaction),
            None => o.interaction.clone(),
        };
        let params = if o.parameters.is_empty() {
            String::new()
        } else {
            format!(" with `{}`", o.parameters)
        };
        out.push(finding(
            "out-of-manifest-use",
            app,
            o.first_seen.clone(),
            format!(
                "tenant `{}`: {} request(s) ({} failed) for {what}{params}, which no requested scope grants",
                o.tenant,
                o.requests + o.failed,
                o.failed
            ),
            Some(format!(
                "investigate; if a workflow needs it, add it to the manifest (`{}` at a level) and get it approved",
                o.needs
            )),
        ));
    }
    for u in unused {
        let row = scopes.iter().find(|s| s.location == u.location);
        let granted = row.and_then(|r| r.granted).unwrap_or(0);
        let granted = if granted > 0 {
            format!("granted in {granted} token response(s) but ")
        } else {
            String::new()
        };
        let (id, message, hint) = match u.action {
            Action::Remove => (
                "scope-unused",
                format!("`{}` was {granted}not used{window}", u.scope),
                "remove it from the manifest".to_string(),
            ),
            Action::Narrow => (
                "scope-partly-used",
                format!(
                    "`{}` was {granted}used only as {}{window}",
                    u.scope,
                    ticks(&u.suggestion)
                ),
                format!("request {} instead", ticks(&u.suggestion)),
            ),
        };
        out.push(finding(id, app, u.location.clone(), message, Some(hint)));
    }
    for g in over {
        out.push(finding(
            "scope-over-granted",
            app,
            g.first_seen.clone(),
            format!(
                "tenant `{}` granted `{}` in {} token response(s); the manifest does not request {}",
                g.tenant,
                g.granted,
                g.responses,
                ticks(&g.beyond_request)
            ),
            Some("ask the EHR to grant only the requested scopes".into()),
        ));
    }
    for d in drift {
        out.push(finding(
            "workflow-need-unobserved",
            app,
            d.location.clone(),
            format!(
                "workflow `{}` needs `{}`, but {} was never observed{window}",
                d.workflow,
                d.need,
                ticks(&d.unobserved)
            ),
            Some("check the workflow still exists, or drop the need".into()),
        ));
    }
    out.sort_by(|a, b| (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message)));
    out
}
