use std::cell::Cell;
use std::sync::Arc;

use super::{Ahead, App, Input, gate};
use crate::approval::Entry;
use crate::config::Config;
use crate::grant::Options;
use crate::lint::Linted;
use crate::manifest::from_str;
use crate::report::{Baseline, Report, Verdict};

/// A head with an error-level finding (an unknown resource type) and its baseline.
const HEAD: &str = "id: a\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\n  - scope: patient/Obsrvation.rs\n    rationale: r\n";
const BASE: &str = "id: a\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\n";

fn app(head: &str) -> App {
    App {
        head: from_str("h.yaml", head).unwrap().into(),
        head_text: head.into(),
        base: Some((
            "h.yaml".into(),
            from_str("h.yaml", BASE).unwrap(),
            BASE.into(),
        )),
    }
}

/// A gate's input for the unit tests: `apps` judged against release `v1`, whose ledger
/// is `release`, with `head` the ledger at head; nothing else.
pub(super) fn input<'a>(
    apps: &'a [App],
    config: &'a Config,
    release: &'a [Entry],
    head: &'a [Entry],
) -> Input<'a> {
    Input {
        apps,
        removed: &[],
        config,
        advisory: false,
        baseline: Baseline {
            source: "test".into(),
            name: Some("v1".into()),
            commit: None,
        },
        base_ledger: release,
        merged_ledger: &[],
        head_ledger: head,
        release_ledger: Some(release),
        unverified: &[],
        signed: &[],
        ledger_path: "l",
        now: "2026-11-28T12:00:00Z",
        untrusted: &[],
        tenants: &[],
    }
}

/// The gate of `apps` with the lints `ahead` says are coming.
fn run(apps: &[App], ahead: Ahead<'_>) -> Report {
    let config = Config::default();
    gate(&input(apps, &config, &[], &[]), ahead)
}

fn rules(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.rule.as_str()).collect()
}

/// The gate with `lint` coming for the one app; whether it waited for it.
fn with_coming(apps: &[App], lint: Option<Linted>) -> (Report, bool) {
    let waited = Cell::new(false);
    let ahead = Ahead {
        coming: vec![true],
        wait: Box::new(|| {
            waited.set(true);
            vec![lint]
        }),
    };
    let report = run(apps, ahead);
    (report, waited.get())
}

// The lint comes from another thread while the gate diffs (src/cli/early.rs). What
// comes is used only when it is the lint of the very manifest the gate holds, with the
// config's options. A lint that found nothing (forged here) must not stand in for the
// head's own, whose error fails the gate, when it is of another parse of the same text
// at the same path, or ran with other options.
#[test]
fn a_lint_coming_from_beside_the_gate_counts_only_for_its_own_manifest() {
    let apps = [app(HEAD)];
    let own = run(&apps, Ahead::none());
    assert_eq!(
        own.verdict,
        Some(Verdict::Fail),
        "the head's own lint fails it"
    );
    assert!(
        rules(&own).contains(&"unknown-resource-type"),
        "{:?}",
        rules(&own)
    );
    let opts = Options::default();
    let other = Options {
        user_covers_patient: !opts.user_covers_patient,
    };
    let twin = Arc::new(from_str("h.yaml", HEAD).unwrap());
    for (what, lint) in [
        ("another parse", Linted::forged(&twin, opts, Vec::new())),
        (
            "other options",
            Linted::forged(&apps[0].head, other, Vec::new()),
        ),
    ] {
        let (r, waited) = with_coming(&apps, Some(lint));
        assert!(
            waited,
            "{what}: the gate waits for a lint it is told is coming"
        );
        assert_eq!(rules(&r), rules(&own), "{what}");
        assert_eq!(r.verdict, Some(Verdict::Fail), "{what}");
    }
    // Nothing came for it (the thread had nothing): the gate lints the head itself.
    let (r, _) = with_coming(&apps, None);
    assert_eq!(rules(&r), rules(&own));

    // The control: the head's own lint is used as it is, here an empty one.
    let (r, waited) = with_coming(&apps, Some(Linted::forged(&apps[0].head, opts, Vec::new())));
    assert!(waited);
    assert!(r.findings.is_empty(), "{:?}", rules(&r));
    assert_eq!(r.changes.len(), own.changes.len());
}

