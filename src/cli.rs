//! The command line: parse arguments, read files, call the pure stages, print.
//!
//! The only module that reads the filesystem and environment and writes to
//! stdout/stderr (with `render`). Exit codes: 0 pass, 1 findings, 2 could not run.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod approve;
mod ci;
mod export;
mod gating;
mod manifests;
mod usage;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::fhir::FhirVersion;
use crate::grant::Options;
use crate::manifest::{self, LoadError, Manifest};
use crate::render::{Style, json, text};
use crate::report::Report;
use crate::rules::{self, Severity};
use crate::scope::split_scope_string;
use crate::{explain, init, lint, report, suggest};

/// `--syntax`: the core's [`crate::syntax::Syntax`], as clap parses it.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SyntaxArg {
    /// SMART App Launch 1.0: `.read`, `.write`, `.*`.
    V1,
    /// SMART App Launch 2.x: `.cruds` letters, restrictions.
    V2,
}

impl SyntaxArg {
    fn syntax(self) -> crate::syntax::Syntax {
        match self {
            SyntaxArg::V1 => crate::syntax::Syntax::V1,
            SyntaxArg::V2 => crate::syntax::Syntax::V2,
        }
    }
}

/// The manifest `check` and `suggest` read when none is named.
pub use crate::config::DEFAULT_MANIFEST;

