//! Helpers shared by the test modules: temp git repositories, the binary run in them,
//! a fake GitHub, and the `scopegate ci` runner.

pub mod ci_run;
pub mod fake_github;
pub mod git;
pub mod matrix;
pub mod repo;
