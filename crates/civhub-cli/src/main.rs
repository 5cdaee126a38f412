//! The `civhub` binary: parse arguments, run, exit.

fn main() -> std::process::ExitCode {
    civhub_cli::main(std::env::args_os())
}
