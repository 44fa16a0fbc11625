//! scopegate, the CLI: the commands ([`cli`]) and the adapters that touch the world:
//! [`baseline`] reads git with libgit2, [`github`] talks to the GitHub API. Every
//! decision is in the pure core, `scopegate-core`, re-exported here module by module so
//! the shell, the tests, the benchmarks and the fuzz targets name one path.

pub mod baseline;
pub mod cli;
pub mod github;

pub use scopegate_core::{
    approval, config, diff, events, explain, fhir, gate, glob, grant, hint, init, lint, manifest,
    matrix, near_miss, notice, render, report, rules, scope, signature, suggest, syntax, tenant,
    usage_analysis, yaml,
};
