//! Tests for `markdown`; `sample()` is shared with the SARIF and annotation tests.
use super::*;
use crate::report::{AppReport, Approval, ApprovalState, Baseline, Change, Direction, Location};
use crate::rules::{RuleId, Severity};

fn loc(file: &str, line: u32, column: u32) -> Location {
    Location {
        file: file.into(),
        line,
        column,
    }
}

pub(crate) fn change(
    app: &str,
    direction: Direction,
    rule: RuleId,
    severity: Severity,
    scope: &str,
    description: &str,
    approval: Approval,
) -> Change {
    Change {
        app: app.into(),
        direction,
        rule,
        also: Vec::new(),
        severity,
        key: format!("{app}:{scope}"),
        scope: scope.into(),
        head: (direction == Direction::Escalation).then(|| scope.to_string()),
        before: Vec::new(),
        description: description.into(),
        location: loc("smart-app.yaml", 15, 12),
        workflows: Vec::new(),
        approval,
        new_in_pr: None,
    }
}

pub(crate) fn approval(state: ApprovalState, by: Option<&str>, added: bool) -> Approval {
    Approval {
        state,
        by: by.map(Into::into),
        ticket: by.map(|_| "SEC-12".into()),
        entry_line: by.map(|_| 3),
        added_in_change: added,
        unverified: false,
        signed_with: None,
        reason: None,
        tenants: Vec::new(),
    }
}

/// A typical failing gate: one of each kind of change, findings, two apps.
pub(crate) fn sample() -> Report {
    let mut high = change(
        "med-rec",
        Direction::Escalation,
        RuleId::DeleteAccessAdded,
        Severity::Error,
        "patient/MedicationStatement.d",
        "`patient/MedicationStatement.crs` widened to `patient/MedicationStatement.cruds` (new: `patient/MedicationStatement.d`)",
        approval(ApprovalState::Unapproved, None, false),
    );
    high.head = Some("patient/MedicationStatement.cruds".into());
    high.also = vec![RuleId::WriteAccessAdded];
    let mut medium = change(
        "med-rec",
        Direction::Escalation,
        RuleId::WriteAccessAdded,
        Severity::Warning,
        "patient/Observation.c",
        "`patient/Observation.c` added",
        approval(ApprovalState::Approved, Some("alice"), true),
    );
    medium.location = loc("smart-app.yaml", 19, 12);
    medium.workflows = vec!["record-vitals".into()];
    let mut low = change(
        "med-rec",
        Direction::Escalation,
        RuleId::ReadAccessAdded,
        Severity::Note,
        "patient/Condition.rs",
        "`patient/Condition.rs` added",
        approval(ApprovalState::Expired, Some("bob"), false),
    );
    low.location = loc("smart-app.yaml", 21, 12);
    low.workflows = vec!["reconcile".into(), "allergy-check".into()];
    let mut reduction = change(
        "med-rec",
        Direction::Reduction,
        RuleId::AccessRemoved,
        Severity::Note,
        "patient/AllergyIntolerance.rs",
        "`patient/AllergyIntolerance.rs` removed",
        Approval::not_required(),
    );
    reduction.location = loc("smart-app.yaml", 8, 1);
    let mut workflow = change(
        "med-rec",
        Direction::Workflow,
        RuleId::WorkflowAdded,
        Severity::Note,
        "",
        "workflow `record-vitals` added",
        Approval::not_required(),
    );
    workflow.key = "med-rec:workflow/record-vitals".into();
    workflow.location = loc("smart-app.yaml", 30, 9);
    let findings = vec![
        Finding {
            rule: RuleId::UnjustifiedScope,
            severity: Severity::Error,
            app: "med-rec".into(),
            location: loc("smart-app.yaml", 15, 12),
            message: "`patient/MedicationStatement.cruds` grants `patient/MedicationStatement.ud` that no workflow needs".into(),
            hint: Some("request `patient/MedicationStatement.crs` instead".into()),
            suggestion: Vec::new(),
            tenant: None,
            key: None,
            capability: None,
        },
        Finding {
            rule: RuleId::ApprovalStale,
            severity: Severity::Note,
            app: String::new(),
            location: loc(".scopegate/approvals.yaml", 9, 1),
            message: "approval entry 2 matches no current change".into(),
            hint: None,
            suggestion: Vec::new(),
            tenant: None,
            key: None,
            capability: None,
        },
    ];
    let apps = vec![
        AppReport {
            app: "med-rec".into(),
            path: "smart-app.yaml".into(),
            baseline_path: Some("smart-app.yaml".into()),
            new_app: false,
            removed_app: false,
            id_changed_from: None,
            gating_stopped: None,
            text_diff: "--- a/smart-app.yaml\n+++ b/smart-app.yaml\n@@ -14,3 +14,3 @@\n-  - scope: patient/MedicationStatement.crs\n+  - scope: patient/MedicationStatement.cruds\n".into(),
        },
        AppReport {
            app: "vitals".into(),
            path: "apps/vitals.yaml".into(),
            baseline_path: None,
            new_app: true,
            removed_app: false,
            id_changed_from: None,
            gating_stopped: None,
            text_diff: String::new(),
        },
    ];
    let mut r = Report::build(
        2,
        findings,
        vec![workflow, reduction, low, medium, high],
        apps,
        Some(Baseline {
            source: "previous release (v*)".into(),
            name: Some("v1.0.0".into()),
            commit: Some("a97191394704f0f5f93548ea7a1fa59594778ab6".into()),
        }),
        Some(Verdict::Fail),
        false,
    );
    r.reasons = vec![
        "2 unapproved escalations".into(),
        "1 lint finding at or above `error`".into(),
    ];
    r
}

