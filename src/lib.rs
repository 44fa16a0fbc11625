//! scopegate: keeps SMART-on-FHIR apps at least privilege.
//!
//! The library is a pipeline of pure stages (load → model → lint/diff → report →
//! render); only [`cli`] and [`render`] touch the terminal.

pub mod approval;
pub mod baseline;
pub mod ci;
pub mod cli;
pub mod config;
pub mod diff;
pub mod explain;
pub mod fhir;
pub mod gate;
pub mod github;
pub mod glob;
pub mod grant;
pub mod hint;
pub mod init;
pub mod lint;
pub mod manifest;
pub mod matrix;
pub mod narrowing;
pub mod notice;
pub mod render;
pub mod report;
pub mod rules;
pub mod scope;
pub mod signature;
pub mod suggest;
pub mod syntax;
pub mod tenant;
pub mod usage;
pub mod yaml;
