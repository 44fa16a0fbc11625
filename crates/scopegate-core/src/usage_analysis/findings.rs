//! The usage report's findings: one per unused, partly used or over-granted scope,
//! out-of-manifest access and unobserved workflow need, with the rule ids SARIF and
//! the text renderer show. Pure; it only words what the analysis found.

use std::collections::BTreeMap;

use crate::manifest::Manifest;
use crate::report::{Finding, Location};
use crate::rules::RuleId;

use super::instant;
use super::report::*;
use super::tally::Tally;

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
    // Each unused scope's row, looked up: scanning the rows for each was quadratic.
    let mut rows: BTreeMap<&Location, &ScopeUsage> = BTreeMap::new();
    for s in scopes {
        rows.entry(&s.location).or_insert(s);
    }
    let mut out: Vec<Finding> = oom.iter().map(|o| out_of_manifest(app, o)).collect();
    out.extend(
        unused
            .iter()
            .map(|u| unused_scope(app, rows.get(&u.location).copied(), u, &window)),
    );
    out.extend(over.iter().map(|g| over_granted(app, g)));
    out.extend(drift.iter().map(|d| unobserved_need(app, d, &window)));
    out.sort_by(|a, b| (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message)));
    out
}

/// Access a tenant was seen using that no requested scope grants.
fn out_of_manifest(app: &str, o: &OutOfManifest) -> Finding {
    let what = match &o.resource {
        Some(r) => format!("{} on {r}", o.interaction),
        None => o.interaction.clone(),
    };
    let params = if o.parameters.is_empty() {
        String::new()
    } else {
        format!(" with `{}`", o.parameters)
    };
    let message = format!(
        "tenant `{}`: {} request(s) ({} failed) for {what}{params}, which no requested scope grants",
        o.tenant,
        o.requests + o.failed,
        o.failed
    );
    let hint = format!(
        "investigate; if a workflow needs it, add it to the manifest (`{}` at a level) and get it approved",
        o.needs
    );
    Finding::new(RuleId::OutOfManifestUse, app, o.first_seen.clone(), message).with_hint(Some(hint))
}

/// A requested scope not used in the window (remove it), or used only in part
/// (narrow it), saying how often it was granted (`row` is its scope's row).
fn unused_scope(app: &str, row: Option<&ScopeUsage>, u: &Unused, window: &str) -> Finding {
    let granted = row.and_then(|r| r.granted).unwrap_or(0);
    let granted = if granted > 0 {
        format!("granted in {granted} token response(s) but ")
    } else {
        String::new()
    };
    let (id, message, hint) = match u.action {
        Action::Remove => (
            RuleId::ScopeUnused,
            format!("`{}` was {granted}not used{window}", u.scope),
            "remove it from the manifest".to_string(),
        ),
        Action::Narrow => (
            RuleId::ScopePartlyUsed,
            format!(
                "`{}` was {granted}used only as {}{window}",
                u.scope,
                ticks(&u.suggestion)
            ),
            format!("request {} instead", ticks(&u.suggestion)),
        ),
    };
    Finding::new(id, app, u.location.clone(), message).with_hint(Some(hint))
}

/// A tenant granting scopes the manifest does not request.
fn over_granted(app: &str, g: &OverGrant) -> Finding {
    let message = format!(
        "tenant `{}` granted `{}` in {} token response(s); the manifest does not request {}",
        g.tenant,
        g.granted,
        g.responses,
        ticks(&g.beyond_request)
    );
    let hint = "ask the EHR to grant only the requested scopes";
    Finding::new(RuleId::ScopeOverGranted, app, g.first_seen.clone(), message)
        .with_hint(Some(hint.into()))
}

/// A workflow need never observed in the window.
fn unobserved_need(app: &str, d: &Drift, window: &str) -> Finding {
    let message = format!(
        "workflow `{}` needs `{}`, but {} was never observed{window}",
        d.workflow,
        d.need,
        ticks(&d.unobserved)
    );
    let hint = "check the workflow still exists, or drop the need";
    Finding::new(
        RuleId::WorkflowNeedUnobserved,
        app,
        d.location.clone(),
        message,
    )
    .with_hint(Some(hint.into()))
}
