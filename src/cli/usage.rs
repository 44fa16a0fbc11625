//! `scopegate usage`: opens the evidence files, streams them into a tally, analyses
//! and prints. Exit 1 on out-of-manifest use (or unused scopes with `--fail-on
//! unused`), 2 when evidence cannot be read.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::ValueEnum;

use crate::render::{Style, json, usage as render};
use crate::usage::analyze::{self, UsageOptions};
use crate::usage::evidence::{self, EvidenceError};
use crate::usage::instant;
use crate::usage::report::UsageVerdict;
use crate::usage::tally::{EvidenceKind, Tally};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum UsageFormat {
    Text,
    Json,
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(super) enum UsageFailOn {
    /// Only out-of-manifest use fails (the default).
    OutOfManifest,
    /// Unused and partly used scopes fail too.
    Unused,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit codes: 0 pass, 1 out-of-manifest use (or unused scopes with --fail-on unused), 2 evidence cannot be read.\n\nAccess log lines: {\"time\", \"tenant\", \"app\", \"method\", \"url\", \"status\"} (+ optional \"body\" for POST _search, \"entries\" [{method, url, status}] for batch/transaction).\nGranted lines: {\"time\", \"tenant\", \"app\", \"scope\"}, one per token response.\nAuditEvents: FHIR R4, NDJSON or one Bundle; tenant from source.site, app from the agent typed DICOM 110150 (Application)."
)]
pub(super) struct UsageArgs {
    /// Manifest file [default: smart-app.yaml]
    manifest: Option<PathBuf>,
    /// JSON-lines access log (repeatable).
    #[arg(long = "access-log", value_name = "FILE")]
    access_logs: Vec<PathBuf>,
    /// FHIR R4 AuditEvents, NDJSON or a Bundle (repeatable).
    #[arg(long = "audit-events", value_name = "FILE")]
    audit_events: Vec<PathBuf>,
    /// JSON lines of granted scopes from token responses (repeatable).
    #[arg(long = "granted", value_name = "FILE")]
    granted: Vec<PathBuf>,
    /// Only evidence at or after this date or instant (YYYY-MM-DD, or RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// The app id in the evidence [default: the manifest's id].
    #[arg(long)]
    app: Option<String>,
    #[arg(long, value_enum, default_value_t = UsageFormat::Text)]
    format: UsageFormat,
    /// What makes the exit code 1.
    #[arg(long, value_enum, default_value_t = UsageFailOn::OutOfManifest)]
    fail_on: UsageFailOn,
    /// Stop at the first bad evidence line (exit 2) instead of counting it.
    #[arg(long)]
    strict: bool,
    #[command(flatten)]
    algebra: super::AlgebraArgs,
}

pub(super) fn run(a: &UsageArgs, style: Style) -> Result<u8> {
    if a.access_logs.is_empty() && a.audit_events.is_empty() {
        bail!("no access evidence: give --access-log FILE or --audit-events FILE");
    }
    let since = match &a.since {
        None => None,
        Some(s) => match instant::parse(s) {
            Some(t) => Some(t),
            None => bail!("`--since {s}` is not YYYY-MM-DD or an RFC 3339 instant"),
        },
    };
    let paths: Vec<PathBuf> = a.manifest.iter().cloned().collect();
    let loaded = super::load_all(&paths)?;
    let m = &loaded[0];
    let app = a.app.clone().unwrap_or_else(|| m.id.value.clone());
    let mut tally = Tally::new(&app, since, analyze::restriction_params(m));
    let files = a
        .granted
        .iter()
        .map(|p| (p, EvidenceKind::Granted))
        .chain(a.access_logs.iter().map(|p| (p, EvidenceKind::AccessLog)))
        .chain(
            a.audit_events
                .iter()
                .map(|p| (p, EvidenceKind::AuditEvents)),
        );
    for (path, kind) in files {
        let shown = path.display().to_string();
        let id = tally.add_file(&shown, kind);
        let file = std::fs::File::open(path).map_err(|e| EvidenceError {
            file: shown.clone(),
            line: 0,
            message: format!("cannot open: {e}"),
        })?;
        let r = BufReader::with_capacity(1 << 18, file);
        match kind {
            EvidenceKind::AccessLog => evidence::read_access_log(r, &mut tally, id, a.strict),
            EvidenceKind::Granted => evidence::read_granted(r, &mut tally, id, a.strict),
            EvidenceKind::AuditEvents => evidence::read_audit_events(r, &mut tally, id, a.strict),
        }?;
    }
    let report = analyze::analyze(
        m,
        &tally,
        UsageOptions {
            algebra: a.algebra.options(),
            fail_on_unused: a.fail_on == UsageFailOn::Unused,
        },
    );
    let out = match a.format {
        UsageFormat::Text => render::text(&report, style),
        UsageFormat::Json => json::render(&report),
        UsageFormat::Markdown => render::markdown(&report),
        UsageFormat::Sarif => render::sarif(&report),
    };
    print!("{out}");
    Ok(u8::from(report.verdict == UsageVerdict::Fail))
}