#[derive(Parser, Debug)]
#[command(
    name = "scopegate",
    version,
    about = "Keeps SMART-on-FHIR apps at least privilege.",
    long_about = "Keeps SMART-on-FHIR apps at least privilege: lints scope manifests against their workflows.\n\nExit codes: 0 pass, 1 findings, 2 could not run."
)]
struct Cli {
    /// When to use colour (NO_COLOR turns it off in `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

/// Formats a gate or diff report can be rendered in.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ReportFormat {
    Text,
    Json,
    /// For a pull-request comment or the job summary.
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// A plain-language consent delta for release notes and customer notices.
    Notice,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SchemaName {
    Manifest,
    Report,
    Config,
    Approvals,
    Tenant,
    Matrix,
    Usage,
}

#[derive(clap::Args, Debug, Clone, Copy)]
struct AlgebraArgs {
    /// Treat `user/` scopes as covering `patient/` scopes (the IG states no containment).
    #[arg(long)]
    user_covers_patient: bool,
}

impl AlgebraArgs {
    fn options(self) -> Options {
        Options {
            user_covers_patient: self.user_covers_patient,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint manifests: every scope serves a workflow, every need is granted.
    Check {
        /// Manifest files [default: smart-app.yaml]
        manifests: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Lowest severity that makes the exit code 1.
        #[arg(long, value_enum, default_value_t = FailOn::Warning)]
        fail_on: FailOn,
        #[command(flatten)]
        algebra: AlgebraArgs,
    },
    /// Show the semantic authorization diff against the baseline (exit 0 or 2).
    Diff {
        /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        base: gating::BaseArgs,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// The CI gate: diff + approvals + lint; exit 1 on any unapproved escalation.
    Gate {
        /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        base: gating::BaseArgs,
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Report, never block (the pre-commit hook): findings, and no previous release
        /// to compare with (no tag, only HEAD tagged, a shallow clone), are said and
        /// exit 0. Input that cannot be read still exits 2.
        #[arg(long)]
        advisory: bool,
    },
    /// Append an approval for the current unapproved escalations (or the keys given)
    /// to .scopegate/approvals.yaml.
    Approve {
        /// Manifest files [default: the config's `manifests`, or smart-app.yaml]
        manifests: Vec<PathBuf>,
        #[command(flatten)]
        base: gating::BaseArgs,
        /// Who approves (e.g. a GitHub login listed in the config's `approvers`).
        #[arg(long)]
        by: String,
        /// Approve only these keys (`<app-id>:<scope>`, as the gate prints them).
        #[arg(long = "key")]
        keys: Vec<String>,
        /// The ticket that records the review.
        #[arg(long)]
        ticket: Option<String>,
        /// Why the change is acceptable.
        #[arg(long)]
        reason: Option<String>,
        /// Last day the approval counts (YYYY-MM-DD, or a UTC timestamp).
        #[arg(long)]
        expires: Option<String>,
        /// Limit the approval to this tenant (repeatable; a profile in
        /// .scopegate/tenants/). New access to a tenant's sensitive types needs one.
        #[arg(long = "tenant")]
        tenants: Vec<String>,
        /// Sign the entry with this SSH key (ed25519; a private key file, or a `.pub`
        /// whose key is in ssh-agent), in git's SSH signature format. The gate then
        /// verifies it against .scopegate/allowed_signers at the baseline.
        #[arg(long, value_name = "KEYFILE")]
        sign: Option<PathBuf>,
    },
    /// The GitHub Actions entry point: gate, verify approvals, comment, summary, outputs.
    Ci(ci::CiArgs),
    /// Post a report from `scopegate ci` as the sticky PR comment (fork-safe split).
    Comment(ci::CommentArgs),
    /// Explain what each scope token grants.
    Explain {
        /// Scope tokens; a quoted, space-separated scope string works too.
        #[arg(required = true)]
        scopes: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// FHIR release to check resource types against (DSTU2, STU3, R4, R4B, R5).
        #[arg(long, default_value = "R4", value_parser = parse_fhir_version)]
        fhir_version: FhirVersion,
    },
    /// Requested vs granted vs used: compare audit events, access logs and granted
    /// scopes with the manifest (unused scopes, over-grants, out-of-manifest use, drift).
    Usage(usage::UsageArgs),
    /// Print the minimal scope set that covers the manifest's workflows.
    Suggest {
        /// Manifest file [default: smart-app.yaml]
        manifest: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// SMART syntax of the suggestion: v1 (`.read`, `.write`) or v2 (`.rs`, `.cu`).
        /// Default: the manifest's own (v1 when all its resource scopes are v1).
        #[arg(long, value_enum)]
        syntax: Option<SyntaxArg>,
        #[command(flatten)]
        algebra: AlgebraArgs,
    },
    /// Print a manifest skeleton for an existing scope string.
    Init {
        /// The scope string the app requests today.
        #[arg(long)]
        scopes: String,
        /// The app id.
        #[arg(long, default_value = "my-app")]
        id: String,
    },
    /// List the rule catalogue.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Export the scope matrix: one row per scope, with its rationale, workflows,
    /// risk, approval history and tenant verdicts.
    Matrix {
        /// Manifest files [default: the config's `manifests`, else smart-app.yaml]
        manifests: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = export::MatrixFormat::Markdown)]
        format: export::MatrixFormat,
    },
    /// Print a JSON Schema.
    Schema {
        #[arg(value_enum, default_value_t = SchemaName::Manifest)]
        name: SchemaName,
    },
}

fn parse_fhir_version(s: &str) -> Result<FhirVersion, String> {
    FhirVersion::parse(s)
        .ok_or_else(|| format!("unknown FHIR version `{s}`: use DSTU2, STU3, R4, R4B or R5"))
}

/// Runs the CLI and returns the process exit code.
pub fn run() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let style = Style {
        color: match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        },
    };
    match execute(cli.command, style) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote input (a bad key, a YAML snippet): the same guard as any
            // report keeps a quoted line from commanding a CI runner.
            let msg = match e.downcast_ref::<LoadErrors>() {
                Some(errs) => errs.to_string(),
                None => format!("error: {e:#}"),
            };
            eprintln!("{}", crate::render::safe::guard(msg));
            2
        }
    }
}

/// The gate found no previous release to compare with: no matching tag, only HEAD
/// tagged, or a shallow clone.
fn no_previous_release(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<crate::baseline::Error>(),
            Some(
                crate::baseline::Error::NoReleaseTag { .. }
                    | crate::baseline::Error::Shallow { .. }
            )
        )
    })
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

