//! The `scopegate` binary: a thin shell over [`scopegate::cli::run`].

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(scopegate::cli::run())
}
