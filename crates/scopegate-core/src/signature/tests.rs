use super::*;
use crate::approval;
use ssh_key::private::{Ed25519Keypair, KeypairData};

fn key(seed: u8) -> PrivateKey {
    PrivateKey::new(
        KeypairData::Ed25519(Ed25519Keypair::from_seed(&[seed; 32])),
        "",
    )
    .unwrap()
}

fn openssh(k: &PrivateKey) -> String {
    k.to_openssh(LineEnding::LF).unwrap().to_string()
}

fn public(k: &PrivateKey) -> String {
    k.public_key().to_openssh().unwrap()
}

fn entry(by: &str, keys: &str) -> Entry {
    let t = format!(
        "approvals:\n  - keys: [{keys}]\n    by: {by}\n    at: 2026-11-28\n    ticket: SEC-1\n    expires: 2027-01-31\n"
    );
    approval::from_bytes("l", t.as_bytes()).unwrap().remove(0)
}

fn signed(by: &str, keys: &str, k: &PrivateKey) -> Entry {
    let mut e = entry(by, keys);
    e.signature = Some(sign(&e, &openssh(k), None).unwrap());
    e
}

const NOW: &str = "2026-12-01T00:00:00Z";

#[test]
fn the_canonical_content_is_fixed_json_with_normalised_times() {
    let e = entry("alice", "\"med-rec:patient/Observation.rs\"");
    assert_eq!(
        canonical(&e, None),
        "{\"v\":\"scopegate-approval/1\",\"keys\":[\"med-rec:patient/Observation.rs\"],\"by\":\"alice\",\
         \"at\":\"2026-11-28T00:00:00Z\",\"ticket\":\"SEC-1\",\"reason\":null,\
         \"expires\":\"2027-01-31T23:59:59Z\",\"tenants\":[]}\n"
    );
}

#[test]
fn a_signature_by_the_listed_key_verifies_and_names_the_key() {
    let k = key(1);
    let signers = AllowedSigners::parse("s", &format!("alice {}\n", public(&k))).unwrap();
    let e = signed("alice", "\"a:openid\"", &k);
    let fp = signers.verify(&e, NOW).unwrap();
    assert!(fp.starts_with("SHA256:"), "{fp}");
    // `@alice` is alice, as in `approvers`.
    let e = signed("\"@Alice\"", "\"a:openid\"", &k);
    assert!(signers.verify(&e, NOW).is_ok());
}

#[test]
fn wrong_key_other_principal_edited_entry_and_replay_do_not_verify() {
    let (alice, mallory) = (key(1), key(2));
    let signers = AllowedSigners::parse(
        "s",
        &format!("alice {}\nmallory {}\n", public(&alice), public(&mallory)),
    )
    .unwrap();
    // Mallory's own key, on an entry that names alice.
    let e = signed("alice", "\"a:openid\"", &mallory);
    assert!(
        signers
            .verify(&e, NOW)
            .unwrap_err()
            .contains("does not list")
    );
    // Alice's signature, with a key added afterwards.
    let mut e = signed("alice", "\"a:openid\"", &alice);
    e.keys
        .push(approval::Key::parse("a:patient/*.cruds").unwrap());
    assert!(
        signers
            .verify(&e, NOW)
            .unwrap_err()
            .contains("does not match the entry")
    );
    // Alice's signature moved onto another entry.
    let mut other = entry("alice", "\"a:patient/*.cruds\"");
    other.signature = signed("alice", "\"a:openid\"", &alice).signature;
    assert!(signers.verify(&other, NOW).is_err());
}

#[test]
fn namespaces_and_validity_windows_are_honoured() {
    let k = key(1);
    let pk = public(&k);
    let e = signed("alice", "\"a:openid\"", &k);
    let with = |opts: &str| AllowedSigners::parse("s", &format!("alice {opts} {pk}\n")).unwrap();
    assert!(with("namespaces=\"git\"").verify(&e, NOW).is_err());
    assert!(
        with("namespaces=\"git,scopegate-*\"")
            .verify(&e, NOW)
            .is_ok()
    );
    assert!(
        with("valid-before=\"20261130Z\"")
            .verify(&e, NOW)
            .unwrap_err()
            .contains("expired")
    );
    assert!(with("valid-before=\"20261201\"").verify(&e, NOW).is_ok());
    assert!(
        with("valid-after=\"202612011200\"")
            .verify(&e, NOW)
            .is_err()
    );
    assert!(
        with("valid-after=\"20261101\",valid-before=\"20270101\"")
            .verify(&e, NOW)
            .is_ok()
    );
    // A signature made for another namespace (git commits, say) is not an approval.
    let mut git = entry("alice", "\"a:openid\"");
    git.signature = Some(
        k.sign("git", HashAlg::Sha512, canonical(&git, None).as_bytes())
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap(),
    );
    assert!(
        with("")
            .verify(&git, NOW)
            .unwrap_err()
            .contains("namespace")
    );
}

#[test]
fn unsupported_lines_are_refused_with_their_line() {
    let pk = public(&key(1));
    for (line, what) in [
        (format!("alice cert-authority {pk}"), "cert-authority"),
        (format!("!alice {pk}"), "negated"),
        (format!("alice restrict {pk}"), "unknown option"),
        ("alice ssh-ed25519".to_string(), "expected"),
        (
            format!("alice valid-before=\"tomorrow\" {pk}"),
            "ssh-keygen time",
        ),
    ] {
        let e = AllowedSigners::parse("s", &format!("# team\n\n{line}\n")).unwrap_err();
        assert_eq!(e.problems[0].pos.line, 3, "{line}");
        assert!(e.to_string().contains(what), "{line}: {e}");
    }
}

#[test]
fn principal_patterns_match_like_openssh() {
    assert!(matches("*", "alice"));
    assert!(matches("al?ce", "ALICE"));
    assert!(matches("a*e", "alice"));
    assert!(!matches("a*x", "alice"));
    assert!(!matches("alice", "alice2"));
}

#[test]
fn a_signature_bound_to_one_repository_verifies_only_where_the_config_names_it() {
    let alice = key(7);
    let text = format!("alice {}\n", public(&alice));
    let signers = |r: Option<&str>| AllowedSigners::parse("s", &text).unwrap().bound_to(r);
    let mut e = entry("alice", "\"a:openid\"");
    e.signature = Some(sign(&e, &openssh(&alice), Some("acme/app")).unwrap());
    assert!(
        canonical(&e, Some("acme/app"))
            .starts_with("{\"v\":\"scopegate-approval/2\",\"repository\":\"acme/app\",\"keys\":")
    );
    assert!(signers(Some("acme/app")).verify(&e, NOW).is_ok());
    assert!(
        signers(Some("ACME/other"))
            .verify(&e, NOW)
            .unwrap_err()
            .contains("signed for another repository")
    );
    assert!(
        signers(None)
            .verify(&e, NOW)
            .unwrap_err()
            .contains("the config here names none")
    );
    // Unbound: verifies where no repository is named, and says to sign again elsewhere.
    e.signature = Some(sign(&e, &openssh(&alice), None).unwrap());
    assert!(signers(None).verify(&e, NOW).is_ok());
    assert!(
        signers(Some("acme/app"))
            .verify(&e, NOW)
            .unwrap_err()
            .contains("names no repository")
    );
}