/// An app `id` at `path` whose head adds `patient/Condition.rs` to the baseline's.
fn app_at(id: &str, path: &str) -> App {
    let base = format!("id: {id}\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\n");
    let head = format!("{base}  - scope: patient/Condition.rs\n    rationale: r\n");
    App {
        head: from_str(path, &head).unwrap().into(),
        head_text: head,
        base: Some((path.into(), from_str(path, &base).unwrap(), base)),
    }
}

// Whether each head's lint comes from beside the gate or is made by it, the report is
// the same, byte for byte: the lint findings of each app in app order, then the
// ledger's; each app's own text diff in its own row; the same approvals and verdict.
// The ledger is judged before the lints are waited for, and the text diffs of the apps
// whose lint is coming are made on another thread meanwhile.
#[test]
fn the_report_is_the_same_whether_the_lints_come_from_beside_the_gate_or_not() {
    let apps = [app(HEAD), app_at("b", "b.yaml"), app_at("c", "c.yaml")];
    // `b`'s change is approved; the entry for `c` approves nothing of it (a finding).
    let ledger = "approvals:\n  - keys: [\"b:patient/Condition.rs\"]\n    by: alice\n    at: 2026-11-28T10:00:00Z\n    ticket: SEC-1\n  - keys: [\"c:patient/Encounter.rs\"]\n    by: alice\n    at: 2026-11-28T10:00:00Z\n    ticket: SEC-1\n";
    let head = crate::approval::from_bytes("l", ledger.as_bytes()).unwrap();
    let config = Config::default();
    let input = input(&apps, &config, &[], &head);
    let json = |r: &Report| crate::render::json::render(r);
    let own = gate(&input, Ahead::none());
    let opts = config.options;
    // Some lints coming (the first and the last app), then all of them.
    for coming in [vec![true, false, true], vec![true, true, true]] {
        let lints: Vec<Option<Linted>> = coming
            .iter()
            .zip(&apps)
            .map(|(c, a)| c.then(|| Linted::check(&a.head, opts)))
            .collect();
        let ahead = Ahead {
            coming: coming.clone(),
            wait: Box::new(move || lints),
        };
        assert_eq!(json(&gate(&input, ahead)), json(&own), "coming: {coming:?}");
    }
    // What the comparison stands on.
    let texts: Vec<&str> = own.apps.iter().map(|a| a.text_diff.as_str()).collect();
    assert!(
        texts.iter().all(|t| t.contains("+  - scope: patient/")),
        "{texts:?}"
    );
    assert!(texts[1].contains("b/b.yaml") && texts[2].contains("b/c.yaml"));
    let rules = rules(&own);
    let ledger_at = rules.iter().position(|r| *r == "approval-stale");
    let lint_at = rules.iter().position(|r| *r == "unknown-resource-type");
    assert!(ledger_at.is_some() && lint_at.is_some(), "{rules:?}");
    let states: Vec<String> = own
        .changes
        .iter()
        .map(|c| format!("{}:{:?}", c.app, c.approval.state))
        .collect();
    assert!(states.contains(&"b:Approved".to_string()), "{states:?}");
    assert!(states.contains(&"c:Unapproved".to_string()), "{states:?}");
}

