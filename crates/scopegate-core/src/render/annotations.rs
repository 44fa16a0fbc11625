//! GitHub Actions workflow-command annotations (`::error file=…,line=…::…`), at
//! most ten per level, then one summary notice.
//!
//! Owns the workflow-command escaping: in the message `%`, CR and LF; in properties
//! also `:` and `,`. Escaping CR and LF also keeps user text from starting a line of
//! its own, so it cannot issue workflow commands. It must not decide anything: the
//! level follows the approval state and severity the [`Report`] already holds.

use crate::report::{ApprovalState, Change, Direction, Finding, Report, Verdict};
use crate::rules::Severity;
use crate::words::plural;

/// GitHub shows only about ten annotations of each level per step (community
/// discussion #68471); notices keep one place for the summary line.
const CAP: [usize; 3] = [10, 10, 9];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Level {
    Error = 0,
    Warning = 1,
    Notice = 2,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

struct Annotation {
    level: Level,
    file: String,
    line: u32,
    col: u32,
    title: String,
    message: String,
}

/// The annotations, one per line, most severe first within each level (the
/// report's order), then the summary notice.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 3];
    let mut hidden = 0;
    let all = r
        .changes
        .iter()
        .map(change)
        .chain(r.findings.iter().map(finding));
    for a in all {
        let i = a.level as usize;
        if shown[i] == CAP[i] {
            hidden += 1;
            continue;
        }
        shown[i] += 1;
        out.push_str(&format!(
            "::{} file={},line={},col={},title={}::{}\n",
            a.level.command(),
            property(&super::sarif::repo_path(&a.file)),
            a.line.max(1),
            a.col.max(1),
            property(&a.title),
            data(&a.message),
        ));
    }
    let mut summary = summary(r);
    if hidden > 0 {
        summary.push_str(&format!(
            ", {hidden} more annotation{} not shown",
            if hidden == 1 { "" } else { "s" }
        ));
    }
    out.push_str(&format!("::notice title=scopegate::{}\n", data(&summary)));
    out
}

fn change(c: &Change) -> Annotation {
    let risk = c.severity.risk();
    let (by, ticket) = super::approver(&c.approval);
    let justification = if crate::diff::is_identity_change(c.rule) {
        "identity change".to_string()
    } else if c.workflows.is_empty() {
        "no workflow needs it".to_string()
    } else {
        format!("workflows: {}", c.workflows.join(", "))
    };
    let detail = format!(
        "{}\nkey: {} · {risk} risk · {justification}",
        c.description, c.key
    );
    let (level, title, message) = match (c.direction, &c.approval.state) {
        (Direction::Escalation, ApprovalState::Unapproved) => (
            Level::Error,
            "Unapproved escalation",
            format!(
                "{detail}\nTo approve: scopegate approve --by <you> --ticket <ticket> --key {}",
                super::shell_word(&c.key)
            ),
        ),
        (Direction::Escalation, ApprovalState::Expired) => (
            Level::Error,
            "Expired approval",
            format!("{detail}\nThe approval by {by}{ticket} has expired."),
        ),
        (Direction::Escalation, ApprovalState::Pending) => (
            Level::Error,
            "Approval pending review",
            format!(
                "{detail}\nApproved in the ledger by {by}{ticket}, but not yet counted: {}",
                c.approval
                    .reason
                    .as_deref()
                    .unwrap_or("no qualifying review")
            ),
        ),
        (Direction::Escalation, ApprovalState::Approved) => {
            let added = c.approval.provenance();
            (
                Level::Notice,
                "Approved escalation",
                format!("{detail}\nApproved by {by}{ticket}{added}."),
            )
        }
        (Direction::Escalation, ApprovalState::NotRequired) => {
            (Level::Notice, "Escalation", detail)
        }
        (Direction::Reduction, _) => (
            Level::Notice,
            "Access removed",
            format!("{}\nkey: {}", c.description, c.key),
        ),
        (Direction::Workflow, _) => (Level::Notice, "Workflow change", c.description.clone()),
    };
    Annotation {
        level,
        file: c.location.file.clone(),
        line: c.location.line,
        col: c.location.column,
        title: format!("{title}: {}", c.rule),
        message,
    }
}

fn finding(f: &Finding) -> Annotation {
    let level = match f.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Note => Level::Notice,
    };
    let message = match &f.hint {
        Some(h) => format!("{}\nhint: {h}", f.message),
        None => f.message.clone(),
    };
    Annotation {
        level,
        file: f.location.file.clone(),
        line: f.location.line,
        col: f.location.column,
        title: f.rule.to_string(),
        message,
    }
}

fn summary(r: &Report) -> String {
    let s = &r.summary;
    let verdict = match r.verdict {
        Some(Verdict::Fail) => "FAIL",
        Some(Verdict::Pass) => "PASS",
        Some(Verdict::NoChange) => "NO CHANGE",
        None => "report",
    };
    let mut out = format!(
        "{verdict}: {} ({} unapproved), {}, {}, {}, {}, {}",
        plural(s.escalations, "escalation"),
        s.unapproved,
        plural(s.reductions, "reduction"),
        plural(s.workflow_changes, "workflow change"),
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note"),
    );
    if let Some(b) = &r.baseline {
        let name = b.name.as_deref().unwrap_or(&b.source);
        out.push_str(&format!(" (baseline {name})"));
    }
    if !r.tenants.is_empty() {
        let blocked: Vec<&str> = r
            .tenants
            .iter()
            .filter(|t| t.verdict == crate::report::TenantVerdict::Blocked)
            .map(|t| t.tenant.as_str())
            .collect();
        out.push_str(&format!(
            ", ships to {} of {} tenants",
            r.tenants.len() - blocked.len(),
            r.tenants.len()
        ));
        if !blocked.is_empty() {
            out.push_str(&format!(" (blocked: {})", blocked.join(", ")));
        }
    }
    if r.advisory {
        out.push_str(" (advisory: config and approvals from the working tree)");
    }
    out
}