fn execute(command: Command, style: Style) -> Result<u8> {
    match command {
        Command::Check {
            manifests,
            format,
            fail_on,
            algebra,
        } => {
            // Locally the working tree's config applies (there is no baseline to judge
            // with): its manifest list, severities and level option.
            let (config, root) = gating::worktree_config()?;
            let loaded = load_worktree(&manifests, &config, &root)?;
            let mut options = config.options;
            options.user_covers_patient |= algebra.user_covers_patient;
            let findings = loaded
                .iter()
                .flat_map(|m| lint::check(m, options))
                .map(|mut f| {
                    f.severity = config.severity_of(f.rule);
                    f
                })
                .collect();
            let mut report = Report::new(loaded.len(), findings);
            // Tenant profiles in the working tree judge the manifests too; there is no
            // diff here, so the approvals column is not checked.
            let tenants = gating::worktree_tenants(&root)?;
            if !tenants.is_empty() {
                let refs: Vec<&Manifest> = loaded.iter().collect();
                let (rows, extra) = crate::tenant::matrix(&tenants, &refs, &config, |_| None);
                let mut findings = report.findings;
                findings.extend(extra);
                report = Report::new(loaded.len(), findings);
                report.tenant_mode = Some(config.tenant_mode);
                report.tenants = rows;
            }
            print!("{}", render_report(&report, format, style));
            let threshold = match fail_on {
                FailOn::Error => Some(Severity::Error),
                FailOn::Warning => Some(Severity::Warning),
                FailOn::Note => Some(Severity::Note),
                FailOn::Never => None,
            };
            let lint_fails = threshold.is_some_and(|t| {
                report.findings.iter().any(|f| {
                    crate::rules::rule(f.rule).kind != crate::rules::RuleKind::Tenant
                        && f.severity >= t
                })
            });
            let blocked = threshold.is_some()
                && config.tenant_mode == crate::report::TenantMode::Enforce
                && report
                    .tenants
                    .iter()
                    .any(|t| t.verdict == crate::report::TenantVerdict::Blocked);
            Ok(u8::from(lint_fails || blocked))
        }
        Command::Diff {
            manifests,
            base,
            format,
        } => report_against_baseline(&manifests, &base, format, style, false),
        Command::Gate {
            manifests,
            base,
            format,
            advisory,
        } => {
            let result = report_against_baseline(&manifests, &base, format, style, true);
            if !advisory {
                return result;
            }
            match result {
                Ok(1) => {
                    eprintln!(
                        "note: advisory run (--advisory): the findings above would fail the gate in CI; exit 0"
                    );
                    Ok(0)
                }
                Err(e) if no_previous_release(&e) => {
                    eprintln!(
                        "{}",
                        crate::render::safe::guard(format!(
                            "note: advisory run (--advisory): nothing to compare with, so nothing was gated; exit 0\n  why: {e:#}"
                        ))
                    );
                    Ok(0)
                }
                other => other,
            }
        }
        Command::Approve {
            manifests,
            base,
            by,
            keys,
            ticket,
            reason,
            expires,
            tenants,
            sign,
        } => approve::approve(
            &manifests,
            &base,
            &by,
            keys,
            ticket,
            reason,
            expires,
            &tenants,
            sign.as_deref(),
        ),
        Command::Ci(args) => ci::run(&args),
        Command::Comment(args) => ci::comment_from_report(&args),
        Command::Explain {
            scopes,
            format,
            fhir_version,
        } => {
            let xs: Vec<explain::Explanation> = scopes
                .iter()
                .flat_map(|s| split_scope_string(s))
                .map(|t| explain::explain(t, fhir_version))
                .collect();
            if xs.is_empty() {
                bail!("no scope tokens given");
            }
            match format {
                Format::Text => print!("{}", text::explanations(&xs, style)),
                Format::Json => print!("{}", json::render(&xs)),
            }
            Ok(u8::from(xs.iter().any(|x| !x.valid)))
        }
        Command::Suggest {
            manifest,
            format,
            syntax,
            algebra,
        } => {
            let paths: Vec<PathBuf> = manifest.into_iter().collect();
            let loaded = load_all(&paths)?;
            let syntax = syntax
                .map(SyntaxArg::syntax)
                .unwrap_or_else(|| crate::syntax::detect(&loaded[0]));
            let mut s = suggest::suggest_in(&loaded[0], algebra.options(), syntax);
            // The working tree's tenants whose EHR snapshot lacks this syntax.
            let tenants = gating::worktree_tenants(Path::new("."))?;
            s.tenants_lacking = crate::syntax::lacking(
                tenants.iter().map(|t| {
                    (
                        t.profile.name.as_str(),
                        t.ehr.as_ref().and_then(|e| e.capabilities.as_ref()),
                    )
                }),
                syntax.capability(),
            );
            match format {
                Format::Text => print!("{}", text::suggestion(&s, style)),
                Format::Json => print!("{}", json::render(&s)),
            }
            Ok(0)
        }
        Command::Usage(args) => usage::run(&args, style),
        Command::Init { scopes, id } => {
            print!("{}", init::skeleton(&scopes, &id));
            Ok(0)
        }
        Command::Rules { format } => {
            match format {
                RulesFormat::Text => print!("{}", text::rules(style)),
                RulesFormat::Json => print!("{}", json::render(rules::RULES)),
                RulesFormat::Markdown => print!("{}", rules::markdown()),
            }
            Ok(0)
        }
        Command::Matrix { manifests, format } => export::matrix(&manifests, format),
        Command::Schema { name } => {
            let schema = match name {
                SchemaName::Manifest => manifest::json_schema(),
                SchemaName::Report => report::json_schema(),
                SchemaName::Config => crate::config::json_schema(),
                SchemaName::Approvals => crate::approval::json_schema(),
                SchemaName::Tenant => crate::tenant::json_schema(),
                SchemaName::Matrix => crate::matrix::json_schema(),
                SchemaName::Usage => crate::usage_analysis::report::json_schema(),
            };
            print!("{}", json::render(&schema));
            Ok(0)
        }
    }
}

