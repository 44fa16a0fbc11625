//! Unit tests for the ledger format, and for its two readers against each other.

use super::*;

fn entry<'a>(keys: &'a [String]) -> NewEntry<'a> {
    NewEntry {
        keys,
        by: "alice",
        at: "2026-11-28T10:00:00Z",
        ticket: Some("SEC-1"),
        reason: Some("needed for \"refill\": yes"),
        expires: Some("2027-01-31"),
        tenants: &[],
        signature: None,
    }
}

#[test]
fn appending_to_nothing_writes_a_header_and_parses_back() {
    let keys = vec!["med-rec:patient/MedicationStatement.c".to_string()];
    let t = append(None, &entry(&keys)).unwrap();
    let e = from_bytes("l", t.as_bytes()).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].keys[0].to_string(),
        "med-rec:patient/MedicationStatement.c"
    );
    assert_eq!(e[0].reason.as_deref(), Some("needed for \"refill\": yes"));
    assert_eq!(e[0].expires.as_deref(), Some("2027-01-31T23:59:59Z"));
}

#[test]
fn appending_keeps_existing_bytes_and_comments() {
    let keys = vec!["a:openid".to_string()];
    let first = append(None, &entry(&keys)).unwrap();
    let with_comment = first.replace("approvals:\n", "approvals:\n# reviewed in SEC-1\n");
    let second = append(Some(&with_comment), &entry(&keys)).unwrap();
    assert!(second.starts_with(&with_comment));
    assert_eq!(from_bytes("l", second.as_bytes()).unwrap().len(), 2);
}

#[test]
fn appending_follows_existing_indentation() {
    let existing = "approvals:\n- keys: [\"a:openid\"]\n  by: bob\n  at: 2026-01-01\n  ticket: T\n";
    let keys = vec!["a:fhirUser".to_string()];
    let t = append(Some(existing), &entry(&keys)).unwrap();
    assert_eq!(from_bytes("l", t.as_bytes()).unwrap().len(), 2, "{t}");
}

#[test]
fn entries_need_a_ticket_or_reason_and_valid_keys_and_dates() {
    let e = from_bytes(
        "l",
        b"approvals:\n  - keys: [nocolon, \"a:patient/X.sr\"]\n    by: x\n    at: yesterday\n",
    )
    .unwrap_err();
    assert_eq!(e.problems.len(), 4, "{e}");
}

#[test]
fn identity_keys_parse_typed_and_print_back() {
    let k = Key::parse("legacy:*removed*").unwrap();
    assert_eq!(k, Key::removed("legacy"));
    assert_eq!(k.scope(), None);
    let k = Key::parse("billing:*id-changed-from:scheduler*").unwrap();
    assert_eq!(k, Key::id_changed("billing", "scheduler"));
    assert_eq!(k.to_string(), "billing:*id-changed-from:scheduler*");
    assert!(
        Key::parse("a:patient/Observation.rs")
            .unwrap()
            .scope()
            .is_some()
    );
    assert!(Key::parse("a:*id-changed-from:*").is_err());
    // Written by `approve`, read back by the gate.
    let keys = vec!["legacy:*removed*".to_string()];
    let t = append(None, &entry(&keys)).unwrap();
    assert_eq!(
        from_bytes("l", t.as_bytes()).unwrap()[0].keys[0],
        Key::removed("legacy")
    );
}

#[test]
fn an_empty_ledger_is_empty() {
    assert!(from_bytes("l", HEADER.as_bytes()).unwrap().is_empty());
    assert!(from_bytes("l", b"").unwrap().is_empty());
}

#[test]
fn a_ledger_that_cannot_take_appended_text_is_refused() {
    let keys = vec!["a:openid".to_string()];
    let flow = "approvals: [{keys: [\"a:launch\"], by: bob, at: 2026-01-01, reason: r}]\n";
    assert!(append(Some(flow), &entry(&keys)).is_err());
    // Regression (ledger_load fuzz target): a tagged `approvals` key was not seen,
    // so a second `approvals:` was appended.
    assert!(append(Some("!a#K approvals:\n"), &entry(&keys)).is_err());
}