/// Every hostile string from the issue, in every user-supplied field.
const EVIL: &str = "<script>alert(1)</script> @org/team [x](http://evil) ![i](http://evil) www.evil.com \
                    <!-- scopegate:marker --> a|b ``code`` `x` *em* _u_ ~~s~~ $x$ #1 <img src=x>\nsecond line";

fn evil_report() -> Report {
    let mut c = change(
        EVIL,
        Direction::Escalation,
        RuleId::WriteAccessAdded,
        Severity::Warning,
        EVIL,
        &format!("rationale of `{EVIL}` changed from \"{EVIL}\" to \"{EVIL}\""),
        approval(ApprovalState::Approved, Some(EVIL), true),
    );
    c.workflows = vec![EVIL.into()];
    c.location.file = EVIL.into();
    let mut red = c.clone();
    red.direction = Direction::Reduction;
    let mut wf = c.clone();
    wf.direction = Direction::Workflow;
    let f = Finding {
        rule: RuleId::UnjustifiedScope,
        severity: Severity::Error,
        app: EVIL.into(),
        location: loc(EVIL, 1, 1),
        message: EVIL.into(),
        hint: Some(EVIL.into()),
        suggestion: Vec::new(),
        tenant: None,
        key: None,
        capability: None,
    };
    let app = AppReport {
        app: EVIL.into(),
        path: EVIL.into(),
        baseline_path: None,
        new_app: true,
        removed_app: false,
        id_changed_from: None,
        gating_stopped: None,
        text_diff: format!("-{EVIL}\n+``````\n+~~~\n+</details>\n"),
    };
    Report::build(
        1,
        vec![f],
        vec![c, red, wf],
        vec![app],
        Some(Baseline {
            source: EVIL.into(),
            name: Some(EVIL.into()),
            commit: Some(EVIL.into()),
        }),
        Some(Verdict::Fail),
        true,
    )
}

