//! `scopegate rules`: the rule catalogue.

use anyhow::Result;
use clap::ValueEnum;

use crate::render::{Style, json, text};
use crate::rules;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
    format: RulesFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
    Markdown,
}

pub(super) fn run(args: Args, style: Style) -> Result<u8> {
    match args.format {
        RulesFormat::Text => super::shared::print(&text::rules(style))?,
        RulesFormat::Json => super::shared::print(&json::render(rules::RULES))?,
        RulesFormat::Markdown => super::shared::print(&rules::markdown())?,
    }
    Ok(0)
}
