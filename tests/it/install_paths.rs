//! Every install path installs this repository's code at a pinned commit, never a crate
//! by bare name. scopegate is not published on crates.io: `cargo install scopegate` would
//! install whatever crate takes that name there, in a job that holds a write token.
//! The checker reads `action.yml`, `action/*.sh`, `.github/workflows/`,
//! `examples/workflows/` (comments aside) and the code in the README and `docs/` (fenced
//! blocks and inline spans), and refuses any `cargo install` of a registry crate, and any `--git`
//! install without `--rev <full commit SHA>`.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Flags of `cargo install` that take a value.
const VALUE_FLAGS: &[&str] = &[
    "--root",
    "--path",
    "--git",
    "--rev",
    "--branch",
    "--tag",
    "--version",
    "--vers",
    "--registry",
    "--index",
    "--features",
    "-F",
    "--target",
    "--target-dir",
    "--profile",
    "-j",
    "--jobs",
    "--config",
    "-Z",
    "--bin",
    "--example",
    "--color",
];

fn unquote(s: &str) -> &str {
    s.trim_matches(|c| c == '"' || c == '\'')
}

/// A pinned `--rev`: a full 40-hex commit, or a placeholder/variable the reader fills
/// with one (`$SCOPEGATE_REV`, `<full commit SHA>`, `${{ … }}`).
fn pinned_rev(v: &str) -> bool {
    let v = unquote(v);
    (v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        || (v.starts_with('$') && v.len() > 1)
        || (v.starts_with('<') && v.ends_with('>') && v.to_lowercase().contains("sha"))
}

/// Why the `cargo install` arguments `args` do not install pinned code of this
/// repository; `None` when they do (or when they install nothing, as in prose).
fn refuse(args: &[&str]) -> Option<String> {
    let mut path = false;
    let mut git = false;
    let mut rev: Option<&str> = None;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v)),
            _ => (a, None),
        };
        if flag.starts_with('-') {
            let value = if VALUE_FLAGS.contains(&flag) {
                if inline.is_none() {
                    i += 1;
                }
                inline.or(args.get(i).copied())
            } else {
                None
            };
            match flag {
                "--path" => path = true,
                "--git" => git = true,
                "--rev" => rev = value,
                "--branch" | "--tag" => {
                    return Some(format!(
                        "`{flag}` follows a moving ref: pin `--rev <full commit SHA>`"
                    ));
                }
                "--registry" | "--index" => {
                    return Some(format!("`{flag}` installs from a registry"));
                }
                _ => {}
            }
        } else {
            names.push(a);
        }
        i += 1;
    }
    if git {
        return match rev {
            Some(v) if pinned_rev(v) => None,
            Some(v) => Some(format!(
                "`--rev {v}` is not a full commit SHA (or a placeholder for one)"
            )),
            None => Some("`--git` without `--rev <full commit SHA>`".into()),
        };
    }
    if !path && let Some(name) = names.first() {
        return Some(format!(
            "installs the crate `{name}` by name from the public registry"
        ));
    }
    None
}

/// Every `cargo install` in `text` that `refuse` refuses, with its reason.
fn offending(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = join_placeholders(line);
        let toks: Vec<&str> = line.split_whitespace().collect();
        for (i, t) in toks.iter().enumerate() {
            let is_cargo = unquote(t.trim_start_matches('`'))
                .trim_start_matches("${")
                .trim_start_matches('$')
                .trim_end_matches('}')
                .ends_with("cargo");
            if !is_cargo {
                continue;
            }
            let mut j = i + 1;
            if toks.get(j).is_some_and(|t| t.starts_with('+')) {
                j += 1; // cargo +toolchain install
            }
            if toks.get(j).map(|t| t.trim_end_matches('`')) != Some("install") {
                continue;
            }
            if toks[j].ends_with('`') {
                continue; // "`cargo install`" as a word in prose
            }
            // The command ends at a shell separator, a closing code span or a paren.
            let mut args = Vec::new();
            for t in &toks[j + 1..] {
                let end = t.find(['`', ';', '|', '&', ')']);
                let head = &t[..end.unwrap_or(t.len())];
                if !head.is_empty() {
                    args.push(head);
                }
                if end.is_some() {
                    break;
                }
            }
            if let Some(why) = refuse(&args) {
                out.push(format!("{}: {why}", line.trim()));
            }
        }
    }
    out
}