/// The text with every code span and fenced block removed: what GitHub would
/// render as Markdown rather than literally.
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let mut fence: Option<String> = None;
    for line in md.lines() {
        if let Some(f) = &fence {
            if line.trim_end() == f {
                fence = None;
            }
            continue;
        }
        if line.starts_with("```") {
            let run: String = line.chars().take_while(|&c| c == '`').collect();
            fence = Some(run);
            continue;
        }
        // Strip code spans: a run of n backticks up to the next run of exactly n.
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] == '\\' && i + 1 < chars.len() {
                out.push(chars[i]);
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            if chars[i] == '`' {
                let n = chars[i..].iter().take_while(|&&c| c == '`').count();
                let mut j = i + n;
                let mut closed = None;
                while j < chars.len() {
                    if chars[j] == '`' {
                        let m = chars[j..].iter().take_while(|&&c| c == '`').count();
                        if m == n {
                            closed = Some(j + m);
                            break;
                        }
                        j += m;
                    } else {
                        j += 1;
                    }
                }
                if let Some(end) = closed {
                    i = end;
                    continue;
                }
                // An unclosed run is literal text: it must not happen here.
                out.push_str("<<UNCLOSED>>");
            }
            out.push(chars[i]);
            i += 1;
        }
        out.push('\n');
    }
    assert!(fence.is_none(), "a fenced block is not closed");
    out
}

#[test]
fn user_text_cannot_inject_html_mentions_links_or_markers() {
    let md = render(&evil_report(), Some("<!-- scopegate:comment -->"));
    // The only hidden marker is the caller's, on the first line.
    assert_eq!(md.matches("<!--").count(), 1, "{md}");
    assert!(md.starts_with("<!-- scopegate:comment -->\n"));
    // No raw `@` followed by a login anywhere (code spans included).
    assert!(!md.contains("@org"), "{md}");
    assert!(md.contains("@\u{200D}org/team"));
    let body = md
        .strip_prefix("<!-- scopegate:comment -->\n")
        .unwrap_or_default();
    let prose = outside_code(body);
    assert!(!prose.contains("<<UNCLOSED>>"), "{md}");
    // No raw HTML from user text: the only tags are the renderer's own.
    let tags = prose
        .replace("<br>", "")
        .replace("<sub>", "")
        .replace("</sub>", "")
        .replace("<details><summary>Manifest diff</summary>", "")
        .replace("</details>", "");
    assert!(!tags.contains('<'), "raw `<` outside code: {tags}");
    assert!(prose.contains("&lt;script&gt;"));
    // No link, image, emphasis or math syntax survives unescaped.
    for bad in [
        "](", "![", "[x]", "*em*", "_u_", "~~s~~", "$x$", "http://", "www.",
    ] {
        assert!(!prose.contains(bad), "`{bad}` is live in: {prose}");
    }
    // Table rows keep their shape: a user `|` never splits a cell.
    let pipes = |line: &str| {
        let b = line.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let mut width = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            width = None;
            continue;
        }
        let n = pipes(line);
        assert_eq!(*width.get_or_insert(n), n, "{line}");
    }
}

#[test]
fn the_diff_cannot_close_its_fence() {
    let md = render(&evil_report(), None);
    let start = md.find("<details>").unwrap_or(0);
    let block = &md[start..];
    let opener = block
        .lines()
        .find(|l| l.ends_with("diff") && l.starts_with('`'))
        .unwrap_or_default();
    let fence = opener.trim_end_matches("diff");
    assert!(
        fence.len() > 6,
        "the fence must outrun the diff's ``````: {opener}"
    );
    // The block closes exactly once, after the diff, before </details>.
    let closes: Vec<&str> = block.lines().filter(|l| *l == fence).collect();
    assert_eq!(closes.len(), 1);
    assert!(block.trim_end().ends_with("</details>"));
}

