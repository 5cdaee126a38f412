//! `civhub ingest` and `civhub run`.

use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, IngestArgs, RunArgs};
use crate::output::{self, Progress};
use civhub_ingest::run::{IngestOptions, ingest as run_ingest};
use std::process::ExitCode;

pub fn ingest(g: &Global, a: IngestArgs) -> Result<ExitCode, CliError> {
    let opts = IngestOptions {
        select: a.pipelines,
        full_refresh: a.full_refresh,
        threads: a.threads,
    };
    execute(g, &opts, a.json, "ingest")
}

pub fn run(g: &Global, a: RunArgs) -> Result<ExitCode, CliError> {
    let opts = IngestOptions {
        select: Vec::new(),
        full_refresh: a.full_refresh,
        threads: a.threads,
    };
    execute(g, &opts, a.json, "run")
}

fn execute(g: &Global, opts: &IngestOptions, json: bool, verb: &str) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let progress = Progress::new(g.quiet || json, verb);
    let report = run_ingest(&project, opts, &progress).map_err(|e| match e {
        civhub_ingest::run::IngestError::Locked(_) => CliError::with_hint(e.to_string(), "wait for the other run to finish; the lock is released when it exits"),
        civhub_ingest::run::IngestError::UnknownSelection(ref n) => {
            let ids: Vec<&str> = project.pipelines.iter().map(|p| p.id.as_str()).chain(project.departments.keys().map(String::as_str)).collect();
            match civhub_ingest::config::diag::did_you_mean(n, ids) {
                Some(s) => CliError::with_hint(e.to_string(), format!("did you mean `{s}`?")),
                None => CliError::with_hint(e.to_string(), "pipelines are named `department.dataset`; `civhub validate` lists how many there are"),
            }
        }
        other => CliError::msg(other.to_string()),
    })?;
    progress.finish();
    if json {
        print_json(&report)?;
    } else {
        output::out(&output::ingest_summary(&project, &report));
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    })
}
