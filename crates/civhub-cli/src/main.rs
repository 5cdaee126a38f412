//! The `civhub` binary: parse arguments, run, exit.

/// mimalloc instead of the system allocator: ingest and matching allocate
/// many short-lived strings and Arrow buffers from several threads, where
/// glibc's malloc showed up in profiles (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    civhub_cli::main(std::env::args_os())
}
