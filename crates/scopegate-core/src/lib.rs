//! scopegate's pure core: everything that decides, nothing that touches the world.
//!
//! A pipeline of pure stages (load → model → lint/diff/gate → [`report::Report`] →
//! render). Bytes come in, values and strings go out: no git, network, file system,
//! clock or environment. Cargo enforces it: this crate does not depend on git2,
//! octocrab, tokio or clap, and the CLI (the `scopegate` package) holds the adapters.
//! See ARCHITECTURE.md.
pub mod approval;
pub mod config;
pub mod diff;
pub mod events;
pub mod explain;
pub mod fhir;
pub mod gate;
pub mod glob;
pub mod grant;
pub mod hint;
pub mod init;
pub mod instant;
pub mod lint;
pub mod manifest;
pub mod matrix;
mod narrowing;
pub mod near_miss;
pub mod notice;
pub mod render;
pub mod report;
pub mod rules;
#[cfg(test)]
mod scaling;
pub mod scope;
pub mod signature;
pub mod suggest;
pub mod syntax;
pub mod tenant;
pub mod threads;
pub mod usage_analysis;
mod words;
pub mod yaml;

/// A scoped thread's result; its panic goes on in the caller.
pub(crate) fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Appends `more` to `into`, taking `more` whole when `into` is empty: the changes and
/// findings of a large manifest are megabytes, and most runs gather one list.
pub(crate) fn append<T>(into: &mut Vec<T>, more: Vec<T>) {
    if into.is_empty() {
        *into = more;
    } else {
        into.extend(more);
    }
}
