//! civhub-cli: the `civhub` command.
//!
//! This crate owns argument parsing ([`args`]), the commands ([`commands`],
//! each doing its work through the library crates and returning a typed
//! result) and how results are shown ([`output`]). Data goes to stdout,
//! progress and diagnostics to stderr, so `--json` output pipes cleanly.

pub mod args;
pub mod commands;
pub mod output;

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;

/// Exit code of a run in which a pipeline failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of a configuration or usage error.
pub const EXIT_USAGE: u8 = 2;

/// Errors that end a command.
#[derive(Debug)]
pub enum CliError {
    /// The project configuration has problems (already collected, shown all at once).
    Config(civhub_ingest::config::ConfigProblems),
    /// Any other error, shown with its hint.
    Message {
        /// What went wrong.
        message: String,
        /// What would fix it.
        hint: Option<String>,
    },
}

impl CliError {
    /// An error with a hint.
    pub fn with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        CliError::Message {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// An error without a hint.
    pub fn msg(message: impl Into<String>) -> Self {
        CliError::Message {
            message: message.into(),
            hint: None,
        }
    }
}

/// Parses `args`, runs the command and returns the process exit code.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_tracing();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(CliError::Config(problems)) => {
            output::print_problems(&problems);
            ExitCode::from(EXIT_USAGE)
        }
        Err(CliError::Message { message, hint }) => {
            eprintln!("error: {message}");
            if let Some(h) = hint {
                eprintln!("  hint: {h}");
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CIVHUB_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
