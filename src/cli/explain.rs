//! `scopegate explain`: what each scope token grants. Exit 1 when one is invalid.

use anyhow::{Result, bail};

use super::shared::Format;
use crate::explain::{self, Explanation};
use crate::fhir::FhirVersion;
use crate::render::{Style, json, text};
use crate::scope::split_scope_string;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// Scope tokens; a quoted, space-separated scope string works too.
    #[arg(required = true)]
    scopes: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// FHIR release to check resource types against (DSTU2, STU3, R4, R4B, R5).
    #[arg(long, default_value = "R4", value_parser = parse_fhir_version)]
    fhir_version: FhirVersion,
}

fn parse_fhir_version(s: &str) -> Result<FhirVersion, String> {
    FhirVersion::parse(s)
        .ok_or_else(|| format!("unknown FHIR version `{s}`: use DSTU2, STU3, R4, R4B or R5"))
}

pub(super) fn run(args: Args, style: Style) -> Result<u8> {
    let xs: Vec<Explanation> = args
        .scopes
        .iter()
        .flat_map(|s| split_scope_string(s))
        .map(|t| explain::explain(t, args.fhir_version))
        .collect();
    if xs.is_empty() {
        bail!("no scope tokens given");
    }
    match args.format {
        Format::Text => super::shared::print(&text::explanations(&xs, style))?,
        Format::Json => super::shared::print(&json::render(&xs))?,
    }
    Ok(u8::from(xs.iter().any(|x| !x.valid)))
}
