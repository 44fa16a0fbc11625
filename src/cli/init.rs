//! `scopegate init`: a manifest skeleton for an existing scope string.

use anyhow::Result;

#[derive(clap::Args, Debug)]
pub(super) struct Args {
    /// The scope string the app requests today.
    #[arg(long)]
    scopes: String,
    /// The app id.
    #[arg(long, default_value = "my-app")]
    id: String,
}

pub(super) fn run(args: Args) -> Result<u8> {
    super::shared::print(&crate::init::skeleton(&args.scopes, &args.id))?;
    Ok(0)
}
