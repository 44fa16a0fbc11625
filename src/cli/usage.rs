//! `scopegate usage`: opens the evidence files, streams them into a tally, analyses
//! and prints. Exit 1 on out-of-manifest use (or unused scopes with `--fail-on
//! unused`), 2 when evidence cannot be read.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::ValueEnum;

use crate::render::{Style, json, usage_report as render};
use crate::usage_analysis::analyze::{self, UsageOptions};
use crate::usage_analysis::evidence::{self, EvidenceError};
use crate::usage_analysis::instant;
use crate::usage_analysis::lines::Plan;
use crate::usage_analysis::report::UsageVerdict;
use crate::usage_analysis::tally::{EvidenceKind, Tally};

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
    after_help = "Exit codes: 0 pass, 1 out-of-manifest use (or unused scopes with --fail-on unused), 2 evidence cannot be read.\n\nAccess log lines: {\"time\", \"tenant\", \"app\", \"method\", \"url\", \"status\"} (+ optional \"body\" for POST _search, \"entries\" [{method, url, status}] for batch/transaction).\nGranted lines: {\"time\", \"tenant\", \"app\", \"scope\"}, one per token response.\nAuditEvents: FHIR R4, NDJSON or one Bundle in any layout (streamed); tenant from source.site, app from the agent typed DICOM 110150 (Application).\nAny evidence file may be gzip (known by its magic bytes); a line or record over --max-record-bytes is exit 2."
)]
pub(super) struct Args {
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
    /// The longest evidence line (access log, granted) or record (one AuditEvent, one
    /// Bundle entry), in bytes; a longer one is an error (exit 2).
    #[arg(long, value_name = "BYTES", default_value_t = evidence::DEFAULT_MAX_RECORD as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    max_record_bytes: u64,
    #[command(flatten)]
    algebra: super::shared::AlgebraArgs,
}

pub(super) fn run(a: &Args, style: Style) -> Result<u8> {
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
    let loaded = super::shared::load_all(&paths)?;
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
        let r = open(path, &shown)?;
        let max = usize::try_from(a.max_record_bytes).unwrap_or(usize::MAX);
        let plan = Plan {
            max_line: max,
            ..Plan::auto()
        };
        match kind {
            EvidenceKind::AccessLog => evidence::read_access_log_with(
                r,
                &mut tally,
                id,
                a.strict,
                plan,
                evidence::AccessParser::Scanner,
            ),
            EvidenceKind::Granted => evidence::read_granted_with(r, &mut tally, id, a.strict, plan),
            EvidenceKind::AuditEvents => {
                evidence::read_audit_events_with(r, &mut tally, id, a.strict, max)
            }
        }?;
    }
    if let Some(why) = tally.too_many() {
        bail!("{why}");
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
    super::shared::print(&out)?;
    Ok(u8::from(report.verdict == UsageVerdict::Fail))
}

/// Opens an evidence file; a gzip file (known by its magic bytes, whatever its name)
/// is decompressed as it is read, never whole. Other compressed formats are refused.
fn open(path: &Path, shown: &str) -> Result<Box<dyn Read>, EvidenceError> {
    let fail = |message: String| EvidenceError {
        file: shown.to_string(),
        line: 0,
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let mut r = BufReader::with_capacity(1 << 18, file);
    let head = r
        .fill_buf()
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    // RFC 1952 §2.3.1: ID1 ID2 = 1f 8b.
    if head.starts_with(&[0x1f, 0x8b]) {
        // Several members (as `cat a.gz b.gz` makes) read as one stream, like zcat.
        return Ok(Box::new(flate2::bufread::MultiGzDecoder::new(r)));
    }
    let other = [
        (&b"\x28\xb5\x2f\xfd"[..], "zstd", "zstd -d"),
        (&b"\xfd7zXZ\x00"[..], "xz", "xz -d"),
        (&b"BZh"[..], "bzip2", "bzip2 -d"),
        (&b"PK\x03\x04"[..], "zip", "unzip"),
    ];
    if let Some((_, name, how)) = other.iter().find(|(magic, _, _)| head.starts_with(magic)) {
        return Err(fail(format!(
            "compressed with {name}: only gzip is read; decompress it first ({how})"
        )));
    }
    Ok(Box::new(r))
}
