//! `civhub explain`: why two mentions were or were not linked.

use super::matching::load_settings;
use super::person::{lookup_error, runtime};
use super::{load, print_json};
use crate::CliError;
use crate::args::{ExplainArgs, Global};
use crate::output;
use std::process::ExitCode;

pub fn run(g: &Global, a: ExplainArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let settings = load_settings(&project)?;
    let rt = runtime()?;
    let e = rt
        .block_on(civhub_mdm::explain::explain(
            &project, &settings, &a.a, &a.b,
        ))
        .map_err(lookup_error)?;
    if a.json {
        print_json(&e)?;
    } else {
        output::out(&output::explanation(&e));
    }
    Ok(ExitCode::SUCCESS)
}
