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
