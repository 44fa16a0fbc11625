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
    /// The FHIR release the EHR serves: R4 (the default), R4B, R5, STU3 or DSTU2, or its
    /// version number (4.0.1, 1.0.2, …). Resource types are checked against it.
    #[arg(long, default_value = "R4")]
    fhir_version: String,
}

pub(super) fn run(args: Args) -> Result<u8> {
    let Some(fhir) = crate::manifest::parse_fhir_version(&args.fhir_version) else {
        anyhow::bail!(
            "`--fhir-version {}` is not a FHIR release scopegate knows\n  hint: one of R4, R4B, R5, STU3, DSTU2 (or 4.0.1, 4.3.0, 5.0.0, 3.0.2, 1.0.2)",
            args.fhir_version
        );
    };
    if crate::scope::split_scope_string(&args.scopes)
        .next()
        .is_none()
    {
        anyhow::bail!(
            "`--scopes` is empty: give the scope string the app requests today (space-separated, as in the authorize request)"
        );
    }
    super::shared::print(&crate::init::skeleton_for(&args.scopes, &args.id, fhir))?;
    Ok(0)
}
