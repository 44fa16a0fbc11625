//! `scopegate usage` as terminal text, Markdown and SARIF. Formats a
//! [`UsageReport`]; decides nothing.

use super::Style;
use super::markdown::{code, prose};
use crate::report::Report;
use crate::usage_analysis::report::{Action, UsageReport, UsageVerdict};
use crate::words::plural;

fn window(r: &UsageReport) -> String {
    r.since
        .as_ref()
        .map_or("in the evidence".to_string(), |s| format!("since {s}"))
}

fn headline(r: &UsageReport) -> String {
    let verdict = match r.verdict {
        UsageVerdict::Pass => "PASS",
        UsageVerdict::Fail => "FAIL",
    };
    let s = &r.summary;
    format!(
        "scopegate usage: {verdict} — {}, {}, {}, {} (app {}, {})",
        plural(s.out_of_manifest as u64, "out-of-manifest access"),
        plural(s.unused as u64, "unused scope"),
        plural(s.over_granted as u64, "over-grant"),
        plural(s.drift as u64, "unobserved need"),
        r.app,
        window(r)
    )
}

fn evidence_line(r: &UsageReport) -> String {
    let records: u64 = r.evidence.files.iter().map(|f| f.records).sum();
    format!(
        "evidence: {}, {}, {}; tenants: {}",
        plural(r.evidence.files.len() as u64, "file"),
        plural(records, "record"),
        plural(r.evidence.bad_lines, "bad line"),
        if r.tenants.is_empty() {
            "none".to_string()
        } else {
            r.tenants.join(", ")
        }
    )
}

fn dash(v: Option<u64>) -> String {
    v.map_or("-".into(), |n| n.to_string())
}

/// `granted` without granted-scopes evidence: unknown, not 0.
fn unknown(v: Option<u64>) -> String {
    v.map_or("—".into(), |n| n.to_string())
}

pub fn text(r: &UsageReport, st: Style) -> String {
    super::safe::render(r, |r| text_raw(r, st))
}

fn text_raw(r: &UsageReport, st: Style) -> String {
    let mut out = String::new();
    let head = headline(r);
    out.push_str(&match r.verdict {
        UsageVerdict::Pass => st.bold(&head),
        UsageVerdict::Fail => st.red(&head),
    });
    out.push('\n');
    out.push_str(&evidence_line(r));
    out.push('\n');
    if !r.evidence.grant_evidence {
        out.push_str("no granted-scopes evidence (--granted): `granted` is unknown (—); unused scopes are judged against what the manifest requests\n");
    }
    text_scopes(&mut out, r, st);
    text_unused(&mut out, r, st);
    text_over_granted(&mut out, r, st);
    text_out_of_manifest(&mut out, r, st);
    text_operations(&mut out, r, st);
    text_drift(&mut out, r, st);
    text_evidence(&mut out, r, st);
    out
}

/// The table of requested scopes per tenant: granted, used, failed, last used.
fn text_scopes(out: &mut String, r: &UsageReport, st: Style) {
    out.push_str(&format!("\n{}\n", st.bold("Requested, granted and used")));
    let width = super::column(r.scopes.iter().map(|s| s.scope.len()), 5);
    let tw = super::column(r.tenants.iter().map(String::len), 6);
    out.push_str(&format!(
        "  {:width$}  {:tw$}  {:>7}  {:>7}  {:>6}  last used\n",
        "scope", "tenant", "granted", "used", "failed"
    ));
    for s in &r.scopes {
        if s.tenants.is_empty() {
            out.push_str(&format!("  {:width$}  (no evidence)\n", s.scope));
        }
        for (i, t) in s.tenants.iter().enumerate() {
            let name = if i == 0 { s.scope.as_str() } else { "" };
            out.push_str(&format!(
                "  {name:width$}  {:tw$}  {:>7}  {:>7}  {:>6}  {}\n",
                t.tenant,
                unknown(t.granted),
                dash(t.used),
                if s.observable {
                    t.failed.to_string()
                } else {
                    "-".into()
                },
                t.last_used.as_deref().unwrap_or("-"),
            ));
        }
    }
}

