//! The tests stay one crate: a file under `tests/it/` that no `mod` line names is never
//! compiled, so its tests would pass by not running; a file directly under `tests/`
//! is a second test binary that links everything again; a `#[path]` copies a module;
//! snapshots or helpers left in the old `tests/snapshots/` or `tests/support/` are not
//! the ones in use.

use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The `.rs` file stems directly in `dir`, sorted.
fn stems(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file of `dir` except `skip` is named by a `mod` line of `parent`.
fn assert_declared(dir: &Path, parent: &Path, skip: &[&str]) {
    let text = std::fs::read_to_string(parent).unwrap();
    let declared: Vec<&str> = text
        .lines()
        .map(|l| l.trim().trim_start_matches("pub "))
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    for stem in stems(dir) {
        if !skip.contains(&stem.as_str()) {
            assert!(
                declared.contains(&stem.as_str()),
                "{}/{stem}.rs is never compiled: add `mod {stem};` to {}",
                dir.display(),
                parent.display()
            );
        }
    }
}

#[test]
fn every_test_file_is_a_module() {
    let it = tests_dir().join("it");
    assert_declared(&it, &it.join("main.rs"), &["main", "support"]);
    assert_declared(&it.join("support"), &it.join("support.rs"), &[]);
}

#[test]
fn there_is_one_test_binary_and_no_path_attribute() {
    let top = stems(&tests_dir());
    assert!(
        top.is_empty(),
        "tests/{}.rs is a separate test binary: move it to tests/it/ and add `mod {};` to tests/it/main.rs",
        top.join(".rs, tests/"),
        top.join("; mod ")
    );
    for e in std::fs::read_dir(tests_dir()).unwrap() {
        let p = e.unwrap().path();
        assert!(
            p.ends_with("it") || !p.join("main.rs").exists(),
            "{} is a separate test binary: make its files modules of tests/it/",
            p.display()
        );
        // insta looks for a module's snapshots beside its file, named by module path.
        assert!(
            !p.ends_with("snapshots") && !p.ends_with("support"),
            "{} is not read: snapshots live in tests/it/snapshots/ as it__<module>__<name>.snap, \
             helpers in tests/it/support/",
            p.display()
        );
    }
    let mut dirs = vec![tests_dir()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with("fixtures") {
                    dirs.push(p);
                }
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                assert!(
                    !text.lines().any(|l| l.trim_start().starts_with("#[path")),
                    "{}: share a helper through `crate::support`, not a #[path] copy",
                    p.display()
                );
            }
        }
    }
}