/// Approvals found on two cores, in chunks, are the ones found on one, in the same
/// order: a release of 300 new codes against a ledger whose entries approve some
/// outright, some for one tenant only, some expired, some waiting for a review, one
/// many keys at once, one already spent, and none the rest.
#[test]
fn approvals_on_two_cores_are_the_approvals_on_one() {
    let n = 300;
    let mut head =
        String::from("id: a\nscopes:\n  - scope: patient/Observation.rs\n    rationale: r\n");
    for i in 0..n {
        head.push_str(&format!(
            "  - scope: patient/Condition.rs?category=c{i}\n    rationale: r\n"
        ));
    }
    let apps = [app(&head)];
    let mut ledger = String::from("approvals:\n");
    let key = |i: usize| format!("a:patient/Condition.rs?category=c{i}");
    let entry = |keys: &[String], extra: &str, i: usize| {
        let keys: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
        format!(
            "  - keys: [{}]\n    by: alice\n    at: 2026-11-01T00:00:00Z\n    ticket: T-{i}\n{extra}",
            keys.join(", ")
        )
    };
    for i in 0..n {
        ledger.push_str(&match i % 5 {
            0 => entry(&[key(i)], "", i),
            1 => entry(&[key(i)], "    tenants: [clinic]\n", i),
            2 => entry(&[key(i)], "    expires: 2026-11-02T00:00:00Z\n", i),
            3 => entry(&[key(i)], "", i),
            _ => continue,
        });
    }
    let many: Vec<String> = (0..n).step_by(7).map(key).collect();
    ledger.push_str(&entry(&many, "", n));
    let head_ledger = crate::approval::from_bytes("l", ledger.as_bytes()).unwrap();
    let release = crate::approval::from_bytes(
        "l",
        format!("approvals:\n{}", entry(&[key(9)], "", n + 1)).as_bytes(),
    )
    .unwrap();
    // Those of the fourth kind wait for a review.
    let untrusted: Vec<(Entry, String)> = head_ledger
        .iter()
        .filter(|e| {
            e.keys.len() == 1
                && e.ticket
                    .as_deref()
                    .is_some_and(|t| t.ends_with('3') || t.ends_with('8'))
        })
        .map(|e| (e.clone(), "no review".to_string()))
        .collect();
    let config = Config::default();
    let mut inp = input(&apps, &config, &release, &head_ledger);
    inp.untrusted = &untrusted;
    let ledger = super::Ledger::new(&inp);
    let base = apps[0].base.as_ref().map(|(_, m, _)| m);
    let changes = crate::diff::diff(base, &apps[0].head, config.options);
    let one = super::approvals_from(&ledger, &changes, usize::MAX);
    let two = super::approvals_from(&ledger, &changes, 0);
    assert_eq!(one.len(), n);
    assert_eq!(one, two);
    let states: std::collections::BTreeSet<String> = one
        .iter()
        .map(|(_, a)| format!("{:?}/{}", a.state, a.tenants.len()))
        .collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        [
            "Approved/0",
            "Approved/1",
            "Expired/0",
            "Pending/0",
            "Unapproved/0"
        ],
    );
}

/// An entry is stale when no key of it matches a current escalation or what the
/// baseline grants, alone or with its other scopes. The same entries are stale
/// whether the ledger has few keys (each compared one by one) or many (indexed).
#[test]
fn stale_entries_are_the_same_with_few_keys_or_many() {
    let base = "id: a\nscopes:\n  - scope: patient/Patient.rs\n    rationale: r\n  - scope: patient/Encounter.r\n    rationale: r\n  - scope: patient/Encounter.s\n    rationale: r\n";
    let head = format!("{base}  - scope: patient/Condition.rs\n    rationale: r\n");
    let apps = [App {
        head: from_str("h.yaml", &head).unwrap().into(),
        head_text: head.clone(),
        base: Some((
            "h.yaml".into(),
            from_str("h.yaml", base).unwrap(),
            base.into(),
        )),
    }];
    let entry = |key: &str| {
        format!("  - keys: ['{key}']\n    by: alice\n    at: 2026-11-01T00:00:00Z\n    ticket: T\n")
    };
    let mut few = String::from("approvals:\n");
    for key in [
        // The escalation.
        "a:patient/Condition.r",
        // Granted by one baseline scope.
        "a:patient/Patient.r",
        // Granted only by two baseline scopes together.
        "a:patient/Encounter.rs",
        // No such identity change.
        "a:*removed*",
        // Nothing.
        "a:patient/Immunization.rs",
    ] {
        few.push_str(&entry(key));
    }
    let config = Config::default();
    let stale_lines = |ledger: &str| {
        let head_ledger = crate::approval::from_bytes("l", ledger.as_bytes()).unwrap();
        let inp = input(&apps, &config, &[], &head_ledger);
        let ledger = super::Ledger::new(&inp);
        let base = apps[0].base.as_ref().map(|(_, m, _)| m);
        let changes = crate::diff::diff(base, &apps[0].head, config.options);
        let stale: Vec<u32> = ledger
            .stale(&changes, &apps, &[])
            .iter()
            .map(|f| f.location.line)
            .collect();
        stale
    };
    let want = vec![14, 18];
    assert_eq!(stale_lines(&few), want, "few keys");
    let mut many = few.clone();
    for _ in 0..super::ledger::FEW_KEYS {
        many.push_str(&entry("a:patient/Condition.s"));
    }
    assert_eq!(stale_lines(&many), want, "many keys");
}