/// Unused and partly used scopes: remove or narrow, with the tenants they idle in.
fn text_unused(out: &mut String, r: &UsageReport, st: Style) {
    if !r.unused.is_empty() {
        out.push_str(&format!("\n{} ({})\n", st.bold("Unused"), window(r)));
        for u in &r.unused {
            let at = format!("{}:{}", u.location.file, u.location.line);
            match u.action {
                Action::Remove => out.push_str(&format!(
                    "  {} `{}`: never used  ({at})\n",
                    st.yellow("remove"),
                    u.scope
                )),
                Action::Narrow => out.push_str(&format!(
                    "  {} `{}` to {}  ({at})\n      drops: {}\n",
                    st.yellow("narrow"),
                    u.scope,
                    u.suggestion
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" "),
                    u.drops
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )),
            }
            if !u.idle_tenants.is_empty() {
                out.push_str(&format!("      idle in: {}\n", u.idle_tenants.join(", ")));
            }
        }
    }
}

/// Token responses that granted more than the manifest requests.
fn text_over_granted(out: &mut String, r: &UsageReport, st: Style) {
    if !r.over_granted.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            st.bold("Over-granted (the EHR granted more than requested)")
        ));
        for g in &r.over_granted {
            out.push_str(&format!(
                "  tenant {}: `{}` in {}, beyond the request: {}  (first {}:{})\n",
                g.tenant,
                g.granted,
                plural(g.responses, "token response"),
                g.beyond_request
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" "),
                g.first_seen.file,
                g.first_seen.line
            ));
        }
    }
}

/// Accesses no requested scope covers.
fn text_out_of_manifest(out: &mut String, r: &UsageReport, st: Style) {
    if !r.out_of_manifest.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            st.red("Out-of-manifest use (no requested scope covers it)")
        ));
        for o in &r.out_of_manifest {
            out.push_str(&format!(
                "  {} tenant {}: {} {} — {} ok, {} failed, needs `{}`  (first {}:{})\n",
                st.red("error"),
                o.tenant,
                o.interaction,
                o.resource.as_deref().unwrap_or("(system)"),
                o.requests,
                o.failed,
                o.needs,
                o.first_seen.file,
                o.first_seen.line
            ));
        }
    }
}

/// Observed `$operation`s, which SMART gives no scope: for review.
fn text_operations(out: &mut String, r: &UsageReport, st: Style) {
    if !r.operations.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            st.bold("Operations (SMART defines no scopes for them: review)")
        ));
        for o in &r.operations {
            out.push_str(&format!(
                "  tenant {}: {}{} — {} ok, {} failed\n",
                o.tenant,
                o.resource
                    .as_ref()
                    .map_or(String::new(), |t| format!("{t}/")),
                o.operation,
                o.requests,
                o.failed
            ));
        }
    }
}

/// Workflow needs whose letters no access exercised.
fn text_drift(out: &mut String, r: &UsageReport, st: Style) {
    if !r.drift.is_empty() {
        out.push_str(&format!(
            "\n{} ({})\n",
            st.bold("Drift: workflow needs never observed"),
            window(r)
        ));
        for d in &r.drift {
            out.push_str(&format!(
                "  {} `{}` needs `{}`; never observed: {}\n",
                st.cyan("note"),
                d.workflow,
                d.need,
                d.unobserved
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
    }
}

/// Bad-line samples and what the reader skipped.
fn text_evidence(out: &mut String, r: &UsageReport, st: Style) {
    let e = &r.evidence;
    if e.bad_lines > 0 {
        out.push_str(&format!(
            "\n{} ({} shown)\n",
            st.yellow(&format!("Bad lines: {}", e.bad_lines)),
            e.bad_line_samples.len()
        ));
        for b in &e.bad_line_samples {
            out.push_str(&format!("  {}:{}: {}\n", b.file, b.line, b.reason));
        }
    }
    let sk = &e.skipped;
    let skipped = [
        (sk.other_app, "of other apps"),
        (sk.before_window, "before the window"),
        (sk.capabilities, "capability requests (no scope needed)"),
        (
            sk.batch_without_entries,
            "batch/transaction without entries",
        ),
        (sk.not_access, "AuditEvents that are not RESTful access"),
    ];
    let parts: Vec<String> = skipped
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if !parts.is_empty() {
        out.push_str(&format!("\nskipped: {}\n", parts.join(", ")));
    }
}

pub fn markdown(r: &UsageReport) -> String {
    super::safe::render(r, markdown_raw)
}

fn markdown_raw(r: &UsageReport) -> String {
    let mut out = format!(
        "### {}\n\n{}\n",
        prose(&headline(r), false),
        prose(&evidence_line(r), false)
    );
    if !r.evidence.grant_evidence {
        out.push_str("\nNo granted-scopes evidence: `granted` is unknown (—); unused scopes are judged against what the manifest requests.\n");
    }
    markdown_scopes(&mut out, r);
    markdown_unused(&mut out, r);
    markdown_over_granted(&mut out, r);
    markdown_out_of_manifest(&mut out, r);
    markdown_operations(&mut out, r);
    markdown_drift(&mut out, r);
    markdown_bad_lines(&mut out, r);
    out
}

/// Scopes as inline code, space-separated.
fn list(v: &[String]) -> String {
    v.iter()
        .map(|s| code(s, true))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The table of requested scopes per tenant.
fn markdown_scopes(out: &mut String, r: &UsageReport) {
    out.push_str("\n#### Requested, granted and used\n\n| scope | tenant | granted | used | failed | last used |\n|---|---|---:|---:|---:|---|\n");
    for s in &r.scopes {
        for (i, t) in s.tenants.iter().enumerate() {
            let name = if i == 0 {
                code(&s.scope, true)
            } else {
                String::new()
            };
            out.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} |\n",
                code(&t.tenant, true),
                unknown(t.granted),
                dash(t.used),
                if s.observable {
                    t.failed.to_string()
                } else {
                    "-".into()
                },
                t.last_used.as_deref().unwrap_or("-")
            ));
        }
    }
}

/// Unused and partly used scopes: remove or narrow.
fn markdown_unused(out: &mut String, r: &UsageReport) {
    if !r.unused.is_empty() {
        out.push_str(&format!(
            "\n#### Unused ({})\n\n| scope | suggestion | drops | idle in |\n|---|---|---|---|\n",
            window(r)
        ));
        for u in &r.unused {
            let suggestion = match u.action {
                Action::Remove => "remove it".to_string(),
                Action::Narrow => format!("narrow to {}", list(&u.suggestion)),
            };
            out.push_str(&format!(
                "| {} | {suggestion} | {} | {} |\n",
                code(&u.scope, true),
                list(&u.drops),
                list(&u.idle_tenants)
            ));
        }
    }
}

/// Token responses that granted more than the manifest requests.
fn markdown_over_granted(out: &mut String, r: &UsageReport) {
    if !r.over_granted.is_empty() {
        out.push_str("\n#### Over-granted\n\n| tenant | granted | beyond the request | responses |\n|---|---|---|---:|\n");
        for g in &r.over_granted {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                code(&g.tenant, true),
                code(&g.granted, true),
                list(&g.beyond_request),
                g.responses
            ));
        }
    }
}