#[test]
fn escaping_is_exact_on_the_issue_examples() {
    assert_eq!(text("<script>"), "&lt;script&gt;");
    assert_eq!(text("@org/team"), "@\u{200D}org/team");
    assert_eq!(text("[x](http://evil)"), "\\[x\\]\\(http\\://evil\\)");
    assert_eq!(text("see WWW.evil.com"), "see WWW\\.evil.com");
    assert_eq!(text("![i](u)"), "\\!\\[i\\]\\(u\\)");
    assert_eq!(text("a|b\nc"), "a\\|b c");
    assert_eq!(
        text("<!-- scopegate:x -->"),
        "&lt;\\!-- scopegate\\:x --&gt;"
    );
    assert_eq!(code("a`b", false), "``a`b``");
    assert_eq!(code("`a", false), "`` `a ``");
    assert_eq!(code("a|b", true), "`a\\|b`");
    assert_eq!(code("<!-- x", false), "`<\u{200B}!-- x`");
    assert_eq!(prose("`a` and <b>", false), "`a` and &lt;b&gt;");
    assert_eq!(prose("odd ` tick", false), "odd \\` tick");
    assert_eq!(prose("`a``b`", false), "`a`\u{200B}`b`");
}

fn huge_report() -> Report {
    let mut changes = Vec::new();
    for i in 0..5_000 {
        let dir = match i % 3 {
            0 => Direction::Escalation,
            1 => Direction::Reduction,
            _ => Direction::Workflow,
        };
        let scope = format!("patient/Resource{i}.cruds");
        changes.push(change(
            "big-app",
            dir,
            RuleId::WriteAccessAdded,
            Severity::Warning,
            &scope,
            &format!("`{scope}` added, with a rationale that goes on for a while"),
            approval(ApprovalState::Unapproved, None, false),
        ));
    }
    let findings = (0..2_000)
        .map(|i| Finding {
            rule: RuleId::UnjustifiedScope,
            severity: Severity::Error,
            app: "big-app".into(),
            location: loc("smart-app.yaml", i, 3),
            message: format!("finding number {i}"),
            hint: None,
            suggestion: Vec::new(),
            tenant: None,
            key: None,
            capability: None,
        })
        .collect();
    let line = "+  - scope: patient/Observation.rs\n";
    let apps = vec![AppReport {
        app: "big-app".into(),
        path: "smart-app.yaml".into(),
        baseline_path: None,
        new_app: false,
        removed_app: false,
        id_changed_from: None,
        gating_stopped: None,
        text_diff: line.repeat(1_000_000 / line.len() + 1),
    }];
    Report::build(1, findings, changes, apps, None, Some(Verdict::Fail), false)
}

#[test]
fn a_huge_report_stays_under_the_comment_limit_with_a_note() {
    let r = huge_report();
    assert!(r.apps[0].text_diff.len() > 1_000_000);
    let md = render(&r, Some("<!-- scopegate:x -->"));
    assert!(md.chars().count() <= MAX_CHARS, "{}", md.chars().count());
    assert!(md.starts_with("<!-- scopegate:x -->\n"));
    assert!(md.contains("Truncated to fit the 65,536-character limit"));
    assert!(md.contains("the job artifacts"));
    assert!(md.contains("the manifest diff"), "the diff goes first");
    assert!(md.contains("more, left out to fit the size limit"));
    // Some escalation rows survive, and the approval how-to is kept.
    assert!(md.contains("| medium |"));
    assert!(md.contains("#### How to approve"));
}

#[test]
fn the_diff_is_dropped_before_anything_else() {
    let mut r = sample();
    r.apps[0].text_diff = "+x\n".repeat(40_000);
    let md = render(&r, None);
    assert!(md.chars().count() <= MAX_CHARS);
    assert!(!md.contains("<details>"));
    assert!(md.contains("left out the manifest diff."), "{md}");
    assert!(md.contains("#### Reductions"));
    assert!(md.contains("#### Workflow changes"));
    assert!(md.contains("#### Findings"));
}

#[test]
fn a_bigger_bound_keeps_more_for_the_job_summary() {
    let r = huge_report();
    let md = render_limited(&r, None, 1024 * 1024);
    assert!(md.chars().count() <= 1024 * 1024);
    assert!(md.chars().count() > MAX_CHARS);
    assert!(md.contains("1,048,576-character limit"));
}