/// `<full commit SHA>` as one word: spaces inside `<…>` become `_`.
fn join_placeholders(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut inside = false;
    for c in line.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            ' ' if inside => {
                out.push('_');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// YAML or shell without its comments (a `#` at the start or after whitespace).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| {
            let cut = l
                .char_indices()
                .find(|&(i, c)| c == '#' && (i == 0 || l[..i].ends_with(char::is_whitespace)))
                .map_or(l.len(), |(i, _)| i);
            &l[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The README's code: fenced blocks whole, and inline code spans elsewhere.
fn markdown_code(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push_str(line);
            out.push('\n');
        } else {
            for (k, span) in line.split('`').enumerate() {
                if k % 2 == 1 {
                    out.push_str(span);
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Every Markdown file under `dir`, at any depth.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(markdown_files(&p));
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn files_in(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| ext.iter().any(|e| x == std::ffi::OsStr::new(e)))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn no_workflow_action_readme_or_doc_installs_a_crate_by_bare_name_or_an_unpinned_git_ref() {
    let r = root();
    let mut yaml = vec![r.join("action.yml")];
    yaml.extend(files_in(&r.join(".github/workflows"), &["yml", "yaml"]));
    yaml.extend(files_in(&r.join("examples/workflows"), &["yml", "yaml"]));
    yaml.extend(files_in(&r.join("action"), &["sh"]));
    assert!(yaml.len() >= 7, "{yaml:?}");
    let mut bad = Vec::new();
    let mut installs = 0;
    for f in &yaml {
        let text = strip_comments(&std::fs::read_to_string(f).unwrap());
        installs += text.matches(" install ").count();
        for o in offending(&text) {
            bad.push(format!("{}: {o}", f.display()));
        }
    }
    let readme = markdown_code(&std::fs::read_to_string(r.join("README.md")).unwrap());
    for o in offending(&readme) {
        bad.push(format!("README.md: {o}"));
    }
    let docs = markdown_files(&r.join("docs"));
    assert!(docs.len() >= 10, "{docs:?}");
    for f in &docs {
        let code = markdown_code(&std::fs::read_to_string(f).unwrap());
        installs += code.matches(" install ").count();
        for o in offending(&code) {
            bad.push(format!("{}: {o}", f.display()));
        }
    }
    assert!(bad.is_empty(), "unpinned installs:\n{}", bad.join("\n"));
    // The scan saw the install steps it guards (the fork flow, install.sh, the README,
    // the install guide and the GitLab example in docs/).
    assert!(installs >= 4, "{installs}");
    assert!(readme.contains("--rev"));
}

#[test]
fn attack_bare_crate_names_and_unpinned_git_installs_are_refused() {
    for attack in [
        "run: cargo install --locked scopegate",
        "run: cargo install scopegate",
        "cargo install scopegate@0.1.0",
        "cargo +stable install --locked scopegate",
        "  - \"$cargo\" install --locked --root x scopegate",
        "cargo install --locked --version 0.1.0 scopegate && scopegate check",
        "cargo install --registry crates-io scopegate",
        "cargo install --locked --git https://github.com/acme/scopegate scopegate",
        "cargo install --git https://github.com/acme/scopegate --branch main scopegate",
        "cargo install --git https://github.com/acme/scopegate --tag v0.1.0 scopegate",
        "cargo install --git https://github.com/acme/scopegate --rev main scopegate",
        "cargo install --git https://github.com/acme/scopegate --rev 9f2c5f3 scopegate",
        "cargo install --git=https://github.com/acme/scopegate scopegate",
        "set -e; cargo install --locked scopegate; scopegate gate",
    ] {
        assert_eq!(offending(attack).len(), 1, "not refused: {attack}");
    }
    // In a workflow file, after comment stripping; and in a README code block.
    let yaml = "steps:\n  - run: cargo install --locked scopegate # pinned? no\n";
    assert_eq!(offending(&strip_comments(yaml)).len(), 1);
    let md = "Install:\n\n```sh\ncargo install --locked scopegate\n```\n";
    assert_eq!(offending(&markdown_code(md)).len(), 1);
    let md = "Or run `cargo install --locked --git <repository URL> scopegate`.";
    assert_eq!(offending(&markdown_code(md)).len(), 1);
}

#[test]
fn control_pinned_and_local_installs_pass() {
    for control in [
        "cargo install --locked --git https://github.com/acme/scopegate --rev 9f2c5f3a1d0e4b7c8a6d5e4f3a2b1c0d9e8f7a6b scopegate",
        "cargo install --locked --git \"$SCOPEGATE_REPO\" --rev \"$SCOPEGATE_REV\" scopegate",
        "cargo install --locked --git <repository URL> --rev <full commit SHA> scopegate",
        "cargo install --locked --rev=9f2c5f3a1d0e4b7c8a6d5e4f3a2b1c0d9e8f7a6b --git=https://x/y scopegate",
        "cargo install --locked --path .",
        "\"$cargo\" install --locked --root \"$root\" --path \"$action_path\"",
        "cargo install --locked --path \"$GITHUB_ACTION_PATH\"",
        "description: a source build (always cargo install).",
    ] {
        assert!(offending(control).is_empty(), "refused: {control}");
    }
}

/// The `scopegate-gate` hook's arguments, exactly as `.pre-commit-hooks.yaml` says.
fn gate_hook_args() -> Vec<String> {
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let block = hooks
        .split("- id: ")
        .find(|b| b.starts_with("scopegate-gate"))
        .unwrap();
    let entry = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .unwrap();
    let mut words = entry.split_whitespace().map(String::from);
    assert_eq!(words.next().as_deref(), Some("scopegate"));
    words.collect()
}

fn git(dir: &Path, args: &[&str]) {
    let ok = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(ok.status.success(), "git {args:?}: {ok:?}");
}

fn run_hook(dir: &Path, args: &[String]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scopegate"))
        .args(args)
        .args(["--now", "2026-06-01T00:00:00Z"])
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

#[test]
fn the_gate_hook_never_blocks_a_push_without_a_previous_release_and_says_why() {
    let args = gate_hook_args();
    assert!(args.iter().any(|a| a == "--advisory"), "{args:?}");
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(
        hooks.contains("verbose: true"),
        "an exit-0 hook's notes stay hidden without it"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    let manifest = std::fs::read_to_string(root().join("examples/med-rec.yaml")).unwrap();
    std::fs::write(d.join("smart-app.yaml"), &manifest).unwrap();
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "app"]);

    // No tag at all.
    let (code, out) = run_hook(d, &args);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("nothing was gated") && out.contains("no tag in this clone matches"),
        "{out}"
    );
    // Only HEAD tagged, clean and edited.
    git(d, &["tag", "v1.0.0"]);
    let (code, out) = run_hook(d, &args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing was gated"), "{out}");
    // Without --advisory (CI's plain gate) the same clean state cannot run: exit 2.
    let plain: Vec<String> = args
        .iter()
        .filter(|a| *a != "--advisory")
        .cloned()
        .collect();
    assert_eq!(run_hook(d, &plain).0, 2);
    // Edited on the tagged commit: HEAD's own release is the baseline (issue 16 §2).
    std::fs::write(d.join("smart-app.yaml"), format!("{manifest}# edited\n")).unwrap();
    let (code, out) = run_hook(d, &args);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("nothing was gated"), "{out}");
    assert!(out.contains("v1.0.0"), "{out}");

    // A real previous release and an unapproved escalation: reported, exit 0 in the
    // hook; the control, plain `gate`, fails it (exit 1).
    std::fs::write(d.join("smart-app.yaml"), &manifest).unwrap();
    git(d, &["commit", "-qam", "again", "--allow-empty"]);
    let wider = manifest.replace(
        "  - scope: offline_access\n",
        "  - scope: system/*.cruds\n    rationale: Bulk maintenance.\n  - scope: offline_access\n",
    );
    assert_ne!(wider, manifest);
    std::fs::write(d.join("smart-app.yaml"), &wider).unwrap();
    let (code, out) = run_hook(d, &args);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would fail the gate in CI"), "{out}");
    let (code, out) = run_hook(d, &plain);
    assert_eq!(code, 1, "{out}");

    // Input that cannot be read still exits 2, advisory or not.
    std::fs::write(d.join("smart-app.yaml"), "app: [unclosed\n").unwrap();
    let (code, out) = run_hook(d, &args);
    assert_eq!(code, 2, "{out}");
}
