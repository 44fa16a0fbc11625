//! The core's public API stays what its users use (ARCHITECTURE.md, "Narrow public
//! API"): an item of `crates/scopegate-core` is `pub` only when the CLI, these tests,
//! the benchmarks or the fuzz targets name it; everything else is `pub(crate)`.
//!
//! rustc's `unreachable_pub` (on in the core's Cargo.toml) catches a `pub` item in a
//! private module or on a `pub(crate)` type, but not one in a `pub mod`, which every
//! user-facing module is. This test covers that: each `pub` item's name must occur
//! somewhere outside the core. It goes by name, so a new `pub fn parse` passes because
//! other `parse`s exist; a new item with a name of its own does not.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Public because a signature the outside uses names them, though the outside never
/// writes their names (made `pub(crate)`, rustc warns `private_interfaces`).
const IN_SIGNATURES_ONLY: &[&str] = &[
    "ApprovalColumn",
    "Bound",
    "Family",
    "Identity",
    "LogLine",
    "NearMiss",
    "Pairing",
    "Piece",
    "Pos",
    "Profile",
    "Refresh",
    "ResourceScope",
    "Rule",
    "ScopeEntry",
    "ScopeError",
    "ScopeMatrix",
    "Suggestion",
    "Summary",
    "TenantMode",
    "TenantRow",
    "Token",
    "UrlError",
    "UsageReport",
    "Violation",
];

/// Items kept `pub` though dead, each until the file that holds it is free to change
/// (none now: `EhrSupport`, the last, is `pub(crate)` without its dead `as_str`).
const DEAD_KEPT_PUB: &[&str] = &[];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every identifier in `text`.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The name a `pub` line declares (`pub fn name`, `pub struct Name<'a>`, `pub name: T`),
/// or `None` for a line that is not a `pub` item (or is a `pub use`).
fn declared(line: &str) -> Option<&str> {
    let mut rest = line.trim_start().strip_prefix("pub ")?;
    for kw in [
        "const ", "fn ", "struct ", "enum ", "trait ", "type ", "static ", "mod ",
    ] {
        rest = rest.strip_prefix(kw).unwrap_or(rest);
    }
    if rest.starts_with("use ") {
        return None;
    }
    let name = rest
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?;
    (!name.is_empty()).then_some(name)
}

/// `file:line: name` for each `pub` item of `core` (file, text) whose name is not in
/// `outside` nor in `IN_SIGNATURES_ONLY` or `DEAD_KEPT_PUB`.
fn unused_pub(core: &[(String, String)], outside: &BTreeSet<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for (file, text) in core {
        for (i, line) in text.lines().enumerate() {
            if let Some(name) = declared(line)
                && !outside.contains(name)
                && !IN_SIGNATURES_ONLY.contains(&name)
                && !DEAD_KEPT_PUB.contains(&name)
            {
                out.push(format!("{file}:{}: {name}", i + 1));
            }
        }
    }
    out
}

#[test]
fn every_pub_item_of_the_core_is_used_outside_it() {
    let root = root();
    let core: Vec<(String, String)> = rust_files(&root.join("crates/scopegate-core/src"))
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p.strip_prefix(&root).unwrap().display().to_string(), text)
        })
        .collect();
    let texts: Vec<String> = ["src", "tests/it", "benches", "fuzz/fuzz_targets"]
        .iter()
        .flat_map(|d| rust_files(&root.join(d)))
        .filter(|p| !p.ends_with("tests/it/core_api.rs")) // names them all
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let outside: BTreeSet<&str> = texts.iter().flat_map(|t| words(t)).collect();
    // The lists stay exact: an entry the core no longer declares `pub`, or that the
    // outside now names, goes.
    let declared_pub: BTreeSet<&str> = core
        .iter()
        .flat_map(|(_, t)| t.lines().filter_map(declared))
        .collect();
    for name in IN_SIGNATURES_ONLY.iter().chain(DEAD_KEPT_PUB) {
        assert!(
            declared_pub.contains(name) && !outside.contains(name),
            "`{name}` is listed in tests/it/core_api.rs but need not be: remove it"
        );
    }
    let unused = unused_pub(&core, &outside);
    assert!(
        unused.is_empty(),
        "pub in the core, but nothing outside it (src/, tests/it/, benches/, fuzz/fuzz_targets/) \
         names it: make it pub(crate), or, if a public signature needs it, add it to \
         IN_SIGNATURES_ONLY in tests/it/core_api.rs:\n  {}",
        unused.join("\n  ")
    );
}

#[test]
fn attack_a_new_pub_item_nobody_outside_uses_is_named() {
    let core = vec![(
        "core.rs".to_string(),
        "pub fn helper_nobody_calls() {}\n\
         pub(crate) fn internal() {}\n\
         pub struct Used<'a> {\n    pub field_read: &'a str,\n    pub(crate) hidden: u8,\n}\n\
         pub use crate::elsewhere::Thing;\n\
         /// pub fn in_a_comment() {}\n"
            .to_string(),
    )];
    let outside: BTreeSet<&str> = words("let u = Used { field_read: \"\" };").collect();
    assert_eq!(
        unused_pub(&core, &outside),
        ["core.rs:1: helper_nobody_calls"]
    );
}

#[test]
fn control_items_the_outside_names_pass() {
    let core = vec![(
        "core.rs".to_string(),
        "pub const fn as_str() {}\npub mod render;\npub static LIMIT: u8 = 1;\n\
         pub enum Pos {}\n"
            .to_string(),
    )];
    let outside: BTreeSet<&str> = words("render::x(as_str(), LIMIT)").collect();
    assert!(unused_pub(&core, &outside).is_empty());
}