/// Accesses no requested scope covers.
fn markdown_out_of_manifest(out: &mut String, r: &UsageReport) {
    if !r.out_of_manifest.is_empty() {
        out.push_str("\n#### :x: Out-of-manifest use\n\n| tenant | interaction | needs | ok | failed | first seen |\n|---|---|---|---:|---:|---|\n");
        for o in &r.out_of_manifest {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                code(&o.tenant, true),
                o.interaction,
                code(&o.needs, true),
                o.requests,
                o.failed,
                code(
                    &format!("{}:{}", o.first_seen.file, o.first_seen.line),
                    true
                )
            ));
        }
    }
}

/// Observed `$operation`s, for review.
fn markdown_operations(out: &mut String, r: &UsageReport) {
    if !r.operations.is_empty() {
        out.push_str("\n#### Operations (no SMART scope; review)\n\n| tenant | operation | ok | failed |\n|---|---|---:|---:|\n");
        for o in &r.operations {
            let name = format!(
                "{}{}",
                o.resource
                    .as_ref()
                    .map_or(String::new(), |t| format!("{t}/")),
                o.operation
            );
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                code(&o.tenant, true),
                code(&name, true),
                o.requests,
                o.failed
            ));
        }
    }
}

/// Workflow needs whose letters no access exercised.
fn markdown_drift(out: &mut String, r: &UsageReport) {
    if !r.drift.is_empty() {
        out.push_str("\n#### Drift: workflow needs never observed\n\n| workflow | need | never observed |\n|---|---|---|\n");
        for d in &r.drift {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                code(&d.workflow, true),
                code(&d.need, true),
                list(&d.unobserved)
            ));
        }
    }
}

/// Bad-line samples.
fn markdown_bad_lines(out: &mut String, r: &UsageReport) {
    if r.evidence.bad_lines > 0 {
        out.push_str(&format!("\n#### Bad lines: {}\n\n", r.evidence.bad_lines));
        for b in &r.evidence.bad_line_samples {
            out.push_str(&format!(
                "- {} {}\n",
                code(&format!("{}:{}", b.file, b.line), false),
                prose(&b.reason, false)
            ));
        }
    }
}

/// SARIF 2.1.0: the usage findings as results of the shared rule catalogue.
pub fn sarif(r: &UsageReport) -> String {
    super::sarif::render(&Report::new(1, r.findings.clone()))
}