/// GitHub's job summary limit is in bytes: a report of non-ASCII text (three bytes a
/// character here) fits in bytes, where a character bound let it run to nearly three
/// times the limit. Control: a report of mostly ASCII uses most of the room.
#[test]
fn the_job_summary_bound_is_in_bytes() {
    let mut r = huge_report();
    for c in &mut r.changes {
        c.description = format!("{}：処方の確認と照合のための読み取り", c.description);
    }
    for f in &mut r.findings {
        f.message = format!("{}：根拠のない権限", f.message);
    }
    let max = 200_000;
    let md = render_limited_bytes(&r, None, max);
    assert!(md.len() <= max, "{} bytes", md.len());
    assert!(
        md.len() > max / 2,
        "{} bytes: most of the room is used",
        md.len()
    );
    assert!(
        md.contains("Truncated to fit the 200,000-byte limit"),
        "the note names the limit in bytes"
    );
    assert!(
        render_limited(&r, None, max).len() > max,
        "the character bound overshoots"
    );
    let mostly_ascii = render_limited_bytes(&huge_report(), None, max);
    assert!(mostly_ascii.len() <= max && mostly_ascii.len() > max * 8 / 10);
}

#[test]
fn any_bound_is_respected_even_below_the_heading() {
    let r = sample();
    for max in [0, 1, 10, 40, 200, 400, 1_000] {
        let md = render_limited(&r, Some("<!-- scopegate:x -->"), max);
        assert!(md.chars().count() <= max, "{max}: {md}");
    }
}

#[test]
fn a_small_report_is_not_truncated() {
    let md = render(&sample(), None);
    assert!(!md.contains("Truncated"));
}

#[test]
fn pass_and_no_change_headings() {
    let mut r = sample();
    r.verdict = Some(Verdict::Pass);
    r.summary.unapproved = 0;
    let md = render(&r, None);
    assert!(md.starts_with("### scopegate: ✅ PASS — 3 escalations, 1 reduction\n"));
    assert!(!md.contains("How to approve"));
    r.verdict = Some(Verdict::NoChange);
    r.advisory = true;
    let md = render(&r, None);
    assert!(md.starts_with("### scopegate: NO CHANGE\n"));
    assert!(md.contains("**Advisory:**"));
}

#[test]
fn typical_report() {
    insta::assert_snapshot!(render(&sample(), Some("<!-- scopegate:gate -->")));
}

fn app(id: &str, path: &str, baseline: Option<&str>) -> AppReport {
    AppReport {
        app: id.into(),
        path: path.into(),
        baseline_path: baseline.map(Into::into),
        new_app: baseline.is_none(),
        removed_app: false,
        id_changed_from: None,
        gating_stopped: None,
        text_diff: String::new(),
    }
}

/// Three apps that changed (one moved and widened, one removed, one new) and
/// `quiet` apps without changes.
fn monorepo(quiet: usize) -> Report {
    let mut moved = change(
        "summary",
        Direction::Escalation,
        RuleId::ResourceAccessAdded,
        Severity::Warning,
        "patient/Immunization.rs",
        "`patient/Immunization.rs` added",
        approval(ApprovalState::Unapproved, None, false),
    );
    moved.location = loc("apps/summary/smart-app.yaml", 9, 12);
    let mut gone = change(
        "legacy",
        Direction::Reduction,
        RuleId::AppRemoved,
        Severity::Warning,
        "patient/*.rs",
        "`patient/*.rs` removed with the app: no manifest with id `legacy` at head",
        Approval::not_required(),
    );
    gone.location = loc("apps/legacy/smart-app.yaml", 7, 5);
    let mut apps = vec![
        app(
            "summary",
            "apps/summary/smart-app.yaml",
            Some("apps/patient-summary/smart-app.yaml"),
        ),
        app("fresh", "apps/fresh/smart-app.yaml", None),
    ];
    let mut removed = app(
        "legacy",
        "apps/legacy/smart-app.yaml",
        Some("apps/legacy/smart-app.yaml"),
    );
    removed.removed_app = true;
    apps.push(removed);
    for i in 0..quiet {
        let path = format!("apps/department-{i}/some-long-directory-name/smart-app.yaml");
        apps.push(app(&format!("quiet-{i}"), &path, Some(&path)));
    }
    Report::build(
        apps.len(),
        Vec::new(),
        vec![moved, gone],
        apps,
        None,
        Some(Verdict::Fail),
        false,
    )
}

