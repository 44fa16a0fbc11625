//! The integration tests, as one test crate: the library, with git2, octocrab and
//! tokio, is linked into one test binary, not one per file. Each file in this
//! directory is a module of it, sharing `support/`. A new test file `tests/it/foo.rs`
//! joins with a `mod foo;` line below; `layout::every_test_file_is_a_module` fails on
//! one left out.

mod support;

mod action;
mod adoption;
mod ci;
mod ci_boundary;
mod ci_events;
mod cli;
mod comment;
mod commit_links;
mod core_api;
mod diff_fixtures;
mod errors;
mod fhir_versions;
mod fuzz_regressions;
mod gate;
mod github_boundary;
mod github_client;
mod identity;
mod index_attacks;
mod injection;
mod install_paths;
mod layout;
mod matrix;
mod matrix_html;
mod monorepo;
mod near_miss;
mod notice;
mod output_edges;
mod rule_outputs;
mod scale;
mod signed;
mod tenants;
mod token_semantics;
mod tokens;
mod trusted;
mod usage;
mod usage_evidence;
mod usage_fhir_status;
mod worktree_files;
