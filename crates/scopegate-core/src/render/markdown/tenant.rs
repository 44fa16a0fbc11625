//! The tenant matrix section: for each tenant, its policy, approvals and EHR checks
//! and whether the change ships to it.
//!
//! Part of the Markdown renderer. Every check and verdict comes from the [`Report`];
//! it must not evaluate a tenant's policy itself.

use crate::report::Report;

use super::{code, prose, thousands};

/// The tenant table, or with `rows` false only its heading (the count of tenants it
/// ships to), when the report must be cut to fit.
pub(super) fn tenant_matrix(out: &mut String, r: &Report, rows: bool) {
    use crate::report::{Check, TenantMode, TenantVerdict};
    if r.tenants.is_empty() {
        return;
    }
    let ships = r
        .tenants
        .iter()
        .filter(|t| t.verdict == TenantVerdict::Ship)
        .count();
    let mode = match r.tenant_mode {
        Some(TenantMode::Report) => "report only: blocked tenants do not fail the gate",
        _ => "enforced: a blocked tenant fails the gate",
    };
    out.push_str(&format!(
        "\n#### Tenants: ships to {} of {} ({mode})\n\n",
        thousands(ships),
        thousands(r.tenants.len())
    ));
    if !rows {
        return;
    }
    out.push_str(
        "| tenant | policy | approvals | EHR | verdict | why |\n|---|---|---|---|---|---|\n",
    );
    let cell = |c: Check| match c {
        Check::Pass => "✅ pass",
        Check::Warn => "⚠️ warn",
        Check::Fail => "❌ fail",
        Check::NotChecked => "—",
    };
    for t in &r.tenants {
        let verdict = match t.verdict {
            TenantVerdict::Ship => "**ship**",
            TenantVerdict::Blocked => "**blocked**",
        };
        let why: Vec<String> = t.problems.iter().map(|p| prose(p, true)).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {verdict} | {} |\n",
            code(&t.tenant, true),
            cell(t.policy),
            cell(t.approvals),
            cell(t.ehr),
            why.join("<br>"),
        ));
    }
}
