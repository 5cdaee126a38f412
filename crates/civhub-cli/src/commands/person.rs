//! `civhub person` and `civhub entity`: the 360° view of a golden record.

use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, LookupArgs};
use crate::output;
use civhub_mdm::lookup::{self, Found, LookupError, Run};
use civhub_mdm::settings::Kind;
use std::process::ExitCode;

pub fn run(g: &Global, a: LookupArgs, kind: Kind) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let rt = runtime()?;
    rt.block_on(async {
        let run = Run::open(&project, kind).await.map_err(lookup_error)?;
        match lookup::find(&project, &run, &a.query)
            .await
            .map_err(lookup_error)?
        {
            Found::One { gid } => {
                let v = lookup::view(&project, &run, &gid)
                    .await
                    .map_err(lookup_error)?;
                if a.json {
                    print_json(&v)?;
                } else {
                    output::out(&output::golden_view(&v));
                }
            }
            several @ Found::Several { .. } => {
                if a.json {
                    print_json(&several)?;
                } else if let Found::Several {
                    read_as,
                    candidates,
                } = &several
                {
                    output::out(&output::candidates(kind, &a.query, read_as, candidates));
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A runtime for the lookups (small queries: two workers are plenty).
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::msg(e.to_string()))
}

/// A lookup error as the CLI shows it: the message and its hint.
pub(super) fn lookup_error(e: LookupError) -> CliError {
    CliError::Message {
        message: e.to_string(),
        hint: e.hint(),
    }
}