#[test]
fn many_apps_get_a_section_each_and_apps_without_changes_are_collapsed() {
    let md = render(&monorepo(3), None);
    let summary = md.find("#### App `summary` (apps/summary/smart-app.yaml, moved from apps/patient-summary/smart-app.yaml)").expect(&md);
    let legacy = md.find("#### App `legacy` (apps/legacy/smart-app.yaml, removed: no manifest with this id at head)").expect(&md);
    let fresh = md.find("#### App `fresh` (apps/fresh/smart-app.yaml, new: everything it requests is an addition)").expect(&md);
    let quiet = md
        .find("<details><summary>3 apps without changes</summary>")
        .expect(&md);
    assert!(summary < fresh && fresh < legacy && legacy < quiet, "{md}");
    // Each section holds only its own app's changes.
    let section = &md[summary..fresh];
    assert!(
        section.contains("##### Escalations (1)")
            && section.contains("summary:patient/Immunization.rs")
    );
    assert!(!section.contains("legacy:"));
    assert!(md[legacy..quiet].contains("##### Reductions (1)"));
    assert!(md[fresh..legacy].contains("No access or workflow change."));
    assert!(md.contains("- `quiet-2` (apps/department-2/some-long-directory-name/smart-app.yaml)"));
    assert!(!md.contains("Truncated"));
    // One app keeps the flat layout.
    let mut one = monorepo(0);
    one.apps.truncate(1);
    assert!(!render(&one, None).contains("#### App "));
}

#[test]
fn thousands_of_apps_without_changes_fit_by_dropping_their_names() {
    let r = monorepo(5_000);
    let md = render(&r, Some("<!-- scopegate:x -->"));
    assert!(md.chars().count() <= MAX_CHARS, "{}", md.chars().count());
    assert!(
        md.contains("left out the names of 5,000 apps without changes"),
        "{md}"
    );
    assert!(md.contains("5,000 apps without changes (the list was left out to fit)."));
    // The apps that changed keep their sections and rows.
    assert!(md.contains("#### App `summary`"));
    assert!(md.contains("`summary:patient/Immunization.rs`"));
    assert!(md.contains("#### App `legacy`"));
    assert!(!md.contains("<details>"));
}

#[test]
fn many_apps_with_many_escalations_keep_the_most_severe_rows_of_all_apps() {
    let mut changes = Vec::new();
    let mut apps = Vec::new();
    for a in 0..300 {
        let id = format!("app-{a:03}");
        apps.push(app(&id, &format!("apps/{id}/smart-app.yaml"), Some("x")));
        for i in 0..20 {
            let sev = if a == 299 && i == 0 {
                Severity::Error
            } else {
                Severity::Note
            };
            let scope = format!("patient/Resource{i}.rs");
            changes.push(change(
                &id,
                Direction::Escalation,
                RuleId::ReadAccessAdded,
                sev,
                &scope,
                &format!("`{scope}` added, with a rationale that goes on for a while"),
                approval(ApprovalState::Unapproved, None, false),
            ));
        }
    }
    let r = Report::build(
        300,
        Vec::new(),
        changes,
        apps,
        None,
        Some(Verdict::Fail),
        false,
    );
    let md = render(&r, None);
    assert!(md.chars().count() <= MAX_CHARS, "{}", md.chars().count());
    assert!(md.contains("more, left out to fit the size limit"));
    // The one high-risk row, in the last app, survives the cut.
    assert!(md.contains("#### App `app-299`"), "{md}");
    assert!(md.contains("| **high** |"));
    // Apps whose rows were all cut get no empty section.
    assert!(!md.contains("#### App `app-298`"));
}