#[test]
fn a_comment_only_ledger_is_still_parsed() {
    // Regression (found by the ledger_load fuzz target): comment-only files skipped
    // the parser, so a control character loaded, and appending to it then failed.
    assert!(from_bytes("l", b"# c\x01omment\n").is_err());
    assert!(
        from_bytes("l", b"# just a comment\napprovals:\n")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn timestamps_normalise_and_validate() {
    assert_eq!(
        normalize_time("2026-02-03", false).as_deref(),
        Some("2026-02-03T00:00:00Z")
    );
    assert_eq!(
        normalize_time("2026-02-03T04:05:06Z", true).as_deref(),
        Some("2026-02-03T04:05:06Z")
    );
    assert_eq!(normalize_time("2026-13-01", false), None);
    assert_eq!(normalize_time("4052\u{65b}dddddd", false), None);
    assert_eq!(normalize_time("2026-02-03T04:05:06+01:00", false), None);
    assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
    assert_eq!(format_unix(1_795_000_000), "2026-11-18T11:06:40Z");
    assert_eq!(format_unix(951_782_400), "2000-02-29T00:00:00Z");
    for secs in [0, 951_782_400, 1_795_000_000, 4_107_542_399, 86_399, 86_400] {
        assert_eq!(parse_unix(&format_unix(secs)), Some(secs), "{secs}");
    }
    assert_eq!(parse_unix("2026-02-03"), parse_unix("2026-02-03T00:00:00Z"));
    assert_eq!(parse_unix("1969-12-31T23:59:59Z"), None);
    assert_eq!(parse_unix("yesterday"), None);
}

mod readers {
    //! The walk against serde: the same entries for every ledger the walk reads, and
    //! the walk really reading the plain ones.

    use proptest::prelude::*;

    use super::{readers_agree, walk};

    /// A value as someone might write it: plain, quoted, null, empty, tagged, a list.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => Just("alice".to_string()),
            3 => Just("\"2026-01-02T03:04:05Z\"".to_string()),
            3 => Just("2026-01-02".to_string()),
            2 => Just("'SEC-1'".to_string()),
            1 => Just("~".to_string()),
            1 => Just(String::new()),
            1 => Just("123".to_string()),
            1 => Just("!!str x".to_string()),
            1 => Just("[a, b]".to_string()),
            1 => Just("{a: b}".to_string()),
            1 => Just("\"a\\u2028b\"".to_string()),
        ]
    }

    fn keys() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => Just("[\"app:patient/Observation.rs\"]".to_string()),
            3 => Just("\n      - \"app:patient/Observation.rs\"\n      - app:*removed*".to_string()),
            1 => Just("[]".to_string()),
            1 => Just("~".to_string()),
            1 => Just("[~]".to_string()),
            1 => Just("app:x".to_string()),
            1 => Just("[[a]]".to_string()),
        ]
    }

    /// An entry: the usual fields in some order, some left out, some repeated or
    /// unknown.
    fn entry() -> impl Strategy<Value = String> {
        let field = prop_oneof![
            3 => keys().prop_map(|k| format!("keys: {k}")),
            3 => value().prop_map(|v| format!("by: {v}")),
            3 => value().prop_map(|v| format!("at: {v}")),
            2 => value().prop_map(|v| format!("ticket: {v}")),
            2 => value().prop_map(|v| format!("reason: {v}")),
            1 => value().prop_map(|v| format!("expires: {v}")),
            1 => keys().prop_map(|k| format!("tenants: {k}")),
            1 => value().prop_map(|v| format!("signature: {v}")),
            1 => value().prop_map(|v| format!("tickt: {v}")),
        ];
        proptest::collection::vec(field, 0..7).prop_map(|fs| {
            let mut e = String::new();
            for (i, f) in fs.iter().enumerate() {
                e.push_str(if i == 0 { "  - " } else { "    " });
                e.push_str(f);
                e.push('\n');
            }
            if e.is_empty() {
                "  - {}\n".to_string()
            } else {
                e
            }
        })
    }

    /// A plain entry, the shape `scopegate approve` writes.
    fn plain_entry() -> impl Strategy<Value = String> {
        (0u32..100, proptest::option::of("[a-z ]{1,12}"), proptest::bool::ANY).prop_map(
            |(n, reason, tenants)| {
                let mut e = format!(
                    "  - keys:\n      - \"app:patient/Observation.rs?code=c{n}\"\n    by: \"alice\"\n    at: \"2026-01-02T03:04:05Z\"\n    ticket: \"SEC-{n}\"\n"
                );
                if let Some(r) = reason {
                    e.push_str(&format!("    reason: \"{r}\"\n"));
                }
                if tenants {
                    e.push_str("    tenants: [\"north\", south]\n");
                }
                e
            },
        )
    }

    proptest! {
        #[test]
        fn the_walk_reads_nothing_serde_reads_otherwise(
            entries in proptest::collection::vec(entry(), 0..4),
            header in prop_oneof![Just("approvals:\n"), Just("# c\napprovals:\n"), Just("approvals: ~\n"), Just("other: 1\napprovals:\n")],
        ) {
            let text = format!("{header}{}", entries.concat());
            prop_assert!(readers_agree(&text), "{}", text);
        }

        #[test]
        fn the_walk_reads_the_plain_shape(entries in proptest::collection::vec(plain_entry(), 0..6)) {
            let text = format!("{}{}", super::HEADER, entries.concat());
            prop_assert!(walk::read(&text).is_some(), "{}", text);
            prop_assert!(readers_agree(&text), "{}", text);
        }
    }

    /// Past the fast path's size threshold the reader tokenises with the YAML subset
    /// parser: the same entries again.
    #[test]
    fn a_large_plain_ledger_reads_the_same() {
        let mut text = super::HEADER.to_string();
        for n in 0..600 {
            text.push_str(&format!(
                "  - keys:\n      - \"app:patient/Observation.rs?category=c{n}\"\n    by: \"alice\"\n    at: \"2026-01-02T03:04:05Z\"\n    ticket: \"SEC-{n}\"\n    reason: \"Category reviewed.\"\n"
            ));
        }
        assert!(text.len() > crate::yaml::FAST_PATH_MIN_BYTES);
        assert_eq!(walk::read(&text).map(|d| d.len()), Some(600));
        assert!(readers_agree(&text));
    }

    #[test]
    fn what_serde_refuses_the_walk_leaves_to_serde() {
        for t in [
            "approvals:\n  - keys: [\"a:patient/Patient.rs\"]\n    by: ~\n    at: 2026-01-01\n    ticket: T\n",
            "approvals:\n  - keys: [\"a:patient/Patient.rs\"]\n    by: a\n    by: b\n    at: 2026-01-01\n",
            "approvals:\n  - keys: [\"a:patient/Patient.rs\"]\n    by: a\n    at: 2026-01-01\n    tickt: T\n",
            "approvals: []\napprovals: []\n",
            "approvals:\n  - &x keys: [\"a:patient/Patient.rs\"]\n",
        ] {
            assert!(walk::read(t).is_none(), "{t}");
            assert!(super::from_bytes("l", t.as_bytes()).is_err(), "{t}");
        }
    }
}
