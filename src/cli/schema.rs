//! `scopegate schema`: print one of the JSON Schemas.

use anyhow::Result;
use clap::ValueEnum;

use crate::render::json;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(value_enum, default_value_t = SchemaName::Manifest)]
    name: SchemaName,
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

pub(super) fn run(args: Args) -> Result<u8> {
    let schema = match args.name {
        SchemaName::Manifest => crate::manifest::json_schema(),
        SchemaName::Report => crate::report::json_schema(),
        SchemaName::Config => crate::config::json_schema(),
        SchemaName::Approvals => crate::approval::json_schema(),
        SchemaName::Tenant => crate::tenant::json_schema(),
        SchemaName::Matrix => crate::matrix::json_schema(),
        SchemaName::Usage => crate::usage_analysis::report::json_schema(),
    };
    super::shared::print(&json::render(&schema))?;
    Ok(0)
}