#[test]
fn app_ids_and_paths_in_sections_and_the_collapsed_list_are_inert() {
    let mut r = evil_report();
    r.apps.push(app("quiet", EVIL, Some(EVIL)));
    r.apps[1].app = EVIL.to_string() + "-2";
    let md = render(&r, Some("<!-- scopegate:comment -->"));
    assert!(md.contains("#### App "), "{md}");
    assert_eq!(md.matches("<!--").count(), 1, "{md}");
    assert!(!md.contains("@org"), "{md}");
    let prose = outside_code(
        md.strip_prefix("<!-- scopegate:comment -->\n")
            .unwrap_or_default(),
    );
    let tags = prose
        .replace("<br>", "")
        .replace("<sub>", "")
        .replace("</sub>", "")
        .replace("<details><summary>Manifest diff</summary>", "")
        .replace("<details><summary>1 app without changes</summary>", "")
        .replace("</details>", "");
    assert!(!tags.contains('<'), "raw `<` outside code: {tags}");
    for bad in ["](", "![", "[x]", "http://", "www."] {
        assert!(!prose.contains(bad), "`{bad}` is live in: {prose}");
    }
}

#[test]
fn timestamps_are_not_over_escaped_but_schemes_still_are() {
    assert_eq!(text("2026-11-28T10:33:29Z"), "2026-11-28T10:33:29Z");
    assert_eq!(
        text("see https://evil.example"),
        "see https\\://evil.example"
    );
    assert_eq!(text("mailto:x"), "mailto\\:x");
}

#[test]
fn a_failing_heading_shows_quoted_tenants_as_code_not_backticks() {
    let mut r = evil_report();
    r.verdict = Some(Verdict::Fail);
    r.reasons = vec!["blocked for tenant `clinic` (tenants: enforce)".into()];
    let h = heading(&r);
    assert!(
        h.starts_with(
            "### scopegate: ❌ FAIL — blocked for tenant `clinic` \\(tenants\\: enforce\\)"
        ),
        "{h}"
    );
    assert!(!h.lines().next().unwrap().contains("\\`"), "{h}");
}

/// Thousands of tenants: the tenant table is cut before any escalation row (its heading
/// stays, with how many it ships to), and the note says so; every escalation and "How
/// to approve" are still there. The table was rendered whatever its size, and the
/// comment came down to its heading and a note about escalations only.
#[test]
fn a_table_of_thousands_of_tenants_is_cut_before_escalations() {
    use crate::report::{Check, TenantMode, TenantRow, TenantVerdict};
    let mut r = sample();
    r.tenant_mode = Some(TenantMode::Enforce);
    r.tenants = (0..2_000)
        .map(|i| TenantRow {
            tenant: format!("tenant-{i}"),
            profile: format!(".scopegate/tenants/tenant-{i}.yaml"),
            description: None,
            policy: Check::Fail,
            approvals: Check::Fail,
            ehr: Check::NotChecked,
            verdict: TenantVerdict::Blocked,
            problems: vec![
                "denies `patient/Condition.*`; sensitive `Observation` needs a tenant approval"
                    .into(),
            ],
        })
        .collect();
    let md = render(&r, None);
    assert!(md.chars().count() <= MAX_CHARS);
    assert!(md.contains("#### Tenants: ships to 0 of 2,000"), "{md}");
    assert!(!md.contains("| tenant | policy |"));
    assert!(md.contains("the table of 2,000 tenants"), "{md}");
    let escalations = r
        .changes
        .iter()
        .filter(|c| c.direction == Direction::Escalation);
    for c in escalations {
        assert!(md.contains(&c.key), "{}: {md}", c.key);
    }
    assert!(md.contains("How to approve"));
    // Control: a few tenants keep their table.
    r.tenants.truncate(3);
    let md = render(&r, None);
    assert!(md.contains("| tenant | policy |") && md.contains("`tenant-2`"));
}
