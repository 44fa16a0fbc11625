//! The `scopegate` binary: a thin shell over [`scopegate::cli::run`].

// A gate run makes tens of thousands of small allocations (a 2,000-scope manifest
// read twice); mimalloc serves them in about a third of glibc's instructions, which
// took the gate benchmark from 3.2x to 2.9x the floor of two `git show`s.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(scopegate::cli::run())
}
