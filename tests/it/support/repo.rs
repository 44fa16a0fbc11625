//! A temporary git repository for end-to-end tests, and the real binary run in it with
//! a cleared environment and a fixed clock (`--now`) for the commands that take one.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use super::git::git_in;

/// The clock every `gate`, `diff` and `approve` run sees.
pub const NOW: &str = "2026-11-28T12:00:00Z";

pub struct Repo {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", self.stdout, self.stderr))
    }
}

impl Repo {
    /// An empty repository on branch `main`.
    pub fn new() -> Repo {
        let r = Repo {
            dir: tempfile::tempdir().unwrap(),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// Commits everything; returns the new commit's id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Tags HEAD as a release.
    pub fn release(&self, tag: &str) {
        self.git(&["tag", tag]);
    }

    /// `name`'s ed25519 key (the same for the same name), written under `.git/` so it
    /// is never committed; returns the private key file.
    pub fn key(&self, name: &str) -> PathBuf {
        let (private, _) = keypair(name);
        let p = self.path().join(".git").join(format!("{name}.key"));
        std::fs::write(&p, private).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p
    }

    /// Lists `name`'s key in `.scopegate/allowed_signers`, with `options` (git's
    /// allowed_signers syntax) when not empty.
    pub fn allow_signer(&self, name: &str, options: &str) {
        let (_, public) = keypair(name);
        let path = ".scopegate/allowed_signers";
        let mut t = std::fs::read_to_string(self.path().join(path)).unwrap_or_default();
        let sep = if options.is_empty() { "" } else { " " };
        t.push_str(&format!("{name}{sep}{options} {public}\n"));
        self.write(path, &t);
    }

    /// `approve --by name --sign <name's key>` with `args`.
    pub fn approve_signed(&self, name: &str, args: &[&str]) -> Run {
        let key = self.key(name);
        let key = key.to_str().unwrap();
        let mut all = vec!["approve", "--by", name, "--sign", key];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// The binary in this repository; `gate`, `diff` and `approve` get `--now NOW`.
    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.path(), args)
    }
}

/// The binary in `dir`, as [`Repo::run`], with a deadline: a run that blocks (on a
/// FIFO, say) is killed and the test fails, instead of hanging the suite.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    let mut c = Command::cargo_bin("scopegate").unwrap();
    c.env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .timeout(std::time::Duration::from_secs(120));
    if matches!(args.first(), Some(&"gate" | &"diff" | &"approve")) && !args.contains(&"--now") {
        c.args(["--now", NOW]);
    }
    let out = c.output().unwrap();
    Run {
        code: out
            .status
            .code()
            .expect("killed: the run did not finish in 120 s"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A deterministic ed25519 key pair for `name`: (OpenSSH private key, public key line).
pub fn keypair(name: &str) -> (String, String) {
    use ssh_key::private::{Ed25519Keypair, KeypairData, PrivateKey};
    let mut seed = [7u8; 32];
    for (i, b) in name.bytes().enumerate() {
        seed[i % 32] ^= b.wrapping_mul(31).wrapping_add(i as u8);
    }
    let k = PrivateKey::new(KeypairData::Ed25519(Ed25519Keypair::from_seed(&seed)), name).unwrap();
    (
        k.to_openssh(ssh_key::LineEnding::LF).unwrap().to_string(),
        k.public_key().to_openssh().unwrap(),
    )
}

/// A file under `examples/`.
pub fn example(rel: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(rel),
    )
    .unwrap()
}

/// A directory with the two ends of a `--base-file` comparison: `old.yaml`, the example
/// `rel`, and `new.yaml`, the same with every `from` replaced by `to`.
pub fn base_file_pair(rel: &str, from: &str, to: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let old = example(rel);
    let new = old.replace(from, to);
    assert_ne!(old, new, "`{from}` is not in {rel}");
    std::fs::write(d.path().join("old.yaml"), old).unwrap();
    std::fs::write(d.path().join("new.yaml"), new).unwrap();
    d
}

/// med-rec with `u` on MedicationStatement, in the scope and the workflow need.
pub fn with_update(t: &str) -> String {
    t.replace(
        "patient/MedicationStatement.crs",
        "patient/MedicationStatement.crus",
    )
    .replace(
        "      - patient/MedicationStatement.c\n",
        "      - patient/MedicationStatement.cu\n",
    )
}

/// med-rec with a new `patient/Condition.rs` scope, justified by `reconcile`.
pub fn with_condition(t: &str) -> String {
    t.replace(
        "  - scope: openid\n",
        "  - scope: patient/Condition.rs\n    rationale: indications\n  - scope: openid\n",
    )
    .replace(
        "      - patient/AllergyIntolerance.rs\n",
        "      - patient/AllergyIntolerance.rs\n      - patient/Condition.rs\n",
    )
}
