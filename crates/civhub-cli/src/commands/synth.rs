//! `civhub synth`: a synthetic city.

use crate::CliError;
use crate::args::{Global, SynthArgs};
use std::process::ExitCode;

pub fn run(_g: &Global, a: SynthArgs) -> Result<ExitCode, CliError> {
    let _ = a;
    Err(CliError::msg("synth is not wired yet"))
}
