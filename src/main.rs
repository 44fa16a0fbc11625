//! The `scopegate` binary: a thin shell over [`scopegate::cli::run`].

// A gate run makes tens of thousands of small allocations (a 2,000-scope manifest
// read twice); mimalloc serves them in about a third of glibc's instructions, which
// took the gate benchmark from 3.2x to 2.9x the floor of two `git show`s. Its v2
// design touches less fresh memory than v3 (maximum RSS 37 against 54 MB on `one-type`),
// which matters where first touching a page is dear (a VM): spread 2.8-3.0x -> 2.4-2.5x,
// ledger 11.1x -> 9.1-9.8x, one-type within the noise (`cargo bench --bench gate`,
// alternated).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(scopegate::cli::run())
}