/// `diff` and `gate`: the same report; only the gate turns a failing verdict into exit 1.
fn report_against_baseline(
    manifests: &[PathBuf],
    base: &gating::BaseArgs,
    format: ReportFormat,
    style: Style,
    gate: bool,
) -> Result<u8> {
    let loaded = gating::load(manifests, base, None)?;
    let g = loaded.gate(&loaded.judge(None));
    if format == ReportFormat::Notice {
        // The notice quotes workflow descriptions and rationales from the head manifests.
        let heads: Vec<&Manifest> = loaded.apps.iter().map(|a| &a.head).collect();
        let notice = crate::notice::build(&g.report, &heads);
        print!("{}", crate::render::notice::render(&notice));
    } else {
        print!("{}", render_gate(&g.report, format, style));
    }
    let fails = g.report.verdict == Some(report::Verdict::Fail);
    // A gated path that is there but unreadable, with its removal unapproved: the
    // report is shown, but the gate could not judge the app.
    let cannot = crate::gate::cannot_judge(&loaded.removed, &g.report);
    for m in &cannot {
        eprintln!("error: {m}");
    }
    // The process exits next, and the OS takes the memory back at once: freeing the
    // parsed manifests and the report one allocation at a time (about 10^5 of them for
    // a large manifest) would cost a CI run more than rendering the report.
    std::mem::forget(loaded);
    std::mem::forget(g);
    if !cannot.is_empty() {
        return Ok(2);
    }
    Ok(u8::from(gate && fails))
}

fn render_gate(r: &Report, format: ReportFormat, style: Style) -> String {
    match format {
        ReportFormat::Text => text::gate(r, style),
        ReportFormat::Json => json::render(r),
        ReportFormat::Markdown => crate::render::markdown::render(r, None),
        ReportFormat::Sarif => crate::render::sarif::render(r),
        ReportFormat::Github => crate::render::annotations::render(r),
        ReportFormat::Notice => {
            let notice = crate::notice::build(r, &[]);
            crate::render::notice::render(&notice)
        }
    }
}

fn render_report(r: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Text => text::report(r, style),
        Format::Json => json::render(r),
    }
}

/// The head manifests of a run without a baseline (`check`, `matrix`): the paths
/// given; else the config's entries (globs expanded), named repository-relative;
/// else `./smart-app.yaml`.
fn load_worktree(
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
fn load_all(paths: &[PathBuf]) -> Result<Vec<Manifest>> {
    let default = [PathBuf::from(DEFAULT_MANIFEST)];
    let paths = if paths.is_empty() {
        if !Path::new(DEFAULT_MANIFEST).exists() {
            bail!(
                "no manifest given, and ./{DEFAULT_MANIFEST} does not exist: pass the manifest path"
            );
        }
        &default[..]
    } else {
        paths
    };
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let shown = p.display().to_string();
        let bytes = read_limited(p).with_context(|| format!("cannot read {shown}"))?;
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
    use std::io::Read;
    // Opening a FIFO would block until a writer comes: look first.
    if !std::fs::metadata(p)?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    let f = std::fs::File::open(p)?;
    let mut buf = Vec::new();
    f.take(manifest::MAX_BYTES as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}
