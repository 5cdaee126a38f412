//! `civhub ingest` and `civhub run`.

use super::{load, print_json};
use crate::CliError;
use crate::args::{Global, IngestArgs, RunArgs};
use crate::output::{self, Progress};
use civhub_ingest::config::Project;
use civhub_ingest::report::RunReport;
use civhub_ingest::run::{IngestError, IngestOptions, ingest as run_ingest};
use std::process::ExitCode;

pub fn ingest(g: &Global, a: IngestArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let opts = IngestOptions {
        select: a.pipelines,
        full_refresh: a.full_refresh,
        threads: a.threads,
    };
    let report = ingest_report(&project, &opts, g.quiet || a.json, "ingest")?;
    if a.json {
        print_json(&report)?;
    } else {
        output::out(&output::ingest_summary(&project, &report));
    }
    Ok(exit(&report))
}

/// `civhub run`: ingest, then match, then publish — over what is staged even
/// if a pipeline failed (its previous table stays), as dbt builds what it can.
pub fn run(g: &Global, a: RunArgs) -> Result<ExitCode, CliError> {
    let project = load(g)?;
    let settings = super::matching::load_settings(&project)?;
    let bases = civhub_warehouse::config::load_bases(&project).map_err(CliError::Config)?;
    let opts = IngestOptions {
        select: Vec::new(),
        full_refresh: a.full_refresh,
        threads: a.threads,
    };
    let quiet = g.quiet || a.json;
    let ingest = ingest_report(&project, &opts, quiet, "ingest")?;
    let matched = super::matching::execute(
        &project,
        &settings,
        &civhub_mdm::run::MatchOptions {
            retrain: a.retrain,
            full: false,
        },
        quiet,
    )?;
    let published = super::publish::execute(&project, &bases, quiet)?;
    if a.json {
        print_json(
            &serde_json::json!({ "ingest": ingest, "match": matched, "publish": published }),
        )?;
    } else {
        output::out(&output::ingest_summary(&project, &ingest));
        output::out("");
        output::out(&output::match_summary(&matched));
        output::out("");
        output::out(&super::publish::summary_short(&published));
        output::out("");
        output::out(&output::run_totals(&ingest, &matched, &published));
    }
    Ok(exit(&ingest))
}

fn exit(r: &RunReport) -> ExitCode {
    if r.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILED)
    }
}

fn ingest_report(
    project: &Project,
    opts: &IngestOptions,
    quiet: bool,
    verb: &str,
) -> Result<RunReport, CliError> {
    let progress = Progress::new(quiet, verb);
    let report = run_ingest(project, opts, &progress).map_err(|e| match e {
        IngestError::Locked(_) => CliError::with_hint(e.to_string(), "wait for the other run to finish; the lock is released when it exits"),
        IngestError::UnknownSelection(ref n) => {
            let ids: Vec<&str> = project.pipelines.iter().map(|p| p.id.as_str()).chain(project.departments.keys().map(String::as_str)).collect();
            match civhub_ingest::config::diag::did_you_mean(n, ids) {
                Some(s) => CliError::with_hint(e.to_string(), format!("did you mean `{s}`?")),
                None => CliError::with_hint(e.to_string(), "pipelines are named `department.dataset`; `civhub validate` lists how many there are"),
            }
        }
        other => CliError::msg(other.to_string()),
    })?;
    progress.finish();
    Ok(report)
}
