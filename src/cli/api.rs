//! The GitHub API's caps and deadlines as command-line options, shared by `scopegate
//! ci` and `scopegate comment`, and turned into the client's [`Policy`].
//!
//! It holds no logic beyond the mapping: the caps are enforced by the client
//! (`crate::github`), and what a run does when one is reached is `ci`'s business.

use std::time::Duration;

use crate::github::Policy;

/// Bounds on every GitHub API call and on the run. Defaults are the client's.
#[derive(clap::Args, Debug, Clone)]
pub struct ApiArgs {
    /// Seconds of silence to wait for the next bytes of a response.
    #[arg(long, default_value_t = 30)]
    pub api_timeout: u64,
    /// The most seconds one API call may spend waiting out rate limits and retries.
    #[arg(long, default_value_t = 60)]
    pub api_max_wait: u64,
    /// The most seconds one API call may take in all: every attempt, every byte, every wait.
    #[arg(long, default_value_t = 120)]
    pub api_call_timeout: u64,
    /// The most seconds all API calls of the run may take together (rate-limit waits included).
    #[arg(long, default_value_t = 600)]
    pub api_run_timeout: u64,
    /// The most bytes one API response may have.
    #[arg(long, default_value_t = 4 << 20)]
    pub api_max_response_bytes: u64,
    /// The most pages one API listing may have.
    #[arg(long, default_value_t = 100)]
    pub api_max_pages: usize,
    /// The most items one API listing may have, all pages together.
    #[arg(long, default_value_t = 10_000)]
    pub api_max_items: usize,
    /// The most bytes one API listing may have, all pages together.
    #[arg(long, default_value_t = 16 << 20)]
    pub api_max_listing_bytes: u64,
}

impl ApiArgs {
    pub fn policy(&self) -> Policy {
        Policy {
            read_timeout: Duration::from_secs(self.api_timeout),
            max_total_wait: Duration::from_secs(self.api_max_wait),
            call_timeout: Duration::from_secs(self.api_call_timeout),
            run_timeout: Duration::from_secs(self.api_run_timeout),
            max_response_bytes: self.api_max_response_bytes,
            max_pages: self.api_max_pages,
            max_items: self.api_max_items,
            max_listing_bytes: self.api_max_listing_bytes,
            ..Policy::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented defaults are the client's own.
    #[test]
    fn the_flag_defaults_are_the_client_defaults() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct T {
            #[command(flatten)]
            api: ApiArgs,
        }
        let t = T::parse_from(["t"]);
        assert_eq!(t.api.policy(), Policy::default());
    }
}