/// Escapes a command's message: the runner's own escapes for `%`, CR and LF; other
/// line separators and controls as visible escapes (super::safe), and `##[` (a legacy
/// command anywhere in a line) broken. The CLI's own `::notice`/`::error` lines use it
/// too, so every workflow command scopegate prints escapes its message one way.
pub fn data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace("##[", "##\\[");
    super::safe::escape(&s).into_owned()
}

/// Escapes a command's property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::markdown::tests::{approval, change as mk, sample};
    use crate::report::Location;
    use crate::rules::RuleId;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(data("a:b,c"), "a:b,c");
        assert_eq!(property("dir,x/a:b.yaml"), "dir%2Cx/a%3Ab.yaml");
        assert_eq!(property("50%:\n"), "50%25%3A%0A");

        let mut r = sample();
        r.findings = vec![Finding {
            rule: RuleId::UnjustifiedScope,
            severity: Severity::Warning,
            app: "a".into(),
            location: Location {
                file: "apps/a,b:c.yaml".into(),
                line: 3,
                column: 5,
            },
            message: "100% of it\n::error::injected".into(),
            hint: Some("title: x, y".into()),
            suggestion: Vec::new(),
            tenant: None,
            key: None,
            capability: None,
        }];
        r.changes.clear();
        let out = render(&r);
        let first = out.lines().next().unwrap_or_default();
        assert_eq!(
            first,
            "::warning file=apps/a%2Cb%3Ac.yaml,line=3,col=5,title=unjustified-scope::\
             100%25 of it%0A::error::injected%0Ahint: title: x, y"
        );
        // Every line is a command of ours: user text never starts one.
        assert!(
            out.lines()
                .all(|l| l.starts_with("::warning ") || l.starts_with("::notice "))
        );
    }

    #[test]
    fn titles_are_escaped_as_properties() {
        // A title holds a rule id (no user text), and its `:` is still escaped.
        let mut r = sample();
        r.changes.truncate(1);
        r.changes[0].rule = RuleId::DeleteAccessAdded;
        let out = render(&r);
        assert!(
            out.contains(",title=Unapproved escalation%3A delete-access-added::"),
            "{out}"
        );
    }

    #[test]
    fn levels_follow_approval_state_and_severity() {
        let out = render(&sample());
        let lines: Vec<&str> = out.lines().collect();
        let level_of = |rule: &str| {
            lines
                .iter()
                .find(|l| l.contains(&format!("{rule}::")))
                .map(|l| l.split(' ').next().unwrap_or_default())
                .unwrap_or_default()
        };
        assert_eq!(level_of("delete-access-added"), "::error"); // unapproved
        assert_eq!(level_of("read-access-added"), "::error"); // expired
        assert_eq!(level_of("write-access-added"), "::notice"); // approved
        assert_eq!(level_of("access-removed"), "::notice");
        assert_eq!(level_of("workflow-added"), "::notice");
        assert_eq!(level_of("unjustified-scope"), "::error");
        assert_eq!(level_of("approval-stale"), "::notice");
        assert_eq!(
            lines.last().copied(),
            Some(
                "::notice title=scopegate::FAIL: 3 escalations (2 unapproved), 1 reduction, \
                 1 workflow change, 1 error, 0 warnings, 1 note (baseline v1.0.0)"
            )
        );
    }

    #[test]
    fn at_most_ten_per_level_most_severe_first_then_a_count() {
        let mut r = sample();
        r.findings.clear();
        r.changes = (0..25)
            .map(|i| {
                let sev = if i < 12 {
                    Severity::Error
                } else {
                    Severity::Note
                };
                mk(
                    "app",
                    Direction::Escalation,
                    RuleId::ReadAccessAdded,
                    sev,
                    &format!("patient/R{i}.rs"),
                    "added",
                    approval(ApprovalState::Unapproved, None, false),
                )
            })
            .chain((0..15).map(|i| {
                mk(
                    "app",
                    Direction::Reduction,
                    RuleId::AccessRemoved,
                    Severity::Note,
                    &format!("patient/S{i}.rs"),
                    "removed",
                    crate::report::Approval::not_required(),
                )
            }))
            .collect();
        let out = render(&r);
        let count = |p: &str| out.lines().filter(|l| l.starts_with(p)).count();
        assert_eq!(count("::error "), 10);
        // Nine notices and the summary: GitHub shows ten.
        assert_eq!(count("::notice "), 10);
        // The first ten errors are the first ten escalations, in report order.
        let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
        assert!(errors[0].contains("patient/R0.rs") && errors[9].contains("patient/R9.rs"));
        let last = out.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("::notice title=scopegate::FAIL: "),
            "{last}"
        );
        // 25 + 15 = 40 annotations, 19 shown.
        assert!(last.ends_with(", 21 more annotations not shown"), "{last}");
    }

    #[test]
    fn the_summary_mentions_nothing_cut_when_nothing_was() {
        let out = render(&sample());
        assert!(!out.contains("not shown"));
        assert_eq!(out.lines().count(), 8);
    }

    #[test]
    fn typical_report() {
        insta::assert_snapshot!(render(&sample()));
    }
}
