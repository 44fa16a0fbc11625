//! What several commands share: reading manifests from the working tree, the
//! text/JSON format flag, the scope-algebra flag, and the error that lists every
//! manifest that failed to load.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;

use super::DEFAULT_MANIFEST;
use super::manifests;
use crate::grant::Options;
use crate::manifest::{self, LoadError, Manifest};

/// `--format` of the commands that print text or JSON.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum Format {
    Text,
    Json,
}

#[derive(clap::Args, Debug, Clone, Copy)]
pub(super) struct AlgebraArgs {
    /// Treat `user/` scopes as covering `patient/` scopes (the IG states no containment).
    #[arg(long)]
    pub(super) user_covers_patient: bool,
}

impl AlgebraArgs {
    pub(super) fn options(self) -> Options {
        Options {
            user_covers_patient: self.user_covers_patient,
        }
    }
}

/// Every manifest that failed to load, reported together.
#[derive(Debug)]
pub(crate) struct LoadErrors(pub(crate) Vec<LoadError>);

impl std::fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for LoadErrors {}

/// The head manifests of a run without a baseline (`check`, `matrix`): the paths
/// given; else the config's entries (globs expanded), named repository-relative;
/// else `./smart-app.yaml`.
pub(super) fn load_worktree(
    explicit: &[PathBuf],
    config: &crate::config::Config,
    root: &Path,
) -> Result<Vec<Manifest>> {
    if !explicit.is_empty() || !root.join(crate::config::PATH).exists() {
        return load_all(explicit);
    }
    let entries = manifests::worktree(config, root)?;
    let files: Vec<PathBuf> = entries.iter().map(|(_, f)| f.clone()).collect();
    let mut loaded = load_all(&files)?;
    // Named as in the repository, not by absolute path: the same on every machine.
    for (m, (name, _)) in loaded.iter_mut().zip(&entries) {
        m.path.clone_from(name);
    }
    Ok(loaded)
}

/// Reads and loads every manifest, collecting every load error before failing.
pub(super) fn load_all(paths: &[PathBuf]) -> Result<Vec<Manifest>> {
    let mut read = Vec::new();
    if paths.is_empty() {
        // The file looked for, not named: the working tree's rules for it apply (no
        // symlink out of the repository, nothing but a regular file).
        let here = std::env::current_dir().context("cannot read the current directory")?;
        let Some(bytes) = super::manifests::Tree::lazy(&here).read(DEFAULT_MANIFEST)? else {
            bail!(
                "no manifest given, and ./{DEFAULT_MANIFEST} does not exist: pass the manifest path"
            );
        };
        read.push((DEFAULT_MANIFEST.to_string(), bytes));
    }
    for p in paths {
        let shown = p.display().to_string();
        let bytes = read_limited(p).with_context(|| format!("cannot read {shown}"))?;
        read.push((shown, bytes));
    }
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for (shown, bytes) in read {
        match manifest::from_bytes(&shown, &bytes) {
            Ok(m) => loaded.push(m),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(LoadErrors(errors).into());
    }
    Ok(loaded)
}

/// Reads at most one byte more than a manifest may have, so a huge file is refused
/// without reading it all.
pub(crate) fn read_limited(p: &Path) -> std::io::Result<Vec<u8>> {
    read_at_most(p, manifest::MAX_BYTES)
}

/// [`read_limited`] with a limit of `max` bytes: at most `max + 1` are read, so that a
/// caller can tell a file over the limit.
pub(crate) fn read_at_most(p: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    // Opening a FIFO would block until a writer comes: look first.
    let md = std::fs::metadata(p)?;
    if !md.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let f = std::fs::File::open(p)?;
    let limit = max as u64 + 1;
    // Sized from the file's length (`take` hides it from `read_to_end`, which would
    // otherwise grow the buffer by doubling); the limit still holds if the file grows.
    let mut buf = Vec::with_capacity(md.len().min(limit) as usize + 1);
    f.take(limit).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Writes a report as JSON to standard output as it is rendered
/// (`render::json::write_report`): a report of thousands of changes is megabytes.
pub(super) fn print_json(report: &crate::report::Report) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    written(crate::render::json::write_report(report, &mut out).and_then(|()| out.flush()))
}

/// Writes `text` to standard output: every command's output goes through here, never
/// `print!`, which panics when the write fails (`scopegate check | head`).
pub(super) fn print(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    written(out.write_all(text.as_bytes()).and_then(|()| out.flush()))
}

/// Writes `text` and a line break to standard error: every message goes through here,
/// never `eprintln!`, which panics when the write fails (stderr on a full disk). A
/// message that cannot be written is lost; the exit code still says what happened.
///
/// Every message is guarded as a report is ([`crate::render::safe::guard`]): a message
/// quotes input (a path, a key, an error from git), and a quoted line must not command
/// a CI runner, whichever call site forgot to guard it.
pub(crate) fn say_err(text: &str) {
    use std::io::Write;
    let text = crate::render::safe::guard(text.to_string());
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(text.as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

/// The outcome of writing to standard output. A reader that stopped reading (a closed
/// pipe) is no error: the rest is not wanted, and the exit code still says what the
/// command found (a failing gate still exits 1). Any other failure (a full disk) is
/// an error (exit 2): the output is not whole.
fn written(r: std::io::Result<()>) -> Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to standard output"),
    }
}
